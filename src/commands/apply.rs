//! `mcpctl apply`: server-side apply of the rendered objects, under the lock
//! of each server that changes, recorded in the journal; `--wait` waits like
//! `kubectl rollout status`. Without SERVER arguments the fleet's own objects
//! (its dashboard, of no server) are planned and applied with the rest,
//! without any server's lock (no rollout touches them), and recorded nowhere
//! but in the ApplySet: they render from the fleet file alone, so the next
//! apply restores them.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::applyset;
use crate::cli::{ApplyArgs, GlobalArgs, OutputFormat};
use crate::cluster::apply::{self, Change, Planned};
use crate::cluster::journal::{Journal, Revision};
use crate::cluster::lock::{self, Locks};
use crate::cluster::prune::{self, Pruning};
use crate::cluster::session::{self, Session};
use crate::cluster::wait;
use crate::cluster::{identity, observe, runtime};
use crate::error::{Error, Result, exit};
use crate::output::apply::Applied;
use crate::output::{self, Printer, Progress};
use crate::rollout::record;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectResult {
    /// Left out for the fleet's own objects (its dashboard), which belong to no server.
    #[serde(skip_serializing_if = "String::is_empty")]
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

/// What `-o json|yaml` prints.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    /// The namespace apply created, if it did.
    namespace_created: Option<&'a str>,
    objects: &'a [ObjectResult],
}

fn report(
    printer: &Printer,
    fleet: &str,
    planned: &[Planned],
    pruned: &[Value],
    dry: bool,
    ns_created: Option<&str>,
) -> Result<()> {
    let suffix = if dry { " (server dry run)" } else { "" };
    let mut results: Vec<ObjectResult> = planned
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
    results.extend(pruned.iter().map(|o| ObjectResult {
        server: applyset::server_of(o).unwrap_or("").to_string(),
        kind: o["kind"].as_str().unwrap_or("").to_string(),
        name: o["metadata"]["name"].as_str().unwrap_or("").to_string(),
        namespace: o["metadata"]["namespace"].as_str().map(str::to_string),
        change: Change::Pruned,
        dry_run: dry,
    }));
    match printer.format {
        OutputFormat::Table => {
            let mut out = String::new();
            if let Some(ns) = ns_created {
                out.push_str(&format!("namespace/{ns} created{suffix}\n"));
            }
            let applied: Vec<Applied> = planned
                .iter()
                .map(|p| Applied {
                    server: p.target.server().to_string(),
                    object: p.target.display(),
                    change: p.change,
                    rollout: p.target.manager != apply::FIELD_MANAGER,
                })
                .collect();
            if printer.verbose > 0 {
                out.push_str(&output::apply::object_lines(&applied, suffix));
            }
            out.push_str(&output::apply::server_lines(&applied, suffix));
            out.push_str(&output::apply::fleet_lines(fleet, &applied, suffix));
            // Deletions are few and never routine: each is named.
            for o in pruned {
                out.push_str(&format!("{} pruned{suffix}\n", prune::display(o)));
            }
            printer.data(&out);
        }
        _ => printer.data(&printer.document(&Document {
            namespace_created: ns_created,
            objects: &results,
        })?),
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
    let pruning = prune::find_prepared(&s, &prepared, &args.servers).await?;
    let planned = apply::plan(
        &s.cluster,
        prepared.targets,
        prepared.live,
        args.force_conflicts,
        dry && !ns_exists,
    )
    .await?;
    if !args.prune {
        note_prunable(printer, &pruning);
    }
    if dry {
        let mut pruned = Vec::new();
        if args.prune {
            for o in &pruning.candidates {
                if prune::delete_member(&s.cluster, &prepared.discovered, o, true).await?
                    == prune::Deleted::Deleted
                {
                    pruned.push(o.clone());
                }
            }
        }
        report(printer, &s.fleet.name, &planned, &pruned, true, ns_created)?;
        return Ok(exit::OK);
    }

    // An apply interrupted after its writes left its in-flight mark and no
    // revision: finishing it (recording it, under the lock) is a change too.
    let unfinished = if ns_exists {
        interrupted_applies(
            &s,
            &prepared.states,
            &args.servers,
            args.force,
            args.force_unlock,
        )
        .await?
    } else {
        BTreeSet::new()
    };
    // Servers whose objects are pruned: those still in the fleet change (and
    // are recorded as applied); removed ones are locked and recorded as
    // uninstalled.
    let removed = if args.prune {
        pruning.removed_servers(&s.fleet)
    } else {
        BTreeSet::new()
    };
    let pruned_servers: BTreeSet<String> = if args.prune {
        pruning.servers().difference(&removed).cloned().collect()
    } else {
        BTreeSet::new()
    };
    let changed: BTreeSet<String> = changed_servers(&planned)
        .union(&unfinished)
        .cloned()
        .chain(pruned_servers.iter().cloned())
        .collect();
    let deployments: BTreeSet<String> = planned
        .iter()
        .filter(|p| p.target.res.kind == "Deployment" && p.target.res.group == "apps")
        .map(|p| p.target.name.clone())
        .collect();
    let selector = format!("app.kubernetes.io/part-of={}", s.fleet.name);
    // The fleet's own objects (its dashboard) are written or pruned without
    // any server's lock: they carry no rollout state and no rollout writes them.
    let fleet_objects = fleet_objects_change(&planned, args.prune.then_some(&pruning));

    if changed.is_empty() && removed.is_empty() && !fleet_objects {
        // Nothing to change: no lock, no journal, no write (but the set's
        // parent, when it does not record the fleet's objects yet).
        if pruning.parent_behind() {
            let intended = pruning.intended.clone();
            prune::update_parent(&s.cluster, &s.fleet.name, &ns, |r| r.union(&intended)).await?;
        }
        report(printer, &s.fleet.name, &planned, &[], false, ns_created)?;
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
    let servers: Vec<String> = changed.union(&removed).cloned().collect();
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
        r = async {
            // A removed server's interrupted operation is refused like any other's.
            check_removed_inflight(&s, &removed).await?;
            replan_under_lock(&s, args, &prepared.discovered, planned, &unfinished, &mut locks, &me).await
        } => r,
        sig = signals.recv() => Err(interrupted_error(sig)),
    };
    let (planned, changed) = match replanned {
        Ok((p, c)) => (p, c.union(&pruned_servers).cloned().collect()),
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
        Work {
            planned: &planned,
            changed: &changed,
            deployments: &deployments,
            deployments_path: &deployments_path,
            selector: &selector,
            me: &me,
            ns_created,
            deployed: &deployed,
            states: &prepared.states,
            pruning: &pruning,
            removed: &removed,
            discovered: &prepared.discovered,
        },
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

/// Without `--prune`: says what the fleet no longer renders, which an apply
/// with `--prune` would delete.
fn note_prunable(printer: &Printer, pruning: &Pruning) {
    if pruning.candidates.is_empty() {
        return;
    }
    let names: Vec<String> = pruning.candidates.iter().map(prune::display).collect();
    printer.warn(&format!(
        "note: {} object(s) of the fleet are no longer rendered and are left in place;          `mcpctl apply --prune` deletes them: {}",
        names.len(),
        names.join(", ")
    ));
}

/// Refuses to prune a server removed from the fleet file while its journal
/// records an operation in flight (read again under its lock).
async fn check_removed_inflight(s: &Session, removed: &BTreeSet<String>) -> Result<()> {
    let journal = Journal::new(&s.cluster, s.ns(), &s.fleet.name);
    for server in removed {
        let st = journal.state(server).await?;
        record::refuse_removal_inflight(&st, server, "`mcpctl apply --prune`")?;
    }
    Ok(())
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
        again.live,
        args.force_conflicts,
        false,
        first,
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
/// apply, naming the commands that finish it, unless `force`; one that a
/// live process runs (its lock is held) stops it with exit 5, naming the
/// holder: it is running, not interrupted.
async fn interrupted_applies(
    s: &Session,
    states: &BTreeMap<String, crate::cluster::journal::State>,
    only: &[String],
    force: bool,
    force_unlock: bool,
) -> Result<BTreeSet<String>> {
    let selected = s.selected(only);
    let mut out = BTreeSet::new();
    for (server, st) in states {
        if !selected.contains(server) {
            continue;
        }
        if let Err(e) = record::check_inflight(st, server, &["apply"], force) {
            // `--force-unlock` says its holder is gone: the record is an
            // interrupted operation's.
            let live = match force_unlock {
                true => None,
                false => crate::cluster::lock::holder(&s.cluster, s.ns(), server).await?,
            };
            if let Some((holder, since)) = live {
                let op = st.inflight.as_ref().map(|o| format!("{} {}", o.kind, o.id));
                return Err(Error::WithCode {
                    code: crate::error::exit::LOCKED,
                    message: format!(
                        "server {server} is locked by {holder} since {since}: its {} is running \
                         (at: {}); wait for it to finish, or stop it (`mcpctl abort {server}` for \
                         a canary). If its process died, the lock expires within 30 s; then \
                         `mcpctl deploy {server} --resume` or `mcpctl rollback {server}` finishes it",
                        op.unwrap_or_else(|| "operation".into()),
                        st.inflight
                            .as_ref()
                            .map(|o| o.step_text.as_str())
                            .unwrap_or("")
                    ),
                });
            }
            return Err(e);
        }
        if st.inflight.as_ref().is_some_and(|i| i.kind == "apply") {
            out.insert(server.clone());
        }
    }
    Ok(out)
}

/// Servers with at least one object that changes (the fleet's own objects
/// belong to none).
fn changed_servers(planned: &[Planned]) -> BTreeSet<String> {
    planned
        .iter()
        .filter(|p| p.change != Change::Unchanged && !p.target.of_fleet())
        .map(|p| p.target.server().to_string())
        .collect()
}

/// Whether the apply writes one of the fleet's own objects (its dashboard), or,
/// given the `pruning` of an apply with `--prune`, deletes one the fleet no
/// longer renders (`dashboard.enabled: false`): set members without a server.
fn fleet_objects_change(planned: &[Planned], pruning: Option<&Pruning>) -> bool {
    planned
        .iter()
        .any(|p| p.target.of_fleet() && p.change != Change::Unchanged)
        || pruning.is_some_and(|p| {
            p.candidates
                .iter()
                .any(|o| applyset::server_of(o).is_none())
        })
}

/// What the locked part of an apply works on.
struct Work<'a> {
    planned: &'a [Planned],
    changed: &'a BTreeSet<String>,
    deployments: &'a BTreeSet<String>,
    deployments_path: &'a str,
    selector: &'a str,
    me: &'a str,
    ns_created: Option<&'a str>,
    deployed: &'a BTreeSet<String>,
    /// The fleet's state records as read before the lock (which servers have one).
    states: &'a BTreeMap<String, crate::cluster::journal::State>,
    /// What the set holds; its candidates are deleted with `--prune`.
    pruning: &'a Pruning,
    /// Servers no longer in the fleet file whose objects are pruned.
    removed: &'a BTreeSet<String>,
    discovered: &'a crate::cluster::discovery::Discovered,
}

async fn apply_locked(s: &Session, args: &ApplyArgs, printer: &Printer, w: Work<'_>) -> Result<u8> {
    let ns = s.ns();
    let journal = Journal::new(&s.cluster, ns, &s.fleet.name);
    let started = journal.now();
    let inflight = |server: &str, step: &str| {
        let mut op = record::operation("apply", &strategy_of(s, server), started.clone(), w.me);
        op.step_text = step.into();
        op
    };
    mark_inflight(
        &journal,
        w.changed,
        |server| w.states.contains_key(server),
        |server| inflight(server, "applying objects"),
    )
    .await?;
    // The parent records every group-kind about to be written before any is,
    // so that an apply interrupted half-way leaves nothing outside the set.
    let intended = w.pruning.intended.clone();
    prune::update_parent(&s.cluster, &s.fleet.name, ns, |r| r.union(&intended)).await?;
    let mut pruned = Vec::new();
    let outcome: Result<()> = match apply::write(&s.cluster, w.planned).await {
        Err(e) => Err(e),
        Ok(()) => {
            let pruning = prune_members(s, args, w.pruning, w.discovered, &mut pruned).await;
            report(
                printer,
                &s.fleet.name,
                w.planned,
                &pruned,
                false,
                w.ns_created,
            )?;
            match pruning {
                Err(e) => Err(e),
                Ok(()) if args.wait => {
                    mark_inflight(
                        &journal,
                        w.changed,
                        |_| true,
                        |server| inflight(server, "waiting for the rollout"),
                    )
                    .await?;
                    let mut progress = Progress::new(printer.quiet);
                    wait::wait_for_deployments(
                        &s.cluster,
                        w.deployments_path,
                        Some(w.selector),
                        w.deployments,
                        args.timeout,
                        &mut progress,
                    )
                    .await
                }
                Ok(()) => Ok(()),
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
    for p in w.planned {
        by_server
            .entry(p.target.server())
            .or_default()
            .push(p.target.obj.clone());
    }
    let revisions: Vec<(Revision, Vec<Value>)> = w
        .changed
        .iter()
        .map(|server| {
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
                deployed: w.deployed.contains(server),
            };
            (rev, objects)
        })
        .collect();
    // Servers' records are independent of one another: written like the objects.
    let journal = &journal;
    let recorded: Vec<(String, Result<Revision>)> =
        futures::stream::iter(revisions.into_iter().map(|(rev, objects)| async move {
            let server = rev.server.clone();
            (server, journal.record(rev, &objects, None).await)
        }))
        .buffered(apply::AT_ONCE)
        .collect()
        .await;
    for (server, r) in recorded {
        match r {
            Ok(r) => tracing::info!("recorded revision {} of {server}", r.revision),
            Err(e) => printer.warn(&format!(
                "warning: could not record the revision of {server}: {e}"
            )),
        }
    }
    // A removed server whose objects are all gone is recorded as uninstalled
    // (its history stays, as after `mcpctl delete`).
    for server in w.removed {
        if outcome.is_err() {
            break;
        }
        let rev = record::uninstalled(
            server,
            &journal.now(),
            "removed from the fleet file; its objects were pruned by `mcpctl apply --prune`",
        );
        if let Err(e) = journal.record(rev, &[], None).await {
            printer.warn(&format!(
                "warning: could not record the removal of {server}: {e}"
            ));
        }
    }
    outcome.map(|_| exit::OK)
}

/// Marks an operation in flight on each of `servers` ([`apply::AT_ONCE`] at a
/// time, like the writes), failing with the first error once all are sent;
/// `recorded`: those whose state record exists (the others' are created).
async fn mark_inflight(
    journal: &Journal<'_>,
    servers: &BTreeSet<String>,
    recorded: impl Fn(&str) -> bool,
    op: impl Fn(&str) -> crate::cluster::journal::Operation,
) -> Result<()> {
    let marked: Vec<Result<()>> = futures::stream::iter(servers.iter().map(|server| {
        let op = op(server);
        let exists = recorded(server);
        async move { journal.set_inflight_known(server, &op, exists).await }
    }))
    .buffered(apply::AT_ONCE)
    .collect()
    .await;
    marked.into_iter().collect()
}

/// With `--prune`: deletes the members the fleet no longer renders (into
/// `pruned` as each goes), then narrows the parent to what is left.
async fn prune_members(
    s: &Session,
    args: &ApplyArgs,
    pruning: &Pruning,
    discovered: &crate::cluster::discovery::Discovered,
    pruned: &mut Vec<Value>,
) -> Result<()> {
    if !args.prune {
        return Ok(());
    }
    let ns = s.ns();
    let mut gone = BTreeSet::new();
    for o in &pruning.candidates {
        match prune::delete_member(&s.cluster, discovered, o, false).await? {
            prune::Deleted::Deleted => pruned.push(o.clone()),
            prune::Deleted::Gone => {}
            prune::Deleted::Replaced => {
                tracing::warn!(
                    "{} was created again since it was listed; left in place",
                    prune::display(o)
                );
                continue;
            }
        }
        gone.insert(applyset::ObjectKey::of(o, ns));
    }
    let emptied = pruning.emptied(&gone, ns);
    prune::update_parent(&s.cluster, &s.fleet.name, ns, |r| {
        let mut c = r.clone();
        c.group_kinds.retain(|gk| !emptied.group_kinds.contains(gk));
        c.namespaces.retain(|n| !emptied.namespaces.contains(n));
        c
    })
    .await?;
    Ok(())
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
