//! `mcpctl history SERVER`: the recorded revisions, newest last.

use crate::cli::{GlobalArgs, HistoryArgs, OutputFormat};
use crate::cluster::journal::{Journal, Revision};
use crate::cluster::{runtime, session};
use crate::error::{Result, exit};
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: &HistoryArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
        let revisions = journal.revisions(&args.server).await?;
        // A server removed from the fleet file still has its history.
        if revisions.is_empty() {
            s.check_servers(std::slice::from_ref(&args.server))?;
        }
        match printer.format {
            OutputFormat::Table => {
                if revisions.is_empty() {
                    printer.status(&format!(
                        "no revisions recorded for server {} in namespace {}",
                        args.server,
                        s.ns()
                    ));
                } else {
                    printer.data(&table(&revisions));
                }
            }
            _ => printer.data(&printer.document(&Document {
                server: &args.server,
                revisions: &revisions,
            })?),
        }
        Ok(exit::OK)
    })
}

/// What `-o json|yaml` prints.
#[derive(serde::Serialize)]
struct Document<'a> {
    server: &'a str,
    revisions: &'a [Revision],
}

pub fn table(revisions: &[Revision]) -> String {
    let mut t = crate::output::table();
    t.set_header([
        "REVISION",
        "WHEN",
        "OPERATION",
        "STRATEGY",
        "IMAGE",
        "OUTCOME",
        "BY",
        "MESSAGE",
    ]);
    for r in revisions {
        let msg: String = r
            .message
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(80)
            .collect();
        t.add_row([
            r.revision.to_string(),
            r.when.clone(),
            r.operation.clone(),
            r.strategy.clone(),
            r.image.clone(),
            r.outcome.clone(),
            r.who.clone(),
            if msg.is_empty() { "-".into() } else { msg },
        ]);
    }
    crate::cluster::status::tidy(&t.to_string())
}
