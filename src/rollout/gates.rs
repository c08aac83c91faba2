//! The MCP gates as the engine calls them. The protocol client (the smoke
//! test and the tool-schema comparison) is not part of this build yet: a plan
//! with a gate step fails that gate with a message saying so, and
//! `--no-smoke` deploys without it (loudly). Never a silent pass.

use std::time::Duration;

use crate::cluster::Cluster;

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

fn unavailable(what: &str) -> String {
    format!(
        "the MCP {what} is not available in this version of mcpctl; deploy with --no-smoke \
         (the candidate is then switched to without a protocol check)"
    )
}

/// The MCP smoke test of `service`; `Ok` carries a one-line summary.
pub async fn smoke(
    _cluster: &Cluster,
    _ns: &str,
    _service: &str,
    _port: u16,
    _path: &str,
    _settings: &Settings,
) -> Result<String, String> {
    Err(unavailable("smoke test"))
}

/// The tool-schema gate of candidate against baseline (services).
pub async fn tools(
    _cluster: &Cluster,
    _ns: &str,
    _services: (&str, &str),
    _port: u16,
    _path: &str,
    _allow_breaking: bool,
    _settings: &Settings,
) -> Result<String, String> {
    Err(unavailable("tool-schema gate"))
}
