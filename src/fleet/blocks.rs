//! Reading the nested blocks of the settings: canary (with its analysis),
//! TLS, autoscaling, ingress and secretEnv.

use super::checks;
use super::decode::{At, Ctx, join};
use super::names;
use super::raw::*;
use super::read::{fields, here, string_list};
use super::yaml::{Node, Value};

pub(super) fn canary(cx: &mut Ctx, node: &Node, path: &str, c: &mut RawCanary) {
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

pub(super) fn tls(cx: &mut Ctx, node: &Node, path: &str) -> Option<RawTls> {
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
    for e in fields(cx, node, path, INGRESS_KEYS) {
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
