//! The fleet's Grafana dashboard ConfigMap against the API server stand-in: applied by a
//! whole-fleet `apply` as a member of the fleet's ApplySet (planned with the rest, so
//! `--dry-run=server` and `diff` show it), updated when the fleet changes, never written
//! by an unchanged apply nor by `apply SERVER`, pruned once turned off (announced without
//! `--prune`), deleted by `delete --all` but not by `delete SERVER`, and written under the
//! locks of every server.

use serde_json::Value;

use crate::cluster_prune::fleet;
use crate::cluster_support::*;
use crate::fleet_lock::live_server_lease;
use crate::support::{stderr, stdout};

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/mcp/leases";
const FLEET_LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/mcp/leases/mcpctl-fleet-lock-acme";

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out(o)))
}

/// The fleet file of `servers` with `dashboard.enabled: false`.
fn without_dashboard(servers: &[(&str, &str)]) -> String {
    fleet(servers).replace("defaults:", "dashboard:\n  enabled: false\ndefaults:")
}

/// A stand-in with the rolling servers github and postgres applied.
fn applied() -> Env {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(&[("github", ""), ("postgres", "")]));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    env
}

/// The servers the live dashboard offers in its `server` variable (`github,postgres`).
fn dashboard_servers(env: &Env) -> String {
    let cm = env.srv.get(DASHBOARD_PATH).expect("the dashboard exists");
    let text = cm["data"]["mcp-acme.json"]
        .as_str()
        .unwrap_or_else(|| panic!("no mcp-acme.json in {cm}"));
    let dashboard: Value = serde_json::from_str(text).unwrap();
    dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "server")
        .and_then(|v| v["query"].as_str())
        .unwrap_or_else(|| panic!("no server variable in {dashboard}"))
        .to_string()
}

/// Requests to the dashboard's path (reads and dry runs included).
fn dashboard_requests(env: &Env) -> Vec<String> {
    env.srv
        .requests()
        .iter()
        .filter(|r| r.path == DASHBOARD_PATH)
        .map(|r| format!("{} {}", r.method, r.query))
        .collect()
}

/// The entries of a document's list `key` that name the dashboard.
fn dashboard_entries(doc: &Value, key: &str) -> Vec<Value> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {doc}"))
        .iter()
        .filter(|x| {
            x["name"] == "mcpctl-dashboard-acme"
                || x["object"] == "mcp/configmap/mcpctl-dashboard-acme"
        })
        .cloned()
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn a_fleet_apply_creates_the_dashboard_then_writes_it_only_when_the_fleet_changes() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(&[("github", ""), ("postgres", "")]));

    // Planned with the rest: the dry run and diff show it before anything exists.
    let o = env.run(&["apply", "--dry-run=server"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).ends_with(&format!("{DASHBOARD_LINE} created (server dry run)\n")),
        "{}",
        out(&o)
    );
    assert!(env.srv.get(DASHBOARD_PATH).is_none());
    let o = env.run(&["diff", "-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let entries = dashboard_entries(&json(&o), "differ");
    assert_eq!(entries.len(), 1, "{}", out(&o));
    // The fleet's object, not a server's: no `server` key.
    assert_eq!(keys(&entries[0]), ["object", "live", "diff"]);
    assert_eq!(entries[0]["live"], false);

    // Applied, reported as the fleet's, a member of the set, by field manager mcpctl.
    let o = env.run(&["apply", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let entries = dashboard_entries(&json(&o), "objects");
    assert_eq!(entries.len(), 1, "{}", out(&o));
    assert_eq!(
        keys(&entries[0]),
        ["kind", "name", "namespace", "change", "dryRun"]
    );
    assert_eq!(
        (&entries[0]["kind"], &entries[0]["change"]),
        (&"ConfigMap".into(), &"created".into())
    );
    let cm = env
        .srv
        .get(DASHBOARD_PATH)
        .expect("the dashboard was applied");
    let labels = &cm["metadata"]["labels"];
    assert_eq!(
        labels["applyset.kubernetes.io/part-of"],
        mcpctl::applyset::fleet_id("acme", NS).as_str(),
        "{cm}"
    );
    assert_eq!(labels["grafana_dashboard"], "1", "{cm}");
    let managers: Vec<(&str, &str)> = cm["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or(""),
                m["operation"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(managers, [("mcpctl", "Apply")], "{cm}");
    assert_eq!(dashboard_servers(&env), "github,postgres");

    // Unchanged: planned from the ConfigMap LIST alone (decided locally: no request of its
    // own, not even a dry run), written never; nothing else is written either. With every
    // object dry-run, its dry run is its only request.
    let unchanged = |envs: &[(&str, &str)]| {
        env.srv.clear_requests();
        let o = env
            .command(&["apply"])
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        assert!(
            stdout(&o).ends_with(&format!("{DASHBOARD_LINE} unchanged\n")),
            "{}",
            out(&o)
        );
        let reqs = env.srv.requests();
        assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
        dashboard_requests(&env)
    };
    assert!(unchanged(&[]).is_empty());
    assert_eq!(
        unchanged(&[("MCPCTL_DRY_RUN_EVERY_OBJECT", "1")]),
        ["PATCH fieldManager=mcpctl&force=false&dryRun=All"]
    );

    // A server added: `apply SERVER` and `diff SERVER` leave the dashboard alone.
    env.write_fleet(&fleet(&[("github", ""), ("postgres", ""), ("slack", "")]));
    env.srv.clear_requests();
    let o = env.run(&["apply", "slack"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(!out(&o).contains("dashboard"), "{}", out(&o));
    assert!(env.deployment("slack").is_some());
    assert!(
        dashboard_requests(&env).is_empty(),
        "{}",
        describe(&env.srv.requests())
    );
    assert_eq!(dashboard_servers(&env), "github,postgres");
    let o = env.run(&["diff", "slack"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    // The whole fleet: diff shows the dashboard's new server list, apply writes it.
    let o = env.run(&["diff"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        stdout(&o).contains("--- live/mcp/configmap/mcpctl-dashboard-acme")
            && stdout(&o).contains("github,postgres,slack"),
        "{}",
        out(&o)
    );
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).ends_with(&format!("{DASHBOARD_LINE} configured\n")),
        "{}",
        out(&o)
    );
    assert_eq!(dashboard_servers(&env), "github,postgres,slack");
    // Its writes: the dashboard alone, without a lock (no rollout writes it); no server
    // changed, so no server's state or revision is written.
    let reqs = env.srv.requests();
    assert_eq!(
        write_lines(&reqs),
        [format!("PATCH {DASHBOARD_PATH}")],
        "{}",
        describe(&reqs)
    );
    assert_eq!(env.history_json("github").as_array().unwrap().len(), 1);
}

/// A server added while another operation holds a server of the fleet (a canary may hold it
/// for an hour): the whole-fleet apply installs the new server and updates the dashboard,
/// and leaves the held server and its lock alone.
#[test]
fn an_apply_that_changes_the_dashboard_leaves_locked_servers_alone() {
    let env = applied();
    env.write_fleet(&fleet(&[("github", ""), ("postgres", ""), ("slack", "")]));
    let held = live_server_lease("postgres", "ci:deploy/7");
    let lease_path = format!("{LEASES}/{}", held["metadata"]["name"].as_str().unwrap());
    env.srv.put_object(held);
    let before = env.srv.get(&lease_path).unwrap();
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(env.deployment("slack").is_some());
    assert_eq!(dashboard_servers(&env), "github,postgres,slack");
    let reqs = env.srv.requests();
    assert!(
        writes(&reqs)
            .iter()
            .all(|r| !r.path.contains("postgres") && r.path != lease_path),
        "{}",
        describe(&reqs)
    );
    assert_eq!(
        env.srv.get(&lease_path).unwrap()["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"],
        "the held lock is untouched"
    );
    assert!(env.srv.get(FLEET_LEASE).is_none(), "no fleet Lease");
}

#[test]
fn a_dashboard_turned_off_is_announced_then_pruned_with_prune() {
    let env = applied();
    env.write_fleet(&without_dashboard(&[("github", ""), ("postgres", "")]));

    // Without --prune: a note, no write.
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stderr(&o).contains("`mcpctl apply --prune` deletes them: configmap/mcpctl-dashboard-acme"),
        "{}",
        out(&o)
    );
    assert!(!stdout(&o).contains("dashboard"), "{}", out(&o));
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
    assert!(env.srv.get(DASHBOARD_PATH).is_some());

    // Shown by diff --prune (a deletion of the fleet's object) and the server dry run.
    let o = env.run(&["diff", "--prune", "-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let entries = dashboard_entries(&json(&o), "differ");
    assert_eq!(entries.len(), 1, "{}", out(&o));
    assert_eq!(keys(&entries[0]), ["object", "live", "diff", "pruned"]);
    assert!(
        entries[0]["diff"]
            .as_str()
            .unwrap()
            .contains("-kind: ConfigMap"),
        "{}",
        out(&o)
    );
    env.srv.clear_requests();
    let o = env.run(&["apply", "--prune", "--dry-run=server"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).contains("configmap/mcpctl-dashboard-acme pruned (server dry run)"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
    assert!(env.srv.get(DASHBOARD_PATH).is_some());

    // --prune deletes it, without a lock, recording nothing for any server.
    env.srv.clear_requests();
    let o = env.run(&["apply", "--prune", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let entries = dashboard_entries(&json(&o), "objects");
    assert_eq!(entries.len(), 1, "{}", out(&o));
    assert_eq!(entries[0]["change"], "pruned", "{}", out(&o));
    assert!(entries[0].get("server").is_none(), "{}", out(&o));
    assert!(env.srv.get(DASHBOARD_PATH).is_none(), "not pruned");
    assert!(env.deployment("github").is_some() && env.deployment("postgres").is_some());
    let reqs = env.srv.requests();
    assert_eq!(
        write_lines(&reqs),
        [format!("DELETE {DASHBOARD_PATH}")],
        "{}",
        describe(&reqs)
    );
    for server in ["github", "postgres"] {
        assert_eq!(env.history_json(server).as_array().unwrap().len(), 1);
    }

    // Gone: nothing more to prune or write.
    env.srv.clear_requests();
    let o = env.run(&["apply", "--prune"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(writes(&env.srv.requests()).is_empty());
}

#[test]
fn delete_all_removes_the_dashboard_and_delete_of_a_server_does_not() {
    let env = applied();
    let o = env.run(&["delete", "github", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(env.deployment("github").is_none());
    assert!(!stdout(&o).contains("dashboard"), "{}", out(&o));
    assert!(env.srv.get(DASHBOARD_PATH).is_some(), "deleted with github");

    // Without --yes the question names it.
    let o = env.run(&["delete", "--all"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        stderr(&o).contains("the fleet's own objects (its dashboard)"),
        "{}",
        out(&o)
    );

    let o = env.run(&["delete", "--all", "--yes", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let entries = dashboard_entries(&json(&o), "deleted");
    assert_eq!(entries.len(), 1, "{}", out(&o));
    assert_eq!(keys(&entries[0]), ["kind", "name", "namespace"]);
    assert!(env.srv.get(DASHBOARD_PATH).is_none(), "not deleted");
    assert!(env.deployment("postgres").is_none());
}
