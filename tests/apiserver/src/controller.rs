//! A simulated Deployment/ReplicaSet controller and kubelet.
//!
//! Follows what the recorded kube-controller-manager did (transcripts 12, 15, 81, 82): a new
//! ReplicaSet `<deployment>-<pod-template-hash>` per pod template, rolling updates bounded by
//! maxSurge/maxUnavailable, Pods labelled from the template plus `pod-template-hash`, and a
//! Deployment status with observedGeneration, replica counters (zero counters omitted) and the
//! Available/Progressing conditions with their real reasons and messages. API conventions,
//! "Typical status properties": "observedGeneration ... the generation observed by the
//! controller"; conditions carry type, status, reason, message and transition times.

use crate::Shared;
use crate::discovery::Resource;
use crate::ssa::{Scope, track_update};
use crate::store::{Key, Store, normalize};
use crate::util::{new_uid, now_rfc3339, random_suffix, stable_hash};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the pods of a Deployment behave.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// Pods become Ready this long after they are created.
    ReadyAfter(Duration),
    /// Pods stay Pending (unschedulable); the rollout ends in ProgressDeadlineExceeded after
    /// `progressDeadlineSeconds`.
    NeverReady,
    /// Pods run but their container keeps crashing (CrashLoopBackOff), never Ready.
    FailingPods,
    /// The controller leaves this Deployment alone (no ReplicaSets, no Pods, no status
    /// writes): for tests that store Deployments with a status of their choosing.
    Unmanaged,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour::ReadyAfter(Duration::from_millis(300))
    }
}

#[derive(Debug, Default)]
pub struct Behaviours {
    /// Bumped on every change, so the controller looks at every Deployment again.
    pub version: u64,
    pub default: Behaviour,
    pub per: HashMap<(String, String), Behaviour>,
}

const MANAGER: &str = "kube-controller-manager";

#[derive(Default)]
struct Memory {
    /// Deployment uid -> fingerprint when it was last found settled.
    settled: HashMap<String, String>,
    behaviours_version: u64,
    cursor: usize,
    pod_born: HashMap<String, Instant>,
    /// Deployment uid -> (last progress instant, progress signature).
    progress: HashMap<String, (Instant, String)>,
}

pub async fn run(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut mem = Memory::default();
    let mut more = false;
    let trace = std::env::var_os("TEST_APISERVER_TRACE").is_some();
    loop {
        if !more {
            tokio::select! {
                _ = stop.changed() => return,
                _ = shared.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        if *stop.borrow() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(if more { 5 } else { 20 })).await;
        let t0 = std::time::Instant::now();
        let rv0 = shared.store.lock().unwrap().rv;
        more = reconcile(&shared, &mut mem);
        if trace {
            let writes = shared.store.lock().unwrap().rv - rv0;
            eprintln!(
                "test-apiserver: controller pass {:?}, {writes} writes, more to do: {more}",
                t0.elapsed()
            );
        }
    }
}

fn res(shared: &Shared, group: &str, version: &str, plural: &str) -> Arc<Resource> {
    shared
        .registry
        .find(group, version, plural)
        .expect("built-in resource")
}

/// Writes an object as `manager`, recording managedFields, if it changed.
/// A status write by the controller (what the real controllers' status updates do).
fn write_status(shared: &Shared, st: &mut Store, r: &Resource, key: Key, old: &Value, new: Value) {
    write_as(shared, st, r, key, Some(old), new, (MANAGER, Scope::Status));
}

fn write_as(
    shared: &Shared,
    st: &mut Store,
    r: &Resource,
    key: Key,
    old: Option<&Value>,
    mut new: Value,
    (manager, scope): (&str, Scope),
) -> Value {
    let ty = crate::server::ty_for(r);
    if new.pointer("/metadata/managedFields").is_none()
        && let Some(mf) = old.and_then(|o| o.pointer("/metadata/managedFields"))
    {
        new["metadata"]["managedFields"] = mf.clone();
    }
    let empty = json!({});
    track_update(
        Some(old.unwrap_or(&empty)),
        &mut new,
        ty,
        manager,
        &r.api_version(),
        scope,
    );
    normalize(r, &mut new);
    if old == Some(&new) {
        return new;
    }
    st.write(shared, key, new)
}

fn int_or_percent(v: Option<&Value>, total: i64, round_up: bool, default: &str) -> i64 {
    let v = v.cloned().unwrap_or_else(|| json!(default));
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => {
            let p: f64 = s.trim_end_matches('%').parse().unwrap_or(0.0);
            let x = p * total as f64 / 100.0;
            if round_up {
                x.ceil() as i64
            } else {
                x.floor() as i64
            }
        }
        _ => 0,
    }
}

/// Keys of objects of a kind by the uid of their owner (one pass, no copies of objects).
fn keys_by_owner(st: &Store, group: &str, plural: &str) -> HashMap<String, Vec<Key>> {
    let mut out: HashMap<String, Vec<Key>> = HashMap::new();
    for (k, v) in st.list(group, plural, None) {
        if let Some(refs) = v
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
        {
            for r in refs {
                if let Some(u) = r.get("uid").and_then(Value::as_str) {
                    out.entry(u.to_string()).or_default().push(k.clone());
                }
            }
        }
    }
    out
}

fn values(st: &Store, keys: Option<&Vec<Key>>) -> Vec<(Key, Value)> {
    keys.into_iter()
        .flatten()
        .filter_map(|k| st.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

fn rv_of<'a>(st: &'a Store, k: &Key) -> &'a str {
    st.get(k)
        .and_then(|v| v.get("metadata"))
        .and_then(|m| m.get("resourceVersion"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The resourceVersions of a Deployment and everything it owns: unchanged means nothing
/// happened to it since the last look.
fn fingerprint(
    st: &Store,
    dkey: &Key,
    uid: &str,
    rs_keys: &HashMap<String, Vec<Key>>,
    pod_keys: &HashMap<String, Vec<Key>>,
) -> String {
    let mut fp = rv_of(st, dkey).to_string();
    for rk in rs_keys.get(uid).into_iter().flatten() {
        fp.push('/');
        fp.push_str(rv_of(st, rk));
        let ruid = st
            .get(rk)
            .and_then(|r| r.pointer("/metadata/uid"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        for pk in pod_keys.get(ruid).into_iter().flatten() {
            fp.push(',');
            fp.push_str(rv_of(st, pk));
        }
    }
    fp
}

/// A Deployment needs no more attention until something changes: its rollout is complete, or
/// it has given up (ProgressDeadlineExceeded), and its pods do not change by themselves.
fn settled(d: &Value, behaviour: &Behaviour) -> bool {
    if matches!(behaviour, Behaviour::FailingPods) {
        return false;
    }
    let n = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    if n("/status/observedGeneration") < n("/metadata/generation") {
        return false;
    }
    let gave_up = condition_reason(d.pointer("/status/conditions"), "Progressing").as_deref()
        == Some("ProgressDeadlineExceeded");
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let complete = n("/status/updatedReplicas") == desired
        && n("/status/replicas") == desired
        && n("/status/availableReplicas") == desired;
    gave_up || complete
}

fn i(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn owner_ref(kind: &str, api_version: &str, obj: &Value) -> Value {
    json!([{"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
}

fn pod_ready(p: &Value) -> bool {
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn set_counters(status: &mut Map<String, Value>, pairs: &[(&str, i64)]) {
    for (k, v) in pairs {
        if *v == 0 {
            status.shift_remove(*k);
        } else {
            status.insert(k.to_string(), json!(v));
        }
    }
}

/// Deployments reconciled per pass at most.
const BATCH: usize = 16;

/// The uids of `objs` (objects without one are skipped).
fn uids<'a>(objs: impl Iterator<Item = &'a Value>) -> std::collections::HashSet<String> {
    objs.filter_map(|o| {
        o.pointer("/metadata/uid")
            .and_then(Value::as_str)
            .map(String::from)
    })
    .collect()
}

/// What a Deployment asks for: its uid, desired replicas (1 when unset), and its
/// pod template labelled with `pod-template-hash`, the hash of the template as written.
struct DeploymentWants {
    uid: String,
    desired: i64,
    template: Value,
    hash: String,
}

fn deployment_wants(d: &Value) -> DeploymentWants {
    let uid = d["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut template = d
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let hash = stable_hash(&template);
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    DeploymentWants {
        uid,
        desired,
        template,
        hash,
    }
}

/// One pass; true when Deployments were left for the next pass.
fn reconcile(shared: &Shared, mem: &mut Memory) -> bool {
    let deploy_res = res(shared, "apps", "v1", "deployments");
    let rs_res = res(shared, "apps", "v1", "replicasets");
    let pod_res = res(shared, "", "v1", "pods");
    let behaviours: Behaviours = {
        let b = shared.behaviours.lock().unwrap();
        Behaviours {
            version: b.version,
            default: b.default.clone(),
            per: b.per.clone(),
        }
    };
    let mut st = shared.store.lock().unwrap();

    if behaviours.version != mem.behaviours_version {
        mem.behaviours_version = behaviours.version;
        mem.settled.clear();
    }
    let rs_keys = keys_by_owner(&st, "apps", "replicasets");
    let pod_keys = keys_by_owner(&st, "", "pods");
    // Only Deployments with something to do are looked at (a fleet of a thousand quiet ones
    // costs a scan of keys, not a reconcile each).
    let mut before: HashMap<String, String> = HashMap::new();
    let deployment_keys: Vec<Key> = st
        .list("apps", "deployments", None)
        .map(|(k, _)| k.clone())
        .collect();
    let mut deployments: Vec<(Key, Value)> = Vec::new();
    for k in deployment_keys {
        let Some(d) = st.get(&k) else { continue };
        if behaviour_for(&behaviours, &k, d) == Behaviour::Unmanaged {
            continue;
        }
        let uid = d
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let fp = fingerprint(&st, &k, &uid, &rs_keys, &pod_keys);
        if mem.settled.get(&uid) == Some(&fp) {
            continue;
        }
        before.insert(uid, fp);
        deployments.push((k, d.clone()));
    }
    // Bounded work per pass, so that the store lock is never held for long; the rest waits
    // for the next pass (which comes at once).
    let more = deployments.len() > BATCH;
    if more {
        let start = mem.cursor % deployments.len();
        deployments.rotate_left(start);
        deployments.truncate(BATCH);
        mem.cursor = mem.cursor.wrapping_add(BATCH);
        let keep = uids(deployments.iter().map(|(_, d)| d));
        before.retain(|u, _| keep.contains(u));
    }
    let active: std::collections::HashSet<String> = before.keys().cloned().collect();
    // 1. Deployments: make sure the ReplicaSet of the current template exists; scale them.
    for (dkey, d) in &deployments {
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let ns = dkey.namespace.as_str();
        let DeploymentWants {
            uid,
            desired,
            template,
            hash,
        } = deployment_wants(d);
        let mut rss = values(&st, rs_keys.get(&uid));
        let max_rev = rss
            .iter()
            .filter_map(|(_, r)| {
                r.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                    .and_then(Value::as_str)?
                    .parse::<i64>()
                    .ok()
            })
            .max()
            .unwrap_or(0);
        let surge = int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxSurge"),
            desired,
            true,
            "25%",
        );
        let mut unavail = int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            desired,
            false,
            "25%",
        );
        if surge == 0 && unavail == 0 {
            unavail = 1;
        }
        let recreate = d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
        let new_idx = rss.iter().position(|(_, r)| {
            r.pointer("/metadata/labels/pod-template-hash")
                .and_then(Value::as_str)
                == Some(hash.as_str())
        });
        let mut created_new = false;
        let new_idx = match new_idx {
            Some(i) => i,
            None => {
                let name = format!("{}-{hash}", dkey.name);
                let mut sel = d
                    .pointer("/spec/selector")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                sel["matchLabels"]["pod-template-hash"] = json!(hash);
                let mut annotations = d
                    .pointer("/metadata/annotations")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                if let Some(a) = annotations.as_object_mut() {
                    a.remove("deployment.kubernetes.io/revision");
                    a.remove("kubectl.kubernetes.io/last-applied-configuration");
                    a.insert(
                        "deployment.kubernetes.io/desired-replicas".into(),
                        json!(desired.to_string()),
                    );
                    a.insert(
                        "deployment.kubernetes.io/max-replicas".into(),
                        json!((desired + surge).to_string()),
                    );
                    a.insert(
                        "deployment.kubernetes.io/revision".into(),
                        json!((max_rev + 1).to_string()),
                    );
                }
                let rs = json!({"kind": "ReplicaSet", "apiVersion": "apps/v1",
                    "metadata": {"name": name, "namespace": ns, "uid": new_uid(), "generation": 1, "creationTimestamp": now_rfc3339(),
                        "labels": template["metadata"]["labels"], "annotations": annotations, "ownerReferences": owner_ref("Deployment", "apps/v1", d)},
                    "spec": {"replicas": 0, "selector": sel, "template": template}, "status": {"replicas": 0}});
                let key = Key::new(&rs_res, ns, &name);
                let stored = write_as(
                    shared,
                    &mut st,
                    &rs_res,
                    key.clone(),
                    None,
                    rs,
                    (MANAGER, Scope::Main { has_status: false }),
                );
                rss.push((key, stored));
                created_new = true;
                mem.progress
                    .insert(uid.clone(), (Instant::now(), String::new()));
                rss.len() - 1
            }
        };
        // Scaling.
        let mut want: Vec<i64> = rss.iter().map(|(_, r)| i(r, "/spec/replicas")).collect();
        let avail: Vec<i64> = rss
            .iter()
            .map(|(_, r)| i(r, "/status/availableReplicas"))
            .collect();
        if recreate {
            let old_running: i64 = rss
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != new_idx)
                .map(|(_, (_, r))| i(r, "/status/replicas"))
                .sum();
            for (j, w) in want.iter_mut().enumerate() {
                if j != new_idx {
                    *w = 0;
                }
            }
            if old_running == 0 {
                want[new_idx] = desired;
            }
        } else {
            let total: i64 = want.iter().sum();
            if want[new_idx] > desired {
                want[new_idx] = desired;
            } else if want[new_idx] < desired {
                let room = (desired + surge - total).max(0);
                want[new_idx] += room.min(desired - want[new_idx]);
            }
            let total_avail: i64 = avail.iter().sum();
            let min_avail = desired - unavail;
            let mut can_remove = (total_avail - min_avail).max(0);
            let new_avail = avail[new_idx];
            for j in 0..want.len() {
                if j == new_idx || want[j] == 0 {
                    continue;
                }
                if new_avail >= desired {
                    want[j] = 0;
                    continue;
                }
                // Unavailable old pods can go at once; available ones within maxUnavailable.
                let unavailable_here = (want[j] - avail[j]).max(0);
                let mut remove = unavailable_here;
                let more = can_remove.min(want[j] - remove);
                remove += more;
                can_remove -= more;
                let total_now: i64 = want.iter().sum();
                let excess = (total_now - (desired + surge)).max(0);
                remove = remove.max(excess.min(want[j]));
                want[j] -= remove.min(want[j]);
            }
        }
        for (j, (key, r)) in rss.iter_mut().enumerate() {
            if i(r, "/spec/replicas") != want[j] || (j == new_idx && created_new) {
                let mut n = r.clone();
                n["spec"]["replicas"] = json!(want[j]);
                if j == new_idx {
                    n["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                        json!(desired.to_string());
                    n["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] =
                        json!((desired + surge).to_string());
                }
                let old = r.clone();
                *r = write_as(
                    shared,
                    &mut st,
                    &rs_res,
                    key.clone(),
                    Some(&old),
                    n,
                    (MANAGER, Scope::Main { has_status: false }),
                );
            }
        }
        if created_new {
            let mut nd = d.clone();
            nd["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                json!((max_rev + 1).to_string());
            let conds = upsert_condition(
                nd.pointer("/status/conditions"),
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{}-{hash}\"", dkey.name),
                true,
            );
            nd["status"]["conditions"] = conds;
            write_status(shared, &mut st, &deploy_res, dkey.clone(), d, nd);
        } else if d
            .pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
            .and_then(Value::as_str)
            != rss[new_idx]
                .1
                .pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                .and_then(Value::as_str)
        {
            // Rolling back to an older template: the old ReplicaSet becomes the newest revision.
            let (k, r) = rss[new_idx].clone();
            let mut nr = r.clone();
            nr["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                json!((max_rev + 1).to_string());
            write_as(
                shared,
                &mut st,
                &rs_res,
                k,
                Some(&r),
                nr,
                (MANAGER, Scope::Main { has_status: false }),
            );
            let cur = st.get(dkey).cloned().unwrap_or_else(|| d.clone());
            let mut nd = cur.clone();
            nd["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                json!((max_rev + 1).to_string());
            write_status(shared, &mut st, &deploy_res, dkey.clone(), &cur, nd);
        }
    }

    // 2. ReplicaSets of the active Deployments, and ReplicaSets no Deployment owns: pods, pod
    // readiness, ReplicaSet status.
    let replicasets: Vec<(Key, Value)> = st
        .list("apps", "replicasets", None)
        .filter(|(_, v)| {
            let owner = v.pointer("/metadata/ownerReferences/0");
            match owner {
                Some(o) if o["kind"] == "Deployment" => {
                    active.contains(o["uid"].as_str().unwrap_or_default())
                }
                _ => true,
            }
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (rkey, rs) in &replicasets {
        if rs.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let ns = rkey.namespace.as_str();
        let uid = rs["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let want = i(rs, "/spec/replicas");
        let owner = rs
            .pointer("/metadata/ownerReferences/0/name")
            .and_then(Value::as_str)
            .unwrap_or(&rkey.name)
            .to_string();
        let owner_obj = st
            .get(&Key::new(&deploy_res, ns, &owner))
            .cloned()
            .unwrap_or(Value::Null);
        let behaviour = behaviours
            .per
            .get(&(ns.to_string(), owner))
            .cloned()
            .or_else(|| annotation_behaviour(&owner_obj))
            .unwrap_or_else(|| behaviours.default.clone());
        let mut pods = values(&st, pod_keys.get(&uid));
        while (pods.len() as i64) < want {
            let name = format!("{}-{}", rkey.name, random_suffix(5));
            let mut tmeta = rs
                .pointer("/spec/template/metadata")
                .cloned()
                .unwrap_or_else(|| json!({}));
            if let Some(m) = tmeta.as_object_mut() {
                m.shift_remove("creationTimestamp");
            }
            let mut meta = json!({"name": name, "generateName": format!("{}-", rkey.name), "namespace": ns, "uid": new_uid(), "creationTimestamp": now_rfc3339()});
            if let Some(l) = tmeta.get("labels") {
                meta["labels"] = l.clone();
            }
            if let Some(a) = tmeta.get("annotations") {
                meta["annotations"] = a.clone();
            }
            meta["ownerReferences"] = owner_ref("ReplicaSet", "apps/v1", rs);
            let mut spec = rs
                .pointer("/spec/template/spec")
                .cloned()
                .unwrap_or_else(|| json!({}));
            crate::defaults::pod_spec(&mut spec);
            let pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": {"phase": "Pending", "qosClass": "BestEffort"}});
            let key = Key::new(&pod_res, ns, &name);
            let stored = write_as(
                shared,
                &mut st,
                &pod_res,
                key.clone(),
                None,
                pod,
                (MANAGER, Scope::Main { has_status: false }),
            );
            mem.pod_born.insert(
                stored["metadata"]["uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                Instant::now(),
            );
            pods.push((key, stored));
        }
        if (pods.len() as i64) > want {
            // Not-ready pods go first, then the newest.
            pods.sort_by_key(|(_, p)| {
                (
                    pod_ready(p),
                    std::cmp::Reverse(
                        p["metadata"]["creationTimestamp"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    ),
                )
            });
            let extra = pods.len() - want as usize;
            for (k, p) in pods.drain(..extra) {
                st.delete(shared, &k);
                mem.pod_born
                    .remove(p["metadata"]["uid"].as_str().unwrap_or_default());
            }
        }
        // Kubelet: pod status per behaviour.
        for (k, p) in pods.iter_mut() {
            let puid = p["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let born = *mem.pod_born.entry(puid).or_insert_with(Instant::now);
            let np = pod_status(p, &behaviour, born);
            if np != *p {
                let old = p.clone();
                *p = write_as(
                    shared,
                    &mut st,
                    &pod_res,
                    k.clone(),
                    Some(&old),
                    np,
                    ("kubelet", Scope::Status),
                );
            }
        }
        let ready = pods.iter().filter(|(_, p)| pod_ready(p)).count() as i64;
        let mut nrs = rs.clone();
        let status = crate::util::obj_mut(&mut nrs, &["status"]);
        status.insert("replicas".into(), json!(pods.len()));
        set_counters(
            status,
            &[
                ("fullyLabeledReplicas", pods.len() as i64),
                ("readyReplicas", ready),
                ("availableReplicas", ready),
            ],
        );
        status.insert(
            "observedGeneration".into(),
            rs["metadata"]["generation"].clone(),
        );
        let order = [
            "replicas",
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
            "observedGeneration",
            "conditions",
        ];
        let mut sorted = Map::new();
        for k in order {
            if let Some(v) = status.shift_remove(k) {
                sorted.insert(k.into(), v);
            }
        }
        *status = sorted;
        if nrs != *rs {
            write_status(shared, &mut st, &rs_res, rkey.clone(), rs, nrs);
        }
    }

    let rs_keys = keys_by_owner(&st, "apps", "replicasets");
    // 3. Deployment status.
    let deployments: Vec<(Key, Value)> = deployments
        .iter()
        .filter_map(|(k, _)| st.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    for (dkey, d) in &deployments {
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let DeploymentWants {
            uid, desired, hash, ..
        } = deployment_wants(d);
        let rss = values(&st, rs_keys.get(&uid));
        let Some((_, new_rs)) = rss.iter().find(|(_, r)| {
            r.pointer("/metadata/labels/pod-template-hash")
                .and_then(Value::as_str)
                == Some(hash.as_str())
        }) else {
            continue;
        };
        let new_name = new_rs["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let spec_total: i64 = rss.iter().map(|(_, r)| i(r, "/spec/replicas")).sum();
        let replicas: i64 = rss.iter().map(|(_, r)| i(r, "/status/replicas")).sum();
        let updated = i(new_rs, "/status/replicas");
        let ready: i64 = rss.iter().map(|(_, r)| i(r, "/status/readyReplicas")).sum();
        let available: i64 = rss
            .iter()
            .map(|(_, r)| i(r, "/status/availableReplicas"))
            .sum();
        let unavailable = (spec_total.max(desired) - available).max(0);
        let unavail_allowed = int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            desired,
            false,
            "25%",
        );
        let deadline = d
            .pointer("/spec/progressDeadlineSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(600);

        let mut nd = d.clone();
        let status = crate::util::obj_mut(&mut nd, &["status"]);
        status.insert(
            "observedGeneration".into(),
            d["metadata"]["generation"].clone(),
        );
        let mut s2 = Map::new();
        s2.insert(
            "observedGeneration".into(),
            d["metadata"]["generation"].clone(),
        );
        for (k, v) in [
            ("replicas", replicas),
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("unavailableReplicas", unavailable),
        ] {
            if v != 0 {
                s2.insert(k.into(), json!(v));
            }
        }
        let mut conds = status.get("conditions").cloned();
        let is_available = available >= desired - unavail_allowed;
        conds = Some(if is_available {
            upsert_condition(
                conds.as_ref(),
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                false,
            )
        } else {
            upsert_condition(
                conds.as_ref(),
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                false,
            )
        });
        let complete = updated == desired
            && replicas == desired
            && available == desired
            && spec_total == desired;
        let signature = format!("{replicas}/{updated}/{ready}/{available}/{spec_total}/{new_name}");
        let now = Instant::now();
        let entry = mem
            .progress
            .entry(uid.clone())
            .or_insert((now, String::new()));
        let progressed = entry.1 != signature;
        if progressed {
            *entry = (now, signature);
        }
        let cur_reason = condition_reason(conds.as_ref(), "Progressing");
        if complete {
            conds = Some(upsert_condition(
                conds.as_ref(),
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
                progressed || cur_reason.as_deref() != Some("NewReplicaSetAvailable"),
            ));
        } else if progressed {
            conds = Some(upsert_condition(
                conds.as_ref(),
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
                true,
            ));
        } else if cur_reason.as_deref() != Some("ProgressDeadlineExceeded")
            && now.duration_since(entry.0) > Duration::from_secs(deadline.max(0) as u64)
        {
            conds = Some(upsert_condition(
                conds.as_ref(),
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                true,
            ));
        }
        if let Some(c) = conds {
            // Available before Progressing, as the controller writes them.
            let mut arr = c.as_array().cloned().unwrap_or_default();
            arr.sort_by_key(|c| if c["type"] == "Available" { 0 } else { 1 });
            s2.insert("conditions".into(), Value::Array(arr));
        }
        if let Some(cc) = status.get("collisionCount") {
            s2.insert("collisionCount".into(), cc.clone());
        }
        *status = s2;
        if nd != *d {
            write_status(shared, &mut st, &deploy_res, dkey.clone(), d, nd);
        }
    }
    // Remember the Deployments that are done, until something of theirs changes.
    let pod_keys = keys_by_owner(&st, "", "pods");
    for (dkey, _) in &deployments {
        let Some(d) = st.get(dkey) else { continue };
        let uid = d
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let fp = fingerprint(&st, dkey, &uid, &rs_keys, &pod_keys);
        let behaviour = behaviour_for(&behaviours, dkey, d);
        if before.get(&uid) == Some(&fp) && settled(d, &behaviour) {
            mem.settled.insert(uid, fp);
        } else {
            mem.settled.remove(&uid);
        }
    }
    // Forget pods that are gone.
    let live = uids(st.list("", "pods", None).map(|(_, p)| p));
    mem.pod_born.retain(|k, _| live.contains(k));
    more
}

/// The behaviour of a Deployment: set by the test for it, else named by its annotation, else
/// the default.
fn behaviour_for(b: &Behaviours, key: &Key, d: &Value) -> Behaviour {
    b.per
        .get(&(key.namespace.clone(), key.name.clone()))
        .cloned()
        .or_else(|| annotation_behaviour(d))
        .unwrap_or_else(|| b.default.clone())
}

/// The behaviour named by the annotation `test-apiserver.mcpctl.dev/behaviour` of a
/// Deployment (`never-ready`, `failing-pods`, `ready-after=500ms`), for scripts that drive the
/// standalone server with kubectl.
pub const BEHAVIOUR_ANNOTATION: &str = "test-apiserver.mcpctl.dev/behaviour";

fn annotation_behaviour(d: &Value) -> Option<Behaviour> {
    let a = d
        .pointer("/metadata/annotations")?
        .get(BEHAVIOUR_ANNOTATION)?
        .as_str()?;
    match a {
        "never-ready" => Some(Behaviour::NeverReady),
        "failing-pods" => Some(Behaviour::FailingPods),
        "unmanaged" => Some(Behaviour::Unmanaged),
        other => {
            let v = other.strip_prefix("ready-after=")?;
            let ms = if let Some(ms) = v.strip_suffix("ms") {
                ms.parse::<u64>().ok()?
            } else {
                v.strip_suffix('s')?.parse::<u64>().ok()? * 1000
            };
            Some(Behaviour::ReadyAfter(Duration::from_millis(ms)))
        }
    }
}

fn condition_reason(conds: Option<&Value>, ty: &str) -> Option<String> {
    conds?
        .as_array()?
        .iter()
        .find(|c| c["type"] == ty)?
        .get("reason")?
        .as_str()
        .map(String::from)
}

/// Sets a condition; lastTransitionTime changes only when status changes, lastUpdateTime when
/// anything changes (or `touch`).
fn upsert_condition(
    conds: Option<&Value>,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    touch: bool,
) -> Value {
    let mut arr = conds.and_then(Value::as_array).cloned().unwrap_or_default();
    let now = now_rfc3339();
    match arr.iter_mut().find(|c| c["type"] == ty) {
        Some(c) => {
            let changed_status = c["status"] != status;
            let changed = changed_status || c["reason"] != reason || c["message"] != message;
            if changed || touch {
                let transition = if changed_status { now.clone() } else { c["lastTransitionTime"].as_str().unwrap_or(&now).to_string() };
                *c = json!({"type": ty, "status": status, "lastUpdateTime": now, "lastTransitionTime": transition, "reason": reason, "message": message});
            }
        }
        None => arr.push(json!({"type": ty, "status": status, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason, "message": message})),
    }
    Value::Array(arr)
}

fn pod_status(p: &Value, b: &Behaviour, born: Instant) -> Value {
    if matches!(b, Behaviour::Unmanaged) {
        return p.clone();
    }
    let mut np = p.clone();
    let now = now_rfc3339();
    let created = p
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .unwrap_or(&now)
        .to_string();
    let containers: Vec<Value> = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let keep_time = |ty: &str, status: &str| -> String {
        p.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|c| c["type"] == ty && c["status"] == status))
            .and_then(|c| c["lastTransitionTime"].as_str())
            .unwrap_or(&now)
            .to_string()
    };
    let cond = |ty: &str, status: &str| json!({"type": ty, "status": status, "lastProbeTime": null, "lastTransitionTime": keep_time(ty, status)});
    let ip = format!(
        "10.244.0.{}",
        (stable_hash(&p["metadata"]["uid"])
            .bytes()
            .map(|b| b as u32)
            .sum::<u32>()
            % 250)
            + 2
    );
    let status = match b {
        Behaviour::NeverReady => {
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": null,
            "lastTransitionTime": keep_time("PodScheduled", "False"), "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."}],
            "qosClass": "BestEffort"})
        }
        Behaviour::ReadyAfter(d) if born.elapsed() >= *d => {
            let cs: Vec<Value> = containers
                .iter()
                .map(|c| json!({"name": c["name"], "state": {"running": {"startedAt": created}}, "lastState": {}, "ready": true, "restartCount": 0,
                    "image": c["image"], "imageID": format!("docker.io/{}@sha256:{}", c["image"].as_str().unwrap_or_default(), stable_hash(&c["image"])), "containerID": format!("containerd://{}", stable_hash(&c["name"])), "started": true}))
                .collect();
            json!({"phase": "Running", "conditions": [cond("Initialized", "True"), cond("Ready", "True"), cond("ContainersReady", "True"), cond("PodScheduled", "True")],
                "hostIP": "172.18.0.2", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": created, "containerStatuses": cs, "qosClass": "BestEffort"})
        }
        Behaviour::ReadyAfter(_) => {
            let cs: Vec<Value> = containers
                .iter()
                .map(|c| json!({"name": c["name"], "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}, "ready": false, "restartCount": 0, "image": c["image"], "imageID": "", "started": false}))
                .collect();
            json!({"phase": "Pending", "conditions": [cond("Initialized", "True"), cond("Ready", "False"), cond("ContainersReady", "False"), cond("PodScheduled", "True")],
                "hostIP": "172.18.0.2", "startTime": created, "containerStatuses": cs, "qosClass": "BestEffort"})
        }
        Behaviour::Unmanaged => return p.clone(),
        Behaviour::FailingPods => {
            let restarts = (born.elapsed().as_secs() / 2) as i64;
            let cs: Vec<Value> = containers
                .iter()
                .map(|c| json!({"name": c["name"], "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 10s restarting failed container={} pod={}", c["name"].as_str().unwrap_or_default(), p["metadata"]["name"].as_str().unwrap_or_default())}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": created, "finishedAt": created}}, "ready": false, "restartCount": restarts, "image": c["image"], "imageID": "", "started": false}))
                .collect();
            json!({"phase": "Running", "conditions": [cond("Initialized", "True"), cond("Ready", "False"), cond("ContainersReady", "False"), cond("PodScheduled", "True")],
                "hostIP": "172.18.0.2", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": created, "containerStatuses": cs, "qosClass": "BestEffort"})
        }
    };
    np["status"] = status;
    if !matches!(b, Behaviour::NeverReady) {
        np["spec"]["nodeName"] = json!("node-1");
    }
    np
}
