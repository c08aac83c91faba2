//! `mcpctl certs rotate-ca [--finish]`: roll the fleet CA over without an
//! outage.
//!
//! 1. A new CA is made and, in one write of the CA Secret, becomes the
//!    issuer (`tls.crt`, `tls.key`) while the trust bundle (`ca.crt`) holds
//!    the old CA and the new one; the Secret is marked with
//!    [`ROLLOVER`]. Clients that trust the bundle accept both.
//! 2. Every server certificate is re-issued from the new CA, like
//!    `certs rotate` (validated, backed up, one write, rolled). Running the
//!    command again re-issues only what the new CA did not issue yet.
//! 3. `--finish`, once every server carries a certificate of the new CA,
//!    drops the old CA from the bundle in one write.

use http::Method;
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};

use super::rotate;
use crate::certs::fleet::{self, secret_path};
use crate::certs::{issue, pem, secret};
use crate::cli::{CertsRunArgs, RotateArgs, RotateCaArgs};
use crate::cluster::Req;
use crate::cluster::journal::rfc3339;
use crate::cluster::session::Session;
use crate::error::{Error, Result, exit};
use crate::output::Printer;

/// Annotation on the CA Secret while a rollover is under way: when it began.
pub const ROLLOVER: &str = "mcpctl.io/ca-rollover-since";

/// The servers whose certificates `ca_secret` issues.
fn servers_of(s: &Session, ca_secret: &str) -> Vec<String> {
    s.fleet
        .servers
        .iter()
        .filter(|x| x.tls.as_ref().is_some_and(|t| t.ca_secret == ca_secret))
        .map(|x| x.name.clone())
        .collect()
}

/// Replaces the CA Secret (`body` carries the resourceVersion read).
async fn put(s: &Session, name: &str, body: &Value) -> Result<()> {
    let req = Req::new(Method::PUT, secret_path(s.ns(), name)).json_body(body);
    let resp = s.cluster.send(&req).await?;
    match resp.status {
        c if (200..300).contains(&c) => Ok(()),
        409 => Err(Error::Failed(format!(
            "the CA Secret {}/{name} changed since it was read (409 Conflict): nothing was \
             replaced; run the command again",
            s.ns()
        ))),
        _ => Err(s.cluster.api_error(&req, &resp)),
    }
}

/// The certificates of `key` in the CA Secret.
fn certs_of(ca: &Value, key: &str, name: &str) -> Result<Vec<CertificateDer<'static>>> {
    let text = secret::data(ca, key)
        .ok_or_else(|| Error::Failed(format!("the CA Secret {name} has no {key}")))?;
    pem::certs(&text).map_err(|e| Error::Failed(format!("the CA Secret {name}, {key}: {e}")))
}

pub async fn run(s: &Session, args: &RotateCaArgs, printer: &Printer) -> Result<u8> {
    let ns = s.ns();
    let name = super::ca_secret_name(s, args.secret.as_deref())?;
    let ca = fleet::get_secret(&s.cluster, ns, &name)
        .await?
        .ok_or_else(|| {
            Error::Failed(format!(
                "the fleet CA Secret {ns}/{name} does not exist: create it with `mcpctl certs init-ca`"
            ))
        })?;
    let servers = servers_of(s, &name);
    if args.finish {
        return finish(s, &name, &ca, &servers, printer).await;
    }
    let new_ca = if ca["metadata"]["annotations"][ROLLOVER].is_string() {
        printer.status(&format!(
            "a CA rollover of {ns}/{name} is under way since {}: re-issuing what the new CA did not issue yet",
            ca["metadata"]["annotations"][ROLLOVER].as_str().unwrap_or_default()
        ));
        certs_of(&ca, "tls.crt", &name)?
    } else {
        let now = s.cluster.now();
        let old_bundle = fleet::trust(Some(&ca), &name, ns).map_err(Error::Failed)?;
        let days = u32::try_from(args.ca_validity.as_secs() / 86_400)
            .unwrap_or(u32::MAX)
            .max(1);
        let cn = super::ca_common_name(s, now.as_second());
        let new = issue::new_ca(&cn, now.as_second(), days, args.key_type.into())
            .map_err(Error::Failed)?;
        let bundle = format!("{}{}", pem::certs_to_pem(&old_bundle), new.cert_pem);
        let mut body = secret::replaced(
            &ca,
            new.cert_pem.as_bytes(),
            new.key_pem.as_bytes(),
            Some(bundle.as_bytes()),
        );
        if !body["metadata"]["annotations"].is_object() {
            body["metadata"]["annotations"] = json!({});
        }
        body["metadata"]["annotations"][ROLLOVER] = json!(rfc3339(now));
        put(s, &name, &body).await?;
        printer.status(&format!(
            "published the trust bundle in {ns}/{name} (ca.crt: {} old CA(s) and the new CA \
             {cn}); the new CA issues from now on",
            old_bundle.len()
        ));
        pem::certs(new.cert_pem.as_bytes()).map_err(Error::Failed)?
    };
    let rargs = RotateArgs {
        servers: servers.clone(),
        key_type: args.key_type,
        all: false,
        if_expiring_within: None,
        cert_file: None,
        key_file: None,
        verify_url: None,
        verify_timeout: std::time::Duration::from_secs(30),
        max_parallel: args.max_parallel,
        validity: args.validity,
        keep_backups: secret::KEEP_BACKUPS as u32,
        run: CertsRunArgs {
            timeout: args.run.timeout,
            force_unlock: args.run.force_unlock,
        },
    };
    let code = if servers.is_empty() {
        exit::OK
    } else {
        rotate::rotate(s, &rargs, printer, Some(new_ca)).await?
    };
    printer.status(&format!(
        "every server of {ns}/{name} carries a certificate of the new CA; once every client has \
         reloaded the bundle, drop the old CA with `mcpctl certs rotate-ca --finish`"
    ));
    Ok(code)
}

/// Drops the old CA from the bundle, once the new CA issued every server's certificate.
async fn finish(
    s: &Session,
    name: &str,
    ca: &Value,
    servers: &[String],
    printer: &Printer,
) -> Result<u8> {
    let ns = s.ns();
    if !ca["metadata"]["annotations"][ROLLOVER].is_string() {
        return Err(Error::Failed(format!(
            "no CA rollover of {ns}/{name} is under way: start one with `mcpctl certs rotate-ca`"
        )));
    }
    let new_ca = certs_of(ca, "tls.crt", name)?;
    let secrets = fleet::tls_secrets(&s.cluster, ns).await?;
    let pending: Vec<&str> = s
        .fleet
        .servers
        .iter()
        .filter(|x| servers.contains(&x.name))
        .filter(|x| {
            let t = x.tls.as_ref().expect("servers of the CA have tls");
            !secrets
                .get(&t.secret_name)
                .is_some_and(|sec| rotate::issued_by(sec, &new_ca))
        })
        .map(|x| x.name.as_str())
        .collect();
    if !pending.is_empty() {
        return Err(Error::Failed(format!(
            "the old CA stays in the bundle: {} still carry a certificate the new CA did not issue; \
             run `mcpctl certs rotate-ca` again to re-issue them",
            pending.join(", ")
        )));
    }
    let new_pem = pem::certs_to_pem(&new_ca);
    let mut body = ca.clone();
    if let Some(m) = body["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    body["data"]["ca.crt"] = json!(base64_of(&new_pem));
    if let Some(a) = body["metadata"]["annotations"].as_object_mut() {
        a.remove(ROLLOVER);
    }
    put(s, name, &body).await?;
    printer.status(&format!(
        "dropped the old CA from the bundle of {ns}/{name}: ca.crt holds the new CA alone"
    ));
    Ok(exit::OK)
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
