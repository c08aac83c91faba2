//! How `mcpctl apply` writes a fleet: eight servers at a time, each server's
//! objects in order, and what it says when a write fails part-way.
//!
//! No timing: the fake API server holds the Deployment writes at a gate, so
//! that the test sees how many are under way at once.

use test_apiserver::{Fault, FaultAction, Gate, Method, RequestRecord};

use crate::cluster_apply::{exits_within, wait_until_within};
use crate::cluster_support::*;
use crate::support::out;

/// A fleet of `n` rolling servers `s00`, `s01`… behind a Service router.
fn fleet(n: usize) -> String {
    let mut text = format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 1\n  router: service\n  strategy: rolling\nservers:\n"
    );
    for i in 0..n {
        text.push_str(&format!(
            "  - name: s{i:02}\n    image: ghcr.io/acme/s:1.0.0\n"
        ));
    }
    text
}

/// Holds the real writes (not the dry runs) of `times` Deployments at `gate`.
fn hold_deployment_writes(env: &Env, times: u32, gate: &Gate) {
    env.srv.inject(
        Fault::new(
            Some(Method::PATCH),
            "/deployments/",
            times,
            FaultAction::Hold(gate.clone()),
        )
        .unless_contains("dryRun"),
    );
}

/// Object writes of mcpctl (server-side applies, not dry runs) in the log.
fn object_writes(reqs: &[RequestRecord]) -> Vec<&RequestRecord> {
    writes(reqs)
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.query_param("fieldManager").is_some())
        .filter(|r| !r.path.contains("/configmaps/mcpctl."))
        .collect()
}

/// Twelve servers: the Deployment writes of eight are under way at once (one
/// at a time, the first held write would keep every other back), never more
/// than eight objects are written at once, and every object is written.
#[test]
fn an_apply_writes_eight_servers_at_a_time() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(12));
    let gate = Gate::new();
    hold_deployment_writes(&env, 12, &gate);
    let mut child = env.spawn(&["apply"]);
    let reached = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until_within(
            120,
            "eight Deployment writes were never under way at once: are writes sequential again?",
            || gate.arrived() >= 8,
        )
    }));
    if let Err(e) = reached {
        let _ = child.kill();
        std::panic::resume_unwind(e);
    }
    // The other servers wait for a place: no ninth chain has started.
    assert_eq!(gate.arrived(), 8);
    gate.open();
    let o = exits_within(child, 120, "apply of 12 servers");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    for i in 0..12 {
        assert!(env.deployment(&format!("s{i:02}")).is_some(), "s{i:02}");
    }
    let reqs = env.srv.requests();
    let written = object_writes(&reqs);
    // Eight objects a server, and the fleet's dashboard.
    assert_eq!(written.len(), 12 * 8 + 1, "{}", describe(&reqs));
    assert_eq!(
        test_apiserver::most_at_once(written.iter().copied()),
        8,
        "{}",
        describe(&reqs)
    );
    // Each server's objects in the order rendered: the ServiceAccount and the
    // ConfigMap its Pods use were written before its Deployment was sent.
    for i in 0..12 {
        let of = |kind: &str| {
            let path = format!("/{kind}/s{i:02}");
            written
                .iter()
                .find(|r| r.path.ends_with(&path) || r.path.ends_with(&format!("{path}-config")))
                .unwrap_or_else(|| panic!("no write of {kind} s{i:02}"))
        };
        let deployment = of("deployments");
        for before in ["serviceaccounts", "configmaps"] {
            assert!(
                of(before).answered <= deployment.received,
                "s{i:02}: the {before} write was not done before the Deployment's"
            );
        }
    }
}

/// A write that fails after its dry run passed: the error names it, the
/// servers under way finish, no other server is started, and every changed
/// server gets a failed revision; what was written stays written.
#[test]
fn a_failed_write_is_named_and_stops_the_servers_not_yet_started() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(12));
    // s03's Deployment is refused; the seven other servers under way are held
    // until it has been, so that no ninth server can start before.
    env.srv.inject(
        Fault::new(
            Some(Method::PATCH),
            "/deployments/s03",
            1,
            FaultAction::Status(403),
        )
        .unless_contains("dryRun"),
    );
    let gate = Gate::new();
    hold_deployment_writes(&env, 7, &gate);
    let child = env.spawn(&["apply"]);
    wait_until_within(
        120,
        "the refused write and seven held ones never happened",
        || {
            gate.arrived() >= 7
                && env
                    .srv
                    .requests()
                    .iter()
                    .any(|r| r.status == 403 && r.path.ends_with("/deployments/s03"))
        },
    );
    gate.open();
    let o = exits_within(child, 120, "apply of 12 servers");
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("deployment.apps/s03 in mcp:") && stderr.contains("403"),
        "{}",
        out(&o)
    );
    assert!(
        stderr.contains(
            "after that failure, 5 more were not started (servers, or objects of no server): s08, s09, s10, s11, \
             configmap/mcpctl-dashboard-acme; run `mcpctl apply` again"
        ),
        "{}",
        out(&o)
    );
    // The servers under way were finished; s03 stopped at its Deployment.
    for i in (0..8).filter(|i| *i != 3) {
        assert!(env.deployment(&format!("s{i:02}")).is_some(), "s{i:02}");
    }
    assert!(env.deployment("s03").is_none());
    assert!(
        env.srv
            .get(&format!("/api/v1/namespaces/{NS}/serviceaccounts/s03"))
            .is_some()
    );
    for i in 8..12 {
        assert!(env.deployment(&format!("s{i:02}")).is_none(), "s{i:02}");
    }
    for server in ["s00", "s03", "s08"] {
        let revs = env.history_json(server);
        let last = revs.as_array().and_then(|r| r.last()).cloned();
        let last = last.unwrap_or_else(|| panic!("{server}: no revision recorded"));
        assert_eq!(last["outcome"], "failed", "{server}: {last}");
    }
    // Once the cause is gone, the next apply writes the rest.
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    for i in 0..12 {
        assert!(env.deployment(&format!("s{i:02}")).is_some(), "s{i:02}");
    }
}
