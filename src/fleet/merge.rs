//! Laying a server's settings over `defaults`: scalars and lists from the
//! server win whole; mappings (env, labels, podAnnotations) merge key by key;
//! nested blocks (canary, tls, autoscaling…) merge field by field.

use super::decode::At;
use super::raw::*;

fn pick<T: Clone>(over: &Option<T>, under: &Option<T>) -> Option<T> {
    over.clone().or_else(|| under.clone())
}

/// Mappings merge key by key; the server's value wins.
fn merge_map(
    over: &[(At<String>, At<String>)],
    under: &[(At<String>, At<String>)],
) -> Vec<(At<String>, At<String>)> {
    let mut out: Vec<_> = over.to_vec();
    for (k, v) in under {
        if !over.iter().any(|(o, _)| o.value == k.value) {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

/// `over` (a server's settings) merged onto `under` (`defaults`).
pub fn merge(over: &Settings, under: &Settings) -> Settings {
    Settings {
        replicas: pick(&over.replicas, &under.replicas),
        port: pick(&over.port, &under.port),
        path: pick(&over.path, &under.path),
        router: pick(&over.router, &under.router),
        strategy: pick(&over.strategy, &under.strategy),
        canary: RawCanary {
            steps: pick(&over.canary.steps, &under.canary.steps),
            step_duration: pick(&over.canary.step_duration, &under.canary.step_duration),
            analysis: {
                let (o, u) = (&over.canary.analysis, &under.canary.analysis);
                RawAnalysis {
                    interval: pick(&o.interval, &u.interval),
                    max_error_rate: pick(&o.max_error_rate, &u.max_error_rate),
                    min_requests: pick(&o.min_requests, &u.min_requests),
                    no_data: pick(&o.no_data, &u.no_data),
                    failure_limit: pick(&o.failure_limit, &u.failure_limit),
                    query: pick(&o.query, &u.query),
                    window: pick(&o.window, &u.window),
                    max_error_rate_increase: pick(
                        &o.max_error_rate_increase,
                        &u.max_error_rate_increase,
                    ),
                    max_error_rate_ratio: pick(&o.max_error_rate_ratio, &u.max_error_rate_ratio),
                    metrics: pick(&o.metrics, &u.metrics),
                }
            },
        },
        blue_green: RawBlueGreen {
            scale_down_delay: pick(
                &over.blue_green.scale_down_delay,
                &under.blue_green.scale_down_delay,
            ),
        },
        prometheus: match (&over.prometheus, &under.prometheus) {
            (Some(o), Some(u)) => Some(RawPrometheus {
                at: o.at.clone(),
                url: pick(&o.url, &u.url),
            }),
            (o, u) => pick(o, u),
        },
        tls: match (&over.tls, &under.tls) {
            (Some(o), Some(u)) => Some(RawTls {
                at: o.at.clone(),
                enabled: pick(&o.enabled, &u.enabled),
                secret_name: pick(&o.secret_name, &u.secret_name),
                ca_secret: pick(&o.ca_secret, &u.ca_secret),
                warn_days: pick(&o.warn_days, &u.warn_days),
                dns_names: pick(&o.dns_names, &u.dns_names),
            }),
            (o, u) => pick(o, u),
        },
        resources: {
            let list = |o: &RawResourceList, u: &RawResourceList| RawResourceList {
                cpu: pick(&o.cpu, &u.cpu),
                memory: pick(&o.memory, &u.memory),
            };
            RawResources {
                requests: list(&over.resources.requests, &under.resources.requests),
                limits: list(&over.resources.limits, &under.resources.limits),
            }
        },
        autoscaling: match (&over.autoscaling, &under.autoscaling) {
            (Some(o), Some(u)) => Some(RawAutoscaling {
                at: o.at.clone(),
                enabled: pick(&o.enabled, &u.enabled),
                min_replicas: pick(&o.min_replicas, &u.min_replicas),
                max_replicas: pick(&o.max_replicas, &u.max_replicas),
                target_cpu: pick(&o.target_cpu, &u.target_cpu),
                target_memory: pick(&o.target_memory, &u.target_memory),
                custom_metric: match (&o.custom_metric, &u.custom_metric) {
                    (Some(a), Some(b)) => Some(RawCustomMetric {
                        at: a.at.clone(),
                        name: pick(&a.name, &b.name),
                        average_value: pick(&a.average_value, &b.average_value),
                    }),
                    (a, b) => pick(a, b),
                },
            }),
            (o, u) => pick(o, u),
        },
        drain_seconds: pick(&over.drain_seconds, &under.drain_seconds),
        ingress: RawIngress {
            hosts: pick(&over.ingress.hosts, &under.ingress.hosts),
            istio_gateways: pick(&over.ingress.istio_gateways, &under.ingress.istio_gateways),
            gateway: match (&over.ingress.gateway, &under.ingress.gateway) {
                (Some(o), Some(u)) => Some(RawGateway {
                    at: o.at.clone(),
                    name: pick(&o.name, &u.name),
                    namespace: pick(&o.namespace, &u.namespace),
                    section_name: pick(&o.section_name, &u.section_name),
                }),
                (o, u) => pick(o, u),
            },
        },
        allow_from_namespaces: pick(&over.allow_from_namespaces, &under.allow_from_namespaces),
        labels: merge_map(&over.labels, &under.labels),
        pod_annotations: merge_map(&over.pod_annotations, &under.pod_annotations),
        env: merge_map(&over.env, &under.env),
        secret_env: pick(&over.secret_env, &under.secret_env),
    }
}
