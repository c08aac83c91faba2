//! A blue-green deploy, an `apply` between deploys and a rollback against the real API server
//! and controller manager: the real server-side apply decides field ownership, so this is where
//! "apply never moves traffic" and "a switch never drops an autoscaled colour's replicas" are
//! proven for real.

use serde_json::Value;

use crate::support::*;

const V1: &str = "ghcr.io/acme/github-mcp:1.4.2";
const V2: &str = "ghcr.io/acme/github-mcp:1.5.0";

fn fleet() -> String {
    format!(
        "fleet: acme\nnamespace: mcp\ndefaults:\n  replicas: 2\n  router: service\n  strategy: blue-green\n\
         servers:\n  - name: github\n    image: {V1}\n    autoscaling: {{minReplicas: 2, maxReplicas: 6, targetCPU: 70}}\n"
    )
}

fn colour(env: &Env) -> String {
    get(env, "v1", "services/github")["spec"]["selector"]["mcpctl.io/colour"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn deploy_apply_and_rollback_on_a_real_api_server() {
    let env = Env::new("bluegreen", &fleet());
    let o = env.run(&["apply", "--wait", "--timeout", "3m"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "blue");
    // The traffic field has the rollout manager as an owner from creation on.
    let svc = get(&env, "v1", "services/github");
    assert!(
        owners(&svc, "selector").contains(&"mcpctl-rollout".to_string()),
        "{:?}",
        svc["metadata"]["managedFields"]
    );

    let o = env.run(&[
        "deploy",
        "github",
        "--image",
        V2,
        "--no-smoke",
        "--timeout",
        "3m",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "green");
    assert_eq!(replicas(&env, "github-green"), 2);
    let hpa = get(&env, "autoscaling/v2", "horizontalpodautoscalers/github");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"], "github-green",
        "the switch moves the autoscaler to the new colour"
    );

    // apply: the HPA follows green, green keeps its replicas, traffic stays on green.
    let o = env.run(&["apply", "--wait", "--timeout", "3m"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let hpa = get(&env, "autoscaling/v2", "horizontalpodautoscalers/github");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "github-green");
    assert_eq!(colour(&env), "green");
    assert_eq!(
        replicas(&env, "github-green"),
        2,
        "server-side apply dropped the new active colour's replicas"
    );
    let green = get(&env, "apps/v1", "deployments/github-green");
    assert_eq!(
        green["spec"]["template"]["spec"]["containers"][0]["image"],
        V2
    );
    let svc = get(&env, "v1", "services/github");
    assert_eq!(
        owners(&svc, "selector"),
        vec!["mcpctl-rollout".to_string()],
        "only the rollout manager owns the traffic field after a switch"
    );

    // Rollback while blue still runs: one switch.
    let o = env.run(&["rollback", "github", "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "blue");
    assert_eq!(replicas(&env, "github-blue"), 2);
    let o = env.run(&["history", "github", "-o", "json"]);
    let h: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(h["schemaVersion"], 1, "{h}");
    let last = h["revisions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["operation"], "rollback");
    assert_eq!(last["image"], V1);
    assert_eq!(last["traffic"], "blue");
}
