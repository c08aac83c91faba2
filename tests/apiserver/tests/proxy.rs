//! The Service proxy against a small local backend: forwarding of method, path, query, body
//! and headers, streaming of an SSE answer, and the real server's answers when the Service,
//! its port or its backend is missing.

mod common;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use test_apiserver::ApiServer;
use tokio::sync::{Mutex, mpsc};

type Body = BoxBody<Bytes, Infallible>;

/// What the backend's SSE endpoint sends after its first event: the test feeds it.
#[derive(Clone)]
struct Backend {
    later: Arc<Mutex<Option<mpsc::Receiver<Bytes>>>>,
}

/// Echoes the request it got (method, path, query, headers, body) as JSON; `/sse` answers
/// `text/event-stream` with one event at once and then whatever the test sends.
async fn backend(b: Backend, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if req.uri().path() == "/base/sse" {
        let mut later = b.later.lock().await.take().expect("one SSE request");
        let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
        tokio::spawn(async move {
            let _ = tx
                .send(Ok(Frame::data(Bytes::from_static(
                    b"event: message\ndata: {\"n\":1}\n\n",
                ))))
                .await;
            while let Some(chunk) = later.recv().await {
                let _ = tx.send(Ok(Frame::data(chunk))).await;
            }
        });
        let body = http_body_util::StreamBody::new(tokio_stream_of(rx));
        return Ok(Response::builder()
            .header("Content-Type", "text/event-stream")
            .header("Cache-Control", "no-cache")
            .header("Mcp-Session-Id", "s-1")
            .body(BodyExt::boxed(body))
            .unwrap());
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: serde_json::Map<String, Value> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
        .collect();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let echo = json!({"method": method, "path": path, "query": query, "headers": headers,
        "body": String::from_utf8_lossy(&body)});
    Ok(Response::builder()
        .status(if method == "DELETE" { 202 } else { 200 })
        .header("Content-Type", "application/json")
        .header("X-Backend", "echo")
        .header("Connection", "close")
        .body(Full::new(Bytes::from(echo.to_string())).boxed())
        .unwrap())
}

/// A `Stream` of an mpsc receiver.
fn tokio_stream_of<T>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send + Sync + 'static
where
    T: Send + Sync + 'static,
{
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Starts the backend; returns its URL (with a `/base` path) and the sender of the SSE
/// events after the first.
async fn start_backend() -> (String, mpsc::Sender<Bytes>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel(4);
    let b = Backend {
        later: Arc::new(Mutex::new(Some(rx))),
    };
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let b = b.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| backend(b.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/base"), tx)
}

/// A Service `web` in `default` with ports `http` 80 and `mcp` 8080.
fn service() -> Vec<u8> {
    serde_json::to_vec(
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [
            {"name": "http", "port": 80, "targetPort": 8000},
            {"name": "mcp", "port": 8080, "targetPort": 8080}]}}),
    )
    .unwrap()
}

const SVC: &str = "/api/v1/namespaces/default/services";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_forwarded_with_path_query_body_and_headers() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    let (backend_url, _sse) = start_backend().await;
    assert_eq!(common::post_json(&base, SVC, service()).await.status, 201);
    srv.proxy_service("default", "web", 8080, &backend_url);
    srv.clear_requests();

    // By port name, by number, and with a scheme: all reach the same backend.
    for id in ["web:mcp", "web:8080", "http:web:mcp"] {
        let r = common::send(
            &base,
            "POST",
            &format!("{SVC}/{id}/proxy/mcp/x"),
            &[("a".into(), "1 2".into()), ("b".into(), "z".into())],
            &[
                ("Content-Type", "application/json"),
                ("Authorization", "Bearer secret"),
                ("Mcp-Session-Id", "s-9"),
                ("Connection", "keep-alive, X-Hop"),
                ("X-Hop", "dropped"),
            ],
            Some(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.to_vec()),
        )
        .await;
        assert_eq!(r.status, 200, "{id}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("x-backend"), Some("echo"), "{id}");
        let e = r.json();
        assert_eq!(e["method"], "POST");
        assert_eq!(e["path"], "/base/mcp/x");
        assert_eq!(e["query"], "a=1%202&b=z");
        assert_eq!(e["body"], r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        let h = &e["headers"];
        assert_eq!(h["mcp-session-id"], "s-9");
        assert_eq!(h["content-type"], "application/json");
        assert!(
            h.get("authorization").is_none(),
            "Authorization forwarded: {h}"
        );
        assert!(h.get("x-hop").is_none(), "hop-by-hop header forwarded: {h}");
        assert_eq!(h["x-forwarded-uri"], format!("{SVC}/{id}/proxy/mcp/x"));
        assert_eq!(h["host"], backend_url[7..].trim_end_matches("/base"));
    }
    // Other methods, the backend's status passed through.
    let r = common::delete(&base, &format!("{SVC}/web:mcp/proxy/sessions/s-9")).await;
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["method"], "DELETE");
    let r = common::get(&base, &format!("{SVC}/web:8080/proxy/")).await;
    assert_eq!(r.json()["path"], "/base/");

    // The log records proxied requests like any other.
    let log = srv.requests();
    let proxied: Vec<(String, String, u16)> = log
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.status))
        .collect();
    assert_eq!(
        proxied,
        vec![
            ("POST".into(), format!("{SVC}/web:mcp/proxy/mcp/x"), 200),
            ("POST".into(), format!("{SVC}/web:8080/proxy/mcp/x"), 200),
            (
                "POST".into(),
                format!("{SVC}/http:web:mcp/proxy/mcp/x"),
                200
            ),
            (
                "DELETE".into(),
                format!("{SVC}/web:mcp/proxy/sessions/s-9"),
                202
            ),
            ("GET".into(), format!("{SVC}/web:8080/proxy/"), 200),
        ]
    );
    assert_eq!(log[0].query_param("a").as_deref(), Some("1 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_answer_arrives_event_by_event() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    let (backend_url, later) = start_backend().await;
    assert_eq!(common::post_json(&base, SVC, service()).await.status, 201);
    srv.proxy_service("default", "web", 8080, &backend_url);

    let resp = common::send_raw(
        &base,
        "POST",
        &format!("{SVC}/web:mcp/proxy/sse"),
        &[],
        &[("Accept", "application/json, text/event-stream")],
        Some(b"{}".to_vec()),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["mcp-session-id"], "s-1");
    let mut body = resp.into_body();
    let mut got = String::new();
    let mut next_event = async |got: &mut String| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !got.contains("\n\n") {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Some(d) = f.data_ref() {
                        got.push_str(std::str::from_utf8(d).unwrap());
                    }
                }
                Ok(other) => panic!("stream ended before an event: {other:?} (so far {got:?})"),
                Err(_) => panic!("no event within 30 s: the answer is buffered (so far {got:?})"),
            }
        }
        let i = got.find("\n\n").unwrap() + 2;
        got.drain(..i).collect::<String>()
    };
    // The first event comes while the backend has not even been given the second.
    assert_eq!(
        next_event(&mut got).await,
        "event: message\ndata: {\"n\":1}\n\n"
    );
    later
        .send(Bytes::from_static(b"event: message\ndata: {\"n\":2}\n\n"))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut got).await,
        "event: message\ndata: {\"n\":2}\n\n"
    );
    drop(later);
    // The backend ends its stream: so does the proxied one.
    let end = tokio::time::timeout(Duration::from_secs(30), body.frame())
        .await
        .expect("the stream did not end with the backend's");
    assert!(end.is_none(), "{end:?}");
}

/// The Status a real server answers with when something is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_services_ports_and_backends_answer_like_a_real_server() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    let status = |r: &common::Resp| {
        let b = r.json();
        assert_eq!(b["kind"], "Status", "{b}");
        (
            r.status,
            b["reason"].as_str().unwrap_or("").to_string(),
            b["message"].as_str().unwrap_or("").to_string(),
            b["details"].clone(),
        )
    };
    // No Service: its Endpoints are looked up first (404 endpoints), unless a port number
    // sends the lookup to the Service (404 services).
    let r = common::get(&base, &format!("{SVC}/web/proxy/")).await;
    assert_eq!(
        status(&r),
        (
            404,
            "NotFound".into(),
            "endpoints \"web\" not found".into(),
            json!({"name": "web", "kind": "endpoints"})
        )
    );
    let r = common::get(&base, &format!("{SVC}/web:8080/proxy/")).await;
    assert_eq!(
        status(&r),
        (
            404,
            "NotFound".into(),
            "services \"web\" not found".into(),
            json!({"name": "web", "kind": "services"})
        )
    );
    let r = common::get(&base, &format!("{SVC}/ftp:web:80/proxy/")).await;
    assert_eq!(
        (r.status, r.json()["message"].clone()),
        (400, json!("invalid service request \"ftp:web:80\""))
    );

    assert_eq!(common::post_json(&base, SVC, service()).await.status, 201);
    // The Service exists but nothing backs it (no ready Pods): no endpoints.
    let r = common::get(&base, &format!("{SVC}/web:mcp/proxy/")).await;
    let unavailable = |m: &str| {
        (
            503,
            "ServiceUnavailable".to_string(),
            m.to_string(),
            Value::Null,
        )
    };
    assert_eq!(
        status(&r),
        unavailable("no endpoints available for service \"web\"")
    );
    // A port number the Service does not have.
    let r = common::get(&base, &format!("{SVC}/web:9999/proxy/")).await;
    assert_eq!(
        status(&r),
        unavailable("no service port 9999 found for service \"web\"")
    );
    // A backend for one port; a port name the endpoints do not carry.
    let (backend_url, _sse) = start_backend().await;
    srv.proxy_service("default", "web", 8080, &backend_url);
    let r = common::get(&base, &format!("{SVC}/web:metrics/proxy/")).await;
    assert_eq!(
        status(&r),
        unavailable("no endpoints available for service \"web:metrics\"")
    );
    // No port given: only a Service port without a name matches, and these are named.
    let r = common::get(&base, &format!("{SVC}/web/proxy/")).await;
    assert_eq!(
        status(&r),
        unavailable("no endpoints available for service \"web\"")
    );
    // An empty proxied path is redirected to one ending in '/'.
    let r = common::send(
        &base,
        "GET",
        &format!("{SVC}/web:mcp/proxy"),
        &[("q".into(), "1".into())],
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some(format!("{SVC}/web:mcp/proxy/?q=1").as_str())
    );

    // The backend refuses the connection.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    srv.proxy_service("default", "web", 80, &format!("http://{closed}"));
    let r = common::get(&base, &format!("{SVC}/web:http/proxy/healthz")).await;
    assert_eq!(
        status(&r),
        unavailable(&format!(
            "error trying to reach service: dial tcp {closed}: connect: connection refused"
        ))
    );
    let log = srv.requests();
    assert_eq!(log.last().map(|r| r.status), Some(503));
}
