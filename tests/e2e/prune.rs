//! The fleet's ApplySet on a real API server: a server removed from the fleet file is gone
//! after `apply --prune`, and the real kubectl reads the set: it computes the same id for a
//! parent as mcpctl does, and refuses to change mcpctl's set as the ApplySet specification
//! requires of another tool.

use std::process::Command;

use test_apiserver::kubectl;

use crate::support::*;

const FLEET: &str = "fleet: prune\nnamespace: x\ndefaults:\n  replicas: 1\n  router: service\n  \
    strategy: rolling\nservers:\n  - name: github\n    image: ghcr.io/acme/github-mcp:1.4.2\n";
const POSTGRES: &str = "  - name: postgres\n    image: ghcr.io/acme/pg-mcp:0.9.0\n";

#[test]
fn a_removed_server_is_pruned_and_kubectl_reads_the_set() {
    let env = Env::new("prune", &format!("{FLEET}{POSTGRES}"));
    let ns = env.ns.name().to_string();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let parent_path = env.path_of("v1", "configmaps/mcpctl.applyset.prune");
    let parent = env.cluster.get(&parent_path).expect("the ApplySet parent");
    let id = mcpctl::applyset::fleet_id("prune", &ns);
    assert_eq!(
        parent["metadata"]["labels"]["applyset.kubernetes.io/id"],
        id.as_str()
    );
    let postgres = [
        env.path_of("apps/v1", "deployments/postgres"),
        env.path_of("v1", "services/postgres"),
        env.path_of("v1", "configmaps/postgres-config"),
        env.path_of("v1", "serviceaccounts/postgres"),
        env.path_of("policy/v1", "poddisruptionbudgets/postgres"),
    ];
    // The fleet's dashboard is a member too, of no server.
    let dashboard_path = env.path_of("v1", "configmaps/mcpctl-dashboard-prune");
    let dashboard = env
        .cluster
        .get(&dashboard_path)
        .expect("the dashboard applied");
    assert_eq!(
        dashboard["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        id.as_str()
    );
    for p in &postgres {
        let obj = env.cluster.get(p).unwrap_or_else(|| panic!("{p} applied"));
        assert_eq!(
            obj["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
            id.as_str(),
            "{p}"
        );
    }

    env.write_fleet(FLEET);
    let o = env.run(&["apply", "--prune"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("deployment.apps/postgres pruned"),
        "{}",
        out(&o)
    );
    for p in &postgres {
        env.cluster.wait_for(
            &format!("{p} to be deleted"),
            std::time::Duration::from_secs(60),
            || match env.cluster.get(p) {
                None => Ok(()),
                Some(o) => Err(format!("still there: {}", o["metadata"])),
            },
        );
    }
    assert!(
        env.cluster
            .get(&env.path_of("apps/v1", "deployments/github"))
            .is_some()
    );
    // Updated with the fleet: postgres is no longer among its servers.
    let dashboard = env
        .cluster
        .get(&dashboard_path)
        .expect("the dashboard stays");
    let json = dashboard["data"]["mcp-prune.json"].as_str().unwrap_or("");
    assert!(
        json.contains("github") && !json.contains("postgres"),
        "{json}"
    );
    let o = env.run(&["diff", "--prune"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let recorded =
        env.cluster.get(&parent_path).expect("the parent")["metadata"]["annotations"].clone();
    assert!(
        recorded["applyset.kubernetes.io/contains-group-kinds"]
            .as_str()
            .is_some_and(|v| v.contains("Deployment.apps")),
        "{recorded}"
    );

    let Some(bin) = kubectl() else {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "kubectl not found (set KUBECTL or install it; scripts/test.sh does): CI is set, so \
             the ApplySet check with kubectl may not be skipped"
        );
        eprintln!("*** SKIPPED: kubectl not found; the ApplySet was not checked with kubectl ***");
        return;
    };
    let kubectl = |args: &[&str], file: &str| {
        let path = env.path(file);
        let o = Command::new(&bin)
            .args(["-n", &ns])
            .args(args)
            .arg("-f")
            .arg(&path)
            .env("KUBECONFIG", env.cluster.kubeconfig())
            .env("KUBECTL_APPLYSET", "true")
            .output()
            .expect("run kubectl");
        (o.status.code(), out(&o))
    };
    // kubectl's own set in the same namespace: the id it gives its parent is the one mcpctl
    // computes by the same algorithm.
    std::fs::write(
        env.path("probe.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubectl-probe-member\ndata:\n  a: b\n",
    )
    .unwrap();
    let (code, text) = kubectl(
        &[
            "apply",
            "--server-side",
            "--prune",
            "--applyset=configmap/kubectl-probe",
        ],
        "probe.yaml",
    );
    assert_eq!(code, Some(0), "{text}");
    let theirs = env
        .cluster
        .get(&env.path_of("v1", "configmaps/kubectl-probe"))
        .expect("kubectl's parent");
    assert_eq!(
        theirs["metadata"]["labels"]["applyset.kubernetes.io/id"],
        mcpctl::applyset::id("kubectl-probe", &ns, "ConfigMap", "").as_str(),
        "{theirs}"
    );
    assert_eq!(
        theirs["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap"
    );
    // kubectl reads mcpctl's parent as an ApplySet of another tool and leaves it alone.
    std::fs::write(
        env.path("other.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubectl-other\ndata:\n  a: b\n",
    )
    .unwrap();
    let (code, text) = kubectl(
        &[
            "apply",
            "--server-side",
            "--dry-run=server",
            "--prune",
            "--applyset=configmap/mcpctl.applyset.prune",
        ],
        "other.yaml",
    );
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("managed by tooling \"mcpctl\" instead of \"kubectl\""),
        "{text}"
    );
    let after = env.cluster.get(&parent_path).expect("the parent stays");
    assert_eq!(after["metadata"]["annotations"], recorded);
    assert!(
        env.cluster
            .get(&env.path_of("v1", "configmaps/kubectl-other"))
            .is_none()
    );
}
