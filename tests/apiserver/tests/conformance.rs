//! Replays the recorded exchanges of a real kube-apiserver v1.28.7
//! (`fixtures/transcripts/NN-*.json`, in order) against a fresh server and compares what
//! matters: status codes, Content-Type, Status bodies (reason, code, message, details and
//! causes), resourceVersion behaviour (a no-op keeps it, a write changes it), generation,
//! managedFields (managers, operations and FieldsV1 of the clients' entries), defaulted specs,
//! field order, list metadata, watch event types. Timeline files are checked as behaviour:
//! the rollout completes, the stuck one ends in ProgressDeadlineExceeded.
//!
//! Values that differ by nature between two servers (resourceVersions, uids, continue tokens,
//! timestamps, cluster IPs, ReplicaSet hashes) are mapped from the recording to this server's
//! answers as the replay goes.
//!
//! The stand-in claims v1.37.2, which tests/e2e/differential.rs checks it against. Where v1.37.2
//! answers differently from the v1.28.7 recording, that test is the authority and the
//! transcript is listed in [`SUPERSEDED`]: it is still replayed, and must still differ (a
//! transcript that matches again is reported, so the list cannot hide behaviour).

mod common;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use test_apiserver::{ApiServer, Behaviour};

/// Transcripts whose v1.28.7 answers v1.37.2 no longer gives, and why.
const SUPERSEDED: &[(&str, &str)] = &[
    (
        "02-discovery-api-v1.json",
        "v1.37.2 serves pods/resize in /api/v1",
    ),
    (
        "03-discovery-apis.json",
        "v1.37.2 serves resource.k8s.io/v1, flowcontrol.apiserver.k8s.io/v1 (not v1beta3, \
         v1beta2) and storagemigration.k8s.io/v1",
    ),
    (
        "07-discovery-apis-aggregated-v2beta1.json",
        "v1.37.2 answers 406 to aggregated discovery v2beta1 (it serves v2)",
    ),
    (
        "08-discovery-api-aggregated-v2beta1.json",
        "v1.37.2 answers aggregated discovery v2beta1 of /api with the plain APIVersions",
    ),
    (
        "09-discovery-apis-aggregated-v2-unsupported.json",
        "v1.37.2 serves aggregated discovery v2",
    ),
];

/// A recorded answer with the differences of v1.37.2 that the differential test checks and that
/// leave the rest of the exchange valid: a pod template's zero `creationTimestamp` is left out
/// (v1.28.7 wrote `null`; "apply a Deployment" in tests/e2e/differential.rs).
fn as_of_v1_37(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if let Some(meta) = m.get_mut("template").and_then(|t| t.get_mut("metadata"))
                    && let Some(meta) = meta.as_object_mut()
                    && meta.get("creationTimestamp") == Some(&Value::Null)
                {
                    meta.shift_remove("creationTimestamp");
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// After a transcript's replay: the differences of a superseded one are expected (and
/// required); they are dropped from the failures.
fn settle_superseded(rp: &mut Replay, pending: &mut Option<(String, usize)>) {
    let Some((name, before)) = pending.take() else {
        return;
    };
    if rp.failures.len() == before {
        rp.failures.push(format!(
            "{name}: listed in SUPERSEDED but the replay matches the v1.28.7 recording again: \
             remove it from the list"
        ));
    } else {
        rp.failures.truncate(before);
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

struct Replay {
    base: String,
    /// recorded value -> our value (resourceVersions, uids, continue tokens)
    map: HashMap<String, String>,
    /// Whether the current exchange is a write (a GET may see a value the recording saw later).
    writing: bool,
    failures: Vec<String>,
    file: String,
}

impl Replay {
    fn fail(&mut self, what: String) {
        self.failures.push(format!("{}: {what}", self.file));
    }

    fn check_eq(&mut self, what: &str, want: &Value, got: &Value) {
        if want != got {
            self.fail(format!("{what}: want {want}, got {got}"));
        }
    }

    fn subst(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => {
                Value::String(self.map.get(s).cloned().unwrap_or_else(|| s.clone()))
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.subst(x)).collect()),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, x)| (k.clone(), self.subst(x))).collect())
            }
            other => other.clone(),
        }
    }

    fn subst_text(&self, s: &str) -> String {
        let mut out = s.to_string();
        let mut keys: Vec<&String> = self.map.keys().collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        for k in keys {
            if k.len() >= 4 && out.contains(k.as_str()) {
                out = out.replace(k.as_str(), &self.map[k]);
            }
        }
        out
    }

    /// Learns (or checks) the mapping of a recorded resourceVersion/uid to ours.
    fn learn(&mut self, what: &str, rec: Option<&Value>, ours: Option<&Value>) {
        let (Some(Value::String(r)), Some(Value::String(o))) = (rec, ours) else {
            if rec.is_some() != ours.is_some() {
                self.fail(format!("{what}: recorded {rec:?}, ours {ours:?}"));
            }
            return;
        };
        match self.map.get(r) {
            Some(prev) if prev != o && self.writing => {
                self.fail(format!(
                    "{what}: the recording kept {r} (unchanged), ours changed from {prev} to {o}"
                ));
            }
            Some(_) => {}
            None => {
                if self.writing
                    && what.ends_with("resourceVersion")
                    && self.map.values().any(|v| v == o)
                {
                    self.fail(format!("{what}: the recording moved to a new resourceVersion {r}, ours stayed at {o}"));
                }
                self.map.insert(r.clone(), o.clone());
            }
        }
    }
}

fn managers(v: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = v
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap_or_default().to_string(),
                        e["operation"].as_str().unwrap_or_default().to_string(),
                        e.get("subresource")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .filter(|(m, _, _)| m != "kube-controller-manager" && m != "kubelet")
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn fields_of(v: &Value, manager: &str, op: &str) -> Option<Value> {
    v.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == op)
        .map(|e| e["fieldsV1"].clone())
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn without(v: &Value, drop: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        for d in drop {
            m.remove(*d);
        }
    }
    v
}

fn compare_status(rp: &mut Replay, want: &Value, got: &Value) {
    for k in ["kind", "apiVersion", "status", "reason", "code"] {
        rp.check_eq(
            &format!("Status.{k}"),
            &want.get(k).cloned().unwrap_or(Value::Null),
            &got.get(k).cloned().unwrap_or(Value::Null),
        );
    }
    let wmsg = want["message"].as_str().unwrap_or_default();
    let wmsg = rp.subst_text(wmsg);
    let gmsg = got["message"].as_str().unwrap_or_default();
    if wmsg.starts_with("too old resource version") {
        if !gmsg.starts_with("too old resource version: 1 (") {
            rp.fail(format!("Status.message: want {wmsg:?}, got {gmsg:?}"));
        }
    } else if wmsg != gmsg {
        rp.fail(format!("Status.message:\n  want {wmsg:?}\n  got  {gmsg:?}"));
    }
    let wd = rp.subst(&want.get("details").cloned().unwrap_or(Value::Null));
    let gd = got.get("details").cloned().unwrap_or(Value::Null);
    rp.check_eq("Status.details", &wd, &gd);
}

fn compare_object(rp: &mut Replay, want: &Value, got: &Value) {
    let kind = want["kind"].as_str().unwrap_or_default().to_string();
    for k in ["kind", "apiVersion"] {
        rp.check_eq(
            k,
            &want.get(k).cloned().unwrap_or(Value::Null),
            &got.get(k).cloned().unwrap_or(Value::Null),
        );
    }
    rp.check_eq(
        "top-level field order",
        &json!(keys(want)),
        &json!(keys(got)),
    );
    let wm = &want["metadata"];
    let gm = &got["metadata"];
    rp.check_eq("metadata field order", &json!(keys(wm)), &json!(keys(gm)));
    for k in [
        "name",
        "namespace",
        "generation",
        "labels",
        "finalizers",
        "generateName",
    ] {
        rp.check_eq(
            &format!("metadata.{k}"),
            &wm.get(k).cloned().unwrap_or(Value::Null),
            &gm.get(k).cloned().unwrap_or(Value::Null),
        );
    }
    let ann = |m: &Value| {
        without(
            &m.get("annotations").cloned().unwrap_or(Value::Null),
            &["deployment.kubernetes.io/revision"],
        )
    };
    rp.check_eq("metadata.annotations", &ann(wm), &ann(gm));
    for k in ["deletionTimestamp", "creationTimestamp"] {
        if wm.get(k).is_some() != gm.get(k).is_some() {
            rp.fail(format!(
                "metadata.{k}: recorded present={}, ours present={}",
                wm.get(k).is_some(),
                gm.get(k).is_some()
            ));
        }
    }
    rp.learn(
        "metadata.resourceVersion",
        wm.get("resourceVersion"),
        gm.get("resourceVersion"),
    );
    rp.learn("metadata.uid", wm.get("uid"), gm.get("uid"));
    rp.check_eq(
        "managedFields managers (manager, operation, subresource)",
        &json!(managers(want)),
        &json!(managers(got)),
    );
    for (m, op, _) in managers(want) {
        let w = fields_of(want, &m, &op);
        let g = fields_of(got, &m, &op);
        if w != g {
            rp.fail(format!(
                "fieldsV1 of {m}/{op}:\n  want {}\n  got  {}",
                w.unwrap_or(Value::Null),
                g.unwrap_or(Value::Null)
            ));
        }
    }
    // Timestamps of the clients' entries: unchanged where the recording kept them.
    match kind.as_str() {
        "Service" => {
            let strip = |v: &Value| without(&v["spec"], &["clusterIP", "clusterIPs"]);
            rp.check_eq("spec (without cluster IPs)", &strip(want), &strip(got));
        }
        "Scale" => {
            rp.check_eq("spec", &want["spec"], &got["spec"]);
            rp.check_eq(
                "status.selector",
                &want["status"]["selector"],
                &got["status"]["selector"],
            );
        }
        "Secret" | "ConfigMap" => {
            rp.check_eq("data", &want["data"], &got["data"]);
            rp.check_eq(
                "type",
                &want.get("type").cloned().unwrap_or(Value::Null),
                &got.get("type").cloned().unwrap_or(Value::Null),
            );
        }
        "Namespace" => {
            rp.check_eq("spec", &want["spec"], &got["spec"]);
            rp.check_eq("status", &want["status"], &got["status"]);
        }
        "Pod" => {}
        _ => {
            if want.get("spec").is_some() {
                rp.check_eq("spec", &want["spec"], &got["spec"]);
            }
            if want.get("status") == Some(&json!({})) {
                rp.check_eq("status", &want["status"], &got["status"]);
            }
        }
    }
}

fn compare_list(rp: &mut Replay, want: &Value, got: &Value) {
    for k in ["kind", "apiVersion"] {
        rp.check_eq(k, &want[k], &got[k]);
    }
    rp.check_eq(
        "list metadata keys",
        &json!(keys(&want["metadata"])),
        &json!(keys(&got["metadata"])),
    );
    rp.learn(
        "list metadata.resourceVersion",
        want["metadata"].get("resourceVersion"),
        got["metadata"].get("resourceVersion"),
    );
    if let (Some(Value::String(w)), Some(Value::String(g))) = (
        want["metadata"].get("continue"),
        got["metadata"].get("continue"),
    ) {
        rp.map.insert(w.clone(), g.clone());
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                i["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let (wn, gn) = (names(want), names(got));
    if want["kind"] == "PodList" {
        rp.check_eq("number of items", &json!(wn.len()), &json!(gn.len()));
        for item in got["items"].as_array().into_iter().flatten() {
            let sched = item["status"]["conditions"]
                .as_array()
                .and_then(|a| a.iter().find(|c| c["type"] == "PodScheduled"))
                .cloned();
            rp.check_eq(
                "pod PodScheduled condition reason",
                &json!("Unschedulable"),
                &sched.map(|c| c["reason"].clone()).unwrap_or(Value::Null),
            );
            rp.check_eq("pod phase", &json!("Pending"), &item["status"]["phase"]);
        }
        return;
    }
    rp.check_eq("item names", &json!(wn), &json!(gn));
    let items_have_kind = |v: &Value| {
        v["items"]
            .as_array()
            .and_then(|a| a.first())
            .map(|i| i.get("kind").is_some())
    };
    rp.check_eq(
        "items carry kind",
        &json!(items_have_kind(want)),
        &json!(items_have_kind(got)),
    );
    for (w, g) in want["items"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(got["items"].as_array().into_iter().flatten())
    {
        rp.learn(
            "item metadata.resourceVersion",
            w["metadata"].get("resourceVersion"),
            g["metadata"].get("resourceVersion"),
        );
        rp.learn(
            "item metadata.uid",
            w["metadata"].get("uid"),
            g["metadata"].get("uid"),
        );
    }
}

fn condition(d: &Value, ty: &str) -> Option<(String, String)> {
    d.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == ty)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
}

/// kubectl rollout status rules.
fn rollout_state(d: &Value) -> &'static str {
    let generation = d
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let observed = d
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if observed < generation {
        return "waiting-observed";
    }
    if condition(d, "Progressing").is_some_and(|(_, r)| r == "ProgressDeadlineExceeded") {
        return "deadline-exceeded";
    }
    let n = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let desired = n("/spec/replicas");
    if n("/status/updatedReplicas") < desired {
        return "waiting-updated";
    }
    if n("/status/replicas") > n("/status/updatedReplicas") {
        return "waiting-old-terminate";
    }
    if n("/status/availableReplicas") < n("/status/updatedReplicas") {
        return "waiting-available";
    }
    "complete"
}

async fn check_timeline(rp: &mut Replay, file: &Value) {
    let path = file["request"]["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let rows = file["timeline"].as_array().cloned().unwrap_or_default();
    let last = rows.last().cloned().unwrap_or(Value::Null);
    let want_final = last["kubectlRolloutStatus"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let budget = Duration::from_secs_f64(last["t"].as_f64().unwrap_or(5.0) + 5.0);
    let start = Instant::now();
    let mut seen_states = Vec::new();
    let mut d = Value::Null;
    let mut max_replicas = 0;
    let mut available_dropped = false;
    while start.elapsed() < budget {
        d = common::get(&rp.base, &path).await.json();
        max_replicas = max_replicas.max(d["status"]["replicas"].as_i64().unwrap_or(0));
        if d["status"]["observedGeneration"] == d["metadata"]["generation"]
            && condition(&d, "Available").is_some_and(|(s, _)| s == "False")
        {
            available_dropped = true;
        }
        let s = rollout_state(&d);
        if seen_states.last().map(String::as_str) != Some(s) {
            seen_states.push(s.to_string());
        }
        if s == want_final {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if rollout_state(&d) != want_final {
        rp.fail(format!("rollout did not reach {want_final:?} within {budget:?}; states seen {seen_states:?}; last status {}", d["status"]));
        return;
    }
    // Surge and availability along the way: replicas peak at desired + maxSurge during a
    // rolling update (4 of 3 in 15); Available stays True when the recording's did.
    let rec_max = rows
        .iter()
        .filter_map(|r| r["replicas"].as_i64())
        .max()
        .unwrap_or(0);
    rp.check_eq(
        "highest status.replicas during the rollout",
        &json!(rec_max),
        &json!(max_replicas),
    );
    let rec_dropped = rows.iter().any(|r| {
        r["observedGeneration"] == r["generation"]
            && r["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c[0] == "Available" && c[1] == "False"))
    });
    rp.check_eq(
        "Available went False during the rollout",
        &json!(rec_dropped),
        &json!(available_dropped),
    );
    // The final row's status shape: counters present/absent, condition reasons.
    for k in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
    ] {
        let want = &last[k];
        let got = d["status"].get(k).cloned().unwrap_or(Value::Null);
        rp.check_eq(&format!("final status.{k}"), want, &got);
    }
    let wc: Vec<Value> = last["conditions"].as_array().cloned().unwrap_or_default();
    let gc: Vec<Value> = d["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!([c["type"], c["status"], c["reason"]]))
        .collect();
    rp.check_eq("final conditions", &json!(wc), &json!(gc));
    // Messages name the new ReplicaSet, as the real controller's do.
    let rs = d["status"]["conditions"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["type"] == "Progressing"))
        .and_then(|c| c["message"].as_str())
        .unwrap_or_default()
        .to_string();
    if !rs.starts_with("ReplicaSet \"") {
        rp.fail(format!(
            "Progressing message {rs:?} does not name the ReplicaSet"
        ));
    }
    // Pods and ReplicaSets carry the template labels, so the Deployment's selector finds them.
    let sel = test_apiserver::util::selector_string(&d["spec"]["selector"]);
    let ns = d["metadata"]["namespace"].as_str().unwrap_or_default();
    let pods = common::send(
        &rp.base,
        "GET",
        &format!("/api/v1/namespaces/{ns}/pods"),
        &[("labelSelector".into(), sel.clone())],
        &[],
        None,
    )
    .await
    .json();
    let npods = pods["items"].as_array().map(Vec::len).unwrap_or(0) as i64;
    let want_pods = last["pods"]["total"].as_i64().unwrap_or(0)
        - last["pods"]["terminating"].as_i64().unwrap_or(0);
    rp.check_eq(
        "pods selected by the Deployment's selector",
        &json!(want_pods),
        &json!(npods),
    );
}

/// Waits until a Deployment's rollout is complete and its controller quiet.
async fn wait_complete(base: &str, path: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let d = common::get(base, path).await.json();
        if rollout_state(&d) == "complete" {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let again = common::get(base, path).await.json();
            if again["metadata"]["resourceVersion"] == d["metadata"]["resourceVersion"] {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_the_recorded_exchanges() {
    let srv = ApiServer::builder()
        .crds_from_dir(fixtures().join("crds"))
        .start()
        .await;
    srv.set_deployment_behaviour("rec", "mcp-stuck", Behaviour::NeverReady);
    let mut rp = Replay {
        base: srv.url(),
        map: HashMap::new(),
        writing: false,
        failures: Vec::new(),
        file: String::new(),
    };

    let dir = fixtures().join("transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 80,
        "expected the recorded transcripts in {}",
        dir.display()
    );
    let mut watch_task: Option<tokio::task::JoinHandle<(u16, String, Vec<Value>)>> = None;
    let mut watch_expect: Option<Value> = None;
    let mut checked = 0;

    let mut superseded: Option<(String, usize)> = None;
    for (name, _) in SUPERSEDED {
        assert!(
            dir.join(name).exists(),
            "SUPERSEDED names {name}, which is not in {}",
            dir.display()
        );
    }
    for f in &files {
        settle_superseded(&mut rp, &mut superseded);
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        rp.file = name.clone();
        if SUPERSEDED.iter().any(|(s, _)| *s == name) {
            superseded = Some((name.clone(), rp.failures.len()));
        }
        let file: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        if file.get("timeline").is_some() {
            check_timeline(&mut rp, &file).await;
            checked += 1;
            continue;
        }
        let req = &file["request"];
        let resp = &as_of_v1_37(file["response"].clone());
        let method = req["method"].as_str().unwrap().to_string();
        let path = req["path"].as_str().unwrap().to_string();
        let mut query: Vec<(String, String)> = req["query"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            rp.subst(v).as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ct = req["headers"]["Content-Type"].as_str().map(String::from);
        let accept = req["headers"]["Accept"]
            .as_str()
            .unwrap_or("application/json")
            .to_string();
        // Dry runs store nothing: the resourceVersion they answer is the stored one.
        rp.writing = method != "GET" && !query.iter().any(|(k, v)| k == "dryRun" && v == "All");
        if name.starts_with("43-") {
            // "Before the watch the Deployment was quiet (rollout complete)": the watch of 46
            // starts from the resourceVersion of this list.
            wait_complete(
                &rp.base,
                "/apis/apps/v1/namespaces/rec/deployments/mcp-github",
            )
            .await;
        }
        if name.starts_with("60-") {
            // The recorder wrote a second history record without recording it.
            let mut cm = serde_json::from_str::<Value>(
                &std::fs::read_to_string(dir.join("59-configmap-create.json")).unwrap(),
            )
            .unwrap()["request"]["body"]
                .clone();
            cm["metadata"]["name"] = json!("mcpctl-history-mcp-github-2");
            cm["data"]["revision"] = json!("2");
            let r = common::post_json(
                &rp.base,
                "/api/v1/namespaces/rec/configmaps",
                serde_json::to_vec(&cm).unwrap(),
            )
            .await;
            assert_eq!(
                r.status,
                201,
                "setup of the second history record: {}",
                String::from_utf8_lossy(&r.body)
            );
        }
        let mut req_body = req.get("body").cloned();
        if method == "PUT" {
            // The recorder PUT a fresh GET: use the current resourceVersion where the recorded one
            // was never seen by this replay.
            if let Some(rv) = req_body
                .as_ref()
                .and_then(|b| b.pointer("/metadata/resourceVersion"))
                .and_then(Value::as_str)
                .map(String::from)
                && !rp.map.contains_key(&rv)
            {
                if path.contains("/deployments/") {
                    wait_complete(&rp.base, &path).await;
                }
                let cur = common::get(&rp.base, &path).await.json();
                if let Some(c) = cur
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                {
                    rp.map.insert(rv, c.to_string());
                }
            }
        }
        let body = match req_body.take() {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(rp.subst_text(&s).into_bytes()),
            Some(v) => Some(serde_json::to_vec(&rp.subst(&v)).unwrap()),
        };

        if query.iter().any(|(k, v)| k == "watch" && v == "true") {
            if name.starts_with("46-") {
                // The recorded watch saw the apply of file 47 (sent 0.3 s in): start it, let 47 run,
                // then collect.
                for (k, v) in query.iter_mut() {
                    if k == "timeoutSeconds" {
                        *v = "3".into();
                    }
                }
                let base = rp.base.clone();
                let q = query.clone();
                let p = path.clone();
                watch_task = Some(tokio::spawn(async move {
                    common::watch(&base, &p, &q, Duration::from_secs(6)).await
                }));
                watch_expect = Some(file.clone());
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            let (status, got_ct, events) =
                common::watch(&rp.base, &path, &query, Duration::from_secs(6)).await;
            rp.check_eq("status", &resp["status"], &json!(status));
            rp.check_eq(
                "Content-Type",
                &resp["headers"]["Content-Type"],
                &json!(got_ct),
            );
            let want: Vec<Value> = resp["body"].as_array().cloned().unwrap_or_default();
            rp.check_eq("number of events", &json!(want.len()), &json!(events.len()));
            for (w, g) in want.iter().zip(events.iter()) {
                rp.check_eq("event type", &w["type"], &g["type"]);
                if w["type"] == "ERROR" {
                    compare_status(&mut rp, &w["object"], &g["object"]);
                }
            }
            checked += 1;
            continue;
        }

        let mut headers: Vec<(&str, &str)> = vec![("Accept", accept.as_str())];
        if let Some(c) = &ct {
            headers.push(("Content-Type", c.as_str()));
        }
        // Our object before a write: a write that changes nothing (same resourceVersion after)
        // must also keep managedFields, timestamps included (transcript 13).
        let before = if matches!(method.as_str(), "PUT" | "PATCH") && rp.writing {
            let b = common::get(&rp.base, &path).await;
            (b.status == 200).then(|| b.json())
        } else {
            None
        };
        if name.starts_with("13-") {
            // Timestamps have second precision: let one pass so that a rewritten time shows.
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        let got = common::send(&rp.base, &method, &path, &query, &headers, body).await;
        if let (Some(b), true) = (&before, got.status == 200) {
            let after = got.json();
            if after["metadata"]["resourceVersion"] == b["metadata"]["resourceVersion"]
                && after["metadata"]["managedFields"] != b["metadata"]["managedFields"]
            {
                rp.fail(format!(
                    "a write that changed nothing changed managedFields:\n  before {}\n  after  {}",
                    b["metadata"]["managedFields"], after["metadata"]["managedFields"]
                ));
            }
        }
        checked += 1;
        rp.check_eq("HTTP status", &resp["status"], &json!(got.status));
        rp.check_eq(
            "Content-Type",
            &resp["headers"]["Content-Type"],
            &json!(got.content_type),
        );
        let want = &resp["body"];
        if got.body.is_empty() {
            rp.fail("empty body".into());
            continue;
        }
        let gj = got.json();
        if resp["status"] != json!(got.status)
            || (want["kind"] == "Status") != (gj["kind"] == "Status")
        {
            rp.fail(format!(
                "answer differs; ours: {}",
                String::from_utf8_lossy(&got.body)
                    .chars()
                    .take(600)
                    .collect::<String>()
            ));
            continue;
        }
        if want["kind"] == "Status" {
            compare_status(&mut rp, want, &gj);
        } else if want["kind"]
            .as_str()
            .is_some_and(|k| k.ends_with("List") && want.get("items").is_some())
        {
            compare_list(&mut rp, want, &gj);
        } else if want["kind"] == "APIGroupDiscoveryList" {
            let names = |v: &Value| -> Vec<Value> {
                v["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| i["metadata"].get("name").cloned().unwrap_or(Value::Null))
                    .collect()
            };
            rp.check_eq("aggregated groups", &json!(names(want)), &json!(names(&gj)));
            rp.check_eq("aggregated document", want, &gj);
        } else if matches!(want["kind"].as_str(), Some("APIResourceList")) {
            let strip = |v: &Value| -> Value {
                let mut v = v.clone();
                for r in v["resources"].as_array_mut().into_iter().flatten() {
                    if let Some(m) = r.as_object_mut() {
                        m.remove("storageVersionHash");
                    }
                }
                v
            };
            rp.check_eq(
                "APIResourceList (without storageVersionHash)",
                &strip(want),
                &strip(&gj),
            );
        } else if matches!(want["kind"].as_str(), Some("APIGroupList")) {
            rp.check_eq("APIGroupList", want, &gj);
        } else if want["kind"] == "APIVersions" {
            rp.check_eq("versions", &want["versions"], &gj["versions"]);
        } else if want.get("metadata").is_some() {
            compare_object(&mut rp, want, &gj);
        }

        if name.starts_with("47-")
            && let (Some(t), Some(wf)) = (watch_task.take(), watch_expect.take())
        {
            rp.file = "46-deploy-watch.json".into();
            let (status, got_ct, events) = t.await.unwrap();
            rp.check_eq("watch status", &wf["response"]["status"], &json!(status));
            rp.check_eq(
                "watch Content-Type",
                &wf["response"]["headers"]["Content-Type"],
                &json!(got_ct),
            );
            let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
            if types.first() != Some(&"MODIFIED")
                || types.iter().any(|t| !matches!(*t, "MODIFIED" | "BOOKMARK"))
            {
                rp.fail(format!("watch event types {types:?}: want MODIFIED first, then only MODIFIED and BOOKMARK"));
            }
            if !types.contains(&"BOOKMARK") {
                rp.fail(format!(
                    "watch with allowWatchBookmarks sent no BOOKMARK: {types:?}"
                ));
            }
            let none = Value::Null;
            let first = events.first().map(|e| &e["object"]).unwrap_or(&none);
            rp.check_eq(
                "first event generation",
                &wf["response"]["body"][0]["object"]["metadata"]["generation"],
                &first["metadata"]["generation"],
            );
            if let Some(b) = events.iter().find(|e| e["type"] == "BOOKMARK") {
                rp.check_eq("bookmark kind", &json!("Deployment"), &b["object"]["kind"]);
                if b["object"]["metadata"]["resourceVersion"]
                    .as_str()
                    .is_none()
                {
                    rp.fail("bookmark without metadata.resourceVersion".into());
                }
            }
            let rvs: Vec<u64> = events
                .iter()
                .filter_map(|e| {
                    e["object"]["metadata"]["resourceVersion"]
                        .as_str()?
                        .parse()
                        .ok()
                })
                .collect();
            if rvs.windows(2).any(|w| w[0] > w[1]) {
                rp.fail(format!("watch resourceVersions not increasing: {rvs:?}"));
            }
            let statuses: Vec<Value> = events
                .iter()
                .filter(|e| e["type"] == "MODIFIED")
                .map(|e| json!(rollout_state(&e["object"])))
                .collect();
            if statuses.last() != Some(&json!("complete")) {
                rp.fail(format!(
                    "the watch did not see the rollout complete: {statuses:?}"
                ));
            }
        }
        // Let controller-driven state settle where the recording waited.
        if name.starts_with("84-") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    settle_superseded(&mut rp, &mut superseded);
    assert!(checked >= 85, "only {checked} exchanges replayed");
    if !rp.failures.is_empty() {
        panic!(
            "{} differences from the recorded real server:\n{}",
            rp.failures.len(),
            rp.failures.join("\n")
        );
    }
}
