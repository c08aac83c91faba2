//! Putting a validated certificate in place on one server, the way every
//! mutating command goes: under the server's lock, with the operation in
//! flight in the journal, and recorded at the end.
//!
//! 1. back up the Secret (a labelled copy with a timestamp; the oldest
//!    beyond the kept number are deleted);
//! 2. replace it in one write carrying the `resourceVersion` read before
//!    validation, so that certificate and key never disagree and a change
//!    made meanwhile fails the write instead of being overwritten;
//! 3. roll the server's Deployments (a pod-template annotation holding the
//!    new certificate's fingerprint) and wait like `kubectl rollout status`;
//! 4. verify what is served (a TLS handshake trusting only the fleet CA);
//! 5. record. A failure after the write puts the previous contents back,
//!    rolls again and exits 3, or 7 when even that fails, saying what the
//!    Secret holds.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use http::Method;
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};

use super::fleet::secret_path;
use super::inspect::CertInfo;
use super::{probe, secret};
use crate::cluster::journal::{Journal, Revision};
use crate::cluster::lock::Locks;
use crate::cluster::{Cluster, Req, identity, wait};
use crate::error::{Error, exit};
use crate::fleet::Server;
use crate::rollout::events::Event;
use crate::rollout::execute::Waiting;
use crate::rollout::record;

/// The operation kinds certificate changes record in the journal.
pub const ROTATE: &str = "rotate-cert";
pub const ROLLBACK: &str = "rollback-cert";

/// Where the served certificate is checked.
#[derive(Debug, Clone)]
pub struct Verify {
    /// `host:port` to connect to.
    pub address: String,
    /// The name the certificate must be valid for (`<server>.<ns>.svc`).
    pub name: String,
    /// How long the served certificate may take to become the new one
    /// (pods still terminating may serve the old one for a while).
    pub within: Duration,
}

/// What is the same for every server of one command.
pub struct Settings {
    pub timeout: Duration,
    pub force_unlock: bool,
    pub keep_backups: usize,
}

/// The new contents of one server's Secret, validated.
pub struct Change<'a> {
    pub server: &'a Server,
    pub ns: &'a str,
    pub fleet: &'a str,
    pub kind: &'static str,
    /// The Secret as read before validation (`None`: it does not exist yet).
    pub old: Option<Value>,
    pub old_leaf: Option<CertInfo>,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub ca_pem: Option<Vec<u8>>,
    pub leaf: CertInfo,
    /// Take a backup first (a rollback restores one and takes none).
    pub backup: bool,
    pub trust: Vec<CertificateDer<'static>>,
    pub verify: Option<Verify>,
}

/// How one server's change ended.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub server: String,
    /// succeeded, restored, failed, unrestored, skipped, locked.
    pub outcome: String,
    pub exit_code: u8,
    pub from_serial: String,
    pub to_serial: String,
    pub not_after: String,
    pub message: String,
}

impl Outcome {
    pub fn new(server: &str, outcome: &str, code: u8, message: String) -> Outcome {
        Outcome {
            server: server.to_string(),
            outcome: outcome.to_string(),
            exit_code: code,
            from_serial: String::new(),
            to_serial: String::new(),
            not_after: String::new(),
            message,
        }
    }
}

/// Why a step failed: before the Secret changed, or after.
enum Failure {
    Before(String),
    After(String),
}

fn selector(fleet: &str, server: &str) -> String {
    format!("app.kubernetes.io/name={server},app.kubernetes.io/part-of={fleet}")
}

/// Installs `c` on its server; never fails without an [`Outcome`] saying how.
pub async fn install(
    cluster: &Cluster,
    c: &Change<'_>,
    settings: &Settings,
    emit: &dyn Fn(Event),
) -> Outcome {
    let name = c.server.name.as_str();
    let me = identity::holder_identity();
    let locks = match Locks::acquire(
        cluster,
        c.ns,
        c.fleet,
        &[name.to_string()],
        &me,
        settings.force_unlock,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return Outcome::new(name, "locked", e.exit_code(), e.to_string()),
    };
    let out = locked(cluster, c, settings, emit, &me).await;
    locks.release(cluster, &me).await;
    out
}

async fn locked(
    cluster: &Cluster,
    c: &Change<'_>,
    settings: &Settings,
    emit: &dyn Fn(Event),
    me: &str,
) -> Outcome {
    let name = c.server.name.as_str();
    let journal = Journal::new(cluster, c.ns, c.fleet);
    let fail = |e: Error| Outcome::new(name, "failed", e.exit_code(), e.to_string());
    let state = match journal.state(name).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    // An interrupted certificate change is taken over (this one writes the
    // Secret afresh); an interrupted deploy is not.
    if let Err(e) = record::check_inflight(&state, name, &[ROTATE, ROLLBACK], false) {
        return fail(e);
    }
    let mut op = record::operation(c.kind, "certs", journal.now(), me);
    op.step_text = "replace the certificate".into();
    let from_serial = c
        .old_leaf
        .as_ref()
        .map(|l| l.serial.clone())
        .unwrap_or_default();
    op.from.image = from_serial.clone();
    op.to.image = c.leaf.serial.clone();
    if let Err(e) = journal.set_inflight(name, &op).await {
        return fail(e);
    }
    emit(Event::OperationStarted {
        id: op.id.clone(),
        kind: c.kind.into(),
        server: name.into(),
        strategy: "certs".into(),
        from: if from_serial.is_empty() {
            "-".into()
        } else {
            format!("serial {from_serial}")
        },
        to: format!("serial {}", c.leaf.serial),
        resumed_at: None,
    });
    let mut prior = Value::Null;
    let (code, outcome, message) = match steps(cluster, c, settings, emit, &mut prior).await {
        Ok(()) => (
            exit::OK,
            "succeeded",
            format!(
                "certificate serial {} installed, valid until {}",
                c.leaf.serial,
                super::validate::date(c.leaf.not_after)
            ),
        ),
        Err(Failure::Before(why)) => (exit::ERROR, "failed", why),
        Err(Failure::After(why)) => {
            emit(Event::Restoring { why: why.clone() });
            match restore(cluster, c, settings, emit, &prior).await {
                Ok(()) => (
                    exit::GATE_FAILED_RESTORED,
                    "restored",
                    format!(
                        "{why}; the previous certificate was put back and the Deployments rolled"
                    ),
                ),
                Err(state) => (exit::UNRESTORED, "unrestored", format!("{why}; {state}")),
            }
        }
    };
    emit(Event::Finished {
        outcome: outcome.into(),
        exit_code: code,
        message: message.clone(),
    });
    // The image the server runs, for the record (its Deployments only:
    // certificate changes need no other read).
    let image = cluster
        .list(
            &format!("/apis/apps/v1/namespaces/{}/deployments", c.ns),
            Some(&selector(c.fleet, name)),
        )
        .await
        .unwrap_or_default()
        .iter()
        .find_map(|d| crate::cluster::observe::deployment_image(d, name))
        .unwrap_or_default();
    let rev = Revision {
        server: name.into(),
        revision: 0,
        operation: c.kind.into(),
        image,
        strategy: c.server.strategy.as_str().into(),
        who: op.who.clone(),
        when: journal.now(),
        outcome: outcome.into(),
        message: message.clone(),
        has_objects: false,
        images: Default::default(),
        traffic: String::new(),
        from_image: String::new(),
        deployed: state.last.as_ref().is_some_and(Revision::deployed),
    };
    // An unrestored change stays in flight: the next certificate command
    // (or `certs rollback`) takes it over.
    let recorded = if code == exit::UNRESTORED {
        Ok(())
    } else {
        journal.record(rev, &[], None).await.map(|r| {
            emit(Event::Recorded {
                revision: r.revision,
            });
        })
    };
    let mut o = Outcome::new(name, outcome, code, message);
    if let Err(e) = recorded {
        o.message
            .push_str(&format!(" (not recorded in the journal: {e})"));
    }
    o.from_serial = from_serial;
    o.to_serial = c.leaf.serial.clone();
    o.not_after = super::validate::date(c.leaf.not_after);
    o
}

fn step(emit: &dyn Fn(Event), index: usize, text: &str) {
    emit(Event::StepStarted {
        index,
        total: 4,
        text: text.into(),
    });
}

/// Runs steps 1–4; `prior` gets the fingerprint annotation the pods had.
async fn steps(
    cluster: &Cluster,
    c: &Change<'_>,
    settings: &Settings,
    emit: &dyn Fn(Event),
    prior: &mut Value,
) -> Result<(), Failure> {
    let name = c.server.name.as_str();
    let secret_name = &c.server.tls.as_ref().expect("a TLS server").secret_name;
    step(emit, 1, "back up the Secret");
    if c.backup
        && let Some(old) = &c.old
    {
        backup(cluster, c.ns, old, settings.keep_backups)
            .await
            .map_err(|e| Failure::Before(format!("could not back up Secret {secret_name}: {e}")))?;
    }
    step(emit, 2, "replace the Secret in one write");
    write(
        cluster,
        c.ns,
        secret_name,
        c.old.as_ref(),
        &c.cert_pem,
        &c.key_pem,
        c.ca_pem.as_deref(),
    )
    .await
    .map_err(Failure::Before)?;
    step(emit, 3, "roll the Deployments");
    roll(
        cluster,
        c,
        &json!(c.leaf.fingerprint),
        settings.timeout,
        emit,
        prior,
    )
    .await
    .map_err(Failure::After)?;
    step(emit, 4, "verify the served certificate");
    match &c.verify {
        None => emit(Event::Warning {
            message: format!(
                "the served certificate of {name} is not checked: pass --verify-url https://HOST:PORT"
            ),
        }),
        Some(v) => {
            let detail = served_is(v, &c.trust, &c.leaf.serial).await;
            emit(Event::Gate {
                gate: "tls".into(),
                passed: detail.is_ok(),
                detail: match &detail {
                    Ok(d) | Err(d) => d.clone(),
                },
            });
            detail.map_err(Failure::After)?;
        }
    }
    Ok(())
}

/// Handshakes until the served leaf has `serial` or `v.within` has passed.
async fn served_is(
    v: &Verify,
    trust: &[CertificateDer<'static>],
    serial: &str,
) -> Result<String, String> {
    let deadline = Instant::now() + v.within;
    loop {
        let got = probe::served(&v.address, &v.name, trust, Duration::from_secs(10)).await;
        let last = match got {
            Ok(leaf) if leaf.serial == serial => {
                return Ok(format!(
                    "{} serves serial {serial} as {}, trusted by the fleet CA",
                    v.address, v.name
                ));
            }
            Ok(leaf) => format!(
                "{} still serves serial {}, not the new {serial}",
                v.address, leaf.serial
            ),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Creates a backup of `old` and deletes the oldest beyond `keep`.
async fn backup(cluster: &Cluster, ns: &str, old: &Value, keep: usize) -> Result<(), String> {
    let now = cluster.now();
    let stamp = now.strftime("%Y%m%d%H%M%S").to_string();
    let when = now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let body = secret::backup(old, &stamp, &when);
    let bname = body["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let req = Req::new(Method::POST, format!("/api/v1/namespaces/{ns}/secrets")).json_body(&body);
    let resp = cluster
        .create(&req, &secret_path(ns, &bname))
        .await
        .map_err(|e| e.to_string())?;
    // A 409 is a backup of the same second and the same contents: kept.
    if !resp.ok() && resp.status != 409 {
        return Err(cluster.api_error(&req, &resp).to_string());
    }
    let of = old["metadata"]["name"].as_str().unwrap_or_default();
    let backups = cluster
        .list(
            &format!("/api/v1/namespaces/{ns}/secrets"),
            Some(&format!("{}={}", secret::BACKUP_OF, secret::backup_of(of))),
        )
        .await
        .map_err(|e| e.to_string())?;
    for old_backup in secret::to_prune(backups, keep) {
        let req = Req::new(Method::DELETE, secret_path(ns, &old_backup));
        match cluster.send(&req).await {
            Ok(r) if r.ok() || r.status == 404 => {}
            Ok(r) => tracing::warn!("could not delete old backup {old_backup}: {}", r.message()),
            Err(e) => tracing::warn!("could not delete old backup {old_backup}: {e}"),
        }
    }
    Ok(())
}

/// The one write that replaces the Secret (a PUT carrying the
/// resourceVersion read before), or creates it when there was none.
async fn write(
    cluster: &Cluster,
    ns: &str,
    name: &str,
    old: Option<&Value>,
    cert_pem: &[u8],
    key_pem: &[u8],
    ca_pem: Option<&[u8]>,
) -> Result<(), String> {
    let path = secret_path(ns, name);
    let (req, resp) = match old {
        Some(old) => {
            let body = secret::replaced(old, cert_pem, key_pem, ca_pem);
            let req = Req::new(Method::PUT, &path).json_body(&body);
            let resp = cluster.send(&req).await.map_err(|e| e.to_string())?;
            (req, resp)
        }
        None => {
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let body = secret::tls_secret(
                ns,
                name,
                &text(cert_pem),
                &text(key_pem),
                &ca_pem.map(text).unwrap_or_default(),
            );
            let req =
                Req::new(Method::POST, format!("/api/v1/namespaces/{ns}/secrets")).json_body(&body);
            let resp = cluster
                .create(&req, &path)
                .await
                .map_err(|e| e.to_string())?;
            (req, resp)
        }
    };
    match resp.status {
        s if (200..300).contains(&s) => Ok(()),
        409 => Err(format!(
            "Secret {ns}/{name} changed since it was read (409 Conflict on its resourceVersion): \
             nothing was replaced; run the command again"
        )),
        _ => Err(format!(
            "could not replace Secret {ns}/{name}: {}",
            cluster.api_error(&req, &resp)
        )),
    }
}

/// Sets the fingerprint annotation on the pod template of every Deployment
/// of the server to `value` (`null` removes it) and waits until they have
/// rolled out. `had` gets the annotation they had as soon as it is read, so
/// that a roll that fails half-way can still be undone.
async fn roll(
    cluster: &Cluster,
    c: &Change<'_>,
    value: &Value,
    timeout: Duration,
    emit: &dyn Fn(Event),
    had: &mut Value,
) -> Result<(), String> {
    let path = format!("/apis/apps/v1/namespaces/{}/deployments", c.ns);
    let sel = selector(c.fleet, &c.server.name);
    let deployments = cluster
        .list(&path, Some(&sel))
        .await
        .map_err(|e| e.to_string())?;
    *had = deployments
        .first()
        .map(|d| d["spec"]["template"]["metadata"]["annotations"][secret::FINGERPRINT].clone())
        .unwrap_or(Value::Null);
    let names: BTreeSet<String> = deployments
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    if names.is_empty() {
        emit(Event::Warning {
            message: format!(
                "server {} has no Deployment yet: nothing to roll (`mcpctl apply` creates it)",
                c.server.name
            ),
        });
        return Ok(());
    }
    let patch =
        json!({"spec": {"template": {"metadata": {"annotations": {secret::FINGERPRINT: value}}}}});
    for d in &names {
        let req = Req::new(Method::PATCH, format!("{path}/{d}"))
            .query("fieldManager", secret::FIELD_MANAGER)
            .content_type("application/merge-patch+json")
            .json_body(&patch);
        let resp = cluster.send(&req).await.map_err(|e| e.to_string())?;
        if !resp.ok() {
            return Err(format!(
                "could not roll Deployment {d}: {}",
                cluster.api_error(&req, &resp)
            ));
        }
    }
    let mut progress = Waiting::new(emit);
    wait::wait_for_deployments(cluster, &path, Some(&sel), &names, timeout, &mut progress)
        .await
        .map_err(|e| e.to_string())
}

/// Puts the Secret's previous contents back and rolls the pods back to the
/// annotation they had (`prior`). The error says what the Secret holds.
async fn restore(
    cluster: &Cluster,
    c: &Change<'_>,
    settings: &Settings,
    emit: &dyn Fn(Event),
    prior: &Value,
) -> Result<(), String> {
    let secret_name = &c.server.tls.as_ref().expect("a TLS server").secret_name;
    let ns = c.ns;
    let holds_new = format!(
        "Secret {ns}/{secret_name} still holds the NEW certificate (serial {}); put the previous one \
         back with `mcpctl certs rollback {}`",
        c.leaf.serial, c.server.name
    );
    let current = super::fleet::get_secret(cluster, ns, secret_name)
        .await
        .map_err(|e| format!("{holds_new} (reading it failed: {e})"))?;
    let Some(current) = current else {
        return Err(format!("Secret {ns}/{secret_name} no longer exists"));
    };
    // Without a previous Secret the new one stays (deleting it would keep
    // pods from starting); the pods still roll back to their template.
    if let Some(old) = &c.old {
        let mut body = current.clone();
        body["data"] = old["data"].clone();
        if let Some(m) = body["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
        let req = Req::new(Method::PUT, secret_path(ns, secret_name)).json_body(&body);
        let resp = cluster
            .send(&req)
            .await
            .map_err(|e| format!("{holds_new} (restoring failed: {e})"))?;
        if !resp.ok() {
            return Err(format!(
                "{holds_new} (restoring failed: {})",
                cluster.api_error(&req, &resp)
            ));
        }
    }
    emit(Event::Undone {
        text: match &c.old {
            Some(_) => format!("Secret {secret_name} holds the previous certificate again"),
            None => {
                format!("Secret {secret_name} did not exist before: it keeps the new certificate")
            }
        },
    });
    roll(cluster, c, prior, settings.timeout, emit, &mut Value::Null)
        .await
        .map_err(|e| {
            format!(
                "Secret {ns}/{secret_name} holds the previous certificate again, but the Deployments \
                 did not roll back: {e}; check them with `kubectl -n {ns} rollout status`"
            )
        })
}
