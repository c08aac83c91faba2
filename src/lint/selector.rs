//! Kubernetes label selectors (`matchLabels` + `matchExpressions`) evaluated
//! against a pod template's labels, as the API server does.

use serde_json::Value;

/// Whether `selector` selects a pod with `labels`.
///
/// `selector` is a `LabelSelector` object. An empty selector (`{}`) selects
/// everything; a missing one (`null`) selects nothing, as for
/// PodDisruptionBudget and NetworkPolicy callers that pass what was rendered.
pub fn matches(selector: &Value, labels: &Value) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if label(k) != v.as_str() {
                return false;
            }
        }
    }
    if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e["key"].as_str().unwrap_or("");
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = label(key);
            let ok = match e["operator"].as_str().unwrap_or("") {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                // An operator the API server would reject selects nothing.
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> Value {
        json!({"app.kubernetes.io/name": "github", "mcpctl.dev/track": "stable"})
    }

    #[test]
    fn match_labels_must_all_be_present() {
        assert!(matches(
            &json!({"matchLabels": {"app.kubernetes.io/name": "github"}}),
            &labels()
        ));
        assert!(!matches(
            &json!({"matchLabels": {"app.kubernetes.io/name": "github", "x": "y"}}),
            &labels()
        ));
        assert!(!matches(
            &json!({"matchLabels": {"app.kubernetes.io/name": "other"}}),
            &labels()
        ));
    }

    #[test]
    fn empty_selects_all_and_null_selects_none() {
        assert!(matches(&json!({}), &labels()));
        assert!(!matches(&Value::Null, &labels()));
    }

    #[test]
    fn expressions() {
        let l = labels();
        let e = |op: &str, vals: Value| json!({"matchExpressions": [{"key": "mcpctl.dev/track", "operator": op, "values": vals}]});
        assert!(matches(&e("In", json!(["stable", "canary"])), &l));
        assert!(!matches(&e("In", json!(["canary"])), &l));
        assert!(matches(&e("NotIn", json!(["canary"])), &l));
        assert!(!matches(&e("NotIn", json!(["stable"])), &l));
        assert!(matches(&e("Exists", Value::Null), &l));
        assert!(!matches(&e("DoesNotExist", Value::Null), &l));
        assert!(!matches(&e("Bogus", Value::Null), &l));
    }
}
