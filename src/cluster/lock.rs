//! One `coordination.k8s.io/v1` Lease per server (`mcpctl-lock-<server>`),
//! held for the whole of a mutating operation, renewed in the background and
//! deleted (with a resourceVersion precondition) at the end; and one Lease per
//! fleet (`mcpctl-fleet-lock-<fleet>`) for fleet-wide operations.
//!
//! Taking it: create; if it exists and is live, fail fast (exit 5) naming the
//! holder; if it expired (last renewal + duration in the past), take it over
//! with a PUT carrying the resourceVersion read, so that of two racing
//! takeovers exactly one wins and the other sees 409 and reports "held".
//!
//! Times are the API server's ([`Cluster::now`]), not the local clock, so
//! that two machines whose clocks disagree still agree on expiry.
//!
//! Keeping it: renewed every [`RENEW_EVERY`]; when [`RENEW_DEADLINE`] (less
//! than the lease duration) has passed since the last renewTime known to be
//! stored was stamped (watched on a timer, so a hanging renewal cannot carry
//! the operation past it), or the Lease was taken or deleted, the lock is lost
//! and [`Locks::until_lost`] resolves, so the operation stops before anyone
//! else may take the lease over.
//!
//! # The fleet lock
//!
//! Renewing one Lease per server costs a GET and a PUT per server every
//! [`RENEW_EVERY`]: 200 requests a second for a 1,000-server apply. A
//! fleet-wide operation (more than [`FLEET_LOCK_ABOVE`] servers, or every server
//! of a fleet of two or more: [`fleet_wide`]) takes the fleet's Lease instead
//! and renews only it, so its lock traffic per renewal is constant. Operations
//! on a few servers keep their per-server Leases and also respect the fleet
//! Lease. The two kinds race; the protocol that keeps them apart:
//!
//! 1. each side first takes its own Lease(s) (create, or take over an expired one);
//! 2. then reads the other side, with one request: a fleet operation LISTs the
//!    fleet's server Leases (label `mcpctl.io/record=lock,mcpctl.io/fleet=<fleet>`),
//!    a server operation GETs the fleet Lease;
//! 3. if it sees a live Lease of someone else, it releases its own and fails
//!    with exit 5, naming that holder.
//!
//! Both reads are quorum reads (no `resourceVersion`, so the API server reads
//! etcd, not its cache) and the store is linearizable: if the fleet
//! operation's LIST did not see the server Lease, the LIST came before the
//! server Lease was written, hence before the server operation's GET, which
//! then sees the fleet Lease written before that LIST. So of two racing
//! operations at least one backs off (both may, and then both exit 5 and
//! are retried; neither ever writes while the other holds its lock).
//! A Lease held by this very process (same holder identity) is not a conflict.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Method;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::client::{Cluster, Req};
use crate::error::{Error, Result, exit};

/// Lease duration written into the Lease.
pub const LEASE_SECONDS: i64 = 30;
/// How often a held Lease is renewed (a third of its duration).
pub const RENEW_EVERY: Duration = Duration::from_secs(LEASE_SECONDS as u64 / 3);
/// How soon a failed renewal is tried again.
const RENEW_RETRY: Duration = Duration::from_secs(2);
/// The longest one renewal may take, retries included.
const RENEW_ATTEMPT: Duration = Duration::from_secs(5);
/// Without a successful renewal for this long the lock counts as lost: the
/// operation stops a third of the lease duration before the Lease expires
/// and may be taken over.
pub const RENEW_DEADLINE: Duration = Duration::from_secs(LEASE_SECONDS as u64 * 2 / 3);

/// Above this many servers an operation takes the fleet Lease instead of one Lease per server.
pub const FLEET_LOCK_ABOVE: usize = 10;

/// Whether an operation that locks `servers` servers of a fleet of `fleet_size` takes the
/// fleet Lease: more than [`FLEET_LOCK_ABOVE`] of them, or the whole fleet (of two or more).
pub fn fleet_wide(servers: usize, fleet_size: usize) -> bool {
    servers > FLEET_LOCK_ABOVE || (servers > 1 && servers >= fleet_size)
}

pub fn lease_name(server: &str) -> String {
    format!("mcpctl-lock-{server}")
}

/// The fleet Lease's name: it never equals a server's (`mcpctl-lock-` never starts it).
pub fn fleet_lease_name(fleet: &str) -> String {
    format!("mcpctl-fleet-lock-{fleet}")
}

/// What one Lease locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Server(String),
    Fleet(String),
}

impl Scope {
    pub fn lease_name(&self) -> String {
        match self {
            Scope::Server(s) => lease_name(s),
            Scope::Fleet(f) => fleet_lease_name(f),
        }
    }

    /// The `mcpctl.io/record` label of its Lease (what `status` and the fleet side list by).
    fn record(&self) -> &'static str {
        match self {
            Scope::Server(_) => "lock",
            Scope::Fleet(_) => "fleet-lock",
        }
    }

    /// The `mcpctl status` command that shows it.
    fn status_command(&self) -> String {
        match self {
            Scope::Server(s) => format!("mcpctl status {s}"),
            Scope::Fleet(_) => "mcpctl status".into(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Server(s) => write!(f, "server {s}"),
            Scope::Fleet(x) => write!(f, "fleet {x}"),
        }
    }
}

fn leases_path(ns: &str) -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases")
}

/// The path of the Lease of `scope`.
fn lease_path(ns: &str, scope: &Scope) -> String {
    format!("{}/{}", leases_path(ns), scope.lease_name())
}

/// A MicroTime: RFC 3339 in UTC with exactly six fractional digits (the API
/// server rejects both none and nine, transcripts 55 and 56).
pub fn micro_time(ts: Timestamp) -> String {
    format!(
        "{}.{:06}Z",
        ts.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.subsec_microsecond()
    )
}

pub fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse::<Timestamp>().ok()
}

/// What an existing Lease means for someone who wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Ours already (our create was retried after a lost answer).
    Mine,
    /// Held and live.
    Held {
        holder: String,
        since: String,
        renewed_secs_ago: i64,
        expires_in: i64,
    },
    /// Nobody renewed it in time (or it has no holder): may be taken over.
    Expired { holder: String },
}

/// Decides from a Lease object. The lease is live while
/// `renewTime (or acquireTime) + leaseDurationSeconds > now`.
pub fn decide(lease: &Value, now: Timestamp, me: &str) -> Decision {
    let spec = &lease["spec"];
    let holder = spec["holderIdentity"].as_str().unwrap_or("").to_string();
    if holder.is_empty() {
        return Decision::Expired { holder };
    }
    if holder == me {
        return Decision::Mine;
    }
    let duration = spec["leaseDurationSeconds"]
        .as_i64()
        .unwrap_or(LEASE_SECONDS);
    let renewed = spec["renewTime"]
        .as_str()
        .or(spec["acquireTime"].as_str())
        .and_then(parse_time);
    let Some(renewed) = renewed else {
        return Decision::Expired { holder };
    };
    let age = now.duration_since(renewed).as_secs();
    if age >= duration {
        return Decision::Expired { holder };
    }
    let since = spec["acquireTime"].as_str().unwrap_or("").to_string();
    Decision::Held {
        holder,
        since,
        renewed_secs_ago: age.max(0),
        expires_in: duration - age,
    }
}

fn lease_body(
    ns: &str,
    scope: &Scope,
    fleet: &str,
    me: &str,
    now: Timestamp,
    transitions: i64,
) -> Value {
    let mut labels = json!({
        "app.kubernetes.io/managed-by": "mcpctl",
        "mcpctl.io/fleet": fleet,
        "mcpctl.io/record": scope.record(),
    });
    if let Scope::Server(server) = scope {
        labels["app.kubernetes.io/name"] = json!(server);
    }
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": scope.lease_name(),
            "namespace": ns,
            "labels": labels,
        },
        "spec": {
            "holderIdentity": me,
            "leaseDurationSeconds": LEASE_SECONDS,
            "acquireTime": micro_time(now),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        }
    })
}

/// The "locked" error (exit 5): `wanted` could not be locked because the Lease of `held`
/// is live (the same scope, or the other side of the fleet lock).
pub fn locked_error(
    wanted: &Scope,
    held: &Scope,
    ns: &str,
    holder: &str,
    since: &str,
    renewed: i64,
    expires_in: i64,
) -> Error {
    let what = match (wanted, held) {
        (w, h) if w == h => format!("{w} is locked"),
        (w @ Scope::Server(_), h @ Scope::Fleet(_)) => {
            format!("{w} is locked: a fleet-wide operation holds the lock of {h}, taken")
        }
        (w, h) => format!("{w} cannot be locked as a whole: {h} is locked"),
    };
    Error::WithCode {
        code: exit::LOCKED,
        message: format!(
            "{what} by {holder} since {since} (Lease {ns}/{}, renewed {renewed}s ago): \
             another operation is running. Wait for it; if it died, the lock expires in {expires_in}s, \
             or take it now with --force-unlock",
            held.lease_name()
        ),
    }
}

/// Held Leases; call [`Locks::release`] when done.
pub struct Locks {
    held: Vec<Held>,
    /// Holds the fleet Lease, which covers every server of the fleet.
    fleet_wide: bool,
}

struct Held {
    scope: Scope,
    ns: String,
    rv: Arc<Mutex<String>>,
    lost: Arc<Mutex<Option<String>>>,
    /// `None` while the Lease is being taken: the create may have been stored even if its
    /// answer never came, so releasing it reads the Lease and deletes it if it is ours.
    renewer: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Held {
    /// A renewer never outlives its lock, however the lock went away (an acquisition
    /// cancelled half-way included).
    fn drop(&mut self) {
        if let Some(r) = &self.renewer {
            r.abort();
        }
    }
}

impl Locks {
    /// Takes the lock of every server (in name order), or none: on the first
    /// held one the ones already taken are released and exit 5 is returned.
    /// Then checks the fleet Lease (see the module's protocol): a live one held by
    /// someone else releases them too, with exit 5.
    pub async fn acquire(
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        servers: &[String],
        me: &str,
        force_unlock: bool,
    ) -> Result<Locks> {
        let mut locks = Locks {
            held: Vec::new(),
            fleet_wide: false,
        };
        match locks
            .acquire_more(cluster, ns, fleet, servers, me, force_unlock)
            .await
        {
            Ok(()) => Ok(locks),
            Err(e) => {
                locks.release(cluster, me).await;
                Err(e)
            }
        }
    }

    /// Takes the fleet Lease when locking `servers` of a fleet of `fleet_size` is
    /// [`fleet_wide`], else the Lease of each server: what an operation on several
    /// servers calls.
    #[allow(clippy::too_many_arguments)]
    pub async fn acquire_for(
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        servers: &[String],
        fleet_size: usize,
        me: &str,
        force_unlock: bool,
    ) -> Result<Locks> {
        if fleet_wide(servers.len(), fleet_size) {
            Locks::acquire_fleet(cluster, ns, fleet, me, force_unlock).await
        } else {
            Locks::acquire(cluster, ns, fleet, servers, me, force_unlock).await
        }
    }

    /// Takes the fleet Lease for a fleet-wide operation, then LISTs the fleet's server
    /// Leases once: a live one held by someone else releases the fleet Lease and fails
    /// with exit 5 naming it (`force_unlock` breaks it instead, loudly).
    pub async fn acquire_fleet(
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        me: &str,
        force_unlock: bool,
    ) -> Result<Locks> {
        let (locks, mut busy) =
            Locks::acquire_fleet_around(cluster, ns, fleet, me, force_unlock).await?;
        if busy.is_empty() {
            return Ok(locks);
        }
        locks.release(cluster, me).await;
        Err(busy.remove(0).1)
    }

    /// Takes the fleet Lease like [`Locks::acquire_fleet`], but keeps it when some servers
    /// are locked by others: returns those servers with their "locked" errors, which the
    /// operation must leave alone (`reconcile` goes on with the others).
    pub async fn acquire_fleet_around(
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        me: &str,
        force_unlock: bool,
    ) -> Result<(Locks, Vec<(String, Error)>)> {
        let mut locks = Locks {
            held: Vec::new(),
            fleet_wide: true,
        };
        let scope = Scope::Fleet(fleet.to_string());
        let taken = async {
            locks
                .take(cluster, ns, fleet, scope.clone(), me, force_unlock)
                .await?;
            locked_servers(cluster, ns, fleet, &scope, me, force_unlock).await
        }
        .await;
        match taken {
            Ok(busy) => Ok((locks, busy)),
            Err(e) => {
                locks.release(cluster, me).await;
                Err(e)
            }
        }
    }

    /// Whether these locks include the fleet Lease.
    pub fn is_fleet_wide(&self) -> bool {
        self.fleet_wide
    }

    /// Takes the locks of `servers` (in name order) into these, each as soon as it is
    /// taken: when this future is dropped half-way (a signal during acquisition), the locks
    /// already taken, and the one being taken, are still here for [`Locks::release`] to
    /// release. On an error the locks taken so far stay here too. With the fleet Lease
    /// held, there is nothing more to take: it covers every server.
    pub async fn acquire_more(
        &mut self,
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        servers: &[String],
        me: &str,
        force_unlock: bool,
    ) -> Result<()> {
        if self.fleet_wide {
            return Ok(());
        }
        let mut sorted: Vec<&String> = servers.iter().collect();
        sorted.sort();
        sorted.dedup();
        for server in &sorted {
            let scope = Scope::Server((*server).clone());
            self.take(cluster, ns, fleet, scope, me, force_unlock)
                .await?;
        }
        if sorted.is_empty() {
            return Ok(());
        }
        // Our server Leases are written: now one read of the fleet Lease.
        let wanted = Scope::Server(sorted[0].clone());
        check_fleet_free(cluster, ns, fleet, &wanted, me, force_unlock).await
    }

    /// Takes the Lease of `scope` into these and starts renewing it.
    async fn take(
        &mut self,
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        scope: Scope,
        me: &str,
        force_unlock: bool,
    ) -> Result<()> {
        self.held.push(Held {
            scope: scope.clone(),
            ns: ns.to_string(),
            rv: Arc::new(Mutex::new(String::new())),
            lost: Arc::new(Mutex::new(None)),
            renewer: None,
        });
        // On an error the placeholder stays: an error after our create was stored (its
        // answer lost) leaves a Lease of ours that release reads and deletes.
        let (rv, stamped) = acquire_one(cluster, ns, fleet, &scope, me, force_unlock).await?;
        let h = self.held.last_mut().expect("pushed above");
        *h.rv.lock().unwrap() = rv;
        h.renewer = Some(tokio::spawn(renew_loop(
            cluster.clone(),
            ns.to_string(),
            scope,
            me.to_string(),
            stamped,
            h.rv.clone(),
            h.lost.clone(),
        )));
        Ok(())
    }

    /// Servers held by their own Lease (none when the fleet Lease is held).
    pub fn servers(&self) -> Vec<String> {
        self.held
            .iter()
            .filter_map(|h| match &h.scope {
                Scope::Server(s) => Some(s.clone()),
                Scope::Fleet(_) => None,
            })
            .collect()
    }

    /// Adds the locks of `other` (taken later) to these.
    pub fn extend(&mut self, mut other: Locks) {
        self.fleet_wide |= other.fleet_wide;
        self.held.append(&mut other.held);
    }

    /// Locks lost while held (taken over or deleted, or not renewed within
    /// [`RENEW_DEADLINE`]), with what happened.
    pub fn lost(&self) -> Vec<(Scope, String)> {
        self.held
            .iter()
            .filter_map(|h| h.lost.lock().ok()?.clone().map(|m| (h.scope.clone(), m)))
            .collect()
    }

    /// Resolves when a lock is lost, with what it locked and what happened: race
    /// the operation against it and stop writing when it resolves.
    pub async fn until_lost(&self) -> (Scope, String) {
        loop {
            if let Some(l) = self.lost().into_iter().next() {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops renewing and deletes the Leases. Failures are logged, not fatal:
    /// an undeleted Lease expires by itself.
    pub async fn release(mut self, cluster: &Cluster, me: &str) {
        for mut h in self.held.drain(..) {
            if let Some(r) = h.renewer.take() {
                r.abort();
                let _ = r.await;
            }
            let rv = h.rv.lock().map(|g| g.clone()).unwrap_or_default();
            if let Err(e) = delete_if_mine(cluster, &h.ns, &h.scope, me, &rv).await {
                tracing::warn!("could not release the lock of {}: {e}", h.scope);
            }
        }
    }
}

/// The server side of the protocol: one GET of the fleet Lease after our server Leases
/// were written. A live one of someone else is exit 5 (or, with `force_unlock`, broken).
async fn check_fleet_free(
    cluster: &Cluster,
    ns: &str,
    fleet: &str,
    wanted: &Scope,
    me: &str,
    force_unlock: bool,
) -> Result<()> {
    let scope = Scope::Fleet(fleet.to_string());
    let req = Req::get(lease_path(ns, &scope));
    let resp = cluster.send(&req).await?;
    if resp.status == 404 {
        return Ok(());
    }
    if !resp.ok() {
        return Err(cluster.api_error(&req, &resp));
    }
    refuse_if_held(cluster, ns, wanted, &scope, &resp.json()?, me, force_unlock).await
}

/// The fleet side of the protocol: one LIST of the fleet's server Leases after the fleet
/// Lease was written. Returns the servers whose Lease is live and someone else's, each with
/// its exit-5 error (with `force_unlock` they are broken instead).
async fn locked_servers(
    cluster: &Cluster,
    ns: &str,
    fleet: &str,
    wanted: &Scope,
    me: &str,
    force_unlock: bool,
) -> Result<Vec<(String, Error)>> {
    let selector = format!("mcpctl.io/record=lock,mcpctl.io/fleet={fleet}");
    let leases = cluster.list(&leases_path(ns), Some(&selector)).await?;
    let mut busy = Vec::new();
    for lease in &leases {
        // The server is in the Lease's name (its label may be missing on a hand-made one).
        let Some(server) = lease["metadata"]["name"]
            .as_str()
            .and_then(|n| n.strip_prefix("mcpctl-lock-"))
        else {
            continue;
        };
        let held = Scope::Server(server.to_string());
        if let Err(e) = refuse_if_held(cluster, ns, wanted, &held, lease, me, force_unlock).await {
            if e.exit_code() != exit::LOCKED {
                return Err(e);
            }
            busy.push((server.to_string(), e));
        }
    }
    Ok(busy)
}

/// Exit 5 when `lease` (the lock of `held`) is live and not ours; with `force_unlock` it is
/// broken instead.
async fn refuse_if_held(
    cluster: &Cluster,
    ns: &str,
    wanted: &Scope,
    held: &Scope,
    lease: &Value,
    me: &str,
    force_unlock: bool,
) -> Result<()> {
    match decide(lease, cluster.now(), me) {
        Decision::Held {
            holder,
            since,
            renewed_secs_ago,
            expires_in,
        } => {
            if force_unlock {
                return break_lock(cluster, ns, held).await;
            }
            Err(locked_error(
                wanted,
                held,
                ns,
                &holder,
                &since,
                renewed_secs_ago,
                expires_in,
            ))
        }
        Decision::Mine | Decision::Expired { .. } => Ok(()),
    }
}

/// The error an operation ends with when its lock of `scope` was lost.
pub fn lost_error(scope: &Scope, why: &str) -> Error {
    Error::Failed(format!(
        "the lock of {scope} was lost ({why}): stopped so that two operations never change \
         it at once. Check `{}`, then run the operation again",
        scope.status_command()
    ))
}

/// Takes the Lease of `scope`: its resourceVersion, and when (by our monotonic clock) its
/// `renewTime` was stamped, from which the loss deadline runs.
async fn acquire_one(
    cluster: &Cluster,
    ns: &str,
    fleet: &str,
    scope: &Scope,
    me: &str,
    force_unlock: bool,
) -> Result<(String, Instant)> {
    let path = leases_path(ns);
    let obj_path = lease_path(ns, scope);
    if force_unlock {
        break_lock(cluster, ns, scope).await?;
    }
    let rv_of = |v: Value| {
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for _ in 0..3 {
        let stamped = Instant::now();
        let body = lease_body(ns, scope, fleet, me, cluster.now(), 0);
        let req = Req::new(Method::POST, &path).json_body(&body);
        // A lost answer is read back, not sent again: a 409 then reads the
        // Lease and finds it ours (Decision::Mine).
        let resp = cluster.create(&req, &obj_path).await?;
        if resp.ok() {
            return Ok((rv_of(resp.json()?), stamped));
        }
        if resp.status != 409 {
            return Err(cluster.api_error(&req, &resp));
        }
        // It exists: read it and decide.
        let get = cluster.send(&Req::get(&obj_path)).await?;
        if get.status == 404 {
            continue; // released in between: try to create again
        }
        if !get.ok() {
            return Err(cluster.api_error(&Req::get(&obj_path), &get));
        }
        let lease = get.json()?;
        let rv = rv_of(lease.clone());
        match decide(&lease, cluster.now(), me) {
            // Our create was stored but its answer lost: renewTime is what we stamped.
            Decision::Mine => return Ok((rv, stamped)),
            Decision::Held {
                holder,
                since,
                renewed_secs_ago,
                expires_in,
            } => {
                return Err(locked_error(
                    scope,
                    scope,
                    ns,
                    &holder,
                    &since,
                    renewed_secs_ago,
                    expires_in,
                ));
            }
            Decision::Expired { holder } => {
                let transitions = lease["spec"]["leaseTransitions"].as_i64().unwrap_or(0) + 1;
                let stamped = Instant::now();
                let mut body = lease_body(ns, scope, fleet, me, cluster.now(), transitions);
                body["metadata"]["resourceVersion"] = json!(rv);
                let put = Req::new(Method::PUT, &obj_path).json_body(&body);
                let resp = cluster.send(&put).await?;
                if resp.ok() {
                    tracing::warn!(
                        "took over the expired lock of {scope} from {}",
                        if holder.is_empty() { "nobody" } else { &holder }
                    );
                    return Ok((rv_of(resp.json()?), stamped));
                }
                if resp.status == 409 {
                    // Someone else took it over first: it is held now.
                    continue;
                }
                return Err(cluster.api_error(&put, &resp));
            }
        }
    }
    Err(Error::WithCode {
        code: exit::LOCKED,
        message: format!(
            "{scope}: the Lease {ns}/{} keeps changing under us; another operation is taking it",
            scope.lease_name()
        ),
    })
}

/// How many times `--force-unlock` reads and deletes a Lease that changes in between.
const BREAK_ATTEMPTS: usize = 3;

/// `--force-unlock`: deletes the Lease of `scope` whoever holds it. The delete carries the
/// resourceVersion read, so a renewal in between makes it 409: then the Lease is read and
/// deleted again; if it still stands after [`BREAK_ATTEMPTS`], that is an error (exit 5), not
/// a broken lock.
async fn break_lock(cluster: &Cluster, ns: &str, scope: &Scope) -> Result<()> {
    let path = lease_path(ns, scope);
    for _ in 0..BREAK_ATTEMPTS {
        let resp = cluster.send(&Req::get(&path)).await?;
        if resp.status == 404 {
            return Ok(());
        }
        if !resp.ok() {
            return Err(cluster.api_error(&Req::get(&path), &resp));
        }
        let lease = resp.json()?;
        let holder = lease["spec"]["holderIdentity"].as_str().unwrap_or("nobody");
        let rv = lease["metadata"]["resourceVersion"].as_str().unwrap_or("");
        match delete_lease(cluster, ns, scope, rv).await? {
            409 => continue,
            _ => {
                // Logged as an error so that it shows even with `-q`.
                tracing::error!(
                    "WARNING: --force-unlock: broke the lock of {scope} held by {holder} \
                     (Lease {ns}/{}); if that operation is still running, both will now change the same servers",
                    scope.lease_name()
                );
                return Ok(());
            }
        }
    }
    Err(Error::WithCode {
        code: exit::LOCKED,
        message: format!(
            "--force-unlock could not break the lock of {scope}: the Lease {ns}/{} changed \
             between each read and delete ({BREAK_ATTEMPTS} times; its holder is renewing it, or \
             the API server answered 409 Conflict) and still stands. Check who holds it with \
             `kubectl -n {ns} get lease {}`, then run the operation again",
            scope.lease_name(),
            scope.lease_name()
        ),
    })
}

/// What one renewal found.
enum Renewal {
    /// Renewed: the Lease's new resourceVersion, and when its renewTime was stamped.
    Renewed(String, Instant),
    /// Not ours any more: why.
    Lost(String),
    /// Could not tell (no answer, an error): why.
    Failed(String),
}

/// When the lock counts as lost: [`RENEW_DEADLINE`] after the last renewTime that is known
/// to be stored was stamped (not after its answer came: a slow answer does not move the
/// Lease's expiry).
pub fn loss_deadline(stamped: Instant) -> Instant {
    stamped + RENEW_DEADLINE
}

async fn renew_loop(
    cluster: Cluster,
    ns: String,
    scope: Scope,
    me: String,
    mut stamped: Instant,
    rv: Arc<Mutex<String>>,
    lost: Arc<Mutex<Option<String>>>,
) {
    let path = lease_path(&ns, &scope);
    let mut pause = RENEW_EVERY;
    let mut last_failure = String::from("the renewal sent has not been answered");
    loop {
        let deadline = loss_deadline(stamped);
        let attempt = async {
            tokio::time::sleep(pause).await;
            tokio::time::timeout(RENEW_ATTEMPT, renew_once(&cluster, &path, &me))
                .await
                .unwrap_or_else(|_| {
                    Renewal::Failed(format!("no answer within {}s", RENEW_ATTEMPT.as_secs()))
                })
        };
        // The deadline is watched on its own timer, not only after a failed attempt: a
        // renewal that hangs must not carry the operation past it.
        let outcome = tokio::select! {
            o = attempt => o,
            _ = tokio::time::sleep_until(deadline.into()) => {
                *lost.lock().unwrap() = Some(format!(
                    "not renewed for {}s, it may expire and be taken over: {last_failure}",
                    RENEW_DEADLINE.as_secs()
                ));
                return;
            }
        };
        match outcome {
            Renewal::Renewed(new_rv, at) => {
                stamped = at;
                last_failure = String::from("the renewal sent has not been answered");
                pause = RENEW_EVERY;
                if !new_rv.is_empty() {
                    *rv.lock().unwrap() = new_rv;
                }
            }
            Renewal::Lost(why) => {
                *lost.lock().unwrap() = Some(why);
                return;
            }
            Renewal::Failed(why) => {
                tracing::info!("renewing the lock of {scope}: {why}");
                last_failure = why;
                pause = RENEW_RETRY;
            }
        }
    }
}

/// Reads the Lease, checks it is still ours, writes it back with a new
/// renewTime and the resourceVersion read.
async fn renew_once(cluster: &Cluster, path: &str, me: &str) -> Renewal {
    let lease = match cluster.send(&Req::get(path)).await {
        Ok(r) if r.ok() => match r.json() {
            Ok(v) => v,
            Err(e) => return Renewal::Failed(e.to_string()),
        },
        Ok(r) if r.status == 404 => {
            return Renewal::Lost("the Lease was deleted (--force-unlock?)".into());
        }
        Ok(r) => return Renewal::Failed(format!("{}: {}", r.status, r.message())),
        Err(e) => return Renewal::Failed(e.to_string()),
    };
    if lease["spec"]["holderIdentity"].as_str() != Some(me) {
        return Renewal::Lost(format!(
            "it was taken over by {}",
            lease["spec"]["holderIdentity"].as_str().unwrap_or("?")
        ));
    }
    let mut body = lease.clone();
    let stamped = Instant::now();
    body["spec"]["renewTime"] = json!(micro_time(cluster.now()));
    if let Some(obj) = body["metadata"].as_object_mut() {
        obj.remove("managedFields");
    }
    match cluster
        .send(&Req::new(Method::PUT, path).json_body(&body))
        .await
    {
        Ok(r) if r.ok() => Renewal::Renewed(
            r.json()
                .ok()
                .and_then(|v| {
                    v["metadata"]["resourceVersion"]
                        .as_str()
                        .map(str::to_string)
                })
                .unwrap_or_default(),
            stamped,
        ),
        // 409: changed since the read; the next read tells whether it is still ours.
        Ok(r) => Renewal::Failed(format!("{}: {}", r.status, r.message())),
        Err(e) => Renewal::Failed(e.to_string()),
    }
}

async fn delete_lease(cluster: &Cluster, ns: &str, scope: &Scope, rv: &str) -> Result<u16> {
    let path = lease_path(ns, scope);
    let mut opts = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
    if !rv.is_empty() {
        opts["preconditions"] = json!({"resourceVersion": rv});
    }
    let req = Req::new(Method::DELETE, &path).json_body(&opts);
    let resp = cluster.send(&req).await?;
    if resp.ok() || resp.status == 404 || resp.status == 409 {
        return Ok(resp.status);
    }
    Err(cluster.api_error(&req, &resp))
}

async fn delete_if_mine(
    cluster: &Cluster,
    ns: &str,
    scope: &Scope,
    me: &str,
    rv: &str,
) -> Result<()> {
    // Without a resourceVersion the delete would be unconditional: read first.
    if !rv.is_empty() && delete_lease(cluster, ns, scope, rv).await? != 409 {
        return Ok(());
    }
    // Our resourceVersion went stale (a renewal we did not see the answer of):
    // delete only if it is still ours.
    let path = lease_path(ns, scope);
    let resp = cluster.send(&Req::get(&path)).await?;
    if !resp.ok() {
        return Ok(());
    }
    let lease = resp.json()?;
    if lease["spec"]["holderIdentity"].as_str() == Some(me) {
        let rv = lease["metadata"]["resourceVersion"].as_str().unwrap_or("");
        delete_lease(cluster, ns, scope, rv).await?;
    }
    Ok(())
}

/// Who holds the lock of `server` now (holder, since), if anyone does:
/// by the API server's clock, a Lease past its duration holds nothing.
pub async fn holder(cluster: &Cluster, ns: &str, server: &str) -> Result<Option<(String, String)>> {
    let req = Req::get(lease_path(ns, &Scope::Server(server.to_string())));
    let resp = cluster.send(&req).await?;
    if resp.status == 404 {
        return Ok(None);
    }
    if !resp.ok() {
        return Err(cluster.api_error(&req, &resp));
    }
    Ok(live_holder(&resp.json()?, cluster.now()))
}

/// Summary of a Lease for `status`: holder and acquire time, if live.
pub fn live_holder(lease: &Value, now: Timestamp) -> Option<(String, String)> {
    match decide(lease, now, "") {
        Decision::Held { holder, since, .. } => Some((holder, since)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn micro_time_has_exactly_six_digits() {
        assert_eq!(
            micro_time(ts("2026-11-21T05:57:18Z")),
            "2026-11-21T05:57:18.000000Z"
        );
        assert_eq!(
            micro_time(ts("2026-11-21T05:57:18.123456789Z")),
            "2026-11-21T05:57:18.123456Z"
        );
        assert_eq!(
            micro_time(ts("2026-11-21T05:57:18.5+02:00")),
            "2026-11-21T03:57:18.500000Z"
        );
    }

    fn lease(holder: &str, renew: &str, dur: i64) -> Value {
        json!({"spec": {"holderIdentity": holder, "leaseDurationSeconds": dur,
            "acquireTime": "2026-11-21T05:00:00.000000Z", "renewTime": renew}})
    }

    #[test]
    fn live_lease_is_held() {
        let now = ts("2026-11-21T05:00:20Z");
        let d = decide(
            &lease("ci:job/1", "2026-11-21T05:00:10.000000Z", 30),
            now,
            "me",
        );
        assert_eq!(
            d,
            Decision::Held {
                holder: "ci:job/1".into(),
                since: "2026-11-21T05:00:00.000000Z".into(),
                renewed_secs_ago: 10,
                expires_in: 20
            }
        );
    }

    #[test]
    fn expired_lease_may_be_taken_over() {
        let now = ts("2026-11-21T05:00:41Z");
        let d = decide(
            &lease("ci:job/1", "2026-11-21T05:00:10.000000Z", 30),
            now,
            "me",
        );
        assert_eq!(
            d,
            Decision::Expired {
                holder: "ci:job/1".into()
            }
        );
        // Exactly at the boundary it is expired.
        let now = ts("2026-11-21T05:00:40Z");
        assert!(matches!(
            decide(&lease("x", "2026-11-21T05:00:10.000000Z", 30), now, "me"),
            Decision::Expired { .. }
        ));
    }

    #[test]
    fn own_or_empty_lease() {
        let now = ts("2026-11-21T05:00:20Z");
        assert_eq!(
            decide(&lease("me", "2026-11-21T05:00:10.000000Z", 30), now, "me"),
            Decision::Mine
        );
        assert!(matches!(
            decide(&lease("", "2026-11-21T05:00:10.000000Z", 30), now, "me"),
            Decision::Expired { .. }
        ));
        assert!(matches!(
            decide(&json!({"spec": {"holderIdentity": "x"}}), now, "me"),
            Decision::Expired { .. }
        ));
    }

    /// A signal during acquisition drops the acquiring future (apply's `select!`): the
    /// locks it had taken must still be released, their renewers stopped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn locks_taken_by_a_cancelled_acquisition_are_released() {
        use test_apiserver::{Fault, FaultAction, Gate, Method as M};
        let srv = test_apiserver::ApiServer::builder().start().await;
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        srv.write_kubeconfig(&kc, "test", "default");
        let cluster = super::super::client::connect(&super::super::client::ConnectOptions {
            kubeconfig: Some(kc),
            context: None,
        })
        .await
        .unwrap();
        let path = |s: &str| format!("{}/{}", leases_path("default"), lease_name(s));
        // zeta is held by someone else, and reading its Lease hangs until the gate opens.
        let zeta = Scope::Server("zeta".into());
        let mut other = lease_body("default", &zeta, "f", "ci:job/1", Timestamp::now(), 0);
        other["spec"]["renewTime"] = json!(micro_time(Timestamp::now()));
        srv.put_object(other);
        let gate = Gate::new();
        srv.inject(Fault::new(
            Some(M::GET),
            "/leases/mcpctl-lock-zeta",
            1,
            FaultAction::Hold(gate.clone()),
        ));
        let mut locks = Locks::acquire(&cluster, "default", "f", &["alpha".into()], "me", false)
            .await
            .unwrap();
        let servers: Vec<String> = vec!["beta".into(), "zeta".into()];
        {
            let more = locks.acquire_more(&cluster, "default", "f", &servers, "me", false);
            let held = async {
                while gate.arrived() == 0 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            };
            tokio::select! {
                r = more => panic!("acquisition ended though zeta's read is held: {:?}", r.err()),
                _ = held => {}
            }
        }
        assert!(srv.get(&path("beta")).is_some(), "beta was taken first");
        locks.release(&cluster, "me").await;
        assert!(srv.get(&path("alpha")).is_none(), "alpha not released");
        assert!(srv.get(&path("beta")).is_none(), "beta leaked");
        assert_eq!(
            srv.get(&path("zeta")).unwrap()["spec"]["holderIdentity"],
            "ci:job/1",
            "someone else's lock was touched"
        );
        gate.open();
    }

    #[test]
    fn fleet_wide_above_the_threshold_or_for_the_whole_fleet() {
        assert!(
            !fleet_wide(1, 1),
            "a one-server fleet keeps its server Lease"
        );
        assert!(!fleet_wide(1, 1000));
        assert!(!fleet_wide(FLEET_LOCK_ABOVE, 1000));
        assert!(fleet_wide(FLEET_LOCK_ABOVE + 1, 1000));
        assert!(fleet_wide(2, 2), "every server of the fleet");
        assert!(!fleet_wide(2, 3));
        assert!(!fleet_wide(0, 0));
    }

    #[test]
    fn the_fleet_lease_never_shares_a_name_with_a_server_lease() {
        // A server may be called `fleet-acme`: its Lease is still not the fleet's.
        assert_eq!(fleet_lease_name("acme"), "mcpctl-fleet-lock-acme");
        assert_eq!(lease_name("fleet-acme"), "mcpctl-lock-fleet-acme");
        let b = lease_body(
            "mcp",
            &Scope::Fleet("acme".into()),
            "acme",
            "me",
            ts("2026-11-21T05:00:00Z"),
            0,
        );
        assert_eq!(b["metadata"]["labels"]["mcpctl.io/record"], "fleet-lock");
        assert!(
            b["metadata"]["labels"]
                .get("app.kubernetes.io/name")
                .is_none()
        );
    }

    #[test]
    fn locked_errors_across_the_fleet_lock_name_both_sides() {
        let github = Scope::Server("github".into());
        let fleet = Scope::Fleet("acme".into());
        let e = locked_error(&github, &fleet, "mcp", "ci:1", "t0", 2, 28).to_string();
        assert!(
            e.starts_with("server github is locked: a fleet-wide operation holds the lock of fleet acme, taken by ci:1 since t0 (Lease mcp/mcpctl-fleet-lock-acme"),
            "{e}"
        );
        let e = locked_error(&fleet, &github, "mcp", "ci:2", "t1", 2, 28);
        assert_eq!(e.exit_code(), 5);
        assert!(
            e.to_string().starts_with(
                "fleet acme cannot be locked as a whole: server github is locked by ci:2 since t1 (Lease mcp/mcpctl-lock-github"
            ),
            "{e}"
        );
    }

    #[test]
    fn lease_body_shape() {
        let b = lease_body(
            "mcp",
            &Scope::Server("github".into()),
            "acme",
            "u@h/1",
            ts("2026-11-21T05:00:00Z"),
            2,
        );
        assert_eq!(b["metadata"]["name"], "mcpctl-lock-github");
        assert_eq!(b["spec"]["renewTime"], "2026-11-21T05:00:00.000000Z");
        assert_eq!(b["spec"]["leaseTransitions"], 2);
        assert_eq!(b["spec"]["leaseDurationSeconds"], 30);
    }

    #[test]
    fn locked_error_exits_5_and_names_the_holder() {
        let github = Scope::Server("github".into());
        let e = locked_error(
            &github,
            &github,
            "mcp",
            "ana@lap/12",
            "2026-11-21T05:00:00.000000Z",
            3,
            27,
        );
        assert_eq!(e.exit_code(), 5);
        let m = e.to_string();
        assert!(
            m.contains("locked by ana@lap/12 since 2026-11-21T05:00:00.000000Z"),
            "{m}"
        );
        assert!(m.contains("--force-unlock"), "{m}");
    }
}
