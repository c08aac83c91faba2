//! The Service proxy: `/api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH`.
//!
//! A real server resolves the Service's Endpoints and forwards the request to one of them
//! (`pkg/registry/core/service/storage` `ResourceLocation`, then apimachinery's
//! `UpgradeAwareHandler` and proxy `Transport`). There are no Pods to reach here, so a test
//! registers the local URL a Service port proxies to ([`crate::ApiServer::proxy_service`]);
//! a registered Service counts as having ready Endpoints. The answers for what is missing are
//! the real ones (see README.md of this crate): 404 when the Service (its Endpoints) does not
//! exist, 503 for a port it does not have or no endpoints, 503 "error trying to reach service"
//! when the backend cannot be reached.

use crate::Shared;
use crate::status::{self, ApiError, Target};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Response};
use serde_json::Value;
use std::sync::Arc;

/// A proxy target: `(namespace, service, service port number)` → base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyTarget {
    pub namespace: String,
    pub service: String,
    pub port: u16,
    pub url: String,
}

/// The parts of a proxy path: the Service id (`NAME`, `NAME:PORT` or `SCHEME:NAME:PORT`) and
/// what follows `/proxy` (with its leading `/`, or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyPath {
    pub namespace: String,
    pub id: String,
    pub rest: String,
}

/// Recognises `/api/v1/namespaces/NS/services/ID/proxy[/...]`.
pub fn parse_path(path: &str) -> Option<ProxyPath> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (ns, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("services/")?;
    let (id, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("proxy")?;
    if !(rest.is_empty() || rest.starts_with('/')) || ns.is_empty() || id.is_empty() {
        return None;
    }
    Some(ProxyPath {
        namespace: ns.to_string(),
        id: id.to_string(),
        rest: rest.to_string(),
    })
}

/// apimachinery `SplitSchemeNamePort`: `name`, `name:port` or `scheme:name:port` with scheme
/// "", "http" or "https" and a non-empty name.
fn split_scheme_name_port(id: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => ("", *name, ""),
        [name, port] => ("", *name, *port),
        [scheme, name, port] => (*scheme, *name, *port),
        _ => return None,
    };
    (!name.is_empty() && matches!(scheme, "" | "http" | "https")).then_some((scheme, name, port))
}

/// Where a request to the proxy of `p` goes: the backend URL (base URL joined with the rest
/// of the path), or the Status a real server answers with.
pub fn resolve(shared: &Shared, p: &ProxyPath) -> Result<String, ApiError> {
    let Some((_, name, port)) = split_scheme_name_port(&p.id) else {
        return Err(status::bad_request(&format!(
            "invalid service request {:?}",
            p.id
        )));
    };
    let svc = crate::store::get_by_path(
        shared,
        &format!("/api/v1/namespaces/{}/services/{name}", p.namespace),
    );
    let not_found = |resource: &str, kind: &str| {
        status::not_found(&Target {
            group: "",
            resource,
            kind,
            name,
        })
    };
    let ports: Vec<Value> = svc
        .as_ref()
        .and_then(|s| s["spec"]["ports"].as_array().cloned())
        .unwrap_or_default();
    // A port number is looked up in the Service (which must exist) and replaced by its name.
    let port_name = if let Ok(num) = port.parse::<i64>() {
        if svc.is_none() {
            return Err(not_found("services", "Service"));
        }
        match ports.iter().find(|sp| sp["port"].as_i64() == Some(num)) {
            Some(sp) => sp["name"].as_str().unwrap_or("").to_string(),
            None => {
                return Err(unavailable(&format!(
                    "no service port {num} found for service {name:?}"
                )));
            }
        }
    } else {
        port.to_string()
    };
    // Then its Endpoints, which the endpoints controller keeps for every Service.
    if svc.is_none() {
        return Err(not_found("endpoints", "Endpoints"));
    }
    let targets = shared.proxies.lock().unwrap().clone();
    let mine: Vec<&ProxyTarget> = targets
        .iter()
        .filter(|t| t.namespace == p.namespace && t.service == name)
        .collect();
    if mine.is_empty() {
        return Err(unavailable(&format!(
            "no endpoints available for service {name:?}"
        )));
    }
    // The endpoint port carries the Service port's name.
    let target = mine.iter().find(|t| {
        ports.iter().any(|sp| {
            sp["port"].as_i64() == Some(i64::from(t.port))
                && sp["name"].as_str().unwrap_or("") == port_name
        })
    });
    match target {
        Some(t) => Ok(join(&t.url, &p.rest)),
        None => Err(unavailable(&format!(
            "no endpoints available for service {:?}",
            p.id
        ))),
    }
}

/// `NewServiceUnavailable(message)`: 503, reason ServiceUnavailable, no details.
fn unavailable(message: &str) -> ApiError {
    ApiError::new(503, Some("ServiceUnavailable"), message, None)
}

fn join(base: &str, rest: &str) -> String {
    let base = base.trim_end_matches('/');
    if rest.is_empty() {
        format!("{base}/")
    } else {
        format!("{base}{rest}")
    }
}

/// Hop-by-hop headers (RFC 9110 7.6.1, and those Go's `httputil.ReverseProxy` removes), never
/// forwarded either way.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The headers to forward: all but hop-by-hop ones, those `Connection` names, and (for
/// requests) `Authorization`, which the real server's authentication filter removes once it
/// has authenticated the request.
pub fn forwarded_headers(headers: &HeaderMap, request: bool) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::new();
    for (k, v) in headers {
        let n = k.as_str();
        if HOP_BY_HOP.contains(&n)
            || named.iter().any(|c| c == n)
            || (request && (n == "authorization" || n == "host"))
        {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    out
}

/// The outcome of forwarding: the backend's streamed answer, or the Status for why it could
/// not be reached.
pub async fn forward(
    method: &Method,
    url: &str,
    query: &str,
    headers: &HeaderMap,
    forwarded_uri: &str,
    host: Option<&str>,
    body: Bytes,
) -> Result<Response<crate::server::RespBody>, ApiError> {
    let (authority, path) = split_url(url).ok_or_else(|| {
        status::internal(&format!(
            "proxy target {url:?} is not an http://host:port/path URL"
        ))
    })?;
    let reach =
        |e: &dyn std::fmt::Display| unavailable(&format!("error trying to reach service: {e}"));
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .map_err(|e| reach(&DialError(&authority, e)))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| reach(&e))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let target = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let mut req = hyper::Request::builder()
        .method(method.clone())
        .uri(target)
        .body(Full::new(body))
        .map_err(|e| status::internal(&e.to_string()))?;
    *req.headers_mut() = forwarded_headers(headers, true);
    let h = req.headers_mut();
    h.insert(
        hyper::header::HOST,
        HeaderValue::from_str(&authority).map_err(|e| status::internal(&e.to_string()))?,
    );
    // What the proxy Transport adds (apimachinery pkg/util/proxy/transport.go).
    if let Ok(v) = HeaderValue::from_str(forwarded_uri) {
        h.insert(HeaderName::from_static("x-forwarded-uri"), v);
    }
    if let Some(v) = host.and_then(|h| HeaderValue::from_str(h).ok()) {
        h.insert(HeaderName::from_static("x-forwarded-host"), v);
    }
    h.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static("http"),
    );
    let resp: Response<Incoming> = sender.send_request(req).await.map_err(|e| reach(&e))?;
    let (parts, body) = resp.into_parts();
    let mut out = Response::builder().status(parts.status);
    if let Some(h) = out.headers_mut() {
        *h = forwarded_headers(&parts.headers, false);
    }
    // Frames go to the client as the backend sends them (SSE event by event).
    let body = body.map_err(std::io::Error::other).boxed();
    out.body(body).map_err(|e| status::internal(&e.to_string()))
}

/// Go's dial error text: `dial tcp 127.0.0.1:9: connect: connection refused`.
struct DialError<'a>(&'a str, std::io::Error);

impl std::fmt::Display for DialError<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.1.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            _ => self.1.to_string(),
        };
        write!(f, "dial tcp {}: connect: {what}", self.0)
    }
}

/// `http://host:port/path` → (`host:port`, `/path`).
fn split_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Some((authority, path.to_string()))
}

/// Handles a request to a proxy path: resolves the target and forwards, answering what a real
/// server answers when something is missing. Also returns the status for the request log.
#[allow(clippy::too_many_arguments)]
pub async fn handle(
    shared: &Arc<Shared>,
    p: &ProxyPath,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response<crate::server::RespBody>, ApiError> {
    if !matches!(
        *method,
        Method::GET
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
            | Method::HEAD
            | Method::OPTIONS
    ) {
        return Err(status::method_not_allowed());
    }
    let url = resolve(shared, p)?;
    // The UpgradeAwareHandler redirects an empty proxied path to one ending in '/'.
    if p.rest.is_empty() {
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        return Response::builder()
            .status(301)
            .header("Location", format!("{path}/{q}"))
            .header("Content-Length", "0")
            .body(crate::server::empty())
            .map_err(|e| status::internal(&e.to_string()));
    }
    let host = headers.get("host").and_then(|v| v.to_str().ok());
    forward(method, &url, query, headers, path, host, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths() {
        let p = parse_path("/api/v1/namespaces/mcp/services/http:github:mcp/proxy/mcp").unwrap();
        assert_eq!(
            (p.namespace.as_str(), p.id.as_str(), p.rest.as_str()),
            ("mcp", "http:github:mcp", "/mcp")
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/mcp/services/github/proxy")
                .unwrap()
                .rest,
            ""
        );
        assert!(parse_path("/api/v1/namespaces/mcp/services/github").is_none());
        assert!(parse_path("/api/v1/namespaces/mcp/services/github/proxyx").is_none());
        assert!(parse_path("/api/v1/namespaces/mcp/pods/github/proxy/").is_none());
    }

    #[test]
    fn service_ids() {
        assert_eq!(split_scheme_name_port("web"), Some(("", "web", "")));
        assert_eq!(split_scheme_name_port("web:80"), Some(("", "web", "80")));
        assert_eq!(
            split_scheme_name_port("https:web:mcp"),
            Some(("https", "web", "mcp"))
        );
        assert_eq!(split_scheme_name_port("ftp:web:80"), None);
        assert_eq!(split_scheme_name_port(":80"), None);
        assert_eq!(split_scheme_name_port("a:b:c:d"), None);
    }

    #[test]
    fn hop_by_hop_and_authorization_are_not_forwarded() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer t"));
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-private"),
        );
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("mcp-session-id", HeaderValue::from_static("abc"));
        h.insert("accept", HeaderValue::from_static("text/event-stream"));
        let f = forwarded_headers(&h, true);
        let names: Vec<&str> = f.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, vec!["mcp-session-id", "accept"]);
        // Answers keep Authorization-like headers of their own (there are none to strip).
        assert!(forwarded_headers(&h, false).contains_key("authorization"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://127.0.0.1:8080"),
            Some(("127.0.0.1:8080".into(), "/".into()))
        );
        assert_eq!(
            split_url("http://localhost/base/"),
            Some(("localhost:80".into(), "/base/".into()))
        );
        assert_eq!(join("http://h:1/base/", "/mcp"), "http://h:1/base/mcp");
        assert_eq!(join("http://h:1", ""), "http://h:1/");
    }
}
