//! The fleet lock against the API server stand-in: a fleet-wide apply takes one fleet
//! Lease and renews only it; single-server operations take their own Lease and respect the
//! fleet's; the race between the two is settled by the protocol of `cluster::lock` (each
//! side writes its Lease, then reads the other's), made deterministic here by holding one
//! side's read until the other has run.

use std::time::Duration;

use serde_json::json;
use test_apiserver::{Behaviour, Fault, FaultAction, Gate, Method, RequestRecord};

use crate::cluster_apply::{exits_within, micro_now, send_signal, wait_until, wait_until_within};
use crate::cluster_support::*;

/// More than the threshold above which an operation takes the fleet Lease.
const SERVERS: usize = 12;
const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/mcp/leases";
const FLEET_LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/mcp/leases/mcpctl-fleet-lock-acme";

fn server_lease_path(server: &str) -> String {
    format!("{LEASES}/mcpctl-lock-{server}")
}

fn name(i: usize) -> String {
    format!("s{i:02}")
}

/// A fleet of `n` rolling servers (router `service`, one replica) running `tag`.
fn fleet(n: usize, tag: &str) -> String {
    let mut y = format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 1\n  router: service\n  strategy: rolling\nservers:\n"
    );
    for i in 0..n {
        y.push_str(&format!(
            "  - name: {}\n    image: ghcr.io/acme/mcp:{tag}\n",
            name(i)
        ));
    }
    y
}

/// A stand-in with the fleet applied at 1.0.0 and the fleet file moved to 2.0.0, so that
/// the next `apply` changes every server.
fn applied_fleet(n: usize) -> Env {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(n, "1.0.0"));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    env.write_fleet(&fleet(n, "2.0.0"));
    env
}

/// The live Lease of `server` as another process's deploy writes it.
pub fn live_server_lease(server: &str, holder: &str) -> serde_json::Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": format!("mcpctl-lock-{server}"), "namespace": NS,
            "labels": {"app.kubernetes.io/managed-by": "mcpctl", "app.kubernetes.io/name": server,
                "mcpctl.io/fleet": "acme", "mcpctl.io/record": "lock"}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30,
            "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": micro_now()}})
}

fn lease_requests(reqs: &[RequestRecord]) -> Vec<&RequestRecord> {
    reqs.iter().filter(|r| r.path.starts_with(LEASES)).collect()
}

/// Writes other than to Leases, that took effect.
fn object_writes(reqs: &[RequestRecord]) -> Vec<&RequestRecord> {
    writes(reqs)
        .into_iter()
        .filter(|r| !r.path.starts_with(LEASES))
        .filter(|r| (200..300).contains(&r.status))
        .collect()
}

fn deploy(env: &Env, server: &str) -> std::process::Child {
    env.spawn(&[
        "deploy",
        server,
        "--no-smoke",
        "--image",
        "ghcr.io/acme/mcp:3.0.0",
    ])
}

#[test]
fn a_fleet_apply_takes_one_lease_and_no_server_lease() {
    let env = applied_fleet(SERVERS);
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let reqs = env.srv.requests();
    let leases = lease_requests(&reqs);
    // Create the fleet Lease, list the server Leases once, delete the fleet Lease.
    let shape: Vec<String> = leases
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        shape,
        vec![
            format!("POST {LEASES}"),
            format!("GET {LEASES}"),
            format!("DELETE {FLEET_LEASE}"),
        ],
        "{}",
        describe(&reqs)
    );
    assert_eq!(
        leases[1].query_param("labelSelector").as_deref(),
        Some("mcpctl.io/record=lock,mcpctl.io/fleet=acme")
    );
    assert!(
        env.srv.get(FLEET_LEASE).is_none(),
        "fleet Lease not released"
    );
}

#[test]
fn a_fleet_apply_is_refused_while_a_server_is_locked() {
    let env = applied_fleet(SERVERS);
    env.srv.put_object(live_server_lease("s07", "ci:deploy/7"));
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "fleet acme cannot be locked as a whole: server s07 is locked by ci:deploy/7"
        ) && stderr.contains("mcpctl-lock-s07"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    assert!(
        object_writes(&reqs).is_empty(),
        "wrote while a server was locked:\n{}",
        describe(&reqs)
    );
    assert!(
        env.srv.get(FLEET_LEASE).is_none(),
        "fleet Lease left behind"
    );
    assert_eq!(
        env.srv.get(&server_lease_path("s07")).unwrap()["spec"]["holderIdentity"],
        "ci:deploy/7",
        "the other operation's Lease was touched"
    );
}

#[test]
fn a_deploy_is_refused_while_a_fleet_apply_holds_the_fleet_lock() {
    let env = applied_fleet(SERVERS);
    env.srv.set_default_behaviour(Behaviour::NeverReady);
    for i in 0..SERVERS {
        env.srv
            .set_deployment_behaviour(NS, &name(i), Behaviour::NeverReady);
    }
    let apply = env.spawn(&["apply", "--wait", "--timeout", "5m"]);
    wait_until(
        Duration::from_millis(50),
        "the fleet lock was never taken",
        || env.srv.get(FLEET_LEASE).is_some(),
    );
    let o = exits_within(deploy(&env, "s03"), 60, "deploy during a fleet apply");
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "server s03 is locked: a fleet-wide operation holds the lock of fleet acme, taken by tester@"
        ) && stderr.contains("mcpctl-fleet-lock-acme"),
        "{}",
        out(&o)
    );
    assert!(
        env.srv.get(&server_lease_path("s03")).is_none(),
        "the refused deploy left its Lease"
    );
    // `status` shows every server locked by the fleet-wide operation.
    let o = env.run(&["status", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows["servers"].as_array().unwrap();
    assert_eq!(rows.len(), SERVERS);
    assert!(
        rows.iter().all(|r| r["lockHolder"]
            .as_str()
            .is_some_and(|h| h.starts_with("tester@"))),
        "{rows:#?}"
    );
    send_signal(&apply, "-INT");
    let o = exits_within(apply, 60, "interrupted apply");
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        env.srv.get(FLEET_LEASE).is_none(),
        "fleet Lease not released"
    );
}

/// The race, fleet side first: the fleet apply has written its Lease and its LIST of the
/// server Leases is held; a deploy starting now writes its server Lease, reads the fleet
/// Lease, sees it live and backs off. The LIST then finds no live server Lease.
#[test]
fn race_fleet_lease_written_first_the_deploy_backs_off() {
    let env = applied_fleet(SERVERS);
    let gate = Gate::new();
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "/leases?",
        1,
        FaultAction::Hold(gate.clone()),
    ));
    let apply = env.spawn(&["apply"]);
    wait_until(
        Duration::from_millis(20),
        "the fleet apply never listed the server Leases",
        || gate.arrived() == 1,
    );
    assert!(env.srv.get(FLEET_LEASE).is_some());
    let o = exits_within(deploy(&env, "s03"), 60, "racing deploy");
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("holds the lock of fleet acme"),
        "{}",
        out(&o)
    );
    gate.open();
    let o = exits_within(apply, 120, "fleet apply");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let dep = env.deployment("s03").unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/acme/mcp:2.0.0",
        "the deploy wrote although it backed off"
    );
}

/// The race, server side first: the deploy has written its server Lease and its read of the
/// fleet Lease is held; a fleet apply starting now writes the fleet Lease, lists the server
/// Leases, sees the deploy's and backs off. The deploy's read then finds no fleet Lease.
#[test]
fn race_server_lease_written_first_the_fleet_apply_backs_off() {
    let env = applied_fleet(SERVERS);
    let gate = Gate::new();
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "/leases/mcpctl-fleet-lock-acme",
        1,
        FaultAction::Hold(gate.clone()),
    ));
    let deploying = deploy(&env, "s03");
    wait_until(
        Duration::from_millis(20),
        "the deploy never read the fleet Lease",
        || gate.arrived() == 1,
    );
    assert!(env.srv.get(&server_lease_path("s03")).is_some());
    env.srv.clear_requests();
    let o = exits_within(env.spawn(&["apply"]), 60, "racing fleet apply");
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("fleet acme cannot be locked as a whole: server s03 is locked by tester@"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    assert!(
        object_writes(&reqs).is_empty(),
        "the fleet apply wrote although it backed off:\n{}",
        describe(&reqs)
    );
    gate.open();
    let o = exits_within(deploying, 120, "deploy");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(env.srv.get(FLEET_LEASE).is_none());
}

/// While a fleet apply of many servers waits for its rollouts, its lock costs one GET and
/// one PUT of the fleet Lease per renewal, whatever the number of servers.
#[test]
fn lock_traffic_per_renewal_of_a_fleet_apply_is_constant() {
    let servers = 40;
    let env = applied_fleet(servers);
    for i in 0..servers {
        env.srv
            .set_deployment_behaviour(NS, &name(i), Behaviour::NeverReady);
    }
    env.srv.clear_requests();
    let apply = env.spawn(&["apply", "--wait", "--timeout", "5m"]);
    // Planning 40 servers takes a while on a loaded machine.
    wait_until_within(120, "the fleet lock was never taken", || {
        env.srv.get(FLEET_LEASE).is_some()
    });
    let renew_time = || {
        env.srv
            .get(FLEET_LEASE)
            .map(|l| l["spec"]["renewTime"].clone())
    };
    let renewals = 3;
    for _ in 0..renewals {
        let seen = renew_time();
        wait_until_within(60, "the fleet lock was not renewed", || {
            wait_or_fail(&seen, &renew_time)
        });
    }
    // A request is logged once answered, a moment after the store changed.
    let put_logged = || {
        env.srv
            .requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.path == FLEET_LEASE)
            .count()
    };
    wait_until(
        Duration::from_millis(20),
        "the last renewal was never logged",
        || put_logged() >= renewals,
    );
    let reqs = env.srv.requests();
    let leases = lease_requests(&reqs);
    // Taking it: create the fleet Lease, list the server Leases once.
    let shape = |r: &&RequestRecord| format!("{} {}", r.method, r.path);
    assert_eq!(
        leases[..2].iter().map(shape).collect::<Vec<_>>(),
        vec![format!("POST {LEASES}"), format!("GET {LEASES}")],
        "{}",
        describe(&reqs)
    );
    // Keeping it: a GET and a PUT of the fleet Lease per renewal, nothing else.
    let rest = &leases[2..];
    assert!(
        rest.iter().all(|r| r.path == FLEET_LEASE),
        "a lock request other than the fleet Lease's:\n{}",
        describe(&reqs)
    );
    let puts = rest.iter().filter(|r| r.method == "PUT").count();
    let gets = rest.iter().filter(|r| r.method == "GET").count();
    assert_eq!(puts, renewals, "{}", describe(&reqs));
    assert_eq!(puts + gets, rest.len(), "{}", describe(&reqs));
    // The read of the next renewal may have been made already.
    assert!((puts..=puts + 1).contains(&gets), "{}", describe(&reqs));
    eprintln!(
        "BENCH fleet apply of {servers} servers: {} lock requests for {renewals} renewals",
        rest.len()
    );
    send_signal(&apply, "-INT");
    exits_within(apply, 60, "interrupted apply");
}

/// Whether the value `now` reads differs from `before` (the Lease must still be there).
fn wait_or_fail(
    before: &Option<serde_json::Value>,
    now: &dyn Fn() -> Option<serde_json::Value>,
) -> bool {
    let n = now();
    assert!(n.is_some(), "the fleet Lease went away during the apply");
    &n != before
}
