//! Who owns the fields that carry traffic.
//!
//! A blue-green or canary server has **rollout fields**: the Services'
//! selectors of a blue-green server (the switch), the routes of its
//! VirtualService or HTTPRoute (the weights), the replica counts of its
//! Deployments (the preview colour, the canary track, the scale-down) and
//! the HorizontalPodAutoscaler's target (it follows the active colour). They
//! are owned by their own field manager, [`ROLLOUT_MANAGER`], which the
//! rollout commands write with `force`. `apply` (field manager `mcpctl`)
//! never sends them for an object that exists, so it can never move traffic,
//! and since the rollout manager keeps owning them, server-side apply never
//! drops them either (it removes a field whose only owner stops applying it:
//! that is what would reset an autoscaled Deployment's replicas after a
//! switch).
//!
//! `apply` still writes the rollout part of an object through the rollout
//! manager in two cases: when the object is created (so the manager owns
//! its fields from the start), and when the rendered part differs only in
//! what is not traffic (the replica count of the active colour, a route's
//! timeout). Rendering takes the traffic values from the live objects, and a
//! part whose traffic values differ from the live ones is never written by
//! `apply` ([`traffic_of`]).

use serde_json::{Map, Value, json};

pub mod gateway;
pub mod istio;
pub mod replicas;
pub mod router;

pub use router::{Sizing, WeightChange, WeightRouter};

use crate::fleet::Strategy;

/// The field manager of the rollout fields.
pub const ROLLOUT_MANAGER: &str = "mcpctl-rollout";

/// The rollout fields of an object of a server with `strategy`, as paths
/// under `spec`.
fn rollout_fields(obj: &Value, strategy: Strategy) -> &'static [&'static str] {
    if strategy == Strategy::Rolling {
        return &[];
    }
    match obj["kind"].as_str().unwrap_or("") {
        "Deployment" => &["replicas"],
        "Service" if strategy == Strategy::BlueGreen => &["selector"],
        "VirtualService" => &["http"],
        "HTTPRoute" => &["rules"],
        // Which colour the autoscaler scales moves with the traffic.
        "HorizontalPodAutoscaler" => &["scaleTargetRef"],
        _ => &[],
    }
}

/// Splits a rendered object into what `apply` owns and the rollout part
/// (`None` when the object has no rollout field set).
pub fn split(obj: &Value, strategy: Strategy) -> (Value, Option<Value>) {
    let fields = rollout_fields(obj, strategy);
    let mut main = obj.clone();
    let mut spec = Map::new();
    for f in fields {
        if let Some(v) = main["spec"].as_object_mut().and_then(|s| s.remove(*f)) {
            spec.insert((*f).to_string(), v);
        }
    }
    if spec.is_empty() {
        return (main, None);
    }
    (main, Some(part(obj, spec)))
}

/// An apply patch for the rollout manager: the object's identity and `spec`.
pub fn part(obj: &Value, spec: Map<String, Value>) -> Value {
    let mut meta = Map::new();
    for k in ["name", "namespace"] {
        if let Some(v) = obj["metadata"].get(k) {
            meta.insert(k.to_string(), v.clone());
        }
    }
    json!({
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": meta,
        "spec": spec,
    })
}

/// What in an object decides where traffic goes: a Service's selector, the
/// destinations and weights of a route. `None` for objects that carry no
/// traffic decision.
pub fn traffic_of(obj: &Value) -> Option<Value> {
    match obj["kind"].as_str()? {
        "Service" => Some(obj["spec"]["selector"].clone()),
        "VirtualService" => Some(Value::Array(
            obj["spec"]["http"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|h| {
                    Value::Array(
                        h["route"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|r| json!([r["destination"]["subset"], r["weight"]]))
                            .collect(),
                    )
                })
                .collect(),
        )),
        "HTTPRoute" => Some(Value::Array(
            obj["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|rule| {
                    Value::Array(
                        rule["backendRefs"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|b| json!([b["name"], b["weight"]]))
                            .collect(),
                    )
                })
                .collect(),
        )),
        _ => None,
    }
}

/// Whether a field manager entry of `manager` with operation Apply exists.
pub fn applied_by(live: &Value, manager: &str) -> bool {
    live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|m| m["manager"] == manager && m["operation"] == "Apply")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(colour: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gh", "namespace": "mcp", "labels": {"a": "b"}},
            "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": "gh", "mcpctl.io/colour": colour},
                     "ports": [{"name": "http", "port": 8080}]}})
    }

    #[test]
    fn blue_green_service_selectors_are_rollout_fields() {
        let (main, part) = split(&svc("blue"), Strategy::BlueGreen);
        assert!(main["spec"].get("selector").is_none());
        assert_eq!(main["spec"]["ports"][0]["port"], 8080);
        assert_eq!(main["metadata"]["labels"]["a"], "b");
        let part = part.unwrap();
        assert_eq!(
            part,
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gh", "namespace": "mcp"},
                "spec": {"selector": {"app.kubernetes.io/name": "gh", "mcpctl.io/colour": "blue"}}})
        );
        // A canary server's Services select fixed tracks: nothing to split.
        let (main, part) = split(&svc("blue"), Strategy::Canary);
        assert!(part.is_none());
        assert_eq!(main, svc("blue"));
    }

    #[test]
    fn replicas_are_rollout_fields_unless_absent_or_rolling() {
        let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gh-blue"},
            "spec": {"replicas": 3, "template": {}}});
        let (main, part) = split(&dep, Strategy::BlueGreen);
        assert!(main["spec"].get("replicas").is_none());
        assert_eq!(part.unwrap()["spec"], json!({"replicas": 3}));
        let (_, part) = split(&dep, Strategy::Rolling);
        assert!(part.is_none());
        // An autoscaled Deployment renders no replicas: nothing to own.
        let hpa = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gh-blue"},
            "spec": {"template": {}}});
        assert!(split(&hpa, Strategy::BlueGreen).1.is_none());
    }

    #[test]
    fn traffic_of_routes_and_services() {
        let vs = json!({"kind": "VirtualService", "spec": {"http": [{"timeout": "5s", "route": [
            {"destination": {"host": "gh", "subset": "stable"}, "weight": 90},
            {"destination": {"host": "gh", "subset": "canary"}, "weight": 10}]}]}});
        assert_eq!(
            traffic_of(&vs).unwrap(),
            json!([[["stable", 90], ["canary", 10]]])
        );
        let mut vs2 = vs.clone();
        vs2["spec"]["http"][0]["timeout"] = json!("10s");
        assert_eq!(
            traffic_of(&vs),
            traffic_of(&vs2),
            "a timeout is not traffic"
        );
        let hr = json!({"kind": "HTTPRoute", "spec": {"rules": [{"backendRefs": [{"name": "gh", "weight": 100}]}]}});
        assert_eq!(traffic_of(&hr).unwrap(), json!([[["gh", 100]]]));
        assert_ne!(traffic_of(&svc("blue")), traffic_of(&svc("green")));
        assert!(traffic_of(&json!({"kind": "Deployment"})).is_none());
    }

    #[test]
    fn ownership_is_read_from_managed_fields() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "mcpctl", "operation": "Apply"},
            {"manager": "mcpctl-rollout", "operation": "Update"}]}});
        assert!(applied_by(&live, "mcpctl"));
        assert!(!applied_by(&live, ROLLOUT_MANAGER));
    }
}
