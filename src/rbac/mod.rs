//! The least-privilege RBAC a CI identity needs to run mcpctl: a
//! ServiceAccount, a Role with exactly the rules mcpctl's requests need, and
//! a RoleBinding (or ClusterRole and ClusterRoleBinding with
//! `--cluster-wide`). The rules are data, so that a test can check every
//! request the suite makes against them, and that none goes unused.

use serde::Serialize;
use serde_json::{Value, json};

/// What the identity will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// apply, diff, deploy, rollback, reconcile, smoke, status, history.
    Deploy,
    /// diff, status, history, smoke.
    ReadOnly,
    /// certs status, init-ca, rotate, rollback.
    Certs,
}

/// One RBAC rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub group: &'static str,
    pub resources: &'static [&'static str],
    pub verbs: &'static [&'static str],
}

const R: &[&str] = &["get", "list"];
/// What apply, prune and delete do to a rendered object.
const MEMBER: &[&str] = &["get", "list", "create", "patch", "delete"];

/// The rules for `purpose`.
pub fn rules(purpose: Purpose) -> Vec<Rule> {
    let rule = |group, resources, verbs| Rule {
        group,
        resources,
        verbs,
    };
    match purpose {
        Purpose::ReadOnly => vec![
            // status, history, diff (dry runs are patches: a server-side dry
            // run needs the verb it simulates). `diff` lists the members of
            // the fleet's ApplySet, kind by kind, for what a prune would delete.
            rule("", &["configmaps", "services", "serviceaccounts"], R),
            rule("", &["secrets"], &["list"]),
            rule("", &["services/proxy"], &["create", "delete"]),
            rule("apps", &["deployments"], &["get", "list", "watch"]),
            rule("autoscaling", &["horizontalpodautoscalers"], &["list"]),
            rule("policy", &["poddisruptionbudgets"], &["list"]),
            rule("networking.k8s.io", &["networkpolicies"], &["list"]),
            rule(
                "monitoring.coreos.com",
                &["servicemonitors", "prometheusrules"],
                &["list"],
            ),
            rule("coordination.k8s.io", &["leases"], &["list"]),
            rule("networking.istio.io", &["virtualservices"], R),
            rule("networking.istio.io", &["destinationrules"], &["list"]),
            rule("gateway.networking.k8s.io", &["httproutes"], R),
        ],
        Purpose::Certs => vec![
            // The server and CA Secrets and their backups: listed (status, rotate), read
            // (init-ca, a restore), created (the CA, a first certificate, backups), replaced
            // in one write, and old backups deleted.
            rule(
                "",
                &["secrets"],
                &["get", "list", "create", "update", "delete"],
            ),
            // The journal: the in-flight operation and the recorded result.
            rule(
                "",
                &["configmaps"],
                &["get", "list", "create", "patch", "delete"],
            ),
            // The roll: the pod-template annotation, then a wait like kubectl's.
            rule("apps", &["deployments"], &["list", "watch", "patch"]),
            // The per-server lock.
            rule(
                "coordination.k8s.io",
                &["leases"],
                &["get", "create", "update", "delete"],
            ),
        ],
        // Every kind mcpctl renders: `list` finds the members of the fleet's
        // ApplySet (apply, diff, delete), `delete` prunes and uninstalls them.
        Purpose::Deploy => vec![
            // The journal (revisions and state records), the ApplySet's parent
            // and each server's ConfigMap.
            rule(
                "",
                &["configmaps"],
                &["get", "list", "create", "patch", "delete"],
            ),
            rule(
                "",
                &["services", "serviceaccounts"],
                &["get", "list", "create", "patch", "delete"],
            ),
            // status reads certificate expiry from TLS Secrets (it goes on without).
            rule("", &["secrets"], &["list"]),
            // The MCP smoke test, through the API server's service proxy.
            rule("", &["services/proxy"], &["create", "delete"]),
            rule(
                "apps",
                &["deployments"],
                &["get", "list", "watch", "create", "patch", "delete"],
            ),
            rule("autoscaling", &["horizontalpodautoscalers"], MEMBER),
            rule("policy", &["poddisruptionbudgets"], MEMBER),
            rule("networking.k8s.io", &["networkpolicies"], MEMBER),
            rule(
                "monitoring.coreos.com",
                &["servicemonitors", "prometheusrules"],
                MEMBER,
            ),
            rule(
                "networking.istio.io",
                &["virtualservices", "destinationrules"],
                MEMBER,
            ),
            rule("gateway.networking.k8s.io", &["httproutes"], MEMBER),
            // The per-server lock.
            rule(
                "coordination.k8s.io",
                &["leases"],
                &["get", "list", "create", "update", "delete"],
            ),
        ],
    }
}

/// Whether `rules` allow `verb` on `group`/`resource` (with `/subresource`).
pub fn allows(rules: &[Rule], verb: &str, group: &str, resource: &str) -> bool {
    rules
        .iter()
        .any(|r| r.group == group && r.resources.contains(&resource) && r.verbs.contains(&verb))
}

/// The objects to apply: ServiceAccount `name` in `ns`, its Role (or
/// ClusterRole) and binding.
pub fn objects(purpose: Purpose, ns: &str, name: &str, cluster_wide: bool) -> Vec<Value> {
    let (role_kind, binding_kind) = if cluster_wide {
        ("ClusterRole", "ClusterRoleBinding")
    } else {
        ("Role", "RoleBinding")
    };
    let labels = json!({"app.kubernetes.io/managed-by": "mcpctl", "app.kubernetes.io/component": "mcpctl-rbac"});
    let meta = |n: &str| {
        let mut m = json!({"name": n, "labels": labels});
        if !cluster_wide {
            m["namespace"] = json!(ns);
        }
        m
    };
    let rules: Vec<Value> = rules(purpose)
        .iter()
        .map(|r| json!({"apiGroups": [r.group], "resources": r.resources, "verbs": r.verbs}))
        .collect();
    vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": ns, "labels": labels}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
            "metadata": meta(name), "rules": rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind,
            "metadata": meta(name),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]}),
    ]
}

/// A request as RBAC sees it: verb, API group, resource (with
/// `/subresource`), from its method, path and query. `None` for
/// non-resource paths (discovery, `/version`), which every authenticated
/// user may read.
pub fn attributes(method: &str, path: &str, query: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", g, _v, rest @ ..] => (*g, rest),
        _ => return None,
    };
    let rest = match rest {
        ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    let (resource, name, sub) = match rest {
        [r] => (*r, None, None),
        [r, n] => (*r, Some(*n), None),
        [r, n, s, ..] => (*r, Some(*n), Some(*s)),
        _ => return None,
    };
    let watch = query.split('&').any(|kv| kv == "watch=true");
    let verb = match (method, name) {
        ("GET", _) if watch => "watch",
        ("GET", None) => "list",
        ("GET", Some(_)) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", None) => "deletecollection",
        ("DELETE", Some(_)) => "delete",
        // The service proxy maps other methods the same way.
        _ => "get",
    };
    // The service proxy authorizes the HTTP method's verb on services/proxy.
    let resource = match sub {
        Some(s) => format!("{resource}/{s}"),
        None => resource.to_string(),
    };
    Some((verb.into(), group.into(), resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_attributes_like_the_api_server() {
        let a = |m, p, q| attributes(m, p, q).map(|(v, g, r)| format!("{v} {g}/{r}"));
        assert_eq!(
            a(
                "GET",
                "/apis/apps/v1/namespaces/mcp/deployments",
                "watch=true&labelSelector=x"
            ),
            Some("watch apps/deployments".into())
        );
        assert_eq!(
            a(
                "PATCH",
                "/api/v1/namespaces/mcp/services/gh",
                "fieldManager=mcpctl"
            ),
            Some("patch /services".into())
        );
        assert_eq!(
            a(
                "POST",
                "/api/v1/namespaces/mcp/services/gh:8080/proxy/mcp",
                ""
            ),
            Some("create /services/proxy".into())
        );
        assert_eq!(
            a(
                "DELETE",
                "/apis/coordination.k8s.io/v1/namespaces/mcp/leases/x",
                ""
            ),
            Some("delete coordination.k8s.io/leases".into())
        );
        assert_eq!(a("GET", "/apis", ""), None);
        assert_eq!(a("GET", "/version", ""), None);
        assert_eq!(
            a("GET", "/api/v1/namespaces/mcp", ""),
            Some("get /namespaces".into())
        );
    }

    #[test]
    fn read_only_allows_no_write_but_the_smoke_proxy() {
        for r in rules(Purpose::ReadOnly) {
            for v in r.verbs {
                assert!(
                    ["get", "list", "watch"].contains(v) || r.resources == ["services/proxy"],
                    "{r:?}"
                );
            }
        }
        let objs = objects(Purpose::Deploy, "mcp", "ci", false);
        assert_eq!(objs[1]["kind"], "Role");
        assert_eq!(objs[2]["subjects"][0]["namespace"], "mcp");
        let objs = objects(Purpose::Deploy, "mcp", "ci", true);
        assert_eq!(objs[1]["kind"], "ClusterRole");
        assert!(objs[1]["metadata"].get("namespace").is_none());
    }
}
