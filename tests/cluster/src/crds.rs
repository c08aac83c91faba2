//! Installs CustomResourceDefinitions from a directory of YAML files and waits until the API
//! server serves them (condition Established).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::raw;

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

/// Every CRD of every `*.yaml` file in `dir`, created with strict field validation.
pub async fn install(client: &kube::Client, dir: &Path) -> Result<Vec<String>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the CRD directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut names = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| format!("{}: not YAML: {e}", file.display()))?;
        for crd in docs
            .into_iter()
            .filter(|d| d["kind"] == "CustomResourceDefinition")
        {
            let name = crd["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let a = raw::send(
                client,
                "POST",
                &format!("{CRDS}?fieldValidation=Strict"),
                "application/json",
                Some(&crd),
            )
            .await?;
            if a.status != 201 {
                return Err(format!(
                    "the API server rejected CRD {name} of {} ({}): {}",
                    file.display(),
                    a.status,
                    a.body
                ));
            }
            names.push(name);
        }
    }
    let start = Instant::now();
    for name in &names {
        loop {
            let a = raw::send(client, "GET", &format!("{CRDS}/{name}"), "", None).await?;
            let established = a.body["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Established" && c["status"] == "True");
            if established {
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(format!("CRD {name} not Established after 60s: {}", a.body));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(names)
}
