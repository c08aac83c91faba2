//! Every `-o json|yaml` document starts with `schemaVersion` and has the keys
//! the README documents, in that order (a key added or renamed fails here
//! until the README and these lists say so).

use serde_json::Value;

use crate::cluster_support::{Env, fleet_yaml, out};
use crate::support::{mcpctl, mcpctl_in, stdout};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not a mapping: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out(o)))
}

#[test]
fn version_validate_and_lint_documents() {
    let v = json(&mcpctl(&["version", "-o", "json"]));
    assert_eq!(
        keys(&v),
        ["schemaVersion", "version", "gitCommit", "buildDate"]
    );
    assert_eq!(v["schemaVersion"], 1);

    let validate_keys = [
        "schemaVersion",
        "valid",
        "file",
        "fleet",
        "servers",
        "errors",
        "warnings",
    ];
    let o = mcpctl(&["validate", "-f", "examples/fleet.yaml", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v = json(&o);
    assert_eq!(keys(&v), validate_keys);
    assert_eq!(
        (&v["schemaVersion"], &v["valid"], &v["servers"]),
        (&1.into(), &true.into(), &5.into())
    );
    let o = mcpctl(&[
        "validate",
        "-f",
        "tests/fixtures/fleets/unknown_key.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let v = json(&o);
    assert_eq!(keys(&v), validate_keys);
    assert_eq!(
        keys(&v["errors"][0]),
        [
            "severity", "file", "line", "column", "path", "message", "hint"
        ]
    );

    let o = mcpctl(&["lint", "-f", "examples/fleet.yaml", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v = json(&o);
    assert_eq!(keys(&v), ["schemaVersion", "findings", "summary"]);
    assert_eq!(keys(&v["summary"]), ["errors", "warnings", "infos"]);
    assert_eq!(
        keys(&v["findings"][0]),
        ["rule", "severity", "object", "server", "message", "fix"]
    );
    let o = mcpctl(&["lint", "-f", "examples/fleet.yaml", "-o", "yaml"]);
    assert!(
        stdout(&o).starts_with("schemaVersion: 1\nfindings:"),
        "{}",
        out(&o)
    );
}

#[test]
fn status_history_and_plan_documents() {
    let env = Env::start(&[]);
    env.write_fleet(
        &fleet_yaml("ghcr.io/acme/github-mcp:1.4.2", 2)
            .replace("strategy: rolling", "strategy: blue-green"),
    );
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    // The helpers check `{schemaVersion, servers}` and `{schemaVersion, server, revisions}`.
    let servers = env.status_json();
    assert_eq!(
        keys(&servers[0]),
        [
            "server",
            "namespace",
            "deployed",
            "image",
            "version",
            "strategy",
            "activeColour",
            "canaryWeight",
            "traffic",
            "ready",
            "desired",
            "deployments",
            "lastRollout",
            "lastRolloutAgeSeconds",
            "inflight",
            "lockHolder",
            "lockSince",
            "certificateNotAfter",
            "certificateDaysLeft",
        ]
    );
    let revisions = env.history_json("github");
    assert_eq!(revisions.as_array().map(Vec::len), Some(1), "{revisions}");
    // `message`, `fromImage` and `deployed` appear when there is one.
    assert_eq!(
        keys(&revisions[0]),
        [
            "server",
            "revision",
            "operation",
            "image",
            "strategy",
            "who",
            "when",
            "outcome",
            "hasObjects",
            "images",
            "traffic",
        ]
    );

    let o = env.run(&[
        "deploy",
        "github",
        "--image",
        "ghcr.io/acme/github-mcp:1.5.0",
        "--dry-run",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let plan = json(&o);
    assert_eq!(
        keys(&plan),
        [
            "schemaVersion",
            "operation",
            "server",
            "strategy",
            "from",
            "to",
            "steps",
            "then"
        ]
    );
    assert_eq!(plan["schemaVersion"], 1);
    assert_eq!(plan["operation"], "deploy");
    assert!(
        plan["steps"].as_array().is_some_and(|s| s.len() > 3),
        "{plan}"
    );
    let o = env.run(&[
        "deploy",
        "github",
        "--image",
        "ghcr.io/acme/github-mcp:1.5.0",
        "--dry-run",
        "-o",
        "yaml",
    ]);
    assert!(
        stdout(&o).starts_with("schemaVersion: 1\noperation: deploy\n"),
        "{}",
        out(&o)
    );
}

/// `render -o json` and `rbac -o json` print Kubernetes `List`s for kubectl,
/// not mcpctl documents: no `schemaVersion`, which kubectl would reject.
#[test]
fn kubernetes_lists_carry_no_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::repo_root().join("examples/fleet.yaml"),
        dir.path().join("mcpctl.yaml"),
    )
    .unwrap();
    for args in [["render", "-o", "json"], ["rbac", "-o", "json"]] {
        let o = mcpctl_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let v = json(&o);
        assert_eq!(keys(&v), ["apiVersion", "kind", "items"], "{args:?}");
        assert_eq!(v["kind"], "List");
    }
}
