//! Controller behaviours, watch semantics, selectors, namespaces and deletion.

mod common;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_apiserver::{ApiServer, Behaviour};

const NS: &str = "/api/v1/namespaces";

async fn apply(base: &str, path: &str, body: Value) -> common::Resp {
    common::send(
        base,
        "PATCH",
        path,
        &[
            ("fieldManager".into(), "mcpctl".into()),
            ("force".into(), "true".into()),
        ],
        &[("Content-Type", "application/apply-patch+yaml")],
        Some(serde_json::to_vec(&body).unwrap()),
    )
    .await
}

fn deployment(name: &str, replicas: i64, deadline: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas, "progressDeadlineSeconds": deadline, "selector": {"matchLabels": {"app": name}},
          "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "example/c:1"}]}}}})
}

fn deploy_path(name: &str) -> String {
    format!("/apis/apps/v1/namespaces/default/deployments/{name}")
}

async fn wait_for(
    base: &str,
    path: &str,
    what: &str,
    max: Duration,
    f: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let v = common::get(base, path).await.json();
        if f(&v) {
            return v;
        }
        assert!(
            start.elapsed() < max,
            "{what} not reached within {max:?}; last: {}",
            v["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cond<'a>(d: &'a Value, ty: &str) -> Option<&'a Value> {
    d["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ty)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_ready_ends_in_progress_deadline_exceeded() {
    let srv = ApiServer::builder().start().await;
    srv.set_deployment_behaviour("default", "stuck", Behaviour::NeverReady);
    let base = srv.url();
    assert_eq!(
        apply(&base, &deploy_path("stuck"), deployment("stuck", 2, 1))
            .await
            .status,
        201
    );
    let d = wait_for(
        &base,
        &deploy_path("stuck"),
        "ProgressDeadlineExceeded",
        Duration::from_secs(6),
        |d| cond(d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded"),
    )
    .await;
    let p = cond(&d, "Progressing").unwrap();
    assert_eq!(p["status"], "False");
    let rs_name = p["message"]
        .as_str()
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_string();
    assert_eq!(
        p["message"],
        format!("ReplicaSet \"{rs_name}\" has timed out progressing.")
    );
    assert!(rs_name.starts_with("stuck-"));
    let a = cond(&d, "Available").unwrap();
    assert_eq!(
        (a["status"].as_str(), a["reason"].as_str()),
        (Some("False"), Some("MinimumReplicasUnavailable"))
    );
    assert_eq!(d["status"]["replicas"], 2);
    assert_eq!(d["status"]["unavailableReplicas"], 2);
    assert!(
        d["status"].get("readyReplicas").is_none(),
        "zero counters are omitted: {}",
        d["status"]
    );
    let pods = common::list_selected(&base, &format!("{NS}/default/pods"), "app=stuck").await;
    let items = pods["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for p in items {
        assert_eq!(p["status"]["phase"], "Pending");
        assert_eq!(
            p["metadata"]["labels"]["pod-template-hash"],
            rs_name.trim_start_matches("stuck-")
        );
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["name"],
            rs_name.as_str()
        );
    }
    // Becoming ready later completes the rollout.
    srv.set_deployment_behaviour(
        "default",
        "stuck",
        Behaviour::ReadyAfter(Duration::from_millis(10)),
    );
    wait_for(
        &base,
        &deploy_path("stuck"),
        "NewReplicaSetAvailable",
        Duration::from_secs(5),
        |d| {
            cond(d, "Progressing").is_some_and(|c| c["reason"] == "NewReplicaSetAvailable")
                && d["status"]["availableReplicas"] == 2
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_pods_crash_loop_and_scale_to_zero_works() {
    let srv = ApiServer::builder().start().await;
    srv.set_deployment_behaviour("default", "crash", Behaviour::FailingPods);
    let base = srv.url();
    apply(&base, &deploy_path("crash"), deployment("crash", 1, 600)).await;
    let pods_path = format!("{NS}/default/pods");
    let start = Instant::now();
    loop {
        let pods = common::list_selected(&base, &pods_path, "app=crash").await;
        let reason = pods
            .pointer("/items/0/status/containerStatuses/0/state/waiting/reason")
            .cloned();
        if reason == Some(json!("CrashLoopBackOff")) {
            assert_eq!(
                pods["items"][0]["status"]["containerStatuses"][0]["ready"],
                false
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no CrashLoopBackOff pod: {pods}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = common::get(&base, &deploy_path("crash")).await.json();
    assert!(d["status"].get("availableReplicas").is_none());

    // Scale to zero through /scale: pods go away, counters disappear.
    let r = common::merge_patch(
        &base,
        &format!("{}/scale", deploy_path("crash")),
        br#"{"spec":{"replicas":0}}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["spec"],
        json!({}),
        "replicas 0 is omitted in Scale.spec"
    );
    wait_for(
        &base,
        &deploy_path("crash"),
        "scaled to zero",
        Duration::from_secs(5),
        |d| {
            d["status"].get("replicas").is_none()
                && d["status"]["observedGeneration"] == d["metadata"]["generation"]
        },
    )
    .await;
    let pods = common::list_selected(&base, &pods_path, "app=crash").await;
    assert_eq!(pods["items"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_semantics() {
    let srv = ApiServer::builder().watch_history(5).start().await;
    let base = srv.url();
    let cms = format!("{NS}/default/configmaps");
    let cm = |name: &str, tier: &str| {
        serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"tier": tier}}, "data": {"k": "v"}})).unwrap()
    };
    let list = common::get(&base, &cms).await.json();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    common::post_json(&base, &cms, cm("a", "web")).await;
    common::post_json(&base, &cms, cm("b", "db")).await;
    // Moving out of the selector is a DELETED for the watcher, moving in an ADDED.
    let patch =
        |tier: &str| format!(r#"{{"metadata":{{"labels":{{"tier":"{tier}"}}}}}}"#).into_bytes();
    common::merge_patch(&base, &format!("{cms}/a"), patch("db")).await;
    common::merge_patch(&base, &format!("{cms}/b"), patch("web")).await;
    common::delete(&base, &format!("{cms}/b")).await;
    let q = vec![
        ("watch".to_string(), "true".to_string()),
        ("resourceVersion".into(), rv.clone()),
        ("labelSelector".into(), "tier=web".into()),
        ("timeoutSeconds".into(), "1".into()),
    ];
    let (status, ct, events) = common::watch(&base, &cms, &q, Duration::from_secs(3)).await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("ADDED", "a"),
        ("DELETED", "a"),
        ("ADDED", "b"),
        ("DELETED", "b"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(seen, want);
    // Without a resourceVersion: the current state as ADDED events.
    let (_, _, events) = common::watch(
        &base,
        &cms,
        &[
            ("watch".into(), "1".into()),
            ("timeoutSeconds".into(), "1".into()),
        ],
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "ADDED");
    // Older than the kept history (5 events): 200 with one ERROR event holding 410 Expired.
    for i in 0..6 {
        common::post_json(&base, &cms, cm(&format!("x{i}"), "x")).await;
    }
    let (status, _, events) = common::watch(
        &base,
        &cms,
        &[
            ("watch".into(), "true".into()),
            ("resourceVersion".into(), rv),
        ],
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_namespaces_and_deletion() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    // Namespaced objects need their namespace.
    let r = common::post_json(
        &base,
        &format!("{NS}/nope/configmaps"),
        br#"{"metadata":{"name":"x"}}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "namespaces \"nope\" not found");
    let r = apply(&base, &format!("{NS}/nope/configmaps/x"), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "nope"}})).await;
    assert_eq!(r.status, 404);
    common::post_json(&base, NS, br#"{"metadata":{"name":"team"}}"#.to_vec()).await;
    for (name, labels) in [
        ("a", json!({"app": "x", "tier": "web"})),
        ("b", json!({"app": "y", "tier": "web"})),
        ("c", json!({"app": "z"})),
    ] {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}});
        assert_eq!(
            common::post_json(
                &base,
                &format!("{NS}/team/configmaps"),
                serde_json::to_vec(&body).unwrap()
            )
            .await
            .status,
            201
        );
    }
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let path = format!("{NS}/team/configmaps");
    for (selector, want) in [
        ("tier=web,app!=y", &["a"][..]),
        ("app in (x, z)", &["a", "c"]),
        ("app notin (x)", &["b", "c"]),
        ("!tier", &["c"]),
        ("tier", &["a", "b"]),
    ] {
        assert_eq!(
            names(common::list_selected(&base, &path, selector).await),
            want,
            "labelSelector={selector}"
        );
    }
    let fs = vec![("fieldSelector".to_string(), "metadata.name=b".to_string())];
    assert_eq!(
        names(
            common::send(&base, "GET", &path, &fs, &[], None)
                .await
                .json()
        ),
        ["b"]
    );
    // Across namespaces.
    let all = common::list_selected(&base, "/api/v1/configmaps", "tier").await;
    assert_eq!(names(all), ["a", "b"]);
    // Pagination.
    let page1 = common::send(
        &base,
        "GET",
        &path,
        &[("limit".into(), "2".into())],
        &[],
        None,
    )
    .await
    .json();
    let cont = page1["metadata"]["continue"].as_str().unwrap().to_string();
    assert_eq!(names(page1), ["a", "b"]);
    let page2 = common::send(
        &base,
        "GET",
        &path,
        &[("limit".into(), "2".into()), ("continue".into(), cont)],
        &[],
        None,
    )
    .await
    .json();
    assert!(page2["metadata"].get("continue").is_none());
    assert_eq!(names(page2), ["c"]);
    // Deleting the namespace terminates it and everything in it.
    let r = common::delete(&base, &format!("{NS}/team")).await;
    assert_eq!(r.json()["status"]["phase"], "Terminating");
    let r = common::post_json(&base, &path, br#"{"metadata":{"name":"late"}}"#.to_vec()).await;
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    let start = Instant::now();
    while common::get(&base, &format!("{NS}/team")).await.status != 404 {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "namespace not removed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(common::get(&base, &format!("{path}/a")).await.status, 404);
    // Background deletion of a Deployment removes its ReplicaSets and Pods.
    apply(&base, &deploy_path("gc"), deployment("gc", 1, 600)).await;
    wait_for(
        &base,
        &deploy_path("gc"),
        "ready",
        Duration::from_secs(5),
        |d| d["status"]["availableReplicas"] == 1,
    )
    .await;
    let r = common::delete(&base, &deploy_path("gc")).await;
    assert_eq!(r.json()["status"], "Success");
    let rs = common::list_selected(
        &base,
        "/apis/apps/v1/namespaces/default/replicasets",
        "app=gc",
    )
    .await;
    assert_eq!(rs["items"].as_array().unwrap().len(), 0);
    let pods = common::list_selected(&base, &format!("{NS}/default/pods"), "app=gc").await;
    assert_eq!(pods["items"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_subresource_rollback_finalizers_and_deletecollection() {
    let srv = ApiServer::builder()
        .default_behaviour(Behaviour::ReadyAfter(Duration::from_millis(20)))
        .start()
        .await;
    let base = srv.url();
    let path = deploy_path("app");
    apply(&base, &path, deployment("app", 1, 600)).await;
    let d = wait_for(&base, &path, "rolled out", Duration::from_secs(5), |d| {
        d["status"]["availableReplicas"] == 1
    })
    .await;

    // A write through /status changes status only; a main-resource write ignores status.
    let mut body = d.clone();
    body["spec"]["replicas"] = json!(7);
    body["status"]["replicas"] = json!(42);
    let r = common::send(
        &base,
        "PUT",
        &format!("{path}/status"),
        &[],
        &[("Content-Type", "application/json")],
        Some(serde_json::to_vec(&body).unwrap()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(
        (
            v["spec"]["replicas"].as_i64(),
            v["status"]["replicas"].as_i64()
        ),
        (Some(1), Some(42))
    );
    assert_eq!(
        v["metadata"]["generation"], d["metadata"]["generation"],
        "a status write does not bump generation"
    );
    let r = common::merge_patch(&base, &path, br#"{"status":{"replicas":99}}"#.to_vec()).await;
    assert_ne!(r.json()["status"]["replicas"], 99);

    // Rolling back to an earlier template reuses its ReplicaSet, which becomes the newest revision.
    let mut v2 = deployment("app", 1, 600);
    v2["spec"]["template"]["spec"]["containers"][0]["image"] = json!("example/c:2");
    apply(&base, &path, v2).await;
    wait_for(&base, &path, "v2 rolled out", Duration::from_secs(5), |d| {
        cond(d, "Progressing").is_some_and(|c| c["reason"] == "NewReplicaSetAvailable")
            && d["status"]["updatedReplicas"] == 1
            && d["status"]["replicas"] == 1
            && d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    })
    .await;
    apply(&base, &path, deployment("app", 1, 600)).await;
    let d = wait_for(&base, &path, "rolled back", Duration::from_secs(5), |d| {
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
            && d["status"]["updatedReplicas"] == 1
            && d["status"]["replicas"] == 1
    })
    .await;
    let rs = common::list_selected(
        &base,
        "/apis/apps/v1/namespaces/default/replicasets",
        "app=app",
    )
    .await;
    let items = rs["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "the first ReplicaSet is reused, not a third created"
    );
    let msg = cond(&d, "Progressing").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    let current = items.iter().find(|r| r["spec"]["replicas"] == 1).unwrap();
    assert!(
        msg.contains(current["metadata"]["name"].as_str().unwrap()),
        "{msg}"
    );
    assert_eq!(
        current["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );

    // An object with a finalizer stays, marked, until the finalizer is removed.
    let cms = format!("{NS}/default/configmaps");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["example.com/hold"], "labels": {"set": "x"}}});
    common::post_json(&base, &cms, serde_json::to_vec(&cm).unwrap()).await;
    let r = common::delete(&base, &format!("{cms}/held")).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(common::get(&base, &format!("{cms}/held")).await.status, 200);
    let r = common::merge_patch(
        &base,
        &format!("{cms}/held"),
        br#"{"metadata":{"finalizers":null}}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(common::get(&base, &format!("{cms}/held")).await.status, 404);

    // deletecollection with a label selector.
    for n in ["d1", "d2", "keep"] {
        let set = if n == "keep" { "y" } else { "x" };
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "labels": {"set": set}}});
        common::post_json(&base, &cms, serde_json::to_vec(&cm).unwrap()).await;
    }
    let r = common::send(
        &base,
        "DELETE",
        &cms,
        &[("labelSelector".into(), "set=x".into())],
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let left = common::get(&base, &cms).await.json();
    let names: Vec<&str> = left["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["keep"]);
}

/// Applies racing a stream of status writes never see a 409: the real storage
/// layer re-applies a patch to the newer object (`GuaranteedUpdate`), and only
/// a resourceVersion the client sent can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_racing_other_writers_are_reapplied_not_409() {
    let srv = ApiServer::builder().without_controller().start().await;
    let base = srv.url();
    let path = deploy_path("race");
    assert_eq!(
        apply(&base, &path, deployment("race", 1, 600)).await.status,
        201
    );
    const ROUNDS: i64 = 200;
    let status_writer = {
        let (base, path) = (base.clone(), format!("{path}/status"));
        tokio::spawn(async move {
            let mut codes = Vec::new();
            for i in 0..ROUNDS {
                let body = json!({"status": {"observedGeneration": i}});
                let r = common::merge_patch(&base, &path, serde_json::to_vec(&body).unwrap()).await;
                codes.push(r.status);
            }
            codes
        })
    };
    let mut apply_codes = Vec::new();
    for i in 0..ROUNDS {
        let mut d = deployment("race", 1, 600);
        d["metadata"]["labels"] = json!({"round": i.to_string()});
        apply_codes.push(apply(&base, &path, d).await.status);
    }
    let status_codes = status_writer.await.unwrap();
    assert!(
        apply_codes.iter().chain(&status_codes).all(|c| *c == 200),
        "applies: {apply_codes:?}\nstatus writes: {status_codes:?}"
    );
    let live = common::get(&base, &path).await.json();
    assert_eq!(
        live["metadata"]["labels"]["round"],
        (ROUNDS - 1).to_string()
    );
    assert_eq!(live["status"]["observedGeneration"], ROUNDS - 1);
}
