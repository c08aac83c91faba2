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
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour::ReadyAfter(Duration::from_millis(300))
    }
}

#[derive(Debug, Default)]
pub struct Behaviours {
    pub default: Behaviour,
    pub per: HashMap<(String, String), Behaviour>,
}

const MANAGER: &str = "kube-controller-manager";

#[derive(Default)]
struct Memory {
    pod_born: HashMap<String, Instant>,
    /// Deployment uid -> (last progress instant, progress signature).
    progress: HashMap<String, (Instant, String)>,
}

pub async fn run(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut mem = Memory::default();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        reconcile(&shared, &mut mem);
    }
}

fn res(shared: &Shared, group: &str, version: &str, plural: &str) -> Arc<Resource> {
    shared
        .registry
        .find(group, version, plural)
        .expect("built-in resource")
}

/// Writes an object as `manager`, recording managedFields, if it changed.
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

fn owned_by<'a>(
    st: &'a Store,
    group: &'a str,
    plural: &'a str,
    ns: &'a str,
    uid: &'a str,
) -> Vec<(Key, Value)> {
    st.list(group, plural, Some(ns))
        .filter(|(_, v)| {
            v.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
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

fn reconcile(shared: &Shared, mem: &mut Memory) {
    let deploy_res = res(shared, "apps", "v1", "deployments");
    let rs_res = res(shared, "apps", "v1", "replicasets");
    let pod_res = res(shared, "", "v1", "pods");
    let behaviours: Behaviours = {
        let b = shared.behaviours.lock().unwrap();
        Behaviours {
            default: b.default.clone(),
            per: b.per.clone(),
        }
    };
    let mut st = shared.store.lock().unwrap();

    // 1. Deployments: make sure the ReplicaSet of the current template exists; scale them.
    let deployments: Vec<(Key, Value)> = st
        .list("apps", "deployments", None)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (dkey, d) in &deployments {
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let ns = dkey.namespace.as_str();
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
        let mut rss = owned_by(&st, "apps", "replicasets", ns, &uid);
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
            write_as(
                shared,
                &mut st,
                &deploy_res,
                dkey.clone(),
                Some(d),
                nd,
                (MANAGER, Scope::Status),
            );
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
            write_as(
                shared,
                &mut st,
                &deploy_res,
                dkey.clone(),
                Some(&cur),
                nd,
                (MANAGER, Scope::Status),
            );
        }
    }

    // 2. ReplicaSets: pods, pod readiness, ReplicaSet status.
    let replicasets: Vec<(Key, Value)> = st
        .list("apps", "replicasets", None)
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
        let mut pods = owned_by(&st, "", "pods", ns, &uid);
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
            write_as(
                shared,
                &mut st,
                &rs_res,
                rkey.clone(),
                Some(rs),
                nrs,
                (MANAGER, Scope::Status),
            );
        }
    }

    // 3. Deployment status.
    let deployments: Vec<(Key, Value)> = st
        .list("apps", "deployments", None)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (dkey, d) in &deployments {
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
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
        let rss = owned_by(&st, "apps", "replicasets", &dkey.namespace, &uid);
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
            write_as(
                shared,
                &mut st,
                &deploy_res,
                dkey.clone(),
                Some(d),
                nd,
                (MANAGER, Scope::Status),
            );
        }
    }
    // Forget pods that are gone.
    let live: std::collections::HashSet<String> = st
        .list("", "pods", None)
        .filter_map(|(_, p)| {
            p.pointer("/metadata/uid")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect();
    mem.pod_born.retain(|k, _| live.contains(k));
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
