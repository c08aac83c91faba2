//! How smoke requests reach the MCP endpoint: directly over HTTP(S), or
//! through the Kubernetes API server's service proxy. Both hand back the
//! status, the headers and the body as a stream, so that an SSE answer can be
//! read only as far as the response.

use std::future::Future;

use futures::StreamExt;
use futures::stream::BoxStream;
use http::{HeaderMap, Method};

use super::FailureKind;
use crate::cluster::{Cluster, Req};
use crate::error::source_chain as chain;

/// An answer whose body is still to be read.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: BoxStream<'static, Result<Vec<u8>, String>>,
}

/// Why a request got no answer.
#[derive(Debug)]
pub struct SendError {
    pub kind: FailureKind,
    pub message: String,
}

pub trait Transport: Sync {
    /// Sends one request to the MCP endpoint with exactly these headers.
    fn send(
        &self,
        method: Method,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> impl Future<Output = Result<Reply, SendError>> + Send;
}

/// Straight to a URL, with reqwest on rustls and the process's ring provider.
#[derive(Debug)]
pub struct Direct {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl Direct {
    pub fn new(url: &str) -> Result<Direct, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL {url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("bad URL {url:?}: the scheme must be http or https"));
        }
        crate::cluster::client::install_crypto_provider();
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Direct {
            client,
            url: parsed,
        })
    }
}

impl Transport for Direct {
    async fn send(
        &self,
        method: Method,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, SendError> {
        let mut req = self.client.request(method, self.url.clone());
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.map_err(|e| SendError {
            kind: classify(&e),
            message: chain(&e),
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = futures::stream::unfold(Some(resp), |resp| async move {
            let mut resp = resp?;
            match resp.chunk().await {
                Ok(Some(b)) => Some((Ok(b.to_vec()), Some(resp))),
                Ok(None) => None,
                Err(e) => Some((Err(chain(&e)), None)),
            }
        })
        .boxed();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// Refused, TLS, timeout or another connection problem, from the error's sources.
fn classify(e: &reqwest::Error) -> FailureKind {
    if e.is_timeout() {
        return FailureKind::Timeout;
    }
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return FailureKind::Tls;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return FailureKind::ConnectionRefused;
            }
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return FailureKind::Tls;
            }
        }
        src = s.source();
    }
    let text = chain(e).to_lowercase();
    // rustls errors that arrive wrapped beyond downcasting, by their words.
    const TLS_WORDS: &[&str] = &[
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "alert",
    ];
    if TLS_WORDS.iter().any(|w| text.contains(w)) {
        FailureKind::Tls
    } else {
        FailureKind::Connection
    }
}

/// Through `/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH` of the API
/// server the cluster client talks to (its credentials, its TLS).
pub struct Proxy<'a> {
    pub cluster: &'a Cluster,
    pub path: String,
}

impl<'a> Proxy<'a> {
    /// `service` may carry a scheme (`https:NAME`) for a TLS backend.
    pub fn new(cluster: &'a Cluster, ns: &str, service: &str, port: u16, path: &str) -> Self {
        Proxy {
            cluster,
            path: proxy_path(ns, service, port, path),
        }
    }
}

/// The request for the proxy at `path`, as the cluster client sends it.
pub fn proxy_request(
    path: &str,
    method: Method,
    headers: &[(String, String)],
    body: Option<Vec<u8>>,
) -> Req {
    let mut req = Req::new(method, path);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.body = body;
    req
}

/// The service-proxy path of an MCP endpoint.
pub fn proxy_path(ns: &str, service: &str, port: u16, path: &str) -> String {
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    format!("/api/v1/namespaces/{ns}/services/{service}:{port}/proxy{path}")
}

impl Transport for Proxy<'_> {
    async fn send(
        &self,
        method: Method,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, SendError> {
        let req = proxy_request(&self.path, method, headers, body);
        let resp = self.cluster.send_raw(&req).await.map_err(|e| SendError {
            kind: FailureKind::Connection,
            message: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        let body = http_body_util::BodyStream::new(body)
            .filter_map(|frame| async move {
                match frame {
                    Ok(f) => f.into_data().ok().map(|d| Ok(d.to_vec())),
                    Err(e) => Some(Err(e.to_string())),
                }
            })
            .boxed();
        Ok(Reply {
            status,
            headers: parts.headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_path_names_service_port_and_path() {
        assert_eq!(
            proxy_path("mcp", "github", 8080, "/mcp"),
            "/api/v1/namespaces/mcp/services/github:8080/proxy/mcp"
        );
        assert_eq!(
            proxy_path("mcp", "https:github", 8443, "mcp/v1"),
            "/api/v1/namespaces/mcp/services/https:github:8443/proxy/mcp/v1"
        );
    }

    #[test]
    fn proxy_request_carries_method_headers_and_body() {
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Mcp-Session-Id".to_string(), "s1".to_string()),
        ];
        let req = proxy_request(
            "/api/v1/namespaces/mcp/services/github:8080/proxy/mcp",
            Method::POST,
            &headers,
            Some(b"{}".to_vec()),
        );
        assert_eq!(req.method, Method::POST);
        assert_eq!(
            req.uri(),
            "/api/v1/namespaces/mcp/services/github:8080/proxy/mcp"
        );
        assert_eq!(req.headers, headers);
        assert_eq!(req.body.as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn direct_rejects_other_schemes() {
        assert!(
            Direct::new("ftp://x/mcp")
                .unwrap_err()
                .contains("http or https")
        );
        assert!(Direct::new("not a url").unwrap_err().contains("bad URL"));
    }
}
