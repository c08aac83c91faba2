//! The template context of one server, computed from the model and the
//! rollout state. Decisions (names, labels, selectors, weights, replica
//! counts, alert expressions) are made here, in Rust, so that templates stay
//! thin and the decisions can be tested without templates.

use std::collections::BTreeMap;

use serde::Serialize;

use super::options::{Colour, RenderOptions, RolloutState, Track};
use crate::error::{Error, Result};
use crate::fleet::{Fleet, Router, Server, Strategy};

/// Label keys mcpctl sets. Selectors use only [`NAME`], [`INSTANCE`] and the
/// track/colour labels, which never change across versions.
pub mod labels {
    pub const NAME: &str = "app.kubernetes.io/name";
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    pub const VERSION: &str = "app.kubernetes.io/version";
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    pub const PART_OF: &str = "app.kubernetes.io/part-of";
    pub const COMPONENT: &str = "app.kubernetes.io/component";
    /// `stable` or `canary`, on the Deployments and pods of a canary server.
    pub const TRACK: &str = "mcpctl.io/track";
    /// `blue` or `green`, on the Deployments and pods of a blue-green server.
    pub const COLOUR: &str = "mcpctl.io/colour";
    /// `"true"` on the Services the ServiceMonitor scrapes (together they
    /// cover every pod of the server exactly once).
    pub const SCRAPE: &str = "mcpctl.io/scrape";
    /// Pod annotation: hash of the ConfigMap data, so a config change rolls the pods.
    pub const CONFIG_HASH: &str = "mcpctl.io/config-hash";
    pub const MANAGER: &str = "mcpctl";
    pub const COMPONENT_VALUE: &str = "mcp-server";
}

/// Metric names the monitoring objects and the alerts assume (documented in
/// the README): the server exports these on `GET /metrics` of its `http` port.
pub mod metrics {
    /// Counter of MCP HTTP requests, labelled `code` (HTTP status code).
    pub const REQUESTS: &str = "mcp_requests_total";
    /// Histogram of MCP HTTP request durations in seconds.
    pub const DURATION_BUCKET: &str = "mcp_request_duration_seconds_bucket";
    /// Prometheus target label holding the server name (from the pod label).
    pub const SERVER_LABEL: &str = "mcp_server";
}

/// Longest Kubernetes object name mcpctl produces (a DNS-1123 label: Service
/// names must be one, and names end up in label values).
pub const MAX_NAME: usize = 63;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerContext<'a> {
    pub fleet: &'a str,
    pub namespace: &'a str,
    /// The resolved model, for templates that need a field not computed here.
    pub server: &'a Server,
    pub name: &'a str,
    pub kube: KubeContext,
    /// Labels of every object of the server (with the fleet file's version).
    pub labels: Labels,
    /// `name` + `instance`: selects every pod of the server.
    pub selector: Labels,
    /// In-cluster FQDN of the main Service.
    pub host: String,
    pub port: u16,
    pub config_name: String,
    pub config_hash: String,
    pub env: &'a BTreeMap<String, String>,
    pub tls: Option<TlsContext>,
    pub probes: Probes,
    pub termination_grace_period_seconds: u32,
    pub deployments: Vec<DeploymentContext>,
    pub services: Vec<ServiceContext>,
    pub hpa: Option<HpaContext>,
    pub pdb: PdbContext,
    pub network_policy: NetworkPolicyContext,
    pub routing: RoutingContext,
    pub monitoring: MonitoringContext,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeContext {
    pub version: String,
    pub minor: u32,
    /// Use `lifecycle.preStop.sleep` (≥ 1.30) rather than `exec: [sleep, N]`.
    pub sleep_action: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsContext {
    pub secret_name: String,
    pub ca_secret: String,
    pub mount_path: String,
    pub cert_file: String,
    pub key_file: String,
    pub server_name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probes {
    /// `tcp`: a plain GET on an MCP endpoint answers 405/406, so the port is probed.
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentContext {
    pub name: String,
    /// `stable`, `canary`, `blue` or `green`.
    pub track: &'static str,
    pub labels: Labels,
    pub selector: Labels,
    pub pod_labels: Labels,
    pub pod_annotations: Labels,
    pub image: String,
    pub version: String,
    /// `None` when an HPA owns the replica count.
    pub replicas: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceContext {
    pub name: String,
    /// `primary`, `preview`, `stable` or `canary`.
    pub role: &'static str,
    pub labels: Labels,
    pub selector: Labels,
    pub app_protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaContext {
    pub target: String,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub target_cpu_percent: Option<u32>,
    pub target_memory_percent: Option<u32>,
    pub custom_metric: Option<crate::fleet::CustomMetric>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbContext {
    pub max_unavailable: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyContext {
    /// Namespaces (by name) allowed in besides the server's own.
    pub from_namespaces: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingContext {
    pub router: Router,
    /// Hosts of the VirtualService (ingress hosts then the in-cluster FQDN).
    pub hosts: Vec<String>,
    /// Istio gateways, plus `mesh` when any gateway is set; empty means mesh only.
    pub gateways: Vec<String>,
    /// DestinationRule subsets (canary tracks or colours); empty for rolling.
    pub subsets: Vec<Subset>,
    /// Weighted destinations, in a stable order.
    pub destinations: Vec<Destination>,
    pub parent: Option<crate::fleet::GatewayRef>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subset {
    pub name: &'static str,
    pub labels: Labels,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// Istio subset, when the route splits by subset.
    pub subset: Option<&'static str>,
    /// Service the Gateway API backendRef points at.
    pub service: String,
    pub weight: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringContext {
    /// Selects the Services labelled for scraping.
    pub service_selector: Labels,
    pub scheme: &'static str,
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub name: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: &'static str,
    pub severity: &'static str,
    pub summary: String,
    pub description: String,
}

/// A label value from an image version as the model holds it (already
/// label-shaped by the loader: a tag, or `sha256-` and 12 hex digits); made
/// safe here too, since rollout state can carry versions from elsewhere.
pub fn version_label(version: &str) -> String {
    let v = match version.split_once(':') {
        Some((algo, hex)) if algo.starts_with("sha") => {
            format!("{algo}-{}", hex.chars().take(12).collect::<String>())
        }
        _ => version.to_string(),
    };
    let v: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_NAME)
        .collect();
    v.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// The version label of an image reference, computed as the fleet loader
/// does (tag, else short digest, else `latest`).
pub fn image_version(image: &str) -> String {
    match crate::fleet::image::parse(image) {
        Ok(r) => r.version(),
        Err(_) => version_label(image.rsplit(['@', ':']).next().unwrap_or(image)),
    }
}

/// FNV-1a, 64 bit: a stable hash with no dependency, for the config-hash annotation.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The namespace of an in-cluster URL such as `http://prometheus.monitoring:9090`
/// or `http://prometheus.monitoring.svc.cluster.local:9090`.
fn url_namespace(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next()?;
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [_, ns] => Some((*ns).to_string()),
        [_, ns, "svc", ..] => Some((*ns).to_string()),
        _ => None,
    }
}

fn track_str(t: Track) -> &'static str {
    match t {
        Track::Stable => "stable",
        Track::Canary => "canary",
        Track::Blue => "blue",
        Track::Green => "green",
    }
}

fn check_name(server: &str, kind: &str, name: &str) -> Result<()> {
    if name.len() > MAX_NAME {
        let over = name.len() - MAX_NAME;
        return Err(Error::Usage(format!(
            "server `{server}`: the {kind} name `{name}` is {} characters, over the Kubernetes limit of {MAX_NAME}; \
             shorten the server name by at least {over} characters",
            name.len()
        )));
    }
    Ok(())
}

impl<'a> ServerContext<'a> {
    pub fn build(
        fleet: &'a Fleet,
        server: &'a Server,
        opts: &RenderOptions,
    ) -> Result<ServerContext<'a>> {
        let kube = opts.kube_version;
        let state = opts.state_for(&server.name);
        let name = server.name.as_str();
        let ns = fleet.namespace.as_str();

        let mut selector = Labels::new();
        selector.insert(labels::NAME.into(), name.into());
        selector.insert(labels::INSTANCE.into(), name.into());

        // The Deployment that serves production traffic (the HPA's target).
        let primary = match server.strategy {
            Strategy::BlueGreen => Track::from(state.active_colour),
            _ => Track::Stable,
        };
        // Objects shared by the tracks carry the version serving traffic: the
        // primary track's live image when the rollout state keeps one (a new
        // image in the fleet file reaches them when a rollout promotes it).
        let serving_version = state
            .image(primary)
            .map(image_version)
            .unwrap_or_else(|| server.version.clone());

        // User labels first, so the standard ones win on a clash.
        let mut common = server.labels.clone();
        common.extend(selector.clone());
        common.insert(labels::VERSION.into(), version_label(&serving_version));
        common.insert(labels::MANAGED_BY.into(), labels::MANAGER.into());
        common.insert(labels::PART_OF.into(), fleet.name.clone());
        common.insert(labels::COMPONENT.into(), labels::COMPONENT_VALUE.into());

        let config_name = format!("{name}-config");
        let config_json = serde_json::to_string(&server.env).unwrap_or_default();
        let config_hash = format!("{:016x}", fnv1a(config_json.as_bytes()));
        let host = format!("{name}.{ns}.svc.cluster.local");

        let tls = server.tls.as_ref().map(|t| TlsContext {
            secret_name: t.secret_name.clone(),
            ca_secret: t.ca_secret.clone(),
            mount_path: "/etc/mcp/tls".into(),
            cert_file: "/etc/mcp/tls/tls.crt".into(),
            key_file: "/etc/mcp/tls/tls.key".into(),
            server_name: format!("{name}.{ns}.svc"),
        });

        let hpa_target: Option<String>;
        let deployments = {
            let tracks: Vec<Track> = match server.strategy {
                Strategy::Rolling => vec![Track::Stable],
                Strategy::BlueGreen => vec![Track::Blue, Track::Green],
                Strategy::Canary => vec![Track::Stable, Track::Canary],
            };
            hpa_target = server
                .autoscaling
                .as_ref()
                .map(|_| deployment_name(name, server.strategy, primary));
            tracks
                .into_iter()
                .map(|t| deployment(server, state, &common, &selector, &config_hash, t, primary))
                .collect::<Vec<_>>()
        };

        let app_protocol = if tls.is_some() { "https" } else { "http" };
        let services = services(server, state, &common, &selector, app_protocol);
        let routing = routing(server, state, &host)?;
        let monitoring = monitoring(fleet, server, &selector, tls.is_some());

        let mut from_namespaces: Vec<String> = server.allow_from_namespaces.clone();
        match server.router {
            Router::Istio => from_namespaces.push("istio-system".into()),
            Router::GatewayApi => {
                if let Some(gw) = &server.ingress.gateway {
                    from_namespaces.push(gw.namespace.clone().unwrap_or_else(|| ns.to_string()));
                }
            }
            Router::Service => {}
        }
        if let Some(p) = server
            .prometheus
            .as_ref()
            .and_then(|p| url_namespace(&p.url))
        {
            from_namespaces.push(p);
        }
        from_namespaces.retain(|n| n != ns);
        from_namespaces.sort();
        from_namespaces.dedup();

        let ctx = ServerContext {
            fleet: &fleet.name,
            namespace: ns,
            server,
            name,
            kube: KubeContext {
                version: kube.to_string(),
                minor: kube.minor,
                sleep_action: kube.has_sleep_action(),
            },
            labels: common,
            selector,
            host,
            port: server.port,
            config_name,
            config_hash,
            env: &server.env,
            tls,
            probes: Probes { kind: "tcp" },
            termination_grace_period_seconds: server.drain_seconds + 30,
            deployments,
            services,
            hpa: server
                .autoscaling
                .as_ref()
                .zip(hpa_target)
                .map(|(a, target)| HpaContext {
                    target,
                    min_replicas: a.min_replicas,
                    max_replicas: a.max_replicas,
                    target_cpu_percent: a.target_cpu_percent,
                    target_memory_percent: a.target_memory_percent,
                    custom_metric: a.custom_metric.clone(),
                }),
            pdb: PdbContext { max_unavailable: 1 },
            network_policy: NetworkPolicyContext { from_namespaces },
            routing,
            monitoring,
        };
        for d in &ctx.deployments {
            check_name(name, "Deployment", &d.name)?;
        }
        for s in &ctx.services {
            check_name(name, "Service", &s.name)?;
        }
        check_name(name, "ConfigMap", &ctx.config_name)?;
        Ok(ctx)
    }
}

fn deployment_name(name: &str, strategy: Strategy, track: Track) -> String {
    match (strategy, track) {
        (Strategy::BlueGreen, t) => format!("{name}-{}", track_str(t)),
        (_, Track::Canary) => format!("{name}-canary"),
        _ => name.to_string(),
    }
}

/// Replicas of a canary track at `weight` percent of `replicas`: at least one
/// pod while the weight is above zero.
pub fn canary_replicas(replicas: u32, weight: u32) -> u32 {
    if weight == 0 {
        0
    } else {
        (replicas * weight).div_ceil(100).max(1)
    }
}

fn deployment(
    server: &Server,
    state: &RolloutState,
    common: &Labels,
    selector: &Labels,
    config_hash: &str,
    track: Track,
    primary: Track,
) -> DeploymentContext {
    let name = deployment_name(&server.name, server.strategy, track);
    let (image, version) = match state.image(track) {
        Some(live) => (live.to_string(), image_version(live)),
        None => (server.image.clone(), server.version.clone()),
    };
    let hpa = server.autoscaling.is_some() && track == primary;
    let weight = state.canary_weight.min(100);
    let replicas = match state.replicas(track) {
        Some(r) => Some(r),
        None if hpa => None,
        None => Some(match (server.strategy, track) {
            (Strategy::BlueGreen, t) if t == primary => server.replicas,
            (Strategy::BlueGreen, _) => 0,
            (Strategy::Canary, Track::Canary) => canary_replicas(server.replicas, weight),
            // Without a mesh the replica ratio splits the traffic.
            (Strategy::Canary, _) if server.router == Router::Service && weight > 0 => server
                .replicas
                .saturating_sub(canary_replicas(server.replicas, weight))
                .max(1),
            _ => server.replicas,
        }),
    };

    let mut sel = selector.clone();
    match server.strategy {
        Strategy::Rolling => {}
        Strategy::BlueGreen => {
            sel.insert(labels::COLOUR.into(), track_str(track).into());
        }
        Strategy::Canary => {
            sel.insert(labels::TRACK.into(), track_str(track).into());
        }
    }
    let mut lbls = common.clone();
    lbls.insert(labels::VERSION.into(), version_label(&version));
    lbls.extend(sel.clone());

    let mut pod_annotations = server.pod_annotations.clone();
    pod_annotations.insert(labels::CONFIG_HASH.into(), config_hash.to_string());

    DeploymentContext {
        name,
        track: track_str(track),
        pod_labels: lbls.clone(),
        labels: lbls,
        selector: sel,
        pod_annotations,
        image,
        version,
        replicas,
    }
}

fn services(
    server: &Server,
    state: &RolloutState,
    common: &Labels,
    selector: &Labels,
    app_protocol: &'static str,
) -> Vec<ServiceContext> {
    let name = &server.name;
    let with = |key: &str, value: &str| {
        let mut s = selector.clone();
        s.insert(key.into(), value.into());
        s
    };
    let svc = |svc_name: String, role: &'static str, selector: Labels, scrape: bool| {
        let mut labels = common.clone();
        if scrape {
            labels.insert(labels::SCRAPE.into(), "true".into());
        }
        ServiceContext {
            name: svc_name,
            role,
            labels,
            selector,
            app_protocol,
        }
    };
    match server.strategy {
        Strategy::Rolling => vec![svc(name.clone(), "primary", selector.clone(), true)],
        Strategy::BlueGreen => {
            let active = state.active_colour;
            // Istio switches colours by subset weight, and a subset only sees
            // the endpoints of its host, so there the main Service selects both
            // colours; elsewhere its selector is what switches.
            let primary_sel = if server.router == Router::Istio {
                selector.clone()
            } else {
                with(labels::COLOUR, active.as_str())
            };
            let preview_scrapes = server.router != Router::Istio;
            vec![
                svc(name.clone(), "primary", primary_sel, true),
                svc(
                    format!("{name}-preview"),
                    "preview",
                    with(labels::COLOUR, active.other().as_str()),
                    preview_scrapes,
                ),
            ]
        }
        Strategy::Canary => vec![
            svc(name.clone(), "primary", selector.clone(), true),
            svc(
                format!("{name}-stable"),
                "stable",
                with(labels::TRACK, "stable"),
                false,
            ),
            svc(
                format!("{name}-canary"),
                "canary",
                with(labels::TRACK, "canary"),
                false,
            ),
        ],
    }
}

fn routing(server: &Server, state: &RolloutState, host: &str) -> Result<RoutingContext> {
    let name = &server.name;
    let weight = state.canary_weight.min(100);
    let subset = |n: &'static str, key: &str| {
        let mut l = Labels::new();
        l.insert(key.into(), n.into());
        Subset { name: n, labels: l }
    };
    let (subsets, destinations) = match server.strategy {
        Strategy::Rolling => (
            vec![],
            vec![Destination {
                subset: None,
                service: name.clone(),
                weight: 100,
            }],
        ),
        Strategy::BlueGreen => {
            let active = state.active_colour;
            let w = |c: Colour| if c == active { 100 } else { 0 };
            match server.router {
                Router::Istio => (
                    vec![
                        subset("blue", labels::COLOUR),
                        subset("green", labels::COLOUR),
                    ],
                    vec![
                        Destination {
                            subset: Some("blue"),
                            service: name.clone(),
                            weight: w(Colour::Blue),
                        },
                        Destination {
                            subset: Some("green"),
                            service: name.clone(),
                            weight: w(Colour::Green),
                        },
                    ],
                ),
                // The active Service's selector does the switch.
                _ => (
                    vec![],
                    vec![Destination {
                        subset: None,
                        service: name.clone(),
                        weight: 100,
                    }],
                ),
            }
        }
        Strategy::Canary => (
            vec![
                subset("stable", labels::TRACK),
                subset("canary", labels::TRACK),
            ],
            vec![
                Destination {
                    subset: Some("stable"),
                    service: format!("{name}-stable"),
                    weight: 100 - weight,
                },
                Destination {
                    subset: Some("canary"),
                    service: format!("{name}-canary"),
                    weight,
                },
            ],
        ),
    };
    let parent = server.ingress.gateway.clone();
    if server.router == Router::GatewayApi && parent.is_none() {
        return Err(Error::Usage(format!(
            "server `{name}` uses router gateway-api but names no Gateway; set `ingress.gateway.name`"
        )));
    }
    let mut hosts = server.ingress.hosts.clone();
    hosts.push(host.to_string());
    let mut gateways = server.ingress.istio_gateways.clone();
    if !gateways.is_empty() {
        gateways.push("mesh".into());
    }
    Ok(RoutingContext {
        router: server.router,
        hosts,
        gateways,
        subsets,
        destinations,
        parent,
    })
}

fn monitoring(fleet: &Fleet, server: &Server, selector: &Labels, tls: bool) -> MonitoringContext {
    let mut service_selector = selector.clone();
    service_selector.insert(labels::SCRAPE.into(), "true".into());
    let sel = format!(
        "namespace=\"{}\",{}=\"{}\"",
        fleet.namespace,
        metrics::SERVER_LABEL,
        server.name
    );
    let name = &server.name;
    let alerts = vec![
        Alert {
            name: "MCPServerDown".into(),
            expr: format!("(sum(up{{{sel}}}) or vector(0)) == 0"),
            for_: "5m",
            severity: "critical",
            summary: format!("MCP server {name} is down"),
            description: format!(
                "No target of MCP server {name} in namespace {} has been up for 5 minutes.",
                fleet.namespace
            ),
        },
        Alert {
            name: "MCPServerHighErrorRate".into(),
            expr: format!(
                "sum(rate({req}{{{sel},code=~\"5..\"}}[5m])) / sum(rate({req}{{{sel}}}[5m])) > 0.05",
                req = metrics::REQUESTS
            ),
            for_: "2m",
            severity: "warning",
            summary: format!("MCP server {name} answers more than 5% of requests with 5xx"),
            description: format!(
                "More than 5% of requests to MCP server {name} failed with a 5xx status over the last 2 minutes."
            ),
        },
        Alert {
            name: "MCPServerHighLatency".into(),
            expr: format!(
                "histogram_quantile(0.95, sum by (le) (rate({b}{{{sel}}}[5m]))) > 2",
                b = metrics::DURATION_BUCKET
            ),
            for_: "5m",
            severity: "warning",
            summary: format!("MCP server {name} p95 latency is above 2s"),
            description: format!(
                "The 95th percentile request latency of MCP server {name} has been above 2 seconds."
            ),
        },
    ];
    MonitoringContext {
        service_selector,
        scheme: if tls { "https" } else { "http" },
        alerts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_labels_are_valid_label_values() {
        assert_eq!(version_label("1.4.2"), "1.4.2");
        assert_eq!(
            version_label(
                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            ),
            "sha256-0123456789ab"
        );
        assert_eq!(version_label("sha256-0123456789ab"), "sha256-0123456789ab");
        assert_eq!(version_label("v1+build"), "v1-build");
        assert_eq!(version_label(&"a".repeat(100)).len(), 63);
        assert_eq!(version_label("_x_"), "x");
    }

    #[test]
    fn image_versions() {
        assert_eq!(image_version("ghcr.io/acme/x:1.2"), "1.2");
        assert_eq!(image_version("localhost:5000/x"), "latest");
        assert_eq!(image_version("localhost:5000/x:2"), "2");
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(image_version(&format!("x@{digest}")), "sha256-0123456789ab");
    }

    #[test]
    fn namespace_from_prometheus_url() {
        assert_eq!(
            url_namespace("http://prometheus.monitoring:9090").as_deref(),
            Some("monitoring")
        );
        assert_eq!(
            url_namespace("http://prom.obs.svc.cluster.local:9090/x").as_deref(),
            Some("obs")
        );
        assert_eq!(url_namespace("http://10.0.0.1:9090"), None);
        assert_eq!(url_namespace("https://prometheus.example.com"), None);
    }

    #[test]
    fn canary_replica_counts() {
        assert_eq!(canary_replicas(3, 0), 0);
        assert_eq!(canary_replicas(3, 10), 1);
        assert_eq!(canary_replicas(10, 25), 3);
        assert_eq!(canary_replicas(4, 100), 4);
    }
}
