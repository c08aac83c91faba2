//! `mcpctl status`: table and JSON, and a constant number of requests for a
//! fleet of 1,000 servers.

use std::time::{Duration, Instant};

use serde_json::json;
use test_apiserver::{Behaviour, Fault, FaultAction, Method};

use crate::cluster_support::*;

#[test]
fn status_table_and_json() {
    let env = Env::start(&[]);
    env.srv.set_deployment_behaviour(
        NS,
        "github",
        Behaviour::ReadyAfter(Duration::from_millis(200)),
    );
    let o = env.run(&["apply", "--wait", "--timeout", "30s"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    let o = env.run(&["status"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("SERVER  VERSION  "), "{}", out(&o));
    let row = stdout
        .lines()
        .find(|l| l.starts_with("github"))
        .unwrap_or_else(|| panic!("{}", out(&o)));
    for cell in ["1.4.2", "rolling", "2/2", "succeeded"] {
        assert!(row.contains(cell), "{cell} missing from row: {row}");
    }

    let v = env.status_json();
    let s = &v[0];
    assert_eq!(s["server"], "github");
    assert_eq!(s["image"], "ghcr.io/acme/github-mcp:1.4.2");
    assert_eq!(s["ready"], 2);
    assert_eq!(s["desired"], 2);
    assert_eq!(s["deployments"][0]["rollout"], "complete");
    assert_eq!(s["lastRollout"]["revision"], 1);
    assert_eq!(s["lastRollout"]["outcome"], "succeeded");
    assert!(s["inflight"].is_null());
}

#[test]
fn status_of_an_interrupted_operation_shows_it() {
    let env = Env::start(&[]);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    let inflight = json!({"schemaVersion": 2, "id": "op-9", "kind": "deploy", "strategy": "canary",
        "stepText": "canary step 2/5", "weights": {"canary": 25, "stable": 75},
        "started": "2026-01-01T00:00:00Z", "holder": "ci:job/9", "who": "ci:job/9"});
    let mut cm = env.github_state();
    cm["data"]["inflight"] = json!(inflight.to_string());
    env.srv.put_object(cm);
    let o = env.run(&["status"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("deploy (canary step 2/5) by ci:job/9"),
        "{}",
        out(&o)
    );
    assert!(stdout.contains("(interrupted)"), "{}", out(&o));
}

#[test]
fn status_watch_prints_again_on_a_change() {
    use std::io::{BufRead, BufReader};
    let env = Env::start(&[]);
    env.srv.set_deployment_behaviour(
        NS,
        "github",
        Behaviour::ReadyAfter(Duration::from_millis(100)),
    );
    assert_eq!(env.run(&["apply", "--wait"]).status.code(), Some(0));
    let mut child = env
        .command(&["status", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let headers = |rx: &std::sync::mpsc::Receiver<String>, until: Duration| {
        let deadline = Instant::now() + until;
        let mut n = 0;
        while let Ok(l) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if l.contains("SERVER") && l.contains("STRATEGY") {
                n += 1;
                break;
            }
        }
        n
    };
    assert_eq!(headers(&rx, Duration::from_secs(20)), 1, "no first table");
    // No change, no new table.
    assert_eq!(
        headers(&rx, Duration::from_secs(2)),
        0,
        "printed without a change"
    );
    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 3));
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    let printed = headers(&rx, Duration::from_secs(20));
    if printed != 1 {
        let _ = child.kill();
        panic!("no table after the Deployment changed");
    }
    // Let the rollout of the new replica settle, then drain what it printed.
    std::thread::sleep(Duration::from_secs(2));
    while rx.try_recv().is_ok() {}
    // A journal change (a rollout step recorded by another process) prints again.
    let mut cm = env.github_state();
    let inflight = json!({"schemaVersion": 2, "id": "op-3", "kind": "deploy", "strategy": "rolling",
        "stepText": "step 1/2", "started": "2026-01-01T00:00:00Z", "holder": "ci:job/3", "who": "ci:job/3"});
    cm["data"]["inflight"] = json!(inflight.to_string());
    env.srv.put_object(cm);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = false;
    while let Ok(l) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if l.contains("deploy (step 1/2) by ci:job/3") {
            seen = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen, "no table after the journal changed");
}

/// `status` of 1,000 servers reads each kind with one LIST in pages of 500, like kubectl: its
/// requests grow by one per 500 objects of a kind, never by one per server.
#[test]
fn status_of_1000_servers_lists_each_kind_in_pages_of_500() {
    let env = Env::start(&[]);
    let n = 1000;
    env.write_fleet(&crate::seed::ready_fleet(&env.srv, NS, "big", n));
    env.srv.clear_requests();
    let started = Instant::now();
    let o = env.run(&["status", "-o", "json"]);
    let wall = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schemaVersion"], 1);
    let v = &v["servers"];
    assert_eq!(v.as_array().unwrap().len(), n);
    assert_eq!(v[999]["version"], "1.0.999");
    assert_eq!(v[999]["desired"], 1);
    assert_eq!(v[999]["deployed"], true);
    let reqs = env.srv.requests();
    eprintln!(
        "BENCH status of {n} servers: {} requests in {:.2}s:\n{}",
        reqs.len(),
        wall.as_secs_f64(),
        describe(&reqs)
    );
    assert!(reqs.iter().all(|r| r.method == "GET"));
    let lists: Vec<_> = reqs.iter().filter(|r| r.path != "/version").collect();
    assert!(
        lists
            .iter()
            .all(|r| r.query_param("limit").as_deref() == Some("500")),
        "{}",
        describe(&reqs)
    );
    // 1,000 Deployments and 1,000 Services: two pages each.
    for kind in ["/deployments", "/services"] {
        let pages: Vec<_> = lists.iter().filter(|r| r.path.ends_with(kind)).collect();
        assert_eq!(pages.len(), 2, "{kind}:\n{}", describe(&reqs));
        assert!(pages[1].query_param("continue").is_some());
    }
    // Besides: the state records (at most 1,000: two pages), the Leases and the TLS Secrets.
    assert!(lists.len() <= 8, "{}", describe(&reqs));
}

/// A user who may not list Secrets still gets the status, without expiry.
#[test]
fn status_without_permission_for_secrets_still_shows_the_fleet() {
    let env = Env::start(&[]);
    let fleet = fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 1) + "    tls: {}\n";
    env.write_fleet(&fleet);
    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    env.srv.inject(Fault::new(
        Some(Method::GET),
        "/secrets",
        1,
        FaultAction::Status(403),
    ));
    let o = env.run(&["status", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let v = &v["servers"];
    assert_eq!(v[0]["version"], "1.4.2", "{v}");
    assert!(v[0]["certificateDaysLeft"].is_null(), "{v}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "not allowed to list Secrets in namespace mcp: certificate expiry is not shown"
        ),
        "{}",
        out(&o)
    );
}

#[test]
fn status_shows_certificate_days_left() {
    let env = Env::start(&[]);
    let fleet = fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 1) + "    tls: {}\n";
    env.write_fleet(&fleet);
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // A certificate valid until 2036-11-18T06:39:58Z, as `certs` would store it.
    let pem =
        std::fs::read(crate::support::repo_root().join("src/cluster/testdata/cert-2036-11-18.pem"))
            .unwrap();
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&pem)
    };
    env.srv.put_object(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "github-tls", "namespace": NS},
        "data": {"tls.crt": b64, "tls.key": "eA=="}}),
    );
    let o = env.run(&["status", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    let v = &v["servers"];
    assert_eq!(v[0]["certificateNotAfter"], "2036-11-18T06:39:58Z", "{v}");
    let days = v[0]["certificateDaysLeft"].as_i64().unwrap();
    assert!((3000..3700).contains(&days), "{days}");
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains(&b64[..20]),
        "certificate data printed"
    );
    let o = env.run(&["status"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("{days}d")),
        "{}",
        out(&o)
    );
    // Only TLS Secrets are fetched: other Secrets' data never reaches mcpctl.
    let secret_lists: Vec<_> = env
        .srv
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/secrets"))
        .collect();
    assert!(!secret_lists.is_empty());
    for r in &secret_lists {
        assert_eq!(
            r.query_param("fieldSelector").as_deref(),
            Some("type=kubernetes.io/tls"),
            "{r:?}"
        );
    }
}

#[test]
fn status_shows_the_live_canary_weight() {
    let env = Env::start(&[]);
    let fleet = fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 2)
        .replace("strategy: rolling", "strategy: canary")
        .replace(
            "router: service",
            "router: istio\n  prometheus: {url: \"http://prometheus.monitoring:9090\"}",
        );
    env.write_fleet(&fleet);
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = env.run(&["status"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stable 100%"),
        "{}",
        out(&o)
    );

    let vs_path = format!("/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices/github");
    let mut vs = env.srv.get(&vs_path).expect("VirtualService applied");
    let routes = vs["spec"]["http"][0]["route"].as_array_mut().unwrap();
    for r in routes.iter_mut() {
        let w = if r["destination"]["subset"] == "canary" {
            25
        } else {
            75
        };
        r["weight"] = json!(w);
    }
    env.srv.put_object(vs);
    env.srv.clear_requests();
    let o = env.run(&["status", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let v = &v["servers"];
    assert_eq!(v[0]["canaryWeight"], 25, "{v}");
    assert_eq!(v[0]["traffic"], "canary 25%");
    assert_eq!(
        env.srv.requests().len(),
        7,
        "{}",
        describe(&env.srv.requests())
    );

    // `apply` renders with the live weight: the canary keeps its 25%.
    let o = env.run(&["apply", "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("virtualservice.networking.istio.io/github unchanged"),
        "{}",
        out(&o)
    );
    let vs = env.srv.get(&vs_path).unwrap();
    let canary = vs["spec"]["http"][0]["route"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["destination"]["subset"] == "canary")
        .cloned();
    assert_eq!(canary.unwrap()["weight"], 25, "{vs}");
}
