//! The resource table and the discovery documents built from it.
//!
//! Built-in groups come from the aggregated discovery of the real server the stand-in is checked
//! against (`data/discovery-apis.json`, `data/discovery-api.json`, recorded from v1.37.2 by
//! `tests/cluster/examples/record_standin_data.rs`); custom resources come from CRD files. The unaggregated documents
//! (`/api`, `/apis`, `/apis/{group}`, `/apis/{group}/{version}`) are generated from the same
//! table, so every form of discovery agrees.
//!
//! Aggregated discovery (KEP-3352): "the client sends
//! `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`" and the
//! server answers that media type; a client that accepts nothing the server serves gets 406.
//! v1.37.2 serves v2 only: asking only for v2beta1 gets 406 (as asking only for v2 did from
//! v1.28.7, transcript 09).

use crate::schema::Crd;
use serde_json::{Value, json};
use std::sync::Arc;

/// The `/version` answer of the real server the stand-in is checked against: the version it
/// claims (mcpctl renders for the version a server reports).
pub fn version() -> &'static Value {
    static VERSION: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        serde_json::from_str(include_str!("../data/version.json")).expect("data/version.json")
    })
}

/// Aggregated `/apis` of the real server without the groups of CRDs (those come from the CRDs
/// this server was given).
const RECORDED_APIS: &str = include_str!("../data/discovery-apis.json");
/// Aggregated `/api` of the real server.
const RECORDED_CORE: &str = include_str!("../data/discovery-api.json");

#[derive(Debug, Clone)]
pub struct Subresource {
    pub name: String,
    pub kind: String,
    pub group: String,
    pub version: String,
    pub verbs: Vec<String>,
}

/// One resource of one group version.
#[derive(Debug)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Vec<Subresource>,
    /// For custom resources: the version's openAPIV3Schema.
    pub crd_schema: Option<Value>,
    /// The CRD uses CEL rules somewhere (changes how the server words schema errors).
    pub crd_has_rules: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn is_crd(&self) -> bool {
        self.crd_schema.is_some()
    }

    pub fn has_sub(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.name == name)
    }

    /// The status of these objects is written only through /status (registry strategies reset
    /// it on main-resource writes).
    pub fn has_status(&self) -> bool {
        self.has_sub("status")
    }

    pub fn target<'a>(&'a self, name: &'a str) -> crate::status::Target<'a> {
        crate::status::Target {
            group: &self.group,
            resource: &self.plural,
            kind: &self.kind,
            name,
        }
    }
}

/// Groups in the order discovery lists them; each with versions in preference order.
#[derive(Debug, Default)]
pub struct Registry {
    pub groups: Vec<(String, Vec<String>)>,
    pub resources: Vec<Arc<Resource>>,
    recorded_apis: Value,
    recorded_core: Value,
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn version_priority(v: &str) -> (u8, u32, u32) {
    // Kubernetes version ordering: GA > beta > alpha, then by numbers (v1 > v1beta1 > v1alpha3).
    let rest = v.trim_start_matches('v');
    let (major, tail) = rest.split_at(
        rest.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len()),
    );
    let major: u32 = major.parse().unwrap_or(0);
    if tail.is_empty() {
        (3, major, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, major, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, major, n.parse().unwrap_or(0))
    } else {
        (0, major, 0)
    }
}

fn has_rules(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("x-kubernetes-validations") || m.values().any(has_rules),
        Value::Array(a) => a.iter().any(has_rules),
        _ => false,
    }
}

/// The groups of a recorded aggregated discovery document.
fn recorded_groups(doc: &Value) -> Vec<Value> {
    doc["items"].as_array().cloned().unwrap_or_default()
}

impl Registry {
    pub fn new(crds: &[Crd], crd_docs: &[Value]) -> Registry {
        let apis: Value = serde_json::from_str(RECORDED_APIS).expect("data/discovery-apis.json");
        let core: Value = serde_json::from_str(RECORDED_CORE).expect("data/discovery-api.json");
        let mut reg = Registry {
            recorded_apis: apis.clone(),
            recorded_core: core.clone(),
            ..Default::default()
        };
        let mut items = recorded_groups(&core);
        items.extend(recorded_groups(&apis));
        for it in &items {
            let group = it["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut versions = Vec::new();
            for v in it["versions"].as_array().into_iter().flatten() {
                let version = v["version"].as_str().unwrap_or_default().to_string();
                versions.push(version.clone());
                for r in v["resources"].as_array().into_iter().flatten() {
                    let subresources = r["subresources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| Subresource {
                            name: s["subresource"].as_str().unwrap_or_default().into(),
                            kind: s["responseKind"]["kind"]
                                .as_str()
                                .unwrap_or_default()
                                .into(),
                            group: s["responseKind"]["group"]
                                .as_str()
                                .unwrap_or_default()
                                .into(),
                            version: s["responseKind"]["version"]
                                .as_str()
                                .unwrap_or_default()
                                .into(),
                            verbs: strs(s.get("verbs")),
                        })
                        .collect();
                    reg.resources.push(Arc::new(Resource {
                        group: group.clone(),
                        version: version.clone(),
                        plural: r["resource"].as_str().unwrap_or_default().into(),
                        singular: r["singularResource"].as_str().unwrap_or_default().into(),
                        kind: r["responseKind"]["kind"]
                            .as_str()
                            .unwrap_or_default()
                            .into(),
                        namespaced: r["scope"] == "Namespaced",
                        verbs: strs(r.get("verbs")),
                        short_names: strs(r.get("shortNames")),
                        categories: strs(r.get("categories")),
                        subresources,
                        crd_schema: None,
                        crd_has_rules: false,
                    }));
                }
            }
            reg.groups.push((group, versions));
        }
        // Custom resources: groups sorted by name after the built-in ones (transcript 03).
        let mut crd_groups: Vec<String> = crds.iter().map(|c| c.group.clone()).collect();
        crd_groups.sort();
        crd_groups.dedup();
        for g in crd_groups {
            let mut versions: Vec<String> = Vec::new();
            let mut of_group: Vec<(&Crd, &Value)> = crds
                .iter()
                .zip(crd_docs.iter())
                .filter(|(c, _)| c.group == g)
                .collect();
            of_group.sort_by(|a, b| a.0.plural.cmp(&b.0.plural));
            for (crd, doc) in &of_group {
                for (i, v) in crd.versions.iter().enumerate() {
                    if !v.served {
                        continue;
                    }
                    if !versions.contains(&v.name) {
                        versions.push(v.name.clone());
                    }
                    let vdoc = &doc["spec"]["versions"][i];
                    let mut subresources = Vec::new();
                    let subs = vdoc
                        .get("subresources")
                        .or_else(|| doc["spec"].get("subresources"));
                    if subs.and_then(|s| s.get("status")).is_some() {
                        subresources.push(Subresource {
                            name: "status".into(),
                            kind: crd.kind.clone(),
                            group: g.clone(),
                            version: v.name.clone(),
                            verbs: vec!["get".into(), "patch".into(), "update".into()],
                        });
                    }
                    if subs.and_then(|s| s.get("scale")).is_some() {
                        subresources.push(Subresource {
                            name: "scale".into(),
                            kind: "Scale".into(),
                            group: "autoscaling".into(),
                            version: "v1".into(),
                            verbs: vec!["get".into(), "patch".into(), "update".into()],
                        });
                    }
                    let schema = if v.schema.is_null() {
                        json!({"x-kubernetes-preserve-unknown-fields": true})
                    } else {
                        v.schema.clone()
                    };
                    reg.resources.push(Arc::new(Resource {
                        group: g.clone(),
                        version: v.name.clone(),
                        plural: crd.plural.clone(),
                        singular: if crd.singular.is_empty() {
                            crd.kind.to_lowercase()
                        } else {
                            crd.singular.clone()
                        },
                        kind: crd.kind.clone(),
                        namespaced: crd.scope != "Cluster",
                        verbs: [
                            "delete",
                            "deletecollection",
                            "get",
                            "list",
                            "patch",
                            "create",
                            "update",
                            "watch",
                        ]
                        .map(String::from)
                        .to_vec(),
                        short_names: crd.short_names.clone(),
                        categories: strs(doc.pointer("/spec/names/categories")),
                        subresources,
                        crd_has_rules: has_rules(&schema),
                        crd_schema: Some(schema),
                    }));
                }
            }
            versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
            reg.groups.push((g, versions));
        }
        reg
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<Resource>> {
        let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
        self.resources
            .iter()
            .find(|r| r.group == g && r.version == v && r.kind == kind)
            .cloned()
    }

    pub fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.groups
            .iter()
            .any(|(g, vs)| g == group && vs.iter().any(|v| v == version))
    }

    fn group_entry(&self, g: &str, versions: &[String]) -> Value {
        let vs: Vec<Value> = versions
            .iter()
            .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
            .collect();
        json!({"name": g, "versions": vs, "preferredVersion": {"groupVersion": format!("{g}/{}", versions[0]), "version": versions[0]}})
    }

    /// `/apis`: APIGroupList.
    pub fn api_group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .filter(|(g, v)| !g.is_empty() && !v.is_empty())
            .map(|(g, v)| self.group_entry(g, v))
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `/apis/{group}`: APIGroup.
    pub fn api_group(&self, group: &str) -> Option<Value> {
        let (g, v) = self
            .groups
            .iter()
            .find(|(g, v)| g == group && !v.is_empty())?;
        let mut e = self.group_entry(g, v);
        let m = e.as_object_mut()?;
        let mut out = serde_json::Map::new();
        out.insert("kind".into(), json!("APIGroup"));
        out.insert("apiVersion".into(), json!("v1"));
        out.append(m);
        Some(Value::Object(out))
    }

    /// `/api/v1`, `/apis/{group}/{version}`: APIResourceList.
    pub fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        if !self.has_group_version(group, version) {
            return None;
        }
        let mut resources = Vec::new();
        for r in self
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
        {
            let mut e = json!({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs});
            if !r.short_names.is_empty() {
                e["shortNames"] = json!(r.short_names);
            }
            if !r.categories.is_empty() {
                e["categories"] = json!(r.categories);
            }
            resources.push(e);
            for s in &r.subresources {
                let mut se = json!({"name": format!("{}/{}", r.plural, s.name), "singularName": "", "namespaced": r.namespaced});
                if !s.group.is_empty() && s.group != r.group {
                    se["group"] = json!(s.group);
                    se["version"] = json!(s.version);
                }
                se["kind"] = json!(s.kind);
                se["verbs"] = json!(s.verbs);
                resources.push(se);
            }
        }
        let gv = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let mut doc = json!({"kind": "APIResourceList"});
        if !group.is_empty() {
            doc["apiVersion"] = json!("v1");
        }
        doc["groupVersion"] = json!(gv);
        doc["resources"] = json!(resources);
        Some(doc)
    }

    /// Aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) for `/api` (core)
    /// or `/apis` (everything else).
    pub fn aggregated(&self, core: bool) -> Value {
        if core {
            return self.recorded_core.clone();
        }
        let mut items: Vec<Value> = recorded_groups(&self.recorded_apis);
        for (g, versions) in &self.groups {
            let crd_res: Vec<&Arc<Resource>> = self
                .resources
                .iter()
                .filter(|r| &r.group == g && r.is_crd())
                .collect();
            if crd_res.is_empty() {
                continue;
            }
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let rs: Vec<Value> = crd_res
                        .iter()
                        .filter(|r| &r.version == v)
                        .map(|r| {
                            let mut e = json!({"resource": r.plural, "responseKind": {"group": g, "version": v, "kind": r.kind},
                                "scope": if r.namespaced { "Namespaced" } else { "Cluster" }, "singularResource": r.singular, "verbs": r.verbs});
                            if !r.short_names.is_empty() {
                                e["shortNames"] = json!(r.short_names);
                            }
                            if !r.categories.is_empty() {
                                e["categories"] = json!(r.categories);
                            }
                            if !r.subresources.is_empty() {
                                e["subresources"] = json!(r
                                    .subresources
                                    .iter()
                                    .map(|s| json!({"subresource": s.name, "responseKind": {"group": s.group, "version": s.version, "kind": s.kind}, "verbs": s.verbs}))
                                    .collect::<Vec<_>>());
                            }
                            e
                        })
                        .collect();
                    json!({"version": v, "resources": rs, "freshness": "Current"})
                })
                .collect();
            // v1.37.2 leaves the zero creationTimestamp out (v1.28.7 wrote `null`).
            items.push(json!({"metadata": {"name": g}, "versions": vs}));
        }
        json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
    }
}

pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// What an Accept header asks of `/api` or `/apis`.
#[derive(Debug, PartialEq, Eq)]
pub enum Negotiated {
    Aggregated,
    Plain,
    NotAcceptable,
}

/// Content negotiation for the discovery roots: the first acceptable media range wins;
/// aggregated v2 is served, v2beta1 is not (Kubernetes 1.37).
pub fn negotiate(accept: Option<&str>) -> Negotiated {
    let Some(accept) = accept else {
        return Negotiated::Plain;
    };
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let mt = parts.next().unwrap_or_default();
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let param = |k: &str| params.iter().find(|(pk, _)| *pk == k).map(|(_, v)| *v);
        match mt {
            "application/json" | "application/yaml" | "*/*" | "application/*" => {}
            "application/vnd.kubernetes.protobuf" => continue,
            _ => continue,
        }
        match (param("g"), param("v"), param("as")) {
            (None, None, None) => return Negotiated::Plain,
            (Some("apidiscovery.k8s.io"), Some("v2"), Some("APIGroupDiscoveryList"))
                if mt == "application/json" =>
            {
                return Negotiated::Aggregated;
            }
            _ => continue,
        }
    }
    Negotiated::NotAcceptable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_like_v1_37() {
        // What v1.37.2 answered (tests/cluster/examples/record_standin_data.rs records with v2).
        const V2BETA1: &str =
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
        assert_eq!(negotiate(Some(AGGREGATED_V2)), Negotiated::Aggregated);
        assert_eq!(
            negotiate(Some(&format!("{AGGREGATED_V2},application/json"))),
            Negotiated::Aggregated
        );
        // kube-rs and kubectl list v2, then v2beta1, then plain JSON.
        assert_eq!(
            negotiate(Some(&format!("{AGGREGATED_V2},{V2BETA1},application/json"))),
            Negotiated::Aggregated
        );
        assert_eq!(negotiate(Some(V2BETA1)), Negotiated::NotAcceptable);
        assert_eq!(
            negotiate(Some(&format!("{V2BETA1},application/json"))),
            Negotiated::Plain
        );
        assert_eq!(negotiate(Some("application/json")), Negotiated::Plain);
    }

    #[test]
    fn the_data_files_come_from_one_release() {
        // record_standin_data writes them together; a partial regeneration would mix releases.
        let schemas: Value =
            serde_json::from_str(include_str!("../data/builtin-schemas.json")).unwrap();
        let v = version();
        assert_eq!(schemas["kubernetesVersion"], v["gitVersion"]);
        assert_eq!(
            v["gitVersion"],
            format!(
                "v{}.{}.",
                v["major"].as_str().unwrap(),
                v["minor"].as_str().unwrap()
            ) + v["gitVersion"]
                .as_str()
                .unwrap()
                .rsplit('.')
                .next()
                .unwrap()
        );
        let apis: Value = serde_json::from_str(RECORDED_APIS).unwrap();
        let core: Value = serde_json::from_str(RECORDED_CORE).unwrap();
        for doc in [&apis, &core] {
            assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
        }
    }

    #[test]
    fn version_order() {
        let mut v = vec!["v1alpha3".to_string(), "v1".into(), "v1beta1".into()];
        v.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(v, vec!["v1", "v1beta1", "v1alpha3"]);
    }
}
