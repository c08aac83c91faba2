//! What the certificate commands read about the fleet: which servers serve
//! TLS, the Service names their certificates must cover (from the rendered
//! objects), their Secrets and the fleet CA, in a constant number of
//! requests whatever the fleet's size.

use std::collections::BTreeMap;

use rustls::pki_types::CertificateDer;
use serde_json::Value;

use super::{names, pem, secret};
use crate::cluster::session::Session;
use crate::cluster::{Cluster, Req};
use crate::error::{Error, Result};
use crate::fleet::Server;
use crate::render::{RenderOptions, Renderer};

/// The selected servers that have a `tls` block; a named server without one is a usage error.
pub fn tls_servers<'a>(s: &'a Session, only: &[String]) -> Result<Vec<&'a Server>> {
    s.check_servers(only)?;
    let mut out = Vec::new();
    for srv in &s.fleet.servers {
        let named = only.contains(&srv.name);
        if !only.is_empty() && !named {
            continue;
        }
        match &srv.tls {
            Some(_) => out.push(srv),
            None if named => {
                return Err(Error::Usage(format!(
                    "server {} has no `tls` block in the fleet file: it serves no certificate; add \
                     `tls: {{}}` to it (or to defaults) first",
                    srv.name
                )));
            }
            None => {}
        }
    }
    Ok(out)
}

/// The DNS names each server's certificate must cover: four for every
/// Service it renders, then the fleet file's `tls.dnsNames`.
pub fn required_names(s: &Session, servers: &[&Server]) -> Result<BTreeMap<String, Vec<String>>> {
    let only: Vec<String> = servers.iter().map(|s| s.name.clone()).collect();
    if only.is_empty() {
        return Ok(BTreeMap::new());
    }
    let opts = RenderOptions {
        kube_version: s.kube_version()?,
        ..Default::default()
    };
    let objects = Renderer::new(None)?.render_fleet(&s.fleet, &only, &opts)?;
    let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in objects.iter().map(|o| &o.value) {
        if o["kind"] != "Service" {
            continue;
        }
        let (Some(server), Some(name)) = (
            o["metadata"]["labels"]["app.kubernetes.io/name"].as_str(),
            o["metadata"]["name"].as_str(),
        ) else {
            continue;
        };
        services
            .entry(server.to_string())
            .or_default()
            .push(name.to_string());
    }
    Ok(servers
        .iter()
        .map(|srv| {
            let n = &srv.name;
            let svcs = services.get(n).cloned().unwrap_or_else(|| vec![n.clone()]);
            let extra = srv.tls.as_ref().map(|t| &t.dns_names[..]).unwrap_or(&[]);
            (n.clone(), names::required(&svcs, s.ns(), extra))
        })
        .collect())
}

/// Every `kubernetes.io/tls` Secret of the namespace, by name (one LIST).
pub async fn tls_secrets(cluster: &Cluster, ns: &str) -> Result<BTreeMap<String, Value>> {
    let req = Req::get(format!("/api/v1/namespaces/{ns}/secrets"))
        .query("fieldSelector", "type=kubernetes.io/tls");
    let v = cluster.send_ok(&req).await?;
    Ok(v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["metadata"]["name"].as_str()?.to_string(), s.clone())))
        .collect())
}

/// The path of Secret `name` of `ns`.
pub fn secret_path(ns: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{ns}/secrets/{name}")
}

/// One Secret, or `None` when it does not exist.
pub async fn get_secret(cluster: &Cluster, ns: &str, name: &str) -> Result<Option<Value>> {
    let req = Req::get(secret_path(ns, name));
    let resp = cluster.send(&req).await?;
    match resp.status {
        404 => Ok(None),
        _ if resp.ok() => Ok(Some(resp.json()?)),
        _ => Err(cluster.api_error(&req, &resp)),
    }
}

/// The certificates clients trust: the CA Secret's `ca.crt` (the bundle,
/// which holds two CAs during a rollover), else its `tls.crt`.
pub fn trust(
    ca_secret: Option<&Value>,
    name: &str,
    ns: &str,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let Some(ca) = ca_secret else {
        return Err(format!(
            "the fleet CA Secret {name} does not exist in namespace {ns}: create it with `mcpctl certs init-ca`"
        ));
    };
    let pem_text = secret::data(ca, "ca.crt")
        .or_else(|| secret::data(ca, "tls.crt"))
        .ok_or_else(|| format!("the fleet CA Secret {name} has neither ca.crt nor tls.crt"))?;
    pem::certs(&pem_text).map_err(|e| format!("the fleet CA Secret {name}: {e}"))
}

/// The CA that issues: its certificate and key PEM texts (`tls.crt`, `tls.key`).
pub fn issuer(ca_secret: Option<&Value>, name: &str, ns: &str) -> Result<(String, String), String> {
    let ca = ca_secret.ok_or_else(|| {
        format!(
            "the fleet CA Secret {name} does not exist in namespace {ns}: create it with `mcpctl certs init-ca`"
        )
    })?;
    let text = |k: &str| {
        secret::data(ca, k)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                format!("the fleet CA Secret {name} has no {k}: it cannot issue certificates")
            })
    };
    Ok((text("tls.crt")?, text("tls.key")?))
}
