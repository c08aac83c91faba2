//! Fleet status from a fixed number of LIST calls, whatever the fleet size:
//! Deployments and Services (`app.kubernetes.io/part-of=<fleet>`), the
//! journal's state records, the lock Leases, and the namespace's Secrets
//! (certificate expiry of each server's TLS Secret). Rows are then computed
//! per server without further requests.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::client::{Cluster, Req};
use super::journal::{Due, Journal, Operation, Revision, State};
use super::lock;
use super::observe;
use crate::error::Result;
use crate::fleet::{Fleet, Router, Strategy};

/// Annotation holding a certificate's notAfter (RFC 3339) on its Secret; when
/// absent, `tls.crt` is parsed.
pub const NOT_AFTER: &str = "mcpctl.io/not-after";

/// notAfter of a TLS Secret: the annotation, else the first certificate of
/// `data["tls.crt"]` (base64 PEM). Values are read, never printed.
pub fn secret_not_after(secret: &Value) -> Option<Timestamp> {
    if let Some(a) = secret["metadata"]["annotations"][NOT_AFTER].as_str() {
        return a.parse().ok();
    }
    use base64::Engine;
    let b64 = secret["data"]["tls.crt"].as_str()?;
    let pem_bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem_bytes).ok()?;
    let cert = pem.parse_x509().ok()?;
    Timestamp::from_second(cert.validity().not_after.timestamp()).ok()
}

/// Everything `status` read, by kind.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub deployments: Vec<Value>,
    pub services: Vec<Value>,
    pub states: BTreeMap<String, State>,
    pub leases: Vec<Value>,
    /// TLS Secrets; `None` when the user may not list Secrets (certificate
    /// columns stay unknown, the rest of the status is still shown).
    pub secrets: Option<Vec<Value>>,
    /// VirtualServices and HTTPRoutes of the fleet (canary weights).
    pub routes: Vec<Value>,
}

/// Reads the snapshot: five LISTs, in pages of 500 like kubectl (so one
/// request each up to 500 objects), plus one per mesh route kind the fleet's
/// canary servers use (Istio VirtualServices, Gateway API HTTPRoutes) for
/// their live weights.
pub async fn snapshot(cluster: &Cluster, ns: &str, fleet: &Fleet) -> Result<Snapshot> {
    let name = fleet.name.as_str();
    let part_of = format!("app.kubernetes.io/part-of={name}");
    // The servers' Leases and the fleet's (a fleet-wide operation locks every server).
    let leases_sel = format!("mcpctl.io/record in (lock,fleet-lock),mcpctl.io/fleet={name}");
    let journal = Journal::new(cluster, ns, name);
    let deps_path = format!("/apis/apps/v1/namespaces/{ns}/deployments");
    let svc_path = format!("/api/v1/namespaces/{ns}/services");
    let lease_path = format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases");
    let secret_path = format!("/api/v1/namespaces/{ns}/secrets");
    let mut route_paths = Vec::new();
    // Canary weights and the active colour of blue-green servers behind Istio
    // live in the routes.
    let routers: Vec<Router> = fleet
        .servers
        .iter()
        .filter(|s| s.strategy != Strategy::Rolling)
        .map(|s| s.router)
        .collect();
    if routers.contains(&Router::Istio) {
        route_paths.push(format!(
            "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices"
        ));
    }
    if routers.contains(&Router::GatewayApi) {
        route_paths.push(format!(
            "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes"
        ));
    }
    let routes = async {
        let mut all = Vec::new();
        for p in &route_paths {
            // A missing CRD (404) means no routes, not an error for status.
            let req = Req::get(p).query("labelSelector", part_of.clone());
            match cluster.list_pages(&req).await? {
                Ok(items) => all.extend(items),
                Err(resp) if resp.status == 404 => {}
                Err(resp) => return Err(cluster.api_error(&req, &resp)),
            }
        }
        Ok(all)
    };
    // List items of built-in kinds carry no `kind` (transcript 43): set it,
    // since the rollout state is read from objects by kind.
    let with_kind = |kind: &'static str, items: Vec<Value>| -> Vec<Value> {
        items
            .into_iter()
            .map(|mut o| {
                o["kind"] = Value::String(kind.to_string());
                o
            })
            .collect()
    };
    let (deployments, services, states, leases, secrets, routes) = futures::try_join!(
        async {
            Ok::<_, crate::error::Error>(with_kind(
                "Deployment",
                cluster.list(&deps_path, Some(&part_of)).await?,
            ))
        },
        async {
            Ok::<_, crate::error::Error>(with_kind(
                "Service",
                cluster.list(&svc_path, Some(&part_of)).await?,
            ))
        },
        journal.states(),
        cluster.list(&lease_path, Some(&leases_sel)),
        tls_secrets(cluster, &secret_path),
        routes,
    )?;
    Ok(Snapshot {
        deployments,
        services,
        states,
        leases,
        secrets,
        routes,
    })
}

/// The namespace's TLS Secrets (certificate expiry). They are created by the
/// certificate commands or by hand and not necessarily labelled, so they are
/// selected by type: other Secrets are never fetched.
/// A 403 (no permission to list Secrets) gives `None`: certificate expiry is
/// one column of the status, not a reason to show none of it.
async fn tls_secrets(cluster: &Cluster, path: &str) -> Result<Option<Vec<Value>>> {
    let req = Req::get(path).query("fieldSelector", "type=kubernetes.io/tls");
    match cluster.list_pages(&req).await? {
        Ok(items) => Ok(Some(items)),
        Err(resp) if resp.status == 403 => Ok(None),
        Err(resp) => Err(cluster.api_error(&req, &resp)),
    }
}

/// One Deployment of a server.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRow {
    pub name: String,
    /// stable, canary, blue, green.
    pub track: String,
    pub image: String,
    pub desired: i64,
    pub ready: i64,
    pub updated: i64,
    pub available: i64,
    /// What `kubectl rollout status` would say.
    pub rollout: String,
}

/// One server's status.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    pub server: String,
    pub namespace: String,
    /// Whether any Deployment of the server exists.
    pub deployed: bool,
    pub image: String,
    pub version: String,
    /// The image the fleet file names, when it differs from what serves
    /// (a deploy is due, or one was rolled back): `apply` keeps what runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_image: Option<String>,
    pub strategy: String,
    pub active_colour: Option<String>,
    pub canary_weight: Option<u32>,
    /// Human summary of the traffic split.
    pub traffic: String,
    pub ready: i64,
    pub desired: i64,
    pub deployments: Vec<DeploymentRow>,
    pub last_rollout: Option<Revision>,
    pub last_rollout_age_seconds: Option<i64>,
    pub inflight: Option<Operation>,
    /// Deferred work recorded by finished operations (delayed scale-downs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub due: Vec<Due>,
    /// Parts of the journal this version cannot read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub journal_errors: Vec<String>,
    pub lock_holder: Option<String>,
    pub lock_since: Option<String>,
    pub certificate_not_after: Option<String>,
    pub certificate_days_left: Option<i64>,
}

fn track_name(d: &Value) -> String {
    match observe::track_of(d) {
        Some(crate::render::Track::Stable) => "stable",
        Some(crate::render::Track::Canary) => "canary",
        Some(crate::render::Track::Blue) => "blue",
        Some(crate::render::Track::Green) => "green",
        None => "stable",
    }
    .to_string()
}

/// The tag (or digest) of an image reference.
pub fn image_version(image: &str) -> String {
    if let Some((_, d)) = image.split_once('@') {
        return d.chars().take(19).collect();
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => tag.to_string(),
        None => "latest".to_string(),
    }
}

fn name_label(v: &Value) -> &str {
    v["metadata"]["labels"]["app.kubernetes.io/name"]
        .as_str()
        .unwrap_or("")
}

/// Computes the rows of `servers` (fleet order; all when empty).
pub fn rows(
    fleet: &Fleet,
    ns: &str,
    only: &[String],
    snap: &Snapshot,
    now: Timestamp,
) -> Vec<ServerStatus> {
    // Index by server once: the rows are then linear in the fleet size.
    let mut deps_by: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for d in &snap.deployments {
        deps_by.entry(name_label(d)).or_default().push(d);
    }
    let mut svcs_by: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for s in &snap.services {
        svcs_by.entry(name_label(s)).or_default().push(s);
    }
    let fleet_lease = lock::fleet_lease_name(&fleet.name);
    let mut out = Vec::new();
    for server in &fleet.servers {
        if !only.is_empty() && !only.contains(&server.name) {
            continue;
        }
        let name = server.name.as_str();
        let deps: Vec<&Value> = deps_by.get(name).cloned().unwrap_or_default();
        let mut live: Vec<Value> = deps.iter().map(|d| (*d).clone()).collect();
        live.extend(
            svcs_by
                .get(name)
                .into_iter()
                .flatten()
                .map(|s| (*s).clone()),
        );
        live.extend(
            snap.routes
                .iter()
                .filter(|r| name_label(r) == name)
                .cloned(),
        );
        let state = snap.states.get(name).cloned().unwrap_or_default();

        let active_colour = if server.strategy == Strategy::BlueGreen {
            Some(
                observe::active_colour(name, &live)
                    .unwrap_or_default()
                    .as_str()
                    .to_string(),
            )
        } else {
            None
        };
        let canary_weight = if server.strategy == Strategy::Canary {
            Some(observe::canary_weight(name, &live, state.inflight.as_ref()).unwrap_or(0))
        } else {
            None
        };
        let mut rows: Vec<DeploymentRow> = deps
            .iter()
            .map(|d| {
                let st = &d["status"];
                let rollout = match super::wait::evaluate(d) {
                    super::wait::Rollout::Complete(_) => "complete".to_string(),
                    super::wait::Rollout::Progressing(m) | super::wait::Rollout::Failed(m) => m,
                };
                DeploymentRow {
                    name: d["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    track: track_name(d),
                    image: observe::deployment_image(d, name).unwrap_or_default(),
                    desired: d["spec"]["replicas"].as_i64().unwrap_or(1),
                    ready: st["readyReplicas"].as_i64().unwrap_or(0),
                    updated: st["updatedReplicas"].as_i64().unwrap_or(0),
                    available: st["availableReplicas"].as_i64().unwrap_or(0),
                    rollout,
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        // The Deployment serving the main traffic.
        let primary_track = active_colour
            .clone()
            .unwrap_or_else(|| "stable".to_string());
        let primary = rows
            .iter()
            .find(|r| r.track == primary_track)
            .or_else(|| rows.first());
        let image = primary.map(|r| r.image.clone()).unwrap_or_default();
        let (ready, desired) = match server.strategy {
            Strategy::BlueGreen => primary.map(|r| (r.ready, r.desired)).unwrap_or((0, 0)),
            _ => rows
                .iter()
                .fold((0, 0), |(a, b), r| (a + r.ready, b + r.desired)),
        };
        let traffic = match (&active_colour, canary_weight) {
            // Nothing serves, whatever the Services and routes say.
            _ if rows.is_empty() => "-".to_string(),
            (Some(c), _) => format!("{c} active"),
            (None, Some(0)) => "stable 100%".to_string(),
            (None, Some(w)) => format!("canary {w}%"),
            _ => "-".to_string(),
        };
        let live = |lease: &str| {
            snap.leases
                .iter()
                .find(|l| l["metadata"]["name"].as_str() == Some(lease))
                .and_then(|l| lock::live_holder(l, now))
        };
        let lease = live(&lock::lease_name(name)).or_else(|| live(&fleet_lease));
        let not_after = server.tls.as_ref().and_then(|t| {
            snap.secrets
                .iter()
                .flatten()
                .find(|s| s["metadata"]["name"].as_str() == Some(t.secret_name.as_str()))
                .and_then(secret_not_after)
        });
        let cert = not_after.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        let days = not_after.map(|t| t.duration_since(now).as_secs().div_euclid(86_400));
        let age = state
            .last
            .as_ref()
            .and_then(|r| r.when.parse::<Timestamp>().ok())
            .map(|t| now.duration_since(t).as_secs());
        out.push(ServerStatus {
            server: name.to_string(),
            namespace: ns.to_string(),
            deployed: !rows.is_empty(),
            version: if image.is_empty() {
                String::new()
            } else {
                image_version(&image)
            },
            fleet_image: (!image.is_empty() && image != server.image).then(|| server.image.clone()),
            image,
            strategy: server.strategy.as_str().to_string(),
            active_colour,
            canary_weight,
            traffic,
            ready,
            desired,
            deployments: rows,
            last_rollout: state.last.clone(),
            last_rollout_age_seconds: age,
            inflight: state.inflight.clone(),
            due: state.due.clone(),
            journal_errors: state.unreadable.clone(),
            lock_holder: lease.as_ref().map(|l| l.0.clone()),
            lock_since: lease.map(|l| l.1),
            certificate_not_after: cert,
            certificate_days_left: days,
        });
    }
    out
}

/// "45s", "12m", "3h", "5d".
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 120 {
        format!("{s}s")
    } else if s < 2 * 3600 {
        format!("{}m", s / 60)
    } else if s < 2 * 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// The table `status` prints.
pub fn table(rows: &[ServerStatus]) -> String {
    let mut t = crate::output::table();
    t.set_header([
        "SERVER",
        "VERSION",
        "STRATEGY",
        "TRAFFIC",
        "READY",
        "LAST ROLLOUT",
        "CERT",
        "OPERATION",
    ]);
    for r in rows {
        let last = match (&r.last_rollout, r.last_rollout_age_seconds) {
            (Some(rev), Some(a)) => {
                format!("{} {} ago (rev {})", rev.outcome, age(a), rev.revision)
            }
            (Some(rev), None) => format!("{} (rev {})", rev.outcome, rev.revision),
            _ => "-".to_string(),
        };
        let cert = match r.certificate_days_left {
            Some(d) if d < 0 => "EXPIRED".to_string(),
            Some(d) => format!("{d}d"),
            None => "-".to_string(),
        };
        let op = match (&r.inflight, &r.lock_holder) {
            (Some(i), holder) => {
                let by = holder.as_deref().unwrap_or(&i.holder);
                let live = if r.lock_holder.is_some() {
                    ""
                } else {
                    " (interrupted)"
                };
                format!(
                    "{} ({}) by {by} since {}{live}",
                    i.kind, i.step_text, i.started
                )
            }
            (None, Some(h)) => format!("locked by {h}"),
            (None, None) if !r.journal_errors.is_empty() => "journal unreadable".to_string(),
            (None, None) => "-".to_string(),
        };
        let op = match r.due.first() {
            Some(d) if op == "-" => format!("due {}: {}", d.due_at, d.action.describe()),
            Some(d) => format!("{op}; due {}: {}", d.due_at, d.action.describe()),
            None => op,
        };
        t.add_row([
            r.server.clone(),
            if r.deployed {
                match &r.fleet_image {
                    Some(f) => format!("{} (file: {})", r.version, image_version(f)),
                    None => r.version.clone(),
                }
            } else {
                "not deployed".to_string()
            },
            r.strategy.clone(),
            r.traffic.clone(),
            format!("{}/{}", r.ready, r.desired),
            last,
            cert,
            op,
        ]);
    }
    tidy(&t.to_string())
}

/// A borderless comfy-table without the left padding column and trailing
/// spaces, so that columns start at the margin like kubectl's.
pub fn tidy(table: &str) -> String {
    let mut out: String = table
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_versions() {
        assert_eq!(image_version("ghcr.io/acme/github-mcp:1.4.2"), "1.4.2");
        assert_eq!(image_version("localhost:5000/x"), "latest");
        assert_eq!(
            image_version("x@sha256:0123456789abcdef0123"),
            "sha256:0123456789ab"
        );
    }

    #[test]
    fn not_after_from_annotation_or_certificate() {
        let s =
            serde_json::json!({"metadata": {"annotations": {NOT_AFTER: "2027-01-01T00:00:00Z"}}});
        assert_eq!(
            secret_not_after(&s),
            Some("2027-01-01T00:00:00Z".parse().unwrap())
        );
        // A self-signed certificate valid until 2036-11-18T06:39:58Z (openssl req -x509).
        let pem = include_str!("testdata/cert-2036-11-18.pem");
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let s = serde_json::json!({"metadata": {}, "data": {"tls.crt": b64, "tls.key": "eA=="}});
        assert_eq!(
            secret_not_after(&s),
            Some("2036-11-18T06:39:58Z".parse().unwrap())
        );
        assert_eq!(
            secret_not_after(&serde_json::json!({"data": {"tls.crt": "bm90IGEgY2VydA=="}})),
            None
        );
    }

    #[test]
    fn ages() {
        assert_eq!(age(30), "30s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(3 * 86_400), "3d");
    }
}
