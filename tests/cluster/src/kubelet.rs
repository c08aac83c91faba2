//! A simulated kubelet (and scheduler): registers nodes, binds every unscheduled pod to one of
//! them, reports bound pods Running and Ready, and finishes the deletion of terminating pods.
//! No container runs. Pods matched by a [`Unready`] rule are reported Running but never Ready, as
//! a pod whose readiness probe keeps failing would be.
//!
//! The node lifecycle controller is off in this control plane (see `lib.rs`): nodes send no
//! heartbeats and keep the Ready condition they were registered with.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};

/// Pods in `namespace` whose labels include every pair of `labels` are never reported Ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unready {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

impl Unready {
    fn matches(&self, pod: &Pod) -> bool {
        let empty = BTreeMap::new();
        let labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
        pod.metadata.namespace.as_deref() == Some(self.namespace.as_str())
            && self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

/// The handle tests use: rules and the simulated nodes' names.
#[derive(Clone, Default)]
pub struct Kubelet {
    rules: Arc<Mutex<Vec<Unready>>>,
    nodes: Vec<String>,
}

impl Kubelet {
    pub(crate) fn new(nodes: usize) -> Kubelet {
        Kubelet {
            rules: Arc::default(),
            nodes: (0..nodes).map(|i| format!("sim-node-{i}")).collect(),
        }
    }

    /// From now on, pods in `namespace` with all of `labels` (`key=value` pairs) start Running
    /// but never become Ready. Set it before the pods are created.
    pub fn keep_unready(&self, namespace: &str, labels: &[(&str, &str)]) {
        self.rules.lock().unwrap().push(Unready {
            namespace: namespace.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
    }

    /// The names of the registered nodes.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    fn ready(&self, pod: &Pod) -> bool {
        !self.rules.lock().unwrap().iter().any(|r| r.matches(pod))
    }

    /// Creates the nodes and reports them Ready.
    pub(crate) async fn register_nodes(&self, client: &kube::Client) -> Result<(), String> {
        let nodes: Api<Node> = Api::all(client.clone());
        for (i, name) in self.nodes.iter().enumerate() {
            let node: Node = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {
                    "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64"}},
            }))
            .expect("a Node");
            nodes
                .create(&PostParams::default(), &node)
                .await
                .map_err(|e| format!("cannot register node {name}: {e}"))?;
            let now = now();
            let status = json!({"status": {
                "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                "allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", i + 10)},
                              {"type": "Hostname", "address": name}],
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                    "message": "kubelet is posting ready status (simulated)",
                    "lastHeartbeatTime": now, "lastTransitionTime": now}],
                "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "",
                    "osImage": "simulated", "containerRuntimeVersion": "sim://1",
                    "kubeletVersion": crate::KUBE_VERSION, "kubeProxyVersion": "",
                    "operatingSystem": "linux", "architecture": "amd64"},
            }});
            nodes
                .patch_status(name, &PatchParams::default(), &Patch::Merge(status))
                .await
                .map_err(|e| format!("cannot report node {name} Ready: {e}"))?;
        }
        Ok(())
    }

    /// Watches every pod and acts on each change; runs until the process ends. A failed action
    /// is retried from a fresh read a second later.
    pub(crate) async fn run(self, client: kube::Client) {
        let all: Api<Pod> = Api::all(client.clone());
        let (retry_tx, mut retry_rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
        let mut events = watcher(all, watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .boxed();
        let mut ips: HashMap<String, String> = HashMap::new();
        let mut next = 0usize;
        loop {
            let pod = tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(pod)) => pod,
                    Some(Err(_)) => continue,
                    None => return,
                },
                Some((ns, name)) = retry_rx.recv() => {
                    match Api::<Pod>::namespaced(client.clone(), &ns).get_opt(&name).await {
                        Ok(Some(pod)) => pod,
                        _ => continue,
                    }
                }
            };
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            let ip = ips
                .entry(uid)
                .or_insert_with(|| {
                    next += 1;
                    format!("10.244.{}.{}", next / 250, next % 250 + 1)
                })
                .clone();
            if let Err(again) = self.act(&client, &pod, &ip, next).await
                && again
            {
                let tx = retry_tx.clone();
                let key = (
                    pod.metadata.namespace.clone().unwrap_or_default(),
                    pod.metadata.name.clone().unwrap_or_default(),
                );
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let _ = tx.send(key);
                });
            }
        }
    }

    /// One step for one pod. `Err(true)`: try again.
    async fn act(&self, client: &kube::Client, pod: &Pod, ip: &str, n: usize) -> Result<(), bool> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        let spec = pod.spec.as_ref();
        let node = spec.and_then(|s| s.node_name.clone());
        let not_found = |e: &kube::Error| matches!(e, kube::Error::Api(s) if s.code == 404);
        if pod.metadata.deletion_timestamp.is_some() {
            if node.is_none() {
                return Ok(());
            }
            // A kubelet confirms that the containers stopped by deleting with no grace period.
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: pod.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            return match api.delete(name, &dp).await {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(_) => Err(true),
            };
        }
        let Some(node) = node else {
            let target = &self.nodes[n % self.nodes.len()];
            let binding = json!({"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": target}});
            return match api
                .create_subresource::<Value, Value>(
                    "binding",
                    name,
                    &PostParams::default(),
                    &binding,
                )
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(_) => Err(true),
            };
        };
        let ready = self.ready(pod);
        if reported(pod, ready) {
            return Ok(());
        }
        let node_index = self.nodes.iter().position(|n| *n == node).unwrap_or(0);
        let patch = running_status(pod, ready, ip, &format!("10.0.0.{}", node_index + 10));
        match api
            .patch_status(name, &PatchParams::default(), &Patch::Strategic(patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(_) => Err(true),
        }
    }
}

/// Whether the pod's status already says Running with the Ready condition `ready`.
fn reported(pod: &Pod, ready: bool) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    let want = if ready { "True" } else { "False" };
    status.phase.as_deref() == Some("Running")
        && status.pod_ip.is_some()
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == want)
}

/// The status a kubelet reports for a started pod (strategic merge patch of `/status`).
pub fn running_status(pod: &Pod, ready: bool, pod_ip: &str, host_ip: &str) -> Value {
    let now = now();
    let r = if ready { "True" } else { "False" };
    let containers: Vec<_> = pod.spec.iter().flat_map(|s| s.containers.iter()).collect();
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let unready = |t: &str| {
        let mut c =
            json!({"type": t, "status": r, "lastTransitionTime": now, "lastProbeTime": null});
        if !ready {
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(format!(
                "containers with unready status: [{}]",
                names.join(" ")
            ));
        }
        c
    };
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    json!({"status": {
        "phase": "Running",
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "conditions": [
            {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": now, "lastProbeTime": null},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now, "lastProbeTime": null},
            unready("Ready"),
            unready("ContainersReady"),
        ],
        "containerStatuses": containers.iter().map(|c| json!({
            "name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
            "containerID": format!("sim://{uid}/{}", c.name),
            "ready": ready, "started": true, "restartCount": 0,
            "state": {"running": {"startedAt": now}},
        })).collect::<Vec<_>>(),
    }})
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    k8s_openapi::jiff::Timestamp::from_second(secs as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, labels: Value, status: Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": ns, "uid": "u1", "labels": labels},
            "spec": {"containers": [{"name": "mcp-server", "image": "img:1"}]},
            "status": status,
        }))
        .expect("a Pod")
    }

    #[test]
    fn a_rule_matches_its_namespace_and_all_its_labels() {
        let k = Kubelet::new(1);
        k.keep_unready("a", &[("app", "x"), ("version", "2")]);
        assert!(!k.ready(&pod(
            "a",
            json!({"app": "x", "version": "2", "more": "y"}),
            json!({})
        )));
        assert!(k.ready(&pod("a", json!({"app": "x", "version": "1"}), json!({}))));
        assert!(k.ready(&pod("b", json!({"app": "x", "version": "2"}), json!({}))));
        assert!(k.ready(&pod("a", json!({"app": "x"}), json!({}))));
    }

    #[test]
    fn the_reported_status_says_running_and_ready_or_why_not() {
        let p = pod("a", json!({}), json!({}));
        let ready = running_status(&p, true, "10.244.0.2", "10.0.0.10");
        assert_eq!(ready["status"]["phase"], "Running");
        assert_eq!(ready["status"]["podIP"], "10.244.0.2");
        assert_eq!(ready["status"]["containerStatuses"][0]["ready"], true);
        let cond = |v: &Value, t: &str| {
            v["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == t)
                .cloned()
                .unwrap()
        };
        assert_eq!(cond(&ready, "Ready")["status"], "True");
        let unready = running_status(&p, false, "10.244.0.2", "10.0.0.10");
        assert_eq!(cond(&unready, "Ready")["status"], "False");
        assert_eq!(cond(&unready, "Ready")["reason"], "ContainersNotReady");
        assert_eq!(
            cond(&unready, "ContainersReady")["message"],
            "containers with unready status: [mcp-server]"
        );
        assert_eq!(unready["status"]["containerStatuses"][0]["ready"], false);
    }

    #[test]
    fn a_pod_already_reported_is_left_alone_until_its_readiness_should_change() {
        let running = |ready: &str| {
            pod(
                "a",
                json!({}),
                json!({"phase": "Running", "podIP": "10.244.0.2",
                       "conditions": [{"type": "Ready", "status": ready}]}),
            )
        };
        assert!(reported(&running("True"), true));
        assert!(!reported(&running("True"), false));
        assert!(!reported(&running("False"), true));
        assert!(!reported(
            &pod("a", json!({}), json!({"phase": "Pending"})),
            true
        ));
    }
}
