//! A large fleet as `status` finds it, stored straight into the test API
//! server: one ready Deployment and one Service per server. Shared by the
//! status tests and `benches/cluster.rs` (which includes this file by path).

use serde_json::json;
use test_apiserver::ApiServer;

/// Stores `n` rolling servers `s0`..`s{n-1}` of `fleet` in namespace `ns`,
/// each running `ghcr.io/acme/s:1.0.<i>` and ready, and returns the fleet
/// file that declares them.
pub fn ready_fleet(srv: &ApiServer, ns: &str, fleet: &str, n: usize) -> String {
    let mut text = format!(
        "fleet: {fleet}\nnamespace: {ns}\ndefaults:\n  replicas: 1\n  router: service\n  strategy: rolling\nservers:\n"
    );
    srv.put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    for i in 0..n {
        let name = format!("s{i}");
        let image = format!("ghcr.io/acme/s:1.0.{i}");
        text.push_str(&format!("  - name: {name}\n    image: {image}\n"));
        let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": fleet,
            "app.kubernetes.io/managed-by": "mcpctl", "mcpctl.io/track": "stable"});
        srv.put_object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "generation": 1},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "template": {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": name, "image": image}]}}},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                "readyReplicas": 1, "availableReplicas": 1}}));
        srv.put_object(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"selector": {"app.kubernetes.io/name": name}, "ports": [{"port": 8080}]}}));
    }
    text
}
