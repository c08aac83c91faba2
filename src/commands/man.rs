//! `mcpctl man`: the manual page (roff), generated from the same command
//! definition as `--help` and the completions; a checked-in copy is kept
//! current by a test. It ends with every subcommand's examples.

use crate::error::{Error, Result, exit};

pub fn run() -> Result<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(crate::cli::command())
        .render(&mut out)
        .map_err(|e| Error::Failed(format!("cannot render the manual page: {e}")))?;
    out.extend_from_slice(crate::help_examples::man_section().as_bytes());
    use std::io::Write;
    std::io::stdout().write_all(&out)?;
    Ok(exit::OK)
}
