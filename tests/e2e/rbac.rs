//! `mcpctl rbac` on the real API server: a ServiceAccount bound only to the rendered Role runs
//! apply, deploy, rollback, apply --prune and delete; with one rule taken away it gets a real
//! 403, reported in one line that names the verb and resource and points at `mcpctl rbac`.

use serde_json::Value;

use crate::support::*;

const V1: &str = "ghcr.io/acme/github-mcp:1.4.2";
const V2: &str = "ghcr.io/acme/github-mcp:1.5.0";

fn fleet() -> String {
    format!(
        "fleet: acme\nnamespace: mcp\ndefaults:\n  replicas: 2\n  router: service\n  strategy: blue-green\n\
         servers:\n  - name: github\n    image: {V1}\n"
    )
}

/// Runs mcpctl with the kubeconfig at `kubeconfig`.
fn run_as(env: &Env, kubeconfig: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mcpctl"))
        .args(args)
        .current_dir(env.dir.path())
        .env_remove("MCPCTL_FLEET")
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .output()
        .expect("run mcpctl")
}

fn path_of(obj: &Value, ns: &str) -> String {
    let kind = obj["kind"].as_str().unwrap();
    let plural = match kind {
        "ServiceAccount" => "serviceaccounts",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        other => panic!("unexpected kind {other}"),
    };
    let base = if kind == "ServiceAccount" {
        "/api/v1".to_string()
    } else {
        "/apis/rbac.authorization.k8s.io/v1".to_string()
    };
    format!("{base}/namespaces/{ns}/{plural}")
}

#[test]
fn a_service_account_bound_to_mcpctl_rbac_deploys_and_rolls_back() {
    let env = Env::new("rbac", &fleet());
    let ns = env.ns.name().to_string();
    let o = env.run(&["rbac", "--name", "ci", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    for obj in list["items"].as_array().unwrap() {
        let a = env.cluster.request("POST", &path_of(obj, &ns), Some(obj));
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let kubeconfig = env.path("ci.kubeconfig");
    env.cluster
        .write_service_account_kubeconfig(&ns, "ci", &kubeconfig);

    // RBAC reads bindings from an informer: wait until the identity may list configmaps.
    env.cluster.wait_for(
        "the RoleBinding to take effect",
        std::time::Duration::from_secs(60),
        || {
            let o = run_as(&env, &kubeconfig, &["history", "github"]);
            (o.status.code() == Some(0)).then_some(()).ok_or(out(&o))
        },
    );

    for args in [
        vec!["apply", "--wait", "--timeout", "3m"],
        vec!["diff"],
        vec!["status"],
        vec![
            "deploy",
            "github",
            "--image",
            V2,
            "--no-smoke",
            "--timeout",
            "3m",
        ],
        vec!["rollback", "github", "--no-smoke"],
        vec!["reconcile"],
        vec!["apply", "--prune"],
    ] {
        let o = run_as(&env, &kubeconfig, &args);
        assert!(
            o.status.code() == Some(0) || (args[0] == "diff" && o.status.code() == Some(1)),
            "as the ServiceAccount: mcpctl {}: {}",
            args.join(" "),
            out(&o)
        );
    }

    // Take the lock rule away: a deploy meets a real 403 and says what to do.
    let role_path = format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/ci");
    let mut role = env.cluster.get(&role_path).expect("the Role");
    let all_rules = role["rules"].clone();
    let rules: Vec<Value> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["apiGroups"][0] != "coordination.k8s.io")
        .cloned()
        .collect();
    role["rules"] = Value::Array(rules);
    let a = env.cluster.request("PUT", &role_path, Some(&role));
    assert_eq!(a.status, 200, "{}", a.body);
    env.cluster.wait_for(
        "the narrowed Role to take effect",
        std::time::Duration::from_secs(60),
        || {
            let o = run_as(
                &env,
                &kubeconfig,
                &["deploy", "github", "--image", V2, "--no-smoke"],
            );
            let err = String::from_utf8_lossy(&o.stderr).to_string();
            (o.status.code() == Some(1) && err.contains("403"))
                .then_some(err)
                .ok_or(out(&o))
        },
    );
    let o = run_as(
        &env,
        &kubeconfig,
        &["deploy", "github", "--image", V2, "--no-smoke"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("leases") && err.contains("mcpctl rbac"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    // The whole Role again: the identity uninstalls the server (every rendered kind deleted).
    let mut role = env.cluster.get(&role_path).expect("the Role");
    role["rules"] = all_rules;
    let a = env.cluster.request("PUT", &role_path, Some(&role));
    assert_eq!(a.status, 200, "{}", a.body);
    env.cluster.wait_for(
        "the whole Role to take effect for delete",
        std::time::Duration::from_secs(60),
        || {
            let o = run_as(&env, &kubeconfig, &["delete", "github", "--yes"]);
            (o.status.code() == Some(0)).then_some(()).ok_or(out(&o))
        },
    );
    let deployment = format!("/apis/apps/v1/namespaces/{ns}/deployments/github-blue");
    assert!(env.cluster.get(&deployment).is_none(), "github-blue left");
}
