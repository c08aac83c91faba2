//! The fleet file as written: every setting optional, every value with its
//! position. Decoding checks each value on its own (types, ranges, name
//! rules) and records all problems; merging and cross-field checks happen in
//! `resolve`.

use std::time::Duration;

use super::decode::{At, Ctx, join};
use super::image::{self, ImageRef};
use super::model::{NoDataPolicy, Router, Strategy};
use super::names;
use super::yaml::{Entry, Node, Pos, Value};

pub const TOP_KEYS: &[&str] = &["fleet", "namespace", "defaults", "servers"];

/// Keys allowed both in `defaults` and on a server.
pub const SETTINGS_KEYS: &[&str] = &[
    "replicas",
    "port",
    "path",
    "router",
    "strategy",
    "canary",
    "blueGreen",
    "prometheus",
    "tls",
    "resources",
    "autoscaling",
    "drainSeconds",
    "ingress",
    "allowFromNamespaces",
    "labels",
    "podAnnotations",
    "env",
    "secretEnv",
];

pub const SERVER_ONLY_KEYS: &[&str] = &["name", "image"];
pub const CANARY_KEYS: &[&str] = &["steps", "stepDuration", "analysis"];
pub const ANALYSIS_KEYS: &[&str] = &[
    "interval",
    "maxErrorRate",
    "minRequests",
    "noData",
    "failureLimit",
    "query",
];
pub const BLUE_GREEN_KEYS: &[&str] = &["scaleDownDelay"];
pub const PROMETHEUS_KEYS: &[&str] = &["url"];
pub const TLS_KEYS: &[&str] = &["enabled", "secretName", "caSecret", "warnDays"];
pub const RESOURCES_KEYS: &[&str] = &["requests", "limits"];
pub const RESOURCE_LIST_KEYS: &[&str] = &["cpu", "memory"];
pub const AUTOSCALING_KEYS: &[&str] = &[
    "enabled",
    "minReplicas",
    "maxReplicas",
    "targetCPU",
    "targetMemory",
    "customMetric",
];
pub const CUSTOM_METRIC_KEYS: &[&str] = &["name", "averageValue"];
pub const INGRESS_KEYS: &[&str] = &["hosts", "istioGateways", "gateway"];
pub const GATEWAY_KEYS: &[&str] = &["name", "namespace", "sectionName"];
pub const SECRET_ENV_KEYS: &[&str] = &["name", "secret", "key"];

const ROUTERS: &[(&str, Router)] = &[
    ("service", Router::Service),
    ("istio", Router::Istio),
    ("gateway-api", Router::GatewayApi),
];
const STRATEGIES: &[(&str, Strategy)] = &[
    ("rolling", Strategy::Rolling),
    ("blue-green", Strategy::BlueGreen),
    ("canary", Strategy::Canary),
];
const NO_DATA: &[(&str, NoDataPolicy)] = &[
    ("fail", NoDataPolicy::Fail),
    ("pass", NoDataPolicy::Pass),
    ("ignore", NoDataPolicy::Ignore),
];

type Opt<T> = Option<At<T>>;
type StrMap = Vec<(At<String>, At<String>)>;

#[derive(Debug, Default)]
pub struct RawFleet {
    /// Position of the document (for "missing key" errors).
    pub pos: Pos,
    /// False when the document is not a mapping (already reported).
    pub is_mapping: bool,
    pub fleet: Opt<String>,
    pub namespace: Opt<String>,
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

fn here(node: &Node, path: &str) -> At<()> {
    At::new((), node.pos, path)
}

/// Decodes the whole document.
pub fn decode(cx: &mut Ctx, root: &Node) -> RawFleet {
    let mut raw = RawFleet {
        pos: root.pos,
        ..RawFleet::default()
    };
    let Value::Map(entries) = &root.value else {
        cx.error(
            root.pos,
            "",
            format!("the fleet file must be a mapping with `fleet`, `namespace` and `servers`, found {}", root.describe()),
            Some("run `mcpctl init` to write an example".into()),
        );
        return raw;
    };
    raw.is_mapping = true;
    for e in entries {
        let path = e.key.clone();
        let v = &e.value;
        match e.key.as_str() {
            "fleet" => {
                raw.fleet = cx.checked_string(v, &path, "fleet name", |s| names::dns_label(s, 63))
            }
            "namespace" => {
                raw.namespace =
                    cx.checked_string(v, &path, "namespace", |s| names::dns_label(s, 63))
            }
            "defaults" => {
                if let Some(entries) = cx.entries(v, &path) {
                    for e in entries {
                        if SERVER_ONLY_KEYS.contains(&e.key.as_str()) {
                            cx.error(
                                e.key_pos,
                                &join(&path, &e.key),
                                format!("`{}` cannot be set in `defaults`", e.key),
                                Some(format!("set `{}` on each entry of `servers`", e.key)),
                            );
                        } else if !settings_entry(cx, e, &path, &mut raw.defaults) {
                            cx.unknown_key(&e.key, e.key_pos, &path, SETTINGS_KEYS);
                        }
                    }
                }
            }
            "servers" => {
                if let Some(items) = cx.list(v, &path) {
                    let servers = items
                        .into_iter()
                        .filter_map(|(n, p)| server(cx, n, p))
                        .collect();
                    raw.servers = Some(At::new(servers, v.pos, path));
                }
            }
            _ => cx.unknown_key(&e.key, e.key_pos, "", TOP_KEYS),
        }
    }
    raw
}

fn server(cx: &mut Ctx, node: &Node, path: String) -> Option<RawServer> {
    let entries = cx.entries(node, &path)?;
    let mut s = RawServer {
        pos: node.pos,
        path: path.clone(),
        name: None,
        image: None,
        image_ref: None,
        settings: Settings::default(),
    };
    for e in entries {
        let p = join(&path, &e.key);
        match e.key.as_str() {
            "name" => {
                s.name = cx.checked_string(&e.value, &p, "server name", |n| {
                    names::dns_label(n, names::MAX_SERVER_NAME).map_err(|r| {
                        if r.contains("limit") {
                            format!(
                                "{r}, leaving room for the `{}` suffix mcpctl adds",
                                names::LONGEST_SUFFIX
                            )
                        } else {
                            r
                        }
                    })
                })
            }
            "image" => {
                s.image = cx.string(&e.value, &p);
                if let Some(img) = &s.image {
                    s.image_ref = image_ref(cx, img);
                }
            }
            _ => {
                if !settings_entry(cx, e, &path, &mut s.settings) {
                    let valid: Vec<&str> = SERVER_ONLY_KEYS
                        .iter()
                        .chain(SETTINGS_KEYS)
                        .copied()
                        .collect();
                    cx.unknown_key(&e.key, e.key_pos, &path, &valid);
                }
            }
        }
    }
    Some(s)
}

fn image_ref(cx: &mut Ctx, img: &At<String>) -> Option<ImageRef> {
    match image::parse(&img.value) {
        Ok(r) => {
            let unpinned = match (&r.tag, &r.digest) {
                (Some(t), None) if t == "latest" => Some("uses the `latest` tag"),
                (None, None) => Some("has no tag, so the registry serves `latest`"),
                _ => None,
            };
            if let Some(why) = unpinned {
                cx.warn(
                    img.pos,
                    &img.path,
                    format!(
                        "image `{}` {why}: what runs can change without a deploy",
                        img.value
                    ),
                    Some("pin a version tag (`:1.4.2`) or a digest (`@sha256:…`)".into()),
                );
            }
            Some(r)
        }
        Err(reason) => {
            cx.error(
                img.pos,
                &img.path,
                format!("invalid image reference `{}`: {reason}", img.value),
                Some("write it like `ghcr.io/acme/github-mcp:1.4.2` or `registry/repo@sha256:<64 hex>`".into()),
            );
            None
        }
    }
}

/// Decodes one settings key into `s`; returns false when `e.key` is not a setting.
fn settings_entry(cx: &mut Ctx, e: &Entry, parent: &str, s: &mut Settings) -> bool {
    let path = join(parent, &e.key);
    let p = path.as_str();
    let v = &e.value;
    match e.key.as_str() {
        "replicas" => s.replicas = cx.u32(v, p, 0),
        "port" => {
            s.port = cx
                .int(v, p, 1, 65535)
                .map(|a| At::new(a.value as u16, a.pos, a.path))
        }
        "path" => s.path = cx.checked_string(v, p, "path", http_path),
        "router" => s.router = cx.choice(v, p, ROUTERS),
        "strategy" => s.strategy = cx.choice(v, p, STRATEGIES),
        "canary" => canary(cx, v, p, &mut s.canary),
        "blueGreen" => {
            for e in fields(cx, v, p, BLUE_GREEN_KEYS) {
                let q = join(p, &e.key);
                s.blue_green.scale_down_delay = cx.duration(&e.value, &q);
            }
        }
        "prometheus" => {
            let mut prom = RawPrometheus {
                at: here(v, p),
                url: None,
            };
            for e in fields(cx, v, p, PROMETHEUS_KEYS) {
                prom.url = cx.checked_string(&e.value, &join(p, &e.key), "URL", http_url);
            }
            s.prometheus = Some(prom);
        }
        "tls" => s.tls = tls(cx, v, p),
        "resources" => {
            for e in fields(cx, v, p, RESOURCES_KEYS) {
                let q = join(p, &e.key);
                let list = if e.key == "requests" {
                    &mut s.resources.requests
                } else {
                    &mut s.resources.limits
                };
                for e in fields(cx, &e.value, &q, RESOURCE_LIST_KEYS) {
                    let r = join(&q, &e.key);
                    let value = cx.checked_string(&e.value, &r, "quantity", |t| {
                        super::quantity::parse(t)
                            .map(|_| ())
                            .map_err(|e| format!("is not valid: {e}"))
                    });
                    if e.key == "cpu" {
                        list.cpu = value
                    } else {
                        list.memory = value
                    }
                }
            }
        }
        "autoscaling" => s.autoscaling = autoscaling(cx, v, p),
        "drainSeconds" => {
            s.drain_seconds = cx
                .int(v, p, 0, 3600)
                .map(|a| At::new(a.value as u32, a.pos, a.path))
        }
        "ingress" => ingress(cx, v, p, &mut s.ingress),
        "allowFromNamespaces" => {
            s.allow_from_namespaces =
                string_list(cx, v, p, "namespace", |n| names::dns_label(n, 63))
        }
        "labels" => {
            if let Some(m) =
                cx.string_map(v, p, "label key", names::user_label_key, names::label_value)
            {
                s.labels = m;
            }
        }
        "podAnnotations" => {
            if let Some(m) =
                cx.string_map(v, p, "annotation key", names::user_annotation_key, |_| {
                    Ok(())
                })
            {
                s.pod_annotations = m;
            }
        }
        "env" => {
            if let Some(m) = cx.string_map(v, p, "environment variable", names::env_var, |_| Ok(()))
            {
                s.env = m;
            }
        }
        "secretEnv" => s.secret_env = secret_env(cx, v, p),
        _ => return false,
    }
    true
}

/// The entries of a mapping whose keys are in `valid`; others are reported.
fn fields<'n>(cx: &mut Ctx, node: &'n Node, path: &str, valid: &[&str]) -> Vec<&'n Entry> {
    let Some(entries) = cx.entries(node, path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries {
        if valid.contains(&e.key.as_str()) {
            out.push(e);
        } else {
            cx.unknown_key(&e.key, e.key_pos, path, valid);
        }
    }
    out
}

fn string_list(
    cx: &mut Ctx,
    node: &Node,
    path: &str,
    what: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> Opt<Vec<At<String>>> {
    let items = cx.list(node, path)?;
    let values = items
        .into_iter()
        .filter_map(|(n, p)| cx.checked_string(n, &p, what, &check))
        .collect();
    Some(At::new(values, node.pos, path))
}

fn canary(cx: &mut Ctx, node: &Node, path: &str, c: &mut RawCanary) {
    for e in fields(cx, node, path, CANARY_KEYS) {
        let p = join(path, &e.key);
        match e.key.as_str() {
            "steps" => c.steps = steps(cx, &e.value, &p),
            "stepDuration" => c.step_duration = cx.duration(&e.value, &p),
            _ => {
                let a = &mut c.analysis;
                for e in fields(cx, &e.value, &p, ANALYSIS_KEYS) {
                    let q = join(&p, &e.key);
                    let v = &e.value;
                    match e.key.as_str() {
                        "interval" => a.interval = cx.duration(v, &q),
                        "maxErrorRate" => {
                            a.max_error_rate = cx.number(v, &q).and_then(|r| {
                                if (0.0..=1.0).contains(&r.value) {
                                    Some(r)
                                } else {
                                    cx.error(
                                        r.pos,
                                        &q,
                                        format!("must be between 0 and 1, found {}", v.text),
                                        Some(
                                            "it is a fraction of requests: write 0.01 for 1%"
                                                .into(),
                                        ),
                                    );
                                    None
                                }
                            })
                        }
                        "minRequests" => a.min_requests = cx.u32(v, &q, 0),
                        "noData" => a.no_data = cx.choice(v, &q, NO_DATA),
                        "failureLimit" => a.failure_limit = cx.u32(v, &q, 1),
                        _ => {
                            a.query = cx.checked_string(v, &q, "query", |s| {
                                if s.trim().is_empty() {
                                    Err("is empty".into())
                                } else {
                                    Ok(())
                                }
                            })
                        }
                    }
                }
            }
        }
    }
}

/// Canary steps: traffic percentages in 1..=100, strictly increasing, ending at 100.
fn steps(cx: &mut Ctx, node: &Node, path: &str) -> Opt<Vec<u32>> {
    let items = cx.list(node, path)?;
    if items.is_empty() {
        cx.error(
            node.pos,
            path,
            "canary steps must not be empty",
            Some("for example `[10, 25, 50, 100]`".into()),
        );
        return None;
    }
    let mut ok = true;
    let mut values: Vec<At<u32>> = Vec::new();
    for (n, p) in items {
        let Some(v) = cx.int(n, &p, 1, 100) else {
            ok = false;
            continue;
        };
        let v = At::new(v.value as u32, v.pos, v.path);
        if let Some(prev) = values.last()
            && v.value <= prev.value
        {
            cx.error(
                v.pos,
                &p,
                format!(
                    "canary steps must strictly increase: {} follows {}",
                    v.value, prev.value
                ),
                None,
            );
            ok = false;
        }
        values.push(v);
    }
    if let Some(last) = values.last()
        && ok
        && last.value != 100
    {
        cx.error(
            last.pos,
            &last.path,
            format!("the last canary step must be 100, found {}", last.value),
            Some("end the list with 100 so that the new version takes all traffic".into()),
        );
        ok = false;
    }
    ok.then(|| {
        At::new(
            values.into_iter().map(|v| v.value).collect(),
            node.pos,
            path,
        )
    })
}

fn tls(cx: &mut Ctx, node: &Node, path: &str) -> Option<RawTls> {
    let mut t = RawTls {
        at: here(node, path),
        enabled: None,
        secret_name: None,
        ca_secret: None,
        warn_days: None,
    };
    for e in fields(cx, node, path, TLS_KEYS) {
        let p = join(path, &e.key);
        let v = &e.value;
        match e.key.as_str() {
            "enabled" => t.enabled = cx.boolean(v, &p),
            "secretName" => {
                t.secret_name = cx.checked_string(v, &p, "Secret name", names::dns_subdomain)
            }
            "caSecret" => {
                t.ca_secret = cx.checked_string(v, &p, "Secret name", names::dns_subdomain)
            }
            _ => t.warn_days = cx.u32(v, &p, 1),
        }
    }
    Some(t)
}

fn autoscaling(cx: &mut Ctx, node: &Node, path: &str) -> Option<RawAutoscaling> {
    let mut a = RawAutoscaling {
        at: here(node, path),
        enabled: None,
        min_replicas: None,
        max_replicas: None,
        target_cpu: None,
        target_memory: None,
        custom_metric: None,
    };
    for e in fields(cx, node, path, AUTOSCALING_KEYS) {
        let p = join(path, &e.key);
        let v = &e.value;
        match e.key.as_str() {
            "enabled" => a.enabled = cx.boolean(v, &p),
            "minReplicas" => a.min_replicas = cx.u32(v, &p, 1),
            "maxReplicas" => a.max_replicas = cx.u32(v, &p, 1),
            "targetCPU" => a.target_cpu = cx.u32(v, &p, 1),
            "targetMemory" => a.target_memory = cx.u32(v, &p, 1),
            _ => {
                let mut m = RawCustomMetric {
                    at: here(v, &p),
                    name: None,
                    average_value: None,
                };
                for e in fields(cx, v, &p, CUSTOM_METRIC_KEYS) {
                    let q = join(&p, &e.key);
                    if e.key == "name" {
                        m.name = cx.checked_string(&e.value, &q, "metric name", metric_name);
                    } else {
                        m.average_value = cx.checked_string(&e.value, &q, "quantity", |t| {
                            super::quantity::parse(t)
                                .map(|_| ())
                                .map_err(|e| format!("is not valid: {e}"))
                        });
                    }
                }
                a.custom_metric = Some(m);
            }
        }
    }
    Some(a)
}

fn ingress(cx: &mut Ctx, node: &Node, path: &str, i: &mut RawIngress) {
    for e in fields(cx, node, path, INGRESS_KEYS) {
        let p = join(path, &e.key);
        let v = &e.value;
        match e.key.as_str() {
            "hosts" => i.hosts = string_list(cx, v, &p, "host name", names::hostname),
            "istioGateways" => i.istio_gateways = string_list(cx, v, &p, "gateway", istio_gateway),
            _ => {
                let mut g = RawGateway {
                    at: here(v, &p),
                    name: None,
                    namespace: None,
                    section_name: None,
                };
                for e in fields(cx, v, &p, GATEWAY_KEYS) {
                    let q = join(&p, &e.key);
                    match e.key.as_str() {
                        "name" => {
                            g.name = cx.checked_string(
                                &e.value,
                                &q,
                                "Gateway name",
                                names::dns_subdomain,
                            )
                        }
                        "namespace" => {
                            g.namespace = cx.checked_string(&e.value, &q, "namespace", |n| {
                                names::dns_label(n, 63)
                            })
                        }
                        _ => {
                            g.section_name = cx.checked_string(
                                &e.value,
                                &q,
                                "section name",
                                names::dns_subdomain,
                            )
                        }
                    }
                }
                i.gateway = Some(g);
            }
        }
    }
}

fn secret_env(cx: &mut Ctx, node: &Node, path: &str) -> Opt<Vec<RawSecretEnv>> {
    let items = cx.list(node, path)?;
    let mut out: Vec<RawSecretEnv> = Vec::new();
    for (n, p) in items {
        let mut s = RawSecretEnv {
            at: here(n, &p),
            name: None,
            secret: None,
            key: None,
        };
        for e in fields(cx, n, &p, SECRET_ENV_KEYS) {
            let q = join(&p, &e.key);
            match e.key.as_str() {
                "name" => {
                    s.name = cx.checked_string(&e.value, &q, "environment variable", names::env_var)
                }
                "secret" => {
                    s.secret = cx.checked_string(&e.value, &q, "Secret name", names::dns_subdomain)
                }
                _ => s.key = cx.checked_string(&e.value, &q, "Secret key", names::secret_key),
            }
        }
        let missing: Vec<&str> = [
            ("name", s.name.is_none()),
            ("secret", s.secret.is_none()),
            ("key", s.key.is_none()),
        ]
        .into_iter()
        .filter(|(k, none)| *none && !has_key(n, k))
        .map(|(k, _)| k)
        .collect();
        if !missing.is_empty() && matches!(n.value, Value::Map(_)) {
            cx.error(
                n.pos,
                &p,
                format!(
                    "secretEnv entry is missing {}",
                    missing
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(
                    "write it like `{name: GITHUB_TOKEN, secret: github-token, key: token}`".into(),
                ),
            );
        }
        if let Some(name) = &s.name
            && let Some(first) = out
                .iter()
                .filter_map(|o| o.name.as_ref())
                .find(|o| o.value == name.value)
        {
            cx.error(
                name.pos,
                &name.path,
                format!(
                    "`{}` is already set by {} (line {})",
                    name.value, first.path, first.pos.line
                ),
                None,
            );
        }
        out.push(s);
    }
    Some(At::new(out, node.pos, path))
}

fn has_key(node: &Node, key: &str) -> bool {
    matches!(&node.value, Value::Map(entries) if entries.iter().any(|e| e.key == key))
}

fn http_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err("must start with `/`".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces".into());
    }
    Ok(())
}

/// An absolute `http` or `https` URL with a host.
pub fn http_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or("must start with `http://` or `https://`")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if host_port.starts_with('[') {
        match host_port.split_once(']') {
            Some((h, p)) => (&h[1..], p.strip_prefix(':')),
            None => return Err("has an unclosed `[` in the host".into()),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.chars().any(|c| {
        c.is_whitespace() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
    }) {
        return Err(format!("has an invalid host `{host}`"));
    }
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |n| n == 0)
    {
        return Err(format!("has an invalid port `{p}`"));
    }
    if s.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".into());
    }
    Ok(())
}

fn istio_gateway(s: &str) -> Result<(), String> {
    match s.split_once('/') {
        Some((ns, name)) => {
            names::dns_label(ns, 63).map_err(|e| format!("namespace part {e}"))?;
            names::dns_subdomain(name).map_err(|e| format!("name part {e}"))
        }
        None => names::dns_subdomain(s),
    }
}

fn metric_name(s: &str) -> Result<(), String> {
    let ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err("is not a valid metric name".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(http_url("http://prometheus.monitoring:9090").is_ok());
        assert!(http_url("https://prom.example.com/prefix").is_ok());
        assert!(http_url("http://[::1]:9090").is_ok());
        assert!(http_url("prometheus:9090").unwrap_err().contains("http://"));
        assert!(http_url("http://").unwrap_err().contains("no host"));
        assert!(http_url("http://prom:99999").unwrap_err().contains("port"));
        assert!(http_url("ftp://x").is_err());
    }

    #[test]
    fn istio_gateways() {
        assert!(istio_gateway("istio-system/public").is_ok());
        assert!(istio_gateway("mesh").is_ok());
        assert!(istio_gateway("Bad/x").is_err());
    }
}
