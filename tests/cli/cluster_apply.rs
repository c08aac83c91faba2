//! `mcpctl apply` against the fake API server: create, no-op without writes,
//! update, dry run, --wait, missing CRDs, connection and context errors,
//! retries, and the per-server lock.

use std::time::{Duration, Instant};

use serde_json::json;
use test_apiserver::{ApiServer, Behaviour, Fault, FaultAction, Gate, Method};

use crate::cluster_support::*;
use crate::support::deployment_template_with;

#[test]
fn apply_creates_then_is_a_no_op_then_updates() {
    let env = Env::start(&[]);
    env.srv.clear_requests();
    // `-v`: the line of every object, then the server's line, then the fleet's dashboard's.
    let o = env.run(&["apply", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("namespace/mcp created"), "{}", out(&o));
    let objects = stdout
        .lines()
        .filter(|l| l.ends_with(" created") && l.contains('/') && !l.starts_with("namespace/"))
        .filter(|l| !l.contains("mcpctl-dashboard-acme"))
        .count();
    assert!(objects >= 6, "{}", out(&o));
    assert!(
        stdout.ends_with(&format!(
            "\ngithub: {objects} created\n{DASHBOARD_LINE} created\n"
        )),
        "{}",
        out(&o)
    );
    assert!(
        stdout.contains("deployment.apps/github created"),
        "{}",
        out(&o)
    );
    assert!(stdout.contains("service/github created"), "{}", out(&o));
    let reqs = env.srv.requests();
    eprintln!(
        "BENCH apply of one server (create): {} requests, {} writes:\n{}",
        reqs.len(),
        writes(&reqs).len(),
        describe(&reqs)
    );
    let dep = env.deployment("github").expect("deployment created");
    assert_eq!(dep["spec"]["replicas"], 2);
    // Rendered for the server's version (1.37): the `preStop.sleep` action of 1.30 and later,
    // accepted by the server's schema. Older servers' `exec sleep` form is tested in render.rs
    // (`--kube-version`) and lint.rs.
    let pre_stop = &dep["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"];
    assert!(
        pre_stop["sleep"]["seconds"].is_u64() && pre_stop.get("exec").is_none(),
        "{pre_stop}"
    );
    let managers: Vec<&str> = dep["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"mcpctl"), "{managers:?}");
    // The lock was released.
    assert!(env.srv.get(LEASE_PATH_GITHUB).is_none());

    // Same fleet again: nothing changes, nothing is written; by default one
    // line for the server (and one for the fleet's dashboard).
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("github: {objects} unchanged\n{DASHBOARD_LINE} unchanged\n"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    eprintln!(
        "BENCH apply of one server (no-op): {} requests, {} writes",
        reqs.len(),
        writes(&reqs).len()
    );
    assert!(
        writes(&reqs).is_empty(),
        "a no-op apply wrote:\n{}",
        describe(&reqs)
    );
    // (The resourceVersion moves with the controller's status updates; the
    // spec did not change.)
    assert_eq!(
        env.deployment("github").unwrap()["metadata"]["generation"],
        1
    );

    // More replicas: only the Deployment changes, and only it is written.
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 3));
    env.srv.clear_requests();
    let o = env.run(&["apply", "github", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("deployment.apps/github configured"),
        "{}",
        out(&o)
    );
    assert!(stdout.contains("service/github unchanged"), "{}", out(&o));
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.ends_with(" configured"))
            .count(),
        1,
        "{}",
        out(&o)
    );
    assert!(
        stdout.ends_with(&format!(
            "\ngithub: 1 configured, {} unchanged\n",
            objects - 1
        )),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    eprintln!(
        "BENCH apply of one server (one object changes): {} requests, {} writes",
        reqs.len(),
        writes(&reqs).len()
    );
    let object_writes: Vec<_> = writes(&reqs)
        .into_iter()
        .filter(|r| r.method == "PATCH" && !r.path.contains("/configmaps/mcpctl."))
        // A 409 from a concurrent status update is re-sent; count what took effect.
        .filter(|r| (200..300).contains(&r.status))
        .collect();
    assert_eq!(object_writes.len(), 1, "{}", describe(&reqs));
    assert!(object_writes[0].path.ends_with("/deployments/github"));
    assert_eq!(env.deployment("github").unwrap()["spec"]["replicas"], 3);

    // A new image: the version label changes on every object; the pod template rolls.
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.5.0", 3));
    let o = env.run(&["apply", "github", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("deployment.apps/github configured"),
        "{}",
        out(&o)
    );
    let dep = env.deployment("github").unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/github-mcp:1.5.0"
    );
    assert_eq!(dep["metadata"]["generation"], 3);
}

#[test]
fn dry_run_server_writes_nothing() {
    let env = Env::start(&[]);
    env.write_fleet(
        &fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 2)
            .replace("namespace: mcp", "namespace: default"),
    );
    env.srv.clear_requests();
    let o = env.run(&["apply", "--dry-run=server", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("deployment.apps/github created (server dry run)"),
        "{}",
        out(&o)
    );
    // The server's line, then the fleet dashboard's.
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.len() >= 2
            && lines[lines.len() - 2].starts_with("github: ")
            && lines[lines.len() - 2].ends_with(" created (server dry run)"),
        "{}",
        out(&o)
    );
    assert_eq!(
        lines.last().copied(),
        Some("fleet acme: configmap/mcpctl-dashboard-acme created (server dry run)"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
    let dry: Vec<_> = reqs
        .iter()
        .filter(|r| r.query_param("dryRun").as_deref() == Some("All"))
        .collect();
    assert!(
        dry.len() >= 8,
        "each object is sent as a dry run:\n{}",
        describe(&reqs)
    );
    assert!(
        env.srv
            .get("/apis/apps/v1/namespaces/default/deployments/github")
            .is_none()
    );
    // The same as data for pipelines.
    let o = env.run(&["apply", "--dry-run=server", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["schemaVersion", "namespaceCreated", "objects"],
        "{v}"
    );
    assert_eq!(v["schemaVersion"], 1);
    let dep = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "Deployment")
        .unwrap();
    assert_eq!(dep["name"], "github");
    assert_eq!(dep["change"], "created");
    assert_eq!(dep["dryRun"], true);
    assert_eq!(dep["server"], "github");
}

#[test]
fn wait_until_rolled_out() {
    let env = Env::start(&[]);
    env.srv.set_deployment_behaviour(
        NS,
        "github",
        Behaviour::ReadyAfter(Duration::from_millis(800)),
    );
    let o = env.run(&["apply", "--wait", "--timeout", "30s"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("deployment \"github\" successfully rolled out"),
        "{}",
        out(&o)
    );
    let dep = env.deployment("github").unwrap();
    assert_eq!(dep["status"]["availableReplicas"], 2, "{dep}");
    // Watched, not polled: a handful of requests to the Deployments collection.
    let reqs = env.srv.requests();
    let watches = reqs.iter().filter(|r| r.is_watch()).count();
    assert!(watches >= 1, "{}", describe(&reqs));
    let gets = reqs
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/deployments/github"))
        .count();
    assert!(gets <= 2, "polled the Deployment:\n{}", describe(&reqs));
}

#[test]
fn wait_for_a_stuck_rollout_times_out_with_exit_4() {
    let env = Env::start(&[]);
    env.srv
        .set_deployment_behaviour(NS, "github", Behaviour::NeverReady);
    let started = Instant::now();
    let o = env.run(&["apply", "--wait", "--timeout", "3s"]);
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("timed out after 3s"), "{}", out(&o));
    assert!(stderr.contains("deployment \"github\""), "{}", out(&o));
    // The revision records the outcome.
    let revs = env.history_json("github");
    assert_eq!(revs[0]["outcome"], "timed-out", "{revs}");
}

#[test]
fn a_passed_progress_deadline_fails_fast_with_exit_4_and_the_condition_message() {
    let env = Env::start(&[]);
    // The embedded Deployment template with a 2-second progress deadline.
    deployment_template_with(
        &env.dir.path().join("templates"),
        "progressDeadlineSeconds: 600",
        "progressDeadlineSeconds: 2",
    );
    env.srv
        .set_deployment_behaviour(NS, "github", Behaviour::NeverReady);
    let started = Instant::now();
    let o = env.run(&[
        "apply",
        "--templates",
        "templates",
        "--wait",
        "--timeout",
        "60s",
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "did not fail fast: {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("deployment \"github\" exceeded its progress deadline"),
        "{}",
        out(&o)
    );
    assert!(stderr.contains("has timed out progressing."), "{}", out(&o));
    let revs = env.history_json("github");
    assert_eq!(revs[0]["outcome"], "timed-out", "{revs}");
}

#[test]
fn a_missing_crd_is_named_and_nothing_is_applied() {
    let env = Env::start(&["servicemonitors.monitoring.coreos.com"]);
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("the CRD servicemonitors.monitoring.coreos.com is not installed"),
        "{}",
        out(&o)
    );
    assert!(stderr.contains("prometheus-operator"), "{}", out(&o));
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
    assert!(
        reqs.iter().all(|r| r.method == "GET"),
        "{}",
        describe(&reqs)
    );
}

#[test]
fn an_unreachable_server_is_one_line_naming_url_and_context() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kc = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\nclusters:\n- name: c\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\n\
         contexts:\n- name: lab\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"
    );
    let o = apply_with_kubeconfig(&kc, &[("MCPCTL_RETRY_ATTEMPTS", "2")]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out(&o));
    assert!(
        lines[0].contains(&format!("http://127.0.0.1:{port}")) && lines[0].contains("\"lab\""),
        "{}",
        out(&o)
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{}",
        out(&o)
    );
}

#[test]
fn a_bad_context_names_the_available_ones() {
    let env = Env::start(&[]);
    let o = env.run(&["apply", "--context", "prod"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("context \"prod\" not found") && stderr.contains("available: test"),
        "{}",
        out(&o)
    );
    assert!(env.srv.requests().is_empty());
}

#[test]
fn retries_500_and_429_then_succeeds() {
    let env = Env::start(&[]);
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "/version",
        2,
        FaultAction::Status(500),
    ));
    env.srv.inject(Fault::new(
        Some(Method::PATCH),
        "/deployments/github",
        1,
        FaultAction::Status(503),
    ));
    env.srv.inject(Fault::new(
        Some(Method::POST),
        "/leases",
        1,
        FaultAction::TooManyRequests {
            retry_after_secs: 1,
        },
    ));
    let started = Instant::now();
    let o = env.run(&["apply", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("retrying GET /version after 500"),
        "{}",
        out(&o)
    );
    assert!(stderr.contains("429"), "{}", out(&o));
    assert!(env.deployment("github").is_some());
    let reqs = env.srv.requests();
    let version_calls: Vec<u16> = reqs
        .iter()
        .filter(|r| r.path == "/version")
        .map(|r| r.status)
        .collect();
    assert_eq!(version_calls, vec![500, 500, 200]);
}

#[test]
fn retries_are_bounded() {
    let env = Env::start(&[]);
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "/version",
        50,
        FaultAction::Status(500),
    ));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("500 Internal Server Error after 5 attempts"),
        "{}",
        out(&o)
    );
    assert_eq!(env.srv.requests().len(), 5);
}

/// Runs `mcpctl apply --kubeconfig kc` in a fresh directory holding only the
/// kubeconfig `kc` and a one-server fleet, with `envs` set and no
/// KUBECONFIG inherited.
fn apply_with_kubeconfig(kc: &str, envs: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kc"), kc).unwrap();
    std::fs::write(dir.path().join("mcpctl.yaml"), fleet_yaml("x/y:1", 1)).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_mcpctl"))
        .args(["apply", "--kubeconfig", "kc"])
        .current_dir(dir.path())
        .envs(envs.iter().copied())
        .env_remove("KUBECONFIG")
        .output()
        .unwrap()
}

/// The one-server fleet of `fleet_yaml` (1.4.2, 2 replicas) with the blue-green strategy.
fn blue_green_fleet() -> String {
    fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 2)
        .replace("strategy: rolling", "strategy: blue-green")
}

fn lease(holder: &str, renew: &str) -> serde_json::Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "mcpctl-lock-github", "namespace": NS},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30,
            "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": renew}})
}

pub fn micro_now() -> String {
    let now = jiff::Timestamp::now();
    format!(
        "{}.{:06}Z",
        now.strftime("%Y-%m-%dT%H:%M:%S"),
        now.subsec_microsecond()
    )
}

#[test]
fn a_held_lock_fails_fast_with_exit_5() {
    let env = Env::start(&[]);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    env.srv.put_object(lease("ci:deploy/7", &micro_now()));
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:2.0.0", 2));
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("locked by ci:deploy/7 since 2026-01-01T00:00:00.000000Z"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    let w = writes(&reqs);
    assert!(
        w.iter().all(|r| r.path.contains("/leases")),
        "wrote while locked:\n{}",
        describe(&reqs)
    );

    // --force-unlock takes it, loudly.
    let o = env.run(&["apply", "--force-unlock"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("WARNING: --force-unlock"),
        "{}",
        out(&o)
    );
}

#[test]
fn an_expired_lock_is_taken_over() {
    let env = Env::start(&[]);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    env.srv
        .put_object(lease("crashed@ci/1", "2026-01-01T00:00:00.000000Z"));
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:2.0.0", 2));
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    assert!(
        reqs.iter().any(|r| r.method == "PUT"
            && r.path.ends_with("/leases/mcpctl-lock-github")
            && r.status == 200),
        "{}",
        describe(&reqs)
    );
    assert!(env.srv.get(LEASE_PATH_GITHUB).is_none());
}

#[test]
fn two_concurrent_applies_never_both_write() {
    let env = Env::start(&[]);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:3.0.0", 2));
    // Whoever takes the lock first is held while holding it, until the other has finished.
    let gate = Gate::new();
    env.srv.inject(Fault::new(
        Some(Method::PATCH),
        "/configmaps/mcpctl.state.acme.github",
        1,
        FaultAction::Hold(gate.clone()),
    ));
    env.srv.clear_requests();
    let mut a = env.spawn(&["apply"]);
    let mut b = env.spawn(&["apply"]);
    wait_until(Duration::from_millis(50), "neither apply ended", || {
        a.try_wait().unwrap().is_some() || b.try_wait().unwrap().is_some()
    });
    gate.open();
    let oa = exits_within(a, 60, "first apply");
    let ob = exits_within(b, 60, "second apply");
    let mut codes = vec![oa.status.code(), ob.status.code()];
    codes.sort();
    assert_eq!(codes, vec![Some(0), Some(5)], "{}\n{}", out(&oa), out(&ob));
    let loser = if oa.status.code() == Some(5) {
        &oa
    } else {
        &ob
    };
    assert!(
        String::from_utf8_lossy(&loser.stderr).contains("is locked by tester@"),
        "{}",
        out(loser)
    );
    let reqs = env.srv.requests();
    let real_applies = writes(&reqs)
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/deployments/github"))
        .filter(|r| (200..300).contains(&r.status))
        .count();
    assert_eq!(real_applies, 1, "{}", describe(&reqs));
}

/// A blue-green server after a switch to green (as `deploy` leaves it): a
/// later `apply` must keep green active and its image, not flip back.
#[test]
fn apply_keeps_the_live_rollout_state_of_a_blue_green_server() {
    let env = Env::start(&[]);
    let fleet = blue_green_fleet();
    env.write_fleet(&fleet);
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let svc_path = format!("/api/v1/namespaces/{NS}/services/github");
    assert_eq!(
        env.srv.get(&svc_path).unwrap()["spec"]["selector"]["mcpctl.io/colour"],
        "blue"
    );

    // What a blue-green deploy leaves behind: green runs 1.5.0 and is active.
    let mut green = env.deployment("github-green").unwrap();
    green["spec"]["replicas"] = json!(2);
    green["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!("ghcr.io/acme/github-mcp:1.5.0");
    env.srv.put_object(green);
    // The switch also labels the Service with the version it now serves.
    let mut svc = env.srv.get(&svc_path).unwrap();
    svc["spec"]["selector"]["mcpctl.io/colour"] = json!("green");
    svc["metadata"]["labels"]["app.kubernetes.io/version"] = json!("1.5.0");
    env.srv.put_object(svc);

    let o = env.run(&["apply", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("service/github unchanged"), "{}", out(&o));
    assert_eq!(
        env.srv.get(&svc_path).unwrap()["spec"]["selector"]["mcpctl.io/colour"],
        "green"
    );
    let green = env.deployment("github-green").unwrap();
    assert_eq!(
        green["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/github-mcp:1.5.0"
    );
    assert_eq!(green["spec"]["replicas"], 2);
    // The fleet file's image differs from what runs: apply says how to roll it out.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("apply keeps the running image"),
        "{}",
        out(&o)
    );
}

/// The lock is renewed while an operation runs; SIGINT releases it and
/// leaves the in-flight mark, which `status` shows as interrupted.
#[test]
fn the_lock_is_renewed_and_an_interrupted_apply_shows_in_status() {
    let env = Env::start(&[]);
    let child = apply_holding_the_lock(&env);
    let first = env.srv.get(LEASE_PATH_GITHUB).expect("lease held");
    assert!(
        first["spec"]["holderIdentity"]
            .as_str()
            .unwrap()
            .starts_with("tester@"),
        "{first}"
    );
    // Renewed every 10 s.
    wait_until_within(60, "the lock was never renewed", || {
        env.srv
            .get(LEASE_PATH_GITHUB)
            .is_some_and(|l| l["spec"]["renewTime"] != first["spec"]["renewTime"])
    });
    let renewed = env.srv.get(LEASE_PATH_GITHUB).expect("lease still held");
    assert_eq!(renewed["spec"]["acquireTime"], first["spec"]["acquireTime"]);
    let micro = renewed["spec"]["renewTime"].as_str().unwrap();
    assert_eq!(micro.split('.').nth(1).map(str::len), Some(7), "{micro}"); // 6 digits + Z

    send_signal(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("interrupted by SIGINT"),
        "{}",
        out(&o)
    );
    assert!(
        env.srv.get(LEASE_PATH_GITHUB).is_none(),
        "lock not released"
    );
    let o = env.run(&["status"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("apply (waiting for the rollout) by tester@")
            && stdout.contains("(interrupted)"),
        "{}",
        out(&o)
    );
}

/// Starts `apply --wait` on a rollout that never becomes ready and returns
/// the child once it holds the lock.
fn apply_holding_the_lock(env: &Env) -> std::process::Child {
    env.srv
        .set_deployment_behaviour(NS, "github", Behaviour::NeverReady);
    let child = env.spawn(&["apply", "--wait", "--timeout", "5m"]);
    wait_until(
        Duration::from_millis(100),
        "the lock was never taken",
        || env.srv.get(LEASE_PATH_GITHUB).is_some(),
    );
    child
}

const LEASE_PATH_GITHUB: &str =
    "/apis/coordination.k8s.io/v1/namespaces/mcp/leases/mcpctl-lock-github";

/// Polls `done` every `every` for at most 20 s; fails with `never` when it
/// did not come true by then.
pub fn wait_until(every: Duration, never: &str, done: impl FnMut() -> bool) {
    poll_until(every, Duration::from_secs(20), never, done);
}

/// Polls `done` every 50 ms for at most `secs`.
pub fn wait_until_within(secs: u64, never: &str, done: impl FnMut() -> bool) {
    poll_until(
        Duration::from_millis(50),
        Duration::from_secs(secs),
        never,
        done,
    );
}

fn poll_until(every: Duration, max: Duration, never: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + max;
    while !done() {
        assert!(Instant::now() < deadline, "{never}");
        std::thread::sleep(every);
    }
}

/// Sends `sig` (as `kill` spells it, e.g. `-INT`) to the child.
pub fn send_signal(child: &std::process::Child, sig: &str) {
    let st = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "kill {sig} {} failed", child.id());
}

/// Waits at most `secs` for the child to exit; kills it and fails otherwise.
pub fn exits_within(mut child: std::process::Child, secs: u64, what: &str) -> std::process::Output {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("{what}: still running after {secs}s\n{}", out(&o));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// When the lock cannot be renewed, the operation stops before the Lease
/// expires (and someone else may take it), instead of going on unprotected.
#[test]
fn an_apply_whose_lock_cannot_be_renewed_stops() {
    let env = Env::start(&[]);
    let child = apply_holding_the_lock(&env);
    // Every read of the Lease fails from now on: no renewal can succeed.
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "/leases/mcpctl-lock-github",
        100_000,
        FaultAction::Status(500),
    ));
    let started = Instant::now();
    let o = exits_within(child, 45, "apply with a lock it cannot renew");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stopped only after the Lease may have expired ({:?})",
        started.elapsed()
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("the lock of server github was lost (not renewed for"),
        "{}",
        out(&o)
    );
}

/// A lock taken by someone else (after --force-unlock) stops the apply.
#[test]
fn an_apply_whose_lock_is_taken_stops() {
    let env = Env::start(&[]);
    let child = apply_holding_the_lock(&env);
    let mut l = env.srv.get(LEASE_PATH_GITHUB).unwrap();
    l["spec"]["holderIdentity"] = json!("ops@laptop/9");
    env.srv.put_object(l);
    let o = exits_within(child, 25, "apply whose lock was taken");
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the lock of server github was lost (it was taken over by ops@laptop/9)"),
        "{}",
        out(&o)
    );
    // Not ours: left in place.
    assert_eq!(
        env.srv.get(LEASE_PATH_GITHUB).unwrap()["spec"]["holderIdentity"],
        "ops@laptop/9"
    );
}

/// `mcpctl apply` again finishes an interrupted apply, as its message says,
/// even when the objects were all written before the interruption: the
/// in-flight mark goes and a revision is recorded.
#[test]
fn apply_again_finishes_an_interrupted_apply() {
    let env = Env::start(&[]);
    let child = apply_holding_the_lock(&env);
    // Interrupted while it waits for the rollout: every object is written.
    wait_until(
        Duration::from_millis(100),
        "the objects were never written",
        || {
            env.deployment("github").is_some()
                && env
                    .srv
                    .get(&format!("/api/v1/namespaces/{NS}/services/github"))
                    .is_some()
        },
    );
    // It waits for the rollout once its watch of the Deployments is open.
    wait_until(
        Duration::from_millis(20),
        "apply never watched the rollout",
        || {
            env.srv
                .requests()
                .iter()
                .any(|r| r.is_watch() && r.path.ends_with("/deployments"))
        },
    );
    send_signal(&child, "-INT");
    let o = exits_within(child, 15, "interrupted apply");
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        env.github_state()["data"]["inflight"].is_string(),
        "no in-flight mark left"
    );

    // Nothing left to change; the apply still records and clears the mark.
    let o = env.run(&["apply", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("deployment.apps/github unchanged"),
        "{}",
        out(&o)
    );
    let state = env.github_state();
    assert!(state["data"].get("inflight").is_none(), "{state}");
    let o = env.run(&["status"]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("interrupted"),
        "{}",
        out(&o)
    );
    let revs = env.history_json("github");
    let last = revs.as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["outcome"], "succeeded", "{last}");
    assert_eq!(last["operation"], "apply", "{last}");

    // And an apply with nothing to change and nothing to finish still writes nothing.
    env.srv.clear_requests();
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
}

/// A second signal exits at once, even while the clean-up after the first
/// one waits on the API server.
#[test]
fn a_second_signal_exits_at_once() {
    let env = Env::start(&[]);
    let child = apply_holding_the_lock(&env);
    // Releasing the lock hangs.
    let gate = Gate::new();
    env.srv.inject(Fault::new(
        Some(Method::DELETE),
        "/leases/mcpctl-lock-github",
        1,
        FaultAction::Hold(gate.clone()),
    ));
    send_signal(&child, "-INT");
    wait_until(
        Duration::from_millis(20),
        "the release never started",
        || gate.arrived() > 0,
    );
    send_signal(&child, "-TERM");
    let o = exits_within(child, 5, "apply after a second signal");
    assert_eq!(o.status.code(), Some(130), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("SIGTERM again: exiting now"),
        "{}",
        out(&o)
    );
}

#[test]
fn an_expired_token_is_one_line_naming_context_and_server() {
    let srv = ApiServer::builder()
        .require_token("monday")
        .start_blocking();
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("kc");
    srv.write_kubeconfig(&kc_path, "prod", "default");
    // The token in the kubeconfig expires: the server only takes a new one.
    srv.set_token(Some("tuesday"));
    let o = apply_with_kubeconfig(&std::fs::read_to_string(&kc_path).unwrap(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{}", out(&o));
    assert!(
        stderr.contains(&srv.url())
            && stderr.contains("\"prod\"")
            && stderr.contains("Unauthorized"),
        "{}",
        out(&o)
    );
    assert!(
        stderr.contains("log in again or refresh them"),
        "{}",
        out(&o)
    );
    assert!(
        !stderr.contains("monday"),
        "the token is printed: {}",
        out(&o)
    );
    // Rejected credentials are not retried, and nothing was written.
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1, "{}", describe(&reqs));
    assert_eq!(reqs[0].status, 401);
}

#[test]
fn a_failing_credential_plugin_is_one_line_naming_context_and_server() {
    let kc = "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: c\n  cluster: {server: \"https://10.0.0.1:6443\"}\n\
              contexts:\n- name: prod\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user:\n    exec:\n\
              \x20     apiVersion: client.authentication.k8s.io/v1\n      command: sh\n\
              \x20     args: [\"-c\", \"echo token expired >&2; exit 1\"]\n      interactiveMode: Never\n";
    let o = apply_with_kubeconfig(kc, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{}", out(&o));
    assert!(
        stderr.contains("cannot get credentials of context \"prod\" for https://10.0.0.1:6443"),
        "{}",
        out(&o)
    );
    assert!(stderr.contains("token expired"), "{}", out(&o));
}

#[test]
fn a_conflict_with_another_manager_names_it_and_force_conflicts_takes_the_field() {
    let env = Env::start(&[]);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    // Someone scales by hand with their own server-side apply.
    let path = format!(
        "/apis/apps/v1/namespaces/{NS}/deployments/github?fieldManager=ops-team&force=true"
    );
    let body = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "github"}, "spec": {"replicas": 5}}"#;
    let scale_by_hand = |path: &str| {
        http(
            &env.srv,
            "PATCH",
            path,
            "application/apply-patch+yaml",
            body,
        )
    };
    assert_eq!(scale_by_hand(&path), 200);
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(".spec.replicas (owned by \"ops-team\")"),
        "{}",
        out(&o)
    );
    assert!(stderr.contains("--force-conflicts"), "{}", out(&o));
    assert!(writes(&env.srv.requests()).is_empty());
    assert_eq!(env.deployment("github").unwrap()["spec"]["replicas"], 5);

    let o = env.run(&["apply", "--force-conflicts"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(env.deployment("github").unwrap()["spec"]["replicas"], 2);

    // Fields taken by mcpctl's own managers (rollout commands) are taken back without a flag.
    let path = path.replace("fieldManager=ops-team", "fieldManager=mcpctl-rollout");
    assert_eq!(scale_by_hand(&path), 200);
    assert_eq!(env.deployment("github").unwrap()["spec"]["replicas"], 5);
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(env.deployment("github").unwrap()["spec"]["replicas"], 2);
}

#[test]
fn kubeconfig_lists_are_merged_and_dash_n_overrides_the_namespace() {
    let env = Env::start(&[]);
    // The first file only picks the context; the second defines it.
    let first = env.dir.path().join("first");
    std::fs::write(
        &first,
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n",
    )
    .unwrap();
    let list = format!(
        "{}:{}:{}",
        first.display(),
        env.dir.path().join("missing").display(),
        env.kubeconfig().display()
    );
    let o = env
        .command(&["apply", "-n", "team-b"])
        .env("KUBECONFIG", list)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        env.srv
            .get("/apis/apps/v1/namespaces/team-b/deployments/github")
            .is_some()
    );
    assert!(
        env.deployment("github").is_none(),
        "applied to the fleet file's namespace"
    );
}

#[test]
fn a_field_the_server_does_not_know_is_named_with_the_server_version() {
    let env = Env::start(&[]);
    deployment_template_with(
        &env.dir.path().join("templates"),
        "  revisionHistoryLimit: 5\n",
        "  revisionHistoryLimit: 5\n  replicaz: 1\n",
    );
    env.srv.clear_requests();
    let o = env.run(&["apply", "--templates", "templates"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("deployment.apps/github in mcp"),
        "{}",
        out(&o)
    );
    assert!(
        stderr.contains(".spec.replicaz: field not declared in schema"),
        "{}",
        out(&o)
    );
    assert!(stderr.contains("Kubernetes v1.37.2"), "{}", out(&o));
    // Found by the dry run: nothing but the namespace was written, and the 500 was not retried.
    let reqs = env.srv.requests();
    let w: Vec<_> = writes(&reqs)
        .into_iter()
        .filter(|r| r.path != "/api/v1/namespaces")
        .collect();
    assert!(w.is_empty(), "{}", describe(&reqs));
    let tries = reqs
        .iter()
        .filter(|r| r.path.ends_with("/deployments/github") && r.method == "PATCH")
        .count();
    assert_eq!(tries, 1, "{}", describe(&reqs));
}

/// The plan is made again under the lock: a colour switch made by another
/// operation between apply's first look and its lock is kept.
#[test]
fn apply_plans_again_under_the_lock() {
    let env = Env::start(&[]);
    let fleet = blue_green_fleet();
    env.write_fleet(&fleet);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    let svc_path = format!("/api/v1/namespaces/{NS}/services/github");
    env.srv.clear_requests();

    // A new fleet label: it changes every object, the Service included.
    env.write_fleet(&format!("{fleet}    labels: {{team: tools}}\n"));
    // Hold apply at its lock request while "another operation" switches to green.
    env.srv.inject(Fault::new(
        Some(Method::POST),
        "/leases",
        1,
        FaultAction::Delay(Duration::from_secs(3)),
    ));
    let child = env.spawn(&["apply"]);
    // The first plan is done when every object went through a dry run (the
    // request log records a request once it has been answered).
    wait_until(Duration::from_millis(20), "apply never planned", || {
        let dry_runs = env
            .srv
            .requests()
            .iter()
            .filter(|r| r.query_param("dryRun").as_deref() == Some("All"))
            .count();
        dry_runs >= 10
    });
    let mut svc = env.srv.get(&svc_path).unwrap();
    svc["spec"]["selector"]["mcpctl.io/colour"] = json!("green");
    env.srv.put_object(svc);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(
        env.srv.get(&svc_path).unwrap()["spec"]["selector"]["mcpctl.io/colour"],
        "green"
    );
}

/// `--force-unlock` whose DELETE meets 409 (the holder renewed in between) reads the Lease
/// again and deletes it; when it keeps meeting 409 the lock still stands, and that is an
/// error, not a success.
#[test]
fn force_unlock_meeting_a_conflict_reads_again_and_never_claims_success() {
    let env = Env::start(&[]);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    env.srv.put_object(lease("ci:deploy/7", &micro_now()));
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:2.0.0", 2));
    let conflicts = |n| {
        env.srv.inject(Fault::new(
            Some(Method::DELETE),
            "/leases/mcpctl-lock-github",
            n,
            FaultAction::Status(409),
        ))
    };
    // Every delete meets 409: the lock stands; exit 5, saying so.
    conflicts(3);
    let o = env.run(&["apply", "--force-unlock"]);
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--force-unlock could not break the lock of server github"),
        "{}",
        out(&o)
    );
    assert!(!stderr.contains("broke the lock"), "{}", out(&o));
    assert_eq!(env.srv.fault_uses_left(), 0);
    assert_eq!(
        env.srv.get(LEASE_PATH_GITHUB).unwrap()["spec"]["holderIdentity"],
        "ci:deploy/7"
    );
    // One conflict: read again, delete, take it.
    conflicts(1);
    let o = env.run(&["apply", "--force-unlock"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "WARNING: --force-unlock: broke the lock of server github held by ci:deploy/7"
        ),
        "{}",
        out(&o)
    );
}

/// A watch the server closes at once is re-opened after a growing pause, not in a tight
/// loop until --timeout.
#[test]
fn a_watch_closed_at_once_is_reopened_with_backoff() {
    let env = Env::start(&[]);
    env.srv
        .set_deployment_behaviour(NS, "github", Behaviour::NeverReady);
    // Every watch is answered 200 with no event, and the stream ends at once.
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "watch=true",
        1_000_000,
        FaultAction::Status(200),
    ));
    let o = env.run(&["apply", "--wait", "--timeout", "6s"]);
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let watches = env
        .srv
        .requests()
        .iter()
        .filter(|r| r.is_watch() && r.path.ends_with("/deployments"))
        .count();
    // 200 ms doubling: about 6 in 6 s; a tight loop makes hundreds.
    assert!(
        (2..=15).contains(&watches),
        "{watches} watches in 6 s:\n{}",
        describe(&env.srv.requests())
    );
}

/// The loss deadline runs from the renewTime of the last renewal, not from when its answer
/// came, and is checked on a timer: with a renewal answered 4.5 s late and the next one
/// hanging, the operation stops 20 s after that renewTime (10 s before the Lease expires).
#[test]
fn the_lock_is_lost_twenty_seconds_after_its_last_renewal_was_stamped() {
    let env = Env::start(&[]);
    let child = apply_holding_the_lock(&env);
    let first = env.srv.get(LEASE_PATH_GITHUB).unwrap();
    // The first renewal's answer is held 4.5 s; then every read of the Lease hangs.
    env.srv.inject(Fault::new(
        Some(Method::PUT),
        "/leases/mcpctl-lock-github",
        1,
        FaultAction::Delay(Duration::from_millis(4500)),
    ));
    wait_until_within(60, "the lock was never renewed", || {
        env.srv.requests().iter().any(|r| {
            r.method == "PUT" && r.path.ends_with("/leases/mcpctl-lock-github") && r.status == 200
        })
    });
    let gate = Gate::new();
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "/leases/mcpctl-lock-github",
        1_000_000,
        FaultAction::Hold(gate.clone()),
    ));
    let renewed = env.srv.get(LEASE_PATH_GITHUB).unwrap();
    assert_ne!(renewed["spec"]["renewTime"], first["spec"]["renewTime"]);
    let stamped: jiff::Timestamp = renewed["spec"]["renewTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let o = exits_within(child, 60, "apply whose renewals hang");
    let stopped = jiff::Timestamp::now();
    gate.open();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the lock of server github was lost (not renewed for 20s"),
        "{}",
        out(&o)
    );
    let after = stopped.duration_since(stamped).as_secs_f64();
    // 20 s, plus the time to release and exit; the old reckoning stopped after 26.5 s.
    assert!(
        (19.0..24.0).contains(&after),
        "stopped {after:.1}s after the last renewTime (the Lease expires at 30 s)\n{}",
        out(&o)
    );
}

/// An unchanged apply reads the live objects with one paged LIST per kind, not one GET per
/// object (the same lists find what to prune), and decides locally that nothing changes: its
/// requests do not grow with the fleet.
#[test]
fn an_unchanged_apply_lists_each_kind_once_instead_of_reading_each_object() {
    let env = Env::start(&[]);
    let mut fleet = fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 1);
    for s in ["postgres", "slack"] {
        fleet.push_str(&format!(
            "  - name: {s}\n    image: ghcr.io/acme/{s}-mcp:1.0.0\n"
        ));
    }
    env.write_fleet(&fleet);
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
    // GETs of single objects other than mcpctl's own records and the namespace.
    let object_gets: Vec<_> = reqs
        .iter()
        .filter(|r| {
            mcpctl::rbac::attributes(&r.method, &r.path, &r.query)
                .is_some_and(|(verb, _, res)| verb == "get" && res != "namespaces")
        })
        .filter(|r| {
            !r.path
                .rsplit('/')
                .next()
                .unwrap_or("")
                .starts_with("mcpctl.")
        })
        .collect();
    assert!(object_gets.is_empty(), "{}", describe(&reqs));
    let deployment_lists: Vec<_> = reqs
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/deployments"))
        .filter(|r| r.query_param("labelSelector").as_deref() == Some("!mcpctl.io/record"))
        .collect();
    assert_eq!(deployment_lists.len(), 1, "{}", describe(&reqs));
    // Those lists hold the members of the fleet's ApplySet too: finding what
    // to prune lists nothing again.
    let member_lists: Vec<_> = reqs
        .iter()
        .filter(|r| {
            r.query_param("labelSelector")
                .is_some_and(|s| s.starts_with("applyset.kubernetes.io/part-of"))
        })
        .collect();
    assert!(member_lists.is_empty(), "{}", describe(&reqs));
    // Every object is decided "unchanged" locally: no dry run either.
    let dry_runs = reqs
        .iter()
        .filter(|r| r.query_param("dryRun").is_some())
        .count();
    assert_eq!(dry_runs, 0, "{}", describe(&reqs));
}
