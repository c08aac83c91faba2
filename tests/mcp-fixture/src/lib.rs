//! A real MCP server for mcpctl's tests, built on the official Rust SDK
//! (`rmcp`) and its Streamable HTTP server. rmcp serves both protocol eras
//! (2025-11-25 with `initialize` and sessions, 2026-07-28 with
//! `server/discover`); the fixture narrows that to the era a test asks for
//! through rmcp's own `supported_protocol_versions`. A legacy server as
//! deployed today, which has never heard of `server/discover`, is rmcp 2.2
//! ([`Era::LegacySdk`]).
//!
//! In front of rmcp sits a thin HTTP layer for what a deployment adds around
//! an MCP server or what goes wrong outside the protocol: a bearer-token check
//! (401), a forced HTTP status (500 from a crashing proxy, say), a session
//! lost after the handshake (the pod that held it went away: rmcp answers 404
//! itself), and a request log for tests to assert on.
//!
//! ```no_run
//! # async fn f() {
//! let fx = mcp_fixture::McpFixture::builder()
//!     .era(mcp_fixture::Era::Legacy)
//!     .tools_json(serde_json::json!([{"name": "echo", "inputSchema": {"type": "object"}}]))
//!     .start()
//!     .await;
//! println!("{}", fx.url());
//! # }
//! ```

mod handler;
mod http;
mod legacy_sdk;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use handler::Era;
use handler::{Behaviour, Handler};
pub use http::LoggedRequest;
use rmcp::model::Tool;

/// How the fixture should behave; built by [`McpFixture::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    behaviour: Behaviour,
    front: http::Front,
    json_response: bool,
    port: u16,
    bind_all: bool,
}

impl Builder {
    /// The server's era (default: dual).
    pub fn era(mut self, era: Era) -> Self {
        self.behaviour.era = era;
        self
    }
    /// `serverInfo` name and version (default `fixture` `0.0.0`).
    pub fn server_info(mut self, name: &str, version: &str) -> Self {
        self.behaviour.name = name.into();
        self.behaviour.version = version.into();
        self
    }
    pub fn tools(mut self, tools: Vec<Tool>) -> Self {
        self.behaviour.tools = tools;
        self
    }
    /// Tools as MCP writes them (`name`, `inputSchema`, …); panics on a bad list.
    pub fn tools_json(self, tools: serde_json::Value) -> Self {
        let tools = parse_tools(tools).unwrap_or_else(|e| panic!("{e}"));
        self.tools(tools)
    }
    /// Answer requests with `application/json` instead of an SSE stream.
    /// rmcp does that only without legacy sessions, so legacy clients get no
    /// `Mcp-Session-Id` either.
    pub fn json_response(mut self, on: bool) -> Self {
        self.json_response = on;
        self
    }
    /// Tools per `tools/list` page.
    pub fn page_size(mut self, n: usize) -> Self {
        self.behaviour.page_size = Some(n);
        self
    }
    /// `tools/list` answers only after `d`.
    pub fn slow_tools_list(mut self, d: Duration) -> Self {
        self.behaviour.tools_list_delay = Some(d);
        self
    }
    /// `tools/list` fails with this JSON-RPC error.
    pub fn tools_list_error(mut self, code: i32, message: &str) -> Self {
        self.behaviour.tools_list_error = Some((code, message.into()));
        self
    }
    /// `initialize` negotiates `version`, whatever the client asks for.
    pub fn answer_protocol_version(mut self, version: &str) -> Self {
        self.behaviour.answer_version = Some(version.into());
        self
    }
    /// Every POST is answered with this HTTP status (and a text body).
    pub fn http_status(mut self, status: u16) -> Self {
        self.front.forced_status = Some(status);
        self
    }
    /// Requests without `Authorization: Bearer <token>` get 401.
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.front.bearer = Some(token.into());
        self
    }
    /// The session ends on the server right after the client's
    /// `notifications/initialized`, as when the pod holding it goes away.
    pub fn lose_session_after_initialize(mut self) -> Self {
        self.front.lose_session = true;
        self
    }
    /// Only these `Host` values are accepted (rmcp's DNS-rebinding check;
    /// the fixture accepts any host by default, as a pod behind a Service must).
    pub fn allowed_hosts(mut self, hosts: &[&str]) -> Self {
        self.front.allowed_hosts = Some(hosts.iter().map(|h| h.to_string()).collect());
        self
    }
    /// Listen on this port (default: any free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Listen on every interface instead of loopback only (pod stand-in).
    pub fn bind_all(mut self, on: bool) -> Self {
        self.bind_all = on;
        self
    }

    /// Starts the server on its own runtime thread and returns once it listens.
    pub async fn start(self) -> McpFixture {
        tokio::task::spawn_blocking(move || self.start_blocking())
            .await
            .expect("start the MCP fixture")
    }

    /// [`Builder::start`] for tests without a runtime.
    pub fn start_blocking(self) -> McpFixture {
        let ip = if self.bind_all {
            [0, 0, 0, 0]
        } else {
            [127, 0, 0, 1]
        };
        let listener = std::net::TcpListener::bind(SocketAddr::from((ip, self.port)))
            .unwrap_or_else(|e| panic!("MCP fixture cannot listen on port {}: {e}", self.port));
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("listener address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = http::Server::new(
            Handler(Arc::new(self.behaviour)),
            self.front,
            self.json_response,
            log.clone(),
        );
        let thread = std::thread::Builder::new()
            .name(format!("mcp-fixture-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("fixture runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = server.serve(listener) => {}
                        _ = stop_rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("start the fixture thread");
        McpFixture {
            addr,
            log,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

/// Parses a tool list as MCP writes it.
pub fn parse_tools(tools: serde_json::Value) -> Result<Vec<Tool>, String> {
    serde_json::from_value(tools).map_err(|e| format!("not a valid MCP tool list: {e}"))
}

/// A running fixture; stops when dropped.
pub struct McpFixture {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl McpFixture {
    pub fn builder() -> Builder {
        Builder {
            behaviour: Behaviour {
                name: "fixture".into(),
                version: "0.0.0".into(),
                era: Era::Dual,
                tools: Vec::new(),
                page_size: None,
                tools_list_delay: None,
                tools_list_error: None,
                answer_version: None,
            },
            front: http::Front::default(),
            json_response: false,
            port: 0,
            bind_all: false,
        }
    }

    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.lock().expect("request log").clone()
    }

    /// How many requests called JSON-RPC `method`.
    pub fn count(&self, method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.rpc_method.as_deref() == Some(method))
            .count()
    }
}

impl Drop for McpFixture {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
