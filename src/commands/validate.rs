//! `mcpctl validate`: parse and check the fleet file, reporting every problem.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::{Error, Result, exit};
use crate::fleet::{self, Diagnostic, Severity};
use crate::output::Printer;

/// What `-o json|yaml` prints.
#[derive(Debug, serde::Serialize)]
struct Report<'a> {
    valid: bool,
    file: String,
    fleet: Option<&'a str>,
    /// Number of servers in a valid fleet (0 when invalid).
    servers: usize,
    errors: Vec<&'a Diagnostic>,
    warnings: Vec<&'a Diagnostic>,
}

pub fn run(global: &GlobalArgs, printer: &Printer) -> Result<u8> {
    let file = &global.fleet;
    let loaded = fleet::load(file);
    if printer.format == OutputFormat::Table {
        let l = loaded?;
        for w in &l.warnings {
            printer.warn(&w.to_string());
        }
        let n = l.fleet.servers.len();
        let warnings = match l.warnings.len() {
            0 => String::new(),
            1 => " (1 warning)".into(),
            k => format!(" ({k} warnings)"),
        };
        printer.data(&format!(
            "{}: fleet {}, {n} server{}, ok{warnings}",
            file.display(),
            l.fleet.name,
            if n == 1 { "" } else { "s" },
        ));
        return Ok(exit::OK);
    }

    // Structured output: the report on stdout, valid or not.
    let usage;
    let (fleet, diags): (Option<&fleet::Fleet>, &[Diagnostic]) = match &loaded {
        Ok(l) => (Some(&l.fleet), &l.warnings),
        Err(Error::Invalid(ds)) => (None, ds),
        Err(Error::Usage(message)) => {
            usage = [Diagnostic {
                severity: Severity::Error,
                file: file.clone(),
                line: None,
                column: None,
                path: String::new(),
                message: message.clone(),
                hint: None,
            }];
            (None, &usage)
        }
        Err(_) => return loaded.map(|_| exit::OK),
    };
    let report = Report {
        valid: fleet.is_some(),
        file: file.display().to_string(),
        fleet: fleet.map(|f| f.name.as_str()),
        servers: fleet.map_or(0, |f| f.servers.len()),
        errors: diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect(),
        warnings: diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .collect(),
    };
    printer.data(&printer.document(&report)?);
    Ok(if report.valid { exit::OK } else { exit::USAGE })
}
