//! A read-only view of the rendered objects that the rules share: which
//! objects run pods, their pod templates, and which server each belongs to.

use serde_json::Value;

use crate::fleet::{Fleet, Server};
use crate::render::Object;

/// Label that ties an object to its server.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";

/// An object that runs pods.
pub struct Workload<'a> {
    /// Index in the rendered objects.
    pub index: usize,
    pub object: &'a Object,
    /// The pod template's `spec`.
    pub pod_spec: &'a Value,
    /// The pod template's labels (what selectors match).
    pub pod_labels: &'a Value,
    /// Whether this kind keeps a replica count that matters for HA
    /// (Deployment, StatefulSet).
    pub replicated: bool,
    /// Whether its pods serve traffic (not a Job or CronJob): probes, drain
    /// delay and NetworkPolicy apply.
    pub serving: bool,
}

impl<'a> Workload<'a> {
    fn from(index: usize, object: &'a Object) -> Option<Self> {
        let v = &object.value;
        let (template, replicated) = match object.kind() {
            "Deployment" | "StatefulSet" => (&v["spec"]["template"], true),
            "DaemonSet" | "ReplicaSet" | "Job" => (&v["spec"]["template"], false),
            "CronJob" => (&v["spec"]["jobTemplate"]["spec"]["template"], false),
            "Pod" => (v, false),
            _ => return None,
        };
        if !template.is_object() {
            return None;
        }
        Some(Workload {
            index,
            object,
            pod_spec: &template["spec"],
            pod_labels: &template["metadata"]["labels"],
            replicated,
            serving: !matches!(object.kind(), "Job" | "CronJob"),
        })
    }

    /// Regular containers (not init containers).
    pub fn containers(&self) -> impl Iterator<Item = &'a Value> {
        array(&self.pod_spec["containers"])
    }

    /// Init containers and regular containers.
    pub fn all_containers(&self) -> impl Iterator<Item = &'a Value> {
        array(&self.pod_spec["initContainers"]).chain(self.containers())
    }

    /// `spec.replicas` as written; Kubernetes defaults a missing one to 1.
    pub fn replicas(&self) -> u64 {
        self.object.value["spec"]["replicas"].as_u64().unwrap_or(1)
    }
}

pub fn array(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().map(|a| a.as_slice()).unwrap_or(&[]).iter()
}

/// A container's name for messages.
pub fn container_name(c: &Value) -> &str {
    c["name"].as_str().unwrap_or("<unnamed>")
}

/// Shared state for one lint run.
pub struct Context<'a> {
    pub fleet: &'a Fleet,
    pub objects: &'a [Object],
    pub workloads: Vec<Workload<'a>>,
    /// Server of each object, by index ("" when unknown).
    servers: Vec<&'a str>,
}

impl<'a> Context<'a> {
    pub fn new(fleet: &'a Fleet, objects: &'a [Object]) -> Self {
        let workloads: Vec<Workload<'a>> = objects
            .iter()
            .enumerate()
            .filter_map(|(i, o)| Workload::from(i, o))
            .collect();
        let mut servers: Vec<&'a str> = objects.iter().map(|o| o.server()).collect();
        // A template override may drop the object label but keep the pod's.
        for w in &workloads {
            if servers[w.index].is_empty() {
                servers[w.index] = w.pod_labels[NAME_LABEL].as_str().unwrap_or("");
            }
        }
        Context {
            fleet,
            objects,
            workloads,
            servers,
        }
    }

    pub fn server_of(&self, index: usize) -> &'a str {
        self.servers[index]
    }

    /// Namespace of an object, the fleet's when the object has none.
    pub fn namespace_of(&self, index: usize) -> &'a str {
        let ns = self.objects[index].namespace();
        if ns.is_empty() {
            &self.fleet.namespace
        } else {
            ns
        }
    }

    /// Fleet servers that have at least one rendered object, in fleet order.
    pub fn rendered_servers(&self) -> impl Iterator<Item = &'a Server> + '_ {
        self.fleet
            .servers
            .iter()
            .filter(|s| self.servers.iter().any(|n| *n == s.name))
    }

    /// Indexes of the objects of a server, in render order.
    pub fn objects_of<'s>(&'s self, server: &'s str) -> impl Iterator<Item = usize> + 's {
        self.servers
            .iter()
            .enumerate()
            .filter(move |(_, n)| **n == server)
            .map(|(i, _)| i)
    }

    /// Workloads of a server, in render order.
    pub fn workloads_of<'s>(
        &'s self,
        server: &'s str,
    ) -> impl Iterator<Item = &'s Workload<'a>> + 's {
        self.workloads
            .iter()
            .filter(move |w| self.servers[w.index] == server)
    }

    /// Objects of `kind` in the namespace of object `index`.
    pub fn same_namespace<'s>(
        &'s self,
        index: usize,
        kind: &'s str,
    ) -> impl Iterator<Item = (usize, &'a Object)> + 's {
        let ns = self.namespace_of(index);
        self.objects
            .iter()
            .enumerate()
            .filter(move |(i, o)| o.kind() == kind && self.namespace_of(*i) == ns)
    }

    /// The fewest replicas a workload runs while it is active: its HPA's
    /// `minReplicas` when an HPA targets it, else `spec.replicas`. A workload
    /// scaled to 0 (an idle blue-green colour or canary track) counts as 0.
    pub fn min_replicas(&self, w: &Workload<'_>) -> u64 {
        let replicas = w.replicas();
        if replicas == 0 {
            return 0;
        }
        let kind = w.object.kind();
        let name = w.object.name();
        let hpa = self
            .same_namespace(w.index, "HorizontalPodAutoscaler")
            .find(|(_, h)| {
                let t = &h.value["spec"]["scaleTargetRef"];
                t["kind"].as_str() == Some(kind) && t["name"].as_str() == Some(name)
            });
        match hpa {
            Some((_, h)) => h.value["spec"]["minReplicas"].as_u64().unwrap_or(1),
            None => replicas,
        }
    }
}
