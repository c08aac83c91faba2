//! Typed round-trip of core objects through their `k8s-openapi` types: a
//! field the type does not know (a misspelling, a field of a newer
//! Kubernetes) is dropped on the way, and the comparison reports it.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde_json::Value;

use super::Object;

/// `(apiVersion, kind)` of the objects that have a `k8s-openapi` type here.
pub const CORE_KINDS: &[(&str, &str)] = &[
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
];

/// Whether the object has a `k8s-openapi` type (else it is a custom resource).
pub fn is_core(obj: &Object) -> bool {
    CORE_KINDS
        .iter()
        .any(|(a, k)| *a == obj.api_version() && *k == obj.kind())
}

fn via<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

/// Deserializes the object into its `k8s-openapi` type and serializes it back.
pub fn round_trip(obj: &Object) -> Result<Value, String> {
    let v = &obj.value;
    match (obj.api_version(), obj.kind()) {
        ("v1", "ServiceAccount") => via::<ServiceAccount>(v),
        ("v1", "ConfigMap") => via::<ConfigMap>(v),
        ("v1", "Service") => via::<Service>(v),
        ("apps/v1", "Deployment") => via::<Deployment>(v),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => via::<HorizontalPodAutoscaler>(v),
        ("policy/v1", "PodDisruptionBudget") => via::<PodDisruptionBudget>(v),
        ("networking.k8s.io/v1", "NetworkPolicy") => via::<NetworkPolicy>(v),
        (a, k) => Err(format!("no k8s-openapi type for {a} {k}")),
    }
}

/// Round-trips the object and fails naming every path that was lost or changed.
pub fn check(obj: &Object) -> Result<(), String> {
    let back = round_trip(obj).map_err(|e| format!("{} {}: {e}", obj.kind(), obj.name()))?;
    let mut diffs = Vec::new();
    diff("", &obj.value, &back, &mut diffs);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} {} does not survive a round-trip through its k8s-openapi type:\n  {}",
            obj.kind(),
            obj.name(),
            diffs.join("\n  ")
        ))
    }
}

/// Paths where `a` and `b` differ, like `.spec.template.spec.containers[0].foo: lost`.
pub fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            for (k, va) in ma {
                let p = format!("{path}.{k}");
                match mb.get(k) {
                    Some(vb) => diff(&p, va, vb, out),
                    None => out.push(format!("{p}: lost")),
                }
            }
            for k in mb.keys() {
                if !ma.contains_key(k) {
                    out.push(format!("{path}.{k}: added"));
                }
            }
        }
        (Value::Array(xa), Value::Array(xb)) if xa.len() == xb.len() => {
            for (i, (va, vb)) in xa.iter().zip(xb).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} became {b}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_field_is_reported() {
        let obj = Object {
            value: json!({
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "x", "lables": {"a": "b"}},
                "automountServiceAccountToken": false
            }),
        };
        let e = check(&obj).unwrap_err();
        assert!(e.contains(".metadata.lables: lost"), "{e}");
    }

    #[test]
    fn a_wrong_type_is_reported() {
        let obj = Object {
            value: json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": 3}}),
        };
        assert!(check(&obj).is_err());
    }

    #[test]
    fn a_correct_object_passes() {
        let obj = Object {
            value: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"A": "1"}}),
        };
        check(&obj).unwrap();
        assert!(is_core(&obj));
    }
}
