//! The stand-in (`tests/apiserver`) checked against the real API server: one sequence of
//! requests sent to both, answers compared after masking what differs between any two servers
//! by nature (uids, resourceVersions, timestamps, continue tokens). Covered: `/version`,
//! discovery (plain and aggregated, whole documents), server-
//! side apply create/no-op/conflict/force, merge/JSON/strategic patches, the Status bodies of
//! 404/409/415/422, Lease create/renew/stale update, watch, list with paging, the defaults and
//! managedFields of an applied Deployment and Service.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use test_cluster::raw;

/// What one request observed: the status code and the masked body.
#[derive(Debug, Clone, PartialEq)]
struct Observation {
    step: &'static str,
    status: u16,
    body: Value,
}

const VOLATILE: [&str; 6] = [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "time",
    "continue",
    "startTime",
];

/// `v` with the values of volatile keys replaced by `"<volatile>"`.
fn mask(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if VOLATILE.contains(&k.as_str()) && !v.is_null() {
                        json!("<volatile>")
                    } else {
                        mask(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(mask).collect()),
        v => v.clone(),
    }
}

/// The requests, each building on earlier answers the same way on both servers.
struct Script<'a> {
    client: &'a kube::Client,
    ns: String,
    seen: Vec<Observation>,
}

impl Script<'_> {
    async fn send(
        &mut self,
        step: &'static str,
        method: &str,
        path: &str,
        ct: &str,
        body: Option<Value>,
    ) -> raw::Answer {
        self.send_accepting(step, method, path, ct, JSON, body)
            .await
    }

    async fn send_accepting(
        &mut self,
        step: &'static str,
        method: &str,
        path: &str,
        ct: &str,
        accept: &str,
        body: Option<Value>,
    ) -> raw::Answer {
        let path = path.replace("{ns}", &self.ns);
        let a = raw::send_accepting(self.client, method, &path, ct, accept, body.as_ref())
            .await
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        self.seen.push(Observation {
            step,
            status: a.status,
            body: mask(&a.body),
        });
        a
    }

    /// Records a derived fact (a comparison between answers) as an observation of its own.
    fn fact(&mut self, step: &'static str, value: Value) {
        self.seen.push(Observation {
            step,
            status: 0,
            body: value,
        });
    }
}

const APPLY: &str = "application/apply-patch+yaml";
const JSON: &str = "application/json";
const CMS: &str = "/api/v1/namespaces/{ns}/configmaps";

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// An APIResourceList without the storage version hashes.
fn without_hashes(mut doc: Value) -> Value {
    for r in doc["resources"].as_array_mut().into_iter().flatten() {
        if let Some(m) = r.as_object_mut() {
            m.remove("storageVersionHash");
        }
    }
    doc
}

/// The resources of a discovery document named in `names`, with what clients rely on.
fn resources(doc: &Value, names: &[&str]) -> Value {
    let mut out = BTreeMap::new();
    for r in doc["resources"].as_array().into_iter().flatten() {
        let name = r["name"].as_str().unwrap_or_default();
        if names.contains(&name) {
            let mut verbs: Vec<&str> = r["verbs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .collect();
            verbs.sort();
            out.insert(
                name.to_string(),
                json!({"kind": r["kind"], "namespaced": r["namespaced"], "verbs": verbs,
                       "shortNames": r["shortNames"]}),
            );
        }
    }
    json!(out)
}

async fn run(client: &kube::Client, ns: &str) -> Vec<Observation> {
    let mut s = Script {
        client,
        ns: ns.to_string(),
        seen: Vec::new(),
    };

    // The version claimed (mcpctl renders for it): the same release, the same fields. The
    // build date and commit are the build's.
    let v = s.send("GET /version", "GET", "/version", "", None).await;
    s.seen.pop();
    let fields: Vec<&String> = v
        .body
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    s.fact(
        "/version",
        json!({"major": v.body["major"], "minor": v.body["minor"],
               "gitVersion": v.body["gitVersion"], "fields": fields}),
    );

    // Discovery documents whole (storageVersionHash aside: the stand-in stores no versions).
    let plain = s.send("GET /api", "GET", "/api", "", None).await;
    s.seen.pop();
    let mut plain = plain.body;
    plain["serverAddressByClientCIDRs"] = json!("<address>");
    s.fact("/api", plain);
    s.send("plain /apis", "GET", "/apis", "", None).await;
    for gv in ["/api/v1", "/apis/apps/v1", "/apis/coordination.k8s.io/v1"] {
        let a = s.send("resource list", "GET", gv, "", None).await;
        s.seen.pop();
        s.fact(
            "resource list without storageVersionHash",
            without_hashes(a.body),
        );
    }
    // Aggregated discovery: v2 is served (with its media type), v2beta1 alone is not.
    for root in ["/api", "/apis"] {
        let a = s
            .send_accepting("aggregated v2", "GET", root, "", AGGREGATED_V2, None)
            .await;
        s.fact(
            "aggregated v2 Content-Type",
            json!(a.headers.get("content-type").and_then(|v| v.to_str().ok())),
        );
    }
    s.send_accepting(
        "aggregated v2beta1 only",
        "GET",
        "/apis",
        "",
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
        None,
    )
    .await;

    let core = s.send("GET /api/v1", "GET", "/api/v1", "", None).await;
    let apps = s
        .send("GET /apis/apps/v1", "GET", "/apis/apps/v1", "", None)
        .await;
    let coord = s
        .send(
            "GET /apis/coordination.k8s.io/v1",
            "GET",
            "/apis/coordination.k8s.io/v1",
            "",
            None,
        )
        .await;
    s.seen.retain(|o| !o.step.starts_with("GET /api"));
    let core_names = [
        "configmaps",
        "secrets",
        "services",
        "serviceaccounts",
        "pods",
        "pods/status",
        "namespaces",
        "events",
    ];
    s.fact("core v1 resources", resources(&core.body, &core_names));
    s.fact(
        "apps/v1 resources",
        resources(
            &apps.body,
            &[
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
            ],
        ),
    );
    s.fact(
        "coordination/v1 resources",
        resources(&coord.body, &["leases"]),
    );

    // Server-side apply: create, no-op, conflict, force.
    let url = format!("{CMS}/diff-ssa?fieldManager=alpha");
    let created = s
        .send(
            "apply create",
            "PATCH",
            &url,
            APPLY,
            Some(cm("diff-ssa", json!({"a": "1"}))),
        )
        .await;
    let noop = s
        .send(
            "apply no-op",
            "PATCH",
            &url,
            APPLY,
            Some(cm("diff-ssa", json!({"a": "1"}))),
        )
        .await;
    s.fact(
        "apply no-op keeps the resourceVersion",
        json!(
            created.body["metadata"]["resourceVersion"] == noop.body["metadata"]["resourceVersion"]
        ),
    );
    let beta = format!("{CMS}/diff-ssa?fieldManager=beta");
    s.send(
        "apply conflict",
        "PATCH",
        &beta,
        APPLY,
        Some(cm("diff-ssa", json!({"a": "2"}))),
    )
    .await;
    s.send(
        "apply force",
        "PATCH",
        &format!("{beta}&force=true"),
        APPLY,
        Some(cm("diff-ssa", json!({"a": "2"}))),
    )
    .await;
    let mut unknown = cm("diff-ssa", json!({"a": "2"}));
    unknown["spec"] = json!({"replicas": 1});
    s.send(
        "apply with an unknown field",
        "PATCH",
        &beta,
        APPLY,
        Some(unknown),
    )
    .await;

    // Patches.
    let one = format!("{CMS}/diff-ssa");
    s.send(
        "merge patch",
        "PATCH",
        &one,
        "application/merge-patch+json",
        Some(json!({"data": {"b": "2"}})),
    )
    .await;
    s.send(
        "merge patch with a stale resourceVersion",
        "PATCH",
        &one,
        "application/merge-patch+json",
        Some(json!({"metadata": {"resourceVersion": created.body["metadata"]["resourceVersion"]}, "data": {"c": "3"}})),
    )
    .await;
    s.send(
        "JSON patch whose test fails",
        "PATCH",
        &one,
        "application/json-patch+json",
        Some(json!([{"op": "test", "path": "/data/a", "value": "nope"}, {"op": "add", "path": "/data/e", "value": "5"}])),
    )
    .await;
    s.send(
        "JSON patch",
        "PATCH",
        &one,
        "application/json-patch+json",
        Some(json!([{"op": "add", "path": "/data/e", "value": "5"}])),
    )
    .await;
    s.send(
        "strategic merge patch",
        "PATCH",
        &one,
        "application/strategic-merge-patch+json",
        Some(json!({"data": {"d": "4"}})),
    )
    .await;
    let vs = "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices";
    s.send(
        "create a custom resource",
        "POST",
        vs,
        JSON,
        Some(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "diff-vs"}, "spec": {"hosts": ["diff.example"]}}),
        ),
    )
    .await;
    s.send(
        "strategic merge patch of a custom resource",
        "PATCH",
        &format!("{vs}/diff-vs"),
        "application/strategic-merge-patch+json",
        Some(json!({"spec": {"hosts": ["other.example"]}})),
    )
    .await;

    // Status bodies.
    s.send(
        "get a missing object",
        "GET",
        &format!("{CMS}/absent"),
        "",
        None,
    )
    .await;
    s.send(
        "create an existing object",
        "POST",
        CMS,
        JSON,
        Some(cm("diff-ssa", json!({}))),
    )
    .await;
    s.send(
        "create with an invalid name",
        "POST",
        CMS,
        JSON,
        Some(cm("Bad_Name", json!({}))),
    )
    .await;

    // Leases: create, renew, stale update.
    let leases = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases";
    let lease = |rv: &Value, renew: &str| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "diff-lease", "resourceVersion": rv},
            "spec": {"holderIdentity": "alpha", "leaseDurationSeconds": 15,
                "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": renew}})
    };
    let mut body = lease(&Value::Null, "2026-01-01T00:00:00.000000Z");
    body["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    let l = s
        .send("lease create", "POST", leases, JSON, Some(body))
        .await;
    let rv = l.body["metadata"]["resourceVersion"].clone();
    let one = format!("{leases}/diff-lease");
    s.send(
        "lease renew",
        "PUT",
        &one,
        JSON,
        Some(lease(&rv, "2026-01-01T00:00:05.000000Z")),
    )
    .await;
    s.send(
        "lease stale update",
        "PUT",
        &one,
        JSON,
        Some(lease(&rv, "2026-01-01T00:00:10.000000Z")),
    )
    .await;

    // List with paging (a label keeps out what the server itself puts in a namespace).
    for i in 0..3 {
        let mut c = cm(&format!("diff-page-{i}"), json!({"i": i.to_string()}));
        c["metadata"]["labels"] = json!({"diff": "page"});
        s.send("create for paging", "POST", CMS, JSON, Some(c))
            .await;
    }
    let first = s
        .send(
            "list page 1",
            "GET",
            &format!("{CMS}?labelSelector=diff%3Dpage&limit=2"),
            "",
            None,
        )
        .await;
    let token = first.body["metadata"]["continue"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    s.fact("list page 1 has a continue token", json!(!token.is_empty()));
    s.send(
        "list page 2",
        "GET",
        &format!("{CMS}?labelSelector=diff%3Dpage&limit=2&continue={token}"),
        "",
        None,
    )
    .await;

    // Watch from a list's resourceVersion: the change made after the list comes as ADDED, the
    // one outside the label selector does not come at all.
    let list = s
        .send(
            "list before watch",
            "GET",
            &format!("{CMS}?labelSelector=diff%3Dwatch"),
            "",
            None,
        )
        .await;
    let rv = list.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut c = cm("diff-watch", json!({}));
    c["metadata"]["labels"] = json!({"diff": "watch"});
    s.send("create for watch", "POST", CMS, JSON, Some(c)).await;
    // A change outside the watch's selector: the bookmark carries its resourceVersion.
    s.send(
        "create outside the watch",
        "POST",
        CMS,
        JSON,
        Some(cm("diff-unwatched", json!({}))),
    )
    .await;
    let w = raw::send(
        client,
        "GET",
        &format!(
            "{}?labelSelector=diff%3Dwatch&watch=1&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=3",
            CMS.replace("{ns}", ns)
        ),
        "",
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("watch: {e}"));
    let text = match &w.body {
        Value::String(t) => t.clone(),
        v => v.to_string(),
    };
    let events: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| json!({"unparsed": l})))
        // Bookmarks are left out: in a watch of a few seconds the real server sent none (its
        // first comes near the watch's end or after a minute), the stand-in one a second.
        .filter(|e| e["type"] != "BOOKMARK")
        .map(|e| mask(&e))
        .collect();
    s.fact(
        "watch events",
        json!({"status": w.status, "events": events}),
    );

    // A Deployment and a Service shaped like mcpctl's, applied: the defaults the server fills
    // in, generation and managedFields (the 1.30+ `preStop.sleep` must be accepted).
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "diff-mcp", "labels": {"app.kubernetes.io/name": "diff-mcp"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "diff-mcp"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "diff-mcp"}},
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{
                        "name": "mcp", "image": "registry.example/mcp:1.0",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "env": [{"name": "MCP_PORT", "value": "8080"}],
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        "securityContext": {"runAsNonRoot": true, "readOnlyRootFilesystem": true}
                    }]
                }
            }
        }
    });
    s.send(
        "apply a Deployment",
        "PATCH",
        "/apis/apps/v1/namespaces/{ns}/deployments/diff-mcp?fieldManager=mcpctl",
        APPLY,
        Some(deployment),
    )
    .await;
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "diff-mcp"},
        "spec": {"selector": {"app.kubernetes.io/name": "diff-mcp"},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    });
    let svc = s
        .send(
            "apply a Service",
            "PATCH",
            "/api/v1/namespaces/{ns}/services/diff-mcp?fieldManager=mcpctl",
            APPLY,
            Some(service),
        )
        .await;
    // Cluster IPs come from each server's own range.
    s.seen.pop();
    let mut svc_body = mask(&svc.body);
    svc_body["spec"]["clusterIP"] = json!("<address>");
    svc_body["spec"]["clusterIPs"] = json!(["<address>"]);
    s.fact(
        "apply a Service (cluster IPs masked)",
        json!({"status": svc.status, "body": svc_body}),
    );
    s.seen
}

/// Prints the observations that differ, one block each.
fn differences(real: &[Observation], stand_in: &[Observation]) -> Vec<String> {
    let mut out = Vec::new();
    for (r, s) in real.iter().zip(stand_in) {
        if r != s {
            out.push(format!(
                "{}:\n  real {}     {:#}\n  stand-in {} {:#}",
                r.step, r.status, r.body, s.status, s.body
            ));
        }
    }
    if real.len() != stand_in.len() {
        out.push(format!(
            "{} observations from the real server, {} from the stand-in",
            real.len(),
            stand_in.len()
        ));
    }
    out
}

#[test]
fn the_stand_in_answers_like_the_real_api_server() {
    let cluster = test_cluster::Cluster::shared();
    let ns = cluster.namespace("diff");
    let version = cluster.get("/version").expect("/version");
    assert_eq!(
        version["gitVersion"],
        format!("v{}", test_cluster::KUBE_VERSION),
        "the control plane is not the release the comparison claims"
    );
    let real = cluster.block_on(run(&cluster.client(), ns.name()));

    let stand_in = test_apiserver::ApiServer::builder()
        .crds_from_dir(test_apiserver::bundled_crds_dir())
        .start_blocking();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    stand_in.write_kubeconfig(&kubeconfig, "stand-in", "default");
    let fake = cluster.block_on(async {
        let client = test_cluster::client_for(&kubeconfig)
            .await
            .expect("a client");
        let a = raw::send(
            &client,
            "POST",
            "/api/v1/namespaces",
            JSON,
            Some(
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns.name()}}),
            ),
        )
        .await
        .expect("create the namespace");
        assert_eq!(a.status, 201, "{}", a.body);
        run(&client, ns.name()).await
    });

    let diffs = differences(&real, &fake);
    assert!(
        diffs.is_empty(),
        "the stand-in answers {} request(s) unlike kube-apiserver v{}:\n\n{}",
        diffs.len(),
        test_cluster::KUBE_VERSION,
        diffs.join("\n\n")
    );
}
