//! `mcpctl reconcile [SERVER..]`: performs every due task of the fleet
//! (delayed scale-downs), so a CronJob or a CI schedule can run it.

use crate::cli::{GlobalArgs, ReconcileArgs};
use crate::cluster::journal::Journal;
use crate::cluster::{runtime, session};
use crate::error::{Error, Result, exit};
use crate::output::Printer;
use crate::rollout::run;

pub fn run(global: &GlobalArgs, args: &ReconcileArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        s.check_servers(&args.servers)?;
        let selected = s.selected(&args.servers);
        let states = Journal::new(&s.cluster, s.ns(), &s.fleet.name)
            .states()
            .await?;
        let now = s.cluster.now();
        let emit = |e: crate::rollout::events::Event| printer.event(&e);
        let mut performed = 0;
        let mut failed = Vec::new();
        for server in s
            .fleet
            .servers
            .iter()
            .filter(|x| selected.contains(&x.name))
        {
            let Some(st) = states.get(&server.name) else {
                continue;
            };
            let (due, _) = crate::rollout::due::due_now(&st.due, now);
            if due.is_empty() {
                continue;
            }
            // One server's failure (its lock is held, a write failed) does
            // not stop the others; the exit code reports the worst.
            match run::reconcile(&s, server, args.force_unlock, &emit).await {
                Ok(n) => performed += n,
                Err(e) => failed.push((server.name.clone(), e)),
            }
        }
        printer.status(&format!("{performed} due task(s) performed"));
        match failed.len() {
            0 => Ok(exit::OK),
            1 => Err(failed.remove(0).1),
            n => {
                let code = failed
                    .iter()
                    .map(|(_, e)| e.exit_code())
                    .max()
                    .unwrap_or(exit::ERROR);
                let lines: Vec<String> =
                    failed.iter().map(|(s, e)| format!("  {s}: {e}")).collect();
                Err(Error::WithCode {
                    code,
                    message: format!(
                        "the due tasks of {n} servers could not be performed:\n{}",
                        lines.join("\n")
                    ),
                })
            }
        }
    })
}
