//! Fault injection and the request log.

mod common;

use serde_json::json;
use std::time::{Duration, Instant};
use test_apiserver::{ApiServer, Fault, FaultAction, Gate, Method};

const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment(name: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
          "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "example/c:1"}]}}}}))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_faults_fail_the_next_n_matching_requests() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    srv.inject(Fault::new(
        Some(Method::GET),
        "/deployments",
        2,
        FaultAction::Status(500),
    ));
    for _ in 0..2 {
        let r = common::get(&base, DEPLOY).await;
        assert_eq!(r.status, 500);
        let b = r.json();
        assert_eq!(b["kind"], "Status");
        assert_eq!(b["reason"], "InternalError");
        assert_eq!(b["code"], 500);
    }
    assert_eq!(
        common::get(&base, DEPLOY).await.status,
        200,
        "the third request is not affected"
    );
    // Method and path must both match.
    srv.inject(Fault::new(
        Some(Method::POST),
        "/deployments",
        1,
        FaultAction::Status(503),
    ));
    assert_eq!(common::get(&base, DEPLOY).await.status, 200);
    assert_eq!(
        common::get(&base, "/api/v1/namespaces/default/configmaps")
            .await
            .status,
        200
    );
    let r = common::post_json(&base, DEPLOY, deployment("a")).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["reason"], "ServiceUnavailable");
    let r = common::post_json(&base, DEPLOY, deployment("a")).await;
    assert_eq!(
        r.status,
        201,
        "the fault was used up: {}",
        String::from_utf8_lossy(&r.body)
    );
    srv.inject(Fault::new(
        None,
        "/deployments/a",
        1,
        FaultAction::Status(409),
    ));
    let r = common::get(&base, &format!("{DEPLOY}/a")).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "Conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_carries_retry_after() {
    let srv = ApiServer::builder().start().await;
    srv.inject(Fault::new(
        None,
        "",
        1,
        FaultAction::TooManyRequests {
            retry_after_secs: 3,
        },
    ));
    let r = common::get(&srv.url(), DEPLOY).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("3"));
    let b = r.json();
    assert_eq!(b["reason"], "TooManyRequests");
    assert_eq!(b["details"]["retryAfterSeconds"], 3);
    assert_eq!(common::get(&srv.url(), DEPLOY).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_and_drop() {
    let srv = ApiServer::builder().start().await;
    srv.inject(Fault::new(
        None,
        "/configmaps",
        1,
        FaultAction::Delay(Duration::from_millis(400)),
    ));
    let t = Instant::now();
    let r = common::get(&srv.url(), "/api/v1/namespaces/default/configmaps").await;
    assert_eq!(r.status, 200, "a delayed request is then served");
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "took only {:?}",
        t.elapsed()
    );

    srv.inject(Fault::new(None, "/configmaps", 1, FaultAction::Drop));
    let r = common::try_send(
        &srv.url(),
        "GET",
        "/api/v1/namespaces/default/configmaps",
        &[],
        None,
    )
    .await;
    assert!(
        r.is_err(),
        "a dropped connection must fail the request, got status {:?}",
        r.map(|r| r.status)
    );
    let r = common::try_send(
        &srv.url(),
        "GET",
        "/api/v1/namespaces/default/configmaps",
        &[],
        None,
    )
    .await;
    assert_eq!(r.expect("the next request works").status, 200);
}

/// A write whose answer is lost: stored, resourceVersion bumped, watchers told, and the client
/// sees only a closed connection; re-sending the create then meets AlreadyExists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_then_drop_stores_the_write_and_answers_nothing() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    let rv_before = srv.resource_version();
    srv.inject(Fault::new(
        Some(Method::POST),
        "/deployments",
        1,
        FaultAction::CommitThenDrop,
    ));
    let r = common::try_send(
        &base,
        "POST",
        DEPLOY,
        &[("Content-Type", "application/json")],
        Some(deployment("lost")),
    )
    .await;
    let err = r.map(|r| r.status).expect_err("the answer must not arrive");
    assert!(err.contains("connection closed"), "{err}");
    // The write happened.
    let stored = srv
        .get(&format!("{DEPLOY}/lost"))
        .expect("the create was stored");
    let rv: u64 = stored["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv > rv_before, "{rv} <= {rv_before}");
    assert_eq!(
        srv.requests().last().map(|r| (r.method.clone(), r.status)),
        Some(("POST".into(), 0)),
        "the log records an answer that was never sent as status 0"
    );
    // Watchers are told: a watch from before the write replays it.
    let (_, _, events) = common::watch(
        &base,
        DEPLOY,
        &[
            ("watch".into(), "true".into()),
            ("resourceVersion".into(), rv_before.to_string()),
            ("timeoutSeconds".into(), "1".into()),
        ],
        Duration::from_secs(30),
    )
    .await;
    let added: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "lost")
        .collect();
    assert_eq!(added.len(), 1, "{events:?}");
    assert_eq!(
        added[0]["object"]["metadata"]["resourceVersion"],
        stored["metadata"]["resourceVersion"]
    );
    // A blind re-send of the create meets the object it made.
    let srv = ApiServer::builder().start().await;
    srv.inject(Fault::new(
        None,
        "/deployments",
        1,
        FaultAction::CommitThenDrop,
    ));
    assert!(
        common::try_send(
            &srv.url(),
            "POST",
            DEPLOY,
            &[("Content-Type", "application/json")],
            Some(deployment("again")),
        )
        .await
        .is_err()
    );
    let r = common::post_json(&srv.url(), DEPLOY, deployment("again")).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "AlreadyExists");
}

/// A held request waits until the test opens the gate; the test can tell it arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_waits_for_its_gate() {
    let srv = ApiServer::builder().start().await;
    let gate = Gate::new();
    srv.inject(Fault::new(
        Some(Method::GET),
        "/configmaps",
        1,
        FaultAction::Hold(gate.clone()),
    ));
    assert_eq!(srv.fault_uses_left(), 1);
    let base = srv.url();
    let held =
        tokio::spawn(
            async move { common::get(&base, "/api/v1/namespaces/default/configmaps").await },
        );
    let deadline = Instant::now() + Duration::from_secs(30);
    while gate.arrived() == 0 {
        assert!(
            Instant::now() < deadline,
            "the request never reached the gate"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(srv.fault_uses_left(), 0);
    assert!(!held.is_finished(), "answered before the gate opened");
    assert!(srv.requests().is_empty(), "logged before it was answered");
    gate.open();
    let r = tokio::time::timeout(Duration::from_secs(30), held)
        .await
        .expect("still held after the gate opened")
        .unwrap();
    assert_eq!(r.status, 200);
}

/// `unless_contains` leaves out the requests that carry a text (here: dry runs), and the log's
/// times show which requests were served at once: one answered while another was held lies
/// within the held one's time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_can_leave_out_dry_runs_and_the_log_shows_requests_served_at_once() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    let apply = |dry: bool| {
        let base = base.clone();
        async move {
            let mut query = vec![("fieldManager".to_string(), "t".to_string())];
            if dry {
                query.push(("dryRun".into(), "All".into()));
            }
            common::send(
                &base,
                "PATCH",
                &format!("{DEPLOY}/held"),
                &query,
                &[("Content-Type", "application/apply-patch+yaml")],
                Some(deployment("held")),
            )
            .await
        }
    };
    let gate = Gate::new();
    srv.inject(
        Fault::new(
            Some(Method::PATCH),
            "/deployments/held",
            1,
            FaultAction::Hold(gate.clone()),
        )
        .unless_contains("dryRun"),
    );
    assert_eq!(apply(true).await.status, 201, "the dry run is not held");
    assert_eq!(gate.arrived(), 0);
    let held = tokio::spawn(apply(false));
    let deadline = Instant::now() + Duration::from_secs(30);
    while gate.arrived() == 0 {
        assert!(
            Instant::now() < deadline,
            "the write never reached the gate"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(common::get(&base, DEPLOY).await.status, 200);
    gate.open();
    let r = tokio::time::timeout(Duration::from_secs(30), held)
        .await
        .expect("still held after the gate opened")
        .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));

    let log = srv.requests();
    let [dry, list, write] = [0, 1, 2].map(|i| log[i].clone());
    assert_eq!(log.len(), 3, "{log:#?}");
    assert_eq!(dry.query_param("dryRun").as_deref(), Some("All"));
    assert_eq!(
        (list.method.as_str(), write.method.as_str()),
        ("GET", "PATCH")
    );
    assert!(dry.received <= dry.answered && dry.answered <= write.received);
    assert!(
        write.received <= list.received && list.answered <= write.answered,
        "the LIST was served while the write was held: {log:#?}"
    );
    assert_eq!(test_apiserver::most_at_once(&log), 2);
    assert_eq!(test_apiserver::most_at_once(&log[..2]), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_log_records_method_path_query_content_type_and_status() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    srv.clear_requests();
    common::send(
        &base,
        "GET",
        DEPLOY,
        &[
            ("labelSelector".into(), "app in (a,b)".into()),
            ("limit".into(), "5".into()),
        ],
        &[],
        None,
    )
    .await;
    common::post_json(&base, DEPLOY, deployment("logged")).await;
    common::send(
        &base,
        "PATCH",
        &format!("{DEPLOY}/logged"),
        &[("fieldManager".into(), "mcpctl".into())],
        &[("Content-Type", "application/merge-patch+json")],
        Some(br#"{"metadata":{"labels":{"x":"y"}}}"#.to_vec()),
    )
    .await;
    common::get(&base, &format!("{DEPLOY}/missing")).await;
    srv.inject(Fault::new(None, "/missing", 1, FaultAction::Status(500)));
    common::get(&base, &format!("{DEPLOY}/missing")).await;

    let log = srv.requests();
    assert_eq!(log.len(), 5, "{log:#?}");
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str(), log[0].status),
        ("GET", DEPLOY, 200)
    );
    assert_eq!(
        log[0].query_param("labelSelector").as_deref(),
        Some("app in (a,b)")
    );
    assert_eq!(log[0].query_param("limit").as_deref(), Some("5"));
    assert!(
        log[0]
            .query
            .contains("labelSelector=app%20in%20%28a%2Cb%29"),
        "raw query kept: {}",
        log[0].query
    );
    assert_eq!((log[1].method.as_str(), log[1].status), ("POST", 201));
    assert_eq!(log[1].content_type.as_deref(), Some("application/json"));
    assert_eq!((log[2].method.as_str(), log[2].status), ("PATCH", 200));
    assert_eq!(
        log[2].content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(log[3].status, 404);
    assert_eq!(
        log[4].status, 500,
        "injected faults are logged with the status they produced"
    );
    assert!(
        log.iter()
            .all(|r| r.user_agent.as_deref() == Some("mcpctl-recorder/0.1"))
    );
    srv.clear_requests();
    assert!(srv.requests().is_empty());
}

/// With a required token, a request without it, or with an old one, gets the
/// real server's 401 Status before anything else happens; the kubeconfig the
/// server writes carries the current token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_token_is_checked_first() {
    let srv = ApiServer::builder().require_token("s3cret").start().await;
    let base = srv.url();
    let r = common::get(&base, "/version").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
    let with = |token: &str| {
        let (base, auth) = (base.clone(), format!("Bearer {token}"));
        async move {
            common::send(
                &base,
                "GET",
                "/version",
                &[],
                &[("Authorization", &auth)],
                None,
            )
            .await
            .status
        }
    };
    assert_eq!(with("s3cret").await, 200);
    assert_eq!(with("other").await, 401);

    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    srv.write_kubeconfig(&kc, "test", "default");
    assert!(
        std::fs::read_to_string(&kc)
            .unwrap()
            .contains("token: \"s3cret\"")
    );

    // The credential in that kubeconfig expires.
    srv.set_token(Some("rotated"));
    assert_eq!(with("s3cret").await, 401);
    assert_eq!(with("rotated").await, 200);
    let statuses: Vec<u16> = srv.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 200, 401, 401, 200]);
}
