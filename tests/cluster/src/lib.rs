//! A real Kubernetes control plane for mcpctl's end-to-end tests.
//!
//! [`Cluster::shared`] starts, once per test binary, etcd, kube-apiserver and
//! kube-controller-manager (built from source by `tests/cluster/build.sh`, cached by version
//! under `~/.cache/mcpctl-test/`), on free loopback ports, in a fresh directory:
//!
//! - the API server serves HTTPS on 127.0.0.1 with a self-signed CA, authenticates client
//!   certificates and service-account tokens, authorizes with RBAC, and writes an audit log;
//! - the controller manager runs every default controller (Deployments, ReplicaSets, the garbage
//!   collector, service accounts, EndpointSlices...) except the node lifecycle controller;
//! - a simulated kubelet ([`Kubelet`]) registers nodes and makes pods Running and Ready;
//! - the CRDs of `tests/apiserver/fixtures/crds` (Istio, Gateway API, prometheus-operator) are
//!   installed.
//!
//! Each test takes its own namespace with [`Cluster::namespace`], deleted when dropped. Nothing
//! outlives the test binary, whether it ends normally, panics or is killed (see `process.rs`).
//!
//! ```no_run
//! let cluster = test_cluster::Cluster::shared();
//! let ns = cluster.namespace("apply");
//! cluster.kubelet().keep_unready(ns.name(), &[("app.kubernetes.io/name", "github")]);
//! // run mcpctl with KUBECONFIG=cluster.kubeconfig() and `-n ns.name()`...
//! let d = cluster.get(&format!("/apis/apps/v1/namespaces/{}/deployments/github", ns.name()));
//! ```

mod crds;
pub mod kubelet;
pub mod pki;
pub mod process;
pub mod raw;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use kubelet::Kubelet;
use process::{Component, Reaper, free_port, wait_until};

/// The Kubernetes release the control plane runs (the `KUBE_VERSION` of `build.sh`).
pub const KUBE_VERSION: &str = "1.37.2";

/// How long a component may take to start on a loaded machine.
const START_DEADLINE: Duration = Duration::from_secs(180);

/// The running control plane of this test binary.
pub struct Cluster {
    dir: PathBuf,
    kubeconfig: PathBuf,
    server: String,
    ca: PathBuf,
    runtime: tokio::runtime::Handle,
    client: kube::Client,
    kubelet: Kubelet,
    namespaces: AtomicUsize,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

impl Cluster {
    /// The control plane of this test binary, started by the first caller. Panics, in every
    /// test that asks, with the reason when it cannot start (no Go toolchain, a failed build, a
    /// component that does not come up): the tier never skips silently.
    pub fn shared() -> &'static Cluster {
        match CLUSTER.get_or_init(start) {
            Ok(c) => c,
            Err(e) => panic!("the end-to-end control plane did not start: {e}"),
        }
    }

    /// An administrator's kubeconfig (client certificate in `system:masters`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server
    }

    /// The CA certificate the API server's serving certificate is signed with.
    pub fn ca_cert(&self) -> &Path {
        &self.ca
    }

    /// The API server's audit log (JSON lines, level Metadata for every request).
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// The output of `component` (`etcd`, `kube-apiserver`, `kube-controller-manager`).
    pub fn log(&self, component: &str) -> PathBuf {
        self.dir.join(format!("{component}.log"))
    }

    /// The simulated kubelet, to keep chosen pods unready.
    pub fn kubelet(&self) -> &Kubelet {
        &self.kubelet
    }

    /// An administrator's client, driven by the control plane's own runtime (usable from any).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// Runs `f` to completion on the control plane's runtime, from a test's (non-async) thread.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// One request as the administrator; the answer whatever its status.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> raw::Answer {
        let ct = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        self.block_on(raw::send(&self.client, method, path, ct, body))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The object at `path`, or `None` when it does not exist (404).
    pub fn get(&self, path: &str) -> Option<Value> {
        let a = self.request("GET", path, None);
        match a.status {
            200 => Some(a.body),
            404 => None,
            s => panic!("GET {path}: {s} {}", a.body),
        }
    }

    /// Polls `check` every 200 ms until it returns `Ok`, for at most `timeout`; panics naming
    /// `what` and the last `Err` (what was seen instead) when time runs out.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Result<T, String>,
    ) -> T {
        let start = Instant::now();
        loop {
            match check() {
                Ok(v) => return v,
                Err(seen) if start.elapsed() > timeout => panic!(
                    "timed out after {timeout:?} waiting for {what}; last seen: {seen} \
                     (control plane logs in {})",
                    self.dir.display()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// A fresh namespace `e2e-<purpose>-<n>` whose `default` ServiceAccount exists (so pods
    /// can be created in it), deleted when the returned guard is dropped.
    pub fn namespace(&'static self, purpose: &str) -> Namespace {
        let n = self.namespaces.fetch_add(1, Ordering::SeqCst);
        let mut name = format!("e2e-{purpose}-{n}");
        name.truncate(63);
        let a = self.request(
            "POST",
            "/api/v1/namespaces",
            Some(&json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": {"mcpctl.dev/e2e": "true"}}})),
        );
        assert_eq!(a.status, 201, "cannot create namespace {name}: {}", a.body);
        let sa = format!("/api/v1/namespaces/{name}/serviceaccounts/default");
        self.wait_for(
            &format!("the controller manager to create {sa}"),
            Duration::from_secs(120),
            || {
                self.get(&sa)
                    .ok_or_else(|| "no ServiceAccount yet".to_string())
            },
        );
        Namespace {
            name,
            cluster: self,
        }
    }

    /// Writes a kubeconfig that authenticates as ServiceAccount `namespace/name` with a token
    /// from the TokenRequest API (valid one hour), for tests of what that identity may do.
    pub fn write_service_account_kubeconfig(&self, namespace: &str, name: &str, path: &Path) {
        let a = self.request(
            "POST",
            &format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"),
            Some(
                &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"expirationSeconds": 3600}}),
            ),
        );
        assert_eq!(
            a.status, 201,
            "TokenRequest for {namespace}/{name}: {}",
            a.body
        );
        let token = a.body["status"]["token"].as_str().expect("a token");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: {}\n    \
             certificate-authority: {}\nusers:\n- name: {name}\n  user:\n    token: {token}\n\
             contexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: {name}\n    \
             namespace: {namespace}\ncurrent-context: e2e\n",
            self.server,
            self.ca.display()
        );
        std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// A test's namespace; deleted (without waiting) when dropped.
///
/// The sync helpers of [`Cluster`] (`request`, `get`, `wait_for`, `namespace`, `block_on`) are
/// for ordinary `#[test]` functions; async tests use [`Cluster::client`] and [`raw::send`].
pub struct Namespace {
    name: String,
    cluster: &'static Cluster,
}

impl Namespace {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Namespace {
    /// Starts the deletion on the control plane's runtime without waiting, so that dropping
    /// works from async code too (and from a panicking test).
    fn drop(&mut self) {
        let path = format!("/api/v1/namespaces/{}", self.name);
        let client = self.cluster.client.clone();
        self.cluster.runtime.spawn(async move {
            let _ = raw::send(&client, "DELETE", &path, "", None).await;
        });
    }
}

/// The directory holding the binaries, built first when the cache has none (`build.sh` prints
/// its progress on this process's stderr, and the directory as its last line on stdout).
fn binaries() -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("build.sh");
    let out = std::process::Command::new(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}); its messages are above",
            script.display(),
            out.status
        ));
    }
    let dir = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    Ok(PathBuf::from(dir))
}

/// Starts everything on a thread that lives as long as the process (the children's
/// parent-death signal is tied to it) and hands back the running cluster.
fn start() -> Result<Cluster, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("control-plane".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(format!("cannot start a tokio runtime: {e}")));
                    return;
                }
            };
            match boot(&runtime) {
                Ok((cluster, components)) => {
                    let _ = tx.send(Ok(cluster));
                    // Keep the children (and their parent-death signal) until the process ends.
                    runtime.block_on(async move {
                        let _components = components;
                        futures::future::pending::<()>().await
                    })
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })
        .map_err(|e| format!("cannot start the control-plane thread: {e}"))?;
    rx.recv()
        .map_err(|_| "the control-plane thread ended without an answer".to_string())?
}

fn boot(runtime: &tokio::runtime::Runtime) -> Result<(Cluster, Vec<Component>), String> {
    let bin = binaries()?;
    let dir = std::env::temp_dir().join(format!("mcpctl-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let reaper = Reaper::start(&dir)?;
    let pki = pki::create(&dir.join("pki"))?;
    let in_dir = |f: &str| dir.join(f).display().to_string();

    let (etcd, etcd_url) = retry_on_port_clash(|| {
        let (client, peer) = (free_port()?, free_port()?);
        let url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let args = [
            "--name=e2e".to_string(),
            format!("--data-dir={}", in_dir("etcd")),
            format!("--listen-client-urls={url}"),
            format!("--advertise-client-urls={url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=e2e={peer_url}"),
            // Test data needs no durability; fsync on a shared disk makes every write slow.
            "--unsafe-no-fsync".to_string(),
            "--log-level=warn".to_string(),
        ];
        let mut c = Component::start(&reaper, &dir, "etcd", &bin.join("etcd"), &args)?;
        wait_until("etcd", &mut c, START_DEADLINE, || {
            http_ok(client, "/health")
        })?;
        Ok((c, url))
    })?;

    std::fs::write(
        dir.join("audit-policy.yaml"),
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n",
    )
    .map_err(|e| format!("cannot write the audit policy: {e}"))?;
    let kubeconfig = dir.join("admin.kubeconfig");
    let (apiserver, server) = retry_on_port_clash(|| {
        let port = free_port()?;
        let server = format!("https://127.0.0.1:{port}");
        let p = |p: &Path| p.display().to_string();
        let args = [
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".to_string(),
            "--advertise-address=127.0.0.1".to_string(),
            format!("--secure-port={port}"),
            format!("--cert-dir={}", in_dir("apiserver-certs")),
            format!("--tls-cert-file={}", p(&pki.server_crt)),
            format!("--tls-private-key-file={}", p(&pki.server_key)),
            format!("--client-ca-file={}", p(&pki.ca_crt)),
            "--authorization-mode=RBAC".to_string(),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_string(),
            format!("--service-account-key-file={}", p(&pki.sa_pub)),
            format!("--service-account-signing-key-file={}", p(&pki.sa_key)),
            "--service-cluster-ip-range=10.96.0.0/16".to_string(),
            // A loopback address may not be an Endpoints address: no `kubernetes` endpoints.
            "--endpoint-reconciler-type=none".to_string(),
            format!("--audit-policy-file={}", in_dir("audit-policy.yaml")),
            format!("--audit-log-path={}", in_dir("audit.log")),
            "--audit-log-mode=blocking-strict".to_string(),
        ];
        let mut c = Component::start(
            &reaper,
            &dir,
            "kube-apiserver",
            &bin.join("kube-apiserver"),
            &args,
        )?;
        std::fs::write(
            &kubeconfig,
            pki::kubeconfig(
                &server,
                &pki.ca_crt,
                &pki.admin_crt,
                &pki.admin_key,
                "admin",
            ),
        )
        .map_err(|e| format!("cannot write {}: {e}", kubeconfig.display()))?;
        let client = runtime.block_on(client_for(&kubeconfig))?;
        wait_until("kube-apiserver /readyz", &mut c, START_DEADLINE, || {
            runtime
                .block_on(raw::send(&client, "GET", "/readyz", "", None))
                .is_ok_and(|a| a.status == 200)
        })?;
        Ok((c, server))
    })?;
    let client = runtime.block_on(client_for(&kubeconfig))?;

    let kcm_kubeconfig = dir.join("controller-manager.kubeconfig");
    std::fs::write(
        &kcm_kubeconfig,
        pki::kubeconfig(
            &server,
            &pki.ca_crt,
            &pki.kcm_crt,
            &pki.kcm_key,
            "system:kube-controller-manager",
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", kcm_kubeconfig.display()))?;
    let kcm_args = [
        format!("--kubeconfig={}", kcm_kubeconfig.display()),
        format!("--authentication-kubeconfig={}", kcm_kubeconfig.display()),
        format!("--authorization-kubeconfig={}", kcm_kubeconfig.display()),
        // No HTTPS endpoint of its own: nothing scrapes it here.
        "--secure-port=0".to_string(),
        "--leader-elect=false".to_string(),
        "--use-service-account-credentials=true".to_string(),
        format!(
            "--service-account-private-key-file={}",
            pki.sa_key.display()
        ),
        format!("--root-ca-file={}", pki.ca_crt.display()),
        // The simulated kubelet sends no heartbeats; this controller would evict its pods.
        "--controllers=*,-node-lifecycle-controller".to_string(),
    ];
    let mut kcm = Component::start(
        &reaper,
        &dir,
        "kube-controller-manager",
        &bin.join("kube-controller-manager"),
        &kcm_args,
    )?;
    let crd_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../apiserver/fixtures/crds");
    runtime.block_on(crds::install(&client, &crd_dir))?;
    let kubelet = Kubelet::new(2);
    runtime.block_on(kubelet.register_nodes(&client))?;
    runtime.spawn(kubelet.clone().run(client.clone()));
    wait_until(
        "kube-controller-manager (the default ServiceAccount of namespace default)",
        &mut kcm,
        START_DEADLINE,
        || {
            runtime
                .block_on(raw::send(
                    &client,
                    "GET",
                    "/api/v1/namespaces/default/serviceaccounts/default",
                    "",
                    None,
                ))
                .is_ok_and(|a| a.status == 200)
        },
    )?;
    let cluster = Cluster {
        dir: dir.clone(),
        kubeconfig,
        server,
        ca: pki.ca_crt.clone(),
        runtime: runtime.handle().clone(),
        client,
        kubelet,
        namespaces: AtomicUsize::new(0),
    };
    // The reaper's pipe must stay open for the life of the process.
    std::mem::forget(reaper);
    Ok((cluster, vec![etcd, apiserver, kcm]))
}

/// Runs `start` again (up to three times) when a component could not bind its port because
/// another process took it between `free_port` and the bind.
fn retry_on_port_clash<T>(mut start: impl FnMut() -> Result<T, String>) -> Result<T, String> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match start() {
            Err(e) if attempt < 3 && e.contains("address already in use") => continue,
            other => return other,
        }
    }
}

/// A client from a kubeconfig file (its current context).
pub async fn client_for(kubeconfig: &Path) -> Result<kube::Client, String> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig)
        .map_err(|e| format!("cannot read {}: {e}", kubeconfig.display()))?;
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| format!("bad kubeconfig {}: {e}", kubeconfig.display()))?;
    kube::Client::try_from(config).map_err(|e| format!("cannot make a client: {e}"))
}

/// Whether `GET path` on a loopback port answers 200 (plain HTTP).
fn http_ok(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_the_one_build_sh_builds() {
        let script = include_str!("../build.sh");
        assert!(
            script.contains(&format!("\nKUBE_VERSION={}\n", super::KUBE_VERSION)),
            "build.sh builds another Kubernetes release than KUBE_VERSION ({})",
            super::KUBE_VERSION
        );
    }
}
