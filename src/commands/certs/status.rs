//! `mcpctl certs status [SERVER..] [--warn-days N]`: every server's
//! certificate judged (two requests whatever the fleet's size). Exit 1 when
//! any is bad, [`exit::EXPIRES_SOON`] when any only expires soon.

use std::collections::BTreeMap;

use serde_json::Value;

use super::rotate::issued_by;
use super::rotate_ca::ROLLOVER;
use crate::certs::report::{self, CertStatus, Input, Level};
use crate::certs::{fleet, pem, secret};
use crate::cli::{CertsStatusArgs, OutputFormat};
use crate::cluster::session::Session;
use crate::error::{Error, Result, exit};
use crate::fleet::Server;
use crate::output::Printer;

pub async fn run(s: &Session, args: &CertsStatusArgs, printer: &Printer) -> Result<u8> {
    let servers = fleet::tls_servers(s, &args.servers)?;
    let required = fleet::required_names(s, &servers)?;
    let secrets = fleet::tls_secrets(&s.cluster, s.ns()).await?;
    let now = s.cluster.now().as_second();
    let ns = s.ns();
    let mut rows = Vec::new();
    for srv in &servers {
        let tls = srv.tls.as_ref().expect("tls servers");
        let trust = fleet::trust(secrets.get(&tls.ca_secret), &tls.ca_secret, ns);
        rows.push(report::evaluate(&Input {
            server: &srv.name,
            secret_name: &tls.secret_name,
            secret: secrets.get(&tls.secret_name),
            trust: trust.as_deref().map_err(Clone::clone),
            required: &required[&srv.name],
            now,
            warn_days: args.warn_days.unwrap_or(tls.warn_days),
        }));
    }
    match printer.format {
        OutputFormat::Table => printer.data(&table(&rows)),
        _ => printer.data(&printer.document(&serde_json::json!({ "servers": rows }))?),
    }
    for note in rollovers(&servers, &secrets) {
        printer.warn(&note);
    }
    match report::worst(&rows) {
        Level::Ok => Ok(exit::OK),
        Level::ExpiresSoon => Ok(exit::EXPIRES_SOON),
        Level::Bad => {
            let bad: Vec<String> = rows
                .iter()
                .filter(|r| r.level == Level::Bad)
                .map(|r| format!("{} ({}: {})", r.server, r.state, r.problems.join("; ")))
                .collect();
            Err(Error::Failed(format!(
                "{} of {} certificates need attention: {}",
                bad.len(),
                rows.len(),
                bad.join(", ")
            )))
        }
    }
}

/// Where each CA rollover under way stands: how many of its servers carry
/// a certificate of the new CA.
fn rollovers(servers: &[&Server], secrets: &BTreeMap<String, Value>) -> Vec<String> {
    let mut cas: Vec<&str> = servers
        .iter()
        .filter_map(|s| s.tls.as_ref().map(|t| t.ca_secret.as_str()))
        .collect();
    cas.sort_unstable();
    cas.dedup();
    let mut notes = Vec::new();
    for ca_name in cas {
        let Some(ca) = secrets.get(ca_name) else {
            continue;
        };
        let Some(since) = ca["metadata"]["annotations"][ROLLOVER].as_str() else {
            continue;
        };
        let Some(new_ca) = secret::data(ca, "tls.crt").and_then(|p| pem::certs(&p).ok()) else {
            continue;
        };
        let of_ca: Vec<&&Server> = servers
            .iter()
            .filter(|s| s.tls.as_ref().is_some_and(|t| t.ca_secret == ca_name))
            .collect();
        let done = of_ca
            .iter()
            .filter(|s| {
                let t = s.tls.as_ref().expect("filtered");
                secrets
                    .get(&t.secret_name)
                    .is_some_and(|sec| issued_by(sec, &new_ca))
            })
            .count();
        let next = if done == of_ca.len() {
            "`mcpctl certs rotate-ca --finish` drops the old CA once clients have reloaded the bundle"
        } else {
            "`mcpctl certs rotate-ca` re-issues the rest"
        };
        notes.push(format!(
            "CA rollover of {ca_name} under way since {since}: the bundle holds the old and the new CA; \
             {done} of {} servers carry a certificate of the new CA; {next}",
            of_ca.len()
        ));
    }
    notes
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

fn table(rows: &[CertStatus]) -> String {
    let mut t = crate::output::table();
    t.set_header([
        "SERVER",
        "SECRET",
        "STATE",
        "NOT AFTER",
        "DAYS",
        "KEY",
        "KEY OK",
        "CA OK",
        "SANS OK",
        "MANAGER",
        "SERIAL",
    ]);
    for r in rows {
        let c = r.certificate.as_ref();
        t.add_row([
            r.server.clone(),
            r.secret.clone(),
            r.state.clone(),
            r.not_after.clone().unwrap_or_else(|| "-".into()),
            r.days_left.map_or("-".into(), |d| d.to_string()),
            c.map_or("-".into(), |c| c.key_type.clone()),
            yes_no(r.key_matches).into(),
            yes_no(r.chain_verifies).into(),
            yes_no(c.map(|_| r.missing_names.is_empty())).into(),
            r.manager.as_str().into(),
            c.map_or("-".into(), |c| c.serial.clone()),
        ]);
    }
    t.to_string()
}
