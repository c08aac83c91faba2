//! The HTTP side: rmcp's `StreamableHttpService` behind a hyper server, with
//! what a deployment puts around an MCP server (a bearer-token check) and the
//! failures that happen outside the protocol (a forced status, a session that
//! disappears), and a log of every request.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use crate::handler::Handler;

/// What the HTTP layer adds in front of rmcp.
#[derive(Debug, Clone, Default)]
pub struct Front {
    pub bearer: Option<String>,
    pub forced_status: Option<u16>,
    pub lose_session: bool,
    pub allowed_hosts: Option<Vec<String>>,
}

/// One request as the fixture saw and answered it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// `POST`, `DELETE`, …
    pub http_method: String,
    /// The JSON-RPC method of a POST body, when it had one.
    pub rpc_method: Option<String>,
    pub session_id: Option<String>,
    pub protocol_version: Option<String>,
    /// The `Authorization` header, as sent.
    pub authorization: Option<String>,
    pub status: u16,
}

type Answer = Response<BoxBody<Bytes, Infallible>>;

/// rmcp 3 (every era but one), or rmcp 2.2 for [`crate::Era::LegacySdk`].
enum Service {
    Current(StreamableHttpService<Handler, LocalSessionManager>),
    Old(crate::legacy_sdk::OldService),
}

pub struct Server {
    service: Service,
    sessions: Arc<LocalSessionManager>,
    front: Front,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
}

impl Server {
    pub fn new(
        handler: Handler,
        front: Front,
        json_response: bool,
        log: Arc<Mutex<Vec<LoggedRequest>>>,
    ) -> Server {
        let sessions = Arc::new(LocalSessionManager::default());
        // rmcp answers with plain JSON only without legacy sessions.
        let config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(!json_response)
            .with_json_response(json_response)
            .with_sse_keep_alive(None);
        let config = match &front.allowed_hosts {
            Some(hosts) => config.with_allowed_hosts(hosts.clone()),
            None => config.disable_allowed_hosts(),
        };
        let service = if handler.0.era == crate::Era::LegacySdk {
            Service::Old(crate::legacy_sdk::service(handler.0.clone(), json_response))
        } else {
            Service::Current(StreamableHttpService::new(
                move || Ok(handler.clone()),
                sessions.clone(),
                config,
            ))
        };
        Server {
            service,
            sessions,
            front,
            log,
        }
    }

    /// Serves connections until the future is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) {
        let this = Arc::new(self);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            // Small SSE writes go out at once, as from a tuned server; with
            // Nagle's algorithm they wait for the client's delayed ACK.
            let _ = stream.set_nodelay(true);
            let this = this.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let this = this.clone();
                    async move { Ok::<_, Infallible>(this.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    }

    async fn handle(&self, req: Request<Incoming>) -> Answer {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let rpc_method = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["method"].as_str().map(str::to_string));
        let mut entry = LoggedRequest {
            http_method: parts.method.to_string(),
            rpc_method: rpc_method.clone(),
            session_id: header("mcp-session-id"),
            protocol_version: header("mcp-protocol-version"),
            authorization: header("authorization"),
            status: 0,
        };
        let answer = self.answer(parts, body, rpc_method.as_deref()).await;
        entry.status = answer.status().as_u16();
        self.log.lock().expect("request log").push(entry);
        answer
    }

    async fn answer(
        &self,
        parts: hyper::http::request::Parts,
        body: Bytes,
        rpc_method: Option<&str>,
    ) -> Answer {
        if let Some(token) = &self.front.bearer {
            let sent = parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if sent != Some(format!("Bearer {token}").as_str()) {
                return text(
                    401,
                    "Unauthorized: a bearer token is required",
                    Some(("www-authenticate", "Bearer realm=\"mcp\"")),
                );
            }
        }
        if let (Some(status), &hyper::Method::POST) = (self.front.forced_status, &parts.method) {
            return text(status, "fixture: forced failure", None);
        }
        let session = parts
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request = Request::from_parts(parts, Full::new(body));
        let answer = match &self.service {
            Service::Current(s) => s.handle(request).await,
            Service::Old(s) => s.handle(request).await,
        };
        if self.front.lose_session
            && rpc_method == Some("notifications/initialized")
            && answer.status().is_success()
            && let Some(id) = session
        {
            let _ = self.sessions.close_session(&id.into()).await;
        }
        answer
    }
}

fn text(status: u16, body: &'static str, header: Option<(&str, &str)>) -> Answer {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "text/plain");
    if let Some((k, v)) = header {
        b = b.header(k, v);
    }
    b.body(Full::new(Bytes::from_static(body.as_bytes())).boxed())
        .expect("valid response")
}
