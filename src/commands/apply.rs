//! `mcpctl apply`: server-side apply of the rendered objects, under the lock
//! of each server that changes, recorded in the journal; `--wait` waits like
//! `kubectl rollout status`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::cli::{ApplyArgs, GlobalArgs, OutputFormat};
use crate::cluster::apply::{self, Change, Planned};
use crate::cluster::journal::{Journal, Revision};
use crate::cluster::lock::{self, Locks};
use crate::cluster::session::{self, Session};
use crate::cluster::wait;
use crate::cluster::{identity, observe, runtime};
use crate::error::{Error, Result, exit};
use crate::output::Printer;
use crate::output::Progress;
use crate::rollout::record;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectResult {
    server: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    change: Change,
    dry_run: bool,
}

pub fn run(global: &GlobalArgs, args: &ApplyArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(run_async(global, args, printer))
}

fn report(
    printer: &Printer,
    planned: &[Planned],
    dry: bool,
    ns_created: Option<&str>,
) -> Result<()> {
    let suffix = if dry { " (server dry run)" } else { "" };
    let results: Vec<ObjectResult> = planned
        .iter()
        .filter(|p| p.target.manager == apply::FIELD_MANAGER || p.change != Change::Unchanged)
        .map(|p| ObjectResult {
            server: p.target.server().to_string(),
            kind: p.target.res.kind.clone(),
            name: p.target.name.clone(),
            namespace: p.target.ns.clone(),
            change: p.change,
            dry_run: dry,
        })
        .collect();
    match printer.format {
        OutputFormat::Table => {
            let mut out = String::new();
            if let Some(ns) = ns_created {
                out.push_str(&format!("namespace/{ns} created{suffix}\n"));
            }
            for p in planned {
                // The rollout fields of an object show only when they change.
                let rollout = p.target.manager != apply::FIELD_MANAGER;
                if rollout && p.change == Change::Unchanged {
                    continue;
                }
                out.push_str(&format!(
                    "{} {}{}{suffix}\n",
                    p.target.display(),
                    p.change.as_str(),
                    if rollout { " (rollout fields)" } else { "" }
                ));
            }
            printer.data(&out);
        }
        _ => printer.data(&printer.structured(&results)?),
    }
    Ok(())
}

async fn run_async(global: &GlobalArgs, args: &ApplyArgs, printer: &Printer) -> Result<u8> {
    let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
    let prepared = session::prepare(&s, &args.servers, args.templates.as_deref()).await?;
    for w in &prepared.warnings {
        printer.warn(&format!("warning: {w}"));
    }
    let dry = args.dry_run.is_some();
    // Servers deployed before: their apply revisions say so, so that later
    // applies keep the deployed image too.
    let deployed: BTreeSet<String> = prepared
        .states
        .iter()
        .filter(|(_, st)| st.last.as_ref().is_some_and(|r| r.deployed()))
        .map(|(server, _)| server.clone())
        .collect();
    let ns = s.ns().to_string();
    let ns_exists = prepared.ns_exists;
    let mut ns_created = None;
    if !ns_exists {
        if !dry {
            apply::create_namespace(&s.cluster, &ns).await?;
        }
        ns_created = Some(ns.as_str());
    }
    let deployments_path = prepared
        .discovered
        .resolve("apps/v1", "Deployment")
        .map(|r| r.collection_path(Some(&ns)))
        .unwrap_or_else(|| format!("/apis/apps/v1/namespaces/{ns}/deployments"));
    let planned = apply::plan(
        &s.cluster,
        prepared.targets,
        &prepared.live,
        args.force_conflicts,
        dry && !ns_exists,
    )
    .await?;
    if dry {
        report(printer, &planned, true, ns_created)?;
        return Ok(exit::OK);
    }

    // An apply interrupted after its writes left its in-flight mark and no
    // revision: finishing it (recording it, under the lock) is a change too.
    let unfinished = if ns_exists {
        interrupted_applies(&s, &prepared.states, &args.servers, args.force)?
    } else {
        BTreeSet::new()
    };
    let changed: BTreeSet<String> = changed_servers(&planned)
        .union(&unfinished)
        .cloned()
        .collect();
    let deployments: BTreeSet<String> = planned
        .iter()
        .filter(|p| p.target.res.kind == "Deployment" && p.target.res.group == "apps")
        .map(|p| p.target.name.clone())
        .collect();
    let selector = format!("app.kubernetes.io/part-of={}", s.fleet.name);

    if changed.is_empty() {
        // Nothing to change: no lock, no journal, no write.
        report(printer, &planned, false, ns_created)?;
        if args.wait {
            let mut progress = Progress::new(printer.quiet);
            wait::wait_for_deployments(
                &s.cluster,
                &deployments_path,
                Some(&selector),
                &deployments,
                args.timeout,
                &mut progress,
            )
            .await?;
        }
        return Ok(exit::OK);
    }

    let me = identity::holder_identity();
    // From before the lock is taken until it is released, a signal releases
    // the lock before exiting (a second one exits at once).
    let mut signals = session::Signals::listen()?;
    let servers: Vec<String> = changed.iter().cloned().collect();
    // Many servers: one fleet Lease instead of one per server (see cluster::lock).
    let mut locks = Locks::acquire_for(
        &s.cluster,
        &ns,
        &s.fleet.name,
        &servers,
        s.fleet.servers.len(),
        &me,
        args.force_unlock,
    )
    .await?;
    let replanned = tokio::select! {
        r = replan_under_lock(&s, args, &prepared.discovered, planned, &unfinished, &mut locks, &me) => r,
        sig = signals.recv() => Err(interrupted_error(sig)),
    };
    let (planned, changed) = match replanned {
        Ok(p) => p,
        Err(e) => {
            signals.exit_on_next();
            locks.release(&s.cluster, &me).await;
            return Err(e);
        }
    };
    let work = apply_locked(
        &s,
        args,
        printer,
        &planned,
        &changed,
        &deployments,
        &deployments_path,
        &selector,
        &me,
        ns_created,
        &deployed,
    );
    // A lost lock stops the writes.
    let result = tokio::select! {
        r = work => r,
        sig = signals.recv() => Err(interrupted_error(sig)),
        (server, why) = locks.until_lost() => Err(lock::lost_error(&server, &why)),
    };
    signals.exit_on_next();
    let lost = locks.lost();
    locks.release(&s.cluster, &me).await;
    if result.is_ok() {
        for (server, why) in lost {
            printer.warn(&format!(
                "warning: the lock of {server} was lost at the end of the apply: {why}"
            ));
        }
    }
    result
}

fn interrupted_error(sig: &str) -> Error {
    Error::Failed(format!(
        "interrupted by {sig}: the lock is released; an in-flight mark, if one was written, is \
         left so that `mcpctl status` shows the apply as interrupted; run `mcpctl apply` again to finish it"
    ))
}

/// The plan above was made without the lock: another operation may have
/// moved a server since (switched a colour, shifted a weight), and the
/// objects render from that state. Plans again under the lock and takes the
/// locks of any server that changes only now. Returns the plan to apply and
/// the servers it changes.
async fn replan_under_lock(
    s: &Session,
    args: &ApplyArgs,
    discovered: &crate::cluster::discovery::Discovered,
    first: Vec<Planned>,
    unfinished: &BTreeSet<String>,
    locks: &mut Locks,
    me: &str,
) -> Result<(Vec<Planned>, BTreeSet<String>)> {
    let again = session::prepare_with(
        s,
        &args.servers,
        args.templates.as_deref(),
        Some(discovered),
    )
    .await?;
    let planned = apply::replan(
        &s.cluster,
        again.targets,
        &again.live,
        args.force_conflicts,
        false,
        &first,
    )
    .await?;
    let changed: BTreeSet<String> = changed_servers(&planned)
        .union(unfinished)
        .cloned()
        .collect();
    let held: BTreeSet<String> = locks.servers().into_iter().collect();
    let more: Vec<String> = changed.difference(&held).cloned().collect();
    if !more.is_empty() {
        // Into `locks` as each is taken: a signal that cancels this leaves them there for
        // the caller to release, renewers stopped.
        locks
            .acquire_more(
                &s.cluster,
                s.ns(),
                &s.fleet.name,
                &more,
                me,
                args.force_unlock,
            )
            .await?;
    }
    Ok((planned, changed))
}

/// Selected servers (all when `only` is empty) whose journal shows an apply
/// in flight: an interrupted one, or one running now (whose lock then
/// stops this apply with exit 5), from the state records `prepare` read.
/// Another kind of operation in flight (an interrupted deploy) stops the
/// apply, naming the commands that finish it, unless `force`.
fn interrupted_applies(
    s: &Session,
    states: &BTreeMap<String, crate::cluster::journal::State>,
    only: &[String],
    force: bool,
) -> Result<BTreeSet<String>> {
    let selected = s.selected(only);
    let mut out = BTreeSet::new();
    for (server, st) in states {
        if !selected.contains(server) {
            continue;
        }
        record::check_inflight(st, server, &["apply"], force)?;
        if st.inflight.as_ref().is_some_and(|i| i.kind == "apply") {
            out.insert(server.clone());
        }
    }
    Ok(out)
}

/// Servers with at least one object that changes.
fn changed_servers(planned: &[Planned]) -> BTreeSet<String> {
    planned
        .iter()
        .filter(|p| p.change != Change::Unchanged)
        .map(|p| p.target.server().to_string())
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn apply_locked(
    s: &Session,
    args: &ApplyArgs,
    printer: &Printer,
    planned: &[Planned],
    changed: &BTreeSet<String>,
    deployments: &BTreeSet<String>,
    deployments_path: &str,
    selector: &str,
    me: &str,
    ns_created: Option<&str>,
    deployed: &BTreeSet<String>,
) -> Result<u8> {
    let ns = s.ns();
    let journal = Journal::new(&s.cluster, ns, &s.fleet.name);
    let started = journal.now();
    let inflight = |server: &str, step: &str| {
        let mut op = record::operation("apply", &strategy_of(s, server), started.clone(), me);
        op.step_text = step.into();
        op
    };
    for server in changed {
        journal
            .set_inflight(server, &inflight(server, "applying objects"))
            .await?;
    }
    let outcome: Result<()> = match apply::write(&s.cluster, planned).await {
        Err(e) => Err(e),
        Ok(()) => {
            report(printer, planned, false, ns_created)?;
            if args.wait {
                for server in changed {
                    journal
                        .set_inflight(server, &inflight(server, "waiting for the rollout"))
                        .await?;
                }
                let mut progress = Progress::new(printer.quiet);
                wait::wait_for_deployments(
                    &s.cluster,
                    deployments_path,
                    Some(selector),
                    deployments,
                    args.timeout,
                    &mut progress,
                )
                .await
            } else {
                Ok(())
            }
        }
    };
    let (label, message) = match &outcome {
        Ok(()) => ("succeeded", String::new()),
        Err(e) if e.exit_code() == exit::TIMEOUT => ("timed-out", e.to_string()),
        Err(e) => ("failed", e.to_string()),
    };
    // Record a revision per changed server, with what is needed to roll back.
    let mut by_server: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for p in planned {
        by_server
            .entry(p.target.server())
            .or_default()
            .push(p.target.obj.clone());
    }
    for server in changed {
        let objects = by_server.get(server.as_str()).cloned().unwrap_or_default();
        let rev = Revision {
            server: server.clone(),
            revision: 0,
            operation: "apply".into(),
            image: primary_image(s, server, &objects),
            strategy: strategy_of(s, server),
            who: identity::who(),
            when: journal.now(),
            outcome: label.into(),
            message: message.clone(),
            has_objects: true,
            images: record::images(server, &objects),
            traffic: observe::active_colour(server, &objects)
                .map(|c| c.as_str().to_string())
                .unwrap_or_else(|| "stable".into()),
            from_image: String::new(),
            deployed: deployed.contains(server),
        };
        match journal.record(rev, &objects, None).await {
            Ok(r) => tracing::info!("recorded revision {} of {server}", r.revision),
            Err(e) => printer.warn(&format!(
                "warning: could not record the revision of {server}: {e}"
            )),
        }
    }
    outcome.map(|_| exit::OK)
}

fn strategy_of(s: &Session, server: &str) -> String {
    s.fleet
        .servers
        .iter()
        .find(|x| x.name == server)
        .map(|x| x.strategy.as_str())
        .unwrap_or("")
        .to_string()
}

/// The image serving the main traffic among a server's objects.
fn primary_image(s: &Session, server: &str, objects: &[Value]) -> String {
    let colour = observe::active_colour(server, objects).map(|c| c.as_str().to_string());
    let deps: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .collect();
    let primary = deps
        .iter()
        .find(|d| match &colour {
            Some(c) => d["metadata"]["labels"]["mcpctl.io/colour"].as_str() == Some(c),
            None => d["metadata"]["labels"]["mcpctl.io/track"].as_str() != Some("canary"),
        })
        .or(deps.first());
    primary
        .and_then(|d| observe::deployment_image(d, server))
        .or_else(|| {
            s.fleet
                .servers
                .iter()
                .find(|x| x.name == server)
                .map(|x| x.image.clone())
        })
        .unwrap_or_default()
}
