//! `mcpctl reconcile [SERVER..]`: performs every due task of the fleet
//! (delayed scale-downs), so a CronJob or a CI schedule can run it.

use crate::cli::{GlobalArgs, ReconcileArgs};
use crate::cluster::journal::Journal;
use crate::cluster::{runtime, session};
use crate::error::{Result, exit};
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
            performed += run::reconcile(&s, server, args.force_unlock, &emit).await?;
        }
        printer.status(&format!("{performed} due task(s) performed"));
        Ok(exit::OK)
    })
}
