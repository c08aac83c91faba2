//! The example fleet on a real cluster: every rendered object accepted under strict field
//! validation, `apply --wait` rolled out by the real controllers, `diff` clean right after,
//! `status` showing every server ready.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

fn example_fleet() -> String {
    std::fs::read_to_string(repo_root().join("examples/fleet.yaml")).expect("examples/fleet.yaml")
}

/// The API path of an object of the rendered fleet.
fn object_path(env: &Env, obj: &Value) -> String {
    let api_version = obj["apiVersion"].as_str().expect("apiVersion");
    let kind = obj["kind"].as_str().expect("kind");
    let name = obj["metadata"]["name"].as_str().expect("metadata.name");
    // Plural names of the kinds the fleet renders (all regular: lower case plus "s", but for
    // the few listed).
    let plural = match kind {
        "NetworkPolicy" => "networkpolicies".to_string(),
        "PodDisruptionBudget" => "poddisruptionbudgets".to_string(),
        "HorizontalPodAutoscaler" => "horizontalpodautoscalers".to_string(),
        k => format!("{}s", k.to_lowercase()),
    };
    if kind == "Namespace" {
        return format!("/api/v1/namespaces/{name}");
    }
    env.path_of(api_version, &format!("{plural}/{name}"))
}

#[test]
fn the_example_fleet_applies_rolls_out_diffs_clean_and_shows_ready() {
    let env = Env::new("fleet", &example_fleet());

    // Every object mcpctl renders, sent as a server-side apply dry run with strict field
    // validation: no rejection and no warning (an unknown or duplicate field would be either).
    let o = env.run(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let objects: Vec<Value> =
        serde_saphyr::from_multiple(&String::from_utf8_lossy(&o.stdout)).expect("render's YAML");
    assert!(
        objects.len() > 30,
        "only {} objects rendered",
        objects.len()
    );
    for obj in &objects {
        let path = object_path(&env, obj);
        let a = env.cluster.block_on(test_cluster::raw::send(
            &env.cluster.client(),
            "PATCH",
            &format!("{path}?fieldManager=e2e-strict&fieldValidation=Strict&dryRun=All&force=true"),
            "application/apply-patch+yaml",
            Some(obj),
        ));
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            a.status == 200 || a.status == 201,
            "{path} rejected ({}): {}\n{obj:#}",
            a.status,
            a.body
        );
        assert!(
            a.warnings().is_empty(),
            "{path}: warnings {:?}",
            a.warnings()
        );
    }

    let o = env.run(&["apply", "--wait", "--timeout", "5m"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    // The real Deployment controller reports every Deployment complete (the HPA may still
    // be scaling an autoscaled one to its minimum: wait for the state to settle).
    for obj in objects.iter().filter(|o| o["kind"] == "Deployment") {
        let path = object_path(&env, obj);
        env.cluster.wait_for(
            &format!("{path} to be rolled out"),
            Duration::from_secs(180),
            || {
                let last = env.cluster.get(&path).ok_or("no Deployment")?;
                let want = last["spec"]["replicas"].as_i64().unwrap_or(1);
                let status = &last["status"];
                let count = |k: &str| status[k].as_i64().unwrap_or(0);
                (status["observedGeneration"] == last["metadata"]["generation"]
                    && count("updatedReplicas") == want
                    && count("availableReplicas") == want
                    && count("replicas") == want)
                    .then_some(())
                    .ok_or_else(|| format!("spec.replicas {want}, status {status}"))
            },
        );
    }

    let o = env.run(&["diff"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "diff right after apply: {}",
        out(&o)
    );

    let o = env.run(&["status", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let servers: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    assert_eq!(servers["schemaVersion"], 1, "{servers}");
    let servers = servers["servers"].as_array().expect("a list of servers");
    assert_eq!(servers.len(), 5, "{servers:#?}");
    for s in servers {
        assert!(s["desired"].as_i64().unwrap_or(0) > 0, "{s}");
        assert_eq!(s["ready"], s["desired"], "{s}");
        assert_eq!(s["lastRollout"]["outcome"], "succeeded", "{s}");
    }
    let o = env.run(&["status"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    for name in ["github", "postgres", "filesystem", "slack", "search"] {
        assert!(
            table.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{table}"
        );
    }

    // The garbage collector is real: the ReplicaSets belong to their Deployments.
    let rs = env
        .cluster
        .get(&env.path_of("apps/v1", "replicasets"))
        .expect("ReplicaSets");
    let owners: Vec<&Value> = rs["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| &r["metadata"]["ownerReferences"][0]["kind"])
        .collect();
    assert!(
        !owners.is_empty() && owners.iter().all(|k| *k == "Deployment"),
        "{owners:?}"
    );
}
