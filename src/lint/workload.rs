//! A read-only view of the rendered objects that the rules share: which
//! objects run pods, their pod templates, and which server each belongs to.

use std::collections::HashMap;

use serde_json::Value;

use crate::fleet::{Fleet, Server};
use crate::render::Object;

/// Label that ties an object to its server.
pub const NAME_LABEL: &str = crate::render::context::labels::NAME;

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
    /// See [`Context::min_replicas`]; filled in by [`Context::new`].
    min_replicas: u64,
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
            min_replicas: 0,
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

/// Kinds that select pods, and the field of `spec` holding their selector.
const SELECTING_KINDS: [(&str, &str); 2] = [
    ("PodDisruptionBudget", "selector"),
    ("NetworkPolicy", "podSelector"),
];

/// Shared state for one lint run, with the indexes that keep a lint of
/// thousands of objects linear.
pub struct Context<'a> {
    pub fleet: &'a Fleet,
    pub objects: &'a [Object],
    pub workloads: Vec<Workload<'a>>,
    /// Server of each object, by index ("" when unknown).
    servers: Vec<&'a str>,
    /// Object indexes by server name, in render order.
    by_server: HashMap<&'a str, Vec<usize>>,
    /// Object indexes by kind, in render order.
    by_kind: HashMap<&'a str, Vec<usize>>,
    /// PodDisruptionBudgets and NetworkPolicies by kind and the server name
    /// their selector requires (`None`: the selector does not pin one).
    by_selected_name: HashMap<(&'a str, Option<&'a str>), Vec<usize>>,
    /// Indexes into `workloads` by the pods' server name label.
    workloads_by_pod_name: HashMap<&'a str, Vec<usize>>,
    /// Indexes into `workloads` by server (as in `servers`), in render order.
    workloads_by_server: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Context<'a> {
    pub fn new(fleet: &'a Fleet, objects: &'a [Object]) -> Self {
        let mut workloads: Vec<Workload<'a>> = objects
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
        let mut by_server: HashMap<&'a str, Vec<usize>> = HashMap::new();
        let mut by_kind: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            by_server.entry(servers[i]).or_default().push(i);
            by_kind.entry(o.kind()).or_default().push(i);
        }
        let mut by_selected_name: HashMap<(&'a str, Option<&'a str>), Vec<usize>> = HashMap::new();
        for (kind, field) in SELECTING_KINDS {
            for &i in by_kind.get(kind).map_or(&[][..], Vec::as_slice) {
                let name = objects[i].value["spec"][field]["matchLabels"][NAME_LABEL].as_str();
                by_selected_name.entry((kind, name)).or_default().push(i);
            }
        }
        let mut workloads_by_pod_name: HashMap<&'a str, Vec<usize>> = HashMap::new();
        let mut workloads_by_server: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (wi, w) in workloads.iter().enumerate() {
            let name = w.pod_labels[NAME_LABEL].as_str().unwrap_or("");
            workloads_by_pod_name.entry(name).or_default().push(wi);
            workloads_by_server
                .entry(servers[w.index])
                .or_default()
                .push(wi);
        }
        let mut ctx = Context {
            fleet,
            objects,
            workloads: Vec::new(),
            servers,
            by_server,
            by_kind,
            by_selected_name,
            workloads_by_pod_name,
            workloads_by_server,
        };
        // HPA minReplicas by (namespace, target kind, target name).
        let mut hpa_min: HashMap<(&str, &str, &str), u64> = HashMap::new();
        for &i in ctx.indexes_of_kind("HorizontalPodAutoscaler") {
            let spec = &objects[i].value["spec"];
            let t = &spec["scaleTargetRef"];
            if let (Some(kind), Some(name)) = (t["kind"].as_str(), t["name"].as_str()) {
                let min = spec["minReplicas"].as_u64().unwrap_or(1);
                hpa_min.insert((ctx.namespace_of(i), kind, name), min);
            }
        }
        for w in &mut workloads {
            let replicas = w.replicas();
            let key = (ctx.namespace_of(w.index), w.object.kind(), w.object.name());
            w.min_replicas = match hpa_min.get(&key) {
                _ if replicas == 0 => 0,
                Some(min) => *min,
                None => replicas,
            };
        }
        ctx.workloads = workloads;
        ctx
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

    fn indexes_of_kind(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map_or(&[], Vec::as_slice)
    }

    /// Fleet servers that have at least one rendered object, in fleet order.
    pub fn rendered_servers(&self) -> impl Iterator<Item = &'a Server> + '_ {
        self.fleet
            .servers
            .iter()
            .filter(|s| self.by_server.contains_key(s.name.as_str()))
    }

    /// Indexes of the objects of a server, in render order.
    pub fn objects_of(&self, server: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_server
            .get(server)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
    }

    /// Workloads of a server, in render order.
    pub fn workloads_of<'s>(
        &'s self,
        server: &'s str,
    ) -> impl Iterator<Item = &'s Workload<'a>> + 's {
        self.workloads_by_server
            .get(server)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&wi| &self.workloads[wi])
    }

    /// Objects of `kind` (PodDisruptionBudget or NetworkPolicy) in the
    /// namespace of workload `w` whose selector may select its pods; callers
    /// still evaluate the selector.
    pub fn may_select<'s>(
        &'s self,
        kind: &'static str,
        w: &'s Workload<'a>,
    ) -> impl Iterator<Item = (usize, &'a Object)> + 's {
        let ns = self.namespace_of(w.index);
        let name = w.pod_labels[NAME_LABEL].as_str();
        let pinned = name.and_then(|n| self.by_selected_name.get(&(kind, Some(n))));
        let unpinned = self.by_selected_name.get(&(kind, None));
        let mut idx: Vec<usize> = pinned
            .into_iter()
            .chain(unpinned)
            .flatten()
            .copied()
            .collect();
        idx.sort_unstable();
        idx.into_iter()
            .filter(move |&i| self.namespace_of(i) == ns)
            .map(|i| (i, &self.objects[i]))
    }

    /// Workloads whose pods `selector` may select; callers still evaluate it.
    pub fn maybe_selected_by<'s>(
        &'s self,
        selector: &Value,
    ) -> impl Iterator<Item = &'s Workload<'a>> + 's {
        let idx: Vec<usize> = match selector["matchLabels"][NAME_LABEL].as_str() {
            Some(name) => self
                .workloads_by_pod_name
                .get(name)
                .cloned()
                .unwrap_or_default(),
            None => (0..self.workloads.len()).collect(),
        };
        idx.into_iter().map(|i| &self.workloads[i])
    }

    /// All objects of `kind`.
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = (usize, &'a Object)> + '_ {
        self.indexes_of_kind(kind)
            .iter()
            .map(|&i| (i, &self.objects[i]))
    }

    /// The fewest replicas a workload runs while it is active: its HPA's
    /// `minReplicas` when an HPA targets it, else `spec.replicas`. A workload
    /// scaled to 0 (an idle blue-green colour or canary track) counts as 0.
    pub fn min_replicas(&self, w: &Workload<'_>) -> u64 {
        w.min_replicas
    }
}
