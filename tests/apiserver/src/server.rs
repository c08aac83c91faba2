//! The HTTP side: listener, routing, and the REST verbs.

use crate::discovery::{Negotiated, Resource};
use crate::faults::FaultAction;
use crate::ssa::Scope;
use crate::status::{self, ApiError, Cause};
use crate::store::{Key, normalize};
use crate::typed::Ty;
use crate::util::{new_uid, now_rfc3339, random_suffix};
use crate::{RequestRecord, Shared, selector};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub type RespBody = BoxBody<Bytes, std::io::Error>;

/// A body fed by a channel (watch streams); an `Err` item aborts the connection.
pub struct ChannelBody {
    pub rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let svc = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { handle(shared, req).await }
                    });
                    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        }
    }
}

fn full(b: impl Into<Bytes>) -> RespBody {
    Full::new(b.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// A parsed request.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub user_agent: Option<String>,
    pub body: Bytes,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(qk, _)| qk == k)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, k: &str) -> bool {
        matches!(self.q(k), Some("true") | Some("1"))
    }

    /// `fieldManager`, or the program name of the User-Agent (transcript 26: "mcpctl-recorder/0.1"
    /// becomes manager "mcpctl-recorder").
    pub fn manager(&self) -> String {
        if let Some(m) = self.q("fieldManager").filter(|m| !m.is_empty()) {
            return m.to_string();
        }
        let ua = self.user_agent.as_deref().unwrap_or("unknown");
        let prog = ua.split('/').next().unwrap_or(ua).trim();
        let prog = prog
            .rsplit(std::path::MAIN_SEPARATOR)
            .next()
            .unwrap_or(prog);
        if prog.is_empty() {
            "unknown".into()
        } else {
            prog.chars().take(128).collect()
        }
    }

    pub fn dry_run(&self) -> bool {
        self.q("dryRun") == Some("All")
    }
}

enum Outcome {
    Json(u16, Value, Vec<(String, String)>),
    Text(u16, &'static str, String),
    Bytes(u16, &'static str, Vec<u8>),
    Watch(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>),
}

impl From<ApiError> for Outcome {
    fn from(e: ApiError) -> Self {
        Outcome::Json(e.code, e.body, e.headers)
    }
}

type Res<T> = Result<T, ApiError>;

/// Handles one request. `Err` closes the connection without an answer (the
/// `CommitThenDrop` fault).
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, std::io::Error> {
    let skew = shared.clock_skew_ms.clone();
    crate::util::CLOCK_SKEW_MS
        .scope(skew, async move {
            let mut resp = handle_skewed(shared, req).await?;
            // The server's clock, skewed like every time it writes (hyper adds no Date of
            // its own when one is set).
            if !resp.headers().contains_key(hyper::header::DATE)
                && let Ok(v) = hyper::header::HeaderValue::from_str(&crate::util::http_date_now())
            {
                resp.headers_mut().insert(hyper::header::DATE, v);
            }
            Ok(resp)
        })
        .await
}

async fn handle_skewed(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, std::io::Error> {
    let received = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let content_type = header("content-type");
    let accept = header("accept");
    let user_agent = header("user-agent");
    let authorization = header("authorization");
    let (parts, body) = req.into_parts();
    let record = |status: u16| RequestRecord {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query.clone(),
        content_type: content_type.clone(),
        user_agent: user_agent.clone(),
        status,
        received,
        answered: std::time::Instant::now(),
    };
    let log = |status: u16| shared.log.lock().unwrap().push(record(status));

    // Authentication comes before anything else the server does. A missing,
    // wrong or expired bearer token gets the real server's 401 Status.
    if let Some(want) = shared.token.lock().unwrap().clone()
        && authorization.as_deref() != Some(format!("Bearer {want}").as_str())
    {
        log(401);
        return Ok(respond(Outcome::from(status::unauthorized())));
    }

    let pq = if raw_query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{raw_query}")
    };
    let fault = crate::faults::take(&mut shared.faults.lock().unwrap(), &method, &pq);
    let mut drop_answer = false;
    match fault {
        Some(FaultAction::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultAction::Hold(gate)) => gate.wait().await,
        Some(FaultAction::Status(code)) => {
            log(code);
            return Ok(respond(Outcome::from(crate::faults::status_error(code))));
        }
        Some(FaultAction::TooManyRequests { retry_after_secs }) => {
            log(429);
            return Ok(respond(Outcome::from(status::too_many_requests(
                retry_after_secs,
            ))));
        }
        Some(FaultAction::Drop) => {
            log(0);
            let (tx, rx) = tokio::sync::mpsc::channel(2);
            let _ = tx.try_send(Ok(Bytes::from_static(b"{\"kind\":")));
            let _ = tx.try_send(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "injected connection drop",
            )));
            return Ok(Response::builder()
                .status(200)
                .header("Content-Type", "application/json")
                .body(ChannelBody { rx }.boxed())
                .expect("response"));
        }
        Some(FaultAction::CommitThenDrop) => drop_answer = true,
        None => {}
    }
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };

    if let Some(p) = crate::proxy::parse_path(&path) {
        let resp = crate::proxy::handle(
            &shared,
            &p,
            &method,
            &path,
            &raw_query,
            &parts.headers,
            body,
        )
        .await
        .unwrap_or_else(|e| respond(Outcome::from(e)));
        if drop_answer {
            log(0);
            return Err(dropped());
        }
        log(resp.status().as_u16());
        return Ok(resp);
    }

    let r = Req {
        method: method.clone(),
        path: path.clone(),
        query: parse_query(&raw_query),
        content_type: content_type.clone(),
        accept,
        user_agent: user_agent.clone(),
        body,
    };
    let outcome = match route(&shared, &r) {
        Ok(o) => o,
        Err(e) => Outcome::from(e),
    };
    if drop_answer {
        // Handled in full (stored, watchers told); the client gets no answer at all.
        log(0);
        return Err(dropped());
    }
    let code = match &outcome {
        Outcome::Json(c, _, _) | Outcome::Text(c, _, _) | Outcome::Bytes(c, _, _) => *c,
        Outcome::Watch(_) => 200,
    };
    log(code);
    Ok(respond(outcome))
}

fn dropped() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "injected fault: request handled, answer dropped",
    )
}

pub fn empty() -> RespBody {
    full(Bytes::new())
}

fn respond(o: Outcome) -> Response<RespBody> {
    match o {
        Outcome::Json(code, body, headers) => {
            let mut b = Response::builder()
                .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
            let mut ct = "application/json".to_string();
            for (k, v) in &headers {
                if k.eq_ignore_ascii_case("content-type") {
                    ct = v.clone();
                } else {
                    b = b.header(k, v);
                }
            }
            b = b.header("Content-Type", ct);
            b.body(full(serde_json::to_vec(&body).unwrap_or_default()))
                .expect("response")
        }
        Outcome::Text(code, ct, text) => Response::builder()
            .status(code)
            .header("Content-Type", ct)
            .body(full(text))
            .expect("response"),
        Outcome::Bytes(code, ct, bytes) => Response::builder()
            .status(code)
            .header("Content-Type", ct)
            .body(full(bytes))
            .expect("response"),
        Outcome::Watch(rx) => Response::builder()
            .status(200)
            .header("Content-Type", "application/json")
            .header("Transfer-Encoding", "chunked")
            .body(ChannelBody { rx }.boxed())
            .expect("response"),
    }
}

fn ok(v: Value) -> Res<Outcome> {
    Ok(Outcome::Json(200, v, Vec::new()))
}

/// `/api` (`core`) or `/apis`: aggregated discovery when the client asks for it, else
/// the plain document `plain` makes.
fn discovery_root(
    shared: &Shared,
    r: &Req,
    core: bool,
    plain: impl FnOnce() -> Value,
) -> Res<Outcome> {
    match crate::discovery::negotiate(r.accept.as_deref()) {
        Negotiated::Aggregated => Ok(Outcome::Json(
            200,
            shared.registry.aggregated(core),
            vec![(
                "Content-Type".into(),
                crate::discovery::AGGREGATED_V2.into(),
            )],
        )),
        Negotiated::Plain => ok(plain()),
        Negotiated::NotAcceptable => Err(status::not_acceptable()),
    }
}

fn route(shared: &Arc<Shared>, r: &Req) -> Res<Outcome> {
    let segs: Vec<&str> = r
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let get = r.method == Method::GET;
    match segs.as_slice() {
        ["version"] if get => ok(crate::discovery::version().clone()),
        // OpenAPI documents: empty but well-formed, so that kubectl (which fetches them before
        // applying) proceeds; field validation is the server's job (fieldValidation).
        ["openapi", "v2"] if get => {
            if r.accept.as_deref().is_some_and(|a| a.contains("protobuf")) {
                Ok(Outcome::Bytes(
                    200,
                    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                    Vec::new(),
                ))
            } else {
                ok(
                    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": crate::discovery::version()["gitVersion"]}, "paths": {}, "definitions": {}}),
                )
            }
        }
        ["openapi", "v3"] if get => ok(json!({"paths": {}})),
        ["healthz"] | ["readyz"] | ["livez"] if get => {
            Ok(Outcome::Text(200, "text/plain; charset=utf-8", "ok".into()))
        }
        ["api"] if get => discovery_root(
            shared,
            r,
            true,
            || json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.addr.lock().unwrap().clone()}]}),
        ),
        ["apis"] if get => discovery_root(shared, r, false, || shared.registry.api_group_list()),
        ["api", v] if get => shared
            .registry
            .resource_list("", v)
            .map(|d| Outcome::Json(200, d, Vec::new()))
            .ok_or_else(|| status::page_not_found(&r.path)),
        ["apis", g] if get => shared
            .registry
            .api_group(g)
            .map(|d| Outcome::Json(200, d, Vec::new()))
            .ok_or_else(|| status::page_not_found(&r.path)),
        ["apis", g, v] if get => shared
            .registry
            .resource_list(g, v)
            .map(|d| Outcome::Json(200, d, Vec::new()))
            .ok_or_else(|| status::page_not_found(&r.path)),
        ["api", v, rest @ ..] => resource_route(shared, r, "", v, rest),
        ["apis", g, v, rest @ ..] => resource_route(shared, r, g, v, rest),
        _ => Err(status::page_not_found(&r.path)),
    }
}

fn resource_route(
    shared: &Arc<Shared>,
    r: &Req,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Res<Outcome> {
    // (namespace, plural, name, subresource)
    let (ns, plural, name, sub): (Option<&str>, &str, Option<&str>, Option<&str>) = match rest {
        ["namespaces"] => (None, "namespaces", None, None),
        ["namespaces", n] if group.is_empty() => (None, "namespaces", Some(n), None),
        ["namespaces", n, s @ ("status" | "finalize")] if group.is_empty() => {
            (None, "namespaces", Some(n), Some(s))
        }
        ["namespaces", ns, p] => (Some(ns), p, None, None),
        ["namespaces", ns, p, n] => (Some(ns), p, Some(n), None),
        ["namespaces", ns, p, n, s] => (Some(ns), p, Some(n), Some(s)),
        [p] => (None, p, None, None),
        [p, n] => (None, p, Some(n), None),
        [p, n, s] => (None, p, Some(n), Some(s)),
        _ => return Err(status::page_not_found(&r.path)),
    };
    let res = shared
        .registry
        .find(group, version, plural)
        .ok_or_else(|| status::page_not_found(&r.path))?;
    if !res.namespaced && ns.is_some() {
        return Err(status::page_not_found(&r.path));
    }
    if res.namespaced && ns.is_none() && name.is_some() {
        return Err(status::page_not_found(&r.path));
    }
    if let Some(s) = sub
        && !res.has_sub(s)
        && !(plural == "namespaces" && s == "finalize")
    {
        return Err(status::page_not_found(&r.path));
    }
    let ns_s = ns.unwrap_or("");
    let table = r.method == Method::GET
        && sub.is_none()
        && !r.flag("watch")
        && crate::table::wants_table(r.accept.as_deref());
    let out = resource_verb(shared, r, &res, ns, ns_s, name, sub)?;
    match out {
        Outcome::Json(200, body, h) if table => {
            let mut h = h;
            h.push(("Content-Type".into(), crate::table::TABLE_V1.into()));
            Ok(Outcome::Json(200, crate::table::table(&res, &body), h))
        }
        other => Ok(other),
    }
}

fn resource_verb(
    shared: &Arc<Shared>,
    r: &Req,
    res: &Arc<Resource>,
    ns: Option<&str>,
    ns_s: &str,
    name: Option<&str>,
    sub: Option<&str>,
) -> Res<Outcome> {
    let res = res.clone();
    match (name, sub, &r.method) {
        (None, None, &Method::GET) => {
            if r.flag("watch") {
                crate::watch::start(shared, &res, ns, r).map(Outcome::Watch)
            } else {
                list(shared, &res, ns, r)
            }
        }
        (None, None, &Method::POST) => create(shared, &res, ns_s, r),
        (None, None, &Method::DELETE) => delete_collection(shared, &res, ns, r),
        (Some(n), None, &Method::GET) => get_object(shared, &res, ns_s, n),
        (Some(n), sub, &Method::PUT) if sub != Some("scale") => {
            retry_stale(|| update(shared, &res, ns_s, n, r, scope_of(&res, sub)))
        }
        (Some(n), sub, &Method::PATCH) if sub != Some("scale") => {
            retry_stale(|| patch(shared, &res, ns_s, n, r, scope_of(&res, sub)))
        }
        (Some(n), None, &Method::DELETE) => delete(shared, &res, ns_s, n, r),
        (Some(n), Some("status"), &Method::GET) => get_object(shared, &res, ns_s, n),
        // A scale write re-reads and tries again when the controller wrote in between, as
        // every write does (the real scale REST storage goes through GuaranteedUpdate too).
        (Some(n), Some("scale"), m)
            if m == Method::GET || m == Method::PUT || m == Method::PATCH =>
        {
            retry_stale(|| scale(shared, &res, ns_s, n, r))
        }
        _ => Err(status::method_not_allowed()),
    }
}

fn scope_of(res: &Resource, sub: Option<&str>) -> Scope {
    match sub {
        Some("status") => Scope::Status,
        _ => Scope::Main {
            has_status: res.has_status(),
        },
    }
}

pub fn ty_for(res: &Resource) -> Ty<'_> {
    match &res.crd_schema {
        Some(s) => Ty::crd(s),
        None => Ty::builtin(&res.api_version(), &res.kind).unwrap_or_else(Ty::untyped),
    }
}

fn has_generation(res: &Resource) -> bool {
    res.is_crd()
        || matches!(
            res.group.as_str(),
            "apps" | "batch" | "policy" | "networking.k8s.io"
        )
}

/// Strategies' AllowUnconditionalUpdate: Leases and custom resources require a
/// resourceVersion on update (transcript 53).
fn allow_unconditional_update(res: &Resource) -> bool {
    !(res.is_crd() || res.kind == "Lease")
}

fn allow_create_on_update(res: &Resource) -> bool {
    matches!(res.kind.as_str(), "Lease" | "Endpoints" | "Event")
}

fn parse_body(r: &Req, res: &Resource) -> Res<Value> {
    let ct = r.content_type.as_deref().unwrap_or("application/json");
    let text = std::str::from_utf8(&r.body)
        .map_err(|_| status::bad_request("the request body is not UTF-8"))?;
    let v: Value =
        if ct.starts_with("application/yaml") || ct.starts_with("application/apply-patch+yaml") {
            serde_saphyr::from_str(text)
                .map_err(|e| status::bad_request(&format!("error converting YAML to JSON: {e}")))?
        } else {
            serde_json::from_str(text).map_err(|e| {
                status::bad_request(&format!(
                    "{} in version \"{}\" cannot be handled as a {}: {e}",
                    res.kind, res.version, res.kind
                ))
            })?
        };
    Ok(v)
}

fn check_identity(res: &Resource, obj: &mut Value, ns: &str, name: Option<&str>) -> Res<()> {
    if !obj.is_object() {
        return Err(status::bad_request(&format!(
            "{} in version \"{}\" cannot be handled as a {}: the body is not an object",
            res.kind, res.version, res.kind
        )));
    }
    let av = res.api_version();
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => obj["apiVersion"] = json!(av),
        Some(a) if a != av => {
            return Err(status::bad_request(&format!(
                "the API version in the data ({a}) does not match the expected API version ({av})"
            )));
        }
        _ => {}
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => obj["kind"] = json!(res.kind),
        Some(k) if k != res.kind => {
            return Err(status::bad_request(&format!(
                "{} in version \"{}\" cannot be handled as a {}: the kind in the data ({k}) does not match",
                res.kind, res.version, res.kind
            )));
        }
        _ => {}
    }
    let meta = crate::util::obj_mut(obj, &["metadata"]);
    if let Some(n) = name {
        match meta.get("name").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("name".into(), json!(n));
            }
            Some(bn) if bn != n => {
                return Err(status::bad_request(&format!(
                    "the name of the object ({bn}) does not match the name on the URL ({n})"
                )));
            }
            _ => {}
        }
    }
    if res.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), json!(ns));
            }
            Some(bns) if bns != ns => {
                return Err(status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
    } else {
        meta.remove("namespace");
    }
    Ok(())
}

fn check_namespace(shared: &Shared, res: &Resource, ns: &str, name: &str) -> Res<()> {
    if !res.namespaced {
        return Ok(());
    }
    let nsres = shared
        .registry
        .find("", "v1", "namespaces")
        .expect("namespaces");
    let st = shared.store.lock().unwrap();
    match st.get(&Key::new(&nsres, "", ns)) {
        None => Err(status::namespace_not_found(ns)),
        Some(n) if n.pointer("/metadata/deletionTimestamp").is_some() => {
            Err(status::forbidden_terminating(&res.target(name), ns))
        }
        Some(_) => Ok(()),
    }
}

fn cannot_handle(res: &Resource, msg: &str) -> ApiError {
    status::bad_request(&format!(
        "{} in version \"{}\" cannot be handled as a {}: {msg}",
        res.kind, res.version, res.kind
    ))
}

/// How a write came in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Update,
    Apply,
}

struct WriteCtx {
    /// Writes through /scale are not recorded in managedFields (as observed in transcript 79).
    track: bool,
    op: Op,
    scope: Scope,
    manager: String,
    dry_run: bool,
    field_validation: String,
}

fn spec_like(res: &Resource, v: &Value) -> Value {
    let mut out = v.clone();
    if let Some(m) = out.as_object_mut() {
        m.shift_remove("metadata");
        m.shift_remove("status");
        m.shift_remove("apiVersion");
        m.shift_remove("kind");
    }
    if res.kind == "Deployment" {
        out["__annotations"] = v
            .pointer("/metadata/annotations")
            .cloned()
            .unwrap_or(Value::Null);
    }
    out
}

/// The common tail of create, update, patch and apply: decoding checks, unknown fields,
/// system fields, defaulting, validation, generation, managedFields, no-op detection, dry run
/// and the write itself.
fn finish_write(
    shared: &Shared,
    res: &Resource,
    key: Key,
    old: Option<&Value>,
    mut obj: Value,
    ctx: &WriteCtx,
) -> Res<Outcome> {
    let ty = ty_for(res);
    let mut headers = Vec::new();
    let name = key.name.clone();

    // Writes through /status keep everything but status (and annotations of built-ins).
    if let (Scope::Status, Some(o)) = (ctx.scope, old) {
        let mut merged = o.clone();
        match obj.get("status") {
            Some(s) => merged["status"] = s.clone(),
            None => {
                if let Some(m) = merged.as_object_mut() {
                    m.shift_remove("status");
                }
            }
        }
        if !res.is_crd()
            && let Some(a) = obj.pointer("/metadata/annotations")
        {
            merged["metadata"]["annotations"] = a.clone();
        }
        if let Some(mf) = obj.pointer("/metadata/managedFields") {
            merged["metadata"]["managedFields"] = mf.clone();
        }
        obj = merged;
    }

    if let Some(msg) = crate::validate::decode_errors(&res.group, &res.kind, &mut obj) {
        return Err(cannot_handle(res, &msg));
    }
    if !res.is_crd()
        && let Some(msg) = crate::typed::decode_type_error(&obj, ty, "")
    {
        return Err(cannot_handle(res, &msg));
    }
    if ctx.op != Op::Apply {
        let mut unknown = Vec::new();
        let mut probe = obj.clone();
        crate::typed::unknown_fields(&mut probe, ty, "", false, &mut unknown);
        unknown
            .retain(|p| p != "metadata.managedFields" && !p.starts_with("metadata.managedFields"));
        if !unknown.is_empty() {
            match ctx.field_validation.as_str() {
                "Strict" => {
                    let parts: Vec<String> = unknown
                        .iter()
                        .map(|u| format!("unknown field \"{u}\""))
                        .collect();
                    return Err(cannot_handle(
                        res,
                        &format!("strict decoding error: {}", parts.join(", ")),
                    ));
                }
                "Ignore" => {}
                _ => {
                    for u in &unknown {
                        headers.push((
                            "Warning".to_string(),
                            format!("299 - \"unknown field \\\"{u}\\\"\""),
                        ));
                    }
                }
            }
            crate::typed::unknown_fields(&mut obj, ty, "", true, &mut Vec::new());
        }
    }

    // System-owned metadata.
    let meta = crate::util::obj_mut(&mut obj, &["metadata"]);
    match old {
        None => {
            meta.insert("uid".into(), json!(new_uid()));
            meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
            meta.remove("resourceVersion");
            meta.remove("deletionTimestamp");
            meta.remove("deletionGracePeriodSeconds");
            if has_generation(res) {
                meta.insert("generation".into(), json!(1));
            } else {
                meta.remove("generation");
            }
        }
        Some(o) => {
            for k in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "resourceVersion",
            ] {
                match o.pointer(&format!("/metadata/{k}")) {
                    Some(v) => {
                        meta.insert(k.into(), v.clone());
                    }
                    None => {
                        meta.remove(k);
                    }
                }
            }
        }
    }
    if res.has_status() && matches!(ctx.scope, Scope::Main { .. }) {
        match old {
            None => {
                // PrepareForCreate resets status.
                if res.is_crd() {
                    if let Some(m) = obj.as_object_mut() {
                        m.shift_remove("status");
                    }
                } else if matches!(
                    res.kind.as_str(),
                    "Deployment"
                        | "ReplicaSet"
                        | "StatefulSet"
                        | "DaemonSet"
                        | "HorizontalPodAutoscaler"
                        | "PodDisruptionBudget"
                        | "Job"
                ) {
                    obj["status"] = json!({});
                }
            }
            Some(o) => match o.get("status") {
                Some(s) => obj["status"] = s.clone(),
                None => {
                    if let Some(m) = obj.as_object_mut() {
                        m.shift_remove("status");
                    }
                }
            },
        }
    }
    if res.kind == "Namespace"
        && old.is_none()
        && let Some(m) = obj.as_object_mut()
    {
        m.shift_remove("status");
    }

    // Defaulting.
    if res.is_crd() {
        crate::defaults::from_schema(&mut obj, ty);
    } else {
        crate::defaults::builtin(&res.group, &res.kind, &mut obj);
    }

    // Validation.
    let causes: Vec<Cause> = if let Some(schema) = &res.crd_schema {
        let mut body = obj.clone();
        if let Some(m) = body.as_object_mut() {
            m.shift_remove("metadata");
        }
        let errs = crate::schema::validate(schema, &body);
        let mut cs: Vec<Cause> = Vec::new();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !crate::validate::is_dns_subdomain(name) {
            cs.push(Cause::new("FieldValueInvalid", "metadata.name", format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")));
        }
        cs.extend(errs.iter().filter_map(crate::validate::crd_cause));
        if res.crd_has_rules && cs.iter().any(|c| c.reason == "FieldValueTypeInvalid") {
            cs.push(Cause::new(
                "FieldValueInvalid",
                "<nil>",
                "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
            ));
        }
        cs
    } else {
        crate::validate::builtin(&res.group, &res.kind, &obj)
    };
    if !causes.is_empty() {
        let t = res.target(&name);
        let (qualified, detail_kind) = (t.group_kind(), res.kind.clone());
        return Err(status::invalid(&qualified, &t, &detail_kind, &causes));
    }

    // Generation: bumped when the desired state changes (API conventions: "metadata.generation
    // ... a sequence number representing a specific generation of the desired state").
    if let (Some(o), true) = (old, has_generation(res))
        && spec_like(res, o) != spec_like(res, &obj)
    {
        let g = o
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        obj["metadata"]["generation"] = json!(g + 1);
    }

    // Field ownership.
    if ctx.op != Op::Apply && ctx.track {
        if obj.pointer("/metadata/managedFields").is_none()
            && let Some(mf) = old.and_then(|o| o.pointer("/metadata/managedFields"))
        {
            obj["metadata"]["managedFields"] = mf.clone();
        }
        let empty = json!({});
        crate::ssa::track_update(
            Some(old.unwrap_or(&empty)),
            &mut obj,
            ty,
            &ctx.manager,
            &res.api_version(),
            ctx.scope,
        );
    }
    if !res.is_crd() {
        crate::defaults::strategy(&res.group, &res.kind, &mut obj, old.is_none());
    }
    normalize(res, &mut obj);

    // Foreground/finalizer deletion completes when the last finalizer goes.
    if let Some(o) = old
        && o.pointer("/metadata/deletionTimestamp").is_some()
        && obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(|f| f.is_empty())
        && !ctx.dry_run
    {
        let mut st = shared.store.lock().unwrap();
        st.delete(shared, &key);
        return Ok(Outcome::Json(200, obj, headers));
    }

    if let Some(o) = old
        && *o == obj
    {
        return Ok(Outcome::Json(200, obj, headers));
    }
    let code = if old.is_none() { 201 } else { 200 };
    if ctx.dry_run {
        if old.is_none()
            && let Some(m) = obj["metadata"].as_object_mut()
        {
            m.shift_remove("resourceVersion");
        }
        return Ok(Outcome::Json(code, obj, headers));
    }
    let mut st = shared.store.lock().unwrap();
    // Re-check under the lock: someone may have written meanwhile.
    let current = st.get(&key).cloned();
    match (old, &current) {
        (None, Some(_)) => return Err(status::already_exists(&res.target(&name))),
        (Some(o), Some(c))
            if o.pointer("/metadata/resourceVersion") != c.pointer("/metadata/resourceVersion") =>
        {
            return Err(status::stale_read(&res.target(&name)));
        }
        (Some(_), None) => return Err(status::not_found(&res.target(&name))),
        _ => {}
    }
    let stored = st.write(shared, key, obj);
    Ok(Outcome::Json(code, stored, headers))
}

fn ctx(r: &Req, op: Op, scope: Scope) -> WriteCtx {
    WriteCtx {
        track: true,
        op,
        scope,
        manager: r.manager(),
        dry_run: r.dry_run(),
        field_validation: r.q("fieldValidation").unwrap_or("Warn").to_string(),
    }
}

fn get_object(shared: &Shared, res: &Resource, ns: &str, name: &str) -> Res<Outcome> {
    let st = shared.store.lock().unwrap();
    match st.get(&Key::new(res, ns, name)) {
        Some(v) => ok(v.clone()),
        None => Err(status::not_found(&res.target(name))),
    }
}

fn create(shared: &Shared, res: &Resource, ns: &str, r: &Req) -> Res<Outcome> {
    let mut obj = parse_body(r, res)?;
    check_identity(res, &mut obj, ns, None)?;
    let mut name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if name.is_empty()
        && let Some(g) = obj
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .filter(|g| !g.is_empty())
    {
        name = format!("{g}{}", random_suffix(5));
        obj["metadata"]["name"] = json!(name);
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.shift_remove("managedFields");
    }
    check_namespace(shared, res, ns, &name)?;
    let key = Key::new(res, ns, &name);
    if !name.is_empty() && shared.store.lock().unwrap().get(&key).is_some() {
        // Validation runs first on a real server; an invalid object is 422 even if it exists.
        let causes = if res.is_crd() {
            Vec::new()
        } else {
            crate::validate::builtin(&res.group, &res.kind, &obj)
        };
        if causes.is_empty() {
            return Err(status::already_exists(&res.target(&name)));
        }
    }
    finish_write(
        shared,
        res,
        key,
        None,
        obj,
        &ctx(
            r,
            Op::Create,
            Scope::Main {
                has_status: res.has_status(),
            },
        ),
    )
}

fn update(
    shared: &Shared,
    res: &Resource,
    ns: &str,
    name: &str,
    r: &Req,
    scope: Scope,
) -> Res<Outcome> {
    let mut obj = parse_body(r, res)?;
    check_identity(res, &mut obj, ns, Some(name))?;
    let key = Key::new(res, ns, name);
    let live = shared.store.lock().unwrap().get(&key).cloned();
    let Some(live) = live else {
        if allow_create_on_update(res) && scope != Scope::Status {
            check_namespace(shared, res, ns, name)?;
            return finish_write(shared, res, key, None, obj, &ctx(r, Op::Create, scope));
        }
        return Err(status::not_found(&res.target(name)));
    };
    match obj
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(rv) => {
            if Some(rv)
                != live
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
            {
                return Err(status::conflict(&res.target(name)));
            }
        }
        None => {
            if !allow_unconditional_update(res) {
                let t = res.target(name);
                let gr = t.group_resource();
                return Err(status::invalid(
                    &gr,
                    &t,
                    &res.plural,
                    &[Cause::new(
                        "FieldValueInvalid",
                        "metadata.resourceVersion",
                        "Invalid value: 0x0: must be specified for an update",
                    )],
                ));
            }
        }
    }
    if let (Some(u), Some(lu)) = (
        obj.pointer("/metadata/uid").and_then(Value::as_str),
        live.pointer("/metadata/uid").and_then(Value::as_str),
    ) && !u.is_empty()
        && u != lu
    {
        return Err(status::precondition_uid(&res.target(name), u, lu));
    }
    finish_write(
        shared,
        res,
        key,
        Some(&live),
        obj,
        &ctx(r, Op::Update, scope),
    )
}

/// A write whose read went stale before it stored is done again on the new
/// object, like the real server's storage layer (`GuaranteedUpdate`) does: a
/// PATCH (apply included) or unconditional PUT then succeeds, and only a
/// resourceVersion the client sent itself turns into a 409 on the re-read.
/// Like `GuaranteedUpdate`, it has no limit on tries, only the request's
/// deadline (the real server's default request timeout is 60 s).
fn retry_stale(mut write: impl FnMut() -> Res<Outcome>) -> Res<Outcome> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match write() {
            Err(e) if e.stale_read && std::time::Instant::now() < deadline => {
                std::thread::yield_now()
            }
            other => return other,
        }
    }
}

fn patch(
    shared: &Shared,
    res: &Resource,
    ns: &str,
    name: &str,
    r: &Req,
    scope: Scope,
) -> Res<Outcome> {
    let ct = r
        .content_type
        .as_deref()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if ct == "application/apply-patch+yaml" {
        return apply(shared, res, ns, name, r, scope);
    }
    if !matches!(
        ct.as_str(),
        "application/merge-patch+json"
            | "application/json-patch+json"
            | "application/strategic-merge-patch+json"
    ) {
        return Err(status::unsupported_media_type());
    }
    if ct == "application/strategic-merge-patch+json" && res.is_crd() {
        return Err(ApiError::new(
            415,
            Some("UnsupportedMediaType"),
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            None,
        ));
    }
    let (key, live) = stored_or_not_found(shared, res, ns, name)?;
    let body: Value = serde_json::from_slice(&r.body)
        .map_err(|e| status::bad_request(&format!("error decoding patch: {e}")))?;
    let patched = match ct.as_str() {
        "application/merge-patch+json" => {
            if !body.is_object() {
                return Err(status::bad_request(
                    "the body of a merge patch must be a JSON object",
                ));
            }
            crate::patch::merge_patch(&live, &body)
        }
        "application/strategic-merge-patch+json" => {
            if !body.is_object() {
                return Err(status::bad_request(
                    "the body of a strategic merge patch must be a JSON object",
                ));
            }
            crate::patch::strategic_merge(&live, &body, ty_for(res))
        }
        _ => crate::patch::json_patch(&live, &body).map_err(|_| {
            ApiError::new(
                422,
                Some("Invalid"),
                "the server rejected our request due to an error in our request",
                Some(json!({})),
            )
        })?,
    };
    // A resourceVersion in the patched object acts as a precondition (transcript 41).
    let prv = patched
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    if prv.is_some_and(|p| {
        Some(p)
            != live
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    }) {
        return Err(status::conflict(&res.target(name)));
    }
    let mut obj = patched;
    check_identity(res, &mut obj, ns, Some(name))?;
    finish_write(
        shared,
        res,
        key,
        Some(&live),
        obj,
        &ctx(r, Op::Update, scope),
    )
}

fn apply(
    shared: &Shared,
    res: &Resource,
    ns: &str,
    name: &str,
    r: &Req,
    scope: Scope,
) -> Res<Outcome> {
    let manager = match r.q("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => {
            return Err(ApiError::new(
                422,
                Some("Invalid"),
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                Some(
                    json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]}),
                ),
            ));
        }
    };
    let force = r.flag("force");
    let mut config = parse_body(r, res)?;
    // The typed patch object is named by the body: no namespace there, none in the message.
    let body_ns = config["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    check_identity(res, &mut config, ns, Some(name))?;
    let ty = ty_for(res);
    if let Err(e) = crate::typed::typed_check(&config, ty, "") {
        let who = format!("{body_ns}/{name}");
        let gvk = if res.group.is_empty() {
            format!("/{}, Kind={}", res.version, res.kind)
        } else {
            format!("{}, Kind={}", res.api_version(), res.kind)
        };
        return Err(status::typed_patch_error(&format!(
            "failed to create typed patch object ({who}; {gvk}): {e}"
        )));
    }
    let key = Key::new(res, ns, name);
    let live = shared.store.lock().unwrap().get(&key).cloned();
    if live.is_none() {
        if scope == Scope::Status {
            return Err(status::not_found(&res.target(name)));
        }
        check_namespace(shared, res, ns, name)?;
    }
    if let Some(m) = config["metadata"].as_object_mut() {
        m.shift_remove("managedFields");
        m.shift_remove("resourceVersion");
    }
    let applied = crate::ssa::apply(
        live.as_ref(),
        &config,
        ty,
        &manager,
        &res.api_version(),
        force,
        scope,
    )?;
    let mut obj = applied.object;
    crate::ssa::write_entries(&mut obj, &applied.entries);
    let mut c = ctx(r, Op::Apply, scope);
    c.manager = manager;
    let out = finish_write(shared, res, key, live.as_ref(), obj, &c)?;
    // An apply that changes nothing keeps the previous managedFields timestamps (transcript 13).
    Ok(out)
}

fn delete_options(r: &Req) -> Value {
    let mut opts: Value = if r.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&r.body).unwrap_or_else(|_| json!({}))
    };
    if let Some(p) = r.q("propagationPolicy") {
        opts["propagationPolicy"] = json!(p);
    }
    if r.dry_run() {
        opts["dryRun"] = json!(["All"]);
    }
    opts
}

/// Marks an object that stays until its finalizers are gone (once: a marked object
/// keeps its first deletionTimestamp).
fn mark_deleting(obj: &mut Value) {
    if obj.pointer("/metadata/deletionTimestamp").is_none() {
        obj["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        // rest.BeforeDelete: "if the object has a generation, increment it" when the
        // deletion is graceful (the object stays, marked).
        if let Some(g) = obj.pointer("/metadata/generation").and_then(Value::as_i64) {
            obj["metadata"]["generation"] = json!(g + 1);
        }
    }
}

fn delete(shared: &Arc<Shared>, res: &Resource, ns: &str, name: &str, r: &Req) -> Res<Outcome> {
    let opts = delete_options(r);
    let key = Key::new(res, ns, name);
    let t = res.target(name);
    let mut st = shared.store.lock().unwrap();
    let live = st.get(&key).cloned().ok_or_else(|| status::not_found(&t))?;
    let have_rv = live
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let have_uid = live
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(want) = opts.pointer("/preconditions/uid").and_then(Value::as_str)
        && want != have_uid
    {
        return Err(status::precondition_uid(&t, want, have_uid));
    }
    if let Some(want) = opts
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        && want != have_rv
    {
        return Err(status::precondition_rv(&t, want, have_rv));
    }
    let dry = opts.get("dryRun").is_some();
    let policy = opts
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Background")
        .to_string();
    let uid = have_uid.to_string();

    // Namespaces terminate: phase Terminating now, contents removed, then the namespace.
    if res.kind == "Namespace" {
        let mut obj = live.clone();
        if obj.pointer("/metadata/deletionTimestamp").is_none() {
            obj["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        }
        obj["status"]["phase"] = json!("Terminating");
        normalize(res, &mut obj);
        if dry {
            return ok(obj);
        }
        let stored = st.write(shared, key.clone(), obj);
        drop(st);
        let shared = shared.clone();
        let ns = name.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let mut st = shared.store.lock().unwrap();
            let keys: Vec<Key> = st
                .objects
                .keys()
                .filter(|k| k.namespace == ns)
                .cloned()
                .collect();
            for k in keys {
                st.delete(&shared, &k);
            }
            st.delete(&shared, &key);
        });
        return ok(stored);
    }

    let finalizers: Vec<String> = live
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if policy == "Foreground" {
        // The object stays, marked, until the garbage collector removed its dependents.
        let mut obj = live.clone();
        mark_deleting(&mut obj);
        let mut f = finalizers.clone();
        if !f.iter().any(|x| x == "foregroundDeletion") {
            f.push("foregroundDeletion".into());
        }
        obj["metadata"]["finalizers"] = json!(f);
        normalize(res, &mut obj);
        if dry {
            return ok(obj);
        }
        let stored = st.write(shared, key.clone(), obj);
        drop(st);
        let shared = shared.clone();
        tokio::spawn(async move {
            // The recorded object was gone 0.63 s after the request (transcript 84).
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
            let mut st = shared.store.lock().unwrap();
            collect_garbage(&shared, &mut st, &uid, false);
            if let Some(mut o) = st.get(&key).cloned() {
                let rest: Vec<Value> = o
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter(|f| f.as_str() != Some("foregroundDeletion"))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                if rest.is_empty() {
                    st.delete(&shared, &key);
                } else {
                    o["metadata"]["finalizers"] = json!(rest);
                    st.write(&shared, key, o);
                }
            }
        });
        return ok(stored);
    }
    if !finalizers.is_empty() {
        let mut obj = live.clone();
        mark_deleting(&mut obj);
        normalize(res, &mut obj);
        if dry {
            return ok(obj);
        }
        let stored = st.write(shared, key, obj);
        return ok(stored);
    }
    if dry {
        return ok(status::delete_success(&t, &uid));
    }
    st.delete(shared, &key);
    collect_garbage(shared, &mut st, &uid, policy == "Orphan");
    ok(status::delete_success(&t, &uid))
}

/// The garbage collector: dependents (ownerReferences naming `uid`) are deleted, recursively,
/// or with `orphan` just released.
pub fn collect_garbage(shared: &Shared, st: &mut crate::store::Store, uid: &str, orphan: bool) {
    let deps: Vec<Key> = st
        .objects
        .iter()
        .filter(|(_, v)| {
            v.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| {
                    refs.iter()
                        .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                })
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in deps {
        if orphan {
            if let Some(mut o) = st.get(&k).cloned() {
                if let Some(refs) = o
                    .pointer_mut("/metadata/ownerReferences")
                    .and_then(Value::as_array_mut)
                {
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
                }
                st.write(shared, k, o);
            }
        } else if let Some(o) = st.delete(shared, &k) {
            let duid = o
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            collect_garbage(shared, st, &duid, false);
        }
    }
}

fn delete_collection(
    shared: &Arc<Shared>,
    res: &Resource,
    ns: Option<&str>,
    r: &Req,
) -> Res<Outcome> {
    let (items, _) = select(shared, res, ns, r, None)?;
    let mut deleted = Vec::new();
    for it in items {
        let name = it
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let ins = it
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if r.dry_run() {
            deleted.push(it);
            continue;
        }
        let mut st = shared.store.lock().unwrap();
        if let Some(o) = st.delete(shared, &Key::new(res, &ins, &name)) {
            let uid = o
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            collect_garbage(shared, &mut st, &uid, false);
            deleted.push(o);
        }
    }
    let rv = shared.store.lock().unwrap().rv;
    ok(list_doc(res, deleted, rv, None))
}

/// A page of a LIST: the items after `start` (their keys, [`item_key`]), at most `take`.
struct Page<'a> {
    start: &'a str,
    across: bool,
    take: usize,
}

/// Items matching the request's namespace and selectors, sorted like etcd keys; of `page`
/// only, when given (only those are copied, so that paging through a large collection is
/// not quadratic).
fn select(
    shared: &Shared,
    res: &Resource,
    ns: Option<&str>,
    r: &Req,
    page: Option<Page>,
) -> Res<(Vec<Value>, u64)> {
    let labels = selector::parse_labels(r.q("labelSelector").unwrap_or(""))
        .map_err(|e| status::bad_request(&format!("unable to parse requirement: {e}")))?;
    let fields = selector::parse_fields(r.q("fieldSelector").unwrap_or(""), &res.kind)
        .map_err(|e| status::bad_request(&e))?;
    let st = shared.store.lock().unwrap();
    let (start, across, take) = match &page {
        Some(p) => (Some(p.start), p.across, p.take),
        None => (None, false, usize::MAX),
    };
    let items = st
        .list(&res.group, &res.plural, ns)
        .map(|(_, v)| v)
        .filter(|v| start.is_none_or(|s| item_key(v, across).as_str() > s))
        .filter(|v| {
            selector::matches(&labels, v.pointer("/metadata/labels"))
                && selector::fields_match(&fields, v)
        })
        .take(take)
        .cloned()
        .collect();
    Ok((items, st.rv))
}

fn list_doc(res: &Resource, items: Vec<Value>, rv: u64, cont: Option<String>) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut v| {
            if !res.is_crd()
                && let Some(m) = v.as_object_mut()
            {
                m.shift_remove("kind");
                m.shift_remove("apiVersion");
            }
            v
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    let mut doc = json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": meta, "items": items});
    if res.is_crd() {
        crate::util::sort_keys_deep(&mut doc);
    }
    doc
}

fn item_key(v: &Value, across: bool) -> String {
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if across {
        format!(
            "{}/{name}",
            v.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
        )
    } else {
        name.to_string()
    }
}

/// LIST with `limit`/`continue` (API conventions, "List operations": "the server returns a
/// continue token in metadata.continue ... pass it to get the next page").
fn list(shared: &Shared, res: &Resource, ns: Option<&str>, r: &Req) -> Res<Outcome> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let across = res.namespaced && ns.is_none();
    let mut start = String::new();
    let mut token_rv = None;
    if let Some(c) = r.q("continue").filter(|c| !c.is_empty()) {
        let tok: Value = b64
            .decode(c.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| status::bad_request("continue key is not valid: illegal base64 data"))?;
        start = tok
            .get("start")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_end_matches('\u{0}')
            .to_string();
        token_rv = tok.get("rv").and_then(Value::as_u64);
    }
    let limit = r
        .q("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    // One more than the limit tells whether a next page follows.
    let page = Page {
        start: &start,
        across,
        take: limit.map_or(usize::MAX, |l| l + 1),
    };
    let (mut items, rv) = select(shared, res, ns, r, Some(page))?;
    let rv = token_rv.unwrap_or(rv);
    let mut cont = None;
    if let Some(l) = limit
        && items.len() > l
    {
        items.truncate(l);
        let last = item_key(items.last().expect("item"), across);
        let tok = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{last}\u{0}")});
        cont = Some(b64.encode(tok.to_string()));
    }
    ok(list_doc(res, items, rv, cont))
}

/// The key and a copy of the stored object `name`, or the 404 the real server
/// answers when there is none.
fn stored_or_not_found(shared: &Shared, res: &Resource, ns: &str, name: &str) -> Res<(Key, Value)> {
    let key = Key::new(res, ns, name);
    let live = shared
        .store
        .lock()
        .unwrap()
        .get(&key)
        .cloned()
        .ok_or_else(|| status::not_found(&res.target(name)))?;
    Ok((key, live))
}

/// The scale subresource (autoscaling/v1 Scale; transcripts 76-78).
fn scale(shared: &Shared, res: &Resource, ns: &str, name: &str, r: &Req) -> Res<Outcome> {
    let (key, live) = stored_or_not_found(shared, res, ns, name)?;
    let to_scale = |o: &Value| -> Value {
        let mut meta = json!({});
        for k in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
        ] {
            if let Some(v) = o.pointer(&format!("/metadata/{k}")) {
                meta[k] = v.clone();
            }
        }
        let replicas = o
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let spec = if replicas == 0 {
            json!({})
        } else {
            json!({"replicas": replicas})
        };
        let sel = o
            .pointer("/spec/selector")
            .map(crate::util::selector_string)
            .unwrap_or_default();
        json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta, "spec": spec,
            "status": {"replicas": o.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0), "selector": sel}})
    };
    if r.method == Method::GET {
        return ok(to_scale(&live));
    }
    let current = to_scale(&live);
    let body: Value = serde_json::from_slice(&r.body)
        .map_err(|e| status::bad_request(&format!("error decoding: {e}")))?;
    let ct = r.content_type.as_deref().unwrap_or("application/json");
    let wanted = if r.method == Method::PUT {
        if let Some(rv) = body
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && Some(rv)
                != live
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(status::conflict(&res.target(name)));
        }
        body
    } else if ct.starts_with("application/json-patch+json") {
        crate::patch::json_patch(&current, &body).map_err(|_| {
            ApiError::new(
                422,
                Some("Invalid"),
                "the server rejected our request due to an error in our request",
                Some(json!({})),
            )
        })?
    } else if ct.starts_with("application/merge-patch+json")
        || ct.starts_with("application/strategic-merge-patch+json")
    {
        crate::patch::merge_patch(&current, &body)
    } else {
        return Err(status::unsupported_media_type());
    };
    let replicas = wanted
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::new(
            422,
            Some("Invalid"),
            &format!(
                "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
            ),
            Some(
                json!({"name": name, "group": "autoscaling", "kind": "Scale", "causes": [{"reason": "FieldValueInvalid", "message": format!("Invalid value: {replicas}: must be greater than or equal to 0"), "field": "spec.replicas"}]}),
            ),
        ));
    }
    let mut obj = live.clone();
    obj["spec"]["replicas"] = json!(replicas);
    // A scale write takes spec.replicas from its owners and records no entry of its own
    // (transcript 79 shows no owner of spec.replicas after two /scale patches).
    if live.pointer("/spec/replicas").and_then(Value::as_i64) != Some(replicas) {
        let mut entries = crate::ssa::read_entries(&obj);
        let p = vec!["f:spec".to_string(), "f:replicas".to_string()];
        for e in entries.iter_mut() {
            e.set.remove(&p);
        }
        crate::ssa::write_entries(&mut obj, &entries);
    }
    let c = WriteCtx {
        track: false,
        op: Op::Update,
        scope: Scope::Main {
            has_status: res.has_status(),
        },
        manager: r.manager(),
        dry_run: r.dry_run(),
        field_validation: "Ignore".into(),
    };
    match finish_write(shared, res, key, Some(&live), obj, &c)? {
        Outcome::Json(_, stored, h) => Ok(Outcome::Json(200, to_scale(&stored), h)),
        other => Ok(other),
    }
}
