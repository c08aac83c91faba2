//! `mcpctl certs status|init-ca|rotate|rollback`: one file per subcommand.

mod init_ca;
mod outcomes;
mod rollback;
mod rotate;
mod status;

use crate::cli::{CertsArgs, CertsCommand, GlobalArgs};
use crate::cluster::{runtime, session};
use crate::error::Result;
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: &CertsArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        match &args.command {
            CertsCommand::Status(a) => status::run(&s, a, printer).await,
            CertsCommand::InitCa(a) => init_ca::run(&s, a, printer).await,
            CertsCommand::Rotate(a) => rotate::run(&s, a, printer).await,
            CertsCommand::Rollback(a) => rollback::run(&s, a, printer).await,
        }
    })
}
