//! The fleet's ApplySet against the test API server: `apply --prune` of a
//! removed server, of a router change and of autoscaling turned off (shown
//! first by `diff --prune` and `apply --prune --dry-run=server`, announced by
//! a plain `apply`), objects outside the set never touched, and `delete`
//! (confirmation, history kept or purged, refused while an operation is in
//! flight).

use serde_json::{Value, json};

use crate::cluster_support::*;

const CM: &str = "/api/v1/namespaces/mcp/configmaps";
const PARENT: &str = "/api/v1/namespaces/mcp/configmaps/mcpctl.applyset.acme";

/// A rolling fleet of the named servers, each with `extra` YAML under it.
pub fn fleet(servers: &[(&str, &str)]) -> String {
    let mut y = format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 1\n  router: service\n  strategy: rolling\nservers:\n"
    );
    for (name, extra) in servers {
        y.push_str(&format!(
            "  - name: {name}\n    image: ghcr.io/acme/{name}-mcp:1.0.0\n{extra}"
        ));
    }
    y
}

fn path(kind_path: &str, name: &str) -> String {
    format!("{kind_path}/{name}")
}
const SVC: &str = "/api/v1/namespaces/mcp/services";
const SECRET: &str = "/api/v1/namespaces/mcp/secrets";
const HPA: &str = "/apis/autoscaling/v2/namespaces/mcp/horizontalpodautoscalers";
const VS: &str = "/apis/networking.istio.io/v1/namespaces/mcp/virtualservices";
const DR: &str = "/apis/networking.istio.io/v1/namespaces/mcp/destinationrules";

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn parent_annotation(env: &Env, key: &str) -> String {
    env.srv.get(PARENT).expect("the ApplySet parent exists")["metadata"]["annotations"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no annotation {key}"))
        .to_string()
}

/// Objects a prune must never touch: the same labels as postgres's objects
/// (or the same name) but not members of the fleet's set.
fn outsiders(env: &Env) -> Vec<String> {
    let labels = json!({"app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": "postgres",
        "app.kubernetes.io/part-of": "acme", "app.kubernetes.io/managed-by": "mcpctl"});
    let mut other_set = labels.clone();
    other_set["applyset.kubernetes.io/part-of"] = json!("applyset-someone-else-v1");
    env.srv.put_object(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "postgres-notes", "namespace": NS, "labels": labels}, "data": {"a": "b"}}));
    env.srv.put_object(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "postgres", "namespace": NS, "labels": labels}, "data": {"k": "dg=="}}));
    env.srv
        .put_object(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "postgres-legacy", "namespace": NS, "labels": other_set},
        "spec": {"ports": [{"port": 80}]}}));
    vec![
        path(CM, "postgres-notes"),
        path(SECRET, "postgres"),
        path(SVC, "postgres-legacy"),
    ]
}

#[test]
fn prune_deletes_a_removed_server_after_showing_it_and_never_touches_others() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(&[("github", ""), ("postgres", "")]));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // The parent: kubectl's id label and annotations, every rendered kind recorded.
    let parent = env.srv.get(PARENT).expect("parent created");
    let id = parent["metadata"]["labels"]["applyset.kubernetes.io/id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id, mcpctl::applyset::fleet_id("acme", NS));
    assert_eq!(
        parent_annotation(&env, "applyset.kubernetes.io/contains-group-kinds"),
        "ConfigMap,Deployment.apps,NetworkPolicy.networking.k8s.io,PodDisruptionBudget.policy,\
         PrometheusRule.monitoring.coreos.com,Service,ServiceAccount,ServiceMonitor.monitoring.coreos.com"
    );
    assert!(
        parent_annotation(&env, "applyset.kubernetes.io/tooling").starts_with("mcpctl/"),
        "{parent}"
    );
    let dep = env.deployment("postgres").unwrap();
    assert_eq!(
        dep["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        id.as_str()
    );
    let outside = outsiders(&env);

    env.write_fleet(&fleet(&[("github", "")]));
    // A plain apply leaves postgres and says what --prune would delete; of
    // the objects it writes only the fleet's dashboard, whose server list
    // lost postgres (no lock: no server changes).
    env.srv.clear_requests();
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stderr(&o).contains("`mcpctl apply --prune` deletes them")
            && stderr(&o).contains("deployment.apps/postgres"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    assert_eq!(
        write_lines(&reqs),
        ["PATCH /api/v1/namespaces/mcp/configmaps/mcpctl-dashboard-acme"],
        "{}",
        describe(&reqs)
    );
    assert!(env.deployment("postgres").is_some());

    // diff: a note without --prune (no difference), deletions with it.
    let o = env.run(&["diff"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stderr(&o).contains("`mcpctl diff --prune` shows them"),
        "{}",
        out(&o)
    );
    let o = env.run(&["diff", "--prune"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        stdout(&o).contains("--- live/mcp/deployment.apps/postgres")
            && stdout(&o).contains("-kind: Deployment"),
        "{}",
        out(&o)
    );
    for name in ["postgres-notes", "postgres-legacy"] {
        assert!(
            !stdout(&o).contains(name),
            "an outsider in the diff: {}",
            out(&o)
        );
    }

    // The server-side dry run shows the prune and deletes nothing.
    env.srv.clear_requests();
    let o = env.run(&["apply", "--prune", "--dry-run=server"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).contains("deployment.apps/postgres pruned (server dry run)"),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));
    assert!(
        reqs.iter()
            .any(|r| r.method == "DELETE" && r.query_param("dryRun").as_deref() == Some("All")),
        "{}",
        describe(&reqs)
    );
    assert!(env.deployment("postgres").is_some());

    let o = env.run(&["apply", "--prune"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    for obj in [
        "deployment.apps/postgres",
        "service/postgres",
        "configmap/postgres-config",
        "serviceaccount/postgres",
    ] {
        assert!(
            stdout(&o).contains(&format!("{obj} pruned")),
            "{obj}: {}",
            out(&o)
        );
    }
    assert!(env.deployment("postgres").is_none());
    assert!(env.srv.get(&path(SVC, "postgres")).is_none());
    assert!(env.deployment("github").is_some(), "github was pruned");
    for p in &outside {
        assert!(env.srv.get(p).is_some(), "{p} outside the set was deleted");
    }
    // Its lock was taken and released, its history kept with the removal.
    assert!(
        env.srv
            .get("/apis/coordination.k8s.io/v1/namespaces/mcp/leases/mcpctl-lock-postgres")
            .is_none()
    );
    let h = env.history_json("postgres");
    let last = h.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["operation"], "delete", "{h}");
    assert_eq!(last["outcome"], "uninstalled", "{h}");

    // Nothing left to prune: another --prune writes nothing.
    env.srv.clear_requests();
    let o = env.run(&["apply", "--prune"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(!stdout(&o).contains("pruned"), "{}", out(&o));
    assert!(
        writes(&env.srv.requests()).is_empty(),
        "{}",
        describe(&env.srv.requests())
    );
}

#[test]
fn prune_follows_autoscaling_off_and_a_router_change_and_narrows_the_set() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(&[(
        "github",
        "    router: istio\n    autoscaling:\n      maxReplicas: 4\n",
    )]));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(env.srv.get(&path(HPA, "github")).is_some());
    assert!(env.srv.get(&path(VS, "github")).is_some());
    let kinds = parent_annotation(&env, "applyset.kubernetes.io/contains-group-kinds");
    assert!(
        kinds.contains("HorizontalPodAutoscaler.autoscaling"),
        "{kinds}"
    );
    assert!(
        kinds.contains("VirtualService.networking.istio.io"),
        "{kinds}"
    );

    // Autoscaling off: the HPA alone goes.
    env.write_fleet(&fleet(&[("github", "    router: istio\n")]));
    let o = env.run(&["apply", "--prune"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).contains("horizontalpodautoscaler.autoscaling/github pruned"),
        "{}",
        out(&o)
    );
    assert_eq!(stdout(&o).matches(" pruned").count(), 1, "{}", out(&o));
    assert!(env.srv.get(&path(HPA, "github")).is_none());
    assert!(env.srv.get(&path(VS, "github")).is_some());
    let kinds = parent_annotation(&env, "applyset.kubernetes.io/contains-group-kinds");
    assert!(!kinds.contains("HorizontalPodAutoscaler"), "{kinds}");
    assert!(
        kinds.contains("VirtualService.networking.istio.io"),
        "{kinds}"
    );

    // Router istio → service: the VirtualService and DestinationRule go.
    env.write_fleet(&fleet(&[("github", "")]));
    let o = env.run(&["apply", "--prune", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let results: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    assert_eq!(results["schemaVersion"], 1);
    let mut pruned: Vec<String> = results["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] == "pruned")
        .map(|r| {
            format!(
                "{}/{}",
                r["kind"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect();
    pruned.sort();
    assert_eq!(
        pruned,
        ["DestinationRule/github", "VirtualService/github"],
        "{}",
        out(&o)
    );
    assert!(env.srv.get(&path(VS, "github")).is_none());
    assert!(env.srv.get(&path(DR, "github")).is_none());
    assert!(env.deployment("github").is_some());
    let kinds = parent_annotation(&env, "applyset.kubernetes.io/contains-group-kinds");
    assert!(!kinds.contains("istio"), "{kinds}");
    // The revision of the apply that pruned them is recorded.
    let h = env.history_json("github");
    assert_eq!(h.as_array().unwrap().len(), 3, "{h}");
}

/// A state record with an interrupted deploy of `server`.
fn interrupted_deploy(env: &Env, server: &str) {
    let op = json!({"schemaVersion": 2, "id": "20261201t060000z-0000beef", "kind": "deploy",
        "strategy": "rolling", "stepText": "wait for the rollout", "started": "2026-12-01T06:00:00Z",
        "holder": "ci:job/1", "who": "ci:job/1"});
    let name = format!("mcpctl.state.acme.{server}");
    let p = path(CM, &name);
    let mut cm = env.srv.get(&p).unwrap_or_else(|| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS,
            "labels": {"app.kubernetes.io/managed-by": "mcpctl", "app.kubernetes.io/name": server,
                "mcpctl.io/fleet": "acme", "mcpctl.io/record": "state"}}, "data": {}})
    });
    cm["data"]["inflight"] = json!(op.to_string());
    env.srv.put_object(cm);
}

#[test]
fn prune_of_a_removed_server_is_refused_while_its_operation_is_in_flight() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(&[("github", ""), ("postgres", "")]));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    interrupted_deploy(&env, "postgres");
    env.write_fleet(&fleet(&[("github", "")]));
    let o = env.run(&["apply", "--prune"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let e = stderr(&o);
    assert!(
        e.contains("server postgres has an operation in flight: deploy")
            && e.contains("20261201t060000z-0000beef")
            && e.contains("mcpctl deploy postgres --resume"),
        "{}",
        out(&o)
    );
    assert!(
        env.deployment("postgres").is_some(),
        "pruned while in flight"
    );
}

#[test]
fn delete_asks_keeps_or_purges_history_and_refuses_in_flight() {
    let env = Env::start(&[]);
    env.write_fleet(&fleet(&[("github", ""), ("postgres", "")]));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let outside = outsiders(&env);

    // Not a terminal and no --yes: refused, nothing deleted.
    env.srv.clear_requests();
    let o = env.run(&["delete", "github"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(stderr(&o).contains("pass --yes"), "{}", out(&o));
    assert!(
        writes(&env.srv.requests()).is_empty(),
        "{}",
        describe(&env.srv.requests())
    );
    assert!(env.deployment("github").is_some());

    // Another operation holds the server's lock: exit 5, nothing deleted.
    let now = mcpctl::cluster::lock::micro_time(jiff::Timestamp::now());
    env.srv.put_object(
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "mcpctl-lock-github", "namespace": NS},
        "spec": {"holderIdentity": "ci:job/7", "leaseDurationSeconds": 3600,
            "acquireTime": now, "renewTime": now}}),
    );
    let o = env.run(&["delete", "github", "--yes"]);
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    assert!(stderr(&o).contains("locked by ci:job/7"), "{}", out(&o));
    assert!(env.deployment("github").is_some());
    let lease = "/apis/coordination.k8s.io/v1/namespaces/mcp/leases/mcpctl-lock-github";
    assert_eq!(http(&env.srv, "DELETE", lease, "application/json", ""), 200);

    // An operation in flight: refused, naming it and how to finish it.
    interrupted_deploy(&env, "github");
    let o = env.run(&["delete", "github", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        stderr(&o).contains("20261201t060000z-0000beef")
            && stderr(&o).contains("`mcpctl deploy github --resume` or `mcpctl rollback github`"),
        "{}",
        out(&o)
    );
    assert!(env.deployment("github").is_some());
    let mut st = env.github_state();
    st["data"].as_object_mut().unwrap().remove("inflight");
    env.srv.put_object(st);

    // Deleted by membership; the history stays, with the removal recorded.
    let o = env.run(&["delete", "github", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        stdout(&o).contains("deployment.apps/github deleted"),
        "{}",
        out(&o)
    );
    assert!(env.deployment("github").is_none());
    assert!(env.srv.get(&path(SVC, "github")).is_none());
    assert!(
        env.deployment("postgres").is_some(),
        "another server was deleted"
    );
    let h = env.history_json("github");
    let revs = h.as_array().unwrap();
    assert_eq!(revs.len(), 2, "{h}");
    assert_eq!(revs[1]["outcome"], "uninstalled", "{h}");

    // --purge of the rest: objects and history gone; the set is empty; outsiders stay.
    let o = env.run(&["delete", "--all", "--yes", "--purge"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(env.deployment("postgres").is_none());
    for server in ["github", "postgres"] {
        assert!(
            env.srv
                .get(&path(CM, &format!("mcpctl.state.acme.{server}")))
                .is_none(),
            "{server}'s state kept"
        );
        assert!(
            env.srv
                .get(&path(CM, &format!("mcpctl.rev.acme.{server}.v1")))
                .is_none(),
            "{server}'s revision kept"
        );
    }
    assert_eq!(
        parent_annotation(&env, "applyset.kubernetes.io/contains-group-kinds"),
        ""
    );
    for p in &outside {
        assert!(env.srv.get(p).is_some(), "{p} outside the set was deleted");
    }
    // Nothing installed any more: naming a server is an error that says so.
    let o = env.run(&["delete", "github", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        stderr(&o).contains("nothing to delete for github"),
        "{}",
        out(&o)
    );
}

#[test]
fn a_rollback_to_a_revision_recorded_before_the_applyset_keeps_the_object_in_the_set() {
    use mcpctl::cluster::journal::{decode_objects, encode_objects};
    let env = Env::start(&[]);
    env.write_fleet(&fleet(&[("github", "")]));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    env.write_fleet(&fleet(&[("github", "")]).replace("1.0.0", "1.1.0"));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // Revision 1 as an older mcpctl stored it: objects without the part-of label.
    let p = path(CM, "mcpctl.rev.acme.github.v1");
    let mut cm = env.srv.get(&p).expect("revision 1");
    let mut objects =
        decode_objects(cm["binaryData"]["objects.json.gz"].as_str().unwrap()).unwrap();
    for o in &mut objects {
        o["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("applyset.kubernetes.io/part-of");
    }
    cm["binaryData"]["objects.json.gz"] = json!(encode_objects(&objects).unwrap());
    env.srv.put_object(cm);

    let o = env.run(&["rollback", "github", "--no-smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let dep = env.deployment("github").unwrap();
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/github-mcp:1.0.0"
    );
    assert_eq!(
        dep["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        mcpctl::applyset::fleet_id("acme", NS).as_str(),
        "{}",
        dep["metadata"]
    );
}
