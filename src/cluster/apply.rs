//! Server-side apply of rendered objects, in two passes.
//!
//! 1. **Plan**: read each live object (one LIST per kind). An object whose
//!    live values and mcpctl's field set already are what would be sent is
//!    unchanged, decided locally ([`super::nochange`]); every other one is
//!    sent as a server-side dry run (`dryRun=All`). The server answers with what it
//!    would store (defaults, admission, conflicts included); comparing that
//!    with the live object, ignoring server bookkeeping, tells created,
//!    configured or unchanged. Every error (conflicts, schema errors) is
//!    found here, before anything is written.
//! 2. **Write**: the same apply, for real, for the objects that change only,
//!    eight servers at a time, each server's objects in order ([`chains`]).
//!    An apply with nothing to change makes no write at all (not even the
//!    lock). When something changes, the `apply` command takes the lock of
//!    each server concerned and plans again under it ([`replan`], reusing the
//!    dry runs of objects that did not move), because the objects render from
//!    the live rollout state, which another operation may have changed.
//!
//! Field ownership: mcpctl applies as field manager `mcpctl` and does not
//! force by default. A conflict with one of mcpctl's own managers (the
//! rollout commands patch selectors, weights and images as `mcpctl-*` or as
//! `mcpctl` with an Update operation, see transcript 37) is forced: those
//! fields are mcpctl's. A conflict with any other manager stops the apply,
//! naming the manager and the field; `--force-conflicts` takes them (like
//! `kubectl apply --server-side --force-conflicts` and Helm 4).

use serde_json::Value;

use super::client::{Cluster, Req, Resp};
use super::discovery::{Discovered, Resource};
use super::nochange;
use crate::error::{Error, Result};
use crate::traffic;

pub const FIELD_MANAGER: &str = "mcpctl";

/// An object to apply, with where it is served.
#[derive(Debug, Clone)]
pub struct Target {
    pub obj: Value,
    pub res: Resource,
    pub ns: Option<String>,
    pub name: String,
    /// [`FIELD_MANAGER`], or [`traffic::ROLLOUT_MANAGER`] for the rollout
    /// part of an object (always forced: those fields are the rollout's).
    pub manager: &'static str,
    /// For an object that does not exist yet: its rollout part, applied by
    /// the rollout manager right after the object is created.
    pub after_create: Option<Value>,
    /// The server the object belongs to (its `app.kubernetes.io/name`).
    pub server: String,
}

impl Target {
    /// The same object, with another body (same kind, name and namespace).
    pub fn with_obj(&self, obj: Value, manager: &'static str) -> Target {
        Target {
            obj,
            manager,
            after_create: None,
            ..self.clone()
        }
    }

    pub fn path(&self) -> String {
        self.res.object_path(self.ns.as_deref(), &self.name)
    }
    /// `deployment.apps/github`, as kubectl names objects.
    pub fn display(&self) -> String {
        let kind = self.res.kind.to_lowercase();
        if self.res.group.is_empty() {
            format!("{kind}/{}", self.name)
        } else {
            format!("{kind}.{}/{}", self.res.group, self.name)
        }
    }
    pub fn server(&self) -> &str {
        &self.server
    }
    /// One of the fleet's own objects (its dashboard), of no server.
    pub fn of_fleet(&self) -> bool {
        self.server.is_empty()
    }
}

/// What an apply does to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Configured,
    Unchanged,
    /// A member of the fleet's ApplySet the fleet no longer renders, deleted
    /// by `apply --prune`.
    Pruned,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Configured => "configured",
            Change::Unchanged => "unchanged",
            Change::Pruned => "pruned",
        }
    }
}

/// One planned object.
#[derive(Debug, Clone)]
pub struct Planned {
    pub target: Target,
    pub live: Option<Value>,
    /// What the server would store; `None`: the live object as it is (an
    /// object decided unchanged without a dry run), see [`Planned::intended`].
    pub intended: Option<Value>,
    pub change: Change,
    /// Whether the apply must force (conflict with mcpctl's own managers, or
    /// `--force-conflicts`).
    pub force: bool,
}

impl Planned {
    /// What the server would store.
    pub fn intended(&self) -> &Value {
        static NONE: Value = Value::Null;
        self.intended
            .as_ref()
            .or(self.live.as_ref())
            .unwrap_or(&NONE)
    }
}

/// Resolves each object's resource, namespacing namespaced ones in `ns` when
/// they name none.
pub fn targets(objects: &[Value], disc: &Discovered, ns: &str) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for o in objects {
        let av = o["apiVersion"].as_str().unwrap_or("");
        let kind = o["kind"].as_str().unwrap_or("");
        let res = disc
            .resolve(av, kind)
            .ok_or_else(|| Error::Failed(format!("{kind} ({av}) is not served by the cluster")))?
            .clone();
        let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
        let mut obj = o.clone();
        let ns = if res.namespaced {
            let n = o["metadata"]["namespace"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or(ns)
                .to_string();
            obj["metadata"]["namespace"] = Value::String(n.clone());
            Some(n)
        } else {
            None
        };
        let server = o["metadata"]["labels"]["app.kubernetes.io/name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        out.push(Target {
            obj,
            res,
            ns,
            name,
            manager: FIELD_MANAGER,
            after_create: None,
            server,
        });
    }
    Ok(out)
}

/// Bookkeeping the server fills in, never part of a comparison.
pub fn strip_server_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v["metadata"].as_object_mut() {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "generation",
            "creationTimestamp",
            "selfLink",
        ] {
            m.remove(k);
        }
        if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
            a.remove("deployment.kubernetes.io/revision");
            if a.is_empty() {
                m.remove("annotations");
            }
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

/// Field managers that are mcpctl itself.
pub fn is_own_manager(name: &str) -> bool {
    name == FIELD_MANAGER || name.starts_with("mcpctl-")
}

/// (manager, field) pairs of a 409 apply conflict, from `details.causes`
/// (`{"reason": "FieldManagerConflict", "message": "conflict with \"x\"", "field": ".spec.replicas"}`).
pub fn conflicts(status: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in status["details"]["causes"].as_array().into_iter().flatten() {
        if c["reason"] != "FieldManagerConflict" {
            continue;
        }
        let msg = c["message"].as_str().unwrap_or("");
        let manager = msg.split('"').nth(1).unwrap_or(msg).to_string();
        out.push((manager, c["field"].as_str().unwrap_or("").to_string()));
    }
    out
}

fn conflict_error(t: &Target, list: &[(String, String)]) -> Error {
    let parts: Vec<String> = list
        .iter()
        .map(|(m, f)| format!("{f} (owned by \"{m}\")"))
        .collect();
    Error::Failed(format!(
        "{} in {}: conflict with other field managers: {}; another tool changed these fields. \
         Let mcpctl take them with --force-conflicts, or stop the other tool from managing them",
        t.display(),
        t.ns.as_deref().unwrap_or("(cluster)"),
        parts.join(", ")
    ))
}

/// Turns a failed apply answer into a message naming the object; the API
/// server's typed-patch 500 ("field not declared in schema") is explained as a
/// field this server version does not know.
fn apply_error(cluster: &Cluster, t: &Target, resp: &Resp) -> Error {
    let msg = resp.message();
    if resp.status == 500
        && (msg.contains("field not declared in schema")
            || msg.contains("failed to create typed patch object"))
    {
        let detail = msg.rsplit_once("): ").map(|(_, d)| d).unwrap_or(&msg);
        return Error::Failed(format!(
            "{} in {}: the API server (Kubernetes {}) rejected the object: {detail}. \
             The field is not known to this server version; render for it (mcpctl does this when the \
             server version is read) or remove the field from the template",
            t.display(),
            t.ns.as_deref().unwrap_or("(cluster)"),
            cluster.version.git_version
        ));
    }
    Error::Failed(format!(
        "{} in {}: {} answered {}: {msg}",
        t.display(),
        t.ns.as_deref().unwrap_or("(cluster)"),
        cluster.where_(),
        resp.status
    ))
}

/// Sends one server-side apply.
pub async fn ssa(cluster: &Cluster, t: &Target, force: bool, dry_run: bool) -> Result<Resp> {
    let force = force || t.manager == traffic::ROLLOUT_MANAGER;
    let mut req = Req::new(http::Method::PATCH, t.path())
        .query("fieldManager", t.manager)
        .query("force", if force { "true" } else { "false" });
    if dry_run {
        req = req.query("dryRun", "All");
    }
    // JSON is YAML; the API server takes apply patches as apply-patch+yaml.
    let req = req
        .json_body(&t.obj)
        .content_type("application/apply-patch+yaml");
    cluster.send(&req).await
}

/// Reads the object at `path`, or `None` when it does not exist.
async fn get_optional(cluster: &Cluster, path: String) -> Result<Option<Value>> {
    let req = Req::get(path);
    let resp = cluster.send(&req).await?;
    match resp.status {
        404 => Ok(None),
        s if (200..300).contains(&s) => Ok(Some(resp.json()?)),
        _ => Err(cluster.api_error(&req, &resp)),
    }
}

/// Reads the live object, or `None` when it does not exist.
pub async fn get_live(cluster: &Cluster, t: &Target) -> Result<Option<Value>> {
    get_optional(cluster, t.path()).await
}

/// Plans one object (live read + dry-run apply).
pub async fn plan_one(
    cluster: &Cluster,
    t: Target,
    live: Option<Value>,
    force_conflicts: bool,
) -> Result<Planned> {
    let mut force = force_conflicts;
    let resp = ssa(cluster, &t, force, true).await?;
    let intended = if resp.ok() {
        resp.json()?
    } else if resp.status == 409 {
        let status = resp.json().unwrap_or(Value::Null);
        let list = conflicts(&status);
        if !list.is_empty() && !force && list.iter().all(|(m, _)| is_own_manager(m)) {
            // Fields mcpctl's own rollout commands took: they are ours.
            force = true;
        } else if !list.is_empty() {
            return Err(conflict_error(&t, &list));
        }
        apply_retrying(cluster, &t, force, true).await?
    } else {
        return Err(apply_error(cluster, &t, &resp));
    };
    let change = match &live {
        None => Change::Created,
        // The rollout manager must own its fields, whatever their values.
        Some(l) if t.manager != FIELD_MANAGER && !traffic::applied_by(l, t.manager) => {
            Change::Configured
        }
        Some(l) if strip_server_fields(l) == strip_server_fields(&intended) => Change::Unchanged,
        Some(_) => Change::Configured,
    };
    Ok(Planned {
        target: t,
        live,
        intended: Some(intended),
        change,
        force,
    })
}

/// Plans every object (8 at a time) against the live objects read before
/// (by path), collecting every error before failing. When the namespace does
/// not exist yet (`ns_missing`, dry runs only) the server cannot dry-run
/// namespaced objects: they are reported as created, as rendered.
pub async fn plan(
    cluster: &Cluster,
    targets: Vec<Target>,
    live: std::collections::BTreeMap<String, Option<Value>>,
    force_conflicts: bool,
    ns_missing: bool,
) -> Result<Vec<Planned>> {
    replan(
        cluster,
        targets,
        live,
        force_conflicts,
        ns_missing,
        Vec::new(),
    )
    .await
}

/// Planned objects by path and field manager (the first of each), so that a
/// plan of thousands of objects finds an earlier one without a scan.
fn by_target(planned: Vec<Planned>) -> std::collections::HashMap<(String, &'static str), Planned> {
    let mut index = std::collections::HashMap::with_capacity(planned.len());
    for p in planned {
        index
            .entry((p.target.path(), p.target.manager))
            .or_insert(p);
    }
    index
}

/// [`plan`], reusing the dry run of an earlier plan for each object that
/// renders the same and whose live resourceVersion has not moved since, and
/// deciding "no change" without a dry run where the live object's values and
/// field set already are what is sent ([`nochange::unchanged`]).
/// Each planned object takes its live object out of `live` (a copy for each
/// but the last of the targets of one path), so that a plan of thousands of
/// objects holds one copy of each.
pub async fn replan(
    cluster: &Cluster,
    targets: Vec<Target>,
    live: std::collections::BTreeMap<String, Option<Value>>,
    force_conflicts: bool,
    ns_missing: bool,
    earlier: Vec<Planned>,
) -> Result<Vec<Planned>> {
    use futures::StreamExt;
    let rv = |v: &Option<Value>| -> Option<String> {
        v.as_ref().and_then(|o| {
            o["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string)
        })
    };
    // Taken out as they are reused: a plan of thousands of objects is moved, not copied.
    let earlier_by_target = std::sync::Mutex::new(by_target(earlier));
    let earlier_by_target = &earlier_by_target;
    let mut uses: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for t in &targets {
        *uses.entry(t.path()).or_default() += 1;
    }
    let live = std::sync::Mutex::new((live, uses));
    let live = &live;
    // The live object read for `path` (`None`: not read), taken out by its
    // last target.
    let take = move |path: &str| -> Option<Option<Value>> {
        let mut guard = live.lock().expect("live objects");
        let (objects, uses) = &mut *guard;
        let left = uses.get_mut(path).map(|n| {
            *n -= 1;
            *n
        });
        match left {
            Some(0) => objects.remove(path),
            _ => objects.get(path).cloned(),
        }
    };
    let decided_locally = std::sync::atomic::AtomicUsize::new(0);
    let decided_locally = &decided_locally;
    let count = targets.len();
    let results: Vec<Result<Planned>> =
        futures::stream::iter(targets.into_iter().map(|t| async move {
            let key = (t.path(), t.manager);
            let read = take(&key.0);
            let reused = {
                let mut earlier = earlier_by_target.lock().expect("earlier plan");
                match earlier.get(&key) {
                    Some(p)
                        if p.target.obj == t.obj
                            && let Some(l) = &read
                            && rv(l) == rv(&p.live)
                            && (l.is_some() || p.live.is_none()) =>
                    {
                        earlier.remove(&key)
                    }
                    _ => None,
                }
            };
            if let Some(p) = reused {
                return Ok(p);
            }
            if ns_missing && t.ns.is_some() {
                let intended = t.obj.clone();
                return Ok(Planned {
                    target: t,
                    live: None,
                    intended: Some(intended),
                    change: Change::Created,
                    force: force_conflicts,
                });
            }
            let l = match read {
                Some(l) => l,
                None => get_live(cluster, &t).await?,
            };
            let why = match &l {
                _ if cluster.dry_run_every_object => Some("MCPCTL_DRY_RUN_EVERY_OBJECT".into()),
                None => Some("not live".into()),
                Some(current) => nochange::may_change(&t.obj, current, t.manager),
            };
            let what = if t.manager == FIELD_MANAGER {
                t.display()
            } else {
                format!("{} (rollout fields)", t.display())
            };
            if let (Some(_), None) = (&l, &why) {
                tracing::debug!("{what}: unchanged (decided locally)");
                decided_locally.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Ok(Planned {
                    intended: None,
                    target: t,
                    live: l,
                    change: Change::Unchanged,
                    force: false,
                });
            }
            tracing::debug!(
                "{what}: asking the server (dry run): {}",
                why.unwrap_or_default()
            );
            plan_one(cluster, t, l, force_conflicts).await
        }))
        .buffered(8)
        .collect()
        .await;
    tracing::info!(
        "planned {count} objects: {} unchanged decided locally, the rest from the server's dry runs or an earlier plan",
        decided_locally.load(std::sync::atomic::Ordering::Relaxed)
    );
    let mut planned = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(p) => planned.push(p),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Failed(if errors.len() == 1 {
            errors.remove(0)
        } else {
            format!(
                "{} objects cannot be applied:\n  {}",
                errors.len(),
                errors.join("\n  ")
            )
        }));
    }
    Ok(planned)
}

/// Whether the namespace exists.
///
/// A namespace is cluster-scoped, so an identity bound by a Role in it (what
/// `mcpctl rbac` renders) may not read it: a 403 means it exists (a Role can
/// only be bound in an existing namespace).
pub async fn namespace_exists(cluster: &Cluster, ns: &str) -> Result<bool> {
    let req = Req::get(format!("/api/v1/namespaces/{ns}"));
    let resp = cluster.send(&req).await?;
    match resp.status {
        404 => Ok(false),
        403 => Ok(true),
        s if (200..300).contains(&s) => Ok(true),
        _ => Err(cluster.api_error(&req, &resp)),
    }
}

/// How many objects an apply writes at once: as many as it plans at once.
pub const AT_ONCE: usize = 8;

/// The writes of an apply, server by server: each server's objects that
/// change, in plan order, servers in the order they were rendered (objects
/// without a server, such as the fleet's dashboard, make one more chain).
///
/// The objects of one server stay in order, one at a time, because they
/// depend on one another: a rollout part comes before the rest of its object
/// so that its fields always have an owner, an object's `after_create` part
/// right after its creation, and the ServiceAccount and ConfigMap a
/// Deployment's Pods use before the Deployment (as rendered, like `kubectl
/// apply -f`). Objects of different servers share nothing, so [`write`] runs
/// [`AT_ONCE`] servers' chains at a time.
pub fn chains(planned: &[Planned]) -> Vec<Vec<&Planned>> {
    let mut chains: Vec<Vec<&Planned>> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for p in planned.iter().filter(|p| p.change != Change::Unchanged) {
        let i = *index.entry(p.target.server()).or_insert_with(|| {
            chains.push(Vec::new());
            chains.len() - 1
        });
        chains[i].push(p);
    }
    chains
}

/// What became of one server's chain of writes.
enum Chain {
    Written,
    /// Not started: another chain had failed before its turn came. Its
    /// server, or (objects of no server, such as the fleet's dashboard) the
    /// objects by name.
    NotStarted(String),
    /// Stopped at the first write that failed (the writes before it are done).
    Failed(Error),
}

/// Applies the planned objects that change: [`AT_ONCE`] servers at a time,
/// each server's objects in order ([`chains`]).
///
/// Every object was dry-run before, so a write fails only when something
/// changed or broke since (the API server, the network, another writer).
/// A chain stops at its first failure; once one has failed, no server's
/// chain starts any more, and the chains under way finish. The error names
/// every write that failed and the servers (and objects of no server) not
/// written at all.
pub async fn write(cluster: &Cluster, planned: &[Planned]) -> Result<()> {
    use futures::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    let failed = AtomicBool::new(false);
    let failed = &failed;
    let outcomes: Vec<Chain> =
        futures::stream::iter(chains(planned).into_iter().map(|chain| async move {
            if failed.load(Ordering::SeqCst) {
                let names = match chain[0].target.server() {
                    "" => chain.iter().map(|p| p.target.display()).collect(),
                    server => vec![server.to_string()],
                };
                return Chain::NotStarted(names.join(", "));
            }
            for p in chain {
                if let Err(e) = write_object(cluster, p).await {
                    failed.store(true, Ordering::SeqCst);
                    return Chain::Failed(e);
                }
            }
            Chain::Written
        }))
        .buffered(AT_ONCE)
        .collect()
        .await;
    let mut errors = Vec::new();
    let mut not_started = Vec::new();
    for o in outcomes {
        match o {
            Chain::Written => {}
            Chain::NotStarted(server) => not_started.push(server),
            Chain::Failed(e) => errors.push(e),
        }
    }
    if errors.len() == 1 && not_started.is_empty() {
        return Err(errors.remove(0));
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(Error::Failed(write_failures(&errors, &not_started)))
}

/// The message of a [`write`] with several failures, or with servers (or
/// objects of no server) left unwritten after one.
fn write_failures(errors: &[Error], not_started: &[String]) -> String {
    let mut msg = if errors.len() == 1 {
        errors[0].to_string()
    } else {
        let lines: Vec<String> = errors.iter().map(Error::to_string).collect();
        format!("{} writes failed:\n  {}", errors.len(), lines.join("\n  "))
    };
    if !not_started.is_empty() {
        const NAMED: usize = 10;
        let mut names = not_started[..not_started.len().min(NAMED)].join(", ");
        if not_started.len() > NAMED {
            names.push_str(&format!(" and {} more", not_started.len() - NAMED));
        }
        msg.push_str(&format!(
            "\nafter that failure, {} more were not started (servers, or objects of no server): {names}; \
             run `mcpctl apply` again once the cause is fixed to write them",
            not_started.len()
        ));
    }
    msg
}

/// One planned write, and its `after_create` part right after it.
async fn write_object(cluster: &Cluster, p: &Planned) -> Result<()> {
    apply_retrying(cluster, &p.target, p.force, false).await?;
    if let Some(part) = &p.target.after_create {
        let t = p.target.with_obj(part.clone(), traffic::ROLLOUT_MANAGER);
        apply_retrying(cluster, &t, true, false).await?;
    }
    Ok(())
}

/// One server-side apply for real, retried like [`write`]'s; returns the
/// stored object.
pub async fn apply_one(cluster: &Cluster, t: &Target, force: bool) -> Result<Value> {
    apply_retrying(cluster, t, force, false).await
}

/// One apply, repeated on a 409 that is not a field-manager conflict (the
/// object changed between the server's read and write, e.g. a status update
/// by a controller): an apply carries no resourceVersion precondition, so
/// sending it again is safe. A field-manager conflict is never retried.
async fn apply_retrying(
    cluster: &Cluster,
    t: &Target,
    force: bool,
    dry_run: bool,
) -> Result<Value> {
    let mut tries = 0;
    loop {
        tries += 1;
        let resp = ssa(cluster, t, force, dry_run).await?;
        if resp.ok() {
            return resp.json();
        }
        if resp.status == 409 {
            let status = resp.json().unwrap_or(Value::Null);
            let list = conflicts(&status);
            if !list.is_empty() {
                return Err(conflict_error(t, &list));
            }
            if tries < 4 {
                tracing::info!("{}: {} (409); applying again", t.display(), resp.message());
                continue;
            }
        }
        return Err(apply_error(cluster, t, &resp));
    }
}

/// Creates the namespace (an AlreadyExists answer is fine: someone was quicker).
pub async fn create_namespace(cluster: &Cluster, ns: &str) -> Result<()> {
    let body = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns,
        "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER}}});
    let req = Req::new(http::Method::POST, "/api/v1/namespaces").json_body(&body);
    let resp = cluster
        .create(&req, &format!("/api/v1/namespaces/{ns}"))
        .await?;
    if resp.ok() || resp.status == 409 {
        return Ok(());
    }
    Err(cluster.api_error(&req, &resp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conflicts_from_recorded_status() {
        // Transcript 18.
        let s = json!({"kind": "Status", "status": "Failure", "reason": "Conflict", "code": 409,
            "message": "Apply failed with 1 conflict: conflict with \"mcpctl\": .spec.replicas",
            "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"mcpctl\"", "field": ".spec.replicas"}]}});
        assert_eq!(
            conflicts(&s),
            vec![("mcpctl".to_string(), ".spec.replicas".to_string())]
        );
        // Transcript 37: "conflict with \"mcpctl\" using v1".
        let s = json!({"details": {"causes": [{"reason": "FieldManagerConflict",
            "message": "conflict with \"mcpctl\" using v1", "field": ".spec.selector"}]}});
        assert_eq!(conflicts(&s)[0].0, "mcpctl");
        assert!(is_own_manager("mcpctl") && is_own_manager("mcpctl-rollout"));
        assert!(!is_own_manager("kubectl-edit") && !is_own_manager("mcpctlx"));
    }

    fn planned(
        server: &str,
        kind: &str,
        name: &str,
        change: Change,
        manager: &'static str,
    ) -> Planned {
        let res = Resource {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
            namespaced: true,
        };
        let obj = json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}});
        Planned {
            target: Target {
                obj: obj.clone(),
                res,
                ns: Some("mcp".into()),
                name: name.into(),
                manager,
                after_create: None,
                server: server.into(),
            },
            live: None,
            intended: Some(obj),
            change,
            force: false,
        }
    }

    #[test]
    fn writes_are_chained_per_server_in_plan_order_leaving_out_the_unchanged() {
        let rollout = traffic::ROLLOUT_MANAGER;
        let plan = vec![
            planned("a", "ServiceAccount", "a", Change::Created, FIELD_MANAGER),
            planned("b", "ServiceAccount", "b", Change::Unchanged, FIELD_MANAGER),
            planned("a", "Deployment", "a", Change::Created, FIELD_MANAGER),
            planned("b", "Service", "b", Change::Configured, rollout),
            planned("b", "Service", "b", Change::Configured, FIELD_MANAGER),
            planned(
                "",
                "ConfigMap",
                "dashboard",
                Change::Configured,
                FIELD_MANAGER,
            ),
            planned("c", "Service", "c", Change::Unchanged, FIELD_MANAGER),
            planned("a", "Service", "a", Change::Created, FIELD_MANAGER),
        ];
        let names: Vec<Vec<String>> = chains(&plan)
            .iter()
            .map(|c| {
                c.iter()
                    .map(|p| {
                        format!(
                            "{} {} {}",
                            p.target.server,
                            p.target.display(),
                            p.target.manager
                        )
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            names,
            vec![
                vec![
                    "a serviceaccount/a mcpctl",
                    "a deployment/a mcpctl",
                    "a service/a mcpctl"
                ],
                // The rollout part before the rest of its object.
                vec!["b service/b mcpctl-rollout", "b service/b mcpctl"],
                vec![" configmap/dashboard mcpctl"],
            ]
        );
        let unchanged = [planned(
            "c",
            "Service",
            "c",
            Change::Unchanged,
            FIELD_MANAGER,
        )];
        assert!(chains(&unchanged).is_empty());
    }

    #[test]
    fn write_failures_name_every_failed_write_and_the_servers_left_unwritten() {
        let errors = [
            Error::Failed("deployment.apps/a in mcp: answered 500".into()),
            Error::Failed("service/b in mcp: answered 503".into()),
        ];
        let many: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
        let msg = write_failures(&errors, &many);
        assert!(msg.starts_with("2 writes failed:\n  deployment.apps/a in mcp: answered 500\n  service/b in mcp: answered 503\n"), "{msg}");
        assert!(
            msg.contains("after that failure, 12 more were not started (servers, or objects of no server): s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 and 2 more; run `mcpctl apply` again"),
            "{msg}"
        );
        assert_eq!(
            write_failures(&errors[..1], &[]),
            "deployment.apps/a in mcp: answered 500"
        );
    }

    #[test]
    fn server_fields_are_ignored() {
        let live = json!({"metadata": {"name": "a", "resourceVersion": "5", "uid": "u", "generation": 2,
            "creationTimestamp": "t", "managedFields": [{"manager": "mcpctl"}],
            "annotations": {"deployment.kubernetes.io/revision": "2"}}, "spec": {"x": 1}, "status": {"y": 1}});
        let intended = json!({"metadata": {"name": "a", "resourceVersion": "5", "generation": 3,
            "managedFields": []}, "spec": {"x": 1}});
        assert_eq!(strip_server_fields(&live), strip_server_fields(&intended));
        let changed = json!({"metadata": {"name": "a"}, "spec": {"x": 2}});
        assert_ne!(strip_server_fields(&live), strip_server_fields(&changed));
    }
}
