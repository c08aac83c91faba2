//! `mcpctl version`: the version, the git commit and the date of that commit.

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::error::{Result, exit};
use crate::output::Printer;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Version {
    version: &'static str,
    git_commit: &'static str,
    build_date: &'static str,
}

const VERSION: Version = Version {
    version: env!("CARGO_PKG_VERSION"),
    git_commit: env!("MCPCTL_GIT_COMMIT"),
    build_date: env!("MCPCTL_BUILD_DATE"),
};

pub fn run(printer: &Printer) -> Result<u8> {
    match printer.format {
        OutputFormat::Table => printer.data(&format!(
            "mcpctl {} (commit {}, {})",
            VERSION.version, VERSION.git_commit, VERSION.build_date
        )),
        _ => printer.data(&printer.document(&VERSION)?),
    }
    Ok(exit::OK)
}
