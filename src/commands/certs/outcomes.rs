//! The table (or JSON) of how each server's certificate change ended, and
//! the exit code of the worst.

use crate::certs::install::Outcome;
use crate::cli::{EventsFormat, OutputFormat};
use crate::error::{Error, Result, exit};
use crate::output::Printer;

pub fn finish(printer: &Printer, results: &[Outcome]) -> Result<u8> {
    // With `--events ndjson` stdout is the event stream: each server's
    // `finished` event carries its outcome.
    match printer.format {
        _ if printer.events == EventsFormat::Ndjson => {}
        OutputFormat::Table => printer.data(&table(results)),
        _ => printer.data(&printer.document(&serde_json::json!({ "results": results }))?),
    }
    let worst = results
        .iter()
        .map(|o| o.exit_code)
        .max()
        .unwrap_or(exit::OK);
    if worst == exit::OK {
        return Ok(exit::OK);
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|o| o.exit_code != exit::OK)
        .map(|o| {
            format!(
                "{} ({}, exit {}): {}",
                o.server, o.outcome, o.exit_code, o.message
            )
        })
        .collect();
    Err(Error::WithCode {
        code: worst,
        message: failed.join("\n"),
    })
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

fn table(results: &[Outcome]) -> String {
    let mut t = crate::output::table();
    t.set_header([
        "SERVER",
        "OUTCOME",
        "EXIT",
        "FROM SERIAL",
        "TO SERIAL",
        "NOT AFTER",
        "MESSAGE",
    ]);
    for o in results {
        t.add_row([
            o.server.clone(),
            o.outcome.clone(),
            o.exit_code.to_string(),
            dash(&o.from_serial),
            dash(&o.to_serial),
            dash(&o.not_after),
            o.message
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect(),
        ]);
    }
    t.to_string()
}
