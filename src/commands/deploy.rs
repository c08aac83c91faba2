//! `mcpctl deploy SERVER [--image IMG]`: a new version through the server's
//! strategy, under the rollout engine (lock, plan, journal, gates,
//! compensation, record).

use crate::cli::{DeployArgs, GlobalArgs, StrategyArg};
use crate::cluster::{runtime, session};
use crate::error::{Error, Result};
use crate::fleet::Strategy;
use crate::output::Printer;
use crate::rollout::observed::{self, Live};
use crate::rollout::plan::Plan;
use crate::rollout::run::{self, Choice};
use crate::rollout::{bluegreen, canary, record, rolling};

use super::operation;

pub fn run(global: &GlobalArgs, args: &DeployArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        let server = operation::server(&s, &args.server)?;
        check_strategy(server, args.strategy)?;
        let image = args.image.clone().unwrap_or_else(|| server.image.clone());
        crate::fleet::image::parse(&image)
            .map_err(|e| Error::Usage(format!("--image `{image}`: {e}")))?;
        let render = operation::renderer(&s, server, &args.rollout)?;
        let opts = operation::bluegreen_options(
            server,
            &args.rollout,
            args.allow_breaking_tools,
            args.keep_failed,
            args.scale_down_delay,
        );
        // A canary's analysis queries name the versions of both tracks.
        let setup = match server.strategy {
            Strategy::Canary => {
                let (to, from) = if args.resume {
                    let journal = crate::cluster::journal::Journal::new(&s.cluster, s.ns(), &s.fleet.name);
                    let st = journal.state(&server.name).await?;
                    let p = st.inflight.and_then(|o| o.plan);
                    (
                        p.as_ref().map(|p| p.to.image.clone()).unwrap_or_else(|| image.clone()),
                        p.map(|p| p.from.image).unwrap_or_else(|| server.image.clone()),
                    )
                } else {
                    let live = observed::read(&s.cluster, s.ns(), &s.fleet.name, server).await?;
                    let from = live
                        .image(&server.name, &server.name)
                        .unwrap_or_else(|| server.image.clone());
                    (image.clone(), from)
                };
                Some(super::canary::setup(&s, server, &args.canary, &to, &from)?)
            }
            _ => None,
        };
        let plan = |live: &Live| -> Result<Plan> {
            match (server.strategy, &setup) {
                (Strategy::BlueGreen, _) => bluegreen::deploy(server, live, &image, &render, &opts),
                (Strategy::Rolling, _) => rolling::deploy(server, live, &image, &render, &opts),
                (Strategy::Canary, Some(c)) => {
                    canary::deploy(server, live, &image, &render, &opts, &c.canary)
                }
                (Strategy::Canary, None) => unreachable!("a canary's setup is made above"),
            }
        };
        if args.rollout.dry_run {
            let live = observed::read(&s.cluster, s.ns(), &s.fleet.name, server).await?;
            return operation::print_plan(printer, &plan(&live)?);
        }
        let mut settings = operation::settings(&args.rollout);
        if let Some(c) = &setup {
            settings.analyzer = Some(super::canary::analyzer(&s, server, &args.canary, c).await?);
        }
        let emit = |e: crate::rollout::events::Event| printer.event(&e);
        run::operate(&s, server, &settings, &emit, |live, state| {
            if args.resume {
                let Some(op) = &state.inflight else {
                    return Err(Error::Failed(format!(
                        "server {} has no interrupted deploy to resume (`mcpctl status {}` shows its state)",
                        server.name, server.name
                    )));
                };
                if op.kind != "deploy" {
                    return Err(Error::Failed(format!(
                        "server {} has an interrupted {}, not a deploy: `mcpctl rollback {}` undoes it",
                        server.name, op.kind, server.name
                    )));
                }
                return Ok(match op.phase {
                    crate::cluster::journal::Phase::Running => Choice::Resume(op.clone()),
                    crate::cluster::journal::Phase::Compensating => Choice::Undo(op.clone()),
                });
            }
            record::check_inflight(state, &server.name, &[], args.force)?;
            Ok(Choice::Plan(plan(live)?))
        })
        .await
    })
}

/// `--strategy` must be what the fleet file says: the server's objects are
/// rendered for that strategy.
fn check_strategy(server: &crate::fleet::Server, wanted: Option<StrategyArg>) -> Result<()> {
    let Some(w) = wanted else { return Ok(()) };
    let w = match w {
        StrategyArg::Rolling => Strategy::Rolling,
        StrategyArg::BlueGreen => Strategy::BlueGreen,
        StrategyArg::Canary => Strategy::Canary,
    };
    if w != server.strategy {
        return Err(Error::Usage(format!(
            "--strategy {} but the fleet file gives server {} the strategy {}: change `strategy:` in \
             the fleet file and run `mcpctl apply {}` to switch strategies",
            w.as_str(),
            server.name,
            server.strategy.as_str(),
            server.name
        )));
    }
    Ok(())
}
