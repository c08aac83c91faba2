//! A real Prometheus for mcpctl's analysis tests.
//!
//! [`Prometheus::shared`] starts, once per test binary, the Debian `prometheus` binary on a free
//! loopback port with a 1 s scrape interval, scraping a small HTTP metrics endpoint served from
//! this process. A test decides the traffic a server's track "has" with
//! [`Prometheus::set_traffic`] (requests per second, share of HTTP 5xx, share of JSON-RPC
//! errors); the endpoint serves `mcp_requests_total` counters that grow at those rates, with the
//! labels mcpctl's ServiceMonitor puts on the series (`namespace`, `mcp_server`, `track`, `code`,
//! and `jsonrpc_error="true"` for JSON-RPC errors). [`Prometheus::set_latency`] adds the
//! `mcp_request_duration_seconds` histogram and [`Prometheus::set_sessions`] the
//! `mcp_active_sessions` gauge, for the dashboard's panels. Tests use their own server names, so
//! they share the one Prometheus without seeing each other's series.
//!
//! Waiting for data waits for a condition on a query ([`Prometheus::wait_for`]), never for a
//! fixed time. Nothing outlives the test binary, whether it ends normally, panics or is killed:
//! Prometheus is started with a parent-death signal from a thread that lives as long as the
//! process, and a reaper shell kills it and removes its directory when the process is gone (see
//! `test_cluster::process`).
//!
//! ```no_run
//! use test_prometheus::{Prometheus, Traffic};
//! let prom = Prometheus::shared();
//! prom.set_traffic("ns", "github", "canary", Traffic { rps: 20.0, http_errors: 0.5, jsonrpc_errors: 0.0 });
//! prom.wait_for("canary requests", "sum(increase(mcp_requests_total{mcp_server=\"github\"}[10s]))",
//!               std::time::Duration::from_secs(60), |v| v.first().is_some_and(|v| *v >= 20.0));
//! // query prom.url() with mcpctl's client...
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use test_cluster::process::{Component, Reaper, free_port, tail, wait_until};

/// How long Prometheus may take to start on a loaded machine.
const START_DEADLINE: Duration = Duration::from_secs(120);

/// The traffic one track of one server receives, as the metrics endpoint reports it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Traffic {
    /// Requests per second.
    pub rps: f64,
    /// Share of requests answered with HTTP 500.
    pub http_errors: f64,
    /// Share of requests answered with HTTP 200 carrying a JSON-RPC error.
    pub jsonrpc_errors: f64,
}

/// One counter that grows at a rate set by the test: `base + rate × (now − since)`.
#[derive(Debug, Clone, Copy)]
struct Counter {
    base: f64,
    rate: f64,
    since: Instant,
}

impl Counter {
    fn value(&self, now: Instant) -> f64 {
        self.base + self.rate * now.duration_since(self.since).as_secs_f64()
    }
}

/// Metric name and series labels (in exposition order) → counter (a gauge is a counter at rate 0).
type Registry = BTreeMap<(String, Labels), Counter>;
/// Label pairs of a series, in exposition order.
type Labels = Vec<(String, String)>;

const REQUESTS: &str = "mcp_requests_total";
/// Upper bounds of the latency histogram's buckets, in seconds (`+Inf` is added).
const BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The running Prometheus of this test binary.
pub struct Prometheus {
    url: String,
    dir: PathBuf,
    registry: Arc<Mutex<Registry>>,
    secured: Option<Secured>,
}

/// How to reach a Prometheus served over HTTPS with basic auth.
#[derive(Debug, Clone)]
pub struct Secured {
    /// The CA that signed Prometheus's certificate (for 127.0.0.1).
    pub ca: PathBuf,
    pub user: &'static str,
    pub password: &'static str,
}

/// Basic-auth user of the secured Prometheus, and its password.
const USER: &str = "mcpctl";
const PASSWORD: &str = "analysis-secret";
/// bcrypt (cost 4, the lowest Prometheus accepts) of [`PASSWORD`].
const PASSWORD_BCRYPT: &str = "$2b$04$L1qKr60uFJe5nsVZnW7u6OxzRwQHWuPbT4EOMjcjRyuWK/UVyxzN6";

static PROMETHEUS: OnceLock<Result<Prometheus, String>> = OnceLock::new();
static SECURED: OnceLock<Result<Prometheus, String>> = OnceLock::new();

impl Prometheus {
    /// The Prometheus of this test binary, started by the first caller. Panics, in every test
    /// that asks, with the reason when it cannot start (no `prometheus` binary: `scripts/test.sh`
    /// installs it): the tests never skip silently.
    pub fn shared() -> &'static Prometheus {
        match PROMETHEUS.get_or_init(|| start(false)) {
            Ok(p) => p,
            Err(e) => panic!("the test Prometheus did not start: {e}"),
        }
    }

    /// Like [`Prometheus::shared`], but served over HTTPS (a certificate from a CA made for the
    /// run with `openssl`) and behind basic auth: see [`Prometheus::secured`]. For a test binary
    /// of its own, so that each binary still runs one Prometheus. Its data can be read only
    /// through a TLS client (such as mcpctl's), so [`Prometheus::query`] and
    /// [`Prometheus::wait_for`] are not for it.
    pub fn shared_secured() -> &'static Prometheus {
        match SECURED.get_or_init(|| start(true)) {
            Ok(p) => p,
            Err(e) => panic!("the secured test Prometheus did not start: {e}"),
        }
    }

    /// `http://127.0.0.1:<port>` (`https://` when secured).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA and credentials of a secured Prometheus.
    pub fn secured(&self) -> Option<&Secured> {
        self.secured.as_ref()
    }

    /// Prometheus's own output.
    pub fn log(&self) -> PathBuf {
        self.dir.join("prometheus.log")
    }

    /// From now on, the track `track` of `server` in `namespace` receives `traffic`. Counters
    /// keep the value they reached, so a change of rate shows in `rate()` at the next scrape.
    pub fn set_traffic(&self, namespace: &str, server: &str, track: &str, traffic: Traffic) {
        let now = Instant::now();
        let ok = 1.0 - traffic.http_errors - traffic.jsonrpc_errors;
        assert!(ok >= 0.0, "error shares above 1: {traffic:?}");
        let series = [
            ("200", false, ok),
            ("500", false, traffic.http_errors),
            ("200", true, traffic.jsonrpc_errors),
        ];
        let mut reg = self.registry.lock().expect("registry lock");
        for (code, jsonrpc_error, share) in series {
            let mut labels = vec![
                ("namespace".to_string(), namespace.to_string()),
                ("mcp_server".to_string(), server.to_string()),
                ("track".to_string(), track.to_string()),
                ("code".to_string(), code.to_string()),
            ];
            if jsonrpc_error {
                labels.push(("jsonrpc_error".to_string(), "true".to_string()));
            }
            let rate = traffic.rps * share;
            let key = (REQUESTS.to_string(), labels);
            match reg.get_mut(&key) {
                Some(c) => {
                    *c = Counter {
                        base: c.value(now),
                        rate,
                        since: now,
                    }
                }
                // A series appears once it has traffic (as a real server's would).
                None if rate > 0.0 => {
                    reg.insert(
                        key,
                        Counter {
                            base: 0.0,
                            rate,
                            since: now,
                        },
                    );
                }
                None => {}
            }
        }
    }

    /// From now on, the track `track` of `server` answers `rps` requests per second, each in
    /// `seconds`: the `mcp_request_duration_seconds` histogram (buckets, sum and count).
    pub fn set_latency(&self, namespace: &str, server: &str, track: &str, rps: f64, seconds: f64) {
        let now = Instant::now();
        let labels = |extra: Option<String>| {
            let mut l = vec![
                ("namespace".to_string(), namespace.to_string()),
                ("mcp_server".to_string(), server.to_string()),
                ("track".to_string(), track.to_string()),
            ];
            if let Some(le) = extra {
                l.push(("le".to_string(), le));
            }
            l
        };
        let mut series: Vec<(String, Labels, f64)> = BUCKETS
            .iter()
            .map(|le| {
                let rate = if seconds <= *le { rps } else { 0.0 };
                (
                    "mcp_request_duration_seconds_bucket".to_string(),
                    labels(Some(le.to_string())),
                    rate,
                )
            })
            .collect();
        series.push((
            "mcp_request_duration_seconds_bucket".into(),
            labels(Some("+Inf".into())),
            rps,
        ));
        series.push((
            "mcp_request_duration_seconds_count".into(),
            labels(None),
            rps,
        ));
        series.push((
            "mcp_request_duration_seconds_sum".into(),
            labels(None),
            rps * seconds,
        ));
        let mut reg = self.registry.lock().expect("registry lock");
        for (name, labels, rate) in series {
            let key = (name, labels);
            let base = reg.get(&key).map_or(0.0, |c| c.value(now));
            reg.insert(
                key,
                Counter {
                    base,
                    rate,
                    since: now,
                },
            );
        }
    }

    /// From now on, the pods of track `track` of `server` hold `sessions` MCP sessions open:
    /// the `mcp_active_sessions` gauge.
    pub fn set_sessions(&self, namespace: &str, server: &str, track: &str, sessions: f64) {
        let labels = vec![
            ("namespace".to_string(), namespace.to_string()),
            ("mcp_server".to_string(), server.to_string()),
            ("track".to_string(), track.to_string()),
        ];
        self.registry.lock().expect("registry lock").insert(
            ("mcp_active_sessions".to_string(), labels),
            Counter {
                base: sessions,
                rate: 0.0,
                since: Instant::now(),
            },
        );
    }

    /// Runs an instant query; the values of the resulting vector (or scalar), or the error.
    pub fn query(&self, promql: &str) -> Result<Vec<f64>, String> {
        let body = http_get(
            &self.url,
            &format!("/api/v1/query?query={}", encode(promql)),
        )?;
        let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if v["status"] != "success" {
            return Err(format!("query {promql:?} failed: {body}"));
        }
        let value = |s: &Value| -> Option<f64> { s.get(1)?.as_str()?.parse().ok() };
        match v["data"]["resultType"].as_str() {
            Some("vector") => Ok(v["data"]["result"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| value(&s["value"]))
                .collect()),
            Some("scalar") => Ok(value(&v["data"]["result"]).into_iter().collect()),
            other => Err(format!("query {promql:?} gave a {other:?}")),
        }
    }

    /// Polls `promql` every 200 ms until `ready` holds for its values; panics naming `what`,
    /// the last values and Prometheus's log when `deadline` passes.
    pub fn wait_for(
        &self,
        what: &str,
        promql: &str,
        deadline: Duration,
        ready: impl Fn(&[f64]) -> bool,
    ) -> Vec<f64> {
        let start = Instant::now();
        loop {
            let seen = self.query(promql);
            if let Ok(v) = &seen
                && ready(v)
            {
                return v.clone();
            }
            if start.elapsed() > deadline {
                panic!(
                    "timed out after {deadline:?} waiting for {what} ({promql}); last seen: {seen:?}; \
                     the end of {}:\n{}",
                    self.log().display(),
                    tail(&self.log(), 20)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Starts everything on a thread that lives as long as the process (the parent-death signal
/// of Prometheus is tied to it) and hands back the running server.
fn start(secured: bool) -> Result<Prometheus, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("prometheus".into())
        .spawn(move || match boot(secured) {
            Ok((prom, running)) => {
                let _ = tx.send(Ok(prom));
                // The process and its reaper's pipe stay open until the test binary ends.
                let _keep = running;
                loop {
                    std::thread::park();
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        })
        .map_err(|e| format!("cannot start the Prometheus thread: {e}"))?;
    rx.recv()
        .map_err(|_| "the Prometheus thread ended without an answer".to_string())?
}

fn boot(secured: bool) -> Result<(Prometheus, (Component, Reaper)), String> {
    let binary = find_binary()?;
    let name = if secured {
        "prometheus-tls"
    } else {
        "prometheus"
    };
    let dir = std::env::temp_dir().join(format!("mcpctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let reaper = Reaper::start(&dir)?;

    let registry: Arc<Mutex<Registry>> = Arc::default();
    let metrics = serve_metrics(Arc::clone(&registry))?;

    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: mcp\n    static_configs:\n      - targets: [\"127.0.0.1:{metrics}\"]\n"
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let secured = if secured {
        let pki = test_cluster::pki::create(&dir.join("pki"))?;
        let web = dir.join("web.yml");
        std::fs::write(
            &web,
            format!(
                "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  {USER}: {PASSWORD_BCRYPT}\n",
                pki.server_crt.display(),
                pki.server_key.display()
            ),
        )
        .map_err(|e| format!("cannot write {}: {e}", web.display()))?;
        Some((
            web,
            Secured {
                ca: pki.ca_crt,
                user: USER,
                password: PASSWORD,
            },
        ))
    } else {
        None
    };

    // Another process may take the port between the probe and the bind: try a few.
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let mut args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--storage.tsdb.retention.time=1h".to_string(),
        ];
        if let Some((web, _)) = &secured {
            args.push(format!("--web.config.file={}", web.display()));
        }
        let mut c = Component::start(&reaper, &dir, "prometheus", &binary, &args)?;
        let log = c.log.clone();
        let scheme = if secured.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        let ready = || match &secured {
            None => http_get(&url, "/-/ready").is_ok(),
            // No TLS client here: Prometheus says when it is ready.
            Some(_) => std::fs::read_to_string(&log)
                .is_ok_and(|l| l.contains("Server is ready to receive web requests")),
        };
        match wait_until("prometheus", &mut c, START_DEADLINE, ready) {
            Ok(()) => {
                let prom = Prometheus {
                    url,
                    dir,
                    registry,
                    secured: secured.map(|(_, s)| s),
                };
                return Ok((prom, (c, reaper)));
            }
            Err(e) if e.contains("address already in use") => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

fn find_binary() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "no `prometheus` binary on PATH: install the Debian package (`apt-get install prometheus`; scripts/test.sh does it)".to_string()
        })
}

/// Serves the registry as Prometheus text on a free loopback port; the port.
fn serve_metrics(registry: Arc<Mutex<Registry>>) -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot listen for the metrics endpoint: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("metrics endpoint address: {e}"))?
        .port();
    std::thread::Builder::new()
        .name("metrics-endpoint".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &registry);
            }
        })
        .map_err(|e| format!("cannot start the metrics endpoint: {e}"))?;
    Ok(port)
}

fn answer(mut stream: TcpStream, registry: &Mutex<Registry>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    // Read the request head; Prometheus sends no body.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let body = exposition(&registry.lock().expect("registry lock"), Instant::now());
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The text exposition format of the counters at `now`: the requests counter and the sessions
/// gauge typed, the histogram's series untyped (Prometheus stores them as they are).
fn exposition(reg: &Registry, now: Instant) -> String {
    let mut out = String::new();
    let mut typed = "";
    for ((name, labels), counter) in reg {
        let kind = match name.as_str() {
            REQUESTS => Some("counter"),
            "mcp_active_sessions" => Some("gauge"),
            _ => None,
        };
        if let Some(kind) = kind
            && typed != name
        {
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            typed = name;
        }
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        out.push_str(&format!(
            "{name}{{{}}} {}\n",
            l.join(","),
            counter.value(now)
        ));
    }
    out
}

/// `GET path` with HTTP/1.0 (no chunking); the body of a 200, else an error.
fn http_get(base: &str, path: &str) -> Result<String, String> {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).unwrap_or("");
    if status == "200" {
        Ok(body.to_string())
    } else {
        Err(format!("GET {path}: {head} {body}"))
    }
}

/// Percent-encoding of a query-string value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_lists_counters_with_labels() {
        let now = Instant::now();
        let mut reg = Registry::new();
        reg.insert(
            (
                REQUESTS.into(),
                vec![
                    ("mcp_server".into(), "s".into()),
                    ("code".into(), "200".into()),
                ],
            ),
            Counter {
                base: 5.0,
                rate: 0.0,
                since: now,
            },
        );
        assert_eq!(
            exposition(&reg, now),
            "# TYPE mcp_requests_total counter\nmcp_requests_total{mcp_server=\"s\",code=\"200\"} 5\n"
        );
    }

    #[test]
    fn counters_grow_at_their_rate() {
        let t0 = Instant::now();
        let c = Counter {
            base: 10.0,
            rate: 2.0,
            since: t0,
        };
        assert_eq!(c.value(t0 + Duration::from_secs(3)), 16.0);
    }

    #[test]
    fn encode_escapes_promql() {
        assert_eq!(encode("sum(x{a=\"b\"})"), "sum%28x%7Ba%3D%22b%22%7D%29");
    }
}
