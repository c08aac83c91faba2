//! A rollout whose new pods never become ready: the real Deployment controller sets
//! `Progressing=False` with reason `ProgressDeadlineExceeded`, and `apply --wait` fails fast
//! with exit 4 and the controller's message.

use std::time::{Duration, Instant};

use crate::support::*;

fn fleet(version: &str) -> String {
    format!(
        "fleet: acme\nnamespace: mcp\ndefaults:\n  replicas: 2\n  router: service\n  strategy: rolling\n\
         servers:\n  - name: github\n    image: ghcr.io/acme/github-mcp:{version}\n"
    )
}

#[test]
fn a_stuck_rollout_reaches_progress_deadline_exceeded() {
    let env = Env::new("stuck", &fleet("1.4.2"));
    let o = env.run(&["apply", "--wait", "--timeout", "3m"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    // Version 1.4.3's pods start but never pass their readiness probe; its Deployment gets a
    // 10-second progress deadline.
    env.cluster.kubelet().keep_unready(
        env.ns.name(),
        &[
            ("app.kubernetes.io/name", "github"),
            ("app.kubernetes.io/version", "1.4.3"),
        ],
    );
    deployment_template_with(
        &env.path("templates"),
        "progressDeadlineSeconds: 600",
        "progressDeadlineSeconds: 10",
    );
    env.write_fleet(&fleet("1.4.3"));
    let started = Instant::now();
    let o = env.run(&[
        "apply",
        "--templates",
        "templates",
        "--wait",
        "--timeout",
        "4m",
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    assert!(
        started.elapsed() < Duration::from_secs(200),
        "did not fail fast: {:?}\n{}",
        started.elapsed(),
        out(&o)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("deployment \"github\" exceeded its progress deadline"),
        "{}",
        out(&o)
    );

    // The condition is the controller's, as stored.
    let d = env
        .cluster
        .get(&env.path_of("apps/v1", "deployments/github"))
        .expect("the Deployment");
    let progressing = d["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing")
        .cloned()
        .unwrap_or_default();
    assert_eq!(progressing["status"], "False", "{d:#}");
    assert_eq!(progressing["reason"], "ProgressDeadlineExceeded", "{d:#}");
    // The old version kept serving: the rollout never took an old pod away (maxUnavailable 0).
    assert_eq!(d["status"]["availableReplicas"], 2, "{d:#}");
    let o = env.run(&["history", "github", "-o", "json"]);
    let revs: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    assert_eq!(revs["schemaVersion"], 1, "{revs}");
    let last = revs["revisions"]
        .as_array()
        .and_then(|r| r.last())
        .expect("recorded revisions");
    assert_eq!(last["revision"], 2, "{revs}");
    assert_eq!(last["outcome"], "timed-out", "{revs}");
}
