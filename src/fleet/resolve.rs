//! From the file as written to the resolved model: each server's settings
//! merged over `defaults` (mappings key by key, lists replaced), built-in
//! defaults filled in, and the checks that need more than one value made.

use std::collections::BTreeMap;

use super::decode::{At, Ctx};
use super::merge::merge;
use super::model::*;
use super::raw::*;

/// Built-in defaults, used when neither the server nor `defaults` says.
pub mod builtin {
    use std::time::Duration;

    pub const REPLICAS: u32 = 2;
    pub const PORT: u16 = 8080;
    pub const PATH: &str = "/mcp";
    pub const CANARY_STEPS: [u32; 4] = [10, 25, 50, 100];
    pub const STEP_DURATION: Duration = Duration::from_secs(60);
    pub const INTERVAL: Duration = Duration::from_secs(30);
    pub const MAX_ERROR_RATE: f64 = 0.01;
    pub const MIN_REQUESTS: u32 = 20;
    pub const FAILURE_LIMIT: u32 = 1;
    /// Range of the analysis queries: several scrapes at the usual 15–30 s.
    pub const WINDOW: Duration = Duration::from_secs(60);
    pub const SCALE_DOWN_DELAY: Duration = Duration::from_secs(600);
    pub const DRAIN_SECONDS: u32 = 15;
    pub const CPU_REQUEST: &str = "100m";
    pub const MEMORY_REQUEST: &str = "128Mi";
    pub const CPU_LIMIT: &str = "500m";
    pub const MEMORY_LIMIT: &str = "256Mi";
    pub const TLS_WARN_DAYS: u32 = 30;
    /// Target CPU utilisation when autoscaling names no target at all.
    pub const TARGET_CPU: u32 = 80;
}

/// `maxErrorRateIncrease` or `maxErrorRateRatio`, not both (they may come
/// from `defaults` and the server: the server's fleet file entry must pick one).
fn error_rate_baseline(cx: &mut Ctx, label: &str, a: &RawAnalysis) -> Option<Baseline> {
    match (&a.max_error_rate_increase, &a.max_error_rate_ratio) {
        (Some(i), Some(r)) => {
            cx.server_error(
                label,
                r.pos,
                &r.path,
                format!(
                    "`maxErrorRateRatio` and `maxErrorRateIncrease` (at {}, line {}) are both set; the error rate is compared with the stable track one way",
                    i.path, i.pos.line
                ),
                Some("keep one of them".into()),
            );
            None
        }
        (Some(i), None) => Some(Baseline::Increase(i.value)),
        (None, Some(r)) => Some(Baseline::Ratio(r.value)),
        (None, None) => None,
    }
}

/// A metric whose every part was valid (errors were reported while reading).
fn metric(m: &RawMetric) -> Option<Metric> {
    let bound = match (&m.max, &m.min) {
        (Some(max), None) => Bound::Max(max.value),
        (None, Some(min)) => Bound::Min(min.value),
        _ => return None,
    };
    Some(Metric {
        name: m.name.as_ref()?.value.clone(),
        query: m.query.as_ref()?.value.clone(),
        bound,
        baseline: match (&m.max_increase, &m.max_ratio) {
            (Some(i), None) => Some(Baseline::Increase(i.value)),
            (None, Some(r)) => Some(Baseline::Ratio(r.value)),
            _ => None,
        },
    })
}

fn val<T: Clone>(o: &Option<At<T>>, default: T) -> T {
    o.as_ref().map_or(default, |a| a.value.clone())
}

fn strings(o: &Option<At<Vec<At<String>>>>) -> Vec<String> {
    o.as_ref().map_or_else(Vec::new, |a| {
        a.value.iter().map(|s| s.value.clone()).collect()
    })
}

fn map(m: &[(At<String>, At<String>)]) -> BTreeMap<String, String> {
    m.iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

/// Resolves the whole fleet, recording every problem in `cx`. Returns a
/// model only when no error was found.
pub fn resolve(cx: &mut Ctx, raw: &RawFleet) -> Option<Fleet> {
    if !raw.is_mapping {
        return None;
    }
    let fleet_name = required(cx, &raw.fleet, raw.pos, "", "fleet", "fleet: acme-tools");
    let namespace = required(
        cx,
        &raw.namespace,
        raw.pos,
        "",
        "namespace",
        "namespace: mcp",
    );
    let mut servers = Vec::new();
    match &raw.servers {
        // A `servers` key of the wrong type has been reported already.
        None if cx.diags.iter().any(|d| d.path == "servers") => {}
        None => cx.error(
            raw.pos,
            "",
            "missing required key `servers`",
            Some("list the servers, each with at least `name` and `image`".into()),
        ),
        Some(list) if list.value.is_empty() => cx.error(
            list.pos,
            &list.path,
            "the fleet has no servers",
            Some("add at least one entry with `name` and `image`".into()),
        ),
        Some(list) => {
            let mut routes = Routes::new();
            for s in &list.value {
                if let Some(server) = resolve_server(
                    cx,
                    fleet_name.as_deref().unwrap_or("fleet"),
                    s,
                    &raw.defaults,
                    &mut routes,
                ) {
                    servers.push(server);
                }
            }
            unique_names(cx, &list.value);
        }
    }
    cx.flush_server_errors();
    if cx.has_errors() {
        return None;
    }
    Some(Fleet {
        name: fleet_name?,
        namespace: namespace?,
        dashboard: val(&raw.dashboard, true),
        servers,
    })
}

fn required(
    cx: &mut Ctx,
    v: &Option<At<String>>,
    pos: super::yaml::Pos,
    path: &str,
    key: &str,
    example: &str,
) -> Option<String> {
    if v.is_none()
        && !cx
            .diags
            .iter()
            .any(|d| d.path == super::decode::join(path, key))
    {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" in `{path}`")
        };
        cx.error(
            pos,
            path,
            format!("missing required key `{key}`{at}"),
            Some(format!("add `{example}`")),
        );
    }
    v.as_ref().map(|a| a.value.clone())
}

fn unique_names(cx: &mut Ctx, servers: &[RawServer]) {
    let mut seen: BTreeMap<&str, &At<String>> = BTreeMap::new();
    for s in servers {
        let Some(name) = &s.name else { continue };
        match seen.get(name.value.as_str()) {
            Some(first) => cx.error(
                name.pos,
                &name.path,
                format!(
                    "duplicate server name `{}`: {} at line {}, column {} has the same name",
                    name.value, first.path, first.pos.line, first.pos.column
                ),
                Some("server names must be unique within a fleet".into()),
            ),
            None => {
                seen.insert(&name.value, name);
            }
        }
    }
}

/// Host and path pairs already routed, with the server and where the host was written.
type Routes = BTreeMap<(String, String), (String, At<String>)>;

fn resolve_server(
    cx: &mut Ctx,
    fleet: &str,
    raw: &RawServer,
    defaults: &Settings,
    routes: &mut Routes,
) -> Option<Server> {
    let name = required(cx, &raw.name, raw.pos, &raw.path, "name", "name: github");
    let image = required(
        cx,
        &raw.image,
        raw.pos,
        &raw.path,
        "image",
        "image: ghcr.io/acme/github-mcp:1.4.2",
    );
    let s = merge(&raw.settings, defaults);
    let label = name.clone().unwrap_or_else(|| raw.path.clone());

    let replicas = val(&s.replicas, builtin::REPLICAS);
    let strategy = val(&s.strategy, Strategy::Rolling);
    let router = val(&s.router, Router::Service);
    let path = val(&s.path, builtin::PATH.to_string());
    if router != Router::Service {
        unique_routes(cx, &label, &path, &s.ingress.hosts, routes);
    }

    let canary = Canary {
        steps: s
            .canary
            .steps
            .as_ref()
            .map_or_else(|| builtin::CANARY_STEPS.to_vec(), |a| a.value.clone()),
        step_duration: val(&s.canary.step_duration, builtin::STEP_DURATION),
        analysis: Analysis {
            interval: val(&s.canary.analysis.interval, builtin::INTERVAL),
            max_error_rate: val(&s.canary.analysis.max_error_rate, builtin::MAX_ERROR_RATE),
            min_requests: val(&s.canary.analysis.min_requests, builtin::MIN_REQUESTS),
            no_data: val(&s.canary.analysis.no_data, NoDataPolicy::Fail),
            failure_limit: val(&s.canary.analysis.failure_limit, builtin::FAILURE_LIMIT),
            query: s.canary.analysis.query.as_ref().map(|a| a.value.clone()),
            window: val(&s.canary.analysis.window, builtin::WINDOW),
            baseline: error_rate_baseline(cx, &label, &s.canary.analysis),
            metrics: s
                .canary
                .analysis
                .metrics
                .as_ref()
                .map(|list| list.value.iter().filter_map(metric).collect())
                .unwrap_or_default(),
        },
    };

    let prometheus = match &s.prometheus {
        Some(p) => match &p.url {
            Some(url) => Some(Prometheus {
                url: url.value.clone(),
            }),
            None => {
                if !cx.reported_under(&p.at.path) {
                    cx.error(
                        p.at.pos,
                        &p.at.path,
                        "`prometheus` needs a `url`",
                        Some("add `url: http://prometheus.monitoring:9090`".into()),
                    );
                }
                None
            }
        },
        None => None,
    };

    if strategy == Strategy::Canary {
        let at = s
            .strategy
            .as_ref()
            .map_or((raw.pos, raw.path.as_str()), |a| (a.pos, a.path.as_str()));
        if s.prometheus.is_none() {
            cx.server_error(
                &label,
                at.0,
                at.1,
                "the canary strategy needs `prometheus.url` for its analysis, and none is set".into(),
                Some("set `prometheus: {url: http://prometheus.monitoring:9090}` in `defaults` or on the server".into()),
            );
        }
        let interval = &canary.analysis.interval;
        if *interval > canary.step_duration {
            let (pos, path) = s
                .canary
                .analysis
                .interval
                .as_ref()
                .map_or(at, |a| (a.pos, a.path.as_str()));
            cx.server_error(
                &label,
                pos,
                path,
                format!(
                    "the analysis interval ({}) is longer than the canary stepDuration ({}), so no sample would be taken in a step",
                    super::duration::format(*interval),
                    super::duration::format(canary.step_duration)
                ),
                Some("shorten `canary.analysis.interval` or lengthen `canary.stepDuration`".into()),
            );
        }
    }

    let tls = match &s.tls {
        Some(t) if val(&t.enabled, true) => Some(Tls {
            secret_name: t
                .secret_name
                .as_ref()
                .map_or_else(|| format!("{label}-tls"), |a| a.value.clone()),
            ca_secret: t
                .ca_secret
                .as_ref()
                .map_or_else(|| format!("{fleet}-ca"), |a| a.value.clone()),
            warn_days: val(&t.warn_days, builtin::TLS_WARN_DAYS),
            dns_names: strings(&t.dns_names),
        }),
        _ => None,
    };

    let resources = resources(cx, &label, &s.resources);
    let autoscaling = autoscaling(cx, &label, replicas, &s.autoscaling);

    let gateway = s.ingress.gateway.as_ref().and_then(|g| {
        let name = match &g.name {
            Some(n) => n.value.clone(),
            None => {
                if !cx.reported_under(&g.at.path) {
                    cx.error(
                        g.at.pos,
                        &g.at.path,
                        "`gateway` needs a `name`",
                        Some("add `name: <Gateway name>`".into()),
                    );
                }
                return None;
            }
        };
        Some(GatewayRef {
            name,
            namespace: g.namespace.as_ref().map(|a| a.value.clone()),
            section_name: g.section_name.as_ref().map(|a| a.value.clone()),
        })
    });
    if router == Router::GatewayApi && s.ingress.gateway.is_none() {
        let (pos, path) = s
            .router
            .as_ref()
            .map_or((raw.pos, raw.path.as_str()), |a| (a.pos, a.path.as_str()));
        cx.server_error(
            &label,
            pos,
            path,
            "the gateway-api router needs `ingress.gateway` for its HTTPRoute, and none is set"
                .into(),
            Some("add `ingress: {gateway: {name: <Gateway>, namespace: <its namespace>}}`".into()),
        );
    }

    let secret_env: Vec<SecretEnv> = s
        .secret_env
        .as_ref()
        .map(|list| {
            list.value
                .iter()
                .filter_map(|e| {
                    Some(SecretEnv {
                        name: e.name.as_ref()?.value.clone(),
                        secret: e.secret.as_ref()?.value.clone(),
                        key: e.key.as_ref()?.value.clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(list) = &s.secret_env {
        for e in &list.value {
            let Some(n) = &e.name else { continue };
            if let Some((k, _)) = s.env.iter().find(|(k, _)| k.value == n.value) {
                cx.server_error(
                    &label,
                    n.pos,
                    &n.path,
                    format!(
                        "`{}` is set both in `env` ({} at line {}) and in `secretEnv`",
                        n.value, k.path, k.pos.line
                    ),
                    Some("keep one of them".into()),
                );
            }
        }
    }

    Some(Server {
        version: raw
            .image_ref
            .as_ref()
            .map(|r| r.version())
            .unwrap_or_default(),
        name: name?,
        image: image?,
        replicas,
        port: val(&s.port, builtin::PORT),
        path,
        env: map(&s.env),
        secret_env,
        resources,
        autoscaling,
        router,
        strategy,
        canary,
        blue_green: BlueGreen {
            scale_down_delay: val(&s.blue_green.scale_down_delay, builtin::SCALE_DOWN_DELAY),
        },
        prometheus,
        tls,
        drain_seconds: val(&s.drain_seconds, builtin::DRAIN_SECONDS),
        ingress: Ingress {
            hosts: strings(&s.ingress.hosts),
            istio_gateways: strings(&s.ingress.istio_gateways),
            gateway,
        },
        allow_from_namespaces: strings(&s.allow_from_namespaces),
        labels: map(&s.labels),
        pod_annotations: map(&s.pod_annotations),
    })
}

/// Two servers routing the same host and path would fight over the requests.
fn unique_routes(
    cx: &mut Ctx,
    server: &str,
    path: &str,
    hosts: &Option<At<Vec<At<String>>>>,
    routes: &mut Routes,
) {
    for host in hosts.iter().flat_map(|h| &h.value) {
        match routes.get(&(host.value.clone(), path.to_string())) {
            Some((first, at)) if first != server => {
                let message = if at.pos == host.pos {
                    format!(
                        "host `{}` with path `{path}` is inherited by several servers, which would all claim its requests; server `{first}` has it first",
                        host.value
                    )
                } else {
                    format!(
                        "host `{}` with path `{path}` is already routed to server `{first}` ({} at line {})",
                        host.value, at.path, at.pos.line
                    )
                };
                cx.server_error(
                    server,
                    host.pos,
                    &host.path,
                    message,
                    Some("give each server its own host, or its own `path`".into()),
                );
            }
            Some(_) => {}
            None => {
                routes.insert(
                    (host.value.clone(), path.to_string()),
                    (server.to_string(), host.clone()),
                );
            }
        }
    }
}

fn resources(cx: &mut Ctx, label: &str, r: &RawResources) -> Resources {
    let q = |o: &Option<At<String>>, d: &str| Some(val(o, d.to_string()));
    let out = Resources {
        requests: ResourceList {
            cpu: q(&r.requests.cpu, builtin::CPU_REQUEST),
            memory: q(&r.requests.memory, builtin::MEMORY_REQUEST),
        },
        limits: ResourceList {
            cpu: q(&r.limits.cpu, builtin::CPU_LIMIT),
            memory: q(&r.limits.memory, builtin::MEMORY_LIMIT),
        },
    };
    // Kubernetes rejects a request above its limit; say so before it does.
    for (what, req, lim, req_at, lim_at) in [
        (
            "cpu",
            &out.requests.cpu,
            &out.limits.cpu,
            &r.requests.cpu,
            &r.limits.cpu,
        ),
        (
            "memory",
            &out.requests.memory,
            &out.limits.memory,
            &r.requests.memory,
            &r.limits.memory,
        ),
    ] {
        let (Some(req), Some(lim)) = (req, lim) else {
            continue;
        };
        let (Ok(a), Ok(b)) = (super::quantity::parse(req), super::quantity::parse(lim)) else {
            continue;
        };
        if a > b {
            let Some(at) = req_at.as_ref().or(lim_at.as_ref()) else {
                continue;
            };
            cx.server_error(
                label,
                at.pos,
                &at.path,
                format!("the {what} request ({req}) is above the {what} limit ({lim})"),
                Some(format!(
                    "raise `resources.limits.{what}` or lower `resources.requests.{what}`"
                )),
            );
        }
    }
    out
}

fn autoscaling(
    cx: &mut Ctx,
    label: &str,
    replicas: u32,
    a: &Option<RawAutoscaling>,
) -> Option<Autoscaling> {
    let a = a.as_ref()?;
    if !val(&a.enabled, true) {
        return None;
    }
    let min = val(&a.min_replicas, replicas.max(1));
    let Some(max) = &a.max_replicas else {
        if !cx.reported_under(&a.at.path) {
            cx.server_error(
                label,
                a.at.pos,
                &a.at.path,
                "`autoscaling` needs `maxReplicas`".into(),
                Some("add `maxReplicas: 10` (or `enabled: false` to turn autoscaling off)".into()),
            );
        }
        return None;
    };
    if min > max.value {
        let at = a.min_replicas.as_ref().unwrap_or(max);
        cx.server_error(
            label,
            at.pos,
            &at.path,
            format!(
                "autoscaling minReplicas ({min}) is above maxReplicas ({})",
                max.value
            ),
            None,
        );
    }
    let custom_metric = match &a.custom_metric {
        None => None,
        Some(m) => match (&m.name, &m.average_value) {
            (Some(n), Some(v)) => Some(CustomMetric {
                name: n.value.clone(),
                average_value: v.value.clone(),
            }),
            _ => {
                if !cx.reported_under(&m.at.path) {
                    cx.error(
                        m.at.pos,
                        &m.at.path,
                        "`customMetric` needs both `name` and `averageValue`",
                        Some(
                            "for example `{name: mcp_active_sessions, averageValue: \"100\"}`"
                                .into(),
                        ),
                    );
                }
                None
            }
        },
    };
    let mut target_cpu_percent = a.target_cpu.as_ref().map(|t| t.value);
    let target_memory_percent = a.target_memory.as_ref().map(|t| t.value);
    if target_cpu_percent.is_none() && target_memory_percent.is_none() && a.custom_metric.is_none()
    {
        target_cpu_percent = Some(builtin::TARGET_CPU);
    }
    Some(Autoscaling {
        min_replicas: min,
        max_replicas: max.value,
        target_cpu_percent,
        target_memory_percent,
        custom_metric,
    })
}
