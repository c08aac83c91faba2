//! What every cluster command starts with: the fleet (with `-n` applied), a
//! connected cluster, and the fleet rendered for that cluster's version and
//! for the rollout state it is in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::apply::{self, Target};
use super::client::{self, Cluster, ConnectOptions};
use super::discovery::{self, Discovered};
use super::observe;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::fleet::{Fleet, Strategy};
use crate::render::{self, KubeVersion, RenderOptions, Renderer};

pub struct Session {
    pub fleet: Fleet,
    pub cluster: Cluster,
}

impl Session {
    pub fn ns(&self) -> &str {
        &self.fleet.namespace
    }

    /// The Kubernetes version to render for: the server's.
    pub fn kube_version(&self) -> Result<KubeVersion> {
        KubeVersion::parse(&self.cluster.version.short()).map_err(|e| {
            Error::Failed(format!(
                "{} runs Kubernetes {}: {e}",
                self.cluster.where_(),
                self.cluster.version.git_version
            ))
        })
    }

    /// Checks that every named server is in the fleet ([`Fleet::check_servers`]).
    pub fn check_servers(&self, only: &[String]) -> Result<()> {
        self.fleet.check_servers(only)
    }

    /// Selected server names (all when `only` is empty), in fleet order.
    pub fn selected(&self, only: &[String]) -> Vec<String> {
        self.fleet
            .servers
            .iter()
            .filter(|s| only.is_empty() || only.contains(&s.name))
            .map(|s| s.name.clone())
            .collect()
    }
}

/// Connects for operations on `fleet` (loaded by the command, `-n` applied).
pub async fn open(global: &GlobalArgs, fleet: Fleet) -> Result<Session> {
    let cluster = client::connect(&ConnectOptions::from_global(global)).await?;
    Ok(Session { fleet, cluster })
}

/// The rendered objects resolved against the cluster, with their live state.
pub struct Prepared {
    pub targets: Vec<Target>,
    /// Live objects by path (`None`: does not exist).
    pub live: BTreeMap<String, Option<Value>>,
    pub discovered: Discovered,
    /// Whether the fleet's namespace exists (when not, nothing namespaced is
    /// read: it cannot exist).
    pub ns_exists: bool,
    /// Things the operator should know (images apply keeps, …).
    pub warnings: Vec<String>,
    /// The journal's state records of the fleet, by server (empty when the
    /// namespace does not exist).
    pub states: BTreeMap<String, super::journal::State>,
    /// What the lists of live objects held besides the targets: the members
    /// of the fleet's ApplySet that it no longer renders are among them, so
    /// that finding what to prune lists nothing again ([`super::prune::find_prepared`]).
    pub listed: super::prune::Listed,
}

/// Renders the selected servers for the server's version (and, when `only` is
/// empty, the fleet's own objects, [`Renderer::render_fleet_objects`]), checks that every
/// kind is served (before anything is applied), reads the live objects and
/// renders again with the rollout state they show.
pub async fn prepare(s: &Session, only: &[String], templates: Option<&Path>) -> Result<Prepared> {
    prepare_with(s, only, templates, None).await
}

/// [`prepare`], reusing a discovery already made (a second pass under the
/// lock re-reads the live objects, not the API surface).
pub async fn prepare_with(
    s: &Session,
    only: &[String],
    templates: Option<&Path>,
    known: Option<&Discovered>,
) -> Result<Prepared> {
    s.check_servers(only)?;
    let renderer = Renderer::new(templates)?;
    let mut opts = RenderOptions {
        kube_version: s.kube_version()?,
        ..Default::default()
    };
    // The servers' objects, then, when the whole fleet is selected, the
    // fleet's own (its dashboard: targets of server "").
    let render = |opts: &RenderOptions| -> Result<Vec<Value>> {
        let mut objects = renderer.render_fleet(&s.fleet, only, opts)?;
        objects.extend(renderer.render_fleet_objects(&s.fleet, only, opts)?);
        Ok(objects.into_iter().map(|o| o.value).collect())
    };
    let objects = render(&opts)?;

    let wanted: BTreeSet<String> = objects
        .iter()
        .filter_map(|o| o["apiVersion"].as_str().map(str::to_string))
        .collect();
    let discovered = match known {
        Some(d) => d.clone(),
        None => discovery::discover(&s.cluster, &wanted).await?,
    };
    discovered.require(
        objects.iter().map(|o| {
            (
                o["apiVersion"].as_str().unwrap_or(""),
                o["kind"].as_str().unwrap_or(""),
            )
        }),
        &s.cluster.where_(),
    )?;
    let targets = apply::targets(&objects, &discovered, s.ns())?;

    let cluster = &s.cluster;
    let ns_exists = apply::namespace_exists(cluster, s.ns()).await?;
    let (mut live, listed) = read_live(cluster, &targets, ns_exists).await?;

    // Rollout state of blue-green and canary servers (and of rolling ones
    // once deployed), from what is live and what the journal recorded.
    let states = if ns_exists {
        super::journal::Journal::new(&s.cluster, s.ns(), &s.fleet.name)
            .states()
            .await?
    } else {
        BTreeMap::new()
    };
    let mut warnings = Vec::new();
    let mut any_state = false;
    for server in s
        .fleet
        .servers
        .iter()
        .filter(|sv| only.is_empty() || only.contains(&sv.name))
    {
        let deployed = states
            .get(&server.name)
            .is_some_and(|st| st.last.as_ref().is_some_and(|r| r.deployed()));
        if server.strategy == Strategy::Rolling && !deployed {
            continue;
        }
        let server_live: Vec<Value> = targets
            .iter()
            .filter(|t| t.server() == server.name)
            .filter_map(|t| live.get(&t.path()).cloned().flatten())
            .collect();
        let (state, w) = observe::rollout_state(server, &server_live, None, deployed);
        warnings.extend(w);
        if state != render::RolloutState::default() {
            any_state = true;
            opts.rollout.insert(server.name.clone(), state);
        }
    }
    let rendered = if any_state {
        let t = apply::targets(&render(&opts)?, &discovered, s.ns())?;
        // Names do not depend on the rollout state; fetch any that would.
        for x in &t {
            if let std::collections::btree_map::Entry::Vacant(e) = live.entry(x.path()) {
                e.insert(apply::get_live(&s.cluster, x).await?);
            }
        }
        t
    } else {
        targets
    };
    let targets = split_rollout_parts(rendered, &s.fleet, &live, &mut warnings);
    Ok(Prepared {
        targets,
        live,
        discovered,
        ns_exists,
        warnings,
        states,
        listed,
    })
}

/// Labels of mcpctl's own records (journal, ApplySet parent, locks): left out
/// of the lists of live objects, since a fleet's revision records alone can
/// weigh more than all its objects.
const NOT_RECORDS: &str = "!mcpctl.io/record";

/// The live state of every target, by path (`None`: it does not exist): one
/// LIST per kind and namespace, in pages of 500 like kubectl, so that the
/// requests grow with the kinds rendered, not with the objects; a target the
/// lists do not hold is read on its own (8 at a time), so that an object
/// that exists but was not listed is never taken for a new one.
/// Listed objects that are no target and carry an ApplySet's part-of label
/// are returned apart, by collection.
async fn read_live(
    cluster: &Cluster,
    targets: &[Target],
    ns_exists: bool,
) -> Result<(BTreeMap<String, Option<Value>>, super::prune::Listed)> {
    use futures::StreamExt;
    let mut live = BTreeMap::new();
    let mut collections: BTreeMap<String, &Target> = BTreeMap::new();
    for t in targets {
        if !ns_exists && t.ns.is_some() {
            live.insert(t.path(), None);
            continue;
        }
        collections
            .entry(t.res.collection_path(t.ns.as_deref()))
            .or_insert(t);
    }
    let listed: Vec<Result<Vec<Value>>> =
        futures::stream::iter(collections.iter().map(|(path, t)| async move {
            let items = cluster.list(path, Some(NOT_RECORDS)).await?;
            // List items of built-in kinds carry no kind (transcript 43).
            Ok(items
                .into_iter()
                .map(|mut o| {
                    o["kind"] = Value::String(t.res.kind.clone());
                    o["apiVersion"] = Value::String(t.res.api_version());
                    o
                })
                .collect())
        }))
        .buffered(8)
        .collect()
        .await;
    // Each listed object by path, with the collection it was listed from.
    let mut by_path: BTreeMap<String, (&str, Value)> = BTreeMap::new();
    for (items, (collection, t)) in listed.into_iter().zip(collections.iter()) {
        for o in items? {
            let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
            let ns = o["metadata"]["namespace"].as_str().map(str::to_string);
            by_path.insert(
                t.res.object_path(ns.as_deref(), &name),
                (collection.as_str(), o),
            );
        }
    }
    let mut missing: Vec<&Target> = Vec::new();
    for t in targets {
        if live.contains_key(&t.path()) {
            continue;
        }
        match by_path.remove(&t.path()) {
            Some((_, o)) => {
                live.insert(t.path(), Some(o));
            }
            None => missing.push(t),
        }
    }
    let rest = super::prune::Listed::new(collections.keys(), by_path.into_values());
    let fetched: Vec<Result<(String, Option<Value>)>> = futures::stream::iter(
        missing
            .into_iter()
            .map(|t| async move { Ok((t.path(), apply::get_live(cluster, t).await?)) }),
    )
    .buffered(8)
    .collect()
    .await;
    for f in fetched {
        let (p, v) = f?;
        live.insert(p, v);
    }
    Ok((live, rest))
}

/// Splits the rollout fields of blue-green and canary servers' objects off
/// into targets of the rollout field manager ([`crate::traffic`]): before the
/// rest of an object that exists, so they never lose their owner; carried by
/// the object for one that does not, to be applied right after its creation.
/// A rollout part whose traffic values differ from the live ones is left out
/// with a warning: `apply` never moves traffic.
pub fn split_rollout_parts(
    targets: Vec<Target>,
    fleet: &Fleet,
    live: &BTreeMap<String, Option<Value>>,
    warnings: &mut Vec<String>,
) -> Vec<Target> {
    let strategy_of: BTreeMap<&str, Strategy> = fleet
        .servers
        .iter()
        .map(|s| (s.name.as_str(), s.strategy))
        .collect();
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let strategy = strategy_of
            .get(t.server())
            .copied()
            .unwrap_or(Strategy::Rolling);
        let (main, part) = crate::traffic::split(&t.obj, strategy);
        let Some(part) = part else {
            out.push(t);
            continue;
        };
        match live.get(&t.path()).cloned().flatten() {
            None => {
                let mut whole = t;
                whole.after_create = Some(part);
                out.push(whole);
            }
            Some(l) => {
                let (want, have) = (
                    crate::traffic::traffic_of(&part),
                    crate::traffic::traffic_of(&l),
                );
                // The preview Service carries no production traffic: apply
                // points it at the idle colour like the rest of the render.
                let production = t.res.kind != "Service" || t.name == t.server();
                if production && want.is_some() && want != have {
                    warnings.push(format!(
                        "{} sends traffic differently from what the fleet renders; apply leaves \
                         traffic as it is (use `mcpctl deploy` or `mcpctl rollback` to move it)",
                        t.display()
                    ));
                    // Without the rollout manager owning them yet, leaving the
                    // fields out of apply's patch could drop them: leave the
                    // object alone this time.
                    if !crate::traffic::applied_by(&l, crate::traffic::ROLLOUT_MANAGER) {
                        continue;
                    }
                    out.push(t.with_obj(main, t.manager));
                } else if crate::traffic::applied_by(&l, crate::traffic::ROLLOUT_MANAGER) {
                    out.push(t.with_obj(part, crate::traffic::ROLLOUT_MANAGER));
                    out.push(t.with_obj(main, t.manager));
                } else {
                    // The rollout manager takes its fields first; this once,
                    // apply still sends them too (with the same values), so
                    // that no field is left without an owner in between.
                    out.push(t.with_obj(part, crate::traffic::ROLLOUT_MANAGER));
                    out.push(t);
                }
            }
        }
    }
    out
}

/// SIGINT and SIGTERM, listened to from [`Signals::listen`] on: a signal
/// that arrives before [`Signals::recv`] is awaited (while the lock is being
/// taken, say) waits for it instead of killing the process.
pub struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn listen() -> Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let err = |e: std::io::Error| Error::Failed(format!("cannot listen for signals: {e}"));
            Ok(Signals {
                int: signal(SignalKind::interrupt()).map_err(err)?,
                term: signal(SignalKind::terminate()).map_err(err)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Resolves on the next SIGINT or SIGTERM.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }

    /// From now on, the next signal exits at once (status 130): for the
    /// clean-up after a first signal (or after the work) that the operator
    /// does not want to wait for. A Lease left behind expires by itself.
    pub fn exit_on_next(mut self) {
        tokio::spawn(async move {
            let sig = self.recv().await;
            tracing::error!(
                "{sig} again: exiting now; a lock left behind expires within {}s",
                super::lock::LEASE_SECONDS
            );
            std::process::exit(130);
        });
    }
}
