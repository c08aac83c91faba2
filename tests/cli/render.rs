//! `mcpctl render`: stdout, `--output-dir`, determinism, template overrides
//! and their errors, server selection, `-n`.

use std::path::Path;

use crate::support::*;

const FLEET: &str = r#"fleet: acme-tools
namespace: mcp
defaults:
  replicas: 3
  port: 8080
  path: /mcp
  router: istio
  strategy: canary
  prometheus: {url: "http://prometheus.monitoring:9090"}
servers:
  - name: github
    image: ghcr.io/acme/github-mcp:1.4.2
  - name: postgres
    image: ghcr.io/acme/pg-mcp:0.9.0
    strategy: blue-green
    router: service
  - name: search
    image: ghcr.io/acme/search-mcp:2.0.1
    strategy: rolling
    router: gateway-api
    ingress:
      gateway: {name: public, namespace: gateways}
"#;

fn fleet_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mcpctl.yaml"), FLEET).unwrap();
    dir
}

fn docs(text: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple::<serde_json::Value>(text)
        .unwrap_or_else(|e| panic!("stdout is not YAML: {e}\n{text}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn ids(docs: &[serde_json::Value]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn render_in(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["render"];
    args.extend_from_slice(extra);
    mcpctl_in(dir, &args)
}

/// Creates `<dir>/tpl` holding one template override, `name` with `text`; returns its path.
fn template_dir(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let tpl = dir.join("tpl");
    std::fs::create_dir(&tpl).unwrap();
    std::fs::write(tpl.join(name), text).unwrap();
    tpl
}

#[test]
fn prints_multi_document_yaml_for_every_server() {
    let dir = fleet_dir();
    let out = render_in(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = docs(&stdout(&out));
    let ids = ids(&docs);
    for want in [
        "Deployment/github",
        "Deployment/github-canary",
        "VirtualService/github",
        "DestinationRule/github",
        "Deployment/postgres-blue",
        "Deployment/postgres-green",
        "Service/postgres-preview",
        "Deployment/search",
        "HTTPRoute/search",
        "PrometheusRule/search",
    ] {
        assert!(
            ids.contains(&want.to_string()),
            "{want} missing from {ids:?}"
        );
    }
    assert!(docs.iter().all(|d| d["metadata"]["namespace"] == "mcp"));
}

#[test]
fn same_input_gives_the_same_bytes() {
    let dir = fleet_dir();
    let a = render_in(dir.path(), &[]);
    let b = render_in(dir.path(), &[]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn selected_servers_only_and_unknown_server_is_usage_error() {
    let dir = fleet_dir();
    let out = render_in(dir.path(), &["postgres"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = docs(&stdout(&out));
    assert!(!docs.is_empty());
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["labels"]["app.kubernetes.io/name"] == "postgres")
    );

    let out = render_in(dir.path(), &["nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`nope`") && err.contains("github, postgres, search"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn namespace_flag_overrides_the_fleet_namespace() {
    let dir = fleet_dir();
    let out = render_in(dir.path(), &["-n", "staging", "github"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = docs(&stdout(&out));
    assert!(docs.iter().all(|d| d["metadata"]["namespace"] == "staging"));
    let dr = docs
        .iter()
        .find(|d| d["kind"] == "DestinationRule")
        .unwrap();
    assert_eq!(dr["spec"]["host"], "github.staging.svc.cluster.local");
}

#[test]
fn output_dir_writes_one_file_per_object() {
    let dir = fleet_dir();
    let stdout_docs = docs(&stdout(&render_in(dir.path(), &[])));
    let out_dir = dir.path().join("out");
    let out = render_in(dir.path(), &["--output-dir", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing on stdout with --output-dir");

    let mut files = 0;
    for d in &stdout_docs {
        // The fleet's own objects (its dashboard) go under `_`.
        let server = d["metadata"]["labels"]["app.kubernetes.io/name"]
            .as_str()
            .unwrap_or("_");
        let kind = d["kind"].as_str().unwrap().to_ascii_lowercase();
        let name = d["metadata"]["name"].as_str().unwrap();
        let path = out_dir.join(server).join(format!("{kind}-{name}.yaml"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file_docs = docs(&text);
        assert_eq!(file_docs.len(), 1, "{}", path.display());
        assert_eq!(&file_docs[0], d, "{}", path.display());
        files += 1;
    }
    let on_disk: usize = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| std::fs::read_dir(e.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(on_disk, files);
    assert!(
        out_dir
            .join("_/configmap-mcpctl-dashboard-acme-tools.yaml")
            .is_file(),
        "no dashboard file under _/"
    );
}

#[test]
fn templates_dir_overrides_one_template() {
    let dir = fleet_dir();
    let tpl = template_dir(
        dir.path(),
        "serviceaccount.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ name }}\n  namespace: {{ namespace }}\n  labels: {{ labels }}\n  annotations:\n    eks.amazonaws.com/role-arn: {{ \"arn:aws:iam::1:role/\" ~ name }}\n",
    );
    let out = render_in(
        dir.path(),
        &["--templates", tpl.to_str().unwrap(), "github"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = docs(&stdout(&out));
    let sa = docs.iter().find(|d| d["kind"] == "ServiceAccount").unwrap();
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::1:role/github"
    );
    // The other templates are still the embedded ones.
    assert!(docs.iter().any(|d| d["kind"] == "Deployment"));
}

#[test]
fn broken_template_exits_2_naming_template_and_line() {
    let dir = fleet_dir();
    let tpl = template_dir(
        dir.path(),
        "service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ name }}\n  labels: {{ no_such_variable }}\n",
    );
    let out = render_in(dir.path(), &["--templates", tpl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("service.yaml") && err.contains("line 5"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    std::fs::write(tpl.join("service.yaml"), "kind: Service\n{% for x in %}\n").unwrap();
    let out = render_in(dir.path(), &["--templates", tpl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("service.yaml") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn unreadable_template_dir_exits_2_naming_it() {
    let dir = fleet_dir();
    let out = render_in(dir.path(), &["--templates", "no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-dir"), "{}", stderr(&out));
}

#[test]
fn misspelt_override_file_name_is_warned_about() {
    let dir = fleet_dir();
    let tpl = template_dir(dir.path(), "deploymnet.yaml", "");
    let out = render_in(dir.path(), &["--templates", tpl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("deploymnet.yaml"), "{}", stderr(&out));
}

#[test]
fn kube_version_picks_the_pre_stop_hook() {
    let dir = fleet_dir();
    let out = render_in(dir.path(), &["--kube-version", "v1.28.3", "search"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = docs(&stdout(&out));
    let d = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pre_stop = &d["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"];
    assert!(pre_stop["exec"]["command"].is_array(), "{pre_stop}");

    let out = render_in(dir.path(), &["--kube-version", "banana"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("banana"));
}

#[test]
fn example_fleet_renders() {
    let example = repo_root().join("examples/fleet.yaml");
    let out = mcpctl(&["render", "-f", example.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = docs(&stdout(&out));
    let servers: std::collections::BTreeSet<&str> = docs
        .iter()
        .filter_map(|d| d["metadata"]["labels"]["app.kubernetes.io/name"].as_str())
        .collect();
    assert!(servers.len() >= 3, "{servers:?}");
}

#[test]
fn json_output_is_a_list_of_the_same_objects() {
    let dir = fleet_dir();
    let yaml_docs = docs(&stdout(&render_in(dir.path(), &[])));
    let out = render_in(dir.path(), &["-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap(), &yaml_docs);

    let out = render_in(dir.path(), &["-o", "json", "--output-dir", "x"]);
    assert_eq!(out.status.code(), Some(2));
}
