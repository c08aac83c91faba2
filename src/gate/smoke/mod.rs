//! The MCP smoke test: a protocol-level check of a server over Streamable
//! HTTP, for both protocol eras.
//!
//! The era is found as the 2026-07-28 specification says: a modern
//! `server/discover` first; a 4xx without a recognised modern JSON-RPC error
//! means a legacy server, which gets `initialize` → `notifications/initialized`
//! → `tools/list` → `ping` and, when it made a session, a DELETE that ends it.
//! A modern server gets `tools/list` after the discover. `tools/list` pages
//! are followed to the end. A session the server loses (404) is a failure:
//! nothing is re-initialised behind the operator's back.
//!
//! Every request has `SmokeOptions::timeout` to complete, body included.
//! Nothing here prints; the report and the failure carry everything.

// A failure carries its context (step, kind, hint, calls) by value, as the
// rollout engine consumes it; it is made once per smoke test.
#![allow(clippy::result_large_err)]

mod client;
mod rpc;
mod sse;
mod transport;

use std::time::Duration;

use serde::Serialize;

use crate::cluster::Cluster;
use crate::gate::tools::Tool;
pub use transport::{proxy_path, proxy_request};

/// How to run the smoke test.
#[derive(Debug, Clone)]
pub struct SmokeOptions {
    /// Time each request may take, answer included.
    pub timeout: Duration,
    /// Extra headers on every request (an `Authorization`, say); they
    /// replace mcpctl's own headers of the same name.
    pub headers: Vec<(String, String)>,
}

impl Default for SmokeOptions {
    fn default() -> Self {
        SmokeOptions {
            timeout: Duration::from_secs(10),
            headers: Vec::new(),
        }
    }
}

/// Where the MCP server is.
#[derive(Debug, Clone)]
pub enum Endpoint<'a> {
    /// A URL reachable from here (`http` or `https`).
    Url(String),
    /// A Service port, reached through the API server's service proxy.
    /// `service` may carry a scheme (`https:NAME`) for a TLS backend.
    Service {
        cluster: &'a Cluster,
        namespace: String,
        service: String,
        port: u16,
        path: String,
    },
}

impl Endpoint<'_> {
    /// The endpoint for messages.
    pub fn describe(&self) -> String {
        match self {
            Endpoint::Url(u) => u.clone(),
            Endpoint::Service {
                namespace,
                service,
                port,
                path,
                ..
            } => format!("service {namespace}/{service}:{port}{path} (through the API server)"),
        }
    }
}

/// The protocol era a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Era {
    /// 2025-11-25 and older: `initialize`, sessions.
    Legacy,
    /// 2026-07-28: `server/discover`, no sessions.
    Modern,
}

/// One request of the exchange and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallTiming {
    /// The JSON-RPC method, or `DELETE` for ending the session.
    pub method: String,
    /// HTTP status (0 when no answer came).
    pub status: u16,
    pub millis: f64,
}

/// What a passing smoke test found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmokeReport {
    pub endpoint: String,
    pub server_name: String,
    pub server_version: String,
    pub protocol_version: String,
    pub era: Era,
    /// Whether the server made a session (legacy only).
    pub session: bool,
    pub tools: Vec<Tool>,
    /// Pages `tools/list` took.
    pub tool_pages: usize,
    pub calls: Vec<CallTiming>,
}

impl SmokeReport {
    /// "NAME VERSION" as the server reports itself.
    pub fn server(&self) -> String {
        let name = if self.server_name.is_empty() {
            "(unnamed)"
        } else {
            &self.server_name
        };
        format!("{name} {}", self.server_version)
            .trim_end()
            .to_string()
    }

    /// The time all calls took together.
    pub fn total_millis(&self) -> f64 {
        self.calls.iter().map(|c| c.millis).sum()
    }
}

/// Why a smoke test failed, by kind, for pipelines to tell apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FailureKind {
    ConnectionRefused,
    /// Another network problem (name resolution, reset, the API server).
    Connection,
    Tls,
    Timeout,
    HttpStatus {
        status: u16,
    },
    /// The server answered 404 for the session it made.
    SessionLost,
    JsonRpc {
        code: i64,
        message: String,
    },
    BadJson,
    BadSse,
    /// The server speaks no protocol version mcpctl does.
    UnsupportedVersion,
    /// A well-formed answer that breaks the protocol.
    Protocol,
}

/// A failed smoke test: the step, why, and what to check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmokeFailure {
    pub endpoint: String,
    /// The request that failed (`server/discover`, `initialize`, `tools/list`, …).
    pub step: String,
    pub kind: FailureKind,
    pub message: String,
    /// What to check.
    pub hint: String,
    /// The era, when it was known before the failure.
    pub era: Option<Era>,
    /// The calls made, the failed one included.
    pub calls: Vec<CallTiming>,
}

impl std::fmt::Display for SmokeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "smoke test of {} failed at {}: {}",
            self.endpoint, self.step, self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, "; {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for SmokeFailure {}

/// Runs the smoke test against `endpoint`.
pub async fn smoke(
    endpoint: &Endpoint<'_>,
    opts: &SmokeOptions,
) -> Result<SmokeReport, SmokeFailure> {
    let name = endpoint.describe();
    match endpoint {
        Endpoint::Url(url) => {
            let t = transport::Direct::new(url).map_err(|message| SmokeFailure {
                endpoint: name.clone(),
                step: "connect".into(),
                kind: FailureKind::Connection,
                message,
                hint: "pass an http:// or https:// URL of the MCP endpoint".into(),
                era: None,
                calls: Vec::new(),
            })?;
            client::run(&t, name, opts).await
        }
        Endpoint::Service {
            cluster,
            namespace,
            service,
            port,
            path,
        } => {
            let t = transport::Proxy::new(cluster, namespace, service, *port, path);
            client::run(&t, name, opts).await
        }
    }
}

/// Whether a header's value should never be shown: credentials and the like.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "cookie",
        "token",
        "secret",
        "key",
        "password",
        "auth",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// `name: value`, or `name: <redacted>` for a header that looks like a credential.
pub fn show_header(name: &str, value: &str) -> String {
    if is_secret_header(name) {
        format!("{name}: <redacted>")
    } else {
        format!("{name}: {value}")
    }
}

#[cfg(test)]
mod fixture_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_never_shown() {
        assert_eq!(
            show_header("Authorization", "Bearer s3cr3t"),
            "Authorization: <redacted>"
        );
        assert_eq!(show_header("X-Api-Key", "k"), "X-Api-Key: <redacted>");
        assert_eq!(show_header("Cookie", "a=b"), "Cookie: <redacted>");
        assert_eq!(show_header("X-Tenant", "acme"), "X-Tenant: acme");
    }

    #[test]
    fn failure_display_names_step_why_and_what_to_check() {
        let f = SmokeFailure {
            endpoint: "http://x/mcp".into(),
            step: "tools/list".into(),
            kind: FailureKind::Timeout,
            message: "no answer within 2s".into(),
            hint: "raise --timeout".into(),
            era: Some(Era::Legacy),
            calls: vec![],
        };
        assert_eq!(
            f.to_string(),
            "smoke test of http://x/mcp failed at tools/list: no answer within 2s; raise --timeout"
        );
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["kind"]["type"], "timeout");
        assert_eq!(v["era"], "legacy");
    }
}
