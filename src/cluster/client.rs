//! Connecting to the cluster: kubeconfig (`--kubeconfig`, `KUBECONFIG` merged
//! like kubectl, `~/.kube/config`), `--context`, in-cluster configuration, and
//! one request path with bounded retries that every cluster call goes through.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use http::{Method, Request};
use http_body_util::BodyExt;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use super::retry::{self, Attempt, RetryPolicy};
use crate::error::{Error, Result};

/// How to reach the cluster, from the global flags.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

impl ConnectOptions {
    pub fn from_global(g: &crate::cli::GlobalArgs) -> Self {
        ConnectOptions {
            kubeconfig: g.kubeconfig.clone(),
            context: g.context.clone(),
        }
    }
}

/// The server's `/version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    pub git_version: String,
}

impl ServerVersion {
    /// Parses a `/version` document; `minor` may carry a vendor suffix ("28+").
    pub fn from_json(v: &Value) -> Option<ServerVersion> {
        let num = |key: &str| -> Option<u32> {
            let s = v[key].as_str()?;
            let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        };
        let git_version = v["gitVersion"].as_str().unwrap_or("").to_string();
        match (num("major"), num("minor")) {
            (Some(major), Some(minor)) => Some(ServerVersion {
                major,
                minor,
                git_version,
            }),
            _ => {
                // Fall back on gitVersion "v1.28.7".
                let rest = git_version.strip_prefix('v')?;
                let mut parts = rest.split('.');
                let major = parts.next()?.parse().ok()?;
                let minor_s: String = parts
                    .next()?
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                Some(ServerVersion {
                    major,
                    minor: minor_s.parse().ok()?,
                    git_version,
                })
            }
        }
    }

    /// "1.28", the form `--kube-version` takes.
    pub fn short(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

/// A connected cluster: the client, where it points, and the server version.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    /// API server URL, for messages.
    pub url: String,
    /// Kubeconfig context name, or "in-cluster".
    pub context: String,
    /// Namespace of the context (or of the pod's service account).
    pub default_namespace: String,
    pub version: ServerVersion,
    pub retry: RetryPolicy,
    /// Plans ask the server (a dry run) about every object, even one whose
    /// "no change" can be decided locally (`MCPCTL_DRY_RUN_EVERY_OBJECT=1`):
    /// what `kubectl diff` does, for a cluster whose admission changes objects
    /// on every write.
    pub dry_run_every_object: bool,
    /// The API server's clock minus ours, in milliseconds, from the `Date`
    /// header of the latest answer ([`NO_OFFSET`] until one came), shared by
    /// clones: see [`Cluster::now`].
    clock_offset_ms: Arc<AtomicI64>,
}

/// `clock_offset_ms` before any answer carried a `Date`.
const NO_OFFSET: i64 = i64::MIN;

/// The server's clock minus ours, in milliseconds, from a `Date` header
/// received at `local`. A `Date` has whole seconds, so the server's time was
/// somewhere in `[date, date + 1 s)`: the middle is taken.
pub fn clock_offset_ms(date: &str, local: jiff::Timestamp) -> Option<i64> {
    static PARSER: jiff::fmt::rfc2822::DateTimeParser = jiff::fmt::rfc2822::DateTimeParser::new();
    let server = PARSER.parse_timestamp(date.trim()).ok()?;
    Some(server.as_millisecond() + 500 - local.as_millisecond())
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("url", &self.url)
            .field("context", &self.context)
            .field("version", &self.version)
            .finish()
    }
}

/// The kubeconfig files to read, in precedence order, like kubectl:
/// `--kubeconfig` alone if given; else every non-empty entry of `KUBECONFIG`;
/// else `~/.kube/config`.
pub fn kubeconfig_paths(
    explicit: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_path_buf()];
    }
    if let Some(v) = env {
        let paths: Vec<PathBuf> = std::env::split_paths(v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return paths;
        }
    }
    home.map(|h| vec![h.join(".kube").join("config")])
        .unwrap_or_default()
}

/// Reads and merges kubeconfig files: the first file to set a value or a named
/// entry (cluster, user, context) wins, as kubectl does. Files of a
/// `KUBECONFIG` list that do not exist are skipped (kubectl does too); an
/// explicit `--kubeconfig` that does not exist is an error. Returns `None` when
/// no file exists.
pub fn load_kubeconfig(paths: &[PathBuf], explicit: bool) -> Result<Option<Kubeconfig>> {
    let mut merged: Option<Kubeconfig> = None;
    for p in paths {
        if !p.exists() {
            if explicit {
                return Err(Error::Failed(format!(
                    "kubeconfig {} does not exist (from --kubeconfig)",
                    p.display()
                )));
            }
            continue;
        }
        let kc = Kubeconfig::read_from(p)
            .map_err(|e| Error::Failed(format!("cannot read kubeconfig {}: {e}", p.display())))?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| {
                Error::Failed(format!("cannot merge kubeconfig {}: {e}", p.display()))
            })?,
        });
    }
    Ok(merged)
}

/// Picks the context: `--context`, else `current-context`; it must exist.
pub fn choose_context(kc: &Kubeconfig, wanted: Option<&str>, files: &str) -> Result<String> {
    let name = match wanted
        .or(kc.current_context.as_deref())
        .filter(|s| !s.is_empty())
    {
        Some(n) => n.to_string(),
        None => {
            return Err(Error::Failed(format!(
                "no context selected: {files} has no current-context; pass --context NAME"
            )));
        }
    };
    if kc.contexts.iter().any(|c| c.name == name) {
        return Ok(name);
    }
    let available: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    Err(Error::Failed(format!(
        "context \"{name}\" not found in {files} (available: {})",
        if available.is_empty() {
            "none".to_string()
        } else {
            available.join(", ")
        }
    )))
}

/// Installs ring as the process-wide rustls provider (DESIGN §7: with two
/// providers compiled in, rustls cannot choose and building a client panics).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A multi-threaded runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}

fn running_in_pod() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists()
}

/// Connects: builds the client and reads `/version` once.
pub async fn connect(opts: &ConnectOptions) -> Result<Cluster> {
    install_crypto_provider();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let env = std::env::var_os("KUBECONFIG");
    let paths = kubeconfig_paths(opts.kubeconfig.as_deref(), env.as_deref(), home.as_deref());
    let kc = load_kubeconfig(&paths, opts.kubeconfig.is_some())?;
    let files = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");

    let (mut config, context) = match kc {
        Some(kc) => {
            let context = choose_context(&kc, opts.context.as_deref(), &files)?;
            let kopts = KubeConfigOptions {
                context: Some(context.clone()),
                ..Default::default()
            };
            let config = kube::Config::from_custom_kubeconfig(kc, &kopts)
                .await
                .map_err(|e| {
                    Error::Failed(format!("kubeconfig {files}, context \"{context}\": {e}"))
                })?;
            (config, context)
        }
        None if opts.context.is_none() && running_in_pod() => {
            let config = kube::Config::incluster()
                .map_err(|e| Error::Failed(format!("in-cluster configuration unusable: {e}")))?;
            (config, "in-cluster".to_string())
        }
        None => {
            return Err(Error::Failed(format!(
                "no kubeconfig found (looked for {}) and not running in a pod; \
                 pass --kubeconfig FILE or set KUBECONFIG",
                if files.is_empty() {
                    "~/.kube/config".to_string()
                } else {
                    files
                }
            )));
        }
    };
    // Retries are ours (bounded, logged, honouring Retry-After).
    config.default_retry = false;
    // API server audit logs attribute requests by User-Agent.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    let url = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let default_namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).map_err(|e| {
        if matches!(e, kube::Error::Auth(_)) {
            Error::Failed(format!(
                "cannot get credentials of context \"{context}\" for {url} (expired or not logged in?): {e}"
            ))
        } else {
            Error::Failed(format!("cannot build a client for {url} (context \"{context}\"): {e}"))
        }
    })?;
    let mut cluster = Cluster {
        client,
        url,
        context,
        default_namespace,
        version: ServerVersion {
            major: 0,
            minor: 0,
            git_version: String::new(),
        },
        retry: RetryPolicy::default(),
        dry_run_every_object: std::env::var("MCPCTL_DRY_RUN_EVERY_OBJECT")
            .is_ok_and(|v| v == "1" || v == "true"),
        clock_offset_ms: Arc::new(AtomicI64::new(NO_OFFSET)),
    };
    if let Ok(s) = std::env::var("MCPCTL_RETRY_ATTEMPTS")
        && let Ok(n) = s.parse::<u32>()
    {
        cluster.retry.max_attempts = n.max(1);
    }
    let v = cluster.get_json("/version").await?;
    cluster.version = ServerVersion::from_json(&v).ok_or_else(|| {
        Error::Failed(format!(
            "{} answered /version with an unexpected document: {v}",
            cluster.url
        ))
    })?;
    tracing::info!(
        "connected to {} (context {}), Kubernetes {}",
        cluster.url,
        cluster.context,
        cluster.version.git_version
    );
    Ok(cluster)
}

/// What every request to the API server says it comes from.
pub const USER_AGENT: &str = concat!("mcpctl/", env!("CARGO_PKG_VERSION"));

/// One API request, built once and sendable again on retry.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub content_type: Option<&'static str>,
    pub accept: Option<String>,
    /// Further headers, sent as given (they replace `Content-Type` and
    /// `Accept` when they name them).
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Req {
    pub fn new(method: Method, path: impl Into<String>) -> Req {
        Req {
            method,
            path: path.into(),
            query: Vec::new(),
            content_type: None,
            accept: None,
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn get(path: impl Into<String>) -> Req {
        Req::new(Method::GET, path)
    }
    pub fn query(mut self, k: &str, v: impl Into<String>) -> Req {
        self.query.push((k.to_string(), v.into()));
        self
    }
    pub fn json_body(mut self, v: &Value) -> Req {
        self.body = Some(serde_json::to_vec(v).expect("JSON values serialize"));
        if self.content_type.is_none() {
            self.content_type = Some("application/json");
        }
        self
    }
    pub fn content_type(mut self, ct: &'static str) -> Req {
        self.content_type = Some(ct);
        self
    }
    pub fn accept(mut self, a: impl Into<String>) -> Req {
        self.accept = Some(a.into());
        self
    }
    /// Whether sending the request twice has the effect of sending it once:
    /// reads, deletes, puts (guarded by resourceVersion), server-side
    /// applies and merge patches are; a create or a JSON patch (whose `test`
    /// operations would fail the second time) is not.
    pub fn idempotent(&self) -> bool {
        match self.method {
            Method::POST => false,
            Method::PATCH => self.content_type != Some("application/json-patch+json"),
            _ => true,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Path with the encoded query string.
    pub fn uri(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let q: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{}?{}", self.path, q.join("&"))
    }
    fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Percent-encodes a query component (everything but RFC 3986 unreserved).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The HTTP request for `req`.
fn build(req: &Req) -> Result<Request<kube::client::Body>> {
    let bad =
        |e: &dyn std::fmt::Display| Error::Failed(format!("bad request {}: {e}", req.describe()));
    let mut b = Request::builder().method(req.method.clone()).uri(req.uri());
    if let Some(ct) = req.content_type {
        b = b.header(http::header::CONTENT_TYPE, ct);
    }
    b = b.header(
        http::header::ACCEPT,
        req.accept.as_deref().unwrap_or("application/json"),
    );
    let body = kube::client::Body::from(req.body.clone().unwrap_or_default());
    let mut r = b.body(body).map_err(|e| bad(&e))?;
    for (k, v) in &req.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| bad(&e))?;
        let value = http::HeaderValue::from_str(v).map_err(|e| bad(&format!("header {k}: {e}")))?;
        r.headers_mut().insert(name, value);
    }
    Ok(r)
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Failed(format!(
                "the API server answered {} with a body that is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ))
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The `Status` body's message, or the body text.
    pub fn message(&self) -> String {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(v) if v["message"].is_string() => v["message"].as_str().unwrap_or("").to_string(),
            _ => self.text().trim().chars().take(300).collect(),
        }
    }
    /// The `Status` body's reason ("Conflict", "AlreadyExists", …).
    pub fn reason(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["reason"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

fn status_text(code: u16) -> String {
    let reason = http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason());
    match reason {
        Some(r) => format!("{code} {r}"),
        None => code.to_string(),
    }
}

impl Cluster {
    /// Now by the API server's clock (ours corrected by the offset seen in
    /// its `Date` headers; ours alone before any answer). Lease times are
    /// written and judged with it, so that holders whose clocks disagree still
    /// agree on when a lease expires.
    pub fn now(&self) -> jiff::Timestamp {
        let local = jiff::Timestamp::now();
        match self.clock_offset_ms.load(Ordering::Relaxed) {
            NO_OFFSET => local,
            ms => local
                .checked_add(jiff::SignedDuration::from_millis(ms))
                .unwrap_or(local),
        }
    }

    fn observe_date(&self, headers: &http::HeaderMap) {
        if let Some(ms) = headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|d| clock_offset_ms(d, jiff::Timestamp::now()))
        {
            self.clock_offset_ms.store(ms, Ordering::Relaxed);
        }
    }

    /// "the API server at URL (context C)", for messages.
    pub fn where_(&self) -> String {
        format!(
            "the API server at {} (context \"{}\")",
            self.url, self.context
        )
    }

    /// Sends a request once, returning the raw response (for streams).
    pub async fn send_raw(&self, req: &Req) -> Result<http::Response<kube::client::Body>> {
        let r = build(req)?;
        self.client
            .send(r)
            .await
            .map_err(|e| self.connection_error(req, &e))
    }

    fn connection_error(&self, req: &Req, e: &kube::Error) -> Error {
        let msg = crate::error::source_chain(e);
        let lower = msg.to_lowercase();
        if matches!(e, kube::Error::Auth(_))
            || lower.contains("auth")
            || lower.contains("exec plugin")
        {
            return Error::Failed(format!(
                "cannot get credentials of context \"{}\" for {}: {msg}; log in again or refresh them",
                self.context, self.url
            ));
        }
        Error::Failed(format!(
            "cannot reach {} ({}): {msg}; check that the cluster is up and that --kubeconfig, \
             KUBECONFIG and --context select the right one",
            self.where_(),
            req.describe()
        ))
    }

    /// Sends a request with bounded, jittered retries on 429 (honouring
    /// `Retry-After`), retryable 5xx and connection errors. Every other answer,
    /// success or not, is returned for the caller to interpret.
    pub async fn send(&self, req: &Req) -> Result<Resp> {
        let mut attempt = 1;
        loop {
            let outcome = match self.send_raw(req).await {
                Ok(res) => {
                    self.observe_date(res.headers());
                    let status = res.status().as_u16();
                    let retry_after = retry_after_of(res.headers());
                    match res.into_body().collect().await {
                        Ok(b) => Ok((status, retry_after, b.to_bytes().to_vec())),
                        Err(e) => Err(self.connection_error(req, &e)),
                    }
                }
                Err(e) => Err(e),
            };
            let (verdict, err) = match &outcome {
                Ok((status, retry_after, body)) => {
                    let body_s = String::from_utf8_lossy(body);
                    let a = Attempt::Answered {
                        status: *status,
                        retry_after: *retry_after,
                        body: &body_s,
                    };
                    (retry::is_retryable(&a), None)
                }
                Err(e) => (true, Some(e.to_string())),
            };
            // A write that is not idempotent (a create, a JSON patch) may
            // have been committed before its answer was lost: never sent
            // again blindly; the caller reads the object back first.
            if verdict && !req.idempotent() {
                let a = match &outcome {
                    Ok((status, _, _)) => Attempt::Answered {
                        status: *status,
                        retry_after: None,
                        body: "",
                    },
                    Err(_) => Attempt::ConnectionError,
                };
                if retry::may_have_committed(&a) {
                    return Err(Error::Uncertain(format!(
                        "{} {} on {}: {}; it may or may not have been applied",
                        req.method,
                        req.path,
                        self.where_(),
                        err.unwrap_or_else(|| match &outcome {
                            Ok((status, _, body)) => format!(
                                "answered {}: {}",
                                status_text(*status),
                                String::from_utf8_lossy(body)
                                    .chars()
                                    .take(200)
                                    .collect::<String>()
                            ),
                            Err(_) => String::new(),
                        })
                    )));
                }
            }
            if !verdict || attempt >= self.retry.max_attempts {
                return match outcome {
                    Ok((status, _, body)) => {
                        let resp = Resp { status, body };
                        if attempt > 1
                            && retry::is_retryable(&Attempt::Answered {
                                status,
                                retry_after: None,
                                body: &resp.text(),
                            })
                        {
                            return Err(Error::Failed(format!(
                                "{} answered {} {} with {} after {attempt} attempts: {}",
                                self.where_(),
                                req.method,
                                req.path,
                                status_text(status),
                                resp.message()
                            )));
                        }
                        Ok(resp)
                    }
                    Err(e) => Err(if attempt > 1 {
                        Error::Failed(format!("{e} (after {attempt} attempts)"))
                    } else {
                        e
                    }),
                };
            }
            attempt += 1;
            let retry_after = outcome.as_ref().ok().and_then(|(_, ra, _)| *ra);
            let why = match (&outcome, err) {
                (Ok((status, _, _)), _) => status_text(*status),
                (_, Some(e)) => e,
                _ => String::new(),
            };
            self.wait_to_retry(req, attempt, retry_after, &why).await;
        }
    }

    /// Sends a create (`req`, a POST) of the object at `object_path`. When
    /// the answer is lost (the create may have been committed), reads the
    /// object back before sending again: an object found there is answered
    /// as a 409 carrying it, for the caller to judge whether it is its own.
    pub async fn create(&self, req: &Req, object_path: &str) -> Result<Resp> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.send(req).await {
                Err(Error::Uncertain(why)) if tries < self.retry.max_attempts => {
                    tracing::info!("{why}; reading {object_path} before sending it again");
                    let get = self.send(&Req::get(object_path)).await?;
                    match get.status {
                        404 => continue,
                        s if (200..300).contains(&s) => {
                            return Ok(Resp {
                                status: 409,
                                body: get.body,
                            });
                        }
                        _ => return Err(self.api_error(&Req::get(object_path), &get)),
                    }
                }
                other => return other,
            }
        }
    }

    /// Sends and requires a 2xx answer, returning its JSON.
    pub async fn send_ok(&self, req: &Req) -> Result<Value> {
        let resp = self.send(req).await?;
        if !resp.ok() {
            return Err(self.api_error(req, &resp));
        }
        resp.json()
    }

    pub async fn get_json(&self, path: &str) -> Result<Value> {
        self.send_ok(&Req::get(path)).await
    }

    /// A one-line error for an unexpected answer, with a hint for the common ones.
    pub fn api_error(&self, req: &Req, resp: &Resp) -> Error {
        let hint = match resp.status {
            401 => format!(
                "; the credentials of context \"{}\" were rejected (expired?): log in again or refresh them",
                self.context
            ),
            403 => format!(
                "; the user of context \"{}\" lacks permission for this: `mcpctl rbac` prints the \
                 Role a CI identity needs",
                self.context
            ),
            _ => String::new(),
        };
        Error::Failed(format!(
            "{} answered {} {} with {}: {}{hint}",
            self.where_(),
            req.method,
            req.path,
            status_text(resp.status),
            resp.message()
        ))
    }

    /// Lists every object at `path` matching `label_selector`, following
    /// `continue` tokens (pages of 500, like kubectl).
    pub async fn list(&self, path: &str, label_selector: Option<&str>) -> Result<Vec<Value>> {
        let mut req = Req::get(path);
        if let Some(s) = label_selector {
            req = req.query("labelSelector", s);
        }
        match self.list_pages(&req).await? {
            Ok(items) => Ok(items),
            Err(resp) => Err(self.api_error(&req, &resp)),
        }
    }

    /// Lists every object `base` (a GET with its selectors) asks for, in pages
    /// of 500 following `continue` tokens, as kubectl does: no answer holds
    /// more than 500 objects, however large the fleet, which spares the API
    /// server's memory. A page answered with anything but success ends the
    /// listing with that answer, for the caller to read (the 404 of a CRD that
    /// is not installed, a 403).
    pub async fn list_pages(&self, base: &Req) -> Result<std::result::Result<Vec<Value>, Resp>> {
        let mut items = Vec::new();
        let mut cont: Option<String> = None;
        loop {
            let mut req = base.clone().query("limit", "500");
            if let Some(c) = &cont {
                req = req.query("continue", c.clone());
            }
            let resp = self.send(&req).await?;
            if !resp.ok() {
                return Ok(Err(resp));
            }
            let mut v = resp.json()?;
            if let Some(Value::Array(arr)) = v.get_mut("items").map(Value::take) {
                items.extend(arr);
            }
            match v["metadata"]["continue"].as_str() {
                Some(c) if !c.is_empty() => cont = Some(c.to_string()),
                _ => return Ok(Ok(items)),
            }
        }
    }

    /// A streaming GET (watch); the status is checked, the body left unread.
    pub async fn stream(&self, req: &Req) -> Result<kube::client::Body> {
        let mut attempt = 1;
        loop {
            let (retry_after, why) = match self.send_raw(req).await {
                Ok(res) if res.status().is_success() => return Ok(res.into_body()),
                Ok(res) => {
                    self.observe_date(res.headers());
                    let status = res.status().as_u16();
                    let retry_after = retry_after_of(res.headers());
                    let body = res
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes().to_vec())
                        .unwrap_or_default();
                    let resp = Resp { status, body };
                    let a = Attempt::Answered {
                        status,
                        retry_after,
                        body: &resp.text(),
                    };
                    if !retry::is_retryable(&a) || attempt >= self.retry.max_attempts {
                        return Err(self.api_error(req, &resp));
                    }
                    (retry_after, status_text(status))
                }
                Err(e) if attempt >= self.retry.max_attempts => return Err(e),
                Err(e) => (None, e.to_string()),
            };
            attempt += 1;
            self.wait_to_retry(req, attempt, retry_after, &why).await;
        }
    }

    /// Waits before try `attempt` (jittered backoff, or the server's
    /// `Retry-After`), logging why at info level.
    async fn wait_to_retry(
        &self,
        req: &Req,
        attempt: u32,
        retry_after: Option<Duration>,
        why: &str,
    ) {
        let delay = self
            .retry
            .delay(attempt, retry_after, rand::random::<f64>());
        tracing::info!(
            "retrying {} after {why} (attempt {attempt}/{}, in {:.1}s)",
            req.describe(),
            self.retry.max_attempts,
            delay.as_secs_f64()
        );
        tokio::time::sleep(delay).await;
    }
}

/// The `Retry-After` of an answer, when it has one `retry` understands.
fn retry_after_of(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry::parse_retry_after)
}

/// Default timeouts of streams.
pub const WATCH_TIMEOUT: Duration = Duration::from_secs(290);

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const A: &str = "apiVersion: v1
kind: Config
current-context: a
clusters:
- name: shared
  cluster: {server: https://a.example:6443}
contexts:
- name: a
  context: {cluster: shared, user: ua, namespace: team-a}
- name: both
  context: {cluster: shared, user: ua}
users:
- name: ua
  user: {token: aaa}
";
    const B: &str = "apiVersion: v1
kind: Config
current-context: b
clusters:
- name: shared
  cluster: {server: https://b.example:6443}
- name: bonly
  cluster: {server: https://bonly.example:6443}
contexts:
- name: b
  context: {cluster: bonly, user: ub}
- name: both
  context: {cluster: bonly, user: ub}
users:
- name: ub
  user: {token: bbb}
";

    #[test]
    fn kubeconfig_paths_follow_kubectl_precedence() {
        let home = Path::new("/home/u");
        let explicit = Path::new("/x/config");
        assert_eq!(
            kubeconfig_paths(Some(explicit), Some(OsStr::new("/a:/b")), Some(home)),
            vec![PathBuf::from("/x/config")]
        );
        assert_eq!(
            kubeconfig_paths(None, Some(OsStr::new("/a::/b")), Some(home)),
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(
            kubeconfig_paths(None, Some(OsStr::new("")), Some(home)),
            vec![PathBuf::from("/home/u/.kube/config")]
        );
        assert_eq!(kubeconfig_paths(None, None, None), Vec::<PathBuf>::new());
    }

    #[test]
    fn merge_first_file_wins_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", A);
        let b = write(dir.path(), "b", B);
        let missing = dir.path().join("missing");
        let kc = load_kubeconfig(&[a, missing, b], false).unwrap().unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("a"));
        let server = |name: &str| {
            kc.clusters
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .cluster
                .as_ref()
                .unwrap()
                .server
                .clone()
        };
        assert_eq!(server("shared").as_deref(), Some("https://a.example:6443"));
        assert_eq!(
            server("bonly").as_deref(),
            Some("https://bonly.example:6443")
        );
        let both = kc.contexts.iter().find(|c| c.name == "both").unwrap();
        assert_eq!(both.context.as_ref().unwrap().cluster, "shared");
        assert_eq!(kc.contexts.len(), 3);
        assert_eq!(choose_context(&kc, None, "f").unwrap(), "a");
        assert_eq!(choose_context(&kc, Some("b"), "f").unwrap(), "b");
    }

    #[test]
    fn missing_context_names_the_available_ones() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", A);
        let kc = load_kubeconfig(std::slice::from_ref(&a), true)
            .unwrap()
            .unwrap();
        let e = choose_context(&kc, Some("prod"), "cfg")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "context \"prod\" not found in cfg (available: a, both)");
    }

    #[test]
    fn explicit_missing_file_is_an_error_but_env_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(load_kubeconfig(std::slice::from_ref(&missing), true).is_err());
        assert!(load_kubeconfig(&[missing], false).unwrap().is_none());
    }

    #[test]
    fn server_version_parses_vendor_minor() {
        let v = serde_json::json!({"major": "1", "minor": "28+", "gitVersion": "v1.28.7-gke.1"});
        let sv = ServerVersion::from_json(&v).unwrap();
        assert_eq!((sv.major, sv.minor), (1, 28));
        assert_eq!(sv.short(), "1.28");
        let v = serde_json::json!({"gitVersion": "v1.31.2"});
        assert_eq!(ServerVersion::from_json(&v).unwrap().short(), "1.31");
    }

    #[test]
    fn clock_offset_from_date_header() {
        let local: jiff::Timestamp = "2026-11-21T07:00:00.250Z".parse().unwrap();
        // The server is 40 s ahead; its Date says 07:00:40 (anywhere in that second).
        assert_eq!(
            clock_offset_ms("Sat, 21 Nov 2026 07:00:40 GMT", local),
            Some(40_250)
        );
        // And 90 s behind.
        assert_eq!(
            clock_offset_ms("Sat, 21 Nov 2026 06:58:30 GMT", local),
            Some(-89_750)
        );
        assert_eq!(clock_offset_ms("yesterday", local), None);
    }

    /// A watch refused with 429 is tried again after the server's
    /// `Retry-After`, like every other request.
    #[tokio::test]
    async fn a_watch_honours_retry_after() {
        let srv = test_apiserver::ApiServer::builder().start().await;
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        srv.write_kubeconfig(&kc, "test", "default");
        let cluster = connect(&ConnectOptions {
            kubeconfig: Some(kc),
            context: None,
        })
        .await
        .unwrap();
        srv.inject(test_apiserver::Fault::new(
            Some(test_apiserver::Method::GET),
            "/api/v1/namespaces/default/configmaps",
            1,
            test_apiserver::FaultAction::TooManyRequests {
                retry_after_secs: 2,
            },
        ));
        let started = std::time::Instant::now();
        let req = Req::get("/api/v1/namespaces/default/configmaps")
            .query("watch", "true")
            .query("timeoutSeconds", "1");
        cluster.stream(&req).await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "retried after {:?}",
            started.elapsed()
        );
        let watches = srv.requests().iter().filter(|r| r.is_watch()).count();
        assert_eq!(watches, 2);
    }

    #[test]
    fn extra_headers_are_sent_and_replace_accept() {
        let req = Req::get("/x")
            .header("Mcp-Session-Id", "abc")
            .header("Accept", "application/json, text/event-stream");
        let r = build(&req).unwrap();
        assert_eq!(r.headers()["mcp-session-id"], "abc");
        let accepts: Vec<_> = r.headers().get_all("accept").iter().collect();
        assert_eq!(accepts, ["application/json, text/event-stream"]);
        let bad = Req::get("/x").header("bad header", "v");
        assert!(
            build(&bad)
                .unwrap_err()
                .to_string()
                .contains("bad request GET /x")
        );
    }

    #[test]
    fn query_encoding() {
        let r = Req::get("/api/v1/configmaps").query("labelSelector", "a.io/name=x,b in (c)");
        assert_eq!(
            r.uri(),
            "/api/v1/configmaps?labelSelector=a.io%2Fname%3Dx%2Cb%20in%20%28c%29"
        );
    }

    #[test]
    fn creates_and_json_patches_are_not_idempotent() {
        assert!(!Req::new(Method::POST, "/x").idempotent());
        assert!(
            !Req::new(Method::PATCH, "/x")
                .content_type("application/json-patch+json")
                .idempotent()
        );
        assert!(
            Req::new(Method::PATCH, "/x")
                .content_type("application/apply-patch+yaml")
                .idempotent()
        );
        assert!(
            Req::new(Method::PATCH, "/x")
                .content_type("application/merge-patch+json")
                .idempotent()
        );
        assert!(Req::get("/x").idempotent() && Req::new(Method::DELETE, "/x").idempotent());
    }
}
