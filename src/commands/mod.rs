//! One file per subcommand. Each turns arguments into calls of the modules
//! that do the work and hands the result to the printer.

mod apply;
mod canary;
mod certs;
mod completions;
mod control;
mod delete;
mod deploy;
mod diff;
mod history;
mod init;
mod inputs;
mod lint;
mod man;
mod operation;
mod rbac;
mod reconcile;
mod render;
mod rollback;
mod schema;
mod smoke;
mod status;
mod validate;
mod version;

use crate::cli::{Cli, Command};
use crate::error::Result;
use crate::output::Printer;

/// Runs a parsed command line; returns the exit code on success.
pub fn run(cli: Cli, printer: &Printer) -> Result<u8> {
    let global = &cli.global;
    match &cli.command {
        Command::Init(args) => init::run(global, args, printer),
        Command::Validate => validate::run(global, printer),
        Command::Lint(args) => lint::run(global, args, printer),
        Command::Render(args) => render::run(global, args, printer),
        Command::Completions(args) => completions::run(args),
        Command::Diff(args) => diff::run(global, args, printer),
        Command::Apply(args) => apply::run(global, args, printer),
        Command::Delete(args) => delete::run(global, args, printer),
        Command::Status(args) => status::run(global, args, printer),
        Command::History(args) => history::run(global, args, printer),
        Command::Deploy(args) => deploy::run(global, args, printer),
        Command::Rollback(args) => rollback::run(global, args, printer),
        Command::Promote(args) => control::promote(global, args, printer),
        Command::Abort(args) => control::abort(global, args, printer),
        Command::Reconcile(args) => reconcile::run(global, args, printer),
        Command::Rbac(args) => rbac::run(global, args, printer),
        Command::Version => version::run(printer),
        Command::Man => man::run(),
        Command::Smoke(args) => smoke::run(global, args, printer),
        Command::Schema => schema::run(printer),
        Command::Certs(args) => certs::run(global, args, printer),
    }
}
