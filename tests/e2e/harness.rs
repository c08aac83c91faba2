//! What later tiers rely on the control plane for: RBAC enforced for service-account tokens
//! (a real 403, then 200 once a Role allows it), and an audit log recording who did what.

use serde_json::json;

use test_cluster::{Cluster, raw};

#[test]
fn service_account_tokens_are_authorized_by_rbac_and_audited() {
    let cluster = Cluster::shared();
    let ns = cluster.namespace("rbac");
    let ns = ns.name();
    let a = cluster.request(
        "POST",
        &format!("/api/v1/namespaces/{ns}/serviceaccounts"),
        Some(&json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ci"}})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("ci.kubeconfig");
    cluster.write_service_account_kubeconfig(ns, "ci", &kubeconfig);
    let ci = cluster
        .block_on(test_cluster::client_for(&kubeconfig))
        .expect("a client");
    let list = format!("/api/v1/namespaces/{ns}/configmaps");
    let as_ci = || {
        cluster
            .block_on(raw::send(&ci, "GET", &list, "", None))
            .unwrap_or_else(|e| panic!("{e}"))
    };

    let denied = as_ci();
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.body["reason"], "Forbidden", "{}", denied.body);
    let user = format!("system:serviceaccount:{ns}:ci");
    assert!(
        denied.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&user),
        "{}",
        denied.body
    );

    let rbac = format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}");
    let a = cluster.request(
        "POST",
        &format!("{rbac}/roles"),
        Some(
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "read-configmaps"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]}),
        ),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let a = cluster.request(
        "POST",
        &format!("{rbac}/rolebindings"),
        Some(&json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "ci"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
            "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": ns}]})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    // RBAC reads bindings from an informer: allowed once it has seen them.
    cluster.wait_for(
        "the RoleBinding to take effect",
        std::time::Duration::from_secs(30),
        || {
            let a = as_ci();
            (a.status == 200)
                .then_some(())
                .ok_or(format!("{} {}", a.status, a.body))
        },
    );

    let audit = std::fs::read_to_string(cluster.audit_log()).expect("the audit log");
    let decisions: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains(&format!("\"username\":\"{user}\"")) && l.contains(&list))
        .filter_map(|l| {
            if l.contains("\"authorization.k8s.io/decision\":\"forbid\"") {
                Some("forbid")
            } else if l.contains("\"authorization.k8s.io/decision\":\"allow\"") {
                Some("allow")
            } else {
                None
            }
        })
        .collect();
    assert!(
        decisions.contains(&"forbid") && decisions.contains(&"allow"),
        "audit decisions for {user} on {list}: {decisions:?}"
    );
}
