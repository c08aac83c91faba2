//! `mcpctl rbac --for deploy` is exactly what mcpctl needs: a scenario of
//! every command against the test API server (apply, diff, status, history,
//! deploy with the MCP gates, rollback, reconcile, smoke, a lock taken over,
//! revisions pruned, delete) must make only requests the rendered rules allow, and
//! every rule must be used by one of them.

use std::collections::BTreeSet;

use mcp_fixture::{Era, McpFixture};
use serde_json::json;

use crate::cluster_support::{Env, NS, out};
use crate::support::repo_root;

#[test]
fn every_request_is_allowed_and_every_rule_is_used() {
    let fixture = McpFixture::builder()
        .era(Era::Legacy)
        .tools_json(json!([{"name": "query", "inputSchema": {"type": "object"}}]))
        .start_blocking();
    let url = format!("http://127.0.0.1:{}", fixture.port());
    let env = Env::start_with(|b| {
        b.proxy_service(NS, "postgres", 8080, &url).proxy_service(
            NS,
            "postgres-preview",
            8080,
            &url,
        )
    });
    // The namespace exists before an identity can be bound in it.
    env.srv
        .put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}));
    // An expired lock of a dead job, taken over by the first apply (an update).
    env.srv.put_object(json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "mcpctl-lock-postgres", "namespace": NS,
            "labels": {"mcpctl.io/record": "lock", "mcpctl.io/fleet": "acme-tools"}},
        "spec": {"holderIdentity": "ci:dead/1", "leaseDurationSeconds": 30,
            "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": "2026-01-01T00:00:00.000000Z"}}));
    let fleet = repo_root().join("examples/fleet.yaml");
    let fleet = fleet.to_str().unwrap();
    let run = |args: &[&str], codes: &[i32]| {
        let mut a = vec!["-f", fleet];
        a.extend_from_slice(args);
        let o = env.run(&a);
        assert!(
            o.status.code().is_some_and(|c| codes.contains(&c)),
            "mcpctl {}: {}",
            args.join(" "),
            out(&o)
        );
    };
    run(&["apply", "--wait"], &[0]);
    run(&["diff"], &[0]);
    run(&["status"], &[0]);
    run(&["smoke", "postgres"], &[0]);
    // Deploys and rollbacks enough to prune the oldest revisions.
    for i in 1..=6 {
        let image = format!("ghcr.io/acme/pg-mcp:0.9.{i}");
        run(
            &[
                "deploy",
                "postgres",
                "--image",
                &image,
                "--scale-down-delay",
                "0s",
            ],
            &[0],
        );
        run(&["rollback", "postgres"], &[0]);
    }
    run(
        &[
            "deploy",
            "postgres",
            "--image",
            "ghcr.io/acme/pg-mcp:1.0.0",
            "--scale-down-delay",
            "0s",
        ],
        &[0],
    );
    run(&["reconcile"], &[0]);
    run(&["history", "postgres"], &[0]);
    run(
        &[
            "deploy",
            "filesystem",
            "--image",
            "registry.acme.example:5000/mcp/filesystem:2.0",
            "--no-smoke",
        ],
        &[0],
    );
    run(&["rollback", "filesystem", "--no-smoke"], &[0]);
    // Uninstall: every kind the fleet renders is deleted by set membership.
    run(&["delete", "--all", "--yes"], &[0]);

    assert_exactly_needed(
        &mcpctl::rbac::rules(mcpctl::rbac::Purpose::Deploy),
        &env.srv.requests(),
    );
}

/// Every request is allowed by `rules` and every rule is used by one.
pub fn assert_exactly_needed(
    rules: &[mcpctl::rbac::Rule],
    requests: &[test_apiserver::RequestRecord],
) {
    let mut used = BTreeSet::new();
    let mut denied = Vec::new();
    for r in requests {
        let Some((verb, group, resource)) = mcpctl::rbac::attributes(&r.method, &r.path, &r.query)
        else {
            continue; // discovery and /version: every authenticated user may read them
        };
        // A namespace is cluster-scoped: mcpctl reads it, and takes a 403 as "it exists".
        if (verb.as_str(), resource.as_str()) == ("get", "namespaces") {
            continue;
        }
        let mut verbs = vec![verb];
        // A server-side apply that creates the object needs `create` too.
        if r.method == "PATCH" && r.status == 201 {
            verbs.push("create".into());
        }
        for v in verbs {
            if !mcpctl::rbac::allows(rules, &v, &group, &resource) {
                denied.push(format!("{v} {group}/{resource} ({} {})", r.method, r.path));
            }
            used.insert((group.clone(), resource.clone(), v));
        }
    }
    assert!(
        denied.is_empty(),
        "requests the rules do not allow:\n{}",
        denied.join("\n")
    );
    let mut unused = Vec::new();
    for rule in rules {
        for res in rule.resources {
            for v in rule.verbs {
                if !used.contains(&(rule.group.to_string(), res.to_string(), v.to_string())) {
                    unused.push(format!("{v} {}/{res}", rule.group));
                }
            }
        }
    }
    assert!(
        unused.is_empty(),
        "rules no request used:\n{}",
        unused.join("\n")
    );
}
