//! Unified diffs of live against intended objects, as `kubectl diff` shows
//! them: server bookkeeping stripped (both sides come from the server, so its
//! defaults appear on both), Secret values masked.

use serde_json::{Map, Value};

use super::apply::strip_server_fields;

/// Keys sorted at every level, so that the diff shows content, not order.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Replaces Secret values by `***`, marking changed ones `*** (before)` /
/// `*** (after)` like kubectl, so that a diff shows which keys changed and
/// never what they hold.
pub fn mask_secrets(live: Option<&Value>, intended: &Value) -> (Option<Value>, Value) {
    if intended["kind"] != "Secret" {
        return (live.cloned(), intended.clone());
    }
    let mut l = live.cloned();
    let mut i = intended.clone();
    for field in ["data", "stringData"] {
        let lmap = l
            .as_ref()
            .and_then(|l| l[field].as_object().cloned())
            .unwrap_or_default();
        let imap = i[field].as_object().cloned().unwrap_or_default();
        if let Some(lv) = l.as_mut()
            && let Some(m) = lv[field].as_object_mut()
        {
            for (k, v) in m.iter_mut() {
                let changed = imap.get(k).is_some_and(|iv| iv != v);
                *v = Value::String(if changed { "*** (before)" } else { "***" }.into());
            }
        }
        if let Some(m) = i[field].as_object_mut() {
            for (k, v) in m.iter_mut() {
                let changed = lmap.get(k).is_some_and(|lv| lv != v);
                *v = Value::String(if changed { "*** (after)" } else { "***" }.into());
            }
        }
    }
    (l, i)
}

fn yaml(v: &Value) -> String {
    serde_saphyr::to_string(v)
        .unwrap_or_else(|_| serde_json::to_string_pretty(v).unwrap_or_default())
}

/// The unified diff of one object, or `None` when there is no difference.
/// `name` labels the sides (`live/<name>`, `intended/<name>`).
pub fn object_diff(name: &str, live: Option<&Value>, intended: &Value) -> Option<String> {
    let live = live.map(strip_server_fields);
    let intended = strip_server_fields(intended);
    let (live, intended) = mask_secrets(live.as_ref(), &intended);
    let a = live.as_ref().map(|v| yaml(&sorted(v))).unwrap_or_default();
    let b = yaml(&sorted(&intended));
    if a == b {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&a, &b);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{name}"), &format!("intended/{name}"))
        .to_string();
    Some(text)
}

/// The unified diff of a live object that would be deleted (pruned): every
/// line removed.
pub fn deletion_diff(name: &str, live: &Value) -> String {
    let live = strip_server_fields(live);
    let (live, _) = mask_secrets(Some(&live), &live);
    let a = live.as_ref().map(|v| yaml(&sorted(v))).unwrap_or_default();
    similar::TextDiff::from_lines(a.as_str(), "")
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{name}"), &format!("intended/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_diff_when_only_bookkeeping_differs() {
        let live = json!({"kind": "Service", "metadata": {"name": "a", "resourceVersion": "1", "uid": "x"},
            "spec": {"ports": [{"port": 80}]}, "status": {"loadBalancer": {}}});
        let intended = json!({"kind": "Service", "metadata": {"resourceVersion": "1", "name": "a",
            "managedFields": [{"manager": "mcpctl"}]}, "spec": {"ports": [{"port": 80}]}});
        assert_eq!(object_diff("service/a", Some(&live), &intended), None);
    }

    #[test]
    fn changed_field_shows_as_unified_diff() {
        let live = json!({"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"replicas": 2, "x": "same"}});
        let intended = json!({"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"replicas": 3, "x": "same"}});
        let d = object_diff("deployment.apps/a", Some(&live), &intended).unwrap();
        assert!(
            d.starts_with("--- live/deployment.apps/a\n+++ intended/deployment.apps/a\n"),
            "{d}"
        );
        assert!(d.contains("-  replicas: 2\n"), "{d}");
        assert!(d.contains("+  replicas: 3\n"), "{d}");
    }

    #[test]
    fn pruned_object_is_all_deletions_with_secrets_masked() {
        let live = json!({"kind": "Secret", "metadata": {"name": "s", "uid": "u"},
            "data": {"token": "c2VjcmV0"}});
        let d = deletion_diff("secret/s", &live);
        assert!(
            d.starts_with("--- live/secret/s\n+++ intended/secret/s\n"),
            "{d}"
        );
        assert!(d.contains("-kind: Secret"), "{d}");
        assert!(!d.contains("c2VjcmV0") && !d.contains("uid"), "{d}");
        assert!(
            !d.lines()
                .any(|l| l.starts_with('+') && !l.starts_with("+++")),
            "{d}"
        );
    }

    #[test]
    fn new_object_is_all_additions() {
        let intended = json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        let d = object_diff("configmap/c", None, &intended).unwrap();
        assert!(d.contains("+kind: ConfigMap"), "{d}");
        assert!(
            !d.lines()
                .any(|l| l.starts_with('-') && !l.starts_with("---")),
            "{d}"
        );
    }

    #[test]
    fn secret_values_never_appear() {
        let live = json!({"kind": "Secret", "metadata": {"name": "s"},
            "data": {"token": "c2VjcmV0LW9sZA==", "same": "c2FtZQ=="}});
        let intended = json!({"kind": "Secret", "metadata": {"name": "s"},
            "data": {"token": "c2VjcmV0LW5ldw==", "same": "c2FtZQ==", "added": "YWRk"}});
        let d = object_diff("secret/s", Some(&live), &intended).unwrap();
        for secret in ["c2VjcmV0LW9sZA==", "c2VjcmV0LW5ldw==", "c2FtZQ==", "YWRk"] {
            assert!(!d.contains(secret), "value leaked: {d}");
        }
        assert!(
            d.contains("-  token: '*** (before)'") || d.contains("-  token: \"*** (before)\""),
            "{d}"
        );
        assert!(
            d.contains("+  added: '***'") || d.contains("+  added: \"***\""),
            "{d}"
        );
        // Equal values are masked the same on both sides, hence no line for them.
        assert!(!d.contains("-  same"), "{d}");
    }
}
