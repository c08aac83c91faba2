//! Rendering tests: snapshots of every strategy × router, the typed
//! round-trip of core objects, the CRD schemas of routing and monitoring
//! objects, and the invariants selectors and labels must keep.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::fleet::*;

/// A server with the fleet file's defaults and the values these tests (and
/// their snapshots) rely on: env that needs escaping, a Secret reference, no
/// CPU limit, a gateway for gateway-api.
pub(crate) fn server(name: &str, strategy: Strategy, router: Router) -> Server {
    let base = crate::fleet::testing::server(name, &format!("ghcr.io/acme/{name}-mcp:1.4.2"));
    Server {
        replicas: 3,
        env: BTreeMap::from([
            ("LOG_LEVEL".to_string(), "info".to_string()),
            (
                "GREETING".to_string(),
                "say \"hi\": {yes} # not a comment".to_string(),
            ),
        ]),
        secret_env: vec![SecretEnv {
            name: "API_TOKEN".into(),
            secret: format!("{name}-secrets"),
            key: "token".into(),
        }],
        resources: Resources {
            limits: ResourceList {
                cpu: None,
                memory: Some("256Mi".into()),
            },
            ..base.resources.clone()
        },
        router,
        strategy,
        canary: Canary {
            step_duration: Duration::from_secs(120),
            ..base.canary.clone()
        },
        prometheus: Some(Prometheus {
            url: "http://prometheus.monitoring:9090".into(),
        }),
        drain_seconds: 20,
        ingress: Ingress {
            gateway: match router {
                Router::GatewayApi => Some(GatewayRef {
                    name: "public".into(),
                    namespace: Some("gateways".into()),
                    section_name: None,
                }),
                _ => None,
            },
            ..base.ingress.clone()
        },
        ..base
    }
}

fn fleet(servers: Vec<Server>) -> Fleet {
    crate::fleet::testing::fleet("acme-tools", servers)
}

fn render(f: &Fleet) -> Vec<Object> {
    Renderer::new(None)
        .unwrap()
        .render_fleet(f, &[], &RenderOptions::default())
        .unwrap()
}

fn kinds(objs: &[Object]) -> Vec<String> {
    objs.iter()
        .map(|o| format!("{}/{}", o.kind(), o.name()))
        .collect()
}

fn find<'a>(objs: &'a [Object], kind: &str, name: &str) -> &'a Object {
    objs.iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:?}", kinds(objs)))
}

/// One server per strategy × router, with the optional features spread over them.
fn all_combinations() -> Vec<Server> {
    let mut out = Vec::new();
    for strategy in [Strategy::Rolling, Strategy::BlueGreen, Strategy::Canary] {
        for router in [Router::Service, Router::Istio, Router::GatewayApi] {
            let s = format!("{strategy:?}-{router:?}")
                .to_ascii_lowercase()
                .replace("bluegreen", "bg");
            let s = s.replace("gatewayapi", "gw");
            out.push(server(&s, strategy, router));
        }
    }
    out
}

/// The richest server: TLS, autoscaling with a custom metric, hosts, gateways,
/// extra labels and annotations, allowed namespaces.
fn rich(strategy: Strategy, router: Router) -> Server {
    let mut s = server("github", strategy, router);
    s.tls = Some(Tls {
        secret_name: "github-tls".into(),
        ca_secret: "mcp-ca".into(),
        warn_days: 30,
        dns_names: Vec::new(),
    });
    s.autoscaling = Some(Autoscaling {
        min_replicas: 2,
        max_replicas: 10,
        target_cpu_percent: Some(70),
        target_memory_percent: Some(80),
        custom_metric: Some(CustomMetric {
            name: "mcp_active_sessions".into(),
            average_value: "100".into(),
        }),
    });
    s.ingress.hosts = vec!["github.mcp.example.com".into()];
    s.ingress.istio_gateways = vec!["istio-system/public".into()];
    s.ingress.gateway = Some(GatewayRef {
        name: "public".into(),
        namespace: None,
        section_name: Some("https".into()),
    });
    s.allow_from_namespaces = vec!["agents".into(), "mcp".into()];
    s.labels = BTreeMap::from([("team".to_string(), "dev-tools".to_string())]);
    s.pod_annotations =
        BTreeMap::from([("example.com/owner".to_string(), "dev-tools".to_string())]);
    s
}

#[test]
fn objects_per_strategy_and_router() {
    let objs = render(&fleet(all_combinations()));
    let by_server = |n: &str| -> Vec<String> {
        kinds(
            &objs
                .iter()
                .filter(|o| o.server() == n)
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        by_server("rolling-service"),
        [
            "ServiceAccount/rolling-service",
            "ConfigMap/rolling-service-config",
            "Deployment/rolling-service",
            "Service/rolling-service",
            "PodDisruptionBudget/rolling-service",
            "NetworkPolicy/rolling-service",
            "ServiceMonitor/rolling-service",
            "PrometheusRule/rolling-service",
        ]
    );
    let bg = by_server("bg-istio");
    for want in [
        "Deployment/bg-istio-blue",
        "Deployment/bg-istio-green",
        "Service/bg-istio",
        "Service/bg-istio-preview",
        "DestinationRule/bg-istio",
        "VirtualService/bg-istio",
    ] {
        assert!(bg.contains(&want.to_string()), "{want} missing from {bg:?}");
    }
    let canary = by_server("canary-gw");
    for want in [
        "Deployment/canary-gw",
        "Deployment/canary-gw-canary",
        "Service/canary-gw",
        "Service/canary-gw-stable",
        "Service/canary-gw-canary",
        "HTTPRoute/canary-gw",
    ] {
        assert!(
            canary.contains(&want.to_string()),
            "{want} missing from {canary:?}"
        );
    }
    assert!(!canary.iter().any(|k| k.starts_with("VirtualService")));
    assert!(
        !by_server("canary-service")
            .iter()
            .any(|k| k.starts_with("HTTPRoute") || k.starts_with("Virtual"))
    );
}

#[test]
fn snapshots_per_strategy_and_router() {
    for s in all_combinations() {
        let name = s.name.clone();
        let objs = render(&fleet(vec![s]));
        insta::assert_snapshot!(name, to_yaml(&objs));
    }
}

#[test]
fn snapshot_rich_servers() {
    for (strategy, router, name) in [
        (Strategy::Canary, Router::Istio, "rich-canary-istio"),
        (Strategy::BlueGreen, Router::GatewayApi, "rich-bg-gateway"),
    ] {
        let objs = render(&fleet(vec![rich(strategy, router)]));
        insta::assert_snapshot!(name, to_yaml(&objs));
    }
}

#[test]
fn same_input_same_bytes() {
    let f = fleet(all_combinations());
    let a = to_yaml(&render(&f));
    let b = to_yaml(
        &Renderer::new(None)
            .unwrap()
            .render_fleet(&f, &[], &RenderOptions::default())
            .unwrap(),
    );
    assert_eq!(a, b);
}

#[test]
fn yaml_output_parses_back_to_the_same_objects() {
    let mut servers = all_combinations();
    servers.push(rich(Strategy::Canary, Router::Istio));
    let objs = render(&fleet(servers));
    let text = to_yaml(&objs);
    let back: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let orig: Vec<Value> = objs.into_iter().map(|o| o.value).collect();
    assert_eq!(orig, back);
}

fn every_object() -> Vec<Object> {
    let mut servers = all_combinations();
    for strategy in [Strategy::Rolling, Strategy::BlueGreen, Strategy::Canary] {
        for router in [Router::Service, Router::Istio, Router::GatewayApi] {
            let mut s = rich(strategy, router);
            s.name = format!("rich-{}", servers.len());
            servers.push(s);
        }
    }
    let f = fleet(servers);
    let mut objs = render(&f);
    // Old clusters get the exec preStop hook.
    let old = RenderOptions {
        kube_version: KubeVersion::parse("1.28").unwrap(),
        ..Default::default()
    };
    objs.extend(
        Renderer::new(None)
            .unwrap()
            .render_fleet(&f, &[], &old)
            .unwrap(),
    );
    objs
}

#[test]
fn core_objects_round_trip_through_k8s_openapi() {
    let mut checked = 0;
    for o in every_object() {
        if typed::is_core(&o) {
            typed::check(&o).unwrap_or_else(|e| panic!("{e}"));
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} core objects checked");
}

#[test]
fn custom_resources_validate_against_the_real_crd_schemas() {
    let crds = test_apiserver::schema::load_crds(test_apiserver::bundled_crds_dir());
    let mut checked = BTreeMap::<String, usize>::new();
    for o in every_object() {
        if typed::is_core(&o) {
            continue;
        }
        let (group, version) = o
            .api_version()
            .split_once('/')
            .expect("custom resources have a group");
        let crd = crds
            .iter()
            .find(|c| c.group == group && c.kind == o.kind())
            .unwrap_or_else(|| panic!("no CRD for {} {}", o.api_version(), o.kind()));
        let schema = crd
            .schema_for(version)
            .unwrap_or_else(|| panic!("CRD {} has no version {version}", crd.name));
        let errors = test_apiserver::schema::validate(schema, &o.value);
        assert!(errors.is_empty(), "{} {}: {errors:#?}", o.kind(), o.name());
        *checked.entry(o.kind().to_string()).or_default() += 1;
    }
    let kinds: Vec<&str> = checked.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        [
            "DestinationRule",
            "HTTPRoute",
            "PrometheusRule",
            "ServiceMonitor",
            "VirtualService"
        ]
    );
}

#[test]
fn schema_validation_catches_a_misspelt_field_and_a_wrong_type() {
    let crds = test_apiserver::schema::load_crds(test_apiserver::bundled_crds_dir());
    let objs = render(&fleet(vec![server("x", Strategy::Canary, Router::Istio)]));
    let vs = find(&objs, "VirtualService", "x").value.clone();
    let crd = crds.iter().find(|c| c.kind == "VirtualService").unwrap();
    let schema = crd.schema_for("v1").unwrap();
    assert!(test_apiserver::schema::validate(schema, &vs).is_empty());

    let mut misspelt = vs.clone();
    let route = misspelt["spec"]["http"][0].as_object_mut().unwrap();
    let r = route.remove("route").unwrap();
    route.insert("routes".into(), r);
    let errors = test_apiserver::schema::validate(schema, &misspelt);
    assert!(
        errors.iter().any(|e| e.path == ".spec.http[0].routes"),
        "{errors:#?}"
    );

    let mut wrong = vs.clone();
    wrong["spec"]["http"][0]["route"][0]["weight"] = Value::String("ten".into());
    let errors = test_apiserver::schema::validate(schema, &wrong);
    assert!(
        errors
            .iter()
            .any(|e| e.path == ".spec.http[0].route[0].weight"),
        "{errors:#?}"
    );
}

#[test]
fn selectors_never_use_the_version_label() {
    for o in every_object() {
        let v = &o.value;
        let selectors = [
            &v["spec"]["selector"]["matchLabels"],
            &v["spec"]["selector"],
            &v["spec"]["podSelector"]["matchLabels"],
        ];
        for s in selectors {
            if let Some(m) = s.as_object() {
                assert!(
                    !m.contains_key(context::labels::VERSION),
                    "{} {} selects by version",
                    o.kind(),
                    o.name()
                );
            }
        }
    }
}

/// The fleet file may not set the labels mcpctl sets itself (else a user label
/// would be overwritten, or change a selector): every label key an object
/// gets without the fleet file's `labels` must be one the loader refuses.
#[test]
fn labels_mcpctl_sets_are_reserved_in_the_fleet_file() {
    use crate::fleet::names::{RESERVED_LABELS, RESERVED_PREFIX};
    let servers = all_combinations();
    assert!(servers.iter().all(|s| s.labels.is_empty()));
    for o in render(&fleet(servers)) {
        let mut maps = vec![&o.value["metadata"]["labels"]];
        maps.push(&o.value["spec"]["template"]["metadata"]["labels"]);
        for key in maps
            .iter()
            .filter_map(|m| m.as_object())
            .flat_map(|m| m.keys())
        {
            assert!(
                RESERVED_LABELS.contains(&key.as_str()) || key.starts_with(RESERVED_PREFIX),
                "{} {}: label {key} is set by mcpctl but a fleet file may set it too",
                o.kind(),
                o.name()
            );
        }
    }
}

#[test]
fn every_object_has_the_standard_labels_and_namespace() {
    for o in every_object() {
        let l = &o.value["metadata"]["labels"];
        for key in [
            context::labels::NAME,
            context::labels::INSTANCE,
            context::labels::VERSION,
            context::labels::PART_OF,
            context::labels::COMPONENT,
        ] {
            assert!(
                l[key].is_string(),
                "{} {} lacks label {key}",
                o.kind(),
                o.name()
            );
        }
        assert_eq!(l[context::labels::MANAGED_BY], "mcpctl");
        assert_eq!(l[context::labels::PART_OF], "acme-tools");
        assert_eq!(o.namespace(), "mcp", "{} {}", o.kind(), o.name());
        assert!(o.name().len() <= 63);
    }
}

#[test]
fn blue_green_fresh_install_and_switched_state() {
    let s = server("pg", Strategy::BlueGreen, Router::Service);
    let f = fleet(vec![s]);
    let objs = render(&f);
    assert_eq!(
        find(&objs, "Deployment", "pg-blue").value["spec"]["replicas"],
        3
    );
    assert_eq!(
        find(&objs, "Deployment", "pg-green").value["spec"]["replicas"],
        0
    );
    assert_eq!(
        find(&objs, "Service", "pg").value["spec"]["selector"]["mcpctl.io/colour"],
        "blue"
    );
    assert_eq!(
        find(&objs, "Service", "pg-preview").value["spec"]["selector"]["mcpctl.io/colour"],
        "green"
    );
    let pod_labels =
        &find(&objs, "Deployment", "pg-green").value["spec"]["template"]["metadata"]["labels"];
    assert_eq!(pod_labels["mcpctl.io/colour"], "green");

    let mut state = RolloutState {
        active_colour: Colour::Green,
        ..Default::default()
    };
    state.tracks.insert(
        Track::Green,
        TrackState {
            image: Some("ghcr.io/acme/pg-mcp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into()),
            replicas: None,
        },
    );
    let opts = RenderOptions {
        rollout: BTreeMap::from([("pg".to_string(), state)]),
        ..Default::default()
    };
    let objs = Renderer::new(None)
        .unwrap()
        .render_fleet(&f, &[], &opts)
        .unwrap();
    let green = &find(&objs, "Deployment", "pg-green").value;
    assert_eq!(green["spec"]["replicas"], 3);
    assert_eq!(
        green["metadata"]["labels"]["app.kubernetes.io/version"],
        "sha256-0123456789ab"
    );
    assert_eq!(
        green["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/pg-mcp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        find(&objs, "Deployment", "pg-blue").value["spec"]["replicas"],
        0
    );
    assert_eq!(
        find(&objs, "Service", "pg").value["spec"]["selector"]["mcpctl.io/colour"],
        "green"
    );
    // Objects shared by both colours carry the version that serves traffic
    // (green's), not the fleet file's; the idle colour keeps its own.
    for (kind, name) in [
        ("Service", "pg"),
        ("Service", "pg-preview"),
        ("ConfigMap", "pg-config"),
        ("PodDisruptionBudget", "pg"),
    ] {
        assert_eq!(
            find(&objs, kind, name).value["metadata"]["labels"]["app.kubernetes.io/version"],
            "sha256-0123456789ab",
            "{kind}/{name}"
        );
    }
    assert_eq!(
        find(&objs, "Deployment", "pg-blue").value["metadata"]["labels"]["app.kubernetes.io/version"],
        f.servers[0].version.as_str()
    );
}

#[test]
fn canary_weights_reach_the_routers_and_replicas() {
    for router in [Router::Service, Router::Istio, Router::GatewayApi] {
        let f = fleet(vec![server("gh", Strategy::Canary, router)]);
        let fresh = render(&f);
        assert_eq!(
            find(&fresh, "Deployment", "gh-canary").value["spec"]["replicas"],
            0
        );
        assert_eq!(
            find(&fresh, "Deployment", "gh").value["spec"]["replicas"],
            3
        );

        let state = RolloutState {
            canary_weight: 25,
            ..Default::default()
        };
        let opts = RenderOptions {
            rollout: BTreeMap::from([("gh".to_string(), state)]),
            ..Default::default()
        };
        let objs = Renderer::new(None)
            .unwrap()
            .render_fleet(&f, &[], &opts)
            .unwrap();
        assert_eq!(
            find(&objs, "Deployment", "gh-canary").value["spec"]["replicas"],
            1
        );
        match router {
            Router::Istio => {
                let route = &find(&objs, "VirtualService", "gh").value["spec"]["http"][0]["route"];
                assert_eq!(route[0]["destination"]["subset"], "stable");
                assert_eq!(route[0]["weight"], 75);
                assert_eq!(route[1]["destination"]["subset"], "canary");
                assert_eq!(route[1]["weight"], 25);
            }
            Router::GatewayApi => {
                let refs = &find(&objs, "HTTPRoute", "gh").value["spec"]["rules"][0]["backendRefs"];
                assert_eq!(refs[0]["name"], "gh-stable");
                assert_eq!(refs[0]["weight"], 75);
                assert_eq!(refs[1]["name"], "gh-canary");
                assert_eq!(refs[1]["weight"], 25);
            }
            Router::Service => {
                // Without a mesh, the replica ratio splits traffic.
                assert_eq!(find(&objs, "Deployment", "gh").value["spec"]["replicas"], 2);
            }
        }
        // The main Service selects both tracks; per-track Services one each.
        let main = &find(&objs, "Service", "gh").value["spec"]["selector"];
        assert!(main.get("mcpctl.io/track").is_none());
        assert_eq!(
            find(&objs, "Service", "gh-canary").value["spec"]["selector"]["mcpctl.io/track"],
            "canary"
        );
    }
}

#[test]
fn hpa_targets_the_primary_deployment_which_then_has_no_replica_count() {
    let objs = render(&fleet(vec![rich(Strategy::BlueGreen, Router::Service)]));
    let hpa = &find(&objs, "HorizontalPodAutoscaler", "github").value;
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "github-blue");
    assert_eq!(hpa["spec"]["metrics"].as_array().unwrap().len(), 3);
    assert!(
        find(&objs, "Deployment", "github-blue").value["spec"]
            .get("replicas")
            .is_none()
    );
    assert_eq!(
        find(&objs, "Deployment", "github-green").value["spec"]["replicas"],
        0
    );
}

#[test]
fn pre_stop_depends_on_the_kube_version() {
    let f = fleet(vec![server("a", Strategy::Rolling, Router::Service)]);
    let r = Renderer::new(None).unwrap();
    let pre_stop = |v: &str| {
        let opts = RenderOptions {
            kube_version: KubeVersion::parse(v).unwrap(),
            ..Default::default()
        };
        let objs = r.render_fleet(&f, &[], &opts).unwrap();
        find(&objs, "Deployment", "a").value["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]
            .clone()
    };
    assert_eq!(
        pre_stop("1.30"),
        serde_json::json!({"sleep": {"seconds": 20}})
    );
    assert_eq!(
        pre_stop("v1.29.4"),
        serde_json::json!({"exec": {"command": ["sleep", "20"]}})
    );
    let objs = render(&f);
    let spec = &find(&objs, "Deployment", "a").value["spec"]["template"]["spec"];
    assert_eq!(spec["terminationGracePeriodSeconds"], 50);
}

#[test]
fn values_are_escaped_not_interpreted() {
    let mut s = server("esc", Strategy::Rolling, Router::Service);
    s.env
        .insert("TRICKY".into(), "a: b\n- c\n---\n{{ x }}".into());
    s.env.insert("NUMBERISH".into(), "0755".into());
    s.env.insert("BOOLISH".into(), "yes".into());
    let objs = render(&fleet(vec![s]));
    let data = &find(&objs, "ConfigMap", "esc-config").value["data"];
    assert_eq!(data["TRICKY"], "a: b\n- c\n---\n{{ x }}");
    assert_eq!(data["NUMBERISH"], "0755");
    assert_eq!(data["BOOLISH"], "yes");
    // And it survives the YAML output.
    let back: Vec<Value> = serde_saphyr::from_multiple(&to_yaml(&objs)).unwrap();
    assert_eq!(back[1]["data"]["BOOLISH"], "yes");
    assert_eq!(back[1]["data"]["NUMBERISH"], "0755");
}

#[test]
fn unknown_server_is_a_usage_error_listing_the_valid_names() {
    let f = fleet(vec![
        server("a", Strategy::Rolling, Router::Service),
        server("b", Strategy::Rolling, Router::Service),
    ]);
    let e = Renderer::new(None)
        .unwrap()
        .render_fleet(&f, &["zz".into()], &RenderOptions::default())
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    assert!(msg.contains("`zz`") && msg.contains("a, b"), "{msg}");
    let only = Renderer::new(None)
        .unwrap()
        .render_fleet(&f, &["b".into()], &RenderOptions::default())
        .unwrap();
    assert!(only.iter().all(|o| o.server() == "b"));
}

#[test]
fn too_long_names_are_refused() {
    let s = server(&"a".repeat(56), Strategy::BlueGreen, Router::Service);
    let e = Renderer::new(None)
        .unwrap()
        .render_fleet(&fleet(vec![s]), &[], &RenderOptions::default())
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("-preview"), "{e}");
}

#[test]
fn override_dir_replaces_a_template_and_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("serviceaccount.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ name }}\n  namespace: {{ namespace }}\n  labels: {{ labels }}\n  annotations: {\"custom\": \"yes\"}\n",
    )
    .unwrap();
    let r = Renderer::new(Some(dir.path())).unwrap();
    let objs = r
        .render_fleet(
            &fleet(vec![server("a", Strategy::Rolling, Router::Service)]),
            &[],
            &RenderOptions::default(),
        )
        .unwrap();
    assert_eq!(
        find(&objs, "ServiceAccount", "a").value["metadata"]["annotations"]["custom"],
        "yes"
    );
    assert!(r.unused_overrides().is_empty());

    // An undefined variable at line 3.
    std::fs::write(
        dir.path().join("pdb.yaml"),
        "apiVersion: v1\nkind: X\nmetadata: {{ nope.name }}\n",
    )
    .unwrap();
    let r = Renderer::new(Some(dir.path())).unwrap();
    let e = r
        .render_fleet(
            &fleet(vec![server("a", Strategy::Rolling, Router::Service)]),
            &[],
            &RenderOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    assert!(msg.contains("pdb.yaml") && msg.contains("line 3"), "{msg}");

    // A syntax error is found when the directory is loaded.
    std::fs::write(dir.path().join("pdb.yaml"), "a: 1\n{% if %}\n").unwrap();
    let e = Renderer::new(Some(dir.path())).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("pdb.yaml") && msg.contains("line 2"), "{msg}");

    // Output that is not YAML names the template.
    std::fs::write(dir.path().join("pdb.yaml"), "a: [1\n").unwrap();
    let e = Renderer::new(Some(dir.path()))
        .unwrap()
        .render_fleet(
            &fleet(vec![server("a", Strategy::Rolling, Router::Service)]),
            &[],
            &RenderOptions::default(),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("pdb.yaml") && e.to_string().contains("invalid YAML"),
        "{e}"
    );

    std::fs::write(dir.path().join("pdb.yaml"), "").unwrap();
    std::fs::write(dir.path().join("deploymnet.yaml"), "").unwrap();
    let r = Renderer::new(Some(dir.path())).unwrap();
    assert_eq!(r.unused_overrides().len(), 1);
}

#[test]
fn a_missing_template_dir_is_a_usage_error_naming_it() {
    let e = Renderer::new(Some(std::path::Path::new("/nonexistent/tpl"))).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("/nonexistent/tpl"), "{e}");
}

fn example_objects() -> Vec<Object> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet.yaml");
    let loaded = crate::fleet::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let r = Renderer::new(None).unwrap();
    let opts = RenderOptions::default();
    let mut objs = r.render_fleet(&loaded.fleet, &[], &opts).unwrap();
    objs.extend(r.render_fleet_objects(&loaded.fleet, &[], &opts).unwrap());
    objs
}

/// The dashboard ConfigMap: one per fleet, for the Grafana sidecar, holding the dashboard
/// JSON; not rendered for a selection of servers, nor when the fleet turns it off.
#[test]
fn the_fleet_dashboard_is_a_sidecar_config_map_unless_turned_off() {
    let r = Renderer::new(None).unwrap();
    let opts = RenderOptions::default();
    let mut f = fleet(vec![server("github", Strategy::Canary, Router::Istio)]);
    let objs = r.render_fleet_objects(&f, &[], &opts).unwrap();
    assert_eq!(kinds(&objs), vec!["ConfigMap/mcpctl-dashboard-acme-tools"]);
    let cm = &objs[0].value;
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    // A member of the fleet's ApplySet, of no server.
    assert_eq!(
        cm["metadata"]["labels"][crate::applyset::PART_OF_LABEL],
        crate::applyset::fleet_id("acme-tools", "mcp")
    );
    assert!(cm["metadata"]["labels"]["app.kubernetes.io/name"].is_null());
    assert_eq!(cm["metadata"]["namespace"], "mcp");
    let json: Value =
        serde_json::from_str(cm["data"]["mcp-acme-tools.json"].as_str().unwrap()).unwrap();
    assert_eq!(json, dashboard::dashboard(&f));
    assert!(
        r.render_fleet_objects(&f, &["github".into()], &opts)
            .unwrap()
            .is_empty()
    );
    f.dashboard = false;
    assert!(r.render_fleet_objects(&f, &[], &opts).unwrap().is_empty());
}

#[test]
fn snapshot_example_fleet() {
    insta::assert_snapshot!("example-fleet", to_yaml(&example_objects()));
}

#[test]
fn example_fleet_objects_round_trip_and_match_the_crds() {
    let crds = test_apiserver::schema::load_crds(test_apiserver::bundled_crds_dir());
    let objs = example_objects();
    assert!(objs.len() > 40, "{}", objs.len());
    for o in &objs {
        if typed::is_core(o) {
            typed::check(o).unwrap_or_else(|e| panic!("{e}"));
        } else {
            let (group, version) = o.api_version().split_once('/').unwrap();
            let crd = crds
                .iter()
                .find(|c| c.group == group && c.kind == o.kind())
                .unwrap();
            let errors =
                test_apiserver::schema::validate(crd.schema_for(version).unwrap(), &o.value);
            assert!(errors.is_empty(), "{} {}: {errors:#?}", o.kind(), o.name());
        }
    }
}

/// The fast YAML reader must take every embedded template's output (else
/// large fleets render slowly) and read it exactly as the full parser does.
#[test]
fn fast_yaml_reader_takes_and_agrees_on_every_embedded_template() {
    let mut servers = all_combinations();
    for strategy in [Strategy::Rolling, Strategy::BlueGreen, Strategy::Canary] {
        for router in [Router::Service, Router::Istio, Router::GatewayApi] {
            let mut s = rich(strategy, router);
            s.name = format!("rich-{}", servers.len());
            s.env
                .insert("TRICKY".into(), "a: b\n- c\n---\n{{ x }} # y".into());
            s.env.insert("NUMBERISH".into(), "0755".into());
            servers.push(s);
        }
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet.yaml");
    let example = crate::fleet::load(&path).unwrap().fleet;
    let r = Renderer::new(None).unwrap();
    let mut checked = 0;
    for (f, kube) in [
        (fleet(servers), "1.33"),
        (example.clone(), "1.33"),
        (example, "1.28"),
    ] {
        let opts = RenderOptions {
            kube_version: KubeVersion::parse(kube).unwrap(),
            ..Default::default()
        };
        for s in &f.servers {
            let ctx = context::ServerContext::build(&f, s, &opts).unwrap();
            let value = minijinja::Value::from(minijinja::value::Serde(&ctx));
            for name in templates_for(s) {
                let text = r.env.get_template(name).unwrap().render(&value).unwrap();
                let fast = fastyaml::parse_documents(&text).unwrap_or_else(|| {
                    panic!("{name} for {} left the fast subset:\n{text}", s.name)
                });
                let full: Vec<Value> = serde_saphyr::from_multiple::<Value>(&text)
                    .unwrap()
                    .into_iter()
                    .filter(|v| !v.is_null())
                    .collect();
                assert_eq!(fast, full, "{name} for {}", s.name);
                checked += 1;
            }
        }
    }
    assert!(checked > 150, "{checked}");
}
