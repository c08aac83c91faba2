//! A kubeconfig pointing at the server (plain HTTP on loopback; kube-rs and kubectl accept
//! `server: http://...`), with the bearer token when the server requires one.

use std::path::Path;

pub fn render(url: &str, context: &str, namespace: &str, token: Option<&str>) -> String {
    let user = match token {
        Some(t) => format!("{{token: {}}}", serde_json::Value::from(t)),
        None => "{}".to_string(),
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: {url}
users:
- name: {context}
  user: {user}
contexts:
- name: {context}
  context:
    cluster: {context}
    user: {context}
    namespace: {namespace}
current-context: {context}
preferences: {{}}
"
    )
}

pub fn write(
    path: &Path,
    url: &str,
    context: &str,
    namespace: &str,
    token: Option<&str>,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, render(url, context, namespace, token))
}
