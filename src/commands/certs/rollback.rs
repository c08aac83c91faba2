//! `mcpctl certs rollback SERVER [--verify-url URL]`: put the newest backup
//! of the server's Secret back, roll, verify — the same installation as a
//! rotation (lock, journal, restore on failure), without taking a backup, so
//! that running it twice restores the same certificate.

use super::outcomes;
use super::rotate::{cert_manager_refusal, verify};
use crate::certs::fleet;
use crate::certs::install::{self, Change};
use crate::certs::secret::{self, Manager};
use crate::certs::validate::{self, Pair};
use crate::cli::CertsRollbackArgs;
use crate::cluster::session::Session;
use crate::error::{Error, Result};
use crate::output::Printer;

pub async fn run(s: &Session, args: &CertsRollbackArgs, printer: &Printer) -> Result<u8> {
    let servers = fleet::tls_servers(s, std::slice::from_ref(&args.server))?;
    let server = servers[0];
    let tls = server.tls.as_ref().expect("a TLS server");
    let ns = s.ns();
    let required = fleet::required_names(s, &servers)?
        .remove(&server.name)
        .unwrap_or_default();
    let secrets = fleet::tls_secrets(&s.cluster, ns).await?;
    let current = secrets.get(&tls.secret_name).cloned();
    if let Some(c) = &current
        && secret::manager(c) == Manager::CertManager
    {
        return Err(Error::Failed(cert_manager_refusal(c, ns)));
    }
    let backups: Vec<_> = secrets
        .values()
        .filter(|b| {
            b["metadata"]["labels"][secret::BACKUP_OF]
                == secret::backup_of(&tls.secret_name).as_str()
        })
        .cloned()
        .collect();
    let Some(newest) = secret::newest_first(backups).into_iter().next() else {
        return Err(Error::Failed(format!(
            "Secret {ns}/{} has no backup to restore (`certs rotate` takes one, labelled {}={})",
            tls.secret_name,
            secret::BACKUP_OF,
            secret::backup_of(&tls.secret_name)
        )));
    };
    let bname = newest["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bad = |why: String| Error::Failed(format!("backup {ns}/{bname} cannot be restored: {why}"));
    let (Some(cert_pem), Some(key_pem)) = (
        secret::data(&newest, "tls.crt"),
        secret::data(&newest, "tls.key"),
    ) else {
        return Err(bad("it lacks tls.crt or tls.key".into()));
    };
    let pair = Pair::read(&cert_pem, &key_pem).map_err(bad)?;
    let trust = fleet::trust(secrets.get(&tls.ca_secret), &tls.ca_secret, ns).map_err(bad)?;
    let now = s.cluster.now().as_second();
    let problems = validate::check_new(&pair, None, &trust, &required, now);
    if !problems.is_empty() {
        return Err(bad(format!("{}; nothing was written", problems.join("; "))));
    }
    let old_leaf = current
        .as_ref()
        .and_then(secret::chain)
        .map(|(_, leaf)| leaf);
    let change = Change {
        server,
        ns,
        fleet: &s.fleet.name,
        kind: install::ROLLBACK,
        old: current,
        old_leaf,
        ca_pem: secret::data(&newest, "ca.crt"),
        cert_pem,
        key_pem,
        leaf: pair.leaf,
        backup: false,
        trust,
        verify: verify(args.verify_url.as_deref(), args.verify_timeout, server, ns)?,
    };
    let settings = install::Settings {
        timeout: args.run.timeout,
        force_unlock: args.run.force_unlock,
        keep_backups: secret::KEEP_BACKUPS,
    };
    let emit = |e: crate::rollout::events::Event| printer.event(&e);
    let outcome = install::install(&s.cluster, &change, &settings, &emit).await;
    outcomes::finish(printer, &[outcome])
}
