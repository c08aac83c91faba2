//! mcpctl: deploy and manage fleets of MCP servers on Kubernetes.
//!
//! Data flows one way: fleet file → model → rendered objects → plan →
//! executor → cluster. `main.rs` only calls [`main_entry`].

pub mod applyset;
pub mod certs;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod fleet;
pub mod gate;
pub mod help_examples;
pub mod lint;
pub mod output;
pub mod rbac;
pub mod render;
pub mod rollout;
pub mod traffic;

use std::process::ExitCode;

use clap::FromArgMatches;

/// Parses arguments, runs the command, prints errors and maps them to exit codes.
pub fn main_entry() -> ExitCode {
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                error::exit::USAGE
            } else {
                error::exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let printer = output::Printer::new(&cli.global);
    printer.init_logging();
    match commands::run(cli, &printer) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            printer.error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}
