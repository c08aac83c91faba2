//! Builders for lint tests: a fleet server and the objects of a server that
//! passes every rule. Tests break one thing at a time.

use std::time::Duration;

use serde_json::{Value, json};

use crate::fleet::*;
use crate::render::Object;

/// A server that passes every rule: the fleet file's defaults, pinned by
/// digest, with TLS.
pub fn server(name: &str) -> Server {
    let base = crate::fleet::testing::server(
        name,
        &format!("ghcr.io/acme/{name}-mcp:1.0.0@sha256:{}", "0".repeat(64)),
    );
    Server {
        resources: Resources {
            limits: ResourceList {
                cpu: Some("1".into()),
                memory: Some("512Mi".into()),
            },
            ..base.resources.clone()
        },
        canary: Canary {
            steps: vec![10, 50, 100],
            step_duration: Duration::from_secs(120),
            ..base.canary.clone()
        },
        prometheus: Some(Prometheus {
            url: "http://prometheus.monitoring:9090".into(),
        }),
        tls: Some(Tls {
            secret_name: format!("{name}-tls"),
            ca_secret: "mcp-ca".into(),
            warn_days: 30,
            dns_names: Vec::new(),
        }),
        ..base
    }
}

pub fn fleet_of(servers: Vec<Server>) -> Fleet {
    crate::fleet::testing::fleet("acme", servers)
}

fn meta(name: &str, server: &str) -> Value {
    json!({"name": name, "namespace": "mcp", "labels": {"app.kubernetes.io/name": server}})
}

/// The objects of one server that pass every rule.
pub fn good_objects(server: &str) -> Vec<Object> {
    let labels = json!({"app.kubernetes.io/name": server, "app.kubernetes.io/instance": server});
    let selector = json!({"matchLabels": {"app.kubernetes.io/name": server}});
    let values = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(server, server)}),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(server, server),
            "spec": {
                "replicas": 2,
                "selector": selector,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": server,
                        "terminationGracePeriodSeconds": 45,
                        "securityContext": {"runAsNonRoot": true, "runAsUser": 10001},
                        "containers": [{
                            "name": "mcp",
                            "image": format!("ghcr.io/acme/{server}-mcp:1.0.0@sha256:0123"),
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "securityContext": {
                                "runAsNonRoot": true,
                                "readOnlyRootFilesystem": true,
                                "allowPrivilegeEscalation": false,
                                "capabilities": {"drop": ["ALL"]}
                            },
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "1", "memory": "512Mi"}
                            },
                            "livenessProbe": {"tcpSocket": {"port": "http"}},
                            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                            "lifecycle": {"preStop": {"sleep": {"seconds": 15}}},
                            "volumeMounts": [{"name": "tls", "mountPath": "/etc/mcp/tls", "readOnly": true}]
                        }],
                        "volumes": [{"name": "tls", "secret": {"secretName": format!("{server}-tls")}}]
                    }
                }
            }
        }),
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(server, server),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": server},
                "minReplicas": 2, "maxReplicas": 6
            }
        }),
        json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(server, server),
            "spec": {"maxUnavailable": 1, "selector": selector}
        }),
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(server, server),
            "spec": {"podSelector": selector, "policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": 8080}]}]}
        }),
        json!({
            "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": meta(server, server),
            "spec": {"groups": [{"name": server, "rules": [{"alert": "McpServerDown", "expr": "up == 0", "for": "5m"}]}]}
        }),
    ];
    values.into_iter().map(|value| Object { value }).collect()
}

/// The first object of `kind`.
pub fn object_mut<'a>(objs: &'a mut [Object], kind: &str) -> &'a mut Value {
    &mut objs
        .iter_mut()
        .find(|o| o.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
        .value
}

/// The Deployment called `name`.
pub fn deployment_mut<'a>(objs: &'a mut [Object], name: &str) -> &'a mut Value {
    &mut objs
        .iter_mut()
        .find(|o| o.kind() == "Deployment" && o.name() == name)
        .unwrap_or_else(|| panic!("no Deployment {name}"))
        .value
}
