//! `mcpctl rollback SERVER [--to-revision N]`: undo the interrupted operation
//! the journal records, or go back to the previous version — one traffic
//! switch while a blue-green server's previous colour still runs it.

use crate::cli::{GlobalArgs, RollbackArgs};
use crate::cluster::journal::{Journal, Revision};
use crate::cluster::{runtime, session};
use crate::error::{Error, Result, exit};
use crate::fleet::Strategy;
use crate::output::Printer;
use crate::rollout::observed::{self, Live};
use crate::rollout::run::{self, Choice};
use crate::rollout::{bluegreen, canary, rolling};

use super::operation;

/// The revision to go back to: the one asked for, else the newest succeeded
/// one that runs another image than `current`.
pub fn target<'a>(
    revisions: &'a [Revision],
    current: Option<&str>,
    wanted: Option<u32>,
    server: &str,
) -> Result<&'a Revision> {
    if let Some(n) = wanted {
        return revisions.iter().find(|r| r.revision == n).ok_or_else(|| {
            let have: Vec<String> = revisions.iter().map(|r| r.revision.to_string()).collect();
            Error::Usage(format!(
                "server {server} has no recorded revision {n} (recorded: {}); see `mcpctl history {server}`",
                if have.is_empty() { "none".to_string() } else { have.join(", ") }
            ))
        });
    }
    // Versions a later rollback moved away from are not gone back to: a
    // second `rollback` (a retried CI job) must not undo the first.
    let mut abandoned: Vec<&str> = Vec::new();
    revisions
        .iter()
        .rev()
        .find(|r| {
            // Certificate changes record the image they left running; they
            // are not versions to go back to.
            let certs = [crate::certs::install::ROTATE, crate::certs::install::ROLLBACK];
            let ok = r.outcome == "succeeded"
                && !certs.contains(&r.operation.as_str())
                && Some(r.image.as_str()) != current
                && !abandoned.contains(&r.image.as_str());
            if r.operation == "rollback" && r.outcome == "succeeded" && !r.from_image.is_empty() {
                abandoned.push(&r.from_image);
            }
            ok
        })
        .ok_or_else(|| {
            Error::Failed(format!(
                "server {server} has no earlier version recorded to go back to (it runs {}); \
                 see `mcpctl history {server}`, or deploy an image with `mcpctl deploy {server} --image IMG`",
                current.unwrap_or("nothing")
            ))
        })
}

fn current_image(server: &crate::fleet::Server, live: &Live) -> Option<String> {
    let dep = match server.strategy {
        Strategy::BlueGreen => {
            bluegreen::deployment_name(&server.name, live.active_colour(&server.name))
        }
        _ => server.name.clone(),
    };
    live.image(&dep, &server.name)
}

pub fn run(global: &GlobalArgs, args: &RollbackArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        let server = operation::server(&s, &args.server)?;
        let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
        let state = journal.state(&server.name).await?;
        state.check_readable(&server.name)?;
        let before = state.clone();
        let render = operation::renderer(&s, server, &args.rollout)?;
        let opts = operation::bluegreen_options(server, &args.rollout, false, false, None);

        // An interrupted operation is undone; otherwise the target version
        // is chosen here, from what runs now and the recorded revisions.
        let pending = state.inflight.clone().filter(|op| op.plan.is_some());
        let chosen = match &pending {
            Some(_) => None,
            None => {
                let live = observed::read(&s.cluster, s.ns(), &s.fleet.name, server).await?;
                let revisions = journal.revisions(&server.name).await?;
                let current = current_image(server, &live);
                let rev = target(&revisions, current.as_deref(), args.to_revision, &server.name)?
                    .clone();
                let objects = match server.strategy {
                    Strategy::Rolling => match journal.revision(&server.name, rev.revision).await? {
                        // Recorded before the fleet was an ApplySet, perhaps: re-applied
                        // without the label, the object would leave the set.
                        Some((_, mut objs)) if !objs.is_empty() => {
                            let set = crate::applyset::fleet_id(&s.fleet.name, s.ns());
                            for o in &mut objs {
                                crate::applyset::label_member(o, &set);
                            }
                            objs
                        }
                        _ => {
                            return Err(Error::Failed(format!(
                                "revision {} of {} has no stored objects to re-apply",
                                rev.revision, server.name
                            )));
                        }
                    },
                    _ => Vec::new(),
                };
                Some((rev, objects, live))
            }
        };
        let plan_for = |live: &Live, rev: &Revision, objects: &[serde_json::Value]| match server
            .strategy
        {
            Strategy::Rolling => {
                rolling::rollback(server, live, rev.revision, &rev.image, objects.to_vec(), &opts)
            }
            Strategy::Canary => canary::rollback(server, live, &rev.image, &render),
            Strategy::BlueGreen => bluegreen::rollback(server, live, &rev.image, &render, &opts),
        };
        if args.rollout.dry_run {
            return match (&pending, &chosen) {
                (Some(op), _) => {
                    let plan = op.plan.as_ref().expect("filtered");
                    // An interrupted rollback is finished; anything else is undone.
                    let (what, actions): (&str, Vec<_>) = if op.kind == "rollback" {
                        let rest = plan.steps[op.step.min(plan.steps.len())..].iter();
                        ("finish", rest.map(|s| s.action.clone()).collect())
                    } else {
                        ("undo", plan.compensation(op.step))
                    };
                    let mut text = format!(
                        "{what} the interrupted {} {} (stopped at step {}: {}):\n",
                        op.kind,
                        op.id,
                        op.step + 1,
                        op.step_text
                    );
                    for a in actions {
                        text.push_str(&format!("  - {}\n", a.describe()));
                    }
                    printer.data(&text);
                    Ok(exit::OK)
                }
                (None, Some((rev, objects, live))) => {
                    operation::print_plan(printer, &plan_for(live, rev, objects)?)
                }
                (None, None) => unreachable!("one of the two is chosen"),
            };
        }
        let settings = operation::settings(&args.rollout);
        let emit = |e: crate::rollout::events::Event| printer.event(&e);
        run::operate(&s, server, &settings, &emit, |live, state| {
            if let Some(op) = state.inflight.clone().filter(|op| op.plan.is_some()) {
                // An interrupted rollback is finished, never undone (that
                // would put traffic back on the version it left).
                return Ok(if op.kind == "rollback" {
                    Choice::Resume(op)
                } else {
                    Choice::Undo(op)
                });
            }
            // An interrupted apply has no plan to undo: `apply` finishes it.
            crate::rollout::record::check_inflight(state, &server.name, &[], false)?;
            // The target was chosen before the lock: another operation
            // recorded since then may have changed what "previous" means.
            let newest = |st: &crate::cluster::journal::State| st.last.as_ref().map(|r| r.revision);
            if chosen.is_some() && newest(state) != newest(&before) {
                return Err(Error::Failed(format!(
                    "server {} was changed by another operation while this rollback waited for \
                     its lock (revision {} is now the newest); run the rollback again to choose \
                     from the new history",
                    server.name,
                    newest(state).map(|n| n.to_string()).unwrap_or_else(|| "none".into())
                )));
            }
            match &chosen {
                Some((rev, objects, _)) => Ok(Choice::Plan(plan_for(live, rev, objects)?)),
                None => Err(Error::Failed(format!(
                    "the interrupted operation of {} was finished by someone else meanwhile; run the rollback again",
                    server.name
                ))),
            }
        })
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(n: u32, image: &str, outcome: &str) -> Revision {
        Revision {
            server: "gh".into(),
            revision: n,
            operation: "deploy".into(),
            image: image.into(),
            strategy: "blue-green".into(),
            who: String::new(),
            when: String::new(),
            outcome: outcome.into(),
            message: String::new(),
            has_objects: false,
            images: Default::default(),
            traffic: String::new(),
            from_image: String::new(),
            deployed: false,
        }
    }

    #[test]
    fn certificate_changes_are_not_versions_to_go_back_to() {
        let mut cert = rev(3, "img:1", "succeeded");
        cert.operation = crate::certs::install::ROTATE.into();
        let revs = vec![
            rev(1, "img:0", "succeeded"),
            rev(2, "img:1", "succeeded"),
            cert,
            rev(4, "img:2", "succeeded"),
        ];
        assert_eq!(
            target(&revs, Some("img:2"), None, "gh").unwrap().revision,
            2
        );
    }

    #[test]
    fn the_target_is_the_newest_good_other_version() {
        let revs = vec![
            rev(1, "img:1", "succeeded"),
            rev(2, "img:2", "succeeded"),
            rev(3, "img:3", "gate-failed"),
            rev(4, "img:2", "succeeded"),
        ];
        assert_eq!(
            target(&revs, Some("img:2"), None, "gh").unwrap().revision,
            1
        );
        assert_eq!(
            target(&revs, Some("img:3"), None, "gh").unwrap().revision,
            4
        );
        assert_eq!(
            target(&revs, Some("img:2"), Some(3), "gh")
                .unwrap()
                .revision,
            3
        );
        let e = target(&revs, None, Some(9), "gh").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("recorded: 1, 2, 3, 4"), "{e}");
        // r5 rolled back from img:2 to img:1: a second rollback does not go to img:2.
        let mut back = rev(5, "img:1", "succeeded");
        back.operation = "rollback".into();
        back.from_image = "img:2".into();
        let revs2 = vec![
            rev(1, "img:1", "succeeded"),
            rev(4, "img:2", "succeeded"),
            back,
        ];
        let e = target(&revs2, Some("img:1"), None, "gh").unwrap_err();
        assert!(e.to_string().contains("no earlier version"), "{e}");
        let e = target(&revs[..1], Some("img:1"), None, "gh").unwrap_err();
        assert!(e.to_string().contains("no earlier version"), "{e}");
    }
}
