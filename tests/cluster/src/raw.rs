//! Plain HTTP exchanges with an API server through a kube client: the status code, headers and
//! body as the server sent them, errors included (kube's typed calls turn those into `Err`).

use http_body_util::BodyExt;
use serde_json::Value;

/// One answer of the API server.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    /// The body as JSON, or `Value::String` of the text when it is not JSON.
    pub body: Value,
}

impl Answer {
    /// The `Warning` headers' texts.
    pub fn warnings(&self) -> Vec<String> {
        self.headers
            .get_all("warning")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }
}

/// Sends `method path` with `body` (as `content_type`) and returns whatever came back.
pub async fn send(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: Option<&Value>,
) -> Result<Answer, String> {
    send_accepting(client, method, path, content_type, "application/json", body).await
}

/// [`send`] with an `Accept` header of the caller's (aggregated discovery, say).
pub async fn send_accepting(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: &str,
    accept: &str,
    body: Option<&Value>,
) -> Result<Answer, String> {
    let bytes = match body {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(v) => serde_json::to_vec(v).expect("JSON"),
        None => Vec::new(),
    };
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("accept", accept);
    if body.is_some() {
        req = req.header("content-type", content_type);
    }
    let req = req
        .body(kube::client::Body::from(bytes))
        .map_err(|e| format!("bad request {method} {path}: {e}"))?;
    let resp = client
        .send(req)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{method} {path}: reading the answer: {e}"))?
        .to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok(Answer {
        status,
        headers,
        body,
    })
}
