//! Canary deploys against the test API server and a real Prometheus
//! (`test_prometheus`, scraping an endpoint whose error rates each test
//! sets): every router promoted and rolled back, the analysis semantics end
//! to end, `promote` and `abort` from a second process, signals, resume,
//! `apply` during a canary, and autoscaling.
//!
//! Every test has its own server name: the one Prometheus of this binary
//! keeps their series apart. Nothing waits for time: each wait is for a
//! condition (journal step, Prometheus data), with a generous deadline.

use std::time::Duration;

use serde_json::Value;
use test_prometheus::{Prometheus, Traffic};

use crate::cluster_support::{Env, NS, out};
use crate::deploy::kill;

const V1: &str = "ghcr.io/acme/github-mcp:1.4.2";
const V2: &str = "ghcr.io/acme/github-mcp:1.5.0";
const DEADLINE: Duration = Duration::from_secs(120);

const HEALTHY: Traffic = Traffic {
    rps: 50.0,
    http_errors: 0.0,
    jsonrpc_errors: 0.0,
};
const FAILING: Traffic = Traffic {
    rps: 50.0,
    http_errors: 0.5,
    jsonrpc_errors: 0.0,
};

/// A canary fleet of one server `name` behind `router`, analysed by the
/// shared Prometheus every second over a 10 s window; `extra` is appended
/// to the server's entry.
fn fleet(name: &str, router: &str, replicas: u32, extra: &str) -> String {
    let prom = Prometheus::shared();
    let ingress = if router == "gateway-api" {
        "\n    ingress:\n      gateway: {name: public, namespace: gateways}"
    } else {
        ""
    };
    format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: {replicas}\n  router: {router}\n  strategy: canary\n\
         \x20 prometheus: {{url: \"{}\"}}\n\
         \x20 canary:\n    steps: [50, 100]\n    stepDuration: 1s\n    analysis:\n      interval: 1s\n      window: 10s\n\
         \x20     maxErrorRate: 0.05\n      minRequests: 5\n      noData: fail\n      failureLimit: 1\n\
         servers:\n  - name: {name}\n    image: {V1}{ingress}{extra}\n",
        prom.url()
    )
}

/// Installs the fleet and gives both tracks healthy traffic in Prometheus.
fn install(env: &Env, name: &str, router: &str, extra: &str) {
    install_with(env, name, router, extra, HEALTHY);
}

fn install_with(env: &Env, name: &str, router: &str, extra: &str, canary: Traffic) {
    env.write_fleet(&fleet(name, router, 4, extra));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    traffic(name, "stable", HEALTHY);
    traffic(name, "canary", canary);
}

fn traffic(name: &str, track: &str, t: Traffic) {
    let prom = Prometheus::shared();
    prom.set_traffic(NS, name, track, t);
    if t.rps > 0.0 {
        let q = format!(
            "sum(increase(mcp_requests_total{{namespace=\"{NS}\",mcp_server=\"{name}\",track=\"{track}\"}}[10s]))"
        );
        prom.wait_for(&format!("{name} {track} requests"), &q, DEADLINE, |v| {
            v.first().is_some_and(|v| *v >= 20.0)
        });
        // The error rate Prometheus computes has caught up with the change.
        let sel = format!("namespace=\"{NS}\",mcp_server=\"{name}\",track=\"{track}\"");
        let q = format!(
            "(sum(rate(mcp_requests_total{{{sel},code=~\"5..\"}}[10s])) or vector(0)) / sum(rate(mcp_requests_total{{{sel}}}[10s]))"
        );
        let want = t.http_errors;
        prom.wait_for(
            &format!("{name} {track} error rate {want}"),
            &q,
            DEADLINE,
            |v| {
                v.first()
                    .is_some_and(|v| if want > 0.0 { *v > 0.1 } else { *v < 0.01 })
            },
        );
    }
}

fn deploy(env: &Env, name: &str, extra: &[&str]) -> std::process::Output {
    let mut a = vec!["deploy", name, "--no-smoke", "--image", V2];
    a.extend_from_slice(extra);
    env.run(&a)
}

fn image(env: &Env, dep: &str) -> String {
    env.deployment(dep).unwrap()["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

fn replicas(env: &Env, dep: &str) -> i64 {
    env.deployment(dep).unwrap()["spec"]["replicas"]
        .as_i64()
        .unwrap_or(-1)
}

/// The weights the router gives (stable, canary): the route's weights, or
/// the replica ratio without a mesh.
fn weights(env: &Env, name: &str, router: &str) -> (i64, i64) {
    let route = |path: String, list: &str, refs: &str| -> (i64, i64) {
        let o = env.srv.get(&path).expect("the route exists");
        let r = &o["spec"][list][0][refs];
        (
            r[0]["weight"].as_i64().unwrap_or(-1),
            r[1]["weight"].as_i64().unwrap_or(-1),
        )
    };
    match router {
        "istio" => route(
            format!("/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices/{name}"),
            "http",
            "route",
        ),
        "gateway-api" => route(
            format!("/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/httproutes/{name}"),
            "rules",
            "backendRefs",
        ),
        _ => {
            let (s, c) = (
                replicas(env, name),
                replicas(env, &format!("{name}-canary")),
            );
            (s * 100 / (s + c), c * 100 / (s + c))
        }
    }
}

fn state(env: &Env, name: &str) -> Value {
    env.srv
        .get(&format!(
            "/api/v1/namespaces/{NS}/configmaps/mcpctl.state.acme.{name}"
        ))
        .map(|c| c["data"].clone())
        .unwrap_or(Value::Null)
}

fn inflight(env: &Env, name: &str) -> Option<Value> {
    state(env, name)["inflight"]
        .as_str()
        .map(|s| serde_json::from_str(s).unwrap())
}

/// Waits until the running deploy holds at `weight`.
fn wait_for_hold(env: &Env, name: &str, weight: u32) {
    wait_for(&format!("{name} to hold at {weight}%"), || {
        inflight(env, name).is_some_and(|op| {
            op["stepText"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("hold at {weight}%"))
        })
    });
}

fn last(env: &Env, name: &str) -> Value {
    env.history_json(name)
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A healthy canary goes through every step and is promoted: the stable
/// track runs the new image, all traffic on it, the canary at 0.
fn promoted_through_every_step(router: &str) {
    let name = format!("ok-{}", router.replace("-api", ""));
    let env = Env::start(&[]);
    install(&env, &name, router, "");
    let o = deploy(&env, &name, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let t = text(&o);
    for w in ["50%", "100%"] {
        assert!(t.contains(&format!("hold at {w}")), "{t}");
    }
    assert!(t.contains("sample 1 at 50%: PASS"), "{t}");
    assert_eq!(image(&env, &name), V2);
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(replicas(&env, &name), 4);
    assert_eq!(weights(&env, &name, router), (100, 0));
    let rev = last(&env, &name);
    assert_eq!(rev["outcome"], "succeeded");
    assert_eq!(rev["image"], V2);
    assert_eq!(rev["fromImage"], V1);
    assert!(inflight(&env, &name).is_none());
    // Rollback: the stable track back to the previous image, all traffic on it.
    let o = env.run(&["rollback", &name, "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(image(&env, &name), V1);
    assert_eq!(replicas(&env, &name), 4);
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(weights(&env, &name, router), (100, 0));
    let rev = last(&env, &name);
    assert_eq!(
        (rev["operation"].as_str(), rev["image"].as_str()),
        (Some("rollback"), Some(V1))
    );
}

/// A canary whose error rate is over the threshold is stopped at the first
/// step: exit 3, traffic all on stable (untouched), the canary scaled down,
/// the failing query, value and threshold recorded.
fn rolled_back_at_the_first_step(router: &str) {
    let name = format!("bad-{}", router.replace("-api", ""));
    let env = Env::start(&[]);
    install(&env, &name, router, "");
    traffic(&name, "canary", FAILING);
    let o = deploy(&env, &name, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let t = text(&o);
    assert!(t.contains("sample 1 at 50%: FAIL"), "{t}");
    assert!(
        !t.contains("hold at 100%"),
        "stopped at the first step: {t}"
    );
    assert_eq!(image(&env, &name), V1, "stable untouched");
    assert_eq!(replicas(&env, &name), 4);
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(weights(&env, &name, router), (100, 0));
    let rev = last(&env, &name);
    assert_eq!(rev["outcome"], "gate-failed");
    let msg = rev["message"].as_str().unwrap();
    assert!(
        msg.contains("error-rate") && msg.contains("0.05") && msg.contains("mcp_requests_total"),
        "which query, value and threshold: {msg}"
    );
}

#[test]
fn service_router_healthy_canary_is_promoted() {
    promoted_through_every_step("service");
}

#[test]
fn istio_healthy_canary_is_promoted() {
    promoted_through_every_step("istio");
}

#[test]
fn gateway_healthy_canary_is_promoted() {
    promoted_through_every_step("gateway-api");
}

#[test]
fn service_router_bad_canary_is_rolled_back() {
    rolled_back_at_the_first_step("service");
}

#[test]
fn istio_bad_canary_is_rolled_back() {
    rolled_back_at_the_first_step("istio");
}

#[test]
fn gateway_bad_canary_is_rolled_back() {
    rolled_back_at_the_first_step("gateway-api");
}

/// Starts a deploy that holds each step for ten minutes, and waits until
/// it holds at `weight`.
fn spawn_holding(env: &Env, name: &str, steps: &str, weight: u32) -> std::process::Child {
    let child = env.spawn(&[
        "deploy",
        name,
        "--no-smoke",
        "--image",
        V2,
        "--steps",
        steps,
        "--step-duration",
        "10m",
    ]);
    wait_for_hold(env, name, weight);
    child
}

fn finish(child: std::process::Child) -> std::process::Output {
    child.wait_with_output().expect("the deploy ends")
}

#[test]
fn prometheus_unreachable_mid_rollout_rolls_back_and_never_promotes() {
    let name = "unreach";
    let env = Env::start(&[]);
    install(&env, name, "istio", "");
    let proxy = Switch::to(Prometheus::shared().url());
    let url = proxy.url();
    let child = env.spawn(&[
        "deploy",
        name,
        "--no-smoke",
        "--image",
        V2,
        "--step-duration",
        "10m",
        "--prometheus-url",
        &url,
    ]);
    wait_for_hold(&env, name, 50);
    proxy.cut();
    let o = finish(child);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let t = text(&o);
    assert!(
        t.contains("query error"),
        "a Prometheus failure is a failed sample: {t}"
    );
    assert!(!t.contains("hold at 100%"), "{t}");
    assert_eq!(image(&env, name), V1, "never promoted");
    assert_eq!(weights(&env, name, "istio"), (100, 0));
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
}

#[test]
fn no_traffic_applies_the_no_data_policy() {
    let name = "nodata";
    let env = Env::start(&[]);
    install_with(&env, name, "istio", "", Traffic::default());
    // noData: fail (the fleet's): no data is a failed sample.
    let o = deploy(&env, name, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let t = text(&o);
    assert!(t.contains("no data"), "{t}");
    assert_eq!(image(&env, name), V1);
    assert_eq!(weights(&env, name, "istio"), (100, 0));
    // --no-data pass: the same canary is promoted.
    let o = deploy(&env, name, &["--no-data", "pass"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(text(&o).contains("NO-DATA"), "{}", text(&o));
    assert_eq!(image(&env, name), V2);
}

#[test]
fn a_baseline_relative_gate_tolerates_the_stable_error_rate() {
    let name = "baseline";
    let env = Env::start(&[]);
    install(&env, name, "gateway-api", "");
    // Both tracks fail half their requests: a known steady error rate.
    traffic(name, "stable", FAILING);
    traffic(name, "canary", FAILING);
    let o = deploy(&env, name, &[]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "above maxErrorRate without a baseline: {}",
        out(&o)
    );
    let extra = "\n    canary:\n      analysis:\n        maxErrorRateIncrease: 0.1";
    env.write_fleet(&fleet(name, "gateway-api", 4, extra));
    let o = deploy(&env, name, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "no worse than stable: {}",
        out(&o)
    );
    // The canary's limit is the stable track's rate plus the increase,
    // above the absolute 0.05.
    let t = text(&o);
    let line = t
        .lines()
        .find(|l| l.contains("canary error-rate:"))
        .unwrap_or_else(|| panic!("{t}"));
    let limit: f64 = line
        .split("<= ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(limit > 0.3, "{line}");
    assert_eq!(image(&env, name), V2);
}

#[test]
fn abort_from_a_second_process_restores_stable_and_the_deploy_exits_6() {
    let name = "abort";
    let env = Env::start(&[]);
    install(&env, name, "istio", "");
    let child = spawn_holding(&env, name, "50,100", 50);
    assert_eq!(weights(&env, name, "istio"), (50, 50));
    let a = env.run(&["abort", name, "-o", "json"]);
    assert_eq!(a.status.code(), Some(0), "{}", out(&a));
    let doc: Value = serde_json::from_slice(&a.stdout).unwrap_or_else(|_| panic!("{}", out(&a)));
    assert_eq!(doc["schemaVersion"], 1);
    assert_eq!(
        doc["outcome"], "ended",
        "the running deploy restored stable: {doc}"
    );
    assert_eq!(doc["request"], "abort");
    assert!(doc["operation"].is_string());
    let o = finish(child);
    assert_eq!(o.status.code(), Some(6), "{}", out(&o));
    assert!(
        text(&o).contains("aborted by `mcpctl abort`"),
        "{}",
        text(&o)
    );
    assert_eq!(weights(&env, name, "istio"), (100, 0));
    assert_eq!(image(&env, name), V1);
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(last(&env, name)["outcome"], "interrupted");
    assert!(
        doc["message"].as_str().unwrap().contains("stopped"),
        "{doc}"
    );
}

#[test]
fn promote_ends_a_step_and_promote_full_skips_the_rest() {
    let name = "promote";
    let env = Env::start(&[]);
    install(&env, name, "gateway-api", "");
    let child = spawn_holding(&env, name, "10,50,100", 10);
    let p = env.run(&["promote", name]);
    assert_eq!(p.status.code(), Some(0), "{}", out(&p));
    wait_for_hold(&env, name, 50);
    assert_eq!(weights(&env, name, "gateway-api"), (50, 50));
    let p = env.run(&["promote", name, "--full"]);
    assert_eq!(p.status.code(), Some(0), "{}", out(&p));
    let o = finish(child);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let t = text(&o);
    assert!(
        !t.contains("hold at 100%"),
        "--full skipped the last step: {t}"
    );
    assert_eq!(image(&env, name), V2);
    assert_eq!(weights(&env, name, "gateway-api"), (100, 0));
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(last(&env, name)["outcome"], "succeeded");
}

#[test]
fn sigint_mid_step_restores_stable_and_exits_6() {
    let name = "sigint";
    let env = Env::start(&[]);
    install(&env, name, "service", "");
    let child = spawn_holding(&env, name, "50,100", 50);
    assert_eq!(weights(&env, name, "service"), (50, 50));
    kill(&child, "-INT");
    let o = finish(child);
    assert_eq!(o.status.code(), Some(6), "{}", out(&o));
    assert_eq!(weights(&env, name, "service"), (100, 0));
    assert_eq!(replicas(&env, name), 4);
    assert_eq!(image(&env, name), V1);
    assert!(inflight(&env, name).is_none());
}

#[test]
fn sigkill_then_rollback_restores_stable() {
    let name = "killrb";
    let env = Env::start(&[]);
    install(&env, name, "istio", "");
    let child = spawn_holding(&env, name, "50,100", 50);
    kill(&child, "-KILL");
    finish(child);
    assert_eq!(weights(&env, name, "istio"), (50, 50), "left mid-canary");
    // The dead process's lock is broken explicitly (it would expire in 30 s).
    let o = env.run(&["rollback", name, "--force-unlock"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(weights(&env, name, "istio"), (100, 0));
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(image(&env, name), V1);
    assert!(inflight(&env, name).is_none());
}

#[test]
fn sigkill_then_abort_restores_stable_once_the_lock_expires() {
    let name = "killab";
    let env = Env::start(&[]);
    install(&env, name, "gateway-api", "");
    let child = spawn_holding(&env, name, "50,100", 50);
    kill(&child, "-KILL");
    finish(child);
    let o = env.run(&["abort", name, "--timeout", "3m", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    assert_eq!(doc["outcome"], "undone", "{doc}");
    assert_eq!(weights(&env, name, "gateway-api"), (100, 0));
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(image(&env, name), V1);
    assert!(inflight(&env, name).is_none());
    assert!(
        text(&o).contains("undone by `mcpctl abort`"),
        "{}",
        text(&o)
    );
}

#[test]
fn sigkill_then_resume_continues_from_the_recorded_step() {
    let name = "killres";
    let env = Env::start(&[]);
    install(&env, name, "service", "");
    let child = env.spawn(&[
        "deploy",
        name,
        "--no-smoke",
        "--image",
        V2,
        "--steps",
        "50,100",
        "--step-duration",
        "4s",
    ]);
    wait_for_hold(&env, name, 50);
    kill(&child, "-KILL");
    finish(child);
    let step = inflight(&env, name).unwrap()["step"].as_u64().unwrap();
    let o = env.run(&["deploy", name, "--resume", "--force-unlock"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let t = text(&o);
    assert!(
        t.contains(&format!("resumed at step {}", step + 1)),
        "continues from the recorded step: {t}"
    );
    assert_eq!(image(&env, name), V2);
    assert_eq!(weights(&env, name, "service"), (100, 0));
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(last(&env, name)["outcome"], "succeeded");
}

#[test]
fn apply_during_a_canary_changes_no_weight_and_no_replica_count() {
    for router in ["istio", "service"] {
        let name = format!("apply-{router}");
        let env = Env::start(&[]);
        install(&env, &name, router, "");
        let child = spawn_holding(&env, &name, "50,100", 50);
        let before = (
            weights(&env, &name, router),
            replicas(&env, &name),
            replicas(&env, &format!("{name}-canary")),
        );
        // While the deploy runs, apply refuses to touch the server.
        env.srv.clear_requests();
        let o = env.run(&["apply"]);
        assert_eq!(o.status.code(), Some(5), "{}", out(&o));
        let t = text(&o);
        assert!(
            t.contains(&format!("server {name} is locked by tester@")) && t.contains("is running"),
            "a running deploy is running, not interrupted: {t}"
        );
        let apply_writes: Vec<_> = crate::cluster_support::writes(&env.srv.requests())
            .into_iter()
            // The running deploy renews its lock meanwhile.
            .filter(|r| !r.path.contains("/leases/"))
            .map(|r| r.path.clone())
            .collect();
        assert!(apply_writes.is_empty(), "{apply_writes:?}");
        kill(&child, "-KILL");
        finish(child);
        // Even forced past the lock and the interrupted record, apply
        // renders the traffic the cluster has.
        let o = env.run(&["apply", "--force-unlock", "--force"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let after = (
            weights(&env, &name, router),
            replicas(&env, &name),
            replicas(&env, &format!("{name}-canary")),
        );
        assert_eq!(before, after, "{router}: {}", out(&o));
    }
}

#[test]
fn autoscaled_tracks_keep_their_replica_counts_through_steps_and_promotion() {
    let name = "hpa";
    let env = Env::start(&[]);
    install(
        &env,
        name,
        "istio",
        "\n    autoscaling: {minReplicas: 2, maxReplicas: 8, targetCPU: 70}",
    );
    // The autoscaler has scaled the stable track to 5.
    let path = format!(
        "/apis/apps/v1/namespaces/{NS}/deployments/{name}?fieldManager=kube-controller-manager"
    );
    let code = crate::cluster_support::http(
        &env.srv,
        "PATCH",
        &path,
        "application/merge-patch+json",
        r#"{"spec":{"replicas":5}}"#,
    );
    assert_eq!(code, 200);
    let child = spawn_holding(&env, name, "50,100", 50);
    assert_eq!(
        replicas(&env, name),
        5,
        "stable untouched while the canary runs"
    );
    assert_eq!(
        replicas(&env, &format!("{name}-canary")),
        3,
        "sized from what stable runs"
    );
    let p = env.run(&["promote", name]);
    assert_eq!(p.status.code(), Some(0), "{}", out(&p));
    wait_for_hold(&env, name, 100);
    assert_eq!(replicas(&env, name), 5);
    assert_eq!(replicas(&env, &format!("{name}-canary")), 5);
    let p = env.run(&["promote", name, "--full"]);
    assert_eq!(p.status.code(), Some(0), "{}", out(&p));
    let o = finish(child);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(replicas(&env, name), 5, "no jump on promotion");
    assert_eq!(replicas(&env, &format!("{name}-canary")), 0);
    assert_eq!(image(&env, name), V2);
    let hpa = env
        .srv
        .get(&format!(
            "/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/{name}"
        ))
        .unwrap();
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], name);
}

#[test]
fn dry_run_prints_steps_weights_and_every_query() {
    let name = "dry";
    let env = Env::start(&[]);
    install(&env, name, "istio", "");
    env.srv.clear_requests();
    let o = env.run(&[
        "deploy",
        name,
        "--image",
        V2,
        "--dry-run",
        "--steps",
        "20,60,100",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let t = text(&o);
    for w in ["20", "60", "100"] {
        assert!(t.contains(&format!("set the canary weight to {w}%")), "{t}");
        assert!(t.contains(&format!("hold at {w}%")), "{t}");
    }
    assert!(
        t.contains(&format!("mcp_server=\"{name}\",track=\"canary\"")),
        "{t}"
    );
    assert!(t.contains("canary error-rate:"), "{t}");
    assert!(t.contains("[10s]"), "the window is filled in: {t}");
    assert!(crate::cluster_support::writes(&env.srv.requests()).is_empty());
    let o = env.run(&[
        "deploy",
        name,
        "--image",
        V2,
        "--dry-run",
        "--steps",
        "50,20",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(text(&o).contains("strictly increasing"), "{}", text(&o));
}

/// A TCP forwarder to Prometheus that can be cut: after `cut`, every
/// connection is closed at once (Prometheus unreachable).
struct Switch {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Switch {
    fn to(url: &str) -> Switch {
        use std::sync::atomic::Ordering;
        let upstream = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let o = open.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(c) = c else { continue };
                if !o.load(Ordering::SeqCst) {
                    drop(c);
                    continue;
                }
                let Ok(u) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                let (mut c2, mut u2) = (c.try_clone().unwrap(), u.try_clone().unwrap());
                let (mut c, mut u) = (c, u);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c, &mut u);
                    let _ = u.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut u2, &mut c2);
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Switch { port, open }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn ndjson_events_of_a_rolled_back_canary_come_in_order() {
    let name = "ndjson";
    let env = Env::start(&[]);
    install(&env, name, "istio", "");
    traffic(name, "canary", FAILING);
    let o = deploy(&env, name, &["--events", "ndjson"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let events: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let pos = |what: &str, pred: &dyn Fn(&Value) -> bool| {
        events
            .iter()
            .position(|e| e["event"] == what && pred(e))
            .unwrap_or_else(|| panic!("no {what} in {kinds:?}"))
    };
    let started = pos("operationStarted", &|_| true);
    let weight50 = pos("weightSet", &|e| e["weight"] == 50);
    let sample = pos("sample", &|e| e["verdict"] == "fail");
    let restoring = pos("restoring", &|_| true);
    let weight0 = pos("weightSet", &|e| e["weight"] == 0);
    let finished = pos("finished", &|_| true);
    assert!(
        started < weight50
            && weight50 < sample
            && sample < restoring
            && restoring < weight0
            && weight0 < finished,
        "{kinds:?}"
    );
    assert_eq!(finished, events.len() - 1);
    let s = &events[sample];
    assert_eq!(s["failed"], 1);
    assert_eq!(s["failureLimit"], 1);
    let check = s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "error-rate")
        .unwrap();
    assert_eq!(check["outcome"], "fail");
    assert_eq!(check["threshold"], "<= 0.05");
    assert!(check["value"].as_f64().unwrap() > 0.05, "{check}");
    assert!(
        check["query"]
            .as_str()
            .unwrap()
            .contains("mcp_requests_total")
    );
    assert_eq!(events[finished]["exitCode"], 3);
    // Every event carries its time.
    assert!(events.iter().all(|e| e["time"].is_string()));
}

#[test]
fn on_github_actions_a_failed_sample_is_annotated_and_summarised() {
    let name = "gha";
    let env = Env::start(&[]);
    install(&env, name, "gateway-api", "");
    traffic(name, "canary", FAILING);
    let summary = env.dir.path().join("summary.md");
    let o = env
        .command(&["deploy", name, "--no-smoke", "--image", V2])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let t = text(&o);
    assert!(
        t.contains("::warning title=mcpctl canary sample 1 at 50%::"),
        "{t}"
    );
    assert!(
        t.contains("::error title=mcpctl gate-failed (exit 3)::"),
        "{t}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("**Outcome:** gate-failed (exit 3)"), "{md}");
    assert!(md.contains("canary weight 50%"), "{md}");
    assert!(md.contains("sample 1 at 50%: FAIL"), "{md}");
    assert!(md.contains("canary weight 0%"), "the restore: {md}");
}

#[test]
fn on_a_terminal_a_hold_is_a_bar_with_the_time_left_and_through_a_pipe_a_line() {
    let name = "pty";
    let env = Env::start(&[]);
    install(&env, name, "istio", "");
    let args = [
        "deploy",
        name,
        "--no-smoke",
        "--image",
        V2,
        "--steps",
        "100",
        "--step-duration",
        "3s",
    ];
    let (code, screen) = crate::terminal::run_in_pty(env.command(&args));
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("hold at 100% ["), "{screen}");
    assert!(screen.contains(" left"), "{screen}");
    assert!(
        screen.contains("sample 1 at 100%: PASS"),
        "samples print above the bar: {screen}"
    );
    // Through a pipe: one plain line for the hold, no escape codes.
    let o = env.run(&["rollback", name, "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = deploy(&env, name, &["--steps", "100", "--step-duration", "1s"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let t = text(&o);
    assert!(
        t.contains("holding at 100% for 1s, sampling Prometheus"),
        "{t}"
    );
    assert!(!t.contains('\x1b'), "{t}");
}

/// Waits (generously) until `done` holds; fails naming `what` otherwise.
fn wait_for(what: &str, done: impl FnMut() -> bool) {
    crate::cluster_apply::wait_until_within(120, &format!("never happened: {what}"), done);
}
