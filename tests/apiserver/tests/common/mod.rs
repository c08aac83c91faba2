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

async fn send_raw(
    base: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> hyper::Response<hyper::body::Incoming> {
    let addr = base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to test server");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let qs = query_string(query);
    let uri = if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    };
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("Host", addr)
        .header("User-Agent", "mcpctl-recorder/0.1");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .expect("request");
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
    let resp = send_raw(base, method, path, query, headers, body).await;
    let status = resp.status().as_u16();
    let hs: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    Resp {
        status,
        content_type,
        headers: hs,
        body,
    }
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
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("Host", addr)
        .header("User-Agent", "fault-test/1.0");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = sender
        .send_request(
            b.body(Full::new(Bytes::from(body.unwrap_or_default())))
                .expect("request"),
        )
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let hs: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes()
        .to_vec();
    Ok(Resp {
        status,
        content_type,
        headers: hs,
        body,
    })
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
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
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
