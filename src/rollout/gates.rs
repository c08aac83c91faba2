//! The MCP gates as the engine calls them: the smoke test of a Service
//! (through the API server's service proxy, or `--smoke-url`), and the
//! tool-schema gate comparing the candidate's tools with the baseline's.
//! `--no-smoke` deploys without them (loudly). Never a silent pass.

use std::time::Duration;

use crate::cluster::Cluster;
use crate::gate::{self, Endpoint, Severity, SmokeOptions, SmokeReport};

/// How the smoke test talks to a server.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Per request.
    pub timeout: Duration,
    /// Extra headers (`Authorization`…); values are never printed.
    pub headers: Vec<(String, String)>,
    /// Smoke-test this URL instead of the candidate's Service.
    pub url: Option<String>,
}

impl Settings {
    fn options(&self) -> SmokeOptions {
        SmokeOptions {
            timeout: if self.timeout.is_zero() {
                SmokeOptions::default().timeout
            } else {
                self.timeout
            },
            headers: self.headers.clone(),
        }
    }
}

fn service<'a>(
    cluster: &'a Cluster,
    ns: &str,
    service: &str,
    port: u16,
    path: &str,
) -> Endpoint<'a> {
    Endpoint::Service {
        cluster,
        namespace: ns.to_string(),
        service: service.to_string(),
        port,
        path: path.to_string(),
    }
}

/// The candidate: `--smoke-url` when given, else its Service.
fn candidate<'a>(
    cluster: &'a Cluster,
    ns: &str,
    name: &str,
    port: u16,
    path: &str,
    settings: &Settings,
) -> Endpoint<'a> {
    match &settings.url {
        Some(url) => Endpoint::Url(url.clone()),
        None => service(cluster, ns, name, port, path),
    }
}

/// One line: who answered, in which protocol, with how many tools, how fast.
pub fn summary(r: &SmokeReport) -> String {
    format!(
        "{} speaks MCP {}, {} tool{}, {:.0}ms",
        r.server(),
        r.protocol_version,
        r.tools.len(),
        if r.tools.len() == 1 { "" } else { "s" },
        r.total_millis()
    )
}

/// The MCP smoke test of `service`; `Ok` carries a one-line summary.
pub async fn smoke(
    cluster: &Cluster,
    ns: &str,
    service: &str,
    port: u16,
    path: &str,
    settings: &Settings,
) -> Result<String, String> {
    let endpoint = candidate(cluster, ns, service, port, path, settings);
    let report = gate::smoke(&endpoint, &settings.options())
        .await
        .map_err(|f| f.to_string())?;
    Ok(summary(&report))
}

/// The tool-schema gate of candidate against baseline (services): both are
/// smoke-tested for their tool lists; a breaking change fails the gate unless
/// `allow_breaking`.
pub async fn tools(
    cluster: &Cluster,
    ns: &str,
    services: (&str, &str),
    port: u16,
    path: &str,
    allow_breaking: bool,
    settings: &Settings,
) -> Result<String, String> {
    let (cand, base) = services;
    let opts = settings.options();
    let cand_ep = candidate(cluster, ns, cand, port, path, settings);
    let base_ep = service(cluster, ns, base, port, path);
    let (new, old) = tokio::join!(gate::smoke(&cand_ep, &opts), gate::smoke(&base_ep, &opts));
    let new = new.map_err(|f| format!("cannot list the candidate's tools: {f}"))?;
    let old = old.map_err(|f| format!("cannot list the tools clients use now ({base}): {f}"))?;
    verdict(&gate::compare(&old.tools, &new.tools), base, allow_breaking)
}

/// The gate's answer for a diff against `base`.
fn verdict(diff: &gate::ToolDiff, base: &str, allow_breaking: bool) -> Result<String, String> {
    let breaking = diff.breaking();
    let warnings = diff
        .changes
        .iter()
        .filter(|c| c.severity == Severity::Warning)
        .count();
    let list = |cs: &[&gate::Change]| {
        cs.iter()
            .map(|c| format!("{}: {}", c.tool, c.what))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if breaking.is_empty() {
        return Ok(format!(
            "tools compatible with {base}: {} change{}, {warnings} warning{}",
            diff.changes.len(),
            if diff.changes.len() == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        ));
    }
    if allow_breaking {
        return Ok(format!(
            "{} breaking tool change{} against {base} allowed by --allow-breaking-tools: {}",
            breaking.len(),
            if breaking.len() == 1 { "" } else { "s" },
            list(&breaking)
        ));
    }
    Err(format!(
        "{} breaking tool change{} against {base}: {}; clients of the current version would fail \
         (deploy with --allow-breaking-tools to accept that)",
        breaking.len(),
        if breaking.len() == 1 { "" } else { "s" },
        list(&breaking)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> gate::Tool {
        serde_json::from_value(json!({"name": name, "inputSchema": {"type": "object"}})).unwrap()
    }

    #[test]
    fn breaking_changes_fail_the_gate_unless_allowed() {
        let diff = gate::compare(&[tool("a"), tool("b")], &[tool("a")]);
        let e = verdict(&diff, "github", false).unwrap_err();
        assert!(
            e.starts_with("1 breaking tool change against github: b: tool removed"),
            "{e}"
        );
        assert!(e.contains("--allow-breaking-tools"), "{e}");
        let ok = verdict(&diff, "github", true).unwrap();
        assert!(ok.contains("allowed by --allow-breaking-tools"), "{ok}");
    }

    #[test]
    fn compatible_changes_pass_with_a_count() {
        let diff = gate::compare(&[tool("a")], &[tool("a"), tool("c")]);
        assert_eq!(
            verdict(&diff, "github", false).unwrap(),
            "tools compatible with github: 1 change, 0 warnings"
        );
    }
}
