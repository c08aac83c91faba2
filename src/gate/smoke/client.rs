//! The exchange itself: era detection, the legacy and modern sequences, one
//! timed request at a time, and failures that say what to check.

use std::time::Instant;

use futures::StreamExt;
use http::Method;
use serde_json::{Value, json};

use super::rpc::{self, Probe};
use super::sse::SseParser;
use super::transport::{Reply, Transport};
use super::{CallTiming, Era, FailureKind, SmokeFailure, SmokeOptions, SmokeReport, show_header};
use crate::gate::tools::Tool;

/// Bodies of error answers are read up to this size (for their message).
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Answers larger than this are refused (a tool list is far smaller).
const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// `tools/list` pages followed before giving up on a cursor loop.
const MAX_PAGES: usize = 1000;

struct Client<'a, T> {
    t: &'a T,
    opts: &'a SmokeOptions,
    endpoint: String,
    next_id: u64,
    era: Option<Era>,
    /// Negotiated legacy version, sent as `MCP-Protocol-Version` after `initialize`.
    version: Option<String>,
    session: Option<String>,
    calls: Vec<CallTiming>,
}

/// A complete answer: status, headers, and the JSON-RPC message (for a
/// request: the response with its id; for an error status: a JSON-RPC error
/// body, if it had one).
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    message: Option<Value>,
    text: String,
}

pub async fn run<T: Transport>(
    t: &T,
    endpoint: String,
    opts: &SmokeOptions,
) -> Result<SmokeReport, SmokeFailure> {
    let mut c = Client {
        t,
        opts,
        endpoint,
        next_id: 0,
        era: None,
        version: None,
        session: None,
        calls: Vec::new(),
    };
    let result = c.exchange().await;
    // End the session, also after a failure, unless the server lost it.
    let lost = matches!(&result, Err(f) if f.kind == FailureKind::SessionLost);
    if c.session.is_some() && !lost {
        c.end_session().await;
    }
    match result {
        Ok(mut report) => {
            report.calls = std::mem::take(&mut c.calls);
            Ok(report)
        }
        Err(mut f) => {
            f.calls = std::mem::take(&mut c.calls);
            Err(f)
        }
    }
}

impl<T: Transport> Client<'_, T> {
    async fn exchange(&mut self) -> Result<SmokeReport, SmokeFailure> {
        let id = self.id();
        let discover = rpc::request(id, "server/discover", Some(rpc::modern_params(json!({}))));
        let a = self.post("server/discover", discover, Some(id)).await?;
        match rpc::classify_discover(a.status, a.message.as_ref()) {
            Probe::Modern(result) => self.modern(result).await,
            Probe::Legacy => self.legacy().await,
            Probe::Fail(kind, message) => Err(match kind {
                FailureKind::HttpStatus { .. } => self.http_failure("server/discover", &a),
                kind => self.fail("server/discover", kind, message),
            }),
        }
    }

    async fn modern(&mut self, discover: Value) -> Result<SmokeReport, SmokeFailure> {
        self.era = Some(Era::Modern);
        let supported: Vec<&str> = discover["supportedVersions"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !supported.contains(&rpc::MODERN) {
            return Err(self.fail(
                "server/discover",
                FailureKind::UnsupportedVersion,
                format!(
                    "the server answered server/discover but lists [{}] without {}",
                    supported.join(", "),
                    rpc::MODERN
                ),
            ));
        }
        let (name, version) = rpc::discover_server_info(&discover);
        let (tools, pages) = self.tools().await?;
        Ok(self.report(name, version, rpc::MODERN.into(), tools, pages))
    }

    async fn legacy(&mut self) -> Result<SmokeReport, SmokeFailure> {
        self.era = Some(Era::Legacy);
        let id = self.id();
        let init = rpc::request(id, "initialize", Some(rpc::initialize_params()));
        let a = self.post("initialize", init, Some(id)).await?;
        let session = a
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let result = self.result_of("initialize", a)?;
        // A session the server made is ended even when the test fails next.
        self.session = session;
        let version = result["protocolVersion"].as_str().unwrap_or("").to_string();
        if !rpc::LEGACY.contains(&version.as_str()) {
            return Err(self.fail(
                "initialize",
                FailureKind::UnsupportedVersion,
                format!(
                    "the server negotiated protocol version {version:?}, which mcpctl does not speak ({})",
                    rpc::LEGACY.join(", ")
                ),
            ));
        }
        self.version = Some(version.clone());
        let name = result["serverInfo"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let server_version = result["serverInfo"]["version"]
            .as_str()
            .unwrap_or("")
            .to_string();

        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let a = self.post("notifications/initialized", note, None).await?;
        if !(200..300).contains(&a.status) {
            return Err(self.http_failure("notifications/initialized", &a));
        }
        let (tools, pages) = self.tools().await?;
        self.call("ping", None).await?;
        Ok(self.report(name, server_version, version, tools, pages))
    }

    /// Every page of `tools/list`.
    async fn tools(&mut self) -> Result<(Vec<Tool>, usize), SmokeFailure> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = std::collections::BTreeSet::new();
        for page in 1..=MAX_PAGES {
            let mut params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            if self.era == Some(Era::Modern) {
                params = rpc::modern_params(params);
            }
            let result = self.call("tools/list", Some(params)).await?;
            let (page_tools, next) = rpc::tools_page(&result)
                .map_err(|m| self.fail("tools/list", FailureKind::Protocol, m))?;
            tools.extend(page_tools);
            match next {
                None => return Ok((tools, page)),
                Some(n) if !seen.insert(n.clone()) => {
                    return Err(self.fail(
                        "tools/list",
                        FailureKind::Protocol,
                        format!("nextCursor {n:?} came back a second time (a cursor loop)"),
                    ));
                }
                Some(n) => cursor = Some(n),
            }
        }
        Err(self.fail(
            "tools/list",
            FailureKind::Protocol,
            format!("tools/list did not end after {MAX_PAGES} pages"),
        ))
    }

    fn report(
        &self,
        server_name: String,
        server_version: String,
        protocol_version: String,
        tools: Vec<Tool>,
        tool_pages: usize,
    ) -> SmokeReport {
        SmokeReport {
            endpoint: self.endpoint.clone(),
            server_name,
            server_version,
            protocol_version,
            era: self.era.unwrap_or(Era::Legacy),
            session: self.session.is_some(),
            tools,
            tool_pages,
            calls: Vec::new(),
        }
    }

    /// DELETE with the session id; a failure is recorded, not fatal.
    async fn end_session(&mut self) {
        let headers = self.headers(None, false);
        let started = Instant::now();
        let sent = tokio::time::timeout(
            self.opts.timeout,
            self.t.send(Method::DELETE, &headers, None),
        )
        .await;
        let status = match sent {
            Ok(Ok(r)) => r.status,
            Ok(Err(e)) => {
                tracing::warn!(
                    "ending the MCP session at {} failed: {}",
                    self.endpoint,
                    e.message
                );
                0
            }
            Err(_) => 0,
        };
        self.time("DELETE", status, started);
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A request, and its result.
    async fn call(&mut self, method: &str, params: Option<Value>) -> Result<Value, SmokeFailure> {
        let id = self.id();
        let a = self
            .post(method, rpc::request(id, method, params), Some(id))
            .await?;
        self.result_of(method, a)
    }

    fn result_of(&self, method: &str, a: Answer) -> Result<Value, SmokeFailure> {
        if !(200..300).contains(&a.status) {
            return Err(self.http_failure(method, &a));
        }
        let Some(m) = a.message else {
            return Err(self.fail(
                method,
                FailureKind::Protocol,
                format!("HTTP {} without a JSON-RPC response", a.status),
            ));
        };
        if let Some(err) = m.get("error") {
            return Err(self.rpc_failure(method, err));
        }
        m.get("result").cloned().ok_or_else(|| {
            self.fail(
                method,
                FailureKind::Protocol,
                "the response has neither result nor error".into(),
            )
        })
    }

    /// The headers of a request: content negotiation, the era's headers, the
    /// session, then the operator's (which replace ours of the same name).
    fn headers(&self, method: Option<&str>, with_body: bool) -> Vec<(String, String)> {
        let mut h: Vec<(String, String)> = Vec::new();
        let mut add = |k: &str, v: &str| h.push((k.to_string(), v.to_string()));
        if with_body {
            add("Content-Type", "application/json");
            add("Accept", "application/json, text/event-stream");
        }
        match self.era {
            Some(Era::Legacy) => {
                if let Some(v) = &self.version {
                    add("MCP-Protocol-Version", v);
                }
                if let Some(s) = &self.session {
                    add("Mcp-Session-Id", s);
                }
            }
            // Before the era is known, only server/discover is sent: modern.
            Some(Era::Modern) | None => {
                add("MCP-Protocol-Version", rpc::MODERN);
                if let Some(m) = method {
                    add("Mcp-Method", m);
                }
            }
        }
        merge_headers(h, &self.opts.headers)
    }

    /// POSTs a JSON-RPC message and reads the answer, timed, within the timeout.
    async fn post(
        &mut self,
        step: &str,
        body: Value,
        id: Option<u64>,
    ) -> Result<Answer, SmokeFailure> {
        let method = body["method"].as_str().map(str::to_string);
        let headers = self.headers(method.as_deref(), true);
        let bytes = serde_json::to_vec(&body).expect("JSON values serialize");
        let started = Instant::now();
        let t = self.t;
        let exchange = async move {
            let reply = t
                .send(Method::POST, &headers, Some(bytes))
                .await
                .map_err(|e| (e.kind, e.message))?;
            read(reply, id).await
        };
        match tokio::time::timeout(self.opts.timeout, exchange).await {
            Ok(Ok(a)) => {
                self.time(step, a.status, started);
                Ok(a)
            }
            Ok(Err((kind, message))) => {
                self.time(step, 0, started);
                Err(self.fail(step, kind, message))
            }
            Err(_) => {
                self.time(step, 0, started);
                Err(self.fail(
                    step,
                    FailureKind::Timeout,
                    format!(
                        "no complete answer within {}",
                        crate::fleet::duration::format(self.opts.timeout)
                    ),
                ))
            }
        }
    }

    fn time(&mut self, method: &str, status: u16, started: Instant) {
        self.calls.push(CallTiming {
            method: method.to_string(),
            status,
            millis: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        });
    }

    fn fail(&self, step: &str, kind: FailureKind, message: String) -> SmokeFailure {
        let hint = hint(&kind, step, self);
        SmokeFailure {
            endpoint: self.endpoint.clone(),
            step: step.to_string(),
            kind,
            message,
            hint,
            era: self.era,
            calls: Vec::new(),
        }
    }

    fn rpc_failure(&self, step: &str, err: &Value) -> SmokeFailure {
        let code = err["code"].as_i64().unwrap_or(0);
        let message = err["message"].as_str().unwrap_or("").to_string();
        let text = format!("JSON-RPC error {code}: {message}");
        self.fail(step, FailureKind::JsonRpc { code, message }, text)
    }

    /// A failure for an error status (or a JSON-RPC error that came with one).
    fn http_failure(&self, step: &str, a: &Answer) -> SmokeFailure {
        if let Some(err) = a.message.as_ref().and_then(|m| m.get("error")) {
            return self.rpc_failure(step, err);
        }
        let body = a.text.trim();
        let body = if body.is_empty() {
            String::new()
        } else {
            format!(": {}", body.chars().take(200).collect::<String>())
        };
        let reason = http::StatusCode::from_u16(a.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        if a.status == 404 && self.session.is_some() {
            return self.fail(
                step,
                FailureKind::SessionLost,
                format!(
                    "HTTP 404 for session {}{body}",
                    self.session.as_deref().unwrap_or("")
                ),
            );
        }
        let mut message = format!("HTTP {}{reason}{body}", a.status);
        if a.status == 401
            && let Some(w) = a
                .headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
        {
            message.push_str(&format!(" (WWW-Authenticate: {w})"));
        }
        self.fail(step, FailureKind::HttpStatus { status: a.status }, message)
    }
}

/// Our headers with the operator's: theirs replace ours of the same name.
pub fn merge_headers(
    ours: Vec<(String, String)>,
    theirs: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = ours
        .into_iter()
        .filter(|(k, _)| !theirs.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)))
        .collect();
    out.extend(theirs.iter().cloned());
    out
}

/// Reads an answer: for a request, as far as the response with `id`.
async fn read(mut reply: Reply, id: Option<u64>) -> Result<Answer, (FailureKind, String)> {
    let content_type = reply
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let ok = (200..300).contains(&reply.status);
    let answer = |message: Option<Value>, text: String, reply: Reply| Answer {
        status: reply.status,
        headers: reply.headers,
        message,
        text,
    };
    if !ok {
        let body = collect(&mut reply, ERROR_BODY_LIMIT, true).await?;
        let text = String::from_utf8_lossy(&body).into_owned();
        let message = serde_json::from_slice::<Value>(&body)
            .ok()
            .filter(|v| v.get("error").is_some() || v.get("result").is_some());
        return Ok(answer(message, text, reply));
    }
    let Some(id) = id else {
        return Ok(answer(None, String::new(), reply));
    };
    match content_type.as_str() {
        "text/event-stream" => {
            let mut parser = SseParser::default();
            while let Some(chunk) = reply.body.next().await {
                let chunk = chunk.map_err(|e| {
                    (
                        FailureKind::Connection,
                        format!("reading the SSE stream: {e}"),
                    )
                })?;
                for data in parser.feed(&chunk).map_err(|e| (FailureKind::BadSse, e))? {
                    let m: Value = serde_json::from_str(&data).map_err(|e| {
                        (
                            FailureKind::BadSse,
                            format!("an SSE event's data is not JSON ({e}): {}", snippet(&data)),
                        )
                    })?;
                    if is_response(&m, id) {
                        return Ok(answer(Some(m), String::new(), reply));
                    }
                }
            }
            Err((
                FailureKind::BadSse,
                "the SSE stream ended before the response arrived".into(),
            ))
        }
        "application/json" => {
            let body = collect(&mut reply, BODY_LIMIT, false).await?;
            let m = parse_json_response(&body, id)?;
            Ok(answer(Some(m), String::new(), reply))
        }
        other => Err((
            FailureKind::BadJson,
            format!(
                "HTTP {} with content type {:?}; expected application/json or text/event-stream",
                reply.status,
                if other.is_empty() { "(none)" } else { other }
            ),
        )),
    }
}

/// The JSON-RPC response with `id` from an `application/json` body.
pub fn parse_json_response(body: &[u8], id: u64) -> Result<Value, (FailureKind, String)> {
    let text = String::from_utf8_lossy(body);
    let m: Value = serde_json::from_slice(body).map_err(|e| {
        (
            FailureKind::BadJson,
            format!("the body is not JSON ({e}): {}", snippet(&text)),
        )
    })?;
    if !is_response(&m, id) {
        return Err((
            FailureKind::Protocol,
            format!(
                "expected the JSON-RPC response to request {id}, got: {}",
                snippet(&text)
            ),
        ));
    }
    Ok(m)
}

fn is_response(m: &Value, id: u64) -> bool {
    m.get("id").and_then(Value::as_u64) == Some(id)
        && (m.get("result").is_some() || m.get("error").is_some())
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s.to_string()
    }
}

async fn collect(
    reply: &mut Reply,
    limit: usize,
    truncate: bool,
) -> Result<Vec<u8>, (FailureKind, String)> {
    let mut body = Vec::new();
    while let Some(chunk) = reply.body.next().await {
        let chunk =
            chunk.map_err(|e| (FailureKind::Connection, format!("reading the answer: {e}")))?;
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            if truncate {
                body.truncate(limit);
                break;
            }
            return Err((
                FailureKind::BadJson,
                format!("the answer is larger than {} MiB", limit / (1024 * 1024)),
            ));
        }
    }
    Ok(body)
}

/// What to check for a failure of `kind` at `step`.
fn hint<T>(kind: &FailureKind, step: &str, c: &Client<'_, T>) -> String {
    let sent = |name: &str| {
        c.opts
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    match kind {
        FailureKind::ConnectionRefused => {
            "nothing listens there: check the host and port, and that the server is running".into()
        }
        FailureKind::Connection => {
            "check the host name, the network path and any proxy (through the API server: that the cluster is reachable)".into()
        }
        FailureKind::Tls => {
            "check the URL scheme (https against a plain-HTTP server?), the server certificate and the CA that signed it".into()
        }
        FailureKind::Timeout => format!(
            "the server did not answer {step} in time: check its load and logs, or allow more time \
             (smoke --timeout, deploy --smoke-timeout)"
        ),
        FailureKind::HttpStatus { status: 401 } => match sent("authorization") {
            Some((k, v)) => format!("the server rejected the credentials sent ({})", show_header(k, v)),
            None => "the server wants credentials: pass --header 'Authorization: Bearer TOKEN'".into(),
        },
        FailureKind::HttpStatus { status: 403 } => {
            "forbidden: check the credentials' permissions; rmcp-based servers also answer 403 for a Host or Origin header they do not allow".into()
        }
        FailureKind::HttpStatus { status: 404 } => {
            "no MCP endpoint at that path: check the URL's path (the fleet's `path`, e.g. /mcp)".into()
        }
        FailureKind::HttpStatus { status: 406 } => match sent("accept") {
            Some(_) => "the server refused the Accept header given with --header: MCP clients must accept application/json and text/event-stream".into(),
            None => "the server refused mcpctl's Accept header (application/json, text/event-stream): is this an MCP Streamable HTTP endpoint?".into(),
        },
        FailureKind::HttpStatus { status: 502..=504 } => {
            "a proxy in front of the server got no answer from it: check that the server's pods are ready and the Service has endpoints".into()
        }
        FailureKind::HttpStatus { status } if *status >= 500 => "the server failed: check its logs".into(),
        FailureKind::HttpStatus { .. } => "check the server's logs for why it refused the request".into(),
        FailureKind::SessionLost => {
            "the server no longer knows the session it created: a restarted pod, or another replica answered (legacy sessions need session affinity)".into()
        }
        FailureKind::JsonRpc { .. } => format!("the server rejected {step}: check its logs"),
        FailureKind::BadJson | FailureKind::BadSse | FailureKind::Protocol => {
            "the answer is not valid MCP over Streamable HTTP: is this an MCP endpoint, and is a proxy rewriting answers?".into()
        }
        FailureKind::UnsupportedVersion => format!(
            "mcpctl speaks MCP {} and {}: upgrade the server's MCP SDK",
            rpc::MODERN,
            rpc::LEGACY.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn operator_headers_replace_ours_case_insensitively() {
        let ours = h(&[
            ("Accept", "application/json, text/event-stream"),
            ("Mcp-Method", "tools/list"),
        ]);
        let theirs = h(&[
            ("accept", "application/json"),
            ("Authorization", "Bearer x"),
        ]);
        assert_eq!(
            merge_headers(ours, &theirs),
            h(&[
                ("Mcp-Method", "tools/list"),
                ("accept", "application/json"),
                ("Authorization", "Bearer x")
            ])
        );
    }

    #[test]
    fn json_bodies_are_parsed_and_checked() {
        let ok = br#"{"jsonrpc":"2.0","id":3,"result":{}}"#;
        assert_eq!(parse_json_response(ok, 3).unwrap()["result"], json!({}));
        let (kind, msg) = parse_json_response(b"<html>oops</html>", 3).unwrap_err();
        assert_eq!(kind, FailureKind::BadJson);
        assert!(msg.contains("<html>oops</html>"), "{msg}");
        let (kind, _) =
            parse_json_response(br#"{"jsonrpc":"2.0","id":4,"result":{}}"#, 3).unwrap_err();
        assert_eq!(kind, FailureKind::Protocol);
        let (kind, _) = parse_json_response(br#"{"jsonrpc":"2.0","method":"x"}"#, 3).unwrap_err();
        assert_eq!(kind, FailureKind::Protocol);
    }

    fn reply(status: u16, content_type: &str, chunks: Vec<&'static [u8]>) -> Reply {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", content_type.parse().unwrap());
        Reply {
            status,
            headers,
            body: futures::stream::iter(chunks.into_iter().map(|c| Ok(c.to_vec()))).boxed(),
        }
    }

    #[tokio::test]
    async fn sse_is_read_up_to_the_response_skipping_priming_and_notifications() {
        let r = reply(
            200,
            "text/event-stream",
            vec![
                b"data: \nid: 0\nretry: 3000\n\n",
                b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\nda",
                b"ta: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[]}}\n\n",
                b"data: not read\n\n",
            ],
        );
        let a = read(r, Some(2)).await.ok().unwrap();
        assert_eq!(a.message.unwrap()["result"], json!({"tools": []}));
    }

    #[tokio::test]
    async fn bad_sse_and_bad_json_are_told_apart() {
        let kind = |r: Result<Answer, (FailureKind, String)>| r.err().map(|(k, _)| k);
        let garbage = reply(200, "text/event-stream", vec![b"data: {oops\n\n"]);
        assert_eq!(
            kind(read(garbage, Some(1)).await),
            Some(FailureKind::BadSse)
        );
        let ended = reply(200, "text/event-stream", vec![b"data: \nid: 0\n\n"]);
        assert_eq!(kind(read(ended, Some(1)).await), Some(FailureKind::BadSse));
        let json = reply(
            200,
            "application/json; charset=utf-8",
            vec![b"{\"jsonrpc\":", b" 2.0"],
        );
        assert_eq!(kind(read(json, Some(1)).await), Some(FailureKind::BadJson));
        let html = reply(200, "text/html", vec![b"<html/>"]);
        assert_eq!(kind(read(html, Some(1)).await), Some(FailureKind::BadJson));
    }

    #[tokio::test]
    async fn error_answers_keep_a_json_rpc_error_body() {
        let r = reply(
            400,
            "application/json",
            vec![b"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,\"message\":\"m\"}}"],
        );
        let a = read(r, Some(1)).await.ok().unwrap();
        assert_eq!(a.status, 400);
        assert_eq!(a.message.unwrap()["error"]["code"], -32022);
        let r = reply(
            400,
            "text/plain",
            vec![b"Bad Request: Session ID is required"],
        );
        let a = read(r, Some(1)).await.ok().unwrap();
        assert!(a.message.is_none());
        assert_eq!(a.text, "Bad Request: Session ID is required");
    }

    /// A scripted answer: status, headers (beside `application/json`), body.
    type Scripted = (u16, Vec<(&'static str, &'static str)>, Value);

    /// A transport answering from a script, recording what was sent: for the
    /// answers a real server does not give (an unknown negotiated version, a
    /// cursor loop, a response to another request).
    struct Script {
        answers: std::sync::Mutex<std::collections::VecDeque<Scripted>>,
        sent: std::sync::Mutex<Vec<(Method, Option<Value>)>>,
    }

    impl Script {
        fn new(answers: Vec<Scripted>) -> Script {
            Script {
                answers: std::sync::Mutex::new(answers.into_iter().collect()),
                sent: std::sync::Mutex::new(Vec::new()),
            }
        }
        fn methods(&self) -> Vec<String> {
            self.sent
                .lock()
                .unwrap()
                .iter()
                .map(|(m, b)| match b {
                    Some(b) => b["method"].as_str().unwrap_or("").to_string(),
                    None => m.to_string(),
                })
                .collect()
        }
    }

    impl Transport for Script {
        async fn send(
            &self,
            method: Method,
            _headers: &[(String, String)],
            body: Option<Vec<u8>>,
        ) -> Result<Reply, super::super::transport::SendError> {
            let body = body.map(|b| serde_json::from_slice(&b).unwrap());
            self.sent.lock().unwrap().push((method, body));
            let (status, headers, body) = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("the script has an answer for every request");
            let mut map = http::HeaderMap::new();
            map.insert("content-type", "application/json".parse().unwrap());
            for (k, v) in headers {
                map.insert(k, v.parse().unwrap());
            }
            Ok(Reply {
                status,
                headers: map,
                body: futures::stream::iter([Ok(if body.is_null() {
                    Vec::new()
                } else {
                    body.to_string().into_bytes()
                })])
                .boxed(),
            })
        }
    }

    fn legacy_discover() -> Scripted {
        (
            400,
            vec![("content-type", "text/plain")],
            json!("Bad Request: Session ID is required"),
        )
    }

    fn result(id: u64, r: Value) -> Scripted {
        (
            200,
            vec![],
            json!({"jsonrpc": "2.0", "id": id, "result": r}),
        )
    }

    async fn run_script(script: &Script) -> Result<SmokeReport, SmokeFailure> {
        run(script, "scripted".into(), &SmokeOptions::default()).await
    }

    #[tokio::test]
    async fn a_plain_400_to_discover_falls_back_to_initialize() {
        let script = Script::new(vec![
            legacy_discover(),
            (
                200,
                vec![("mcp-session-id", "s1")],
                json!({"jsonrpc": "2.0", "id": 2, "result": {"protocolVersion": "2025-06-18", "serverInfo": {"name": "old", "version": "0.9"}}}),
            ),
            (202, vec![], Value::Null),
            result(3, json!({"tools": []})),
            result(4, json!({})),
            (202, vec![], Value::Null),
        ]);
        let r = run_script(&script).await.unwrap();
        assert_eq!(
            (r.era, r.protocol_version.as_str()),
            (Era::Legacy, "2025-06-18")
        );
        assert_eq!(r.server(), "old 0.9");
        assert_eq!(
            script.methods(),
            [
                "server/discover",
                "initialize",
                "notifications/initialized",
                "tools/list",
                "ping",
                "DELETE"
            ]
        );
    }

    #[tokio::test]
    async fn an_unknown_negotiated_version_fails_initialize_and_ends_the_session() {
        let script = Script::new(vec![
            legacy_discover(),
            (
                200,
                vec![("mcp-session-id", "s1")],
                json!({"jsonrpc": "2.0", "id": 2, "result": {"protocolVersion": "2024-10-07", "serverInfo": {"name": "x", "version": "1"}}}),
            ),
            (202, vec![], Value::Null),
        ]);
        let f = run_script(&script).await.unwrap_err();
        assert_eq!(
            (f.step.as_str(), &f.kind),
            ("initialize", &FailureKind::UnsupportedVersion)
        );
        assert!(f.message.contains("\"2024-10-07\""), "{}", f.message);
        assert_eq!(
            script.methods(),
            ["server/discover", "initialize", "DELETE"]
        );
    }

    #[tokio::test]
    async fn a_cursor_that_comes_back_is_a_protocol_failure() {
        let meta = json!({"supportedVersions": ["2026-07-28"]});
        let script = Script::new(vec![
            result(1, meta),
            result(2, json!({"tools": [], "nextCursor": "a"})),
            result(3, json!({"tools": [], "nextCursor": "b"})),
            result(4, json!({"tools": [], "nextCursor": "a"})),
        ]);
        let f = run_script(&script).await.unwrap_err();
        assert_eq!(
            (f.step.as_str(), &f.kind),
            ("tools/list", &FailureKind::Protocol)
        );
        assert!(f.message.contains("cursor loop"), "{}", f.message);
    }

    #[tokio::test]
    async fn a_modern_server_without_the_modern_version_fails_discover() {
        let script = Script::new(vec![result(
            1,
            json!({"supportedVersions": ["2027-01-01"]}),
        )]);
        let f = run_script(&script).await.unwrap_err();
        assert_eq!(
            (f.step.as_str(), &f.kind),
            ("server/discover", &FailureKind::UnsupportedVersion)
        );
    }

    #[tokio::test]
    async fn an_answer_to_another_request_is_a_protocol_failure() {
        let script = Script::new(vec![
            result(1, json!({"supportedVersions": ["2026-07-28"]})),
            result(7, json!({"tools": []})),
        ]);
        let f = run_script(&script).await.unwrap_err();
        assert_eq!(
            (f.step.as_str(), &f.kind),
            ("tools/list", &FailureKind::Protocol)
        );
    }
}
