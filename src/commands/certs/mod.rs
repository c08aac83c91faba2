//! `mcpctl certs status|init-ca|rotate|rollback`: one file per subcommand.

mod init_ca;
mod outcomes;
mod rollback;
mod rotate;
mod rotate_ca;
mod status;

use crate::cli::{CertsArgs, CertsCommand, GlobalArgs};
use crate::cluster::session::Session;
use crate::cluster::{runtime, session};
use crate::error::{Error, Result};
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: &CertsArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        match &args.command {
            CertsCommand::Status(a) => status::run(&s, a, printer).await,
            CertsCommand::InitCa(a) => init_ca::run(&s, a, printer).await,
            CertsCommand::Rotate(a) => rotate::run(&s, a, printer).await,
            CertsCommand::Rollback(a) => rollback::run(&s, a, printer).await,
            CertsCommand::RotateCa(a) => rotate_ca::run(&s, a, printer).await,
        }
    })
}

/// The CA Secret's name: `explicit`, else the one the fleet's servers name.
fn ca_secret_name(s: &Session, explicit: Option<&str>) -> Result<String> {
    if let Some(n) = explicit {
        return Ok(n.to_string());
    }
    let mut names: Vec<&str> = s
        .fleet
        .servers
        .iter()
        .filter_map(|x| x.tls.as_ref().map(|t| t.ca_secret.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [] => Ok(format!("{}-ca", s.fleet.name)),
        [one] => Ok(one.to_string()),
        many => Err(Error::Usage(format!(
            "the fleet's servers name several CA Secrets ({}); say which with --secret NAME",
            many.join(", ")
        ))),
    }
}

/// A CA's common name: the fleet's, with when it was made (two CAs of a
/// rollover are told apart by it).
fn ca_common_name(s: &Session, now: i64) -> String {
    let stamp = jiff::Timestamp::from_second(now)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    format!("{} fleet CA {stamp}", s.fleet.name)
}
