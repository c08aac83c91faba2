//! Helpers for the cluster tests: a fake API server with the real CRDs, a
//! kubeconfig pointing at it, a fleet file, and request-log queries.

use std::path::PathBuf;
use std::process::{Command, Output};

use test_apiserver::{ApiServer, RequestRecord};

pub use crate::support::out;

pub const NS: &str = "mcp";

/// The ConfigMap of fleet acme's Grafana dashboard.
pub const DASHBOARD_PATH: &str = "/api/v1/namespaces/mcp/configmaps/mcpctl-dashboard-acme";
/// The start of `apply`'s line for it (the change follows).
pub const DASHBOARD_LINE: &str = "fleet acme: configmap/mcpctl-dashboard-acme";

/// A one-server rolling fleet (router `service`), `replicas` and `image` as given.
pub fn fleet_yaml(image: &str, replicas: u32) -> String {
    format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: {replicas}\n  router: service\n  strategy: rolling\n\
         servers:\n  - name: github\n    image: {image}\n"
    )
}

pub struct Env {
    pub srv: ApiServer,
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A server with every bundled CRD except `without`.
    pub fn start(without: &[&str]) -> Env {
        Env::start_with(|mut b| {
            for w in without {
                b = b.without_crd(w);
            }
            b
        })
    }

    /// A server with every bundled CRD, configured further by `configure`
    /// (Service proxies, say).
    pub fn start_with(
        configure: impl FnOnce(test_apiserver::Builder) -> test_apiserver::Builder,
    ) -> Env {
        let b = ApiServer::builder().crds_from_dir(test_apiserver::bundled_crds_dir());
        let srv = configure(b).start_blocking();
        let dir = tempfile::tempdir().unwrap();
        srv.write_kubeconfig(dir.path().join("kubeconfig"), "test", "default");
        let env = Env { srv, dir };
        env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 2));
        env
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn write_fleet(&self, text: &str) {
        std::fs::write(self.dir.path().join("mcpctl.yaml"), text).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mcpctl"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("MCPCTL_FLEET")
            .env("KUBECONFIG", self.kubeconfig())
            .env("NO_COLOR", "1")
            .env("USER", "tester")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("CI");
        c
    }

    /// Runs mcpctl with this env's kubeconfig and fleet.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run mcpctl")
    }

    /// Starts mcpctl like `run`, with stdout and stderr captured, without waiting.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start mcpctl")
    }

    /// `mcpctl history <server> -o json`: exits 0 and prints the document
    /// `{schemaVersion: 1, server, revisions}`; returns its revisions.
    pub fn history_json(&self, server: &str) -> serde_json::Value {
        let doc = self.document(
            &["history", server, "-o", "json"],
            &["schemaVersion", "server", "revisions"],
        );
        assert_eq!(doc["server"], server, "{doc}");
        doc["revisions"].clone()
    }

    /// `mcpctl status -o json`: exits 0 and prints the document
    /// `{schemaVersion: 1, servers}`; returns its servers.
    pub fn status_json(&self) -> serde_json::Value {
        self.document(&["status", "-o", "json"], &["schemaVersion", "servers"])["servers"].clone()
    }

    /// Runs a command that must exit 0 and print a JSON document of version 1
    /// with exactly `keys`, in that order.
    fn document(&self, args: &[&str], keys: &[&str]) -> serde_json::Value {
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let doc: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
        let found: Vec<&str> = doc
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(found, keys, "{doc}");
        assert_eq!(doc["schemaVersion"], 1, "{doc}");
        doc
    }

    /// The state ConfigMap of server `github` (panics when there is none).
    pub fn github_state(&self) -> serde_json::Value {
        self.srv
            .get(&format!(
                "/api/v1/namespaces/{NS}/configmaps/mcpctl.state.acme.github"
            ))
            .expect("the state ConfigMap mcpctl.state.acme.github exists")
    }

    pub fn deployment(&self, name: &str) -> Option<serde_json::Value> {
        self.srv
            .get(&format!("/apis/apps/v1/namespaces/{NS}/deployments/{name}"))
    }
}

/// Requests that change something (dry runs and reads excluded).
pub fn writes(reqs: &[RequestRecord]) -> Vec<&RequestRecord> {
    reqs.iter()
        .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
        .filter(|r| r.query_param("dryRun").is_none())
        .collect()
}

/// `METHOD path` of each write ([`writes`]), in order.
pub fn write_lines(reqs: &[RequestRecord]) -> Vec<String> {
    writes(reqs)
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

pub fn describe(reqs: &[RequestRecord]) -> String {
    reqs.iter()
        .map(|r| format!("{} {}?{} -> {}", r.method, r.path, r.query, r.status))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sends one plain HTTP/1.1 request to the test server (as another client
/// would) and returns the status code.
pub fn http(
    srv: &ApiServer,
    method: &str,
    path_and_query: &str,
    content_type: &str,
    body: &str,
) -> u16 {
    use std::io::{Read, Write};
    let addr = srv.url().trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).expect("connect to the test server");
    write!(
        s,
        "{method} {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad answer: {resp}"))
}
