//! A Kubernetes API server stand-in for mcpctl's tests.
//!
//! It speaks the parts of the Kubernetes API that mcpctl uses, the way a real kube-apiserver
//! v1.37.2 does (tests/e2e/differential.rs compares them; behaviour that did not change since
//! v1.28.7 is also checked against recordings of that version): discovery (plain
//! and aggregated), create/get/list/update/delete with
//! resourceVersion, server-side apply with managedFields, merge/JSON/strategic patches,
//! validation, watch, a Deployment controller, fault injection and a request log. The ground
//! truth is the real v1.37.2 server and the recordings in `fixtures/transcripts/` (see
//! README.md of this crate).
//!
//! ```no_run
//! # async fn demo() {
//! let srv = test_apiserver::ApiServer::builder()
//!     .crds_from_dir("tests/apiserver/fixtures/crds")
//!     .start()
//!     .await;
//! srv.write_kubeconfig("/tmp/kubeconfig", "test", "default");
//! # }
//! ```

pub mod controller;
pub mod defaults;
pub mod discovery;
pub mod faults;
pub mod kubeconfig;
pub mod patch;
pub mod proxy;
pub mod schema;
pub mod selector;
pub mod server;
pub mod ssa;
pub mod status;
pub mod store;
pub mod table;
pub mod typed;
pub mod util;
pub mod validate;
pub mod watch;

pub use controller::Behaviour;
pub use faults::{Fault, FaultAction, Gate};
pub use hyper::Method;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// One request as the server saw it (after fault injection decided its fate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The raw (URL-encoded) query string, without `?`; empty when there was none.
    pub query: String,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
    /// When the request reached the server (before any injected fault).
    pub received: std::time::Instant,
    /// When its answer was ready (the headers, for a streamed answer): with `received`, how
    /// many requests were being served at once.
    pub answered: std::time::Instant,
}

impl RequestRecord {
    /// A query parameter, URL-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        server::parse_query(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn is_watch(&self) -> bool {
        self.query_param("watch")
            .is_some_and(|v| v == "true" || v == "1")
    }
}

/// The most of `reqs` that were being served at the same moment, from their `received` and
/// `answered` times: how many requests a client had under way at once.
pub fn most_at_once<'a>(reqs: impl IntoIterator<Item = &'a RequestRecord>) -> usize {
    let mut edges: Vec<(std::time::Instant, i32)> = reqs
        .into_iter()
        .flat_map(|r| [(r.received, 1), (r.answered, -1)])
        .collect();
    // At the same instant an answer comes before an arrival: touching times do not overlap.
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

/// State shared by the HTTP server, the controller and the test handle.
pub struct Shared {
    pub registry: discovery::Registry,
    pub store: Mutex<store::Store>,
    pub events: tokio::sync::broadcast::Sender<Arc<store::WatchEvent>>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub faults: Mutex<Vec<Fault>>,
    pub behaviours: Mutex<controller::Behaviours>,
    pub wake: tokio::sync::Notify,
    pub addr: Mutex<String>,
    /// The bearer token every request must carry (`None`: no authentication).
    pub token: Mutex<Option<String>>,
    /// Set to true when the server stops (ends watches and the controller).
    pub stop: tokio::sync::watch::Sender<bool>,
    /// Where Services proxy to ([`ApiServer::proxy_service`]).
    pub proxies: Mutex<Vec<proxy::ProxyTarget>>,
    /// The server's clock minus the machine's, in milliseconds ([`ApiServer::set_clock_skew_ms`]).
    pub clock_skew_ms: Arc<AtomicI64>,
}

/// Configures and starts a server.
#[derive(Default)]
pub struct Builder {
    crd_dirs: Vec<PathBuf>,
    without: Vec<String>,
    port: u16,
    default_behaviour: Option<Behaviour>,
    history: Option<usize>,
    no_controller: bool,
    token: Option<String>,
    proxies: Vec<proxy::ProxyTarget>,
    clock_skew_ms: i64,
}

/// The upstream CRDs this crate ships (Istio VirtualService and DestinationRule,
/// Gateway API HTTPRoute, prometheus-operator ServiceMonitor, PodMonitor and
/// PrometheusRule), unchanged; see `fixtures/crds/README.md`.
pub fn bundled_crds_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crds")
}

/// The kubectl the compatibility tests drive: `KUBECTL` if set, else `kubectl` on the PATH,
/// else `/usr/bin/kubectl`; `None` when that does not exist.
pub fn kubectl() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KUBECTL") {
        let p = PathBuf::from(p);
        return p.exists().then_some(p);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("kubectl"))
        .chain([PathBuf::from("/usr/bin/kubectl")])
        .find(|p| p.is_file())
}

impl Builder {
    /// Registers the CRDs of the `*.yaml` files in `dir` (e.g. `fixtures/crds`).
    pub fn crds_from_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.crd_dirs.push(dir.as_ref().to_path_buf());
        self
    }

    /// Starts without the CRD of this name (`<plural>.<group>`), as on a cluster where it is
    /// not installed.
    pub fn without_crd(mut self, name: &str) -> Self {
        self.without.push(name.to_string());
        self
    }

    /// Listens on this port (default: a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn default_behaviour(mut self, b: Behaviour) -> Self {
        self.default_behaviour = Some(b);
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request, answering 401
    /// Unauthorized otherwise, as a real server does for a missing, wrong or
    /// expired credential; [`ApiServer::write_kubeconfig`] writes the token.
    pub fn require_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    /// Proxies the Service port `port` (its number) of `namespace/name` to `target_url`
    /// (`http://127.0.0.1:PORT[/base]`); see [`ApiServer::proxy_service`].
    pub fn proxy_service(
        mut self,
        namespace: &str,
        name: &str,
        port: u16,
        target_url: &str,
    ) -> Self {
        self.proxies.push(proxy::ProxyTarget {
            namespace: namespace.to_string(),
            service: name.to_string(),
            port,
            url: target_url.to_string(),
        });
        self
    }

    /// Starts with the server's clock this many milliseconds ahead of the machine's
    /// (negative: behind); see [`ApiServer::set_clock_skew_ms`].
    pub fn clock_skew_ms(mut self, ms: i64) -> Self {
        self.clock_skew_ms = ms;
        self
    }

    /// Runs without the simulated controllers: Deployments stay as stored.
    pub fn without_controller(mut self) -> Self {
        self.no_controller = true;
        self
    }

    /// How many watch events are kept to serve watches from an old resourceVersion (default
    /// 10,000); a watch from before the oldest gets 410 Expired.
    pub fn watch_history(mut self, n: usize) -> Self {
        self.history = Some(n);
        self
    }

    fn shared(&self) -> Arc<Shared> {
        let mut crds = Vec::new();
        let mut docs = Vec::new();
        for dir in &self.crd_dirs {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("cannot read CRD directory {}: {e}", dir.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            for f in files {
                let text =
                    std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let values: Vec<Value> = serde_saphyr::from_multiple(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                for v in values.into_iter().filter(|v| !v.is_null()) {
                    let crd = schema::Crd::from_value(&v, &f).unwrap_or_else(|e| panic!("{e}"));
                    if self.without.contains(&crd.name) {
                        continue;
                    }
                    crds.push(crd);
                    docs.push(v);
                }
            }
        }
        let registry = discovery::Registry::new(&crds, &docs);
        let (tx, _) = tokio::sync::broadcast::channel(65_536);
        let mut behaviours = controller::Behaviours::default();
        if let Some(b) = &self.default_behaviour {
            behaviours.default = b.clone();
        }
        let shared = Arc::new(Shared {
            registry,
            store: Mutex::new(store::Store::new(self.history.unwrap_or(10_000))),
            events: tx,
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            behaviours: Mutex::new(behaviours),
            wake: tokio::sync::Notify::new(),
            addr: Mutex::new(String::new()),
            token: Mutex::new(self.token.clone()),
            stop: tokio::sync::watch::channel(false).0,
            proxies: Mutex::new(self.proxies.clone()),
            clock_skew_ms: Arc::new(AtomicI64::new(self.clock_skew_ms)),
        });
        util::CLOCK_SKEW_MS.sync_scope(shared.clock_skew_ms.clone(), || {
            for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
                store::seed_namespace(&shared, ns);
            }
        });
        shared
    }

    /// Starts the server on the current tokio runtime (which must be multi-threaded or keep
    /// running while the server is used).
    pub async fn start(self) -> ApiServer {
        let shared = self.shared();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        *shared.addr.lock().unwrap() = addr.to_string();
        tokio::spawn(server::serve(
            listener,
            shared.clone(),
            shared.stop.subscribe(),
        ));
        if !self.no_controller {
            tokio::spawn(util::CLOCK_SKEW_MS.scope(
                shared.clock_skew_ms.clone(),
                controller::run(shared.clone(), shared.stop.subscribe()),
            ));
        }
        ApiServer {
            shared,
            url: format!("http://{addr}"),
            runtime: None,
        }
    }

    /// Starts the server on its own runtime thread, for synchronous tests.
    pub fn start_blocking(self) -> ApiServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut srv = rt.block_on(self.start());
        srv.runtime = Some(rt);
        srv
    }
}

/// A running server. Dropping it stops it.
pub struct ApiServer {
    shared: Arc<Shared>,
    url: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl ApiServer {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Writes a kubeconfig with a cluster, a user and a context named `context_name` whose
    /// namespace is `namespace`, current-context set to it.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>, context_name: &str, namespace: &str) {
        let token = self.shared.token.lock().unwrap().clone();
        kubeconfig::write(
            path.as_ref(),
            &self.url,
            context_name,
            namespace,
            token.as_deref(),
        )
        .unwrap_or_else(|e| panic!("cannot write kubeconfig {}: {e}", path.as_ref().display()));
    }

    /// Replaces the token requests must carry (`None`: stop checking): a
    /// kubeconfig written before now holds an expired credential.
    pub fn set_token(&self, token: Option<&str>) {
        *self.shared.token.lock().unwrap() = token.map(str::to_string);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    /// Makes the next `fault.times` matching requests fail (or slow down) as described.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push(fault);
    }

    /// How many uses the injected faults have left (0: all used up): a test can wait for a
    /// request to have reached the server before the server answers it.
    pub fn fault_uses_left(&self) -> u32 {
        self.shared
            .faults
            .lock()
            .unwrap()
            .iter()
            .map(|f| f.times)
            .sum()
    }

    /// Removes the faults not yet used up.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }

    pub fn set_deployment_behaviour(&self, namespace: &str, name: &str, b: Behaviour) {
        let mut bs = self.shared.behaviours.lock().unwrap();
        bs.per.insert((namespace.to_string(), name.to_string()), b);
        bs.version += 1;
        drop(bs);
        self.shared.wake.notify_one();
    }

    pub fn set_default_behaviour(&self, b: Behaviour) {
        let mut bs = self.shared.behaviours.lock().unwrap();
        bs.default = b;
        bs.version += 1;
        drop(bs);
        self.shared.wake.notify_one();
    }

    /// The stored object at an API path (`/apis/apps/v1/namespaces/ns/deployments/name`).
    pub fn get(&self, api_path: &str) -> Option<Value> {
        store::get_by_path(&self.shared, api_path)
    }

    /// Stores an object as is (creating its namespace's entry is up to the caller), filling in
    /// uid, creationTimestamp and resourceVersion. Panics on an unknown kind.
    pub fn put_object(&self, value: Value) -> Value {
        util::CLOCK_SKEW_MS.sync_scope(self.shared.clock_skew_ms.clone(), || {
            store::put_object(&self.shared, value)
        })
    }

    /// Makes the Service port `port` (its number in `spec.ports`) of `namespace/name` proxy
    /// to `target_url` (`http://127.0.0.1:PORT[/base]`): requests to
    /// `/api/v1/namespaces/NS/services/[http:|https:]NAME[:PORT]/proxy/PATH` are forwarded
    /// there (PORT by number or by the port's name; none for a Service's one unnamed port) and
    /// the answer streamed back. The Service object must exist too, as on a real server.
    /// Registering the same port again replaces its target.
    pub fn proxy_service(&self, namespace: &str, name: &str, port: u16, target_url: &str) {
        let mut p = self.shared.proxies.lock().unwrap();
        p.retain(|t| !(t.namespace == namespace && t.service == name && t.port == port));
        p.push(proxy::ProxyTarget {
            namespace: namespace.to_string(),
            service: name.to_string(),
            port,
            url: target_url.to_string(),
        });
    }

    /// Runs the server's clock `ms` milliseconds ahead of the machine's (negative: behind),
    /// from now on: `Date` headers, creationTimestamps, managedFields times, the controller's
    /// condition times and Table ages.
    pub fn set_clock_skew_ms(&self, ms: i64) {
        self.shared.clock_skew_ms.store(ms, Ordering::Relaxed);
    }

    /// [`ApiServer::set_clock_skew_ms`] with a duration: `ahead` or behind the machine's clock.
    pub fn set_clock_skew(&self, skew: std::time::Duration, ahead: bool) {
        let ms = i64::try_from(skew.as_millis()).unwrap_or(i64::MAX);
        self.set_clock_skew_ms(if ahead { ms } else { -ms });
    }

    /// The current (newest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.store.lock().unwrap().rv
    }

    /// Stops serving (also done on drop).
    pub fn stop(&self) {
        let _ = self.shared.stop.send(true);
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.shared.stop.send(true);
        if let Some(rt) = self.runtime.take() {
            // Safe from any context (also inside another runtime), unlike dropping it.
            rt.shutdown_background();
        }
    }
}
