//! The DNS names a server's certificate must cover: for every Service the
//! server renders, the four names clients in the cluster may use.

/// `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local`
/// for each Service, in order, without repeats; then `extra`.
pub fn required(services: &[String], ns: &str, extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: String| {
        if !out.contains(&n) {
            out.push(n);
        }
    };
    for s in services {
        add(s.clone());
        add(format!("{s}.{ns}"));
        add(format!("{s}.{ns}.svc"));
        add(format!("{s}.{ns}.svc.cluster.local"));
    }
    for e in extra {
        add(e.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_names_per_service_in_order() {
        let n = required(&["gh".into(), "gh-preview".into()], "mcp", &[]);
        assert_eq!(
            n,
            [
                "gh",
                "gh.mcp",
                "gh.mcp.svc",
                "gh.mcp.svc.cluster.local",
                "gh-preview",
                "gh-preview.mcp",
                "gh-preview.mcp.svc",
                "gh-preview.mcp.svc.cluster.local"
            ]
        );
    }

    #[test]
    fn extra_names_come_last_once() {
        let n = required(
            &["gh".into()],
            "mcp",
            &["gh".into(), "mcp.example.com".into()],
        );
        assert_eq!(n.len(), 5);
        assert_eq!(n[4], "mcp.example.com");
    }
}
