//! Which kinds the cluster serves, from aggregated discovery (two requests:
//! `/api` and `/apis`), so that every rendered kind is checked before anything
//! is applied.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::client::{Cluster, Req};
use crate::error::{Error, Result};

/// Accept header for aggregated discovery: v2 (1.30+), v2beta1 (1.26–1.32),
/// then the plain documents. A server that knows neither aggregated form
/// answers with the legacy `APIVersions`/`APIGroupList`.
pub const AGGREGATED_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

/// Where a kind is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Plural resource name used in paths.
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Collection path, in `ns` when namespaced.
    pub fn collection_path(&self, ns: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match (self.namespaced, ns) {
            (true, Some(ns)) => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }

    pub fn object_path(&self, ns: Option<&str>, name: &str) -> String {
        format!("{}/{name}", self.collection_path(ns))
    }
}

/// The served kinds, keyed by (apiVersion, kind).
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    by_gvk: BTreeMap<(String, String), Resource>,
    /// Versions served per group.
    groups: BTreeMap<String, BTreeSet<String>>,
}

impl Discovered {
    /// Adds the resources of one `APIGroupDiscoveryList` (aggregated discovery).
    pub fn add_aggregated(&mut self, doc: &Value) -> Result<()> {
        if doc["kind"] != "APIGroupDiscoveryList" {
            return Err(Error::Failed(format!(
                "expected an APIGroupDiscoveryList, got kind {}",
                doc["kind"]
            )));
        }
        for g in doc["items"].as_array().into_iter().flatten() {
            let group = g["metadata"]["name"].as_str().unwrap_or("").to_string();
            for v in g["versions"].as_array().into_iter().flatten() {
                let version = v["version"].as_str().unwrap_or("").to_string();
                self.groups
                    .entry(group.clone())
                    .or_default()
                    .insert(version.clone());
                for r in v["resources"].as_array().into_iter().flatten() {
                    let plural = r["resource"].as_str().unwrap_or("");
                    let kind = r["responseKind"]["kind"].as_str().unwrap_or("");
                    if plural.is_empty() || kind.is_empty() || plural.contains('/') {
                        continue;
                    }
                    self.insert(Resource {
                        group: group.clone(),
                        version: version.clone(),
                        kind: kind.to_string(),
                        plural: plural.to_string(),
                        namespaced: r["scope"] == "Namespaced",
                    });
                }
            }
        }
        Ok(())
    }

    /// Adds one legacy `APIResourceList` for `group/version`.
    pub fn add_resource_list(&mut self, group: &str, version: &str, doc: &Value) {
        self.groups
            .entry(group.to_string())
            .or_default()
            .insert(version.to_string());
        for r in doc["resources"].as_array().into_iter().flatten() {
            let plural = r["name"].as_str().unwrap_or("");
            let kind = r["kind"].as_str().unwrap_or("");
            if plural.is_empty() || plural.contains('/') {
                continue;
            }
            self.insert(Resource {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                namespaced: r["namespaced"].as_bool().unwrap_or(true),
            });
        }
    }

    fn insert(&mut self, r: Resource) {
        self.by_gvk.insert((r.api_version(), r.kind.clone()), r);
    }

    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<&Resource> {
        self.by_gvk
            .get(&(api_version.to_string(), kind.to_string()))
    }

    /// Where a group-kind is served, in any version (an ApplySet records
    /// group-kinds, not versions; every served version lists and deletes the
    /// same objects).
    pub fn resolve_group_kind(&self, group: &str, kind: &str) -> Option<&Resource> {
        self.by_gvk
            .values()
            .find(|r| r.group == group && r.kind == kind)
    }

    /// Resolves every (apiVersion, kind), or fails naming each missing one,
    /// the CRD that would serve it and how to install it.
    pub fn require<'a>(
        &self,
        kinds: impl IntoIterator<Item = (&'a str, &'a str)>,
        cluster: &str,
    ) -> Result<()> {
        let mut missing = BTreeSet::new();
        for (av, kind) in kinds {
            if self.resolve(av, kind).is_none() {
                missing.insert(self.missing_message(av, kind));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = missing.into_iter().collect();
        Err(Error::Failed(format!(
            "{} does not serve {} kind(s) the fleet renders; nothing was applied:\n  {}",
            cluster,
            lines.len(),
            lines.join("\n  ")
        )))
    }

    fn missing_message(&self, api_version: &str, kind: &str) -> String {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        if group.is_empty()
            || !group.contains('.')
            || group.ends_with(".k8s.io") && known_crd(kind).is_none()
        {
            return format!(
                "{kind} ({api_version}) is not served: the cluster's Kubernetes version does not have it"
            );
        }
        let plural = known_crd(kind)
            .map(|(p, _)| p.to_string())
            .unwrap_or_else(|| format!("{}s", kind.to_lowercase()));
        let crd = format!("{plural}.{group}");
        let served = self.groups.get(group);
        let how = known_crd(kind)
            .map(|(_, h)| h)
            .unwrap_or("install the CRD that defines it");
        match served {
            Some(vs) if !vs.contains(version) => format!(
                "{kind} ({api_version}): the CRD {crd} is installed but does not serve {version} (serves {}); upgrade it: {how}",
                vs.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            _ => format!("{kind} ({api_version}): the CRD {crd} is not installed; {how}"),
        }
    }
}

/// The CRDs mcpctl renders objects of, with how to get them.
fn known_crd(kind: &str) -> Option<(&'static str, &'static str)> {
    const ISTIO: &str = "install Istio (istioctl install, or the istio/base Helm chart), or set `router: service` or `router: gateway-api` in the fleet file";
    const GATEWAY: &str = "install the Gateway API CRDs (kubectl apply --server-side -f the standard-install.yaml of a gateway-api release), or set `router: service`";
    const PROM: &str = "install the prometheus-operator CRDs (the kube-prometheus-stack Helm chart, or prometheus-operator's bundle.yaml)";
    Some(match kind {
        "VirtualService" => ("virtualservices", ISTIO),
        "DestinationRule" => ("destinationrules", ISTIO),
        "Gateway" => ("gateways", GATEWAY),
        "HTTPRoute" => ("httproutes", GATEWAY),
        "GRPCRoute" => ("grpcroutes", GATEWAY),
        "ServiceMonitor" => ("servicemonitors", PROM),
        "PodMonitor" => ("podmonitors", PROM),
        "PrometheusRule" => ("prometheusrules", PROM),
        _ => return None,
    })
}

/// Reads aggregated discovery for the core group and the named groups. When
/// the server does not serve the aggregated form, falls back to one
/// `APIResourceList` per group version in `wanted`.
pub async fn discover(cluster: &Cluster, wanted: &BTreeSet<String>) -> Result<Discovered> {
    let mut d = Discovered::default();
    for root in ["/api", "/apis"] {
        let req = Req::get(root).accept(AGGREGATED_ACCEPT);
        let v = cluster.send_ok(&req).await?;
        if v["kind"] == "APIGroupDiscoveryList" {
            d.add_aggregated(&v)?;
            continue;
        }
        // Legacy discovery: fetch only the group versions the objects use.
        for av in wanted {
            let is_core = !av.contains('/');
            if is_core != (root == "/api") {
                continue;
            }
            let (group, version) = av.split_once('/').unwrap_or(("", av.as_str()));
            let path = if is_core {
                format!("/api/{version}")
            } else {
                format!("/apis/{group}/{version}")
            };
            let resp = cluster.send(&Req::get(&path)).await?;
            if resp.status == 404 {
                continue;
            }
            if !resp.ok() {
                return Err(cluster.api_error(&Req::get(&path), &resp));
            }
            d.add_resource_list(group, version, &resp.json()?);
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(name: &str) -> Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/apiserver/fixtures/transcripts")
            .join(name);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let v: Value = serde_json::from_str(&text).unwrap();
        v["response"]["body"].clone()
    }

    fn recorded() -> Option<Discovered> {
        let mut d = Discovered::default();
        d.add_aggregated(&transcript("08-discovery-api-aggregated-v2beta1.json"))
            .unwrap();
        d.add_aggregated(&transcript("07-discovery-apis-aggregated-v2beta1.json"))
            .unwrap();
        Some(d)
    }

    #[test]
    fn recorded_aggregated_discovery_resolves_core_and_crds() {
        let Some(d) = recorded() else { return };
        let dep = d.resolve("apps/v1", "Deployment").unwrap();
        assert_eq!(dep.plural, "deployments");
        assert!(dep.namespaced);
        assert_eq!(
            dep.object_path(Some("mcp"), "gh"),
            "/apis/apps/v1/namespaces/mcp/deployments/gh"
        );
        let cm = d.resolve("v1", "ConfigMap").unwrap();
        assert_eq!(
            cm.collection_path(Some("mcp")),
            "/api/v1/namespaces/mcp/configmaps"
        );
        let ns = d.resolve("v1", "Namespace").unwrap();
        assert!(!ns.namespaced);
        assert_eq!(ns.object_path(Some("x"), "mcp"), "/api/v1/namespaces/mcp");
        assert!(
            d.resolve("networking.istio.io/v1", "VirtualService")
                .is_some()
        );
        assert!(d.resolve("coordination.k8s.io/v1", "Lease").is_some());
        // Subresources are not kinds.
        assert!(d.by_gvk.values().all(|r| !r.plural.contains('/')));
    }

    #[test]
    fn missing_crd_is_named_with_how_to_install() {
        let mut d = Discovered::default();
        d.add_aggregated(&serde_json::json!({
            "kind": "APIGroupDiscoveryList",
            "items": [{"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
                {"resource": "deployments", "responseKind": {"kind": "Deployment"}, "scope": "Namespaced"}]}]},
                {"metadata": {"name": "gateway.networking.k8s.io"}, "versions": [{"version": "v1beta1", "resources": [
                {"resource": "httproutes", "responseKind": {"kind": "HTTPRoute"}, "scope": "Namespaced"}]}]}]
        }))
        .unwrap();
        assert!(d.require([("apps/v1", "Deployment")], "srv").is_ok());
        let e = d
            .require(
                [
                    ("apps/v1", "Deployment"),
                    ("networking.istio.io/v1", "VirtualService"),
                    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
                ],
                "the API server at X",
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "the CRD virtualservices.networking.istio.io is not installed; install Istio"
            ),
            "{e}"
        );
        assert!(
            e.contains("the CRD httproutes.gateway.networking.k8s.io is installed but does not serve v1 (serves v1beta1)"),
            "{e}"
        );
        assert!(e.contains("nothing was applied"), "{e}");
    }

    #[test]
    fn a_missing_kind_of_a_served_group_is_not_installed() {
        let mut d = Discovered::default();
        d.add_aggregated(&serde_json::json!({
            "kind": "APIGroupDiscoveryList",
            "items": [{"metadata": {"name": "monitoring.coreos.com"}, "versions": [{"version": "v1", "resources": [
                {"resource": "prometheusrules", "responseKind": {"kind": "PrometheusRule"}, "scope": "Namespaced"}]}]}]
        }))
        .unwrap();
        let e = d
            .require([("monitoring.coreos.com/v1", "ServiceMonitor")], "srv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ServiceMonitor (monitoring.coreos.com/v1): the CRD servicemonitors.monitoring.coreos.com is not installed"),
            "{e}"
        );
    }

    #[test]
    fn legacy_resource_list() {
        let mut d = Discovered::default();
        d.add_resource_list(
            "monitoring.coreos.com",
            "v1",
            &serde_json::json!({"resources": [
                {"name": "servicemonitors", "kind": "ServiceMonitor", "namespaced": true},
                {"name": "servicemonitors/status", "kind": "ServiceMonitor", "namespaced": true}]}),
        );
        let r = d
            .resolve("monitoring.coreos.com/v1", "ServiceMonitor")
            .unwrap();
        assert_eq!(r.plural, "servicemonitors");
    }
}
