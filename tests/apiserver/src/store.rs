//! Object storage: one global, monotonically increasing resourceVersion (like etcd's revision),
//! objects by (group, resource, namespace, name), and a bounded history of watch events.
//!
//! API conventions, "Concurrency Control and Consistency": "resourceVersion ... is changed by
//! the system every time an object is modified"; clients "must treat these values as opaque".

use crate::Shared;
use crate::discovery::Resource;
use crate::util::{new_uid, now_rfc3339, sort_keys_deep, sort_map};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(res: &Resource, ns: &str, name: &str) -> Key {
        Key {
            group: res.group.clone(),
            resource: res.plural.clone(),
            namespace: if res.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }
}

/// One change, as a watch sends it.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    pub rv: u64,
    pub kind: &'static str,
    pub key: Key,
    pub object: Value,
    pub old: Option<Value>,
}

pub struct Store {
    pub rv: u64,
    pub objects: BTreeMap<Key, Value>,
    pub history: VecDeque<Arc<WatchEvent>>,
    pub history_cap: usize,
    /// Watches from a resourceVersion below this get 410 Expired.
    pub oldest: u64,
}

/// The first resourceVersion handed out. Starting well above 1 makes "too old" reachable
/// (a watch from 1 is always too old, as in transcript 48).
const FIRST_RV: u64 = 1000;

impl Store {
    pub fn new(cap: usize) -> Store {
        Store {
            rv: FIRST_RV,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_cap: cap.max(1),
            oldest: FIRST_RV,
        }
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn record(&mut self, shared: &Shared, ev: WatchEvent) {
        let ev = Arc::new(ev);
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_cap {
            if let Some(old) = self.history.pop_front() {
                self.oldest = old.rv;
            }
        }
        let _ = shared.events.send(ev);
    }

    /// Stores `obj` (new or replacing), assigning the next resourceVersion.
    pub fn write(&mut self, shared: &Shared, key: Key, mut obj: Value) -> Value {
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let old = self.objects.insert(key.clone(), obj.clone());
        let kind = if old.is_some() { "MODIFIED" } else { "ADDED" };
        self.record(
            shared,
            WatchEvent {
                rv,
                kind,
                key,
                object: obj.clone(),
                old,
            },
        );
        shared.wake.notify_one();
        obj
    }

    /// Removes an object; the DELETED event carries a new resourceVersion.
    pub fn delete(&mut self, shared: &Shared, key: &Key) -> Option<Value> {
        let mut obj = self.objects.remove(key)?;
        let rv = self.next_rv();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.record(
            shared,
            WatchEvent {
                rv,
                kind: "DELETED",
                key: key.clone(),
                object: obj.clone(),
                old: None,
            },
        );
        shared.wake.notify_one();
        Some(obj)
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    pub fn list<'a>(
        &'a self,
        group: &'a str,
        resource: &'a str,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
        // Keys sort by (group, resource, namespace, name): a range visits only this resource
        // (and only this namespace when given).
        let start = Key {
            group: group.to_string(),
            resource: resource.to_string(),
            namespace: ns.unwrap_or("").to_string(),
            name: String::new(),
        };
        self.objects.range(start..).take_while(move |(k, _)| {
            k.group == group && k.resource == resource && ns.is_none_or(|n| k.namespace == n)
        })
    }
}

const META_ORDER: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Puts fields in the order the real server serializes them: built-in kinds in Go struct order
/// (kind, apiVersion, metadata, spec..., status last; string maps sorted), custom resources as
/// unstructured JSON with every key sorted (transcript 66).
pub fn normalize(res: &Resource, obj: &mut Value) {
    if res.is_crd() {
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.entry("resourceVersion").or_insert(json!(""));
        }
        sort_keys_deep(obj);
        return;
    }
    let Some(m) = obj.as_object_mut() else { return };
    let mut out = Map::new();
    for k in ["kind", "apiVersion", "metadata"] {
        if let Some(v) = m.shift_remove(k) {
            out.insert(k.into(), v);
        }
    }
    let status = m.shift_remove("status");
    // Go struct order of the kinds whose fields come in a different order than sent.
    for k in ["immutable", "data", "binaryData", "stringData", "type"] {
        if matches!(res.kind.as_str(), "Secret" | "ConfigMap")
            && let Some(v) = m.shift_remove(k)
        {
            out.insert(k.into(), v);
        }
    }
    let rest = std::mem::take(m);
    out.extend(rest);
    if let Some(s) = status {
        out.insert("status".into(), s);
    }
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        // Keep a slot for resourceVersion where the server prints it; the write fills it in.
        meta.entry("resourceVersion").or_insert(json!(""));
        let mut nm = Map::new();
        for k in META_ORDER {
            if let Some(v) = meta.remove(*k) {
                nm.insert(k.to_string(), v);
            }
        }
        nm.extend(std::mem::take(meta));
        for k in ["labels", "annotations"] {
            if let Some(Value::Object(x)) = nm.get_mut(k) {
                sort_map(x);
            }
        }
        *meta = nm;
    }
    for path in [
        &["data"][..],
        &["stringData"],
        &["spec", "selector"],
        &["spec", "selector", "matchLabels"],
        &["spec", "template", "metadata", "labels"],
        &["spec", "template", "metadata", "annotations"],
        &["spec", "nodeSelector"],
    ] {
        let mut cur = Some(&mut out);
        for p in &path[..path.len() - 1] {
            cur = cur
                .and_then(|c| c.get_mut(*p))
                .and_then(Value::as_object_mut);
        }
        if let Some(Value::Object(x)) = cur.and_then(|c| c.get_mut(path[path.len() - 1]))
            && !(path.len() == 2 && path[1] == "selector" && res.kind != "Service")
        {
            sort_map(x);
        }
    }
    *m = out;
}

pub fn seed_namespace(shared: &Shared, name: &str) {
    let res = shared
        .registry
        .find("", "v1", "namespaces")
        .expect("namespaces resource");
    let mut obj = json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name, "uid": new_uid(),
        "creationTimestamp": now_rfc3339(), "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
    normalize(&res, &mut obj);
    let mut st = shared.store.lock().unwrap();
    let key = Key::new(&res, "", name);
    st.write(shared, key, obj);
}

/// Resolves an API path to a resource and key (for the test handle).
pub fn key_for_path(shared: &Shared, path: &str) -> Option<(Arc<Resource>, Key)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let (ns, plural, name) = match rest {
        ["namespaces", ns, plural, name] => (*ns, *plural, *name),
        [plural, name] => ("", *plural, *name),
        _ => return None,
    };
    let res = shared.registry.find(group, version, plural)?;
    let key = Key::new(&res, ns, name);
    Some((res, key))
}

pub fn get_by_path(shared: &Shared, path: &str) -> Option<Value> {
    let (_, key) = key_for_path(shared, path)?;
    shared.store.lock().unwrap().get(&key).cloned()
}

pub fn put_object(shared: &Shared, mut value: Value) -> Value {
    let api_version = value["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let res = shared
        .registry
        .by_kind(&api_version, &kind)
        .unwrap_or_else(|| panic!("put_object: no resource serves {api_version} {kind}"));
    let ns = value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .expect("put_object: metadata.name")
        .to_string();
    let meta = crate::util::obj_mut(&mut value, &["metadata"]);
    meta.entry("uid").or_insert_with(|| json!(new_uid()));
    meta.entry("creationTimestamp")
        .or_insert_with(|| json!(now_rfc3339()));
    if res.namespaced {
        meta.insert("namespace".into(), json!(ns));
    }
    normalize(&res, &mut value);
    let key = Key::new(&res, &ns, &name);
    shared.store.lock().unwrap().write(shared, key, value)
}
