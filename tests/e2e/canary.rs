//! A canary deploy, an `apply` after it and a rollback against the real API server and
//! controller manager, analysed by the real Prometheus of the tests: the real server-side apply
//! decides who owns the weights and replica counts, so this is where "the rollout manager owns
//! the weights and `apply` never moves them" is proven for real.

use test_prometheus::Prometheus;

use crate::support::*;

const V1: &str = "ghcr.io/acme/github-mcp:1.4.2";
const V2: &str = "ghcr.io/acme/github-mcp:1.5.0";

fn fleet() -> String {
    format!(
        "fleet: acme\nnamespace: mcp\ndefaults:\n  replicas: 2\n  router: istio\n  strategy: canary\n\
         \x20 prometheus: {{url: \"{}\"}}\n\
         servers:\n  - name: github\n    image: {V1}\n",
        Prometheus::shared().url()
    )
}

fn weights(env: &Env) -> (i64, i64) {
    let vs = get(env, "networking.istio.io/v1", "virtualservices/github");
    let r = &vs["spec"]["http"][0]["route"];
    (
        r[0]["weight"].as_i64().unwrap_or(-1),
        r[1]["weight"].as_i64().unwrap_or(-1),
    )
}

#[test]
fn canary_apply_and_rollback_on_a_real_api_server() {
    let env = Env::new("canary", &fleet());
    let o = env.run(&["apply", "--wait", "--timeout", "3m"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(weights(&env), (100, 0));

    // No traffic reaches this server in Prometheus: `--no-data pass` lets the analysis pass
    // on an empty answer (the query itself must still succeed on the real server).
    let o = env.run(&[
        "deploy",
        "github",
        "--image",
        V2,
        "--no-smoke",
        "--steps",
        "50,100",
        "--step-duration",
        "1s",
        "--analysis-interval",
        "1s",
        "--no-data",
        "pass",
        "--timeout",
        "3m",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(
        text.contains("canary weight 50% (istio, read back)"),
        "{text}"
    );
    assert!(text.contains("sample 1 at 50%: NO-DATA"), "{text}");
    assert_eq!(weights(&env), (100, 0));
    assert_eq!(image(&env, "github"), V2);
    assert_eq!(replicas(&env, "github"), 2);
    assert_eq!(replicas(&env, "github-canary"), 0);
    let vs = get(&env, "networking.istio.io/v1", "virtualservices/github");
    assert_eq!(
        owners(&vs, "http"),
        vec!["mcpctl-rollout".to_string()],
        "only the rollout manager owns the weights"
    );
    let canary = get(&env, "apps/v1", "deployments/github-canary");
    assert_eq!(
        owners(&canary, "replicas"),
        vec!["mcpctl-rollout".to_string()]
    );

    // apply after the canary: no weight, no replica count, no image moves.
    let o = env.run(&["apply", "--wait", "--timeout", "3m"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(weights(&env), (100, 0));
    assert_eq!(replicas(&env, "github-canary"), 0);
    assert_eq!(image(&env, "github"), V2, "apply keeps the deployed image");

    // Rollback: the stable track back to V1, traffic on it.
    let o = env.run(&["rollback", "github", "--no-smoke", "--timeout", "3m"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(image(&env, "github"), V1);
    assert_eq!(weights(&env), (100, 0));
}
