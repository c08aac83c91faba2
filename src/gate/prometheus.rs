//! A small typed client for Prometheus instant queries (`GET /api/v1/query`).
//!
//! Every way a query can go wrong is its own [`QueryErrorKind`], because the
//! analysis reports them as such (and counts every one as a failed sample):
//! unreachable, timeout, HTTP 4xx/5xx, `status: error` (with Prometheus's
//! `errorType` and `error`), a body that is not the API's JSON, and a result
//! that is neither a vector nor a scalar. Values are parsed with
//! `str::parse::<f64>`, which reads Prometheus's `NaN`, `+Inf` and `-Inf`.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use mcpctl::gate::prometheus::{Auth, Client, Options};
//! let client = Client::new(&Options {
//!     url: "http://prometheus.monitoring:9090".into(),
//!     timeout: std::time::Duration::from_secs(10),
//!     auth: Auth::Bearer("token".into()),
//!     ca_file: None,
//! })?;
//! let result = client.query("sum(up)").await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::cluster::Cluster;
use crate::error::source_chain as chain;

/// How the client authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
    /// `Authorization: Basic ...`.
    Basic {
        user: String,
        password: String,
    },
}

impl fmt::Debug for Auth {
    /// Never prints a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

/// Where a bearer token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// The value itself (a flag).
    Value(String),
    /// An environment variable of this name.
    Env(String),
    /// A key of a Kubernetes Secret.
    Secret {
        namespace: String,
        name: String,
        key: String,
    },
}

/// Reads the token from its source. The Secret is read through `cluster`
/// (needed only for [`TokenSource::Secret`]). Surrounding whitespace is
/// dropped: a token file written with `echo` ends with a newline.
pub async fn token(source: &TokenSource, cluster: Option<&Cluster>) -> Result<String, String> {
    let raw = match source {
        TokenSource::Value(v) => v.clone(),
        TokenSource::Env(name) => std::env::var(name).map_err(|e| {
            format!("the Prometheus token variable `{name}` cannot be read ({e}): export it, or pass the token another way")
        })?,
        TokenSource::Secret {
            namespace,
            name,
            key,
        } => {
            let cluster = cluster.ok_or_else(|| {
                format!("reading the Prometheus token from Secret {namespace}/{name} needs a cluster connection")
            })?;
            let secret = cluster
                .get_json(&format!("/api/v1/namespaces/{namespace}/secrets/{name}"))
                .await
                .map_err(|e| format!("cannot read the Prometheus token Secret {namespace}/{name}: {e}"))?;
            secret_value(&secret, namespace, name, key)?
        }
    };
    let t = raw.trim();
    if t.is_empty() {
        return Err(format!(
            "the Prometheus token from {} is empty",
            describe(source)
        ));
    }
    Ok(t.to_string())
}

fn describe(source: &TokenSource) -> String {
    match source {
        TokenSource::Value(_) => "the flag".into(),
        TokenSource::Env(n) => format!("variable `{n}`"),
        TokenSource::Secret {
            namespace,
            name,
            key,
        } => format!("Secret {namespace}/{name} key `{key}`"),
    }
}

/// The decoded value of `key` in a Secret object (from `data`, base64).
pub fn secret_value(
    secret: &Value,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<String, String> {
    use base64::Engine as _;
    let Some(data) = secret["data"].as_object() else {
        return Err(format!(
            "Secret {namespace}/{name} has no data; add the key `{key}`"
        ));
    };
    let Some(encoded) = data.get(key).and_then(Value::as_str) else {
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        return Err(format!(
            "Secret {namespace}/{name} has no key `{key}`; its keys are: {}",
            if keys.is_empty() {
                "(none)".to_string()
            } else {
                keys.join(", ")
            }
        ));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("Secret {namespace}/{name} key `{key}` is not base64: {e}"))?;
    String::from_utf8(bytes)
        .map_err(|_| format!("Secret {namespace}/{name} key `{key}` is not UTF-8 text"))
}

/// How to reach Prometheus.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL (`http://prometheus.monitoring:9090`, or with a path prefix).
    pub url: String,
    /// For the whole request, connection included.
    pub timeout: Duration,
    pub auth: Auth,
    /// PEM file with the CA(s) that sign Prometheus's certificate, trusted
    /// besides the built-in roots.
    pub ca_file: Option<PathBuf>,
}

/// One series of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The result of an instant query of a type the analysis can judge.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    Vector(Vec<Series>),
    Scalar(f64),
}

/// What went wrong with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryErrorKind {
    /// No connection (refused, DNS, TLS, reset).
    Unreachable,
    /// No answer within the timeout.
    Timeout,
    /// An HTTP error status without a Prometheus error body.
    Http(u16),
    /// `status: error`: Prometheus's `errorType` (`bad_data` for a bad query,
    /// `timeout`, `execution`...); the HTTP status it came with.
    Prometheus { error_type: String, status: u16 },
    /// The body is not the query API's JSON.
    BadJson,
    /// A result type the analysis cannot judge (`matrix`, `string`).
    UnexpectedType(String),
    /// A vector of this many series where the analysis expects one.
    SeveralSeries(usize),
    /// The sample holds no answer to this query (it was not sent).
    NotTaken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub kind: QueryErrorKind,
    /// What happened, naming the Prometheus URL.
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

impl QueryError {
    /// A short name of the kind, for tables and events.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            QueryErrorKind::Unreachable => "unreachable",
            QueryErrorKind::Timeout => "timeout",
            QueryErrorKind::Http(_) => "http error",
            QueryErrorKind::Prometheus { .. } => "query error",
            QueryErrorKind::BadJson => "bad response",
            QueryErrorKind::UnexpectedType(_) => "unexpected result type",
            QueryErrorKind::SeveralSeries(_) => "several series",
            QueryErrorKind::NotTaken => "not taken",
        }
    }
}

/// A Prometheus HTTP API client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    auth: Auth,
}

impl Client {
    pub fn new(opts: &Options) -> Result<Client, String> {
        let base = reqwest::Url::parse(&opts.url)
            .map_err(|e| format!("bad Prometheus URL {:?}: {e}", opts.url))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!(
                "bad Prometheus URL {:?}: the scheme must be http or https",
                opts.url
            ));
        }
        let endpoint = endpoint(&base);
        crate::cluster::client::install_crypto_provider();
        let mut builder = reqwest::Client::builder().timeout(opts.timeout);
        if let Some(path) = &opts.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                format!("cannot read the Prometheus CA file {}: {e}", path.display())
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                format!(
                    "the Prometheus CA file {} is not PEM certificates: {}",
                    path.display(),
                    chain(&e)
                )
            })?;
            if certs.is_empty() {
                return Err(format!(
                    "the Prometheus CA file {} holds no certificate",
                    path.display()
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client for Prometheus: {}", chain(&e)))?;
        Ok(Client {
            http,
            endpoint,
            auth: opts.auth.clone(),
        })
    }

    /// The query endpoint, `<url>/api/v1/query`.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Runs one instant query at the server's current time.
    pub async fn query(&self, promql: &str) -> Result<QueryResult, QueryError> {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut().append_pair("query", promql);
        let mut req = self.http.get(url);
        req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
        };
        let at = self.endpoint.as_str();
        let resp = req.send().await.map_err(|e| transport_error(at, &e))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| transport_error(at, &e))?;
        parse_response(at, status, &body)
    }
}

fn endpoint(base: &reqwest::Url) -> reqwest::Url {
    let mut u = base.clone();
    let path = format!("{}/api/v1/query", base.path().trim_end_matches('/'));
    u.set_path(&path);
    u.set_query(None);
    u
}

fn transport_error(at: &str, e: &reqwest::Error) -> QueryError {
    if e.is_timeout() {
        QueryError {
            kind: QueryErrorKind::Timeout,
            message: format!("Prometheus at {at} did not answer in time: {}", chain(e)),
        }
    } else {
        QueryError {
            kind: QueryErrorKind::Unreachable,
            message: format!(
                "Prometheus at {at} is unreachable: {}; check `prometheus.url` and that it is reachable from here",
                chain(e)
            ),
        }
    }
}

/// Turns an answer of `/api/v1/query` into a result or the error it reports.
pub fn parse_response(at: &str, status: u16, body: &[u8]) -> Result<QueryResult, QueryError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    // Prometheus answers errors with a JSON body and 400, 422 or 503.
    if let Some(v) = &json
        && v["status"] == "error"
    {
        let error_type = v["errorType"].as_str().unwrap_or("unknown").to_string();
        let error = v["error"].as_str().unwrap_or("(no message)");
        return Err(QueryError {
            message: format!(
                "Prometheus at {at} rejected the query ({error_type}, HTTP {status}): {error}"
            ),
            kind: QueryErrorKind::Prometheus { error_type, status },
        });
    }
    if !(200..300).contains(&status) {
        return Err(QueryError {
            kind: QueryErrorKind::Http(status),
            message: format!(
                "Prometheus at {at} answered HTTP {status}: {}",
                snippet(body)
            ),
        });
    }
    let bad = |why: String| QueryError {
        kind: QueryErrorKind::BadJson,
        message: format!("Prometheus at {at} sent a response that is not the query API's: {why}"),
    };
    let Some(v) = json else {
        return Err(bad(format!("not JSON: {}", snippet(body))));
    };
    if v["status"] != "success" {
        return Err(bad(format!("`status` is {}", v["status"])));
    }
    let data = &v["data"];
    match data["resultType"].as_str() {
        Some("vector") => {
            let items = data["result"]
                .as_array()
                .ok_or_else(|| bad("`data.result` of a vector is not a list".into()))?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let labels = item["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                let value = sample_value(&item["value"]).map_err(bad)?;
                out.push(Series { labels, value });
            }
            Ok(QueryResult::Vector(out))
        }
        Some("scalar") => Ok(QueryResult::Scalar(
            sample_value(&data["result"]).map_err(bad)?,
        )),
        Some(other) => Err(QueryError {
            kind: QueryErrorKind::UnexpectedType(other.to_string()),
            message: format!(
                "Prometheus at {at} returned a {other}, but an analysis query must return an instant vector or a scalar (a range selector such as `x[5m]` needs `rate()` or another function)"
            ),
        }),
        None => Err(bad("no `data.resultType`".into())),
    }
}

/// `[<unix time>, "<value>"]`.
fn sample_value(v: &Value) -> Result<f64, String> {
    let text = v
        .get(1)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a sample is not `[time, \"value\"]`: {v}"))?;
    text.parse::<f64>()
        .map_err(|_| format!("sample value {text:?} is not a number"))
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    if t.is_empty() {
        return "(empty body)".into();
    }
    let cut: String = t.chars().take(200).collect();
    if cut.len() < t.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: &str = "http://p/api/v1/query";

    #[test]
    fn endpoint_keeps_a_path_prefix() {
        let u = reqwest::Url::parse("http://p:9090/prom/").unwrap();
        assert_eq!(endpoint(&u).as_str(), "http://p:9090/prom/api/v1/query");
        let u = reqwest::Url::parse("http://p:9090").unwrap();
        assert_eq!(endpoint(&u).as_str(), "http://p:9090/api/v1/query");
    }

    #[test]
    fn parses_vectors_with_special_values() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"track":"canary"},"value":[1.5,"0.25"]},
            {"metric":{},"value":[1.5,"NaN"]},
            {"metric":{},"value":[1.5,"+Inf"]},
            {"metric":{},"value":[1.5,"-Inf"]}]}}"#;
        let QueryResult::Vector(s) = parse_response(AT, 200, body).unwrap() else {
            panic!()
        };
        assert_eq!(s[0].value, 0.25);
        assert_eq!(s[0].labels["track"], "canary");
        assert!(s[1].value.is_nan());
        assert_eq!(s[2].value, f64::INFINITY);
        assert_eq!(s[3].value, f64::NEG_INFINITY);
    }

    #[test]
    fn parses_scalars() {
        let body = br#"{"status":"success","data":{"resultType":"scalar","result":[1,"3"]}}"#;
        assert_eq!(
            parse_response(AT, 200, body).unwrap(),
            QueryResult::Scalar(3.0)
        );
    }

    #[test]
    fn status_error_carries_type_and_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        let e = parse_response(AT, 400, body).unwrap_err();
        assert_eq!(
            e.kind,
            QueryErrorKind::Prometheus {
                error_type: "bad_data".into(),
                status: 400
            }
        );
        assert!(e.message.contains("parse error at char 5"), "{e}");
    }

    #[test]
    fn http_errors_without_a_prometheus_body() {
        let e = parse_response(AT, 502, b"<html>bad gateway</html>").unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::Http(502));
        assert!(e.message.contains("bad gateway"), "{e}");
        let e = parse_response(AT, 401, b"").unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::Http(401));
    }

    #[test]
    fn bad_json_and_bad_shapes() {
        for body in [
            &b"not json"[..],
            br#"{"status":"success"}"#,
            br#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"x"]}]}}"#,
            br#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1]}]}}"#,
        ] {
            let e = parse_response(AT, 200, body).unwrap_err();
            assert_eq!(e.kind, QueryErrorKind::BadJson, "{e}");
        }
    }

    #[test]
    fn matrix_and_string_are_unexpected_types() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        let e = parse_response(AT, 200, body).unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::UnexpectedType("matrix".into()));
        assert!(e.message.contains("rate()"), "{e}");
    }

    #[test]
    fn secret_values_are_decoded_and_missing_keys_named() {
        let s = serde_json::json!({"data": {"token": "c2VjcmV0Cg==", "other": ""}});
        assert_eq!(
            secret_value(&s, "mon", "prom", "token").unwrap(),
            "secret\n"
        );
        let e = secret_value(&s, "mon", "prom", "tokn").unwrap_err();
        assert!(
            e.contains("no key `tokn`") && e.contains("token, other"),
            "{e}"
        );
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let a = Auth::Basic {
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("t0k".into())).contains("t0k"));
    }

    #[test]
    fn client_rejects_bad_urls_and_ca_files() {
        let opts = |url: &str, ca: Option<PathBuf>| Options {
            url: url.into(),
            timeout: Duration::from_secs(1),
            auth: Auth::None,
            ca_file: ca,
        };
        assert!(
            Client::new(&opts("ftp://x", None))
                .unwrap_err()
                .contains("http or https")
        );
        let e = Client::new(&opts("http://x", Some("/nonexistent/ca.pem".into()))).unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
