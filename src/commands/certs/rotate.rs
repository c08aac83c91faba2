//! `mcpctl certs rotate SERVER..|--all [--if-expiring-within 30d]
//! [--cert-file F --key-file F] [--verify-url URL] [--max-parallel N]`:
//! issue (or take) a certificate, validate it before anything is written,
//! then install it under the server's lock (see [`crate::certs::install`]).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use rustls::pki_types::CertificateDer;
use serde_json::Value;

use super::outcomes;
use crate::certs::fleet;
use crate::certs::install::{self, Change, Outcome, Verify};
use crate::certs::report::{self, Input, Level};
use crate::certs::secret::{self, Manager};
use crate::certs::validate::{self, Pair};
use crate::certs::{issue, pem, probe};
use crate::cli::RotateArgs;
use crate::cluster::session::Session;
use crate::error::{Error, Result, exit};
use crate::fleet::Server;
use crate::output::Printer;

/// What every server's preparation reads.
struct Shared<'a> {
    s: &'a Session,
    args: &'a RotateArgs,
    secrets: BTreeMap<String, Value>,
    required: BTreeMap<String, Vec<String>>,
    now: i64,
    files: Option<(Vec<u8>, Vec<u8>)>,
    /// Servers named on the command line (a cert-manager Secret among them is an error).
    named: bool,
    /// Skip servers whose certificate already verifies against these (a CA
    /// rollover re-issues only what the new CA did not issue).
    done_if_issued_by: Option<Vec<CertificateDer<'static>>>,
}

/// How the served certificate of `server` is checked, from `--verify-url`.
pub fn verify(
    url: Option<&str>,
    within: Duration,
    server: &Server,
    ns: &str,
) -> Result<Option<Verify>> {
    let Some(url) = url else { return Ok(None) };
    Ok(Some(Verify {
        address: probe::address(url).map_err(Error::Usage)?,
        name: format!("{}.{ns}.svc", server.name),
        within,
    }))
}

/// Refuses a Secret cert-manager renews: saying how to renew it instead.
pub fn cert_manager_refusal(old: &Value, ns: &str) -> String {
    let cert = old["metadata"]["annotations"][secret::CERT_MANAGER_CERTIFICATE]
        .as_str()
        .unwrap_or("<certificate>");
    let name = old["metadata"]["name"].as_str().unwrap_or_default();
    format!(
        "Secret {ns}/{name} is managed by cert-manager (Certificate {cert}): mcpctl leaves it alone; \
         renew it with `cmctl renew {cert} -n {ns}`"
    )
}

/// Issues or takes the new certificate and validates it; `Err` is the
/// outcome when nothing is to be written.
fn prepare<'a>(
    sh: &'a Shared<'a>,
    server: &'a Server,
) -> std::result::Result<Change<'a>, Box<Outcome>> {
    let ns = sh.s.ns();
    let tls = server.tls.as_ref().expect("a TLS server");
    let name = server.name.as_str();
    let failed = |why: String| Box::new(Outcome::new(name, "failed", exit::ERROR, why));
    let old = sh.secrets.get(&tls.secret_name).cloned();
    if let Some(o) = &old
        && secret::manager(o) == Manager::CertManager
    {
        let why = cert_manager_refusal(o, ns);
        return Err(if sh.named {
            failed(why)
        } else {
            Box::new(Outcome::new(name, "skipped", exit::OK, why))
        });
    }
    let ca_secret = sh.secrets.get(&tls.ca_secret);
    let trust = fleet::trust(ca_secret, &tls.ca_secret, ns).map_err(failed)?;
    let required = &sh.required[name];
    if let Some(new_ca) = &sh.done_if_issued_by
        && old.as_ref().is_some_and(|o| issued_by(o, new_ca))
    {
        return Err(Box::new(Outcome::new(
            name,
            "skipped",
            exit::OK,
            "already issued by the new CA".into(),
        )));
    }
    if let Some(within) = sh.args.if_expiring_within {
        let st = report::evaluate(&Input {
            server: name,
            secret_name: &tls.secret_name,
            secret: old.as_ref(),
            trust: Ok(&trust),
            required,
            now: sh.now,
            warn_days: u32::try_from(within.as_secs() / 86_400).unwrap_or(u32::MAX),
        });
        if st.level == Level::Ok {
            return Err(Box::new(Outcome::new(
                name,
                "skipped",
                exit::OK,
                format!(
                    "valid until {}, more than {} days away",
                    st.not_after.unwrap_or_default(),
                    within.as_secs() / 86_400
                ),
            )));
        }
    }
    let old_leaf = old.as_ref().and_then(secret::chain).map(|(_, leaf)| leaf);
    let (cert_pem, key_pem) = match &sh.files {
        Some((c, k)) => (c.clone(), k.clone()),
        None => {
            let (ca_cert, ca_key) = fleet::issuer(ca_secret, &tls.ca_secret, ns).map_err(failed)?;
            let days = u32::try_from(sh.args.validity.as_secs() / 86_400)
                .unwrap_or(u32::MAX)
                .max(1);
            let until = issue::not_after(sh.now, days, old_leaf.as_ref().map(|l| l.not_after));
            let i = issue::server_until(
                &ca_cert,
                &ca_key,
                required,
                sh.now,
                until,
                sh.args.key_type.into(),
            )
            .map_err(failed)?;
            (i.cert_pem.into_bytes(), i.key_pem.into_bytes())
        }
    };
    let pair = Pair::read(&cert_pem, &key_pem)
        .map_err(|e| failed(format!("validation failed, nothing was written: {e}")))?;
    let problems = validate::check_new(&pair, old_leaf.as_ref(), &trust, required, sh.now);
    if !problems.is_empty() {
        return Err(failed(format!(
            "validation failed, nothing was written: {}",
            problems.join("; ")
        )));
    }
    let ca_pem = pem::certs_to_pem(&trust).into_bytes();
    Ok(Change {
        server,
        ns,
        fleet: &sh.s.fleet.name,
        kind: install::ROTATE,
        old,
        old_leaf,
        cert_pem,
        key_pem,
        ca_pem: Some(ca_pem),
        leaf: pair.leaf,
        backup: true,
        trust,
        verify: verify(
            sh.args.verify_url.as_deref(),
            sh.args.verify_timeout,
            server,
            ns,
        )
        .map_err(|e| failed(e.to_string()))?,
    })
}

fn read(path: &std::path::Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::Usage(format!("cannot read the {what} {}: {e}", path.display())))
}

/// Whether the certificate in `secret` verifies against `ca` alone.
pub fn issued_by(secret: &Value, ca: &[CertificateDer<'static>]) -> bool {
    secret::chain(secret).is_some_and(|(chain, leaf)| {
        validate::chain_verifies(&chain, &leaf, ca, leaf.not_before).is_ok()
    })
}

pub async fn run(s: &Session, args: &RotateArgs, printer: &Printer) -> Result<u8> {
    rotate(s, args, printer, None).await
}

/// Rotates what `args` selects; with `done_if_issued_by`, servers whose
/// certificate those CAs issued are skipped.
pub async fn rotate(
    s: &Session,
    args: &RotateArgs,
    printer: &Printer,
    done_if_issued_by: Option<Vec<CertificateDer<'static>>>,
) -> Result<u8> {
    let only = if args.all {
        Vec::new()
    } else {
        args.servers.clone()
    };
    let servers = fleet::tls_servers(s, &only)?;
    let files = match (&args.cert_file, &args.key_file) {
        (Some(c), Some(k)) => {
            if servers.len() != 1 {
                return Err(Error::Usage(
                    "--cert-file and --key-file install one certificate: name exactly one server"
                        .into(),
                ));
            }
            Some((read(c, "certificate")?, read(k, "private key")?))
        }
        _ => None,
    };
    if let Some(url) = &args.verify_url {
        probe::address(url).map_err(Error::Usage)?;
        if servers.len() != 1 {
            return Err(Error::Usage(
                "--verify-url checks one server: name exactly one (without it the served certificate is not checked)".into(),
            ));
        }
    }
    let sh = Shared {
        s,
        args,
        required: fleet::required_names(s, &servers)?,
        secrets: fleet::tls_secrets(&s.cluster, s.ns()).await?,
        now: s.cluster.now().as_second(),
        files,
        named: !args.all,
        done_if_issued_by,
    };
    let settings = install::Settings {
        timeout: args.run.timeout,
        force_unlock: args.run.force_unlock,
        keep_backups: args.keep_backups as usize,
    };
    let emit = |e: crate::rollout::events::Event| printer.event(&e);
    let sh = &sh;
    let settings = &settings;
    let emit = &emit;
    let results: Vec<Outcome> = futures::stream::iter(servers)
        .map(|server| async move {
            match prepare(sh, server) {
                Err(o) => *o,
                Ok(change) => install::install(&s.cluster, &change, settings, emit).await,
            }
        })
        .buffered(args.max_parallel as usize)
        .collect()
        .await;
    outcomes::finish(printer, &results)
}
