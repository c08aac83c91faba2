//! `mcpctl lint` end to end: load, render (with overrides), lint, print, exit code.

use std::path::Path;

use crate::support::*;

const DIGEST: &str = "sha256:4f1c2b8e0d9a7c6b5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

/// A fleet that passes every rule with the built-in templates: one server per
/// strategy and router, digests, TLS, Prometheus, 2+ replicas.
fn clean_fleet() -> String {
    format!(
        r#"fleet: acme-tools
namespace: mcp
defaults:
  replicas: 3
  router: istio
  strategy: canary
  prometheus: {{url: http://prometheus.monitoring:9090}}
  tls: {{secretName: mcp-tls, caSecret: mcp-ca}}
  resources:
    requests: {{cpu: 100m, memory: 128Mi}}
    limits: {{cpu: "1", memory: 512Mi}}
servers:
  - name: github
    image: ghcr.io/acme/github-mcp:1.4.2@{DIGEST}
  - name: postgres
    image: ghcr.io/acme/pg-mcp@{DIGEST}
    strategy: blue-green
    router: gateway-api
    ingress: {{gateway: {{name: public, namespace: gateways}}}}
  - name: search
    image: ghcr.io/acme/search-mcp:2.0.0@{DIGEST}
    strategy: rolling
    router: service
    autoscaling: {{minReplicas: 2, maxReplicas: 10, targetCPU: 70}}
"#
    )
}

/// A fleet with known problems: `latest` (error), one replica (error), no TLS
/// (warning), a tag without digest (info).
const FLAWED: &str = r#"fleet: acme-tools
namespace: mcp
defaults:
  strategy: rolling
  router: service
  resources:
    requests: {cpu: 100m, memory: 128Mi}
    limits: {cpu: "1", memory: 512Mi}
servers:
  - name: github
    image: ghcr.io/acme/github-mcp:1.4.2
    replicas: 2
  - name: postgres
    image: ghcr.io/acme/pg-mcp:latest
    replicas: 1
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write fixture");
}

/// A temporary directory holding `fleet` as `mcpctl.yaml`.
fn dir_with_fleet(fleet: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mcpctl.yaml", fleet);
    dir
}

fn json_report(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(out),
            stderr(out)
        )
    })
}

/// (rule, object) of every finding in a JSON report.
fn rule_objects(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings is a list")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn clean_fleet_exits_zero_with_no_findings() {
    let dir = dir_with_fleet(&clean_fleet());
    let out = mcpctl_in(dir.path(), &["lint"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "no findings, no table");
    assert!(
        stderr(&out).contains("lint: 0 errors, 0 warnings, 0 infos in "),
        "summary line on stderr: {}",
        stderr(&out)
    );
}

#[test]
fn errors_exit_one_and_print_a_table() {
    let dir = dir_with_fleet(FLAWED);
    let out = mcpctl_in(dir.path(), &["lint"]);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["RULE", "SEVERITY", "OBJECT", "MESSAGE", "FIX"],
        "{table}"
    );
    let row = |rule: &str, object: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(rule) && l.contains(&format!(" {object} ")))
            .unwrap_or_else(|| panic!("no {rule} row for {object}:\n{table}"))
            .to_string()
    };
    assert!(row("MCP010", "Deployment/mcp/postgres").contains(" error "));
    assert!(
        row("MCP010", "Deployment/mcp/postgres")
            .contains("`ghcr.io/acme/pg-mcp:latest` uses the mutable `latest` tag")
    );
    assert!(row("MCP007", "Deployment/mcp/postgres").contains("single replica"));
    assert!(row("MCP013", "Deployment/mcp/github").contains(" warning "));
    assert!(row("MCP011", "Deployment/mcp/github").contains(" info "));
    assert!(
        !table.contains("MCP007  error     Deployment/mcp/github"),
        "github has 2 replicas:\n{table}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("lint: 2 errors, 2 warnings, 1 info in "),
        "{err}"
    );
    assert!(err.contains(" of 2 servers"), "{err}");
}

#[test]
fn json_output_lists_findings_and_counts() {
    let dir = dir_with_fleet(FLAWED);
    let out = mcpctl_in(dir.path(), &["lint", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    let report = json_report(&out);
    let findings = report["findings"].as_array().unwrap();
    let count = |sev: &str| findings.iter().filter(|f| f["severity"] == sev).count();
    assert_eq!(report["summary"]["errors"], count("error"));
    assert_eq!(report["summary"]["warnings"], count("warning"));
    assert_eq!(report["summary"]["infos"], count("info"));
    assert_eq!(count("error"), 2, "{report:#}");
    let f = findings
        .iter()
        .find(|f| f["rule"] == "MCP010")
        .expect("MCP010");
    assert_eq!(f["object"], "Deployment/mcp/postgres");
    assert_eq!(f["server"], "postgres");
    for key in ["message", "fix"] {
        assert!(
            f[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key} in {f:#}"
        );
    }
}

#[test]
fn yaml_output_parses() {
    let dir = dir_with_fleet(FLAWED);
    let out = mcpctl_in(dir.path(), &["lint", "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("rule: MCP010"), "{text}");
    assert!(text.contains("errors: 2"), "{text}");
}

#[test]
fn only_named_servers_are_linted() {
    let dir = dir_with_fleet(FLAWED);
    let out = mcpctl_in(dir.path(), &["lint", "github", "-o", "json"]);
    // github alone has a warning and an info, no error.
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    let report = json_report(&out);
    let pairs = rule_objects(&report);
    assert!(!pairs.is_empty());
    assert!(
        pairs.iter().all(|(_, o)| o.contains("/github")),
        "{pairs:?}"
    );

    let out = mcpctl_in(dir.path(), &["lint", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
}

#[test]
fn template_overrides_are_linted() {
    let dir = dir_with_fleet(&clean_fleet());
    deployment_template_with(
        &dir.path().join("tpl"),
        "readOnlyRootFilesystem: true",
        "readOnlyRootFilesystem: false",
    );
    std::fs::remove_file(dir.path().join("mcpctl.yaml")).unwrap();
    write(dir.path(), "fleet.yaml", &clean_fleet());

    let out = mcpctl_in(
        dir.path(),
        &[
            "lint",
            "-f",
            "fleet.yaml",
            "--templates",
            "tpl",
            "-o",
            "json",
            "search",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    let pairs = rule_objects(&json_report(&out));
    assert_eq!(
        pairs,
        [("MCP002".to_string(), "Deployment/mcp/search".to_string())]
    );
}

#[test]
fn kube_version_changes_what_is_rendered_not_the_verdict() {
    // Before 1.30 the drain delay renders as `exec sleep`; lint reads both forms.
    let dir = dir_with_fleet(&clean_fleet());
    let out = mcpctl_in(dir.path(), &["lint", "--kube-version", "1.28"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&out),
        stderr(&out)
    );
    let out = mcpctl_in(dir.path(), &["lint", "--kube-version", "banana"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn output_dir_is_rejected() {
    let dir = dir_with_fleet(&clean_fleet());
    let out = mcpctl_in(dir.path(), &["lint", "--output-dir", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--output-dir"), "{}", stderr(&out));
}

#[test]
fn bad_fleet_exits_two() {
    let dir =
        dir_with_fleet("fleet: acme\nnamespace: mcp\nservers:\n  - name: a\n    imagee: x:1\n");
    let out = mcpctl_in(dir.path(), &["lint"]);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn sleep_action_in_an_override_is_an_error_before_1_30() {
    let dir = dir_with_fleet(&clean_fleet());
    deployment_template_with(
        &dir.path().join("tpl"),
        "{% if kube.sleepAction %}",
        "{% if true %}",
    );

    let args = [
        "lint",
        "--templates",
        "tpl",
        "--kube-version",
        "1.29",
        "-o",
        "json",
        "search",
    ];
    let out = mcpctl_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    let pairs = rule_objects(&json_report(&out));
    assert_eq!(
        pairs,
        [("MCP018".to_string(), "Deployment/mcp/search".to_string())]
    );

    let args = [
        "lint",
        "--templates",
        "tpl",
        "--kube-version",
        "1.30",
        "search",
    ];
    let out = mcpctl_in(dir.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn example_fleet_has_no_error_findings() {
    let out = mcpctl(&["lint", "-f", "examples/fleet.yaml", "-o", "json"]);
    let report = json_report(&out);
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
}
