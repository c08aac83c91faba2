//! `apply`'s local "no change" decision checked against the server's dry run, object kind by
//! object kind: the example fleet (every strategy, router and optional object) is applied, then
//! changed in the ways a fleet drifts — by another client, or by the fleet file — and each time
//! `apply --dry-run=server` plans twice: as it does (deciding "no change" locally where it can)
//! and with `MCPCTL_DRY_RUN_EVERY_OBJECT=1` (the server dry-runs every object). The two plans must
//! say the same of every object. After every step the fleet is applied again, and then every
//! object must be decided locally (no dry run at all): the local decision is not a fallback that
//! never fires. Shared by the CLI tier (the stand-in) and the end-to-end tier (the real API
//! server).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// Where the scenario runs: a fleet directory, mcpctl, and raw access to the API server.
pub trait Side {
    fn write_fleet(&self, text: &str);
    /// mcpctl with `args`, set up to run against this side's server and fleet.
    fn command(&self, args: &[&str]) -> Command;
    fn mcpctl(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.command(args);
        c.envs(env.iter().copied());
        c.output().expect("run mcpctl")
    }
    fn get(&self, path: &str) -> Option<Value>;
    /// Sends a PATCH as another client (`path` with its query); returns the status code and the
    /// answer's text.
    fn patch(&self, path: &str, content_type: &str, body: &Value) -> (u16, String);
    fn namespace(&self) -> String;
}

pub const FLEET: &str = include_str!("../../examples/fleet.yaml");

/// The API path of each kind the fleet renders (a kind not listed fails the test: extend it).
fn path_of(ns: &str, kind: &str, name: &str) -> String {
    let (root, plural) = match kind {
        "Deployment" => ("/apis/apps/v1", "deployments"),
        "Service" => ("/api/v1", "services"),
        "ServiceAccount" => ("/api/v1", "serviceaccounts"),
        "ConfigMap" => ("/api/v1", "configmaps"),
        "PodDisruptionBudget" => ("/apis/policy/v1", "poddisruptionbudgets"),
        "NetworkPolicy" => ("/apis/networking.k8s.io/v1", "networkpolicies"),
        "HorizontalPodAutoscaler" => ("/apis/autoscaling/v2", "horizontalpodautoscalers"),
        "VirtualService" => ("/apis/networking.istio.io/v1", "virtualservices"),
        "DestinationRule" => ("/apis/networking.istio.io/v1", "destinationrules"),
        "HTTPRoute" => ("/apis/gateway.networking.k8s.io/v1", "httproutes"),
        "ServiceMonitor" => ("/apis/monitoring.coreos.com/v1", "servicemonitors"),
        "PrometheusRule" => ("/apis/monitoring.coreos.com/v1", "prometheusrules"),
        other => panic!("the agreement test does not know where {other} is served: add it"),
    };
    format!("{root}/namespaces/{ns}/{plural}/{name}")
}

/// Every kind the example fleet renders: each must be decided locally when unchanged.
const KINDS: &[&str] = &[
    "ConfigMap",
    "Deployment",
    "DestinationRule",
    "HTTPRoute",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "PrometheusRule",
    "Service",
    "ServiceAccount",
    "ServiceMonitor",
    "VirtualService",
];

/// One `apply --dry-run=server -o json -vv`.
#[derive(Debug)]
struct Plan {
    code: Option<i32>,
    /// "Kind/name" → change, from the JSON document (empty when the command failed).
    changes: BTreeMap<String, String>,
    /// stderr without the log lines: the error, when there is one.
    error: String,
    /// Objects (as `kind.group/name`) decided locally, and those dry-run, from the debug log.
    local: BTreeSet<String>,
    asked: BTreeSet<String>,
}

fn plan(side: &dyn Side, every_object: bool) -> Plan {
    let env: &[(&str, &str)] = if every_object {
        &[("MCPCTL_DRY_RUN_EVERY_OBJECT", "1")]
    } else {
        &[]
    };
    let o = side.mcpctl(&["apply", "--dry-run=server", "-o", "json", "-vv"], env);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let mut changes = BTreeMap::new();
    if o.status.success() {
        let doc: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("apply -o json: not JSON ({e}):\n{stdout}"));
        for ob in doc["objects"].as_array().expect("objects") {
            changes.insert(
                format!(
                    "{}/{}",
                    ob["kind"].as_str().unwrap(),
                    ob["name"].as_str().unwrap()
                ),
                ob["change"].as_str().unwrap().to_string(),
            );
        }
    }
    // `DEBUG deployment.apps/github: unchanged (decided locally)`, or
    // `DEBUG deployment.apps/github: asking the server (dry run): <why>`.
    let logged = |what: &str| -> BTreeSet<String> {
        stderr
            .lines()
            .filter_map(|l| l.trim().strip_prefix("DEBUG "))
            .filter_map(|l| l.split_once(what))
            .map(|(object, why)| format!("{object}{}", why.trim_start_matches(':')))
            .collect()
    };
    let is_log = |l: &str| {
        let t = l.trim_start();
        ["TRACE ", "DEBUG ", "INFO ", "WARN "]
            .iter()
            .any(|p| t.starts_with(p))
    };
    Plan {
        code: o.status.code(),
        changes,
        error: stderr
            .lines()
            .filter(|l| !is_log(l))
            .collect::<Vec<_>>()
            .join("\n"),
        local: logged(": unchanged (decided locally)"),
        asked: logged(": asking the server (dry run)"),
    }
}

/// Both plans, which must agree on every object; returns the local one.
fn agree(side: &dyn Side, step: &str) -> Plan {
    let local = plan(side, false);
    let server = plan(side, true);
    assert!(
        server.local.is_empty(),
        "{step}: MCPCTL_DRY_RUN_EVERY_OBJECT=1 still decided locally: {:?}",
        server.local
    );
    assert_eq!(
        (local.code, &local.changes, &local.error),
        (server.code, &server.changes, &server.error),
        "{step}: the local decision and the server's dry runs disagree \
         (left: deciding locally, right: dry-running every object); decided locally: {:?}",
        local.local
    );
    local
}

/// Applies the fleet for real (taking back what other managers took), then checks that an
/// unchanged plan decides every object, of every kind, locally.
fn reapply_and_check_all_local(side: &dyn Side, step: &str) {
    let o = side.mcpctl(&["apply", "--force-conflicts"], &[]);
    assert_eq!(o.status.code(), Some(0), "{step}: apply: {}", text(&o));
    let p = agree(side, &format!("{step}, applied again"));
    assert_eq!(p.code, Some(0), "{step}: {}", p.error);
    assert!(
        p.changes.values().all(|c| c == "unchanged"),
        "{step}: applied again, yet: {:?}",
        p.changes
    );
    assert!(
        p.asked.is_empty(),
        "{step}: applied again, these were still dry-run: {:?}",
        p.asked
    );
    let kinds: BTreeSet<&str> = p
        .changes
        .keys()
        .map(|k| k.split('/').next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        KINDS.iter().copied().collect::<BTreeSet<_>>(),
        "{step}: the kinds planned"
    );
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The fleet's own object, its dashboard: of no server, it carries none of the servers' labels
/// (the fleet file's `labels`).
const DASHBOARD: &str = "mcpctl-dashboard-acme-tools";

fn is_dashboard(object: &str) -> bool {
    object.ends_with(&format!("/{DASHBOARD}"))
}

/// Every object's part that carries labels (all but the rollout fields) was dry-run: a label
/// change reached it. With `servers_label`, the change was to a label of the servers' only,
/// which the fleet's dashboard does not carry: it must be decided locally, unchanged.
fn assert_no_labelled_part_local(p: &Plan, servers_label: bool) {
    let labelled: Vec<&String> = p
        .local
        .iter()
        .filter(|o| !o.ends_with(" (rollout fields)"))
        .filter(|o| !(servers_label && is_dashboard(o)))
        .collect();
    assert!(labelled.is_empty(), "decided locally: {labelled:?}");
    if servers_label {
        assert!(
            p.local.iter().any(|o| is_dashboard(o)),
            "the dashboard was dry-run: {:?}",
            p.asked
        );
    }
}

/// The fleet's objects as the plan names them: (kind, name, API path).
fn objects(side: &dyn Side) -> Vec<(String, String, String)> {
    let ns = side.namespace();
    plan(side, false)
        .changes
        .keys()
        .map(|k| {
            let (kind, name) = k.split_once('/').unwrap();
            (kind.to_string(), name.to_string(), path_of(&ns, kind, name))
        })
        .collect()
}

/// Every scalar field mcpctl's apply owns in `live`, outside metadata, as (JSON pointer, value),
/// in document order: read from its managedFields entry, list items found by their keys.
fn owned_leaves(live: &Value) -> Vec<(String, Value)> {
    fn walk(owned: &Value, live: &Value, at: String, out: &mut Vec<(String, Value)>) {
        let Some(owned) = owned.as_object() else {
            return;
        };
        for (k, o) in owned {
            if let Some(f) = k.strip_prefix("f:") {
                if at.is_empty() && f == "metadata" {
                    continue;
                }
                let Some(l) = live.get(f) else { continue };
                let here = format!("{at}/{}", f.replace('~', "~0").replace('/', "~1"));
                if o.as_object().is_some_and(|m| m.is_empty()) {
                    // Owned whole (a scalar, or an atomic list or map): its scalars.
                    scalars(l, here, out);
                } else {
                    walk(o, l, here, out);
                }
            } else if let Some(keys) = k.strip_prefix("k:") {
                let keys: Value = serde_json::from_str(keys).unwrap();
                let keys = keys.as_object().unwrap();
                if let Some(i) = live.as_array().and_then(|a| {
                    a.iter()
                        .position(|item| keys.iter().all(|(kk, kv)| item.get(kk) == Some(kv)))
                }) {
                    walk(o, &live[i], format!("{at}/{i}"), out);
                }
            }
        }
    }
    fn scalars(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    scalars(
                        v,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    scalars(v, format!("{at}/{i}"), out);
                }
            }
            Value::Null => {}
            scalar => out.push((at, scalar.clone())),
        }
    }
    let entry = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == "mcpctl" && e["operation"] == "Apply")
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    walk(&entry["fieldsV1"], live, String::new(), &mut out);
    out
}

fn different(v: &Value) -> Value {
    match v {
        Value::Bool(b) => json!(!b),
        Value::Number(n) if n.is_u64() => json!(n.as_u64().unwrap() + 1),
        Value::Number(n) if n.is_i64() => json!(n.as_i64().unwrap() + 1),
        Value::Number(n) => json!(n.as_f64().unwrap() + 0.5),
        Value::String(s) => json!(format!("{s}x")),
        other => panic!("not a scalar: {other}"),
    }
}

/// Another client (field manager `manager`) merges `labels` into every object's labels.
fn label_all(side: &dyn Side, objects: &[(String, String, String)], manager: &str, labels: Value) {
    for (_, _, path) in objects {
        let (s, t) = side.patch(
            &format!("{path}?fieldManager={manager}"),
            "application/merge-patch+json",
            &json!({"metadata": {"labels": labels}}),
        );
        assert_eq!(s, 200, "labels {labels} on {path} as {manager}: {t}");
    }
}

/// The whole scenario.
pub fn local_no_change_agrees_with_the_dry_run(side: &dyn Side) {
    side.write_fleet(FLEET);
    let o = side.mcpctl(&["apply"], &[]);
    assert_eq!(o.status.code(), Some(0), "first apply: {}", text(&o));
    reapply_and_check_all_local(side, "after the first apply");
    let objects = objects(side);

    // Another client adds a label of its own to every object: nothing of mcpctl's changes.
    label_all(
        side,
        &objects,
        "kubectl-label",
        json!({"owner": "someone-else"}),
    );
    let p = agree(side, "a foreign label on every object");
    assert!(
        p.asked.is_empty() && p.changes.values().all(|c| c == "unchanged"),
        "a foreign label: {:?}, dry-run: {:?}",
        p.changes,
        p.asked
    );

    // Another client changes a label mcpctl applied, on every object (a conflict for apply).
    label_all(
        side,
        &objects,
        "kubectl-edit",
        json!({"team": "someone-else"}),
    );
    let p = agree(side, "a label of mcpctl's changed by another client");
    assert_no_labelled_part_local(&p, true);
    reapply_and_check_all_local(side, "a label of mcpctl's changed");

    // Another client removes a label mcpctl applied.
    label_all(side, &objects, "kubectl-edit", json!({"team": null}));
    let p = agree(side, "a label of mcpctl's removed by another client");
    assert_no_labelled_part_local(&p, true);
    reapply_and_check_all_local(side, "a label of mcpctl's removed");

    // Another client changes one field of mcpctl's outside metadata, in every object: the first
    // one, in document order, that the server accepts a change of.
    let mut perturbed: BTreeSet<String> = BTreeSet::new();
    for (kind, name, path) in &objects {
        let live = side.get(path).unwrap_or_else(|| panic!("{path} exists"));
        for (pointer, value) in owned_leaves(&live) {
            let (s, _) = side.patch(
                &format!("{path}?fieldManager=kubectl-edit"),
                "application/json-patch+json",
                &json!([{"op": "replace", "path": pointer, "value": different(&value)}]),
            );
            if s == 200 {
                perturbed.insert(kind.clone());
                break;
            }
        }
        let _ = name;
    }
    assert_eq!(
        perturbed,
        KINDS.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>(),
        "kinds with a field of mcpctl's changed by another client"
    );
    let p = agree(side, "a field of mcpctl's changed by another client");
    assert_no_labelled_part_local(&p, false);
    reapply_and_check_all_local(side, "a field of mcpctl's changed");

    // The fleet file changes: a label more on every object, then a label fewer.
    let more = FLEET.replace(
        "    team: platform\n",
        "    team: platform\n    tier: gold\n",
    );
    assert_ne!(more, FLEET, "the example fleet sets `team: platform`");
    side.write_fleet(&more);
    let p = agree(side, "a label added to the fleet");
    assert_no_labelled_part_local(&p, true);
    assert!(
        p.changes.iter().all(|(o, c)| c
            == if is_dashboard(o) {
                "unchanged"
            } else {
                "configured"
            }),
        "{:?}",
        p.changes
    );
    reapply_and_check_all_local(side, "a label added to the fleet");
    side.write_fleet(FLEET);
    let p = agree(side, "a label removed from the fleet");
    assert_no_labelled_part_local(&p, true);
    reapply_and_check_all_local(side, "a label removed from the fleet");

    // One server's environment: its objects change, the rest is decided locally.
    let one = FLEET.replace("PGDATABASE: analytics", "PGDATABASE: reports");
    assert_ne!(one, FLEET, "the example's postgres sets PGDATABASE");
    side.write_fleet(&one);
    let p = agree(side, "one server's environment");
    let changed: BTreeSet<&String> = p
        .changes
        .iter()
        .filter(|(_, c)| *c != "unchanged")
        .map(|(k, _)| k)
        .collect();
    assert!(
        !changed.is_empty() && changed.iter().all(|k| k.contains("postgres")),
        "changed: {changed:?}"
    );
    assert!(
        p.asked.iter().all(|k| k.contains("postgres")),
        "dry-run beyond postgres: {:?}",
        p.asked
    );
    reapply_and_check_all_local(side, "one server's environment");
}
