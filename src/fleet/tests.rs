//! Loading whole fleet files: defaults, merging, and the diagnostics of bad ones.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::error::Error;

fn load(text: &str) -> Loaded {
    match load_str(text, Path::new("f.yaml")) {
        Ok(l) => l,
        Err(e) => panic!("expected the fleet to load, got:\n{e}"),
    }
}

/// The diagnostics of a fleet that must fail, as `line:col path: message`.
fn errors(text: &str) -> Vec<String> {
    match load_str(text, Path::new("f.yaml")) {
        Ok(_) => panic!("expected errors"),
        Err(Error::Invalid(ds)) => ds
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                format!(
                    "{}:{} {}: {}",
                    d.line.unwrap(),
                    d.column.unwrap(),
                    d.path,
                    d.message
                )
            })
            .collect(),
        Err(e) => panic!("expected Error::Invalid, got {e:?}"),
    }
}

fn hints(text: &str) -> Vec<Option<String>> {
    match load_str(text, Path::new("f.yaml")) {
        Err(Error::Invalid(ds)) => ds.into_iter().map(|d| d.hint).collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

const MINIMAL: &str = "fleet: acme\nnamespace: mcp\nservers:\n  - name: github\n    image: ghcr.io/acme/github-mcp:1.4.2\n";

#[test]
fn the_example_fleet_loads_without_warnings() {
    let text = include_str!("../../examples/fleet.yaml");
    let l = load(text);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let f = l.fleet;
    assert_eq!(f.name, "acme-tools");
    let strategies: Vec<_> = f.servers.iter().map(|s| s.strategy).collect();
    let routers: Vec<_> = f.servers.iter().map(|s| s.router).collect();
    for s in [Strategy::Rolling, Strategy::BlueGreen, Strategy::Canary] {
        assert!(strategies.contains(&s), "{s:?} missing");
    }
    for r in [Router::Service, Router::Istio, Router::GatewayApi] {
        assert!(routers.contains(&r), "{r:?} missing");
    }
    assert!(f.servers.iter().any(|s| {
        s.autoscaling
            .as_ref()
            .is_some_and(|a| a.custom_metric.is_some())
    }));
    assert!(f.servers.iter().any(|s| s.tls.is_some()));
    assert!(f.servers.iter().any(|s| s.tls.is_none()));
    assert!(f.servers.iter().all(|s| !s.env.is_empty()));
    assert!(f.servers.iter().any(|s| !s.secret_env.is_empty()));
}

#[test]
fn built_in_defaults_fill_what_the_file_leaves_out() {
    let s = &load(MINIMAL).fleet.servers[0];
    assert_eq!(s.replicas, 2);
    assert_eq!(s.port, 8080);
    assert_eq!(s.path, "/mcp");
    assert_eq!(s.router, Router::Service);
    assert_eq!(s.strategy, Strategy::Rolling);
    assert_eq!(s.version, "1.4.2");
    assert_eq!(s.canary.steps, vec![10, 25, 50, 100]);
    assert_eq!(s.canary.step_duration, Duration::from_secs(60));
    let a = &s.canary.analysis;
    assert_eq!(
        (a.interval, a.max_error_rate, a.min_requests),
        (Duration::from_secs(30), 0.01, 20)
    );
    assert_eq!(
        (a.no_data, a.failure_limit, a.query.clone()),
        (NoDataPolicy::Fail, 1, None)
    );
    assert_eq!(s.blue_green.scale_down_delay, Duration::from_secs(600));
    assert_eq!(s.drain_seconds, 15);
    assert_eq!(s.resources.requests.cpu.as_deref(), Some("100m"));
    assert_eq!(s.resources.requests.memory.as_deref(), Some("128Mi"));
    assert_eq!(s.resources.limits.cpu.as_deref(), Some("500m"));
    assert_eq!(s.resources.limits.memory.as_deref(), Some("256Mi"));
    assert_eq!(
        (s.tls.clone(), s.autoscaling.clone(), s.prometheus.clone()),
        (None, None, None)
    );
}

#[test]
fn servers_override_defaults_maps_merge_and_lists_replace() {
    let f = load(
        r#"
fleet: acme
namespace: mcp
defaults:
  replicas: 3
  strategy: canary
  prometheus: {url: "http://prom:9090"}
  canary: {steps: [10, 100], stepDuration: 2m, analysis: {interval: 20s, maxErrorRate: 0.02}}
  env: {LOG_LEVEL: info, REGION: eu}
  labels: {team: platform}
  allowFromNamespaces: [agents, ci]
  resources: {requests: {cpu: 200m}, limits: {memory: 1Gi}}
  tls: {caSecret: mcp-ca}
servers:
  - name: a
    image: ghcr.io/acme/a:1
    replicas: 5
    canary: {steps: [50, 100], analysis: {maxErrorRate: 0.05}}
    env: {LOG_LEVEL: debug}
    allowFromNamespaces: [only]
    resources: {requests: {memory: 64Mi}}
    tls: {warnDays: 10}
  - name: b
    image: ghcr.io/acme/b:2
"#,
    )
    .fleet;
    let (a, b) = (&f.servers[0], &f.servers[1]);
    assert_eq!((a.replicas, b.replicas), (5, 3));
    assert_eq!(a.canary.steps, vec![50, 100]);
    assert_eq!(a.canary.step_duration, Duration::from_secs(120));
    assert_eq!(a.canary.analysis.interval, Duration::from_secs(20));
    assert_eq!(
        (
            a.canary.analysis.max_error_rate,
            b.canary.analysis.max_error_rate
        ),
        (0.05, 0.02)
    );
    assert_eq!(a.env.get("LOG_LEVEL").map(String::as_str), Some("debug"));
    assert_eq!(a.env.get("REGION").map(String::as_str), Some("eu"));
    assert_eq!(b.env.get("LOG_LEVEL").map(String::as_str), Some("info"));
    assert_eq!(a.labels.get("team").map(String::as_str), Some("platform"));
    assert_eq!(a.allow_from_namespaces, vec!["only"]);
    assert_eq!(b.allow_from_namespaces, vec!["agents", "ci"]);
    assert_eq!(a.resources.requests.cpu.as_deref(), Some("200m"));
    assert_eq!(a.resources.requests.memory.as_deref(), Some("64Mi"));
    assert_eq!(b.resources.requests.memory.as_deref(), Some("128Mi"));
    assert_eq!(a.resources.limits.memory.as_deref(), Some("1Gi"));
    let (ta, tb) = (a.tls.as_ref().unwrap(), b.tls.as_ref().unwrap());
    assert_eq!(
        (ta.secret_name.as_str(), ta.ca_secret.as_str(), ta.warn_days),
        ("a-tls", "mcp-ca", 10)
    );
    assert_eq!((tb.secret_name.as_str(), tb.warn_days), ("b-tls", 30));
}

#[test]
fn tls_and_autoscaling_can_be_switched_off_per_server() {
    let f = load(
        "fleet: acme\nnamespace: mcp\ndefaults:\n  tls: {}\n  autoscaling: {maxReplicas: 5}\nservers:\n  - {name: a, image: 'x/a:1'}\n  - {name: b, image: 'x/b:1', tls: {enabled: false}, autoscaling: {enabled: false}}\n",
    )
    .fleet;
    let tls = f.servers[0].tls.as_ref().unwrap();
    assert_eq!(
        (tls.secret_name.as_str(), tls.ca_secret.as_str()),
        ("a-tls", "acme-ca")
    );
    let auto = f.servers[0].autoscaling.as_ref().unwrap();
    assert_eq!(
        (
            auto.min_replicas,
            auto.max_replicas,
            auto.target_cpu_percent
        ),
        (2, 5, Some(80))
    );
    assert_eq!(
        (f.servers[1].tls.clone(), f.servers[1].autoscaling.clone()),
        (None, None)
    );
}

#[test]
fn unknown_keys_get_a_did_you_mean_or_the_valid_list() {
    let text = "fleet: acme\nnamespace: mcp\nservers:\n  - name: a\n    image: x/a:1\n    replica: 3\n    colour: blue\n";
    assert_eq!(
        errors(text),
        vec![
            "6:5 servers[0].replica: unknown key `replica` in `servers[0]`",
            "7:5 servers[0].colour: unknown key `colour` in `servers[0]`",
        ]
    );
    let h = hints(text);
    assert_eq!(h[0].as_deref(), Some("did you mean `replicas`?"));
    assert!(
        h[1].as_deref()
            .unwrap()
            .starts_with("valid keys here: `name`, `image`, `replicas`"),
        "{h:?}"
    );
}

#[test]
fn wrong_types_say_what_was_expected_and_found() {
    let text = "fleet: acme\nnamespace: mcp\ndefaults:\n  replicas: three\n  port: \"8080\"\n  canary: [10]\n  env: {A: [1]}\nservers: {name: a}\n";
    assert_eq!(
        errors(text),
        vec![
            "4:13 defaults.replicas: expected a whole number, found string \"three\"",
            "5:9 defaults.port: expected a whole number, found string \"8080\"",
            "6:11 defaults.canary: expected a mapping of `key: value`, found a list",
            "7:12 defaults.env.A: expected a string, found a list",
            "8:10 servers: expected a list, found a mapping",
        ]
    );
}

#[test]
fn quoted_numbers_and_percentages_get_a_hint() {
    let text = "fleet: a\nnamespace: b\ndefaults:\n  port: \"8080\"\n  canary: {analysis: {maxErrorRate: 1%}}\nservers: [{name: x, image: x/a:1}]\n";
    assert_eq!(
        hints(text),
        vec![
            Some("write it without quotes: `8080`".to_string()),
            Some("write a fraction without `%`: 0.01 for 1%".to_string())
        ]
    );
}

#[test]
fn values_are_range_checked() {
    let text = "fleet: acme\nnamespace: mcp\ndefaults:\n  port: 70000\n  replicas: -1\n  path: mcp\n  drainSeconds: 5000\n  canary:\n    stepDuration: 2x\n    analysis: {maxErrorRate: 1.5, failureLimit: 0, noData: skip}\n  tls: {warnDays: 0}\n  prometheus: {url: prometheus:9090}\nservers:\n  - {name: a, image: x/a:1}\n";
    assert_eq!(
        errors(text),
        vec![
            "4:9 defaults.port: must be between 1 and 65535, found 70000",
            "5:13 defaults.replicas: must be 0 or more, found -1",
            "6:9 defaults.path: path `mcp` must start with `/`",
            "7:17 defaults.drainSeconds: must be between 0 and 3600, found 5000",
            "9:19 defaults.canary.stepDuration: invalid duration: `2x` has an unknown unit `x`; use ms, s, m or h",
            "10:30 defaults.canary.analysis.maxErrorRate: must be between 0 and 1, found 1.5",
            "10:49 defaults.canary.analysis.failureLimit: must be 1 or more, found 0",
            "10:60 defaults.canary.analysis.noData: `skip` is not one of `fail`, `pass`, `ignore`",
            "11:19 defaults.tls.warnDays: must be 1 or more, found 0",
            "12:21 defaults.prometheus.url: URL `prometheus:9090` must start with `http://` or `https://`",
        ]
    );
}

#[test]
fn canary_steps_increase_and_end_at_100() {
    let base = "fleet: acme\nnamespace: mcp\nservers:\n  - name: a\n    image: x/a:1\n    canary:\n      steps: ";
    assert_eq!(
        errors(&format!("{base}[10, 50, 90]\n")),
        vec!["7:23 servers[0].canary.steps[2]: the last canary step must be 100, found 90"]
    );
    assert_eq!(
        errors(&format!("{base}[10, 50, 50, 100]\n")),
        vec!["7:23 servers[0].canary.steps[2]: canary steps must strictly increase: 50 follows 50"]
    );
    assert_eq!(
        errors(&format!("{base}[0, 150]\n")),
        vec![
            "7:15 servers[0].canary.steps[0]: must be between 1 and 100, found 0",
            "7:18 servers[0].canary.steps[1]: must be between 1 and 100, found 150",
        ]
    );
    assert_eq!(
        errors(&format!("{base}[]\n")),
        vec!["7:14 servers[0].canary.steps: canary steps must not be empty"]
    );
}

#[test]
fn names_must_be_dns_labels_and_unique() {
    let long = "a".repeat(56);
    let text = format!(
        "fleet: Acme\nnamespace: my_ns\nservers:\n  - {{name: github, image: x/a:1}}\n  - {{name: {long}, image: x/b:1}}\n  - {{name: github, image: x/c:1}}\n"
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    assert_eq!(
        errs[0],
        "1:8 fleet: fleet name `Acme` contains an upper-case letter; use only lower-case letters, digits and `-` (a DNS-1123 label)"
    );
    assert_eq!(
        errs[1],
        "2:12 namespace: namespace `my_ns` contains `_`; use only lower-case letters, digits and `-` (a DNS-1123 label)"
    );
    assert!(
        errs[2].starts_with("5:12 servers[1].name: server name `aaaa"),
        "{}",
        errs[2]
    );
    assert!(errs[2].ends_with(
        "is 56 characters long; the limit is 55, leaving room for the `-preview` suffix mcpctl adds"
    ));
    assert_eq!(
        errs[3],
        "6:12 servers[2].name: duplicate server name `github`: servers[0].name at line 4, column 12 has the same name"
    );
}

#[test]
fn images_are_checked_and_unpinned_ones_warned_about() {
    let errs =
        errors("fleet: a\nnamespace: b\nservers:\n  - {name: x, image: 'ghcr.io/Acme/x:1'}\n");
    assert_eq!(
        errs,
        vec![
            "4:22 servers[0].image: invalid image reference `ghcr.io/Acme/x:1`: repository part `Acme` has upper-case letters; repositories are lower-case"
        ]
    );
    let l = load(
        "fleet: a\nnamespace: b\nservers:\n  - {name: x, image: 'ghcr.io/acme/x:latest'}\n  - {name: y, image: ghcr.io/acme/y}\n",
    );
    let w: Vec<_> = l
        .warnings
        .iter()
        .map(|d| (d.line, d.severity, d.message.clone()))
        .collect();
    assert_eq!(w.len(), 2);
    assert_eq!(w[0].0, Some(4));
    assert_eq!(w[0].1, Severity::Warning);
    assert!(w[0].2.contains("uses the `latest` tag"));
    assert!(w[1].2.contains("has no tag"));
    assert_eq!(l.fleet.servers[1].version, "latest");
}

#[test]
fn required_keys_are_named() {
    assert_eq!(
        errors("fleet: a\nservers:\n  - name: x\n"),
        vec![
            "1:1 : missing required key `namespace`",
            "3:5 servers[0]: missing required key `image` in `servers[0]`",
        ]
    );
    assert_eq!(
        errors("fleet: a\nnamespace: b\n"),
        vec!["1:1 : missing required key `servers`"]
    );
    assert_eq!(
        errors("fleet: a\nnamespace: b\nservers: []\n"),
        vec!["3:10 servers: the fleet has no servers"]
    );
}

#[test]
fn cross_field_checks_name_the_server() {
    let text = "fleet: a\nnamespace: b\ndefaults:\n  strategy: canary\n  canary: {stepDuration: 30s, analysis: {interval: 1m}}\nservers:\n  - name: x\n    image: x/a:1\n    router: gateway-api\n    autoscaling: {minReplicas: 5, maxReplicas: 3}\n    resources: {requests: {cpu: '2'}}\n    env: {TOKEN: a}\n    secretEnv: [{name: TOKEN, secret: s, key: k}]\n";
    let errs = errors(text);
    assert_eq!(
        errs,
        vec![
            "4:13 defaults.strategy: the canary strategy needs `prometheus.url` for its analysis, and none is set (server `x`)",
            "5:52 defaults.canary.analysis.interval: the analysis interval (1m) is longer than the canary stepDuration (30s), so no sample would be taken in a step (server `x`)",
            "9:13 servers[0].router: the gateway-api router needs `ingress.gateway` for its HTTPRoute, and none is set (server `x`)",
            "10:32 servers[0].autoscaling.minReplicas: autoscaling minReplicas (5) is above maxReplicas (3) (server `x`)",
            "11:33 servers[0].resources.requests.cpu: the cpu request (2) is above the cpu limit (500m) (server `x`)",
            "13:24 servers[0].secretEnv[0].name: `TOKEN` is set both in `env` (servers[0].env.TOKEN at line 12) and in `secretEnv` (server `x`)",
        ]
    );
}

#[test]
fn two_servers_may_not_route_the_same_host_and_path() {
    let text = "fleet: a\nnamespace: b\ndefaults:\n  router: istio\n  ingress: {hosts: [tools.example.com]}\nservers:\n  - {name: x, image: x/a:1}\n  - {name: y, image: x/a:1, path: /y}\n  - {name: z, image: x/a:1}\n  - {name: w, image: x/a:1}\n  - {name: plain, image: x/a:1, router: service}\n";
    assert_eq!(
        errors(text),
        vec![
            "5:21 defaults.ingress.hosts[0]: host `tools.example.com` with path `/mcp` is inherited by several servers, which would all claim its requests; server `x` has it first (servers `z`, `w`)"
        ]
    );
    let text = "fleet: a\nnamespace: b\nservers:\n  - {name: x, image: x/a:1, router: istio, ingress: {hosts: [t.example]}}\n  - {name: y, image: x/a:1, router: gateway-api, ingress: {hosts: [t.example], gateway: {name: g}}}\n";
    assert_eq!(
        errors(text),
        vec![
            "5:68 servers[1].ingress.hosts[0]: host `t.example` with path `/mcp` is already routed to server `x` (servers[0].ingress.hosts[0] at line 4) (server `y`)"
        ]
    );
}

#[test]
fn an_inherited_problem_is_reported_once_naming_the_servers() {
    let mut text = String::from(
        "fleet: a\nnamespace: b\ndefaults:\n  autoscaling: {minReplicas: 2}\nservers:\n",
    );
    for i in 0..7 {
        text.push_str(&format!("  - {{name: s{i}, image: x/a:1}}\n"));
    }
    text.push_str("  - {name: own, image: x/a:1, autoscaling: {maxReplicas: 4}}\n");
    assert_eq!(
        errors(&text),
        vec![
            "4:16 defaults.autoscaling: `autoscaling` needs `maxReplicas` (servers `s0`, `s1`, `s2`, `s3`, `s4` and 2 more)"
        ]
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let text = "fleet: acme\nnamespace: mcp\ndefaults:\n  replicas: three\n  stratgy: canary\nservers:\n  - name: a\n    image: x/a:1\n    canary: {stepDuration: 5}\n  - name: a\n    image: 'x/b:'\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(errs[0].starts_with("4:13 defaults.replicas: expected a whole number"));
    assert!(errs[1].starts_with("5:3 defaults.stratgy: unknown key"));
    assert!(
        errs[2]
            .starts_with("9:28 servers[0].canary.stepDuration: invalid duration: `5` has no unit")
    );
    assert!(errs[3].starts_with("10:11 servers[1].name: duplicate server name `a`"));
    assert!(errs[4].starts_with("11:12 servers[1].image: invalid image reference"));
}

#[test]
fn yaml_problems_and_empty_files() {
    assert_eq!(errors(""), vec!["1:1 : the fleet file is empty"]);
    assert_eq!(
        errors("# nothing yet\n"),
        vec!["1:1 : the fleet file is empty"]
    );
    let errs = errors("fleet: a\nnamespace: [b\n");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("YAML syntax error"), "{errs:?}");
    assert_eq!(
        errors("- a\n- b\n"),
        vec![
            "1:1 : the fleet file must be a mapping with `fleet`, `namespace` and `servers`, found a list"
        ]
    );
    assert_eq!(
        errors("fleet: a\nfleet: b\nnamespace: c\nservers: [{name: x, image: x/a:1}]\n"),
        vec!["2:1 : duplicate key `fleet` (first set at line 1, column 1)"]
    );
}

#[test]
fn keys_left_empty_are_empty_mappings_and_lists() {
    let f = load(
        "fleet: a\nnamespace: b\ndefaults:\n  # all commented out\nservers:\n  - name: x\n    image: x/a:1\n    env:\n    tls:\n",
    );
    let s = &f.fleet.servers[0];
    assert!(s.env.is_empty());
    assert_eq!(
        s.tls.as_ref().map(|t| t.secret_name.as_str()),
        Some("x-tls")
    );
    assert_eq!(
        errors("fleet: a\nnamespace: b\nservers:\n"),
        vec!["3:1 servers: the fleet has no servers"]
    );
    assert_eq!(
        errors("fleet: a\nnamespace: b\nservers:\n  - name: x\n    image:\n"),
        vec!["5:5 servers[0].image: expected a string, found nothing (null)"]
    );
}

#[test]
fn labels_mcpctl_sets_itself_are_refused() {
    assert_eq!(
        errors(
            "fleet: a\nnamespace: b\ndefaults:\n  labels: {app.kubernetes.io/name: x, team: y}\nservers: [{name: x, image: x/a:1}]\n"
        ),
        vec![
            "4:12 defaults.labels[\"app.kubernetes.io/name\"]: label key `app.kubernetes.io/name` is set by mcpctl itself; choose another key"
        ]
    );
}

#[test]
fn server_only_keys_are_refused_in_defaults() {
    assert_eq!(
        errors(
            "fleet: a\nnamespace: b\ndefaults: {image: x/a:1}\nservers: [{name: x, image: x/a:1}]\n"
        ),
        vec!["3:12 defaults.image: `image` cannot be set in `defaults`"]
    );
}

#[test]
fn every_documented_key_is_decoded() {
    // A file that sets every key once: nothing may come back as unknown.
    let text = r#"
fleet: acme
namespace: mcp
defaults:
  replicas: 2
  port: 8080
  path: /mcp
  router: istio
  strategy: canary
  canary:
    steps: [50, 100]
    stepDuration: 1m
    analysis: {interval: 30s, maxErrorRate: 0.1, minRequests: 5, noData: ignore, failureLimit: 2, query: "up"}
  blueGreen: {scaleDownDelay: 5m}
  prometheus: {url: "http://p:9090"}
  tls: {enabled: true, secretName: s, caSecret: c, warnDays: 3}
  resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
  autoscaling: {enabled: true, minReplicas: 2, maxReplicas: 4, targetCPU: 50, targetMemory: 60, customMetric: {name: m, averageValue: "5"}}
  drainSeconds: 10
  ingress: {hosts: [a.example], istioGateways: [gw], gateway: {name: g, namespace: n, sectionName: https}}
  allowFromNamespaces: [x]
  labels: {a: b}
  podAnnotations: {"example.com/x": "y z"}
  env: {A: "1"}
  secretEnv: [{name: B, secret: s, key: k}]
servers:
  - name: x
    image: x/a:1
"#;
    let s = &load(text).fleet.servers[0];
    assert_eq!(s.canary.analysis.no_data, NoDataPolicy::Ignore);
    assert_eq!(s.canary.analysis.query.as_deref(), Some("up"));
    assert_eq!(s.tls.as_ref().unwrap().secret_name, "s");
    let a = s.autoscaling.as_ref().unwrap();
    assert_eq!(
        (a.target_cpu_percent, a.target_memory_percent),
        (Some(50), Some(60))
    );
    assert_eq!(
        s.ingress.gateway.as_ref().unwrap().section_name.as_deref(),
        Some("https")
    );
    assert_eq!(
        s.pod_annotations.get("example.com/x").map(String::as_str),
        Some("y z")
    );
    assert_eq!(s.secret_env[0].key, "k");
    assert_eq!(s.blue_green.scale_down_delay, Duration::from_secs(300));
}

#[test]
fn missing_and_unreadable_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    match super::load(&missing) {
        Err(Error::Usage(m)) => {
            assert!(m.starts_with("no fleet file at "), "{m}");
            assert!(
                m.ends_with("; pass -f FILE, set MCPCTL_FLEET, or run `mcpctl init`"),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    match super::load(dir.path()) {
        Err(e @ Error::Usage(_)) => assert!(e.to_string().contains("is a directory"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_init_template_loads_without_warnings() {
    let l = load(INIT_TEMPLATE);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(l.fleet.servers.len(), 2);
}

#[test]
fn byte_order_marks_and_crlf_line_ends_are_accepted() {
    let text = format!("\u{feff}{}", MINIMAL.replace('\n', "\r\n"));
    let f = load(&text).fleet;
    assert_eq!(f.servers[0].image, "ghcr.io/acme/github-mcp:1.4.2");
    let errs = errors(
        "fleet: a\r\nnamespace: b\r\nservers:\r\n  - name: x\r\n    image: x/a:1\r\n    replica: 2\r\n",
    );
    assert_eq!(
        errs,
        vec!["6:5 servers[0].replica: unknown key `replica` in `servers[0]`"]
    );
}

/// Uncomments the optional settings of the `init` template (`# key: …` lines
/// and their `#   …` continuation lines), leaving prose comments alone.
pub(super) fn uncomment_settings(template: &str) -> String {
    let mut out = String::new();
    let mut in_setting = false;
    for line in template.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let body = line.trim_start().strip_prefix("# ");
        let key = body.filter(|b| {
            b.split_once(':').is_some_and(|(k, _)| {
                k.starts_with(|c: char| c.is_ascii_lowercase())
                    && k.chars().all(|c| c.is_ascii_alphanumeric())
            })
        });
        let continuation = body
            .and_then(|b| b.strip_prefix("  "))
            .filter(|b| in_setting && !b.starts_with(' '));
        let uncommented = match (key, continuation) {
            (Some(k), _) => Some(format!("{indent}{k}")),
            (None, Some(c)) => Some(format!("{indent}  {c}")),
            _ => None,
        };
        in_setting = uncommented.is_some();
        out.push_str(uncommented.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[test]
fn the_init_template_loads_with_every_optional_setting_uncommented() {
    let text = uncomment_settings(INIT_TEMPLATE);
    assert!(
        text.contains("\n  autoscaling:\n    minReplicas: 2\n"),
        "{text}"
    );
    assert!(text.contains("\n      query: '...'"), "{text}");
    let s = &load(&text).fleet.servers[0];
    assert!(s.tls.is_some() && s.autoscaling.is_some());
    assert_eq!(
        s.ingress.gateway.as_ref().map(|g| g.name.as_str()),
        Some("public")
    );
    assert_eq!(s.canary.analysis.query.as_deref(), Some("..."));
    assert_eq!(s.pod_annotations.len(), 1);
}

#[test]
fn unknown_servers_are_named_with_a_suggestion_and_a_short_list() {
    let servers: Vec<Server> = (0..25)
        .map(|i| testing::server(&format!("mcp-{i:02}"), "ghcr.io/acme/x:1.0"))
        .collect();
    let f = testing::fleet("acme", servers);
    assert!(f.check_servers(&[]).is_ok());
    assert!(f.check_servers(&["mcp-03".into()]).is_ok());

    let e = f.check_servers(&["mcp-3".into()]).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    assert!(
        msg.contains("no server named `mcp-3` in fleet `acme`"),
        "{msg}"
    );
    assert!(msg.contains("mcp-00, mcp-01,"), "{msg}");
    assert!(msg.contains("mcp-19 and 5 more"), "{msg}");
    assert!(!msg.contains("mcp-20"), "{msg}");
    assert!(msg.contains("did you mean `mcp-03`?"), "{msg}");

    let msg = f
        .check_servers(&["zz".into(), "yy".into()])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("`zz`, `yy`") && !msg.contains("did you mean"),
        "{msg}"
    );
}

const ANALYSIS_BASE: &str = "fleet: acme\nnamespace: mcp\nservers:\n  - name: a\n    image: x/a:1\n    canary:\n      analysis:\n";

#[test]
fn analysis_window_baseline_and_metrics_load() {
    let text = format!(
        "{ANALYSIS_BASE}        window: 2m\n        maxErrorRateIncrease: 0.005\n        metrics:\n          - {{name: p95-latency, query: 'histogram_quantile(0.95, sum by (le) (rate(x{{track=\"{{{{ track }}}}\"}}[{{{{ window }}}}])))', max: 2, maxRatio: 1.5}}\n          - {{name: success, query: 'y', min: 0.99}}\n"
    );
    let a = &load(&text).fleet.servers[0].canary.analysis;
    assert_eq!(a.window, Duration::from_secs(120));
    assert_eq!(a.baseline, Some(Baseline::Increase(0.005)));
    assert_eq!(a.metrics.len(), 2);
    assert_eq!(a.metrics[0].name, "p95-latency");
    assert_eq!(a.metrics[0].bound, Bound::Max(2.0));
    assert_eq!(a.metrics[0].baseline, Some(Baseline::Ratio(1.5)));
    assert_eq!(a.metrics[1].bound, Bound::Min(0.99));
    assert_eq!(a.metrics[1].baseline, None);
    // Defaults: a one-minute window, no baseline, no further metric.
    let a = &load(&format!("{ANALYSIS_BASE}        minRequests: 5\n"))
        .fleet
        .servers[0]
        .canary
        .analysis;
    assert_eq!(a.window, Duration::from_secs(60));
    assert_eq!((a.baseline, a.metrics.len()), (None, 0));
    let text = format!("{ANALYSIS_BASE}        maxErrorRateRatio: 2\n");
    assert_eq!(
        load(&text).fleet.servers[0].canary.analysis.baseline,
        Some(Baseline::Ratio(2.0))
    );
}

#[test]
fn analysis_options_are_checked() {
    let text = format!(
        "{ANALYSIS_BASE}        window: 500ms\n        maxErrorRateIncrease: 2\n        maxErrorRateRatio: 0.5\n        query: 'x{{s=\"{{{{ sever }}}}\"}}'\n"
    );
    assert_eq!(
        errors(&text),
        vec![
            "8:17 servers[0].canary.analysis.window: must be at least 1s, found 500ms",
            "9:31 servers[0].canary.analysis.maxErrorRateIncrease: must be between 0 and 1, found 2",
            "10:28 servers[0].canary.analysis.maxErrorRateRatio: must be 1 or more, found 0.5",
            "11:16 servers[0].canary.analysis.query: query `x{s=\"{{ sever }}\"}` is not a valid template: unknown variable `{{ sever }}` in a query template (did you mean `server`?); the variables are: server, namespace, track, version, interval, window",
        ]
    );
    let text = format!(
        "{ANALYSIS_BASE}        maxErrorRateIncrease: 0.01\n        maxErrorRateRatio: 2\n"
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("9:28 servers[0].canary.analysis.maxErrorRateRatio: `maxErrorRateRatio` and `maxErrorRateIncrease` (at servers[0].canary.analysis.maxErrorRateIncrease, line 8) are both set"),
        "{e:?}"
    );
}

#[test]
fn analysis_metrics_are_checked() {
    let text = format!(
        "{ANALYSIS_BASE}        metrics:\n          - {{name: a, query: q, max: 1, min: 0}}\n          - {{name: b, query: q}}\n          - {{name: requests, query: q, max: 1}}\n          - {{query: q, min: 1, maxRatio: 2}}\n          - {{name: a, query: q, max: 1, maxIncrease: 1, maxRatio: 2}}\n          - {{name: c, query: q, max: 1, maxx: 2}}\n"
    );
    let e = errors(&text);
    let expected = [
        "9:13 servers[0].canary.analysis.metrics[0]: metric sets both `max` and `min`",
        "10:13 servers[0].canary.analysis.metrics[1]: metric has no threshold",
        "11:20 servers[0].canary.analysis.metrics[2].name: metric name `requests` is the name of a built-in check (requests, error-rate); choose another",
        "12:13 servers[0].canary.analysis.metrics[3]: metric is missing `name`",
        "12:13 servers[0].canary.analysis.metrics[3]: `maxIncrease` and `maxRatio` compare against the stable track and need a `max` threshold",
        "13:13 servers[0].canary.analysis.metrics[4]: metric sets both `maxIncrease` and `maxRatio`",
        "13:20 servers[0].canary.analysis.metrics[4].name: metric `a` is already defined by servers[0].canary.analysis.metrics[0].name (line 9)",
    ];
    for x in expected {
        assert!(e.iter().any(|l| l == x), "missing {x:?} in {e:#?}");
    }
    let unknown: Vec<&String> = e.iter().filter(|l| l.contains("maxx")).collect();
    assert_eq!(unknown.len(), 1, "{e:#?}");
    let h = hints(&text);
    assert!(
        h.iter().flatten().any(|h| h.contains("`max`")),
        "a did-you-mean for `maxx`: {h:?}"
    );
}

#[test]
fn the_dashboard_is_on_unless_the_fleet_turns_it_off() {
    assert!(load(MINIMAL).fleet.dashboard);
    let off = MINIMAL.replace(
        "namespace: mcp\n",
        "namespace: mcp\ndashboard: {enabled: false}\n",
    );
    assert!(!load(&off).fleet.dashboard);
    let typo = MINIMAL.replace(
        "namespace: mcp\n",
        "namespace: mcp\ndashboard:\n  enable: false\n",
    );
    assert_eq!(
        errors(&typo),
        vec!["4:3 dashboard.enable: unknown key `enable` in `dashboard`"]
    );
    assert_eq!(hints(&typo)[0].as_deref(), Some("did you mean `enabled`?"));
    let wrong = MINIMAL.replace(
        "namespace: mcp\n",
        "namespace: mcp\ndashboard: {enabled: no}\n",
    );
    assert_eq!(
        errors(&wrong),
        vec!["3:22 dashboard.enabled: expected `true` or `false`, found string \"no\""]
    );
}

#[test]
fn tls_dns_names_are_host_names_and_servers_replace_them() {
    let text = "fleet: acme\nnamespace: mcp\ndefaults:\n  tls: {dnsNames: [mcp.example.com, \"*.mcp.example.com\"]}\nservers:\n  - {name: a, image: x/a:1}\n  - {name: b, image: x/b:1, tls: {dnsNames: [b.example.com]}}\n";
    let f = load(text).fleet;
    assert_eq!(
        f.servers[0].tls.as_ref().unwrap().dns_names,
        ["mcp.example.com", "*.mcp.example.com"]
    );
    assert_eq!(
        f.servers[1].tls.as_ref().unwrap().dns_names,
        ["b.example.com"]
    );
    let bad = "fleet: acme\nnamespace: mcp\nservers:\n  - {name: a, image: x/a:1, tls: {dnsNames: [\"Not A Name\"]}}\n";
    let e = errors(bad);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("servers[0].tls.dnsNames[0]"), "{e:?}");
}
