//! A small raw HTTP client for talking to the server exactly as the recordings did (method,
//! path, query, Content-Type, Accept, body), including streamed watch responses.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use serde_json::Value;
use std::time::Duration;

pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn query_string(q: &[(String, String)]) -> String {
    q.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Opens a connection to the server at `addr` (host:port).
async fn connect(
    addr: &str,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to test server: {e}"))?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// A request to `uri` with Host `addr`, the given User-Agent, `headers` and `body`.
fn request(
    method: &str,
    uri: String,
    addr: &str,
    user_agent: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("Host", addr)
        .header("User-Agent", user_agent);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(Bytes::from(body.unwrap_or_default())))
        .expect("request")
}

/// The Content-Type of a response ("" when it has none).
fn content_type<B>(resp: &hyper::Response<B>) -> String {
    resp.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A `Resp` of a response's head and its whole `body`.
fn resp_with_body<B>(resp: &hyper::Response<B>, body: Vec<u8>) -> Resp {
    Resp {
        status: resp.status().as_u16(),
        content_type: content_type(resp),
        headers: resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body,
    }
}

pub async fn send_raw(
    base: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> hyper::Response<hyper::body::Incoming> {
    let addr = base.trim_start_matches("http://");
    let mut sender = connect(addr).await.unwrap_or_else(|e| panic!("{e}"));
    let qs = query_string(query);
    let uri = if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    };
    let req = request(method, uri, addr, "mcpctl-recorder/0.1", headers, body);
    sender.send_request(req).await.expect("send request")
}

pub async fn send(
    base: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Resp {
    let (head, body) = send_raw(base, method, path, query, headers, body)
        .await
        .into_parts();
    let head = hyper::Response::from_parts(head, ());
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    resp_with_body(&head, body)
}

/// GET `path`: no query, no extra headers.
pub async fn get(base: &str, path: &str) -> Resp {
    send(base, "GET", path, &[], &[], None).await
}

/// DELETE `path`: no query, no extra headers.
pub async fn delete(base: &str, path: &str) -> Resp {
    send(base, "DELETE", path, &[], &[], None).await
}

/// GET the collection at `path` with `?labelSelector=<selector>`, as JSON.
pub async fn list_selected(base: &str, path: &str, selector: &str) -> Value {
    send(
        base,
        "GET",
        path,
        &[("labelSelector".into(), selector.into())],
        &[],
        None,
    )
    .await
    .json()
}

/// POST `body` as `application/json`.
pub async fn post_json(base: &str, path: &str, body: Vec<u8>) -> Resp {
    send_typed(base, "POST", path, "application/json", body).await
}

/// `method` with `body` of Content-Type `content_type`: no query, no other headers.
async fn send_typed(
    base: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Resp {
    send(
        base,
        method,
        path,
        &[],
        &[("Content-Type", content_type)],
        Some(body),
    )
    .await
}

/// PATCH with `body` as a JSON merge patch (`application/merge-patch+json`).
pub async fn merge_patch(base: &str, path: &str, body: Vec<u8>) -> Resp {
    send_typed(base, "PATCH", path, "application/merge-patch+json", body).await
}

/// Like [`send`], but a connection cut mid-response is an `Err` instead of a panic.
pub async fn try_send(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<Resp, String> {
    let addr = base.trim_start_matches("http://");
    let mut sender = connect(addr).await?;
    let req = request(
        method,
        path.to_string(),
        addr,
        "fault-test/1.0",
        headers,
        body,
    );
    let (head, body) = sender
        .send_request(req)
        .await
        .map_err(|e| e.to_string())?
        .into_parts();
    let head = hyper::Response::from_parts(head, ());
    let body = body
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes()
        .to_vec();
    Ok(resp_with_body(&head, body))
}

/// Opens a watch and collects its events until the stream ends or `max` elapses.
pub async fn watch(
    base: &str,
    path: &str,
    query: &[(String, String)],
    max: Duration,
) -> (u16, String, Vec<Value>) {
    let resp = send_raw(
        base,
        "GET",
        path,
        query,
        &[("Accept", "application/json")],
        None,
    )
    .await;
    let status = resp.status().as_u16();
    let ct = content_type(&resp);
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + max;
    loop {
        let frame = tokio::time::timeout_at(deadline, body.frame()).await;
        match frame {
            Ok(Some(Ok(f))) => {
                if let Some(d) = f.data_ref() {
                    buf.extend_from_slice(d);
                    while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buf.drain(..=pos).collect();
                        if line.len() > 1 {
                            events.push(serde_json::from_slice(&line).expect("watch line is JSON"));
                        }
                    }
                }
            }
            _ => break,
        }
    }
    (status, ct, events)
}
