//! A blue-green `deploy` held by the real MCP gates: the preview and active
//! Services proxy (through the test API server) to real MCP servers (rmcp,
//! through `mcp-fixture`), so the smoke test and the tool-schema gate run as
//! they do against a cluster.

use mcp_fixture::{Era, McpFixture};
use serde_json::{Value, json};

use crate::cluster_support::{Env, NS, fleet_yaml, out};
use crate::deploy::colour;

const V1: &str = "ghcr.io/acme/github-mcp:1.4.2";
const V2: &str = "ghcr.io/acme/github-mcp:1.5.0";

fn search(extra: Value) -> Value {
    let mut props = json!({"q": {"type": "string"}});
    props
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"name": "search", "inputSchema": {"type": "object", "properties": props, "required": ["q"]}})
}

/// A blue-green `github` whose active Service proxies to `active` and
/// preview Service to `preview`, applied and rolled out.
fn env(active: &McpFixture, preview: &McpFixture) -> Env {
    let base = |fx: &McpFixture| format!("http://127.0.0.1:{}", fx.port());
    let env = Env::start_with(|b| {
        b.proxy_service(NS, "github", 8080, &base(active))
            .proxy_service(NS, "github-preview", 8080, &base(preview))
    });
    env.write_fleet(&fleet_yaml(V1, 2).replace("strategy: rolling", "strategy: blue-green"));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    env
}

/// Deploys V2 and expects the gate to fail with `needle`, traffic on blue.
fn deploy_fails_with(env: &Env, needle: &str) {
    let o = env.run(&["deploy", "github", "--image", V2]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "{err}");
    assert_eq!(colour(env), "blue");
}

#[test]
fn a_compatible_candidate_passes_both_gates_and_is_switched_to() {
    let active = McpFixture::builder()
        .era(Era::Legacy)
        .tools_json(json!([search(json!({}))]))
        .start_blocking();
    let preview = McpFixture::builder()
        .era(Era::Modern)
        .server_info("github-mcp", "1.5.0")
        .tools_json(json!([search(json!({"limit": {"type": "integer"}})), {"name": "more", "inputSchema": {"type": "object"}}]))
        .start_blocking();
    let env = env(&active, &preview);
    let o = env.run(&["deploy", "github", "--image", V2]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "green");
    // The candidate was smoke-tested and listed for the gate; the active
    // version was listed as the baseline.
    assert_eq!(preview.count("tools/list"), 2, "{:?}", preview.requests());
    assert_eq!(active.count("tools/list"), 1, "{:?}", active.requests());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains("github-mcp 1.5.0 speaks MCP 2026-07-28, 2 tools"),
        "{text}"
    );
}

#[test]
fn a_breaking_candidate_fails_the_tool_gate_and_traffic_stays() {
    let active = McpFixture::builder()
        .era(Era::Legacy)
        .tools_json(
            json!([search(json!({})), {"name": "export", "inputSchema": {"type": "object"}}]),
        )
        .start_blocking();
    let preview = McpFixture::builder()
        .era(Era::Legacy)
        .tools_json(json!([search(json!({}))]))
        .start_blocking();
    let env = env(&active, &preview);
    deploy_fails_with(
        &env,
        "1 breaking tool change against github: export: tool removed",
    );

    // Allowed on purpose, the same candidate goes out.
    let o = env.run(&["deploy", "github", "--image", V2, "--allow-breaking-tools"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "green");
}

#[test]
fn a_candidate_failing_its_smoke_test_is_never_switched_to() {
    let active = McpFixture::builder().era(Era::Legacy).start_blocking();
    let preview = McpFixture::builder()
        .era(Era::Legacy)
        .tools_list_error(-32603, "cannot reach the database")
        .start_blocking();
    let env = env(&active, &preview);
    deploy_fails_with(
        &env,
        "failed at tools/list: JSON-RPC error -32603: cannot reach the database",
    );
}

/// A canary `gates` whose `-stable` and `-canary` Services proxy to real MCP
/// servers, applied and rolled out, with healthy traffic in Prometheus.
fn canary_env(stable: &McpFixture, canary: &McpFixture) -> Env {
    use test_prometheus::{Prometheus, Traffic};
    let base = |fx: &McpFixture| format!("http://127.0.0.1:{}", fx.port());
    let env = Env::start_with(|b| {
        b.proxy_service(NS, "gates-stable", 8080, &base(stable))
            .proxy_service(NS, "gates-canary", 8080, &base(canary))
    });
    let prom = Prometheus::shared();
    env.write_fleet(&format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 2\n  router: istio\n  strategy: canary\n\
         \x20 prometheus: {{url: \"{}\"}}\n  canary:\n    steps: [100]\n    stepDuration: 1s\n\
         \x20   analysis: {{interval: 1s, window: 10s, minRequests: 1, noData: pass}}\n\
         servers:\n  - name: gates\n    image: {V1}\n",
        prom.url()
    ));
    prom.set_traffic(NS, "gates", "canary", Traffic::default());
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    env
}

fn canary_weight(env: &Env) -> i64 {
    env.srv
        .get(&format!(
            "/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices/gates"
        ))
        .unwrap()["spec"]["http"][0]["route"][1]["weight"]
        .as_i64()
        .unwrap()
}

#[test]
fn a_canary_is_smoke_tested_and_its_tools_checked_before_any_traffic_moves() {
    let stable = McpFixture::builder()
        .era(Era::Legacy)
        .tools_json(
            json!([search(json!({})), {"name": "export", "inputSchema": {"type": "object"}}]),
        )
        .start_blocking();
    let canary = McpFixture::builder()
        .era(Era::Modern)
        .tools_json(json!([search(json!({}))]))
        .start_blocking();
    let env = canary_env(&stable, &canary);
    let o = env.run(&["deploy", "gates", "--image", V2]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("export: tool removed"), "{err}");
    assert!(!err.contains("set the canary weight to 100%"), "{err}");
    assert_eq!(canary_weight(&env), 0);
    assert!(
        canary.count("tools/list") >= 1,
        "the canary Service was tested"
    );
    assert_eq!(
        stable.count("tools/list"),
        1,
        "the stable Service is the baseline"
    );

    let o = env.run(&["deploy", "gates", "--image", V2, "--allow-breaking-tools"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(
        canary_weight(&env),
        0,
        "promoted: all traffic on stable again"
    );
    let d = env
        .srv
        .get(&format!("/apis/apps/v1/namespaces/{NS}/deployments/gates"))
        .unwrap();
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], V2);
}
