//! Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), what
//! `kubectl get` asks for: the columns of the real server's printers for the kinds mcpctl
//! touches, `Name`/`Age` for the rest.

use crate::discovery::Resource;
use crate::util::{parse_rfc3339, unix_now};
use serde_json::{Value, json};

pub const TABLE_V1: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// Whether an Accept header prefers a Table (the first acceptable type decides).
pub fn wants_table(accept: Option<&str>) -> bool {
    let Some(a) = accept else { return false };
    for range in a.split(',') {
        let r = range.trim();
        if r.contains("as=Table") {
            if r.contains("g=meta.k8s.io")
                && (r.contains("v=v1;") || r.ends_with("v=v1") || r.contains("v=v1,"))
            {
                return true;
            }
            continue;
        }
        return false;
    }
    false
}

fn age(obj: &Value) -> String {
    let Some(t) = obj
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
    else {
        return "<unknown>".into();
    };
    let s = (unix_now() - t).max(0.0) as u64;
    match s {
        0..=119 => format!("{s}s"),
        120..=599 => format!("{}m{}s", s / 60, s % 60),
        600..=10_799 => format!("{}m", s / 60),
        10_800..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Column definitions from (name, type, priority) rows.
fn cols(spec: &[(&str, &str, u8)]) -> Vec<Value> {
    spec.iter()
        .map(|&(name, ty, priority)| {
            let format = if name == "Name" { "name" } else { "" };
            json!({"name": name, "type": ty, "format": format, "description": "", "priority": priority})
        })
        .collect()
}

/// The wide columns of kinds with a pod template (Deployment, ReplicaSet): the
/// printers of both lay them out the same way.
const POD_TEMPLATE_WIDE: [(&str, &str, u8); 3] = [
    ("Containers", "string", 1),
    ("Images", "string", 1),
    ("Selector", "string", 1),
];

/// Cells of [`POD_TEMPLATE_WIDE`]: container names, images, label selector.
fn pod_template_wide_cells(o: &Value) -> [Value; 3] {
    let (cn, ci) = containers(o, "/spec/template/spec/containers");
    [
        json!(cn),
        json!(ci),
        json!(crate::util::selector_string(&o["spec"]["selector"])),
    ]
}

/// How many keys the map at `o[key]` has (0 when there is none).
fn map_len(o: &Value, key: &str) -> usize {
    o.get(key).and_then(Value::as_object).map_or(0, |m| m.len())
}

fn n(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn containers(v: &Value, p: &str) -> (String, String) {
    let cs: Vec<&Value> = v
        .pointer(p)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let names: Vec<&str> = cs.iter().filter_map(|c| c["name"].as_str()).collect();
    let images: Vec<&str> = cs.iter().filter_map(|c| c["image"].as_str()).collect();
    (names.join(","), images.join(","))
}

fn columns_and_cells(res: &Resource, o: &Value) -> (Vec<Value>, Vec<Value>) {
    let name = json!(s(o, "/metadata/name"));
    match res.kind.as_str() {
        "Deployment" => (
            [
                cols(&[
                    ("Name", "string", 0),
                    ("Ready", "string", 0),
                    ("Up-to-date", "string", 0),
                    ("Available", "string", 0),
                    ("Age", "string", 0),
                ]),
                cols(&POD_TEMPLATE_WIDE),
            ]
            .concat(),
            [
                vec![
                    name,
                    json!(format!(
                        "{}/{}",
                        n(o, "/status/readyReplicas"),
                        n(o, "/spec/replicas")
                    )),
                    json!(n(o, "/status/updatedReplicas")),
                    json!(n(o, "/status/availableReplicas")),
                    json!(age(o)),
                ],
                pod_template_wide_cells(o).to_vec(),
            ]
            .concat(),
        ),
        "ReplicaSet" => (
            [
                cols(&[
                    ("Name", "string", 0),
                    ("Desired", "integer", 0),
                    ("Current", "integer", 0),
                    ("Ready", "integer", 0),
                    ("Age", "string", 0),
                ]),
                cols(&POD_TEMPLATE_WIDE),
            ]
            .concat(),
            [
                vec![
                    name,
                    json!(n(o, "/spec/replicas")),
                    json!(n(o, "/status/replicas")),
                    json!(n(o, "/status/readyReplicas")),
                    json!(age(o)),
                ],
                pod_template_wide_cells(o).to_vec(),
            ]
            .concat(),
        ),
        "Pod" => {
            let total = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map(Vec::len)
                .unwrap_or(0);
            let statuses: Vec<Value> = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ready = statuses.iter().filter(|c| c["ready"] == true).count();
            let restarts: i64 = statuses
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            let waiting = statuses.iter().find_map(|c| {
                c.pointer("/state/waiting/reason")
                    .and_then(Value::as_str)
                    .map(String::from)
            });
            let status = if o.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating".to_string()
            } else {
                waiting.unwrap_or_else(|| s(o, "/status/phase").to_string())
            };
            let ip = match s(o, "/status/podIP") {
                "" => "<none>",
                x => x,
            };
            let node = match s(o, "/spec/nodeName") {
                "" => "<none>",
                x => x,
            };
            (
                cols(&[
                    ("Name", "string", 0),
                    ("Ready", "string", 0),
                    ("Status", "string", 0),
                    ("Restarts", "string", 0),
                    ("Age", "string", 0),
                    ("IP", "string", 1),
                    ("Node", "string", 1),
                    ("Nominated Node", "string", 1),
                    ("Readiness Gates", "string", 1),
                ]),
                vec![
                    name,
                    json!(format!("{ready}/{total}")),
                    json!(status),
                    json!(restarts.to_string()),
                    json!(age(o)),
                    json!(ip),
                    json!(node),
                    json!("<none>"),
                    json!("<none>"),
                ],
            )
        }
        "Service" => {
            let ports: Vec<String> = o
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                .collect();
            let sel = o
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .map(|m| {
                    let mut v: Vec<String> = m
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect();
                    v.sort();
                    v.join(",")
                });
            (
                cols(&[
                    ("Name", "string", 0),
                    ("Type", "string", 0),
                    ("Cluster-IP", "string", 0),
                    ("External-IP", "string", 0),
                    ("Port(s)", "string", 0),
                    ("Age", "string", 0),
                    ("Selector", "string", 1),
                ]),
                vec![
                    name,
                    json!(s(o, "/spec/type")),
                    json!(s(o, "/spec/clusterIP")),
                    json!("<none>"),
                    json!(if ports.is_empty() {
                        "<none>".to_string()
                    } else {
                        ports.join(",")
                    }),
                    json!(age(o)),
                    json!(sel.unwrap_or_else(|| "<none>".into())),
                ],
            )
        }
        "ConfigMap" => (
            cols(&[
                ("Name", "string", 0),
                ("Data", "integer", 0),
                ("Age", "string", 0),
            ]),
            vec![
                name,
                json!(map_len(o, "data") + map_len(o, "binaryData")),
                json!(age(o)),
            ],
        ),
        "Secret" => (
            cols(&[
                ("Name", "string", 0),
                ("Type", "string", 0),
                ("Data", "string", 0),
                ("Age", "string", 0),
            ]),
            vec![
                name,
                json!(s(o, "/type")),
                json!(map_len(o, "data")),
                json!(age(o)),
            ],
        ),
        "Namespace" => (
            cols(&[
                ("Name", "string", 0),
                ("Status", "string", 0),
                ("Age", "string", 0),
            ]),
            vec![name, json!(s(o, "/status/phase")), json!(age(o))],
        ),
        "Lease" => (
            cols(&[
                ("Name", "string", 0),
                ("Holder", "string", 0),
                ("Age", "string", 0),
            ]),
            vec![name, json!(s(o, "/spec/holderIdentity")), json!(age(o))],
        ),
        _ => (
            cols(&[("Name", "string", 0), ("Age", "string", 0)]),
            vec![name, json!(age(o))],
        ),
    }
}

fn partial(o: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata").cloned().unwrap_or(Value::Null)})
}

/// A Table of one object or of the items of a list.
pub fn table(res: &Resource, body: &Value) -> Value {
    let items: Vec<Value> = match body.get("items").and_then(Value::as_array) {
        Some(items) => items.clone(),
        None => vec![body.clone()],
    };
    let mut columns = columns_and_cells(res, &json!({})).0;
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let (c, cells) = columns_and_cells(res, o);
            columns = c;
            json!({"cells": cells, "object": partial(o)})
        })
        .collect();
    let mut meta = json!({});
    if let Some(rv) = body
        .pointer("/metadata/resourceVersion")
        .filter(|_| body.get("items").is_some())
    {
        meta["resourceVersion"] = rv.clone();
    }
    if let Some(c) = body.pointer("/metadata/continue") {
        meta["continue"] = c.clone();
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns, "rows": rows})
}
