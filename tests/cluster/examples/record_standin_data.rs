//! Records the version-specific data of the API server stand-in (`tests/apiserver/data/`) from
//! the real control plane of this crate (Kubernetes `test_cluster::KUBE_VERSION`):
//!
//! - `version.json`: the `/version` answer;
//! - `discovery-apis.json`, `discovery-api.json`: aggregated discovery (`apidiscovery.k8s.io/v2`)
//!   of `/apis` and `/api`, without the groups of the CRDs the harness installs (the stand-in
//!   adds those from the CRDs a test registers);
//! - `builtin-schemas.json`: the `/openapi/v3` schemas of the built-in kinds in `ROOTS` and
//!   everything they reference, reduced to the vocabulary the stand-in reads (see `reduce`).
//!
//! Run from the workspace root: `cargo run -p test-cluster --example record_standin_data`
//! (it starts the control plane, so it needs the binaries `tests/cluster/build.sh` makes).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use test_cluster::{Cluster, KUBE_VERSION};

/// The kinds the stand-in types (group/version/Kind); other kinds are stored untyped.
const ROOTS: &[&str] = &[
    "v1/Namespace",
    "v1/ServiceAccount",
    "v1/ConfigMap",
    "v1/Secret",
    "v1/Service",
    "v1/Pod",
    "v1/Endpoints",
    "apps/v1/Deployment",
    "apps/v1/ReplicaSet",
    "apps/v1/StatefulSet",
    "apps/v1/DaemonSet",
    "autoscaling/v1/Scale",
    "autoscaling/v2/HorizontalPodAutoscaler",
    "policy/v1/PodDisruptionBudget",
    "networking.k8s.io/v1/NetworkPolicy",
    "networking.k8s.io/v1/Ingress",
    "coordination.k8s.io/v1/Lease",
    "rbac.authorization.k8s.io/v1/Role",
    "rbac.authorization.k8s.io/v1/RoleBinding",
    "rbac.authorization.k8s.io/v1/ClusterRole",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
    "batch/v1/Job",
    "batch/v1/CronJob",
];

const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const REF_PREFIX: &str = "#/components/schemas/";

fn main() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../apiserver/data");
    let cluster = Cluster::shared();
    let get = |path: &str, accept: &str| -> Value {
        let req = http::Request::builder()
            .uri(path)
            .header("accept", accept)
            .body(kube::client::Body::from(Vec::new()))
            .expect("request");
        cluster.block_on(async {
            let resp = cluster
                .client()
                .send(req)
                .await
                .unwrap_or_else(|e| panic!("GET {path}: {e}"));
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .unwrap_or_else(|e| panic!("GET {path}: reading the answer: {e}"))
                .to_bytes();
            assert!(
                status.is_success(),
                "GET {path} ({accept}): {status} {}",
                String::from_utf8_lossy(&bytes)
            );
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("GET {path}: the answer is not JSON: {e}"))
        })
    };

    let version = get("/version", "application/json");
    assert_eq!(
        version["gitVersion"],
        format!("v{KUBE_VERSION}"),
        "the control plane reports another version than test_cluster::KUBE_VERSION"
    );
    write(&out.join("version.json"), &version);

    // Groups served by CRDs are the stand-in's business (it serves the CRDs a test registers).
    let crds = get(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "application/json",
    );
    let crd_groups: BTreeSet<&str> = crds["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["spec"]["group"].as_str())
        .collect();
    for (root, name) in [
        ("/apis", "discovery-apis.json"),
        ("/api", "discovery-api.json"),
    ] {
        let mut doc = get(root, AGGREGATED_V2);
        if let Some(items) = doc["items"].as_array_mut() {
            items.retain(|g| !crd_groups.contains(g["metadata"]["name"].as_str().unwrap_or("")));
        }
        write(&out.join(name), &doc);
    }

    // Built-in schemas: every group version of ROOTS, then what the roots reach.
    let mut schemas = Map::new();
    let gvs: BTreeSet<&str> = ROOTS
        .iter()
        .map(|r| r.rsplit_once('/').unwrap().0)
        .collect();
    for gv in gvs {
        let path = if gv.contains('/') {
            format!("/openapi/v3/apis/{gv}")
        } else {
            format!("/openapi/v3/api/{gv}")
        };
        let doc = get(&path, "application/json");
        let defs = doc["components"]["schemas"]
            .as_object()
            .unwrap_or_else(|| panic!("{path} has no components.schemas"));
        schemas.extend(defs.clone());
    }
    let mut roots = BTreeMap::new();
    for root in ROOTS {
        let (gv, kind) = root.rsplit_once('/').unwrap();
        let (group, version) = gv.rsplit_once('/').unwrap_or(("", gv));
        let name = schemas
            .iter()
            .find(|(_, s)| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|g| g["group"] == group && g["version"] == version && g["kind"] == kind)
            })
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| panic!("no /openapi/v3 schema for {root}"));
        roots.insert(root.to_string(), name);
    }
    let mut definitions = BTreeMap::new();
    let mut todo: Vec<String> = roots.values().cloned().collect();
    while let Some(name) = todo.pop() {
        if definitions.contains_key(&name) {
            continue;
        }
        let schema = schemas
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is referenced but not defined"));
        let reduced = reduce(schema, &schemas, &mut todo);
        definitions.insert(name, reduced);
    }
    write(
        &out.join("builtin-schemas.json"),
        &json!({"kubernetesVersion": version["gitVersion"], "roots": roots, "definitions": definitions}),
    );
    println!(
        "wrote version.json, discovery-apis.json, discovery-api.json and builtin-schemas.json ({} definitions) of {} to {}",
        definitions.len(),
        version["gitVersion"],
        out.display()
    );
}

/// A schema in the stand-in's vocabulary: `type`, `properties`, `items`,
/// `additionalProperties`, `$ref` (a definition name), the structural-merge markers
/// (`x-kubernetes-list-type`, `-list-map-keys`, `-map-type`), and two of the stand-in's own:
/// `x-kubernetes-int-or-string` for a scalar that may be a number or a string (IntOrString,
/// Quantity: `oneOf` of scalar types) and `x-key-defaults` (the `default`s of a list map's
/// keys, which structured-merge-diff fills in before comparing keys). An object with neither
/// properties nor additionalProperties (FieldsV1, RawExtension) holds anything: `{}`.
/// Descriptions, formats, enums, `required` and the like are left out; `name`s of the
/// definitions it references are pushed onto `todo`.
fn reduce(s: &Value, schemas: &Map<String, Value>, todo: &mut Vec<String>) -> Value {
    // `allOf: [{$ref}]` is how OpenAPI v3 attaches a description or default to a reference.
    if let Some([only]) = s.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return reduce(only, schemas, todo);
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix(REF_PREFIX).unwrap_or(r).to_string();
        todo.push(name.clone());
        return json!({"$ref": name});
    }
    if let Some(options) = s.get("oneOf").and_then(Value::as_array) {
        let scalar =
            |o: &Value| matches!(o["type"].as_str(), Some("integer" | "number" | "string"));
        assert!(options.iter().all(scalar), "unexpected oneOf: {s}");
        return json!({"x-kubernetes-int-or-string": true});
    }
    let mut out = Map::new();
    if let Some(t) = s.get("type") {
        out.insert("type".into(), t.clone());
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        let props: Map<String, Value> = props
            .iter()
            .map(|(k, v)| (k.clone(), reduce(v, schemas, todo)))
            .collect();
        out.insert("properties".into(), Value::Object(props));
    }
    if let Some(items) = s.get("items") {
        out.insert("items".into(), reduce(items, schemas, todo));
    }
    if let Some(ap) = s.get("additionalProperties") {
        let ap = match ap {
            Value::Bool(_) => ap.clone(),
            _ => reduce(ap, schemas, todo),
        };
        out.insert("additionalProperties".into(), ap);
    }
    if out.get("type") == Some(&json!("object"))
        && !out.contains_key("properties")
        && !out.contains_key("additionalProperties")
    {
        return json!({});
    }
    for marker in [
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
    ] {
        if let Some(m) = s.get(marker) {
            out.insert(marker.into(), m.clone());
        }
    }
    if let Some(keys) = s
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
    {
        let item = item_schema(&s["items"], schemas);
        let defaults: Map<String, Value> = keys
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|k| Some((k.to_string(), item["properties"][k].get("default")?.clone())))
            .collect();
        if !defaults.is_empty() {
            out.insert("x-key-defaults".into(), Value::Object(defaults));
        }
    }
    Value::Object(out)
}

/// The definition a list's `items` refers to.
fn item_schema<'a>(items: &'a Value, schemas: &'a Map<String, Value>) -> &'a Value {
    let r = items
        .get("$ref")
        .or_else(|| items["allOf"][0].get("$ref"))
        .and_then(Value::as_str);
    match r {
        Some(r) => &schemas[r.strip_prefix(REF_PREFIX).unwrap_or(r)],
        None => items,
    }
}

fn write(path: &std::path::Path, v: &Value) {
    let mut text = serde_json::to_string_pretty(v).expect("JSON");
    text.push('\n');
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
