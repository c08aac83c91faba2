//! Checks of single values that are not Kubernetes names: URLs, HTTP paths,
//! Istio gateway references, metric names.

use super::names;

pub fn http_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("must start with `/`".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".into());
    }
    Ok(())
}

/// An absolute `http` or `https` URL with a host.
pub fn http_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or("must start with `http://` or `https://`")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if host_port.starts_with('[') {
        match host_port.split_once(']') {
            Some((h, p)) => (&h[1..], p.strip_prefix(':')),
            None => return Err("has an unclosed `[` in the host".into()),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.chars().any(|c| {
        c.is_whitespace() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
    }) {
        return Err(format!("has an invalid host `{host}`"));
    }
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(format!("has an invalid port `{p}`"));
    }
    if s.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".into());
    }
    Ok(())
}

pub fn istio_gateway(s: &str) -> Result<(), String> {
    match s.split_once('/') {
        Some((ns, name)) => {
            names::dns_label(ns, 63).map_err(|e| format!("namespace part {e}"))?;
            names::dns_subdomain(name).map_err(|e| format!("name part {e}"))
        }
        None => names::dns_subdomain(s),
    }
}

pub fn metric_name(s: &str) -> Result<(), String> {
    let ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err("is not a valid metric name".into())
    }
}

/// Names the analysis gives its own checks; a metric may not take them.
pub const RESERVED_METRIC_NAMES: &[&str] = &["requests", "error-rate"];

/// An analysis metric's name: lowercase letters, digits and `-`, at most 63
/// characters, not one of [`RESERVED_METRIC_NAMES`].
pub fn analysis_metric_name(s: &str) -> Result<(), String> {
    if RESERVED_METRIC_NAMES.contains(&s) {
        return Err(format!(
            "is the name of a built-in check ({}); choose another",
            RESERVED_METRIC_NAMES.join(", ")
        ));
    }
    names::dns_label(s, 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(http_url("http://prometheus.monitoring:9090").is_ok());
        assert!(http_url("https://prom.example.com/prefix").is_ok());
        assert!(http_url("http://[::1]:9090").is_ok());
        assert!(http_url("prometheus:9090").unwrap_err().contains("http://"));
        assert!(http_url("http://").unwrap_err().contains("no host"));
        assert!(http_url("http://prom:99999").unwrap_err().contains("port"));
        assert!(http_url("ftp://x").is_err());
    }

    #[test]
    fn istio_gateways() {
        assert!(istio_gateway("istio-system/public").is_ok());
        assert!(istio_gateway("mesh").is_ok());
        assert!(istio_gateway("Bad/x").is_err());
    }

    #[test]
    fn analysis_metric_names() {
        assert!(analysis_metric_name("p95-latency").is_ok());
        assert!(
            analysis_metric_name("error-rate")
                .unwrap_err()
                .contains("built-in")
        );
        assert!(analysis_metric_name("P95").is_err());
    }
}
