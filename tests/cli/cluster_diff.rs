//! `mcpctl diff`: exit 0 when the cluster matches, 1 with a unified diff when
//! it does not, 2 on errors, and never a write.

use crate::cluster_support::*;

#[test]
fn diff_exit_codes_follow_kubectl() {
    let env = Env::start(&[]);
    // Nothing applied yet: everything would be created.
    let o = env.run(&["diff"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("+++ intended/mcp/deployment.apps/github"),
        "{}",
        out(&o)
    );
    assert!(stdout.contains("+kind: Deployment"), "{}", out(&o));
    // The same for a pipeline: the differing objects, each with its diff.
    let o = env.run(&["diff", "-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["schemaVersion", "objects", "differ"], "{v}");
    assert_eq!(v["schemaVersion"], 1);
    let differ = v["differ"].as_array().unwrap();
    assert_eq!(differ.len(), v["objects"].as_u64().unwrap() as usize, "{v}");
    let dep = differ
        .iter()
        .find(|d| d["object"] == "mcp/deployment.apps/github")
        .expect("the Deployment differs");
    let keys: Vec<&String> = dep.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["server", "object", "live", "diff"], "{dep}");
    assert_eq!(
        (&dep["server"], &dep["live"]),
        (&"github".into(), &false.into())
    );
    assert!(
        dep["diff"].as_str().unwrap().contains("+kind: Deployment"),
        "{dep}"
    );

    assert_eq!(env.run(&["apply"]).status.code(), Some(0));
    env.srv.clear_requests();
    let o = env.run(&["diff"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).trim().is_empty(),
        "{}",
        out(&o)
    );
    let reqs = env.srv.requests();
    assert!(writes(&reqs).is_empty(), "{}", describe(&reqs));

    env.write_fleet(&fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 3));
    let o = env.run(&["diff", "github"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("--- live/mcp/deployment.apps/github"),
        "{}",
        out(&o)
    );
    assert!(
        stdout.contains("-  replicas: 2") && stdout.contains("+  replicas: 3"),
        "{}",
        out(&o)
    );
    // Server bookkeeping never shows.
    for noise in [
        "resourceVersion",
        "managedFields",
        "uid:",
        "creationTimestamp",
        "observedGeneration",
    ] {
        assert!(!stdout.contains(noise), "{noise} in diff:\n{stdout}");
    }
    // Only the Deployment differs.
    assert_eq!(stdout.matches("+++ intended/").count(), 1, "{stdout}");
    assert_eq!(env.deployment("github").unwrap()["spec"]["replicas"], 2);
}

#[test]
fn diff_errors_exit_above_1() {
    let env = Env::start(&[]);
    let o = env.run(&["diff", "--context", "nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let o = env.run(&["diff", "nosuchserver"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
}
