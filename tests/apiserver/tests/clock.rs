//! Clock skew: the server's times (Date headers, creationTimestamp, managedFields, the
//! controller's conditions) run at the machine's clock plus the skew.

mod common;

use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use test_apiserver::ApiServer;

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Seconds since the epoch of an RFC 3339 "…Z" time.
fn rfc3339(s: &str) -> i64 {
    let t: jiff::Timestamp = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    t.as_second()
}

/// Seconds since the epoch of an HTTP Date.
fn http_date(s: &str) -> i64 {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .as_second()
}

/// `got` is `want` give or take a few seconds (the time a request takes on a loaded machine).
fn near(got: i64, want: i64, what: &str) {
    assert!(
        (got - want).abs() <= 5,
        "{what}: {got} is not near {want} (off by {}s)",
        got - want
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_follow_the_skewed_clock() {
    let srv = ApiServer::builder().start().await;
    let base = srv.url();
    let r = common::get(&base, "/api/v1/namespaces/default/configmaps").await;
    near(
        http_date(r.header("date").unwrap()),
        unix_now(),
        "Date, no skew",
    );

    srv.set_clock_skew(Duration::from_secs(3600), false);
    let r = common::get(&base, "/api/v1/namespaces/default/configmaps").await;
    near(
        http_date(r.header("date").unwrap()),
        unix_now() - 3600,
        "Date an hour behind",
    );
    let cm = serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c"}, "data": {"a": "1"}}))
    .unwrap();
    let r = common::post_json(&base, "/api/v1/namespaces/default/configmaps", cm).await;
    assert_eq!(r.status, 201);
    near(
        http_date(r.header("date").unwrap()),
        unix_now() - 3600,
        "Date of a write",
    );
    let c = r.json();
    near(
        rfc3339(c["metadata"]["creationTimestamp"].as_str().unwrap()),
        unix_now() - 3600,
        "creationTimestamp",
    );
    near(
        rfc3339(c["metadata"]["managedFields"][0]["time"].as_str().unwrap()),
        unix_now() - 3600,
        "managedFields time",
    );
    // Objects a test stores directly too.
    let put = srv.put_object(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "d", "namespace": "default"}}));
    near(
        rfc3339(put["metadata"]["creationTimestamp"].as_str().unwrap()),
        unix_now() - 3600,
        "creationTimestamp of put_object",
    );

    // Ahead, by milliseconds; the controller's condition times follow too.
    srv.set_clock_skew_ms(90_000);
    let dep = serde_json::to_vec(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "w"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "w"}},
        "template": {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}))
    .unwrap();
    let r = common::post_json(&base, "/apis/apps/v1/namespaces/default/deployments", dep).await;
    assert_eq!(r.status, 201);
    near(
        http_date(r.header("date").unwrap()),
        unix_now() + 90,
        "Date 90 s ahead",
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let cond = loop {
        let d = srv
            .get("/apis/apps/v1/namespaces/default/deployments/w")
            .unwrap();
        if let Some(c) = d["status"]["conditions"].as_array().and_then(|a| a.first()) {
            break c.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the controller never wrote a condition"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    near(
        rfc3339(cond["lastUpdateTime"].as_str().unwrap()),
        unix_now() + 90,
        "condition lastUpdateTime",
    );
}
