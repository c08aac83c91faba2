//! `deploy`, `rollback` and `reconcile` against the test API server: the
//! rollout engine end to end (lock, journal, compensation, due tasks).
//! The MCP gates have their own tests; here `--no-smoke` keeps to the engine.

use std::time::Duration;

use serde_json::{Value, json};
use test_apiserver::Behaviour;

use crate::cluster_support::{Env, NS, describe, fleet_yaml, out, writes};

const V1: &str = "ghcr.io/acme/github-mcp:1.4.2";
const V2: &str = "ghcr.io/acme/github-mcp:1.5.0";

fn blue_green(env: &Env, extra: &str) {
    env.write_fleet(&format!(
        "{}{extra}",
        fleet_yaml(V1, 2).replace("strategy: rolling", "strategy: blue-green")
    ));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

/// The active colour: the main Service's selector.
pub fn colour(env: &Env) -> String {
    env.srv
        .get(&format!("/api/v1/namespaces/{NS}/services/github"))
        .unwrap()["spec"]["selector"]["mcpctl.io/colour"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn image(d: &Value) -> &str {
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
}

fn replicas(env: &Env, name: &str) -> i64 {
    env.deployment(name).unwrap()["spec"]["replicas"]
        .as_i64()
        .unwrap_or(1)
}

fn state(env: &Env) -> Value {
    env.github_state()["data"].clone()
}

fn inflight(env: &Env) -> Option<Value> {
    state(env)["inflight"]
        .as_str()
        .map(|s| serde_json::from_str(s).unwrap())
}

fn deploy(env: &Env, args: &[&str]) -> std::process::Output {
    let mut a = vec!["deploy", "github", "--no-smoke"];
    a.extend_from_slice(args);
    env.run(&a)
}

/// Starts a deploy whose candidate never becomes ready and waits until the
/// journal says it is waiting for it.
fn deploy_stuck_in_wait(env: &Env) -> std::process::Child {
    env.srv
        .set_deployment_behaviour(NS, "github-green", Behaviour::NeverReady);
    let child = env.spawn(&[
        "deploy",
        "github",
        "--no-smoke",
        "--image",
        V2,
        "--timeout",
        "10m",
    ]);
    wait_for("the deploy to wait for github-green", || {
        inflight(env).is_some_and(|op| op["stepText"].as_str().unwrap_or("").starts_with("wait"))
    });
    child
}

pub fn kill(child: &std::process::Child, sig: &str) {
    let st = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn a_blue_green_deploy_switches_once_records_and_leaves_the_old_colour_due() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    env.srv.clear_requests();
    let o = deploy(&env, &["--image", V2]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("the MCP smoke test is skipped"),
        "skipping the gate is loud: {err}"
    );
    assert_eq!(colour(&env), "green");
    assert_eq!(image(&env.deployment("github-green").unwrap()), V2);
    assert_eq!(replicas(&env, "github-green"), 2);
    assert_eq!(
        replicas(&env, "github-blue"),
        2,
        "the old colour stays up for rollback"
    );
    // Exactly one write moved traffic: the Service selector.
    let reqs = env.srv.requests();
    // Audit logs attribute every request to mcpctl.
    let ua = concat!("mcpctl/", env!("CARGO_PKG_VERSION"));
    assert!(
        reqs.iter().all(|r| r.user_agent.as_deref() == Some(ua)),
        "{:?}",
        reqs.iter()
            .map(|r| &r.user_agent)
            .collect::<std::collections::BTreeSet<_>>()
    );
    let svc_writes: Vec<_> = writes(&reqs)
        .into_iter()
        .filter(|r| r.path.contains("/services/"))
        .collect();
    assert_eq!(svc_writes.len(), 1, "{}", describe(&reqs));
    let h = env.history_json("github");
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(last["operation"], "deploy");
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["image"], V2);
    assert_eq!(last["fromImage"], V1);
    assert_eq!(last["traffic"], "green");
    assert_eq!(last["images"], json!({"blue": V1, "green": V2}));
    let st = state(&env);
    assert!(st.get("inflight").is_none(), "{st}");
    let due: Value = serde_json::from_str(st["due"].as_str().unwrap()).unwrap();
    assert_eq!(due["schemaVersion"], 2);
    assert_eq!(due["tasks"][0]["action"]["name"], "github-blue");
    // status shows the true active colour and the due task.
    let rows = env.status_json();
    assert_eq!(rows[0]["activeColour"], "green", "{rows}");
    assert_eq!(rows[0]["due"][0]["action"]["action"], "scale");
    // The fleet file still names V1: status shows the drift.
    assert_eq!(rows[0]["fleetImage"], V1, "{rows}");
    assert_eq!(rows[0]["image"], V2);
    let o = env.run(&["status"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("green active")
            && text.contains("scale deployment github-blue to 0")
            && text.contains("1.5.0 (file: 1.4.2)"),
        "{text}"
    );

    // An apply between deploys moves no traffic and keeps the deployed image.
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "green");
    assert_eq!(image(&env.deployment("github-green").unwrap()), V2);
    let reqs = env.srv.requests();
    assert!(
        !writes(&reqs)
            .iter()
            .any(
                |r| r.query_param("fieldManager").as_deref() == Some("mcpctl-rollout")
                    && r.path.ends_with("/services/github")
            ),
        "apply wrote the traffic Service's rollout fields:\n{}",
        describe(&reqs)
    );
}

#[test]
fn rollback_while_the_old_colour_runs_is_one_write_and_after_scale_down_a_redeploy() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let o = deploy(&env, &["--image", V2]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    let o = env.run(&["rollback", "github", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("switch traffic from green to blue"),
        "{}",
        out(&o)
    );
    // Instant: one write to the Service, none to Deployments.
    env.srv.clear_requests();
    let o = env.run(&["rollback", "github", "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    let w = writes(&reqs);
    let traffic: Vec<_> = w.iter().filter(|r| r.path.contains("/services/")).collect();
    let deps: Vec<_> = w
        .iter()
        .filter(|r| r.path.contains("/deployments/"))
        .collect();
    assert_eq!(traffic.len(), 1, "{}", describe(&reqs));
    assert!(deps.is_empty(), "{}", describe(&reqs));
    assert_eq!(colour(&env), "blue");
    assert_eq!(replicas(&env, "github-blue"), 2);
    // The rolled-back-from colour is due for scale-down later, not blue.
    let due: Value = serde_json::from_str(state(&env)["due"].as_str().unwrap()).unwrap();
    let tasks = due["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{due}");
    assert_eq!(tasks[0]["action"]["name"], "github-green");

    // Nothing is due yet: reconcile leaves green up.
    let o = env.run(&["reconcile"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(replicas(&env, "github-green"), 2);

    // Forward to V2 again with no delay: reconcile scales blue down.
    let o = deploy(&env, &["--image", V2, "--scale-down-delay", "0s"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "green");
    let o = env.run(&["reconcile", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 due task(s) performed"),
        "{}",
        out(&o)
    );
    assert_eq!(replicas(&env, "github-blue"), 0);
    assert!(state(&env).get("due").is_none(), "{}", state(&env));

    // Back to V1 after blue was scaled down: a redeploy of V1 to blue.
    let o = env.run(&["rollback", "github", "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "blue");
    assert_eq!(image(&env.deployment("github-blue").unwrap()), V1);
    assert_eq!(replicas(&env, "github-blue"), 2);
}

#[test]
fn a_candidate_stuck_past_its_deadline_exits_4_and_switches_nothing() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    env.srv
        .set_deployment_behaviour(NS, "github-green", Behaviour::NeverReady);
    let o = deploy(&env, &["--image", V2, "--timeout", "2s"]);
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("traffic never moved from blue"), "{err}");
    assert_eq!(colour(&env), "blue");
    assert_eq!(
        replicas(&env, "github-green"),
        0,
        "the candidate is scaled down"
    );
    let h = env.history_json("github");
    assert_eq!(
        h.as_array().unwrap().last().unwrap()["outcome"],
        "timed-out"
    );
    assert!(inflight(&env).is_none());

    // --keep-failed leaves it up for debugging.
    let o = deploy(&env, &["--image", V2, "--timeout", "2s", "--keep-failed"]);
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    assert_eq!(replicas(&env, "github-green"), 2);
    assert_eq!(colour(&env), "blue");
}

#[test]
fn sigint_during_the_wait_restores_and_exits_6() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let child = deploy_stuck_in_wait(&env);
    kill(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", out(&o));
    assert_eq!(colour(&env), "blue");
    assert_eq!(replicas(&env, "github-green"), 0);
    assert!(inflight(&env).is_none());
    let h = env.history_json("github");
    assert_eq!(
        h.as_array().unwrap().last().unwrap()["outcome"],
        "interrupted"
    );
}

#[test]
fn sigkill_mid_deploy_then_resume_or_rollback() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let mut child = deploy_stuck_in_wait(&env);
    // A second deploy meanwhile: the lock says who holds it.
    let o = deploy(&env, &["--image", V2]);
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    child.kill().unwrap();
    child.wait().unwrap();
    let op = inflight(&env).expect("the killed deploy stays recorded");
    assert_eq!(op["schemaVersion"], 2);
    assert_eq!(op["kind"], "deploy");
    assert_eq!(op["to"]["image"], V2);

    // apply refuses to overwrite it, and names the way out.
    let o = env.run(&["apply", "--force-unlock"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("mcpctl deploy github --resume"),
        "{}",
        out(&o)
    );
    // status shows it as interrupted (once the dead holder's lock is broken).
    env.srv.set_deployment_behaviour(
        NS,
        "github-green",
        Behaviour::ReadyAfter(Duration::from_millis(100)),
    );
    let o = env.run(&[
        "deploy",
        "github",
        "--resume",
        "--force-unlock",
        "--no-smoke",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("resumed at step"),
        "{}",
        out(&o)
    );
    assert_eq!(colour(&env), "green");
    assert!(inflight(&env).is_none());

    // Killed again mid-deploy (now from green to blue); this time rollback undoes it.
    let env2 = Env::start(&[]);
    blue_green(&env2, "");
    let mut child = deploy_stuck_in_wait(&env2);
    child.kill().unwrap();
    child.wait().unwrap();
    let o = env2.run(&["rollback", "github", "--force-unlock", "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env2), "blue");
    assert_eq!(replicas(&env2, "github-green"), 0);
    assert!(inflight(&env2).is_none());
    let h = env2.history_json("github");
    assert_eq!(
        h.as_array().unwrap().last().unwrap()["outcome"],
        "rolled-back"
    );
}

#[test]
fn autoscaled_colours_keep_their_replicas_through_a_switch_and_an_apply() {
    let env = Env::start(&[]);
    blue_green(
        &env,
        "    autoscaling: {minReplicas: 2, maxReplicas: 6, targetCPU: 70}\n",
    );
    // The HPA scaled blue up to 4.
    let mut blue = env.deployment("github-blue").unwrap();
    blue["spec"]["replicas"] = json!(4);
    env.srv.put_object(blue);
    let o = deploy(&env, &["--image", V2]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "green");
    assert_eq!(
        replicas(&env, "github-green"),
        4,
        "starts at the active size"
    );
    let hpa_path = format!("/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/github");
    assert_eq!(
        env.srv.get(&hpa_path).unwrap()["spec"]["scaleTargetRef"]["name"],
        "github-green",
        "the switch retargets the autoscaler"
    );
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let hpa = env
        .srv
        .get(&format!(
            "/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/github"
        ))
        .unwrap();
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "github-green");
    assert_eq!(
        replicas(&env, "github-green"),
        4,
        "server-side apply must not drop the new active colour's replicas"
    );
    assert_eq!(colour(&env), "green");
}

#[test]
fn rolling_deploy_and_rollback() {
    let env = Env::start(&[]);
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = deploy(&env, &["--image", V2]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(image(&env.deployment("github").unwrap()), V2);
    // apply keeps the deployed image, the second time too (the first
    // apply's revision remembers that the server was deployed).
    for _ in 0..2 {
        let o = env.run(&["apply"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        assert_eq!(image(&env.deployment("github").unwrap()), V2);
    }

    // A failed wait puts the previous Deployment back and waits until it has
    // rolled out again (exit 4). The new version never gets ready; the
    // previous one does once it is re-applied (the undo is held until the
    // test has made the Deployment healthy again).
    use test_apiserver::{Fault, FaultAction, Gate, Method};
    env.srv
        .set_deployment_behaviour(NS, "github", Behaviour::NeverReady);
    let child = env.spawn(&[
        "deploy",
        "github",
        "--no-smoke",
        "--image",
        "ghcr.io/acme/github-mcp:1.6.0",
        "--timeout",
        "3s",
    ]);
    wait_for("the deploy to wait", || {
        inflight(&env).is_some_and(|op| op["stepText"].as_str().unwrap_or("").starts_with("wait"))
    });
    let gate = Gate::new();
    env.srv.inject(Fault::new(
        Some(Method::PATCH),
        &format!("/namespaces/{NS}/deployments/github"),
        1,
        FaultAction::Hold(gate.clone()),
    ));
    wait_for("the undo to be sent", || gate.arrived() == 1);
    env.srv.set_deployment_behaviour(
        NS,
        "github",
        Behaviour::ReadyAfter(Duration::from_millis(100)),
    );
    gate.open();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("and rolled out again"),
        "{}",
        out(&o)
    );
    assert_eq!(image(&env.deployment("github").unwrap()), V2);

    let o = env.run(&["rollback", "github", "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(image(&env.deployment("github").unwrap()), V1);
    let h = env.history_json("github");
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(last["operation"], "rollback");
    assert_eq!(last["image"], V1);
}

#[test]
fn a_failed_gate_exits_3_scales_the_candidate_down_and_switches_nothing() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    // Without --no-smoke the smoke gate runs; it fails here (the preview
    // Service proxies nowhere), which must restore like any failed gate.
    let o = env.run(&["deploy", "github", "--image", V2]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the smoke gate failed"), "{err}");
    assert!(err.contains("traffic never moved from blue"), "{err}");
    assert_eq!(colour(&env), "blue");
    assert_eq!(replicas(&env, "github-green"), 0);
    let h = env.history_json("github");
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(last["outcome"], "gate-failed");
    assert_eq!(last["image"], V1);
}

/// A create whose answer is lost (committed, then the connection dropped) is
/// read back before it is sent again: the Lease is ours, the revision is
/// recorded once, and nothing is created twice.
#[test]
fn creates_whose_answer_is_lost_are_read_back_not_resent() {
    use test_apiserver::{Fault, FaultAction, Method};
    let env = Env::start(&[]);
    blue_green(&env, "");
    env.srv.clear_requests();
    env.srv.inject(Fault::new(
        Some(Method::POST),
        "/leases",
        1,
        FaultAction::CommitThenDrop,
    ));
    env.srv.inject(Fault::new(
        Some(Method::POST),
        "/configmaps",
        1,
        FaultAction::CommitThenDrop,
    ));
    let o = deploy(&env, &["--image", V2]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    for kind in ["/leases", "/configmaps"] {
        let posts: Vec<usize> = reqs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.method == "POST" && r.path.ends_with(kind))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            posts.len(),
            1,
            "a lost create of {kind} was sent again:\n{}",
            describe(&reqs)
        );
        // The next request after the dropped create reads the object back.
        let next = &reqs[posts[0] + 1];
        assert_eq!(next.method, "GET", "{}", describe(&reqs));
        assert!(next.path.contains(kind), "{}", describe(&reqs));
    }
    assert_eq!(colour(&env), "green");
    let h = env.history_json("github");
    let revs: Vec<&Value> = h.as_array().unwrap().iter().collect();
    assert_eq!(revs.len(), 2, "apply + deploy, recorded once each: {h}");
    assert_eq!(revs[1]["operation"], "deploy");
}

/// `status` reads the true active colour for every router (Service selector,
/// Istio subset weights; a Gateway API route points at the main Service),
/// and shows canary and rolling servers as they are.
#[test]
fn status_shows_the_active_colour_for_every_router() {
    let env = Env::start(&[]);
    let servers = [
        "svc, router: service",
        "mesh, router: istio",
        "gw, router: gateway-api, ingress: {gateway: {name: public}}",
        "can, router: istio, strategy: canary, prometheus: {url: 'http://prometheus:9090'}",
        "roll, router: service, strategy: rolling",
    ]
    .map(|l| format!("  - {{image: '{V1}', name: {l}}}"));
    env.write_fleet(&format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 2\n  strategy: blue-green\nservers:\n{}\n",
        servers.join("\n")
    ));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let status = |env: &Env| -> Value { env.status_json() };
    let s = status(&env);
    for i in 0..3 {
        assert_eq!(s[i]["activeColour"], "blue", "{}", s[i]);
    }
    for server in ["svc", "mesh", "gw"] {
        let o = env.run(&["deploy", server, "--image", V2, "--no-smoke"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    }
    let s = status(&env);
    for i in 0..3 {
        assert_eq!(s[i]["activeColour"], "green", "{}", s[i]);
        assert_eq!(s[i]["image"], V2, "{}", s[i]);
        assert_eq!(s[i]["due"][0]["action"]["replicas"], 0, "{}", s[i]);
    }
    assert_eq!(s[3]["canaryWeight"], 0);
    assert!(s[3]["activeColour"].is_null());
    assert!(s[4]["activeColour"].is_null() && s[4]["canaryWeight"].is_null());
    let o = env.run(&["status"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for server in ["svc", "mesh", "gw"] {
        let line = text.lines().find(|l| l.starts_with(server)).unwrap();
        assert!(line.contains("green active"), "{text}");
    }
}

/// The real deadline this time: the candidate's Deployment reaches
/// `ProgressDeadlineExceeded` long before `--timeout`, and the deploy fails
/// fast with exit 4 and the controller's message, nothing switched.
#[test]
fn a_candidate_past_its_progress_deadline_fails_fast() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    crate::support::deployment_template_with(
        &env.dir.path().join("templates"),
        "progressDeadlineSeconds: 600",
        "progressDeadlineSeconds: 1",
    );
    env.srv
        .set_deployment_behaviour(NS, "github-green", Behaviour::NeverReady);
    let o = deploy(
        &env,
        &[
            "--image",
            V2,
            "--timeout",
            "10m",
            "--templates",
            "templates",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("exceeded its progress deadline"), "{err}");
    assert_eq!(colour(&env), "blue");
    assert_eq!(replicas(&env, "github-green"), 0);
}

/// SIGINT after the switch (while the switch is being verified): traffic
/// goes back to the old colour first, then the candidate is scaled down.
#[test]
fn sigint_after_the_switch_switches_back_and_exits_6() {
    use test_apiserver::{Fault, FaultAction, Gate, Method};
    let env = Env::start(&[]);
    blue_green(&env, "");
    let gate = Gate::new();
    // The read-back of the Service after the switch waits for the test.
    env.srv.inject(Fault::new(
        Some(Method::GET),
        &format!("/namespaces/{NS}/services/github"),
        1,
        FaultAction::Hold(gate.clone()),
    ));
    let child = env.spawn(&["deploy", "github", "--no-smoke", "--image", V2]);
    wait_for("the switch to be verified", || gate.arrived() == 1);
    assert_eq!(colour(&env), "green", "switched before the read-back");
    kill(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    gate.open();
    assert_eq!(o.status.code(), Some(6), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("traffic is back on blue"), "{err}");
    assert_eq!(colour(&env), "blue");
    assert_eq!(replicas(&env, "github-green"), 0);
    assert!(inflight(&env).is_none());
}

/// Traffic changed outside mcpctl: `apply` warns and leaves it, it never
/// writes a traffic value of its own over the live one.
#[test]
fn apply_never_overwrites_live_traffic() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let path = format!("/api/v1/namespaces/{NS}/services/github");
    let mut svc = env.srv.get(&path).unwrap();
    svc["spec"]["selector"]["mcpctl.io/colour"] = json!("purple");
    env.srv.put_object(svc);
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("service/github sends traffic differently")
            && err.contains("apply leaves traffic as it is"),
        "{err}"
    );
    assert_eq!(colour(&env), "purple");
    let reqs = env.srv.requests();
    assert!(
        !writes(&reqs).iter().any(|r| r.path == path
            && r.query_param("fieldManager").as_deref() == Some("mcpctl-rollout")),
        "{}",
        describe(&reqs)
    );
}

fn events(o: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn kinds(ev: &[Value]) -> Vec<String> {
    ev.iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

/// `--events ndjson`: one JSON object per line on stdout, timestamped, in
/// order, for a deploy that succeeds and one that is rolled back.
#[test]
fn ndjson_events_of_a_deploy_and_of_a_restore() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let o = deploy(&env, &["--image", V2, "--events", "ndjson"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let ev = events(&o);
    let k = kinds(&ev);
    assert_eq!(
        k.first().map(String::as_str),
        Some("operationStarted"),
        "{k:?}"
    );
    assert_eq!(k.last().map(String::as_str), Some("finished"), "{k:?}");
    let pos = |name: &str| {
        k.iter()
            .position(|x| x == name)
            .unwrap_or_else(|| panic!("no {name}: {k:?}"))
    };
    assert!(
        pos("waiting") < pos("switched") && pos("switched") < pos("recorded"),
        "{k:?}"
    );
    assert!(
        ev.iter().all(
            |e| e["time"].as_str().is_some_and(|t| t.ends_with('Z')) && e["schemaVersion"] == 1
        )
    );
    let fin = ev.last().unwrap();
    assert_eq!(fin["outcome"], "succeeded");
    assert_eq!(fin["exitCode"], 0);
    assert_eq!(ev[0]["to"], V2);

    env.srv
        .set_deployment_behaviour(NS, "github-blue", Behaviour::NeverReady);
    let o = deploy(
        &env,
        &[
            "--image",
            "ghcr.io/acme/github-mcp:1.6.0",
            "--timeout",
            "2s",
            "--events",
            "ndjson",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let ev = events(&o);
    let k = kinds(&ev);
    let pos = |name: &str| {
        k.iter()
            .position(|x| x == name)
            .unwrap_or_else(|| panic!("no {name}: {k:?}"))
    };
    assert!(
        pos("restoring") < pos("undone") && pos("undone") < pos("finished"),
        "{k:?}"
    );
    assert!(!k.contains(&"switched".to_string()), "{k:?}");
    let fin = ev.last().unwrap();
    assert_eq!(fin["outcome"], "timed-out");
    assert_eq!(fin["exitCode"], 4);
}

/// Under GitHub Actions: steps folded in groups, an annotation for the
/// failure, and a Markdown summary appended to `$GITHUB_STEP_SUMMARY`.
#[test]
fn github_actions_groups_annotations_and_step_summary() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let summary = env.dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    env.srv
        .set_deployment_behaviour(NS, "github-green", Behaviour::NeverReady);
    let o = env
        .command(&[
            "deploy",
            "github",
            "--no-smoke",
            "--image",
            V2,
            "--timeout",
            "2s",
        ])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("::group::[1/"), "{err}");
    assert_eq!(
        err.matches("::group::").count(),
        err.matches("::endgroup::").count(),
        "{err}"
    );
    assert!(
        err.contains("::warning title=mcpctl restoring the last good version::"),
        "{err}"
    );
    assert!(
        err.contains("::error title=mcpctl timed-out (exit 4)::"),
        "{err}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n### mcpctl: deploy github (blue-green)"),
        "{md}"
    );
    assert!(md.contains("**Outcome:** timed-out (exit 4)"), "{md}");
    assert!(
        md.contains("- undone: scale deployment github-green to 0"),
        "{md}"
    );
    // Without GitHub Actions: no workflow commands.
    let o = deploy(&env, &["--image", V2, "--timeout", "2s"]);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("::"),
        "{}",
        out(&o)
    );
}

/// GitLab CI: each step in a collapsible section, every section closed.
/// Another CI (`CI` set): plain timestamped lines without escape codes.
#[test]
fn gitlab_sections_and_plain_ci_lines() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let o = env
        .command(&["deploy", "github", "--no-smoke", "--image", V2])
        .env("GITLAB_CI", "true")
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let starts = err.matches("section_start:").count();
    assert!(starts >= 3, "{err}");
    assert_eq!(starts, err.matches("section_end:").count(), "{err}");
    assert!(
        err.contains(":mcpctl_step_1[collapsed=true]\r\x1b[0K[1/"),
        "{err}"
    );

    let o = env
        .command(&["rollback", "github", "--no-smoke"])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains('\x1b'),
        "escape codes in plain CI output: {err:?}"
    );
    let step = err
        .lines()
        .find(|l| l.contains("[1/2] switch traffic"))
        .unwrap_or_else(|| panic!("{err}"));
    let stamp = step.split(' ').next().unwrap();
    assert!(
        stamp.len() == 20 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
        "no timestamp: {step}"
    );
}

/// `reconcile` performs every server's due tasks; a server whose lock is
/// held does not stop the others, and the exit code says so (5).
#[test]
fn reconcile_goes_on_past_a_locked_server() {
    let env = Env::start(&[]);
    env.write_fleet(&format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 2\n  router: service\n  strategy: blue-green\nservers:\n  - {{name: github, image: '{V1}'}}\n  - {{name: slack, image: '{V1}'}}\n"
    ));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    for server in ["github", "slack"] {
        let o = env.run(&[
            "deploy",
            server,
            "--image",
            V2,
            "--no-smoke",
            "--scale-down-delay",
            "0s",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    }
    // Someone else holds github's lock right now.
    let now = jiff::Timestamp::now();
    let stamp = format!(
        "{}.{:06}Z",
        now.strftime("%Y-%m-%dT%H:%M:%S"),
        now.subsec_microsecond()
    );
    env.srv.put_object(
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "mcpctl-lock-github", "namespace": NS,
            "labels": {"mcpctl.io/record": "lock", "mcpctl.io/fleet": "acme"}},
        "spec": {"holderIdentity": "ci:other/1", "leaseDurationSeconds": 30,
            "acquireTime": stamp, "renewTime": stamp}}),
    );
    let o = env.run(&["reconcile"]);
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ci:other/1"),
        "{}",
        out(&o)
    );
    assert_eq!(
        replicas(&env, "slack-blue"),
        0,
        "slack's due scale-down was performed"
    );
    assert_eq!(
        replicas(&env, "github-blue"),
        2,
        "github's waits for its lock"
    );
}

/// A rollback killed after its switch is finished by the next `rollback`,
/// never undone (that would send traffic back to the version it left); and
/// a second rollback does not go back to that version either.
#[test]
fn an_interrupted_rollback_is_finished_and_a_second_one_does_not_flip_back() {
    use test_apiserver::{Fault, FaultAction, Gate, Method};
    let env = Env::start(&[]);
    blue_green(&env, "");
    let o = deploy(&env, &["--image", V2]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let gate = Gate::new();
    env.srv.inject(Fault::new(
        Some(Method::GET),
        &format!("/namespaces/{NS}/services/github"),
        1,
        FaultAction::Hold(gate.clone()),
    ));
    let mut child = env.spawn(&["rollback", "github", "--no-smoke"]);
    wait_for("the rollback to verify its switch", || gate.arrived() == 1);
    assert_eq!(colour(&env), "blue");
    child.kill().unwrap();
    child.wait().unwrap();
    gate.open();
    assert_eq!(inflight(&env).unwrap()["kind"], "rollback");

    let o = env.run(&["rollback", "github", "--no-smoke", "--force-unlock"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(colour(&env), "blue", "the interrupted rollback was undone");
    assert!(inflight(&env).is_none());

    // Rolled back from V2 already: a retried rollback finds nothing older.
    let o = env.run(&["rollback", "github", "--no-smoke"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no earlier version"),
        "{}",
        out(&o)
    );
    assert_eq!(colour(&env), "blue");
}

#[test]
fn a_failing_due_task_stays_due_and_blocks_nothing() {
    let env = Env::start(&[]);
    blue_green(&env, "");
    let o = deploy(&env, &["--image", V2, "--scale-down-delay", "0s"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // Someone deletes the old colour by hand: its due scale-down cannot run.
    let code = crate::cluster_support::http(
        &env.srv,
        "DELETE",
        &format!("/apis/apps/v1/namespaces/{NS}/deployments/github-blue"),
        "application/json",
        "",
    );
    assert_eq!(code, 200);
    let o = env.run(&["reconcile", "github"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("due task `scale deployment github-blue to 0` failed"),
        "{err}"
    );
    assert!(state(&env)["due"].is_string(), "kept: {}", state(&env));
    // A deploy performs the due tasks first: the failure is a warning and
    // the deploy goes on (blue is created again with the new image).
    let o = deploy(&env, &["--image", V1]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("kept for later"),
        "{}",
        out(&o)
    );
    assert_eq!(colour(&env), "blue");
    assert_eq!(image(&env.deployment("github-blue").unwrap()), V1);
}

/// Waits (generously) until `done` holds; fails naming `what` otherwise.
fn wait_for(what: &str, done: impl FnMut() -> bool) {
    crate::cluster_apply::wait_until_within(60, &format!("never happened: {what}"), done);
}
