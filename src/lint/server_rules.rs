//! Rules about a server as a whole, or about how its workloads relate to other
//! objects: replicas and disruption budgets, network policy, TLS, alerts, and
//! the canary's Prometheus URL.

use serde_json::Value;

use super::selector;
use super::workload::{Context, Workload, array};
use super::*;
use crate::fleet::{Server, Strategy};

pub(crate) fn check(ctx: &Context<'_>, hits: &mut Vec<Hit>) {
    disruption_budgets(ctx, hits);
    network_policies(ctx, hits);
    for server in ctx.rendered_servers() {
        let Some(primary) = primary(ctx, &server.name) else {
            continue;
        };
        ha_replicas(ctx, server, hits);
        tls(ctx, server, primary, hits);
        alerts(ctx, server, primary, hits);
        canary_prometheus(ctx, server, primary, hits);
    }
}

/// The object findings about a whole server point at: its workload that runs
/// the most replicas (the stable track or active colour), else its first object.
fn primary(ctx: &Context<'_>, server: &str) -> Option<usize> {
    most_replicas(ctx, ctx.workloads_of(server).filter(|w| w.serving))
        .map(|(_, w)| w.index)
        .or_else(|| ctx.objects_of(server).next())
}

/// The first of `workloads` with the most replicas, and that count.
fn most_replicas<'w, 'a: 'w>(
    ctx: &Context<'a>,
    workloads: impl Iterator<Item = &'w Workload<'a>>,
) -> Option<(u64, &'w Workload<'a>)> {
    let mut best: Option<(u64, &Workload<'_>)> = None;
    for w in workloads {
        let n = ctx.min_replicas(w);
        if best.is_none_or(|(b, _)| n > b) {
            best = Some((n, w));
        }
    }
    best
}

fn ha_replicas(ctx: &Context<'_>, server: &Server, hits: &mut Vec<Hit>) {
    let replicated = ctx.workloads_of(&server.name).filter(|w| w.replicated);
    let Some((n, w)) = most_replicas(ctx, replicated) else {
        return;
    };
    if n >= 2 {
        return;
    }
    let message = if n == 0 {
        format!("no workload of server `{}` runs any replica", server.name)
    } else {
        format!(
            "server `{}` runs a single replica ({} {}): losing one pod is an outage",
            server.name,
            w.object.kind(),
            w.object.name()
        )
    };
    hits.push(Hit::new(w.index, HA_REPLICAS, message).with_fix(format!(
        "set `replicas: 2` (or `autoscaling.minReplicas: 2`) for server `{}` in the fleet file",
        server.name
    )));
}

/// Whether a workload runs pods now (replicas > 0) and its count matters.
fn is_active(ctx: &Context<'_>, w: &Workload<'_>) -> bool {
    w.replicated && w.serving && ctx.min_replicas(w) > 0
}

fn disruption_budgets(ctx: &Context<'_>, hits: &mut Vec<Hit>) {
    for w in ctx.workloads.iter().filter(|w| is_active(ctx, w)) {
        let covered = ctx
            .may_select("PodDisruptionBudget", w)
            .any(|(_, pdb)| selector::matches(&pdb.value["spec"]["selector"], w.pod_labels));
        if !covered {
            hits.push(Hit::new(
                w.index,
                PDB_PRESENT,
                format!(
                    "no PodDisruptionBudget selects the pods of {} {}: a node drain may evict them all at once",
                    w.object.kind(),
                    w.object.name()
                ),
            ));
        }
    }

    for (i, pdb) in ctx.of_kind("PodDisruptionBudget") {
        let ns = ctx.namespace_of(i);
        let sel = &pdb.value["spec"]["selector"];
        let covered: u64 = ctx
            .maybe_selected_by(sel)
            .filter(|w| is_active(ctx, w))
            .filter(|w| ctx.namespace_of(w.index) == ns && selector::matches(sel, w.pod_labels))
            .map(|w| ctx.min_replicas(w))
            .sum();
        if covered == 0 {
            continue;
        }
        if let Some(why) = blocks_eviction(&pdb.value["spec"], covered) {
            hits.push(Hit::new(
                i,
                PDB_ALLOWS_EVICTION,
                format!("{why}: node drains will block"),
            ));
        }
    }
}

/// Why a PDB allows no voluntary eviction of `replicas` pods, if it does not.
fn blocks_eviction(spec: &Value, replicas: u64) -> Option<String> {
    let pct = |v: &Value| {
        v.as_str()
            .and_then(|s| s.strip_suffix('%'))
            .and_then(|p| p.trim().parse::<u64>().ok())
    };
    let max_unavailable = &spec["maxUnavailable"];
    if max_unavailable.as_u64() == Some(0) || pct(max_unavailable) == Some(0) {
        return Some(format!("maxUnavailable is {max_unavailable}"));
    }
    let min_available = &spec["minAvailable"];
    if let Some(n) = min_available.as_u64()
        && n >= replicas
    {
        return Some(format!(
            "minAvailable {n} is not below the {replicas} replica(s) it covers"
        ));
    }
    if pct(min_available) == Some(100) {
        return Some("minAvailable is 100%".into());
    }
    None
}

fn network_policies(ctx: &Context<'_>, hits: &mut Vec<Hit>) {
    for w in ctx.workloads.iter().filter(|w| w.serving) {
        let covered = ctx.may_select("NetworkPolicy", w).any(|(_, np)| {
            let spec = &np.value["spec"];
            // With no policyTypes, Ingress always applies (NetworkPolicySpec docs).
            let ingress = spec["policyTypes"].is_null()
                || array(&spec["policyTypes"]).any(|t| t.as_str() == Some("Ingress"));
            ingress && selector::matches(&spec["podSelector"], w.pod_labels)
        });
        if !covered {
            hits.push(Hit::new(
                w.index,
                NETWORK_POLICY,
                format!(
                    "no NetworkPolicy with Ingress selects the pods of {} {}: any pod in the cluster can reach them",
                    w.object.kind(),
                    w.object.name()
                ),
            ));
        }
    }
}

/// Secret names a pod spec mounts as volumes (plain or projected).
fn mounted_secrets(pod_spec: &Value) -> impl Iterator<Item = &str> {
    array(&pod_spec["volumes"]).flat_map(|v| {
        let plain = v["secret"]["secretName"].as_str();
        let projected =
            array(&v["projected"]["sources"]).filter_map(|s| s["secret"]["name"].as_str());
        plain.into_iter().chain(projected)
    })
}

/// Whether an Istio DestinationRule sets a TLS mode for its traffic.
fn istio_tls(obj: &Object) -> bool {
    let mode = obj.value["spec"]["trafficPolicy"]["tls"]["mode"]
        .as_str()
        .unwrap_or("DISABLE");
    obj.kind() == "DestinationRule" && mode != "DISABLE"
}

fn tls(ctx: &Context<'_>, server: &Server, primary: usize, hits: &mut Vec<Hit>) {
    let mesh = ctx
        .objects_of(&server.name)
        .any(|i| istio_tls(&ctx.objects[i]));
    if mesh {
        return;
    }
    let message = match &server.tls {
        Some(t) => {
            let mounted = ctx
                .workloads_of(&server.name)
                .filter(|w| w.serving)
                .all(|w| mounted_secrets(w.pod_spec).any(|s| s == t.secret_name));
            if mounted {
                return;
            }
            let hit = Hit::new(
                primary,
                TLS_CONFIGURED,
                format!(
                    "the fleet sets tls.secretName `{}` for server `{}`, but not every rendered workload mounts that Secret",
                    t.secret_name, server.name
                ),
            );
            hits.push(hit.with_fix(format!(
                "mount Secret `{}` in the Deployment template (a template override dropped it)",
                t.secret_name
            )));
            return;
        }
        None => format!(
            "server `{}` serves plain HTTP: no TLS certificate is configured and no Istio TLS mode is set",
            server.name
        ),
    };
    hits.push(Hit::new(primary, TLS_CONFIGURED, message));
}

fn alerts(ctx: &Context<'_>, server: &Server, primary: usize, hits: &mut Vec<Hit>) {
    let rules: Vec<usize> = ctx
        .objects_of(&server.name)
        .filter(|i| ctx.objects[*i].kind() == "PrometheusRule")
        .collect();
    let alert_count = rules
        .iter()
        .flat_map(|i| array(&ctx.objects[*i].value["spec"]["groups"]))
        .flat_map(|g| array(&g["rules"]))
        .filter(|r| r["alert"].as_str().is_some_and(|a| !a.is_empty()))
        .count();
    if alert_count > 0 {
        return;
    }
    let hit = match rules.first() {
        Some(&i) => Hit::new(
            i,
            ALERTS_PRESENT,
            format!(
                "PrometheusRule of server `{}` defines no alert",
                server.name
            ),
        ),
        None => Hit::new(
            primary,
            ALERTS_PRESENT,
            format!(
                "no PrometheusRule for server `{}`: nobody is paged when it is down",
                server.name
            ),
        ),
    };
    hits.push(hit);
}

fn canary_prometheus(ctx: &Context<'_>, server: &Server, primary: usize, hits: &mut Vec<Hit>) {
    if server.strategy != Strategy::Canary {
        return;
    }
    if server
        .prometheus
        .as_ref()
        .is_some_and(|p| !p.url.trim().is_empty())
    {
        return;
    }
    let canary = ctx
        .workloads_of(&server.name)
        .find(|w| w.object.name().ends_with("-canary"))
        .map_or(primary, |w| w.index);
    hits.push(Hit::new(
        canary,
        CANARY_PROMETHEUS,
        format!(
            "server `{}` uses the canary strategy but has no Prometheus URL: its analysis gates cannot run",
            server.name
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Prometheus;
    use crate::lint::testutil::*;
    use serde_json::json;

    fn only(findings: Vec<Finding>, rule: &str) -> Vec<Finding> {
        findings.into_iter().filter(|f| f.rule == rule).collect()
    }

    fn lint_one(edit: impl FnOnce(&mut Server, &mut Vec<Object>)) -> Vec<Finding> {
        let mut s = server("github");
        let mut objs = good_objects("github");
        edit(&mut s, &mut objs);
        lint(&fleet_of(vec![s]), &objs)
    }

    fn remove_kind(objs: &mut Vec<Object>, kind: &str) {
        objs.retain(|o| o.kind() != kind);
    }

    #[test]
    fn mcp007_ha_replicas() {
        assert!(only(lint_one(|_, _| {}), HA_REPLICAS).is_empty());
        let f = only(
            lint_one(|_, o| {
                remove_kind(o, "HorizontalPodAutoscaler");
                deployment_mut(o, "github")["spec"]["replicas"] = 1.into();
            }),
            HA_REPLICAS,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "Deployment/mcp/github");
        assert!(f[0].message.contains("single replica"), "{}", f[0].message);
        // An HPA's minReplicas wins over spec.replicas.
        let f = only(
            lint_one(|_, o| {
                deployment_mut(o, "github")["spec"]["replicas"] = 1.into();
            }),
            HA_REPLICAS,
        );
        assert!(f.is_empty(), "HPA minReplicas 2 should satisfy: {f:?}");
        let f = only(
            lint_one(|_, o| {
                object_mut(o, "HorizontalPodAutoscaler")["spec"]["minReplicas"] = 1.into()
            }),
            HA_REPLICAS,
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn mcp007_idle_track_does_not_count_against_ha() {
        let f = lint_one(|_, o| {
            let mut canary = deployment_mut(o, "github").clone();
            canary["metadata"]["name"] = "github-canary".into();
            canary["spec"]["replicas"] = 0.into();
            o.push(Object { value: canary });
        });
        assert!(only(f.clone(), HA_REPLICAS).is_empty(), "{f:#?}");
        assert!(only(f, PDB_PRESENT).is_empty());
    }

    #[test]
    fn mcp008_pdb_present() {
        assert!(only(lint_one(|_, _| {}), PDB_PRESENT).is_empty());
        let f = only(
            lint_one(|_, o| remove_kind(o, "PodDisruptionBudget")),
            PDB_PRESENT,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "Deployment/mcp/github");
        // A PDB in another namespace, or selecting other pods, does not count.
        let f = only(
            lint_one(|_, o| {
                object_mut(o, "PodDisruptionBudget")["metadata"]["namespace"] = "other".into()
            }),
            PDB_PRESENT,
        );
        assert_eq!(f.len(), 1);
        let f = only(
            lint_one(|_, o| {
                object_mut(o, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] =
                    "gitlab".into()
            }),
            PDB_PRESENT,
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn mcp008_pdb_selecting_by_other_labels_counts() {
        let f = lint_one(|_, o| {
            object_mut(o, "PodDisruptionBudget")["spec"]["selector"] =
                json!({"matchLabels": {"app.kubernetes.io/instance": "github"}});
        });
        assert!(only(f, PDB_PRESENT).is_empty());
        let f = lint_one(|_, o| {
            object_mut(o, "PodDisruptionBudget")["spec"]["selector"] =
                json!({"matchLabels": {"app.kubernetes.io/instance": "github"}});
            object_mut(o, "PodDisruptionBudget")["spec"]["minAvailable"] = 2.into();
            object_mut(o, "PodDisruptionBudget")["spec"]
                .as_object_mut()
                .unwrap()
                .remove("maxUnavailable");
        });
        assert_eq!(only(f, PDB_ALLOWS_EVICTION).len(), 1);
    }

    #[test]
    fn mcp009_pdb_allows_eviction() {
        assert!(only(lint_one(|_, _| {}), PDB_ALLOWS_EVICTION).is_empty());
        let f = only(
            lint_one(|_, o| {
                let spec = &mut object_mut(o, "PodDisruptionBudget")["spec"];
                spec.as_object_mut().unwrap().remove("maxUnavailable");
                spec["minAvailable"] = 2.into();
            }),
            PDB_ALLOWS_EVICTION,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "PodDisruptionBudget/mcp/github");
        assert!(
            f[0].message
                .contains("minAvailable 2 is not below the 2 replica(s)"),
            "{}",
            f[0].message
        );
        let f = only(
            lint_one(|_, o| {
                object_mut(o, "PodDisruptionBudget")["spec"]["maxUnavailable"] = "0%".into()
            }),
            PDB_ALLOWS_EVICTION,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn mcp012_network_policy() {
        assert!(only(lint_one(|_, _| {}), NETWORK_POLICY).is_empty());
        let f = only(
            lint_one(|_, o| remove_kind(o, "NetworkPolicy")),
            NETWORK_POLICY,
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("Deployment github"),
            "{}",
            f[0].message
        );
        // Egress-only policies do not restrict who reaches the server.
        let f = only(
            lint_one(|_, o| {
                object_mut(o, "NetworkPolicy")["spec"]["policyTypes"] = json!(["Egress"])
            }),
            NETWORK_POLICY,
        );
        assert_eq!(f.len(), 1);
        // A namespace-wide policy (empty podSelector) counts.
        let f = only(
            lint_one(|_, o| object_mut(o, "NetworkPolicy")["spec"]["podSelector"] = json!({})),
            NETWORK_POLICY,
        );
        assert!(f.is_empty());
    }

    #[test]
    fn mcp013_tls() {
        assert!(only(lint_one(|_, _| {}), TLS_CONFIGURED).is_empty());
        let f = only(lint_one(|s, _| s.tls = None), TLS_CONFIGURED);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("plain HTTP"));
        assert_eq!(f[0].severity, Severity::Warning);
        // A template override that drops the certificate volume is caught.
        let f = only(
            lint_one(|_, o| {
                deployment_mut(o, "github")["spec"]["template"]["spec"]["volumes"] = json!([]);
            }),
            TLS_CONFIGURED,
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("tls.secretName `github-tls`"),
            "{}",
            f[0].message
        );
        // Istio mTLS through a DestinationRule counts as TLS.
        let f = only(
            lint_one(|s, o| {
                s.tls = None;
                o.push(Object {
                    value: json!({
                        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                        "metadata": {"name": "github", "namespace": "mcp", "labels": {"app.kubernetes.io/name": "github"}},
                        "spec": {"host": "github", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
                    }),
                });
            }),
            TLS_CONFIGURED,
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn mcp014_alerts() {
        assert!(only(lint_one(|_, _| {}), ALERTS_PRESENT).is_empty());
        let f = only(
            lint_one(|_, o| remove_kind(o, "PrometheusRule")),
            ALERTS_PRESENT,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "Deployment/mcp/github");
        let f = only(
            lint_one(|_, o| {
                object_mut(o, "PrometheusRule")["spec"]["groups"][0]["rules"] =
                    json!([{"record": "x:rate5m", "expr": "rate(x[5m])"}])
            }),
            ALERTS_PRESENT,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "PrometheusRule/mcp/github");
    }

    #[test]
    fn mcp017_canary_needs_prometheus() {
        let canary = |s: &mut Server| s.strategy = Strategy::Canary;
        assert!(only(lint_one(|s, _| canary(s)), CANARY_PROMETHEUS).is_empty());
        let f = only(
            lint_one(|s, _| {
                canary(s);
                s.prometheus = None;
            }),
            CANARY_PROMETHEUS,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        let f = only(
            lint_one(|s, _| {
                canary(s);
                s.prometheus = Some(Prometheus { url: " ".into() });
            }),
            CANARY_PROMETHEUS,
        );
        assert_eq!(f.len(), 1);
        // Rolling servers need no Prometheus.
        assert!(only(lint_one(|s, _| s.prometheus = None), CANARY_PROMETHEUS).is_empty());
    }

    #[test]
    fn servers_not_rendered_are_not_linted() {
        let fleet = fleet_of(vec![server("github"), {
            let mut s = server("postgres");
            s.strategy = Strategy::Canary;
            s.prometheus = None;
            s
        }]);
        let f = lint(&fleet, &good_objects("github"));
        assert!(f.is_empty(), "{f:#?}");
    }
}
