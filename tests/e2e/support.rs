//! A test's surroundings: the shared control plane, its own namespace, and a directory holding
//! the fleet file (its `namespace:` set to the test's namespace) and template overrides.

use std::path::PathBuf;
use std::process::Output;

use test_cluster::{Cluster, Namespace};

pub use crate::cli_support::{deployment_template_with, out, repo_root};

pub struct Env {
    pub cluster: &'static Cluster,
    pub ns: Namespace,
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A namespace `e2e-<purpose>-N` and the fleet `fleet_yaml` moved into it.
    pub fn new(purpose: &str, fleet_yaml: &str) -> Env {
        let cluster = Cluster::shared();
        let ns = cluster.namespace(purpose);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let env = Env { cluster, ns, dir };
        env.write_fleet(fleet_yaml);
        env
    }

    /// Writes `mcpctl.yaml`: `fleet_yaml` with its `namespace:` line pointing at this test's
    /// namespace (panics when it has none, so no test runs in a shared namespace by mistake).
    pub fn write_fleet(&self, fleet_yaml: &str) {
        let mut moved = false;
        let text: Vec<String> = fleet_yaml
            .lines()
            .map(|l| {
                if l.starts_with("namespace:") {
                    moved = true;
                    format!("namespace: {}", self.ns.name())
                } else {
                    l.to_string()
                }
            })
            .collect();
        assert!(moved, "the fleet has no top-level `namespace:` line");
        std::fs::write(self.path("mcpctl.yaml"), text.join("\n") + "\n")
            .expect("write mcpctl.yaml");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs mcpctl in this test's directory as the cluster's administrator.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run mcpctl")
    }

    /// The command [`Env::run`] runs, to add to.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mcpctl"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("MCPCTL_FLEET")
            .env("KUBECONFIG", self.cluster.kubeconfig())
            .env("NO_COLOR", "1")
            .env("USER", "e2e")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("CI");
        c
    }

    /// A namespaced API path in this test's namespace, e.g. `apis("apps/v1", "deployments/x")`.
    pub fn path_of(&self, group_version: &str, rest: &str) -> String {
        let root = if group_version == "v1" {
            "/api"
        } else {
            "/apis"
        };
        format!(
            "{root}/{group_version}/namespaces/{}/{rest}",
            self.ns.name()
        )
    }
}

/// An object of this test's namespace (panics when it does not exist).
pub fn get(env: &Env, gv: &str, rest: &str) -> serde_json::Value {
    env.cluster
        .get(&env.path_of(gv, rest))
        .unwrap_or_else(|| panic!("{rest} exists"))
}

/// `spec.replicas` of a Deployment (-1 when unset).
pub fn replicas(env: &Env, name: &str) -> i64 {
    get(env, "apps/v1", &format!("deployments/{name}"))["spec"]["replicas"]
        .as_i64()
        .unwrap_or(-1)
}

/// The first container's image of a Deployment.
pub fn image(env: &Env, name: &str) -> String {
    get(env, "apps/v1", &format!("deployments/{name}"))["spec"]["template"]["spec"]["containers"][0]
        ["image"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// The field managers that own `spec.<field>` of an object, from its managedFields.
pub fn owners(obj: &serde_json::Value, field: &str) -> Vec<String> {
    let key = format!("f:{field}");
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["fieldsV1"]["f:spec"].get(&key).is_some())
        .map(|m| m["manager"].as_str().unwrap_or("").to_string())
        .collect()
}
