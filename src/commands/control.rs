//! `mcpctl promote` and `mcpctl abort`: requests to a running canary deploy,
//! written into the server's journal record so that they reach the process
//! running it wherever it runs (another terminal, a CI job). When no process
//! runs it any more (killed, a cancelled job), `abort` restores stable
//! itself once the dead process's lock has expired, and `promote` leaves the
//! request for `deploy --resume`.

use std::time::Duration;

use crate::cli::{AbortArgs, GlobalArgs, PromoteArgs};
use crate::cluster::journal::{Control, Journal, Operation, Request};
use crate::cluster::session::Session;
use crate::cluster::{identity, lock, runtime, session};
use crate::error::{Error, Result, exit};
use crate::output::Printer;
use crate::rollout::run::{self, Choice};

use super::operation;

/// How often the journal is read while waiting.
const POLL: Duration = Duration::from_millis(500);

/// What `promote` or `abort` did (`-o json|yaml`).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    server: String,
    /// The deploy it was for (none when nothing was in flight).
    operation: Option<String>,
    request: &'static str,
    /// `acted` (the running deploy acted on it), `recorded` (no process runs
    /// the deploy: left for `deploy --resume`), `ended` (the deploy ended
    /// meanwhile), `undone` (abort restored stable itself), `nothing`.
    outcome: &'static str,
    message: String,
}

fn report(printer: &Printer, r: &Report) -> Result<u8> {
    match printer.format {
        crate::cli::OutputFormat::Table => printer.data(&r.message),
        _ => printer.data(&printer.document(r)?),
    }
    Ok(exit::OK)
}

/// The canary deploy in flight on `server`.
async fn inflight(s: &Session, server: &str, what: &str) -> Result<Option<Operation>> {
    let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
    let state = journal.state(server).await?;
    state.check_readable(server)?;
    let Some(op) = state.inflight else {
        return Ok(None);
    };
    if op.kind != "deploy" || op.plan.as_ref().and_then(|p| p.promote_at).is_none() {
        return Err(Error::Failed(format!(
            "server {server} has a {} ({}) in flight, not a canary deploy: `mcpctl {what}` acts on \
             canary deploys only; `mcpctl rollback {server}` undoes it",
            op.kind, op.strategy
        )));
    }
    Ok(Some(op))
}

async fn request(s: &Session, server: &str, op: &Operation, r: Request) -> Result<Control> {
    let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
    let c = Control {
        schema_version: 0,
        id: format!("{:016x}", rand::random::<u64>()),
        operation: op.id.clone(),
        request: r,
        who: identity::who(),
        when: journal.now(),
    };
    journal.request(server, &c).await?;
    Ok(c)
}

/// Ends the current canary step now, or with `--full` every remaining step.
pub fn promote(global: &GlobalArgs, args: &PromoteArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        let server = operation::server(&s, &args.server)?.name.clone();
        let Some(op) = inflight(&s, &server, "promote").await? else {
            return Err(Error::Failed(format!(
                "server {server} has no canary deploy in flight to promote (`mcpctl status {server}`)"
            )));
        };
        let r = if args.full {
            Request::PromoteFull
        } else {
            Request::Promote
        };
        let c = request(&s, &server, &op, r).await?;
        let rep = |outcome, message| Report {
            server: server.clone(),
            operation: Some(op.id.clone()),
            request: r.as_str(),
            outcome,
            message,
        };
        if lock::holder(&s.cluster, s.ns(), &server).await?.is_none() {
            let m = format!(
                "{} of {server}'s deploy {} recorded, but no process runs that deploy now: \
                 `mcpctl deploy {server} --resume` continues it and acts on the request",
                r.as_str(),
                op.id
            );
            return report(printer, &rep("recorded", m));
        }
        printer.status(&format!(
            "{} requested; waiting for the running deploy to act on it…",
            r.as_str()
        ));
        let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
        let deadline = tokio::time::Instant::now() + args.timeout;
        loop {
            let st = journal.state(&server).await?;
            match st.inflight {
                Some(o) if o.id == op.id && !o.control_seen.contains(&c.id) => {}
                Some(o) if o.id == op.id => {
                    let m = format!(
                        "{server}: {} done; the deploy is at step {}: {}",
                        r.as_str(),
                        o.step + 1,
                        o.step_text
                    );
                    return report(printer, &rep("acted", m));
                }
                _ => {
                    let last = st.last.map(|l| format!("{} ({})", l.outcome, l.message));
                    let m = format!(
                        "{server}: the deploy ended: {}",
                        last.unwrap_or_else(|| "no record".into())
                    );
                    return report(printer, &rep("ended", m));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::WithCode {
                    code: exit::TIMEOUT,
                    message: format!(
                        "the deploy of {server} did not act on the {} request within {}; it stays \
                         recorded, and the deploy acts on it at its next analysis sample",
                        r.as_str(),
                        crate::fleet::duration::format(args.timeout)
                    ),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// Stops a canary deploy with all traffic back on stable: asks the running
/// deploy to do it, or does it itself when no process runs the deploy.
pub fn abort(global: &GlobalArgs, args: &AbortArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        let server = operation::server(&s, &args.server)?;
        let name = server.name.clone();
        let Some(op) = inflight(&s, &name, "abort").await? else {
            let r = Report {
                server: name.clone(),
                operation: None,
                request: "abort",
                outcome: "nothing",
                message: format!("{name}: no canary deploy in flight; nothing to abort"),
            };
            return report(printer, &r);
        };
        let rep = |outcome, message| Report {
            server: name.clone(),
            operation: Some(op.id.clone()),
            request: "abort",
            outcome,
            message,
        };
        request(&s, &name, &op, Request::Abort).await?;
        printer.status(&format!(
            "abort of deploy {} requested; waiting for stable to be restored…",
            op.id
        ));
        let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
        let settings = run::Settings {
            force_unlock: false,
            wait_timeout: args.timeout,
            smoke: Default::default(),
            analyzer: None,
            undo_by: "abort",
        };
        let emit = |e: crate::rollout::events::Event| printer.event(&e);
        let deadline = tokio::time::Instant::now() + args.timeout;
        loop {
            let st = journal.state(&name).await?;
            if st.inflight.as_ref().map(|o| &o.id) != Some(&op.id) {
                let last = st.last.map(|l| format!("{}: {}", l.outcome, l.message));
                let m = format!(
                    "{name}: the deploy stopped; {}",
                    last.unwrap_or_else(|| "no record".into())
                );
                return report(printer, &rep("ended", m));
            }
            // Nobody holds the lock: no process runs the deploy; undo it here.
            if lock::holder(&s.cluster, s.ns(), &name).await?.is_none() {
                let r = run::operate(&s, server, &settings, &emit, |_, state| {
                    match state.inflight.clone() {
                        Some(o) if o.id == op.id => Ok(Choice::Undo(o)),
                        _ => Err(Error::WithCode {
                            code: exit::LOCKED,
                            message: "the deploy ended meanwhile".into(),
                        }),
                    }
                })
                .await;
                match r {
                    Ok(_) => {
                        let m = format!(
                            "{name}: no process ran deploy {}; abort restored stable itself",
                            op.id
                        );
                        return report(printer, &rep("undone", m));
                    }
                    // Taken (or ended) meanwhile: look again.
                    Err(e) if e.exit_code() == exit::LOCKED => {}
                    Err(e) => return Err(e),
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::WithCode {
                    code: exit::TIMEOUT,
                    message: format!(
                        "deploy {} of {name} was not stopped within {}: the request stays recorded \
                         and the deploy acts on it at its next sample; once its lock expires, \
                         `mcpctl abort {name}` or `mcpctl rollback {name}` restores stable",
                        op.id,
                        crate::fleet::duration::format(args.timeout)
                    ),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    })
}
