//! One operation on one server, start to end: lock, journal, due tasks,
//! plan (from the live state), execute (with compensation), record, release.
//! `deploy` and `rollback` differ only in how they choose what to run.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use super::events::Event;
use super::execute::{Engine, Outcome};
use super::gates;
use super::observed::{self, Live};
use super::plan::{Action, Plan};
use super::{due, record};
use crate::cluster::discovery;
use crate::cluster::identity;
use crate::cluster::journal::{Journal, Operation, Revision, State};
use crate::cluster::lock::Locks;
use crate::cluster::session::{Session, Signals};
use crate::error::{Error, Result, exit};
use crate::fleet::Server;

/// What the command decided to run, given the live state and the journal.
pub enum Choice {
    /// A new operation with this plan.
    Plan(Plan),
    /// Continue the recorded operation from its recorded step.
    Resume(Operation),
    /// Undo the recorded operation (its compensation from its recorded step).
    Undo(Operation),
}

/// How to run.
pub struct Settings {
    pub force_unlock: bool,
    pub wait_timeout: Duration,
    pub smoke: gates::Settings,
    /// A canary's analysis.
    pub analyzer: Option<super::hold::Analyzer>,
    /// The command that undoes an interrupted operation (`rollback`, `abort`).
    pub undo_by: &'static str,
}

/// The apiVersions a plan's objects are served at (for discovery).
fn api_versions(plan: &Plan) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["apps/v1".to_string(), "v1".to_string()].into();
    let mut add = |objs: &[Value]| {
        for o in objs {
            if let Some(v) = o["apiVersion"].as_str() {
                out.insert(v.to_string());
            }
        }
    };
    let actions = plan
        .steps
        .iter()
        .flat_map(|s| std::iter::once(&s.action).chain(s.undo.as_ref()));
    for a in actions {
        match a {
            Action::Switch { objects, .. }
            | Action::VerifyTraffic { objects, .. }
            | Action::PointPreview { objects, .. }
            | Action::ApplyObjects { objects, .. } => add(objects),
            Action::ApplyDeployment { object, .. } => add(std::slice::from_ref(object)),
            _ => {}
        }
    }
    out
}

/// Reads the server's journal record (an unreadable one is an error) and
/// performs its due tasks whose time has come (under its lock): a
/// scale-down of what serves traffic now is dropped, not performed. Returns
/// the state with the tasks still waiting, and what failed (those tasks stay
/// due; the failure never blocks the operation that performed them).
pub async fn perform_due(
    s: &Session,
    server: &Server,
    journal: &Journal<'_>,
    emit: &dyn Fn(Event),
) -> Result<(State, Vec<String>)> {
    let mut state = journal.state(&server.name).await?;
    state.check_readable(&server.name)?;
    if state.due.is_empty() {
        return Ok((state, Vec::new()));
    }
    let (now, mut later) = due::due_now(&state.due, s.cluster.now());
    if now.is_empty() {
        return Ok((state, Vec::new()));
    }
    let mut failures = Vec::new();
    let discovered = discovery::discover(
        &s.cluster,
        &["apps/v1".to_string(), "v1".to_string()].into(),
    )
    .await?;
    let live = observed::read(&s.cluster, s.ns(), &s.fleet.name, server).await?;
    // Never what serves now (dropped: it serves again), nor what an
    // interrupted operation is rolling out (kept for later).
    let keep = due::without_serving(now.clone(), &serving(server, &live));
    let busy = in_plan(state.inflight.as_ref());
    let engine = Engine {
        cluster: &s.cluster,
        journal,
        ns: s.ns(),
        server,
        discovered: &discovered,
        wait_timeout: Duration::from_secs(60),
        smoke: gates::Settings::default(),
        analyzer: None,
        emit,
        jump: Default::default(),
    };
    let mut scratch = Operation::default();
    for t in &now {
        let text = t.action.describe();
        if !keep.contains(t) {
            emit(Event::DueTask {
                text: format!("{text}: dropped, it serves traffic now"),
                done: false,
            });
            continue;
        }
        if due::without_serving(vec![t.clone()], &busy).is_empty() {
            emit(Event::DueTask {
                text: format!("{text}: kept for later, an interrupted operation uses it"),
                done: false,
            });
            later.push(t.clone());
            continue;
        }
        // A failing task (its Deployment deleted by hand, the API server
        // refusing) never blocks the server: it stays due, loudly.
        if let Err(e) = engine.act(&mut scratch, &t.action).await {
            failures.push(format!("due task `{text}` failed: {}", e.message()));
            emit(Event::Warning {
                message: format!(
                    "due task `{text}` failed, kept for later (`mcpctl reconcile {}` tries it \
                     again): {}",
                    server.name,
                    e.message()
                ),
            });
            later.push(t.clone());
            continue;
        }
        emit(Event::DueTask { text, done: true });
    }
    journal.set_due(&server.name, &later).await?;
    state.due = later;
    Ok((state, failures))
}

/// The Deployments an in-flight operation's plan works on.
fn in_plan(op: Option<&Operation>) -> Vec<String> {
    let Some(plan) = op.and_then(|o| o.plan.as_ref()) else {
        return Vec::new();
    };
    plan.steps
        .iter()
        .flat_map(|s| match &s.action {
            Action::ApplyDeployment { name, .. } | Action::Scale { name, .. } => vec![name.clone()],
            Action::WaitReady { deployments } => deployments.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// The Deployments that serve traffic now.
fn serving(server: &Server, live: &Live) -> Vec<String> {
    match server.strategy {
        crate::fleet::Strategy::BlueGreen => vec![super::bluegreen::deployment_name(
            &server.name,
            live.active_colour(&server.name),
        )],
        _ => vec![server.name.clone()],
    }
}

/// Runs one operation on `server`. `choose` sees the live state and the
/// journal (after due tasks) and says what to run; it runs under the lock.
pub async fn operate(
    s: &Session,
    server: &Server,
    settings: &Settings,
    emit: &dyn Fn(Event),
    choose: impl FnOnce(&Live, &State) -> Result<Choice>,
) -> Result<u8> {
    let me = identity::holder_identity();
    let signals = Signals::listen()?;
    let locks = Locks::acquire(
        &s.cluster,
        s.ns(),
        &s.fleet.name,
        std::slice::from_ref(&server.name),
        &me,
        settings.force_unlock,
    )
    .await?;
    let result = locked(s, server, settings, emit, choose, &me, signals, &locks).await;
    locks.release(&s.cluster, &me).await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn locked(
    s: &Session,
    server: &Server,
    settings: &Settings,
    emit: &dyn Fn(Event),
    choose: impl FnOnce(&Live, &State) -> Result<Choice>,
    me: &str,
    signals: Signals,
    locks: &Locks,
) -> Result<u8> {
    let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
    let (mut state, _) = perform_due(s, server, &journal, emit).await?;
    let live = observed::read(&s.cluster, s.ns(), &s.fleet.name, server).await?;

    let (mut op, undo) = match choose(&live, &state)? {
        Choice::Plan(plan) => {
            let mut op = record::operation(&plan.operation, &plan.strategy, journal.now(), me);
            op.from = plan.from.clone();
            op.to = plan.to.clone();
            op.plan = Some(plan);
            (op, false)
        }
        Choice::Resume(mut op) => {
            op.holder = me.to_string();
            (op, false)
        }
        Choice::Undo(mut op) => {
            op.holder = me.to_string();
            (op, true)
        }
    };
    let plan = op.plan.clone().ok_or_else(|| {
        Error::Failed(format!(
            "the recorded {} of server {} has no plan to resume or undo (it was written by `apply`): \
             run `mcpctl apply {}` to finish it",
            op.kind, server.name, server.name
        ))
    })?;
    let discovered = discovery::discover(&s.cluster, &api_versions(&plan)).await?;
    emit(Event::OperationStarted {
        id: op.id.clone(),
        kind: if undo {
            format!("undo of {}", op.kind)
        } else {
            op.kind.clone()
        },
        server: server.name.clone(),
        strategy: plan.strategy.clone(),
        from: plan.from.image.clone(),
        to: plan.to.image.clone(),
        resumed_at: (op.step > 0).then_some(op.step + 1),
    });
    for n in &plan.notes {
        emit(Event::Warning { message: n.clone() });
    }
    let engine = Engine {
        cluster: &s.cluster,
        journal: &journal,
        ns: s.ns(),
        server,
        discovered: &discovered,
        wait_timeout: settings.wait_timeout,
        smoke: settings.smoke.clone(),
        analyzer: settings.analyzer.as_ref(),
        emit,
        jump: Default::default(),
    };
    let outcome = if undo {
        signals.exit_on_next();
        let stop = super::execute::Stop::Interrupted(format!(
            "the {} {} was undone by `mcpctl {}`",
            op.kind, op.id, settings.undo_by
        ));
        let mut o = engine.compensate(&mut op, &plan, stop).await;
        if o.code == exit::INTERRUPTED {
            o = Outcome {
                code: exit::OK,
                outcome: "rolled-back".into(),
                ..o
            };
        }
        o
    } else {
        engine.run(&mut op, signals, locks).await
    };
    finish(s, server, &journal, &op, &plan, &outcome, &mut state, emit).await?;
    emit(Event::Finished {
        outcome: outcome.outcome.clone(),
        exit_code: outcome.code,
        message: outcome.message.clone(),
    });
    if outcome.code == exit::OK {
        Ok(exit::OK)
    } else {
        Err(Error::WithCode {
            code: outcome.code,
            message: outcome.message,
        })
    }
}

/// Records the revision (every image, where traffic goes, the outcome),
/// clears the in-flight mark and schedules the plan's deferred work.
#[allow(clippy::too_many_arguments)]
async fn finish(
    s: &Session,
    server: &Server,
    journal: &Journal<'_>,
    op: &Operation,
    plan: &Plan,
    outcome: &Outcome,
    state: &mut State,
    emit: &dyn Fn(Event),
) -> Result<()> {
    if outcome.keep_inflight {
        return Ok(());
    }
    let live = observed::read(&s.cluster, s.ns(), &s.fleet.name, server).await?;
    let serving = serving(server, &live);
    let succeeded = outcome.code == exit::OK;
    let image = live
        .image(&serving[0], &server.name)
        .unwrap_or_else(|| plan.from.image.clone());
    let rev = Revision {
        server: server.name.clone(),
        revision: 0,
        operation: op.kind.clone(),
        image,
        strategy: plan.strategy.clone(),
        who: op.who.clone(),
        when: journal.now(),
        outcome: outcome.outcome.clone(),
        message: outcome.message.clone(),
        has_objects: false,
        images: record::images(&server.name, &live.objects),
        traffic: match server.strategy {
            crate::fleet::Strategy::BlueGreen => {
                live.active_colour(&server.name).as_str().to_string()
            }
            _ => "stable".into(),
        },
        from_image: plan.from.image.clone(),
        deployed: true,
    };
    // The Deployments as they run now, as apply patches (what a rolling
    // rollback to this revision re-applies).
    let objects: Vec<Value> = live
        .objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .map(|d| {
            serde_json::json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": d["metadata"]["name"],
                    "namespace": d["metadata"]["namespace"],
                    "labels": d["metadata"]["labels"],
                },
                "spec": d["spec"],
            })
        })
        .collect();
    let mut due = state.due.clone();
    if succeeded {
        due.extend(due::schedule(s.cluster.now(), &op.id, &plan.then));
    }
    let due = due::without_serving(due, &serving);
    let rev = journal
        .record(rev, &objects, (due != state.due).then_some(&due[..]))
        .await?;
    state.due = due;
    emit(Event::Recorded {
        revision: rev.revision,
    });
    Ok(())
}

/// Performs one server's due tasks under its lock; returns how many were due.
pub async fn reconcile(
    s: &Session,
    server: &Server,
    force_unlock: bool,
    emit: &dyn Fn(Event),
) -> Result<usize> {
    let me = identity::holder_identity();
    let locks = Locks::acquire(
        &s.cluster,
        s.ns(),
        &s.fleet.name,
        std::slice::from_ref(&server.name),
        &me,
        force_unlock,
    )
    .await?;
    let result = async {
        let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
        let before = journal.state(&server.name).await?.due.len();
        let (state, failures) = perform_due(s, server, &journal, emit).await?;
        if !failures.is_empty() {
            return Err(Error::Failed(format!(
                "{}; the task stays due",
                failures.join("; ")
            )));
        }
        Ok(before - state.due.len())
    }
    .await;
    locks.release(&s.cluster, &me).await;
    result
}
