//! The resolved fleet model: every server with fleet defaults applied and every
//! value checked. Rendering, linting and rollouts work from these types only;
//! how the file is parsed and validated lives in `load` and `validate`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// A whole fleet after loading, defaulting and validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fleet {
    /// Fleet name (a DNS-1123 label), used as `app.kubernetes.io/part-of`.
    pub name: String,
    /// Namespace every object of the fleet lives in.
    pub namespace: String,
    /// Whether the fleet's Grafana dashboard is rendered (`dashboard.enabled`, default on).
    pub dashboard: bool,
    pub servers: Vec<Server>,
}

impl Fleet {
    /// Checks that every name in `only` is a server of the fleet. The usage
    /// error names the unknown ones, suggests the closest server name for a
    /// single typo, and lists the servers (the first few of a large fleet).
    pub fn check_servers(&self, only: &[String]) -> crate::error::Result<()> {
        const LISTED: usize = 20;
        let unknown: Vec<&String> = only
            .iter()
            .filter(|n| !self.servers.iter().any(|s| &s.name == *n))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let valid: Vec<&str> = self.servers.iter().map(|s| s.name.as_str()).collect();
        let names: Vec<String> = unknown.iter().map(|n| format!("`{n}`")).collect();
        let listed = match valid.len() {
            0 => "(none)".to_string(),
            n if n <= LISTED => valid.join(", "),
            n => format!("{} and {} more", valid[..LISTED].join(", "), n - LISTED),
        };
        let hint = match unknown.as_slice() {
            [one] => super::decode::closest(one, &valid)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        Err(crate::error::Error::Usage(format!(
            "no server named {} in fleet `{}`; servers are: {listed}{hint}",
            names.join(", "),
            self.name,
        )))
    }
}

/// One MCP server, fully resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    /// DNS-1123 label, unique in the fleet.
    pub name: String,
    /// Image reference as written (`registry/repo:tag` or `@sha256:...`).
    pub image: String,
    /// Tag or digest part of the image, used as `app.kubernetes.io/version`:
    /// the tag when there is one, else `sha256-` and the first 12 hex digits
    /// of the digest, else `latest`. Always a valid label value (at most 63
    /// characters).
    pub version: String,
    pub replicas: u32,
    /// Container port the MCP endpoint listens on.
    pub port: u16,
    /// HTTP path of the MCP endpoint (Streamable HTTP), e.g. `/mcp`.
    pub path: String,
    /// Non-secret environment, rendered into a ConfigMap.
    pub env: BTreeMap<String, String>,
    /// Environment variables taken from Secrets (never rendered as values).
    pub secret_env: Vec<SecretEnv>,
    pub resources: Resources,
    pub autoscaling: Option<Autoscaling>,
    pub router: Router,
    pub strategy: Strategy,
    pub canary: Canary,
    pub blue_green: BlueGreen,
    pub prometheus: Option<Prometheus>,
    pub tls: Option<Tls>,
    /// Seconds a terminating pod keeps serving before it gets SIGTERM (preStop
    /// delay), so that legacy MCP sessions can drain.
    pub drain_seconds: u32,
    /// Routing details for istio / gateway-api.
    pub ingress: Ingress,
    /// Namespaces (by name) allowed to reach the server; empty means only the
    /// fleet namespace and the mesh/gateway.
    pub allow_from_namespaces: Vec<String>,
    /// Extra labels put on every object of the server.
    pub labels: BTreeMap<String, String>,
    /// Extra annotations put on the pod template.
    pub pod_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretEnv {
    /// Environment variable name.
    pub name: String,
    /// Name of the Secret.
    pub secret: String,
    /// Key inside the Secret.
    pub key: String,
}

/// Kubernetes quantities as written (`100m`, `128Mi`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    pub requests: ResourceList,
    pub limits: ResourceList,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceList {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Target average CPU utilisation, percent of requests.
    pub target_cpu_percent: Option<u32>,
    /// Target average memory utilisation, percent of requests.
    pub target_memory_percent: Option<u32>,
    /// A per-pod custom metric (for example active MCP sessions).
    pub custom_metric: Option<CustomMetric>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMetric {
    /// Metric name as served by the custom metrics API.
    pub name: String,
    /// Target average value per pod, as a quantity (`100`, `500m`).
    pub average_value: String,
}

/// How traffic is shifted between versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Router {
    /// Plain Service selectors (blue-green switch; canary by replica ratio).
    Service,
    /// Istio VirtualService weights over DestinationRule subsets.
    Istio,
    /// Gateway API HTTPRoute backendRef weights.
    GatewayApi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    Rolling,
    BlueGreen,
    Canary,
}

impl Strategy {
    /// The strategy as the fleet file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Rolling => "rolling",
            Strategy::BlueGreen => "blue-green",
            Strategy::Canary => "canary",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Canary {
    /// Traffic percentages, strictly increasing, ending at 100.
    pub steps: Vec<u32>,
    #[serde(with = "duration_serde")]
    pub step_duration: Duration,
    pub analysis: Analysis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    #[serde(with = "duration_serde")]
    pub interval: Duration,
    /// Highest acceptable error rate, in [0, 1].
    pub max_error_rate: f64,
    /// Fewer requests than this in a sample window count as "no data".
    pub min_requests: u32,
    pub no_data: NoDataPolicy,
    /// This many failed samples abort the rollout.
    pub failure_limit: u32,
    /// Optional PromQL override for the error rate; `{{ server }}`-style
    /// placeholders are filled by the gate (see `gate::query`).
    pub query: Option<String>,
    /// Range of `rate()`/`increase()` in the queries (`{{ window }}`): how
    /// far back one sample looks. Should cover several scrapes.
    #[serde(with = "duration_serde")]
    pub window: Duration,
    /// Judge the canary's error rate against the stable track's, measured in
    /// the same sample.
    pub baseline: Option<Baseline>,
    /// Further metrics, each with its own threshold.
    pub metrics: Vec<Metric>,
}

/// A further analysis metric (p95 latency, a success rate...).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Lowercase letters, digits and `-`; unique in the analysis.
    pub name: String,
    /// Query template; must give one series or a scalar.
    pub query: String,
    pub bound: Bound,
    /// Only with a `max` bound.
    pub baseline: Option<Baseline>,
}

/// Which side of a metric's threshold is healthy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Bound {
    /// The value must not exceed this (error rate, latency).
    Max(f64),
    /// The value must not fall below this (success rate).
    Min(f64),
}

/// How a metric is judged against the stable track in the same sample. The
/// canary's limit becomes the larger of the metric's `max` and this.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Baseline {
    /// The stable value plus this (absolute: 0.005 is half a point of error rate).
    Increase(f64),
    /// The stable value times this (1.5 allows 50% worse).
    Ratio(f64),
}

/// What a sample with no data (empty vector, NaN, too few requests) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoDataPolicy {
    Fail,
    Pass,
    Ignore,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreen {
    /// How long the old colour stays up after the switch (instant rollback).
    #[serde(with = "duration_serde")]
    pub scale_down_delay: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prometheus {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tls {
    /// Secret (type kubernetes.io/tls) holding the server certificate.
    pub secret_name: String,
    /// Secret holding the CA that issues server certificates.
    pub ca_secret: String,
    /// Warn when a certificate expires within this many days.
    pub warn_days: u32,
    /// Names the certificate covers besides the Service names (an ingress
    /// host, say): issued by `certs rotate`, required by `certs status`.
    pub dns_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingress {
    /// Hostnames routed to the server (VirtualService hosts / HTTPRoute hostnames).
    pub hosts: Vec<String>,
    /// Istio gateways (`namespace/name`) the VirtualService binds to; empty
    /// means the mesh only.
    pub istio_gateways: Vec<String>,
    /// Gateway API parent Gateway.
    pub gateway: Option<GatewayRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRef {
    pub name: String,
    pub namespace: Option<String>,
    pub section_name: Option<String>,
}

/// Durations serialize as the human form they were written in (`2m`, `30s`).
pub mod duration_serde {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::fleet::duration::format(*d))
    }
}
