//! `mcpctl reconcile [SERVER..]`: performs every due task of the fleet
//! (delayed scale-downs), so a CronJob or a CI schedule can run it.

use crate::cli::{GlobalArgs, ReconcileArgs};
use crate::cluster::journal::Journal;
use crate::cluster::lock::{self, Locks};
use crate::cluster::{identity, runtime, session};
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
        let due: Vec<&crate::fleet::Server> = s
            .fleet
            .servers
            .iter()
            .filter(|x| selected.contains(&x.name))
            .filter(|x| {
                states
                    .get(&x.name)
                    .is_some_and(|st| !crate::rollout::due::due_now(&st.due, now).0.is_empty())
            })
            .collect();
        let names: Vec<String> = due.iter().map(|x| x.name.clone()).collect();
        if lock::fleet_wide(names.len(), s.fleet.servers.len()) {
            // Many servers: under the fleet Lease, renewed alone (see cluster::lock).
            let me = identity::holder_identity();
            // A server another operation holds is left alone, like a locked server below.
            let (locks, busy) = Locks::acquire_fleet_around(
                &s.cluster,
                s.ns(),
                &s.fleet.name,
                &me,
                args.force_unlock,
            )
            .await?;
            let busy: Vec<(String, Error)> = busy
                .into_iter()
                .filter(|(name, _)| names.contains(name))
                .collect();
            let work = async {
                for server in due
                    .iter()
                    .filter(|x| !busy.iter().any(|(b, _)| *b == x.name))
                {
                    match run::reconcile_locked(&s, server, &emit).await {
                        Ok(n) => performed += n,
                        Err(e) => failed.push((server.name.clone(), e)),
                    }
                }
            };
            let lost = tokio::select! {
                () = work => None,
                (scope, why) = locks.until_lost() => Some(lock::lost_error(&scope, &why)),
            };
            locks.release(&s.cluster, &me).await;
            if let Some(e) = lost {
                return Err(e);
            }
            failed.extend(busy);
        } else {
            for server in due {
                // One server's failure (its lock is held, a write failed) does
                // not stop the others; the exit code reports the worst.
                match run::reconcile(&s, server, args.force_unlock, &emit).await {
                    Ok(n) => performed += n,
                    Err(e) => failed.push((server.name.clone(), e)),
                }
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
