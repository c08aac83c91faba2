//! Reading the nested blocks of the settings: canary (with its analysis),
//! TLS, autoscaling, ingress and secretEnv.

use super::checks;
use super::decode::{At, Ctx, join};
use super::names;
use super::raw::*;
use super::read::{fields, here, string_list};
use super::shape;
use super::yaml::{Node, Value};

pub(super) fn canary(cx: &mut Ctx, node: &Node, path: &str, c: &mut RawCanary) {
    for e in fields(cx, node, path, &shape::CANARY) {
        let p = join(path, &e.key);
        match e.key.as_str() {
            "steps" => c.steps = steps(cx, &e.value, &p),
            "stepDuration" => c.step_duration = cx.duration(&e.value, &p),
            _ => analysis(cx, &e.value, &p, &mut c.analysis),
        }
    }
}

fn analysis(cx: &mut Ctx, node: &Node, path: &str, a: &mut RawAnalysis) {
    for e in fields(cx, node, path, &shape::ANALYSIS) {
        let q = join(path, &e.key);
        let v = &e.value;
        match e.key.as_str() {
            "interval" => a.interval = cx.duration(v, &q),
            "maxErrorRate" => {
                a.max_error_rate = ranged(
                    cx,
                    v,
                    &q,
                    |r| (0.0..=1.0).contains(&r),
                    "must be between 0 and 1",
                    "it is a fraction of requests: write 0.01 for 1%",
                )
            }
            "minRequests" => a.min_requests = cx.u32(v, &q, 0),
            "noData" => a.no_data = cx.choice(v, &q, NO_DATA),
            "failureLimit" => a.failure_limit = cx.u32(v, &q, 1),
            "window" => {
                a.window = cx.duration(v, &q).and_then(|d| {
                    if d.value >= std::time::Duration::from_secs(1) {
                        Some(d)
                    } else {
                        cx.error(
                            d.pos,
                            &q,
                            format!("must be at least 1s, found {}", v.text),
                            Some(
                                "the window should cover several scrapes, for example `1m`".into(),
                            ),
                        );
                        None
                    }
                })
            }
            "maxErrorRateIncrease" => {
                a.max_error_rate_increase = ranged(
                    cx,
                    v,
                    &q,
                    |r| (0.0..=1.0).contains(&r),
                    "must be between 0 and 1",
                    "it is a fraction of requests added to the stable error rate: 0.005 is half a point",
                )
            }
            "maxErrorRateRatio" => {
                a.max_error_rate_ratio = ranged(
                    cx,
                    v,
                    &q,
                    |r| r >= 1.0,
                    "must be 1 or more",
                    "it multiplies the stable error rate: 1.5 allows 50% more errors",
                )
            }
            "metrics" => a.metrics = metrics(cx, v, &q),
            _ => a.query = query_template(cx, v, &q),
        }
    }
}

/// A number that must satisfy `ok`; else an error saying what it `must` be.
fn ranged(
    cx: &mut Ctx,
    node: &Node,
    path: &str,
    ok: impl Fn(f64) -> bool,
    must: &str,
    hint: &str,
) -> Opt<f64> {
    let r = cx.number(node, path)?;
    if ok(r.value) {
        return Some(r);
    }
    cx.error(
        r.pos,
        path,
        format!("{must}, found {}", node.text),
        Some(hint.into()),
    );
    None
}

/// A PromQL query template whose placeholders are all known variables.
fn query_template(cx: &mut Ctx, node: &Node, path: &str) -> Opt<String> {
    cx.checked_string(node, path, "query", |s| {
        if s.trim().is_empty() {
            return Err("is empty".into());
        }
        crate::gate::query::check(s).map_err(|e| format!("is not a valid template: {e}"))
    })
}

/// `canary.analysis.metrics`: further metrics, each `{name, query, max | min,
/// maxIncrease | maxRatio}`.
fn metrics(cx: &mut Ctx, node: &Node, path: &str) -> Opt<Vec<RawMetric>> {
    let items = cx.list(node, path)?;
    let mut out: Vec<RawMetric> = Vec::new();
    for (n, p) in items {
        let mut m = RawMetric {
            at: here(n, &p),
            name: None,
            query: None,
            max: None,
            min: None,
            max_increase: None,
            max_ratio: None,
        };
        for e in fields(cx, n, &p, &shape::METRIC) {
            let q = join(&p, &e.key);
            let v = &e.value;
            match e.key.as_str() {
                "name" => {
                    m.name = cx.checked_string(v, &q, "metric name", checks::analysis_metric_name)
                }
                "query" => m.query = query_template(cx, v, &q),
                "max" => m.max = cx.number(v, &q),
                "min" => m.min = cx.number(v, &q),
                "maxIncrease" => {
                    m.max_increase = ranged(
                        cx,
                        v,
                        &q,
                        |r| r >= 0.0,
                        "must be 0 or more",
                        "it is added to the stable value",
                    )
                }
                _ => {
                    m.max_ratio = ranged(
                        cx,
                        v,
                        &q,
                        |r| r >= 1.0,
                        "must be 1 or more",
                        "it multiplies the stable value: 1.5 allows 50% worse",
                    )
                }
            }
        }
        if matches!(n.value, Value::Map(_)) {
            require(
                cx,
                n,
                &p,
                &[("name", m.name.is_none()), ("query", m.query.is_none())],
                "metric",
                "write it like `{name: p95-latency, query: '...', max: 2}`",
            );
            metric_thresholds(cx, n, &p);
        }
        unique_name(cx, &m.name, out.iter().map(|o| &o.name), |v| {
            format!("metric `{v}` is already defined by")
        });
        out.push(m);
    }
    Some(At::new(out, node.pos, path))
}

/// Exactly one of `max` and `min`; a baseline only with `max`, one way.
fn metric_thresholds(cx: &mut Ctx, n: &Node, p: &str) {
    match (has_key(n, "max"), has_key(n, "min")) {
        (true, true) => cx.error(
            n.pos,
            p,
            "metric sets both `max` and `min`",
            Some("keep the one on the unhealthy side".into()),
        ),
        (false, false) => cx.error(
            n.pos,
            p,
            "metric has no threshold",
            Some("add `max: VALUE` (fails above it) or `min: VALUE` (fails below it)".into()),
        ),
        _ => {}
    }
    if has_key(n, "maxIncrease") && has_key(n, "maxRatio") {
        cx.error(
            n.pos,
            p,
            "metric sets both `maxIncrease` and `maxRatio`",
            Some("a baseline comparison uses one of them".into()),
        );
    }
    if (has_key(n, "maxIncrease") || has_key(n, "maxRatio")) && !has_key(n, "max") {
        cx.error(
            n.pos,
            p,
            "`maxIncrease` and `maxRatio` compare against the stable track and need a `max` threshold",
            None,
        );
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

pub(super) fn tls(cx: &mut Ctx, node: &Node, path: &str) -> Option<RawTls> {
    let mut t = RawTls {
        at: here(node, path),
        enabled: None,
        secret_name: None,
        ca_secret: None,
        warn_days: None,
        dns_names: None,
    };
    for e in fields(cx, node, path, &shape::TLS) {
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
            "dnsNames" => t.dns_names = string_list(cx, v, &p, "DNS name", names::hostname),
            _ => t.warn_days = cx.u32(v, &p, 1),
        }
    }
    Some(t)
}

pub(super) fn autoscaling(cx: &mut Ctx, node: &Node, path: &str) -> Option<RawAutoscaling> {
    let mut a = RawAutoscaling {
        at: here(node, path),
        enabled: None,
        min_replicas: None,
        max_replicas: None,
        target_cpu: None,
        target_memory: None,
        custom_metric: None,
    };
    for e in fields(cx, node, path, &shape::AUTOSCALING) {
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
                for e in fields(cx, v, &p, &shape::CUSTOM_METRIC) {
                    let q = join(&p, &e.key);
                    if e.key == "name" {
                        m.name =
                            cx.checked_string(&e.value, &q, "metric name", checks::metric_name);
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

pub(super) fn ingress(cx: &mut Ctx, node: &Node, path: &str, i: &mut RawIngress) {
    for e in fields(cx, node, path, &shape::INGRESS) {
        let p = join(path, &e.key);
        let v = &e.value;
        match e.key.as_str() {
            "hosts" => i.hosts = string_list(cx, v, &p, "host name", names::hostname),
            "istioGateways" => {
                i.istio_gateways = string_list(cx, v, &p, "gateway", checks::istio_gateway)
            }
            _ => {
                let mut g = RawGateway {
                    at: here(v, &p),
                    name: None,
                    namespace: None,
                    section_name: None,
                };
                for e in fields(cx, v, &p, &shape::GATEWAY) {
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

pub(super) fn secret_env(cx: &mut Ctx, node: &Node, path: &str) -> Opt<Vec<RawSecretEnv>> {
    let items = cx.list(node, path)?;
    let mut out: Vec<RawSecretEnv> = Vec::new();
    for (n, p) in items {
        let mut s = RawSecretEnv {
            at: here(n, &p),
            name: None,
            secret: None,
            key: None,
        };
        for e in fields(cx, n, &p, &shape::SECRET_ENV) {
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
        if matches!(n.value, Value::Map(_)) {
            require(
                cx,
                n,
                &p,
                &[
                    ("name", s.name.is_none()),
                    ("secret", s.secret.is_none()),
                    ("key", s.key.is_none()),
                ],
                "secretEnv entry",
                "write it like `{name: GITHUB_TOKEN, secret: github-token, key: token}`",
            );
        }
        unique_name(cx, &s.name, out.iter().map(|o| &o.name), |v| {
            format!("`{v}` is already set by")
        });
        out.push(s);
    }
    Some(At::new(out, node.pos, path))
}

/// Reports the keys of a list entry that are missing (`none` and not written
/// at all: a key written with a bad value was reported already).
fn require(cx: &mut Ctx, n: &Node, path: &str, keys: &[(&str, bool)], what: &str, hint: &str) {
    let missing: Vec<String> = keys
        .iter()
        .filter(|(k, none)| *none && !has_key(n, k))
        .map(|(k, _)| format!("`{k}`"))
        .collect();
    if !missing.is_empty() {
        cx.error(
            n.pos,
            path,
            format!("{what} is missing {}", missing.join(", ")),
            Some(hint.into()),
        );
    }
}

/// Reports `name` when an earlier entry of the list has it; `taken` starts
/// the message ("`x` is already set by"), the first entry's place ends it.
fn unique_name<'a>(
    cx: &mut Ctx,
    name: &Opt<String>,
    earlier: impl Iterator<Item = &'a Opt<String>>,
    taken: impl Fn(&str) -> String,
) {
    let Some(name) = name else { return };
    if let Some(first) = earlier.flatten().find(|o| o.value == name.value) {
        cx.error(
            name.pos,
            &name.path,
            format!(
                "{} {} (line {})",
                taken(&name.value),
                first.path,
                first.pos.line
            ),
            None,
        );
    }
}

fn has_key(node: &Node, key: &str) -> bool {
    matches!(&node.value, Value::Map(entries) if entries.iter().any(|e| e.key == key))
}
