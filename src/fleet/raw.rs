//! The fleet file as written: every setting optional, every value with its
//! position. `read` fills these from the YAML tree, checking each value on its
//! own; `merge` lays servers over `defaults`; `resolve` makes the model.

use std::time::Duration;

use super::decode::At;
use super::image::ImageRef;
use super::model::{NoDataPolicy, Router, Strategy};
use super::yaml::Pos;

/// The words of each choice, matched to the model's values; the names are
/// `shape`'s (a test checks they are the same).
pub const ROUTERS: &[(&str, Router)] = &[
    ("service", Router::Service),
    ("istio", Router::Istio),
    ("gateway-api", Router::GatewayApi),
];
pub const STRATEGIES: &[(&str, Strategy)] = &[
    ("rolling", Strategy::Rolling),
    ("blue-green", Strategy::BlueGreen),
    ("canary", Strategy::Canary),
];
pub const NO_DATA: &[(&str, NoDataPolicy)] = &[
    ("fail", NoDataPolicy::Fail),
    ("pass", NoDataPolicy::Pass),
    ("ignore", NoDataPolicy::Ignore),
];

pub type Opt<T> = Option<At<T>>;
pub type StrMap = Vec<(At<String>, At<String>)>;

#[derive(Debug, Default)]
pub struct RawFleet {
    /// Position of the document (for "missing key" errors).
    pub pos: Pos,
    /// False when the document is not a mapping (already reported).
    pub is_mapping: bool,
    pub fleet: Opt<String>,
    pub namespace: Opt<String>,
    /// `dashboard.enabled`.
    pub dashboard: Opt<bool>,
    pub defaults: Settings,
    /// `None` when the `servers` key is missing.
    pub servers: Option<At<Vec<RawServer>>>,
}

#[derive(Debug, Clone)]
pub struct RawServer {
    pub pos: Pos,
    pub path: String,
    pub name: Opt<String>,
    pub image: Opt<String>,
    pub image_ref: Option<ImageRef>,
    pub settings: Settings,
}

/// Every setting a server can take, as written in `defaults` or on a server.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub replicas: Opt<u32>,
    pub port: Opt<u16>,
    pub path: Opt<String>,
    pub router: Opt<Router>,
    pub strategy: Opt<Strategy>,
    pub canary: RawCanary,
    pub blue_green: RawBlueGreen,
    pub prometheus: Option<RawPrometheus>,
    pub tls: Option<RawTls>,
    pub resources: RawResources,
    pub autoscaling: Option<RawAutoscaling>,
    pub drain_seconds: Opt<u32>,
    pub ingress: RawIngress,
    pub allow_from_namespaces: Opt<Vec<At<String>>>,
    pub labels: StrMap,
    pub pod_annotations: StrMap,
    pub env: StrMap,
    pub secret_env: Opt<Vec<RawSecretEnv>>,
}

#[derive(Debug, Clone, Default)]
pub struct RawCanary {
    pub steps: Opt<Vec<u32>>,
    pub step_duration: Opt<Duration>,
    pub analysis: RawAnalysis,
}

#[derive(Debug, Clone, Default)]
pub struct RawAnalysis {
    pub interval: Opt<Duration>,
    pub max_error_rate: Opt<f64>,
    pub min_requests: Opt<u32>,
    pub no_data: Opt<NoDataPolicy>,
    pub failure_limit: Opt<u32>,
    pub query: Opt<String>,
    pub window: Opt<Duration>,
    pub max_error_rate_increase: Opt<f64>,
    pub max_error_rate_ratio: Opt<f64>,
    pub metrics: Opt<Vec<RawMetric>>,
}

#[derive(Debug, Clone)]
pub struct RawMetric {
    pub at: At<()>,
    pub name: Opt<String>,
    pub query: Opt<String>,
    pub max: Opt<f64>,
    pub min: Opt<f64>,
    pub max_increase: Opt<f64>,
    pub max_ratio: Opt<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct RawBlueGreen {
    pub scale_down_delay: Opt<Duration>,
}

#[derive(Debug, Clone)]
pub struct RawPrometheus {
    pub at: At<()>,
    pub url: Opt<String>,
}

#[derive(Debug, Clone)]
pub struct RawTls {
    pub at: At<()>,
    pub enabled: Opt<bool>,
    pub secret_name: Opt<String>,
    pub ca_secret: Opt<String>,
    pub warn_days: Opt<u32>,
    pub dns_names: Opt<Vec<At<String>>>,
}

#[derive(Debug, Clone, Default)]
pub struct RawResources {
    pub requests: RawResourceList,
    pub limits: RawResourceList,
}

#[derive(Debug, Clone, Default)]
pub struct RawResourceList {
    pub cpu: Opt<String>,
    pub memory: Opt<String>,
}

#[derive(Debug, Clone)]
pub struct RawAutoscaling {
    pub at: At<()>,
    pub enabled: Opt<bool>,
    pub min_replicas: Opt<u32>,
    pub max_replicas: Opt<u32>,
    pub target_cpu: Opt<u32>,
    pub target_memory: Opt<u32>,
    pub custom_metric: Option<RawCustomMetric>,
}

#[derive(Debug, Clone)]
pub struct RawCustomMetric {
    pub at: At<()>,
    pub name: Opt<String>,
    pub average_value: Opt<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawIngress {
    pub hosts: Opt<Vec<At<String>>>,
    pub istio_gateways: Opt<Vec<At<String>>>,
    pub gateway: Option<RawGateway>,
}

#[derive(Debug, Clone)]
pub struct RawGateway {
    pub at: At<()>,
    pub name: Opt<String>,
    pub namespace: Opt<String>,
    pub section_name: Opt<String>,
}

#[derive(Debug, Clone)]
pub struct RawSecretEnv {
    pub at: At<()>,
    pub name: Opt<String>,
    pub secret: Opt<String>,
    pub key: Opt<String>,
}
