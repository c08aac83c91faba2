//! Deciding "no change" without asking the server.
//!
//! A server-side apply of an object changes nothing when two things hold:
//!
//! 1. **Every value sent is already live.** Setting a field to the value it
//!    has changes nothing, whoever else owns it (a shared owner is never a
//!    conflict).
//! 2. **The manager's field set is exactly what is sent.** The server removes
//!    a field the manager owned and no longer sends (when nobody else owns
//!    it), so a field set that differs from the sent object can change the
//!    object. A field sent but not owned would be taken, which may conflict.
//!
//! The manager's field set is read from the live object's `managedFields`
//! entry (`operation: Apply`, same `apiVersion`, no subresource), in the
//! FieldsV1 form: `f:<field>`, `k:<key fields as JSON>` for items of
//! associative lists, `v:<value as JSON>` for items of sets, `.` for the node
//! itself. The entry also says which lists are atomic (`f:args: {}`) and which
//! fields are the keys of associative lists, so no schema is needed.
//!
//! The decision only ever errs towards "may change": a value the server would
//! normalise (`0.5` CPU stored as `500m`), a list whose live items are ordered
//! differently, an atomic field with defaults filled in, a `null`. Such an
//! object is dry-run as before, and the dry run gives the exact answer. The
//! test `local_no_change_agrees_with_the_dry_run` (tests/cli and tests/e2e)
//! checks, kind by kind, that "no change" here is "no change" for the server.

use serde_json::{Map, Value};

/// Metadata the field manager never tracks (the object's identity and the
/// server's bookkeeping): not part of any field set.
const UNTRACKED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Whether applying `intended` as `manager` would leave `live` as it is.
pub fn unchanged(intended: &Value, live: &Value, manager: &str) -> bool {
    may_change(intended, live, manager).is_none()
}

/// Why applying `intended` as `manager` may change `live` (for the debug
/// log), or `None` when it changes nothing.
pub fn may_change(intended: &Value, live: &Value, manager: &str) -> Option<String> {
    let Some((owned, others)) = applied_fields(live, manager, intended["apiVersion"].as_str())
    else {
        return Some(format!(
            "no single Apply entry of {manager} at {} in managedFields",
            intended["apiVersion"]
        ));
    };
    let Some(sent) = tracked(intended) else {
        return Some("the object carries status".into());
    };
    same_map(&sent, owned, &others, live, &At::Root).err()
}

/// A node of a FieldsV1 field set.
type Fields = Map<String, Value>;

/// The field set `manager` applied to `live` at `api_version`, and those of
/// every other entry at the same version (who else owns what).
fn applied_fields<'a>(
    live: &'a Value,
    manager: &str,
    api_version: Option<&str>,
) -> Option<(&'a Fields, Vec<&'a Fields>)> {
    let entries: Vec<&Value> = live["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .filter(|e| e["apiVersion"].as_str() == api_version && e["fieldsType"] == "FieldsV1")
        .filter(|e| e.get("subresource").is_none_or(|s| s == ""))
        .collect();
    let all = live["metadata"]["managedFields"].as_array()?;
    let ours = |e: &Value| e["manager"] == manager && e["operation"] == "Apply";
    let mut mine = all
        .iter()
        .filter(|e| ours(e) && e.get("subresource").is_none_or(|s| s == ""));
    let entry = mine.next()?;
    if mine.next().is_some()
        || entry["apiVersion"].as_str() != api_version
        || entry["fieldsType"] != "FieldsV1"
    {
        return None;
    }
    let others = entries
        .into_iter()
        .filter(|e| !ours(e))
        .filter_map(|e| e["fieldsV1"].as_object())
        .collect();
    Some((entry["fieldsV1"].as_object()?, others))
}

/// The part of the sent object the field manager tracks, as an object; `None`
/// when it carries `status` (reset by the server on main-resource writes of
/// most kinds: not decided here).
fn tracked(intended: &Value) -> Option<Map<String, Value>> {
    let mut out = intended.as_object()?.clone();
    out.shift_remove("apiVersion");
    out.shift_remove("kind");
    if out.contains_key("status") {
        return None;
    }
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in UNTRACKED_METADATA {
            meta.shift_remove(*k);
        }
        if meta.is_empty() {
            out.shift_remove("metadata");
        }
    }
    Some(out)
}

/// The children of a FieldsV1 node, without the `.` marker.
fn children(owned: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    owned.iter().filter(|(k, _)| k.as_str() != ".")
}

/// What a step of the walk found: `Err` names where (a path like
/// `.spec.ports[0].port`) and why the object may change.
type Walk = std::result::Result<(), String>;

/// Where the walk is: written out (`.spec.ports[0].port`) only when it
/// finds a difference, so that walking thousands of unchanged objects
/// formats no path.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Field(&'a At<'a>, &'a str),
    Item(&'a At<'a>, usize),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Field(up, k) => write!(f, "{up}.{k}"),
            At::Item(up, n) => write!(f, "{up}[{n}]"),
        }
    }
}

/// The same position in other managers' field sets.
fn below<'a>(others: &[&'a Map<String, Value>], key: &str) -> Vec<&'a Map<String, Value>> {
    others
        .iter()
        .filter_map(|o| o.get(key).and_then(Value::as_object))
        .collect()
}

/// Whether every field of `node` (a part of the manager's field set) is also
/// owned by another manager (`others`, at the same position): the server
/// keeps a field that one manager stops applying while another owns it, so
/// leaving it out changes ownership only, not the object.
fn owned_elsewhere(node: &Value, others: &[&Map<String, Value>]) -> bool {
    if others.is_empty() {
        return false;
    }
    let Some(m) = node.as_object() else {
        return false;
    };
    // `.` (the node itself) stays while another manager owns anything here.
    m.iter()
        .all(|(k, child)| k == "." || owned_elsewhere(child, &below(others, k)))
}

/// The fields owned but not sent (`sent` says which keys are) must all be
/// owned by another manager too.
fn unsent_owned_elsewhere(
    owned: &Map<String, Value>,
    others: &[&Map<String, Value>],
    sent: impl Fn(&str) -> bool,
    at: &At,
) -> Walk {
    for (k, node) in children(owned) {
        if !sent(k) && !owned_elsewhere(node, &below(others, k)) {
            return Err(format!(
                "{at} owns {k}, no longer sent and owned by no other manager"
            ));
        }
    }
    Ok(())
}

/// A map (an object or a struct) whose fields are owned one by one.
fn same_map(
    sent: &Map<String, Value>,
    owned: &Map<String, Value>,
    others: &[&Map<String, Value>],
    live: &Value,
    at: &At,
) -> Walk {
    for (k, v) in sent {
        let here = At::Field(at, k);
        let key = format!("f:{k}");
        let Some(o) = owned.get(&key) else {
            return Err(format!("{here} is sent but not owned"));
        };
        let Some(l) = live.get(k) else {
            return Err(format!("{here} is not live"));
        };
        same_value(v, o, &below(others, &key), l, &here)?;
    }
    unsent_owned_elsewhere(
        owned,
        others,
        |k| k.strip_prefix("f:").is_some_and(|f| sent.contains_key(f)),
        at,
    )
}

fn same_value(
    sent: &Value,
    owned: &Value,
    others: &[&Map<String, Value>],
    live: &Value,
    at: &At,
) -> Walk {
    let Some(owned) = owned.as_object() else {
        return Err(format!("{at}: the field set is not FieldsV1"));
    };
    let equal = || {
        if sent == live {
            Ok(())
        } else {
            Err(format!("{at} differs"))
        }
    };
    match sent {
        Value::Null => Err(format!("{at} is null")),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            if children(owned).next().is_some() {
                return Err(format!("{at}: a value where the owned fields are a map"));
            }
            equal()
        }
        // Owned whole (an atomic map or struct, or an empty one): the live
        // value must be exactly what is sent.
        Value::Object(_) | Value::Array(_) if children(owned).next().is_none() => equal(),
        Value::Object(m) => same_map(m, owned, others, live, at),
        Value::Array(items) => same_list(items, owned, others, live, at),
    }
}

/// A list owned item by item: an associative list (`k:`) or a set (`v:`).
fn same_list(
    sent: &[Value],
    owned: &Map<String, Value>,
    others: &[&Map<String, Value>],
    live: &Value,
    at: &At,
) -> Walk {
    let Some(live) = live.as_array() else {
        return Err(format!("{at} is not a list"));
    };
    let entries = ListEntries::of(owned);
    let mut sent_keys = std::collections::BTreeSet::new();
    // Where each sent item is in the live list: the same items must be there,
    // in the same order (others' items may sit between them).
    let mut last: Option<usize> = None;
    for (n, item) in sent.iter().enumerate() {
        let here = At::Item(at, n);
        let Some((key, entry, i)) = entries.find(item, live) else {
            return Err(format!("{here} is not one owned, live item"));
        };
        sent_keys.insert(key.as_str());
        if last.is_some_and(|l| i <= l) {
            return Err(format!("{here} is live in another order"));
        }
        last = Some(i);
        match (item, entry.as_object()) {
            (Value::Object(m), Some(o)) => same_map(m, o, &below(others, key), &live[i], &here)?,
            (_, Some(o)) if children(o).next().is_none() && *item == live[i] => {}
            _ => return Err(format!("{here} differs")),
        }
    }
    unsent_owned_elsewhere(owned, others, |k| sent_keys.contains(k), at)
}

/// The items of a list's FieldsV1 node, their keys read once for the list:
/// `k:` entries (key fields as a JSON object) and `v:` entries (a JSON value).
struct ListEntries<'a> {
    keyed: Vec<(&'a String, Map<String, Value>, &'a Value)>,
    values: Vec<(&'a String, Value, &'a Value)>,
}

impl<'a> ListEntries<'a> {
    fn of(owned: &'a Map<String, Value>) -> ListEntries<'a> {
        let mut keyed = Vec::new();
        let mut values = Vec::new();
        for (k, v) in children(owned) {
            if let Some(keys) = k
                .strip_prefix("k:")
                .and_then(|j| serde_json::from_str::<Map<String, Value>>(j).ok())
            {
                keyed.push((k, keys, v));
            } else if let Some(value) = k
                .strip_prefix("v:")
                .and_then(|j| serde_json::from_str::<Value>(j).ok())
            {
                values.push((k, value, v));
            }
        }
        ListEntries { keyed, values }
    }

    /// The entry of a sent list item and the index of the live item it
    /// names: for an object, the one `k:` entry whose key fields the item has
    /// with the same values; for a scalar, its `v:` entry.
    fn find(&self, item: &Value, live: &[Value]) -> Option<(&'a String, &'a Value, usize)> {
        match item {
            Value::Object(m) => {
                let mut found = self
                    .keyed
                    .iter()
                    .filter(|(_, keys, _)| keys.iter().all(|(kk, kv)| m.get(kk) == Some(kv)));
                let (key, keys, entry) = found.next()?;
                if found.next().is_some() {
                    return None;
                }
                let matches = |l: &Value| keys.iter().all(|(kk, kv)| l.get(kk) == Some(kv));
                let mut at = live.iter().enumerate().filter(|(_, l)| matches(l));
                let (i, _) = at.next()?;
                if at.next().is_some() {
                    return None;
                }
                Some((*key, *entry, i))
            }
            Value::Array(_) | Value::Null => None,
            scalar => {
                let (key, _, entry) = self.values.iter().find(|(_, v, _)| v == scalar)?;
                let mut at = live.iter().enumerate().filter(|(_, l)| *l == scalar);
                let (i, _) = at.next()?;
                if at.next().is_some() {
                    return None;
                }
                Some((*key, *entry, i))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Deployment as the API server stores it after `mcpctl` applied
    /// `sent()`: defaults filled in, a sidecar container and a label added by
    /// others, and the managedFields entries of both.
    fn live() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "github", "namespace": "mcp", "uid": "u", "resourceVersion": "7",
                "generation": 1, "creationTimestamp": "2026-12-01T00:00:00Z",
                "labels": {"app.kubernetes.io/name": "github", "team": "infra"},
                "managedFields": [
                    {"manager": "mcpctl", "operation": "Apply", "apiVersion": "apps/v1",
                     "time": "2026-12-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {
                        "f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}}},
                        "f:spec": {"f:replicas": {}, "f:selector": {},
                            "f:template": {"f:spec": {"f:containers": {
                                "k:{\"name\":\"mcp\"}": {".": {}, "f:name": {}, "f:image": {},
                                    "f:args": {},
                                    "f:ports": {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {
                                        ".": {}, "f:containerPort": {}, "f:protocol": {}}}}}}}}}},
                    {"manager": "kubectl-label", "operation": "Update", "apiVersion": "v1",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}}},
                    {"manager": "mcpctl", "operation": "Apply", "apiVersion": "apps/v1",
                     "subresource": "status", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}}
                ]},
            "spec": {"replicas": 2, "progressDeadlineSeconds": 600,
                "selector": {"matchLabels": {"app": "github"}},
                "template": {"spec": {"containers": [
                    {"name": "mcp", "image": "ghcr.io/x/github:1.4.2", "args": ["--port", "8080"],
                     "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                     "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
                    {"name": "sidecar", "image": "envoy"}]}}},
            "status": {"replicas": 2}
        })
    }

    fn sent() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "github", "namespace": "mcp",
                "labels": {"app.kubernetes.io/name": "github"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "github"}},
                "template": {"spec": {"containers": [
                    {"name": "mcp", "image": "ghcr.io/x/github:1.4.2", "args": ["--port", "8080"],
                     "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}}}
        })
    }

    #[test]
    fn the_same_values_with_the_same_field_set_change_nothing() {
        // Others' label and sidecar, and the server's defaults, stay as they are.
        assert!(unchanged(&sent(), &live(), "mcpctl"));
    }

    #[test]
    fn a_value_that_differs_may_change() {
        let mut s = sent();
        s["spec"]["replicas"] = json!(3);
        assert!(!unchanged(&s, &live(), "mcpctl"));
        let mut s = sent();
        s["spec"]["template"]["spec"]["containers"][0]["image"] = json!("ghcr.io/x/github:1.4.3");
        assert!(!unchanged(&s, &live(), "mcpctl"));
        // An atomic list (args) must be equal as a whole.
        let mut s = sent();
        s["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["--port"]);
        assert!(!unchanged(&s, &live(), "mcpctl"));
        // An atomic struct (the selector) too.
        let mut s = sent();
        s["spec"]["selector"]["matchLabels"]["tier"] = json!("x");
        assert!(!unchanged(&s, &live(), "mcpctl"));
    }

    #[test]
    fn the_reason_names_where_the_object_differs() {
        let mut s = sent();
        s["spec"]["template"]["spec"]["containers"][0]["image"] = json!("ghcr.io/x/github:1.4.3");
        assert_eq!(
            may_change(&s, &live(), "mcpctl").as_deref(),
            Some(".spec.template.spec.containers[0].image differs")
        );
        let mut s = sent();
        s["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(9090);
        assert_eq!(
            may_change(&s, &live(), "mcpctl").as_deref(),
            Some(".spec.template.spec.containers[0].ports[0] is not one owned, live item")
        );
    }

    #[test]
    fn a_field_no_longer_sent_may_be_removed() {
        let mut s = sent();
        s["spec"].as_object_mut().unwrap().shift_remove("replicas");
        assert!(!unchanged(&s, &live(), "mcpctl"));
        let mut s = sent();
        s["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .shift_remove("ports");
        assert!(!unchanged(&s, &live(), "mcpctl"));
    }

    #[test]
    fn a_field_no_longer_sent_but_owned_by_another_manager_stays() {
        // The rollout manager owns the replicas too: apply leaving them out
        // changes who owns them, not the object.
        let mut l = live();
        l["metadata"]["managedFields"].as_array_mut().unwrap().push(
            json!({"manager": "mcpctl-rollout", "operation": "Apply",
                "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:replicas": {}}}}),
        );
        let mut s = sent();
        s["spec"].as_object_mut().unwrap().shift_remove("replicas");
        assert!(unchanged(&s, &l, "mcpctl"));
        // A list item whose fields another manager owns only in part goes.
        let mut s = sent();
        s["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .shift_remove("ports");
        l["metadata"]["managedFields"][3]["fieldsV1"]["f:spec"]["f:template"] = json!({"f:spec":
            {"f:containers": {"k:{\"name\":\"mcp\"}": {"f:ports":
                {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {"f:containerPort": {}}}}}}});
        assert!(!unchanged(&s, &l, "mcpctl"));
        l["metadata"]["managedFields"][3]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
            ["k:{\"name\":\"mcp\"}"]["f:ports"]["k:{\"containerPort\":8080,\"protocol\":\"TCP\"}"]
            ["f:protocol"] = json!({});
        assert!(unchanged(&s, &l, "mcpctl"));
        // Owned at another version: not counted.
        l["metadata"]["managedFields"][3]["apiVersion"] = json!("apps/v1beta2");
        assert!(!unchanged(&s, &l, "mcpctl"));
    }

    #[test]
    fn a_field_sent_but_not_owned_may_be_taken() {
        // The same value as live, but owned by another manager: the apply
        // takes a share of it (a managedFields change the dry run would show
        // nothing of, but which is a write).
        let mut s = sent();
        s["metadata"]["labels"]["team"] = json!("infra");
        assert!(!unchanged(&s, &live(), "mcpctl"));
        // A new list item.
        let mut s = sent();
        s["spec"]["template"]["spec"]["containers"][0]["ports"]
            .as_array_mut()
            .unwrap()
            .push(json!({"containerPort": 9090, "protocol": "TCP"}));
        assert!(!unchanged(&s, &live(), "mcpctl"));
    }

    #[test]
    fn a_value_changed_by_another_manager_is_a_change() {
        let mut l = live();
        l["spec"]["replicas"] = json!(5);
        assert!(!unchanged(&sent(), &l, "mcpctl"));
        let mut l = live();
        l["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .shift_remove("image");
        assert!(!unchanged(&sent(), &l, "mcpctl"));
    }

    #[test]
    fn without_the_managers_apply_entry_nothing_is_decided() {
        assert!(!unchanged(&sent(), &live(), "mcpctl-rollout"));
        let mut s = sent();
        s["apiVersion"] = json!("apps/v1beta2");
        assert!(!unchanged(&s, &live(), "mcpctl"));
        let mut l = live();
        l["metadata"]
            .as_object_mut()
            .unwrap()
            .shift_remove("managedFields");
        assert!(!unchanged(&sent(), &l, "mcpctl"));
    }

    #[test]
    fn list_items_out_of_order_or_duplicated_are_left_to_the_server() {
        let mut l = live();
        let c = l["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap();
        c.push(c[0].clone());
        assert!(!unchanged(&sent(), &l, "mcpctl"));
        let mut s = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {"set": ["a", "b"]}});
        let owned = json!({"f:spec": {"f:set": {"v:\"a\"": {}, "v:\"b\"": {}}}});
        let mut l = s.clone();
        l["metadata"]["managedFields"] = json!([{"manager": "m", "operation": "Apply",
            "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": owned}]);
        assert!(unchanged(&s, &l, "m"));
        s["spec"]["set"] = json!(["b", "a"]);
        assert!(!unchanged(&s, &l, "m"));
        s["spec"]["set"] = json!(["a", null]);
        assert!(!unchanged(&s, &l, "m"));
    }

    #[test]
    fn status_and_nulls_are_left_to_the_server() {
        let mut s = sent();
        s["status"] = json!({"replicas": 2});
        assert!(!unchanged(&s, &live(), "mcpctl"));
        let mut s = sent();
        s["spec"]["paused"] = Value::Null;
        assert!(!unchanged(&s, &live(), "mcpctl"));
    }
}
