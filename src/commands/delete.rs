//! `mcpctl delete SERVER..|--all [--purge] [--yes]`: removes servers' objects
//! from the cluster, like `helm uninstall`. Objects are found by membership of
//! the fleet's ApplySet (never by name alone), under each server's lock, and
//! never while an operation is in flight on one. The history stays (with a
//! revision recording the removal) unless `--purge`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;

use serde::Serialize;
use serde_json::Value;

use crate::applyset::{self, Contents, ObjectKey};
use crate::cli::{DeleteArgs, GlobalArgs, OutputFormat};
use crate::cluster::journal::Journal;
use crate::cluster::lock::{self, Locks};
use crate::cluster::prune::{self, Pruning};
use crate::cluster::session::{self, Session};
use crate::cluster::{apply, discovery, identity, runtime};
use crate::error::{Error, Result, exit};
use crate::output::Printer;
use crate::render::{RenderOptions, Renderer};
use crate::rollout::record;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Removed {
    /// Left out for the fleet's own objects (its dashboard), which belong to no server.
    #[serde(skip_serializing_if = "String::is_empty")]
    server: String,
    kind: String,
    name: String,
    namespace: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    servers: Vec<String>,
    deleted: Vec<Removed>,
    /// Whether the servers' history was deleted too.
    purged: bool,
}

pub fn run(global: &GlobalArgs, args: &DeleteArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(run_async(global, args, printer))
}

async fn run_async(global: &GlobalArgs, args: &DeleteArgs, printer: &Printer) -> Result<u8> {
    let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
    let ns = s.ns().to_string();
    if !apply::namespace_exists(&s.cluster, &ns).await? {
        return Err(Error::Failed(format!(
            "namespace {ns} does not exist in {}: fleet {} has nothing installed there",
            s.cluster.where_(),
            s.fleet.name
        )));
    }
    // Discovery of the kinds the fleet renders (aggregated discovery lists
    // every kind anyway; an older server is asked for these).
    let wanted: BTreeSet<String> = Renderer::new(None)?
        .render_fleet(&s.fleet, &[], &RenderOptions::default())?
        .iter()
        .map(|o| o.api_version().to_string())
        .collect();
    let disc = discovery::discover(&s.cluster, &wanted).await?;
    let base = Contents::of([], &ns);
    let set = prune::read(&s.cluster, &disc, &s.fleet.name, &ns, &base, None).await?;
    let journal = Journal::new(&s.cluster, &ns, &s.fleet.name);
    let states = journal.states().await?;
    let installed: BTreeSet<String> = set
        .members
        .iter()
        .filter_map(|o| applyset::server_of(o).map(str::to_string))
        .chain(states.keys().cloned())
        .collect();
    let servers: BTreeSet<String> = if args.all {
        installed.clone()
    } else {
        args.servers.iter().cloned().collect()
    };
    let unknown: Vec<&String> = servers.difference(&installed).collect();
    if !unknown.is_empty() {
        return Err(Error::Failed(format!(
            "nothing to delete for {}: no object of fleet {}'s ApplySet and no recorded history in \
             namespace {ns}{}",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            s.fleet.name,
            if installed.is_empty() {
                String::new()
            } else {
                format!(
                    " (installed: {})",
                    installed.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            }
        )));
    }
    let members: Vec<Value> = set
        .members
        .iter()
        .filter(|o| match applyset::server_of(o) {
            Some(server) => servers.contains(server),
            None => args.all,
        })
        .cloned()
        .collect();
    if servers.is_empty() && members.is_empty() {
        printer.status(&format!(
            "fleet {} has nothing installed in namespace {ns}",
            s.fleet.name
        ));
        return Ok(exit::OK);
    }
    if !args.yes {
        confirm(printer, &servers, &members, &ns, args.purge)?;
    }

    let me = identity::holder_identity();
    let mut signals = session::Signals::listen()?;
    let names: Vec<String> = servers.iter().cloned().collect();
    // The fleet's own objects (its dashboard, deleted by `--all`) cover every
    // server: their removal locks them all, as an apply that writes them does.
    let locks = if members.iter().any(|o| applyset::server_of(o).is_none()) {
        let every: Vec<String> = names
            .iter()
            .cloned()
            .chain(s.selected(&[]))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let size = s.fleet.servers.len();
        Locks::acquire_for(
            &s.cluster,
            &ns,
            &s.fleet.name,
            &every,
            size,
            &me,
            args.force_unlock,
        )
        .await?
    } else {
        Locks::acquire(
            &s.cluster,
            &ns,
            &s.fleet.name,
            &names,
            &me,
            args.force_unlock,
        )
        .await?
    };
    let pruning = Pruning {
        set,
        intended: base,
        candidates: members,
    };
    let work = remove(&s, args, printer, &servers, &pruning, &disc);
    let result = tokio::select! {
        r = work => r,
        sig = signals.recv() => Err(Error::Failed(format!(
            "interrupted by {sig}: the lock is released; objects not deleted yet are still there \
             and still members of the set: run `mcpctl delete` again to finish"
        ))),
        (server, why) = locks.until_lost() => Err(lock::lost_error(&server, &why)),
    };
    signals.exit_on_next();
    locks.release(&s.cluster, &me).await;
    result
}

/// Asks on a terminal; elsewhere (a pipeline) refuses without `--yes`.
fn confirm(
    printer: &Printer,
    servers: &BTreeSet<String>,
    members: &[Value],
    ns: &str,
    purge: bool,
) -> Result<()> {
    let list = servers.iter().cloned().collect::<Vec<_>>().join(", ");
    let fleets = "the fleet's own objects (its dashboard)";
    let what = match (
        servers.is_empty(),
        members.iter().any(|o| applyset::server_of(o).is_none()),
    ) {
        (false, false) => format!("server(s) {list}"),
        (false, true) => format!("server(s) {list} and {fleets}"),
        (true, _) => fleets.to_string(),
    };
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "refusing to delete {} object(s) of {what} without confirmation: stdin is \
             not a terminal; pass --yes to delete without asking",
            members.len()
        )));
    }
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for o in members {
        *by_kind
            .entry(o["kind"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    printer.prompt(&format!(
        "Delete {what} from namespace {ns}: {} object(s) ({}), {}? [y/N] ",
        members.len(),
        kinds.join(", "),
        if purge {
            "and their recorded history"
        } else {
            "keeping their history (--purge deletes it)"
        }
    ));
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Usage("not confirmed: nothing was deleted".into()))
    }
}

/// Under the locks: refuses a server with an operation in flight, deletes
/// the members, narrows the parent, records (or purges) the history.
async fn remove(
    s: &Session,
    args: &DeleteArgs,
    printer: &Printer,
    servers: &BTreeSet<String>,
    pruning: &Pruning,
    disc: &discovery::Discovered,
) -> Result<u8> {
    let ns = s.ns();
    let journal = Journal::new(&s.cluster, ns, &s.fleet.name);
    // Read again under the lock: an operation interrupted since the first read counts.
    for server in servers {
        let st = journal.state(server).await?;
        record::refuse_removal_inflight(&st, server, &format!("`mcpctl delete {server}`"))?;
    }
    let mut gone = BTreeSet::new();
    let mut deleted = Vec::new();
    let mut out = String::new();
    for o in &pruning.candidates {
        match prune::delete_member(&s.cluster, disc, o, false).await? {
            prune::Deleted::Deleted => {
                out.push_str(&format!("{} deleted\n", prune::display(o)));
                deleted.push(Removed {
                    server: applyset::server_of(o).unwrap_or("").to_string(),
                    kind: o["kind"].as_str().unwrap_or("").to_string(),
                    name: o["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    namespace: o["metadata"]["namespace"].as_str().map(str::to_string),
                });
            }
            prune::Deleted::Gone => {}
            prune::Deleted::Replaced => {
                printer.warn(&format!(
                    "warning: {} was created again since it was listed; left in place",
                    prune::display(o)
                ));
                continue;
            }
        }
        gone.insert(ObjectKey::of(o, ns));
    }
    let emptied = pruning.emptied(&gone, ns);
    if pruning.set.exists {
        prune::update_parent(&s.cluster, &s.fleet.name, ns, |r| {
            let mut c = r.clone();
            c.group_kinds.retain(|gk| !emptied.group_kinds.contains(gk));
            c.namespaces.retain(|n| !emptied.namespaces.contains(n));
            c
        })
        .await?;
    }
    for server in servers {
        if args.purge {
            let n = journal.purge(server).await?;
            tracing::info!("deleted {n} history record(s) of {server}");
        } else {
            let rev = record::uninstalled(server, &journal.now(), "deleted by `mcpctl delete`");
            journal.record(rev, &[], None).await?;
        }
    }
    match printer.format {
        OutputFormat::Table => {
            printer.data(&out);
            for server in servers {
                printer.status(&format!(
                    "server {server} deleted{}",
                    if args.purge {
                        " with its history".to_string()
                    } else {
                        format!("; its history is kept (`mcpctl history {server}`)")
                    }
                ));
            }
        }
        _ => printer.data(&printer.document(&Report {
            servers: servers.iter().cloned().collect(),
            deleted,
            purged: args.purge,
        })?),
    }
    Ok(exit::OK)
}
