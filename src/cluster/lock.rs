//! One `coordination.k8s.io/v1` Lease per server (`mcpctl-lock-<server>`),
//! held for the whole of a mutating operation, renewed in the background and
//! deleted (with a resourceVersion precondition) at the end.
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

pub fn lease_name(server: &str) -> String {
    format!("mcpctl-lock-{server}")
}

fn leases_path(ns: &str) -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases")
}

/// The path of the Lease of `server`.
fn lease_path(ns: &str, server: &str) -> String {
    format!("{}/{}", leases_path(ns), lease_name(server))
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
    server: &str,
    fleet: &str,
    me: &str,
    now: Timestamp,
    transitions: i64,
) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": lease_name(server),
            "namespace": ns,
            "labels": {
                "app.kubernetes.io/managed-by": "mcpctl",
                "app.kubernetes.io/name": server,
                "mcpctl.io/fleet": fleet,
                "mcpctl.io/record": "lock",
            },
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

/// The "locked" error (exit 5).
pub fn locked_error(
    server: &str,
    ns: &str,
    holder: &str,
    since: &str,
    renewed: i64,
    expires_in: i64,
) -> Error {
    Error::WithCode {
        code: exit::LOCKED,
        message: format!(
            "server {server} is locked by {holder} since {since} (Lease {ns}/{}, renewed {renewed}s ago): \
             another operation is running. Wait for it; if it died, the lock expires in {expires_in}s, \
             or take it now with --force-unlock",
            lease_name(server)
        ),
    }
}

/// Held Leases; call [`Locks::release`] when done.
pub struct Locks {
    held: Vec<Held>,
}

struct Held {
    server: String,
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
    pub async fn acquire(
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        servers: &[String],
        me: &str,
        force_unlock: bool,
    ) -> Result<Locks> {
        let mut locks = Locks { held: Vec::new() };
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

    /// Takes the locks of `servers` (in name order) into these, each as soon as it is
    /// taken: when this future is dropped half-way (a signal during acquisition), the locks
    /// already taken, and the one being taken, are still here for [`Locks::release`] to
    /// release. On an error the locks taken so far stay here too.
    pub async fn acquire_more(
        &mut self,
        cluster: &Cluster,
        ns: &str,
        fleet: &str,
        servers: &[String],
        me: &str,
        force_unlock: bool,
    ) -> Result<()> {
        let mut sorted: Vec<&String> = servers.iter().collect();
        sorted.sort();
        sorted.dedup();
        for server in sorted {
            self.held.push(Held {
                server: server.clone(),
                ns: ns.to_string(),
                rv: Arc::new(Mutex::new(String::new())),
                lost: Arc::new(Mutex::new(None)),
                renewer: None,
            });
            match acquire_one(cluster, ns, fleet, server, me, force_unlock).await {
                Ok((rv, stamped)) => {
                    let h = self.held.last_mut().expect("pushed above");
                    *h.rv.lock().unwrap() = rv;
                    h.renewer = Some(tokio::spawn(renew_loop(
                        cluster.clone(),
                        ns.to_string(),
                        server.clone(),
                        me.to_string(),
                        stamped,
                        h.rv.clone(),
                        h.lost.clone(),
                    )));
                }
                // The placeholder stays: an error after our create was stored (its answer
                // lost) leaves a Lease of ours that release reads and deletes.
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Servers held.
    pub fn servers(&self) -> Vec<String> {
        self.held.iter().map(|h| h.server.clone()).collect()
    }

    /// Adds the locks of `other` (taken later) to these.
    pub fn extend(&mut self, mut other: Locks) {
        self.held.append(&mut other.held);
    }

    /// Servers whose lock was lost while held (taken over or deleted, or not
    /// renewed within [`RENEW_DEADLINE`]), with what happened.
    pub fn lost(&self) -> Vec<(String, String)> {
        self.held
            .iter()
            .filter_map(|h| h.lost.lock().ok()?.clone().map(|m| (h.server.clone(), m)))
            .collect()
    }

    /// Resolves when a lock is lost, with the server and what happened: race
    /// the operation against it and stop writing when it resolves.
    pub async fn until_lost(&self) -> (String, String) {
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
            if let Err(e) = delete_if_mine(cluster, &h.ns, &h.server, me, &rv).await {
                tracing::warn!("could not release the lock of {}: {e}", h.server);
            }
        }
    }
}

/// The error an operation ends with when its lock of `server` was lost.
pub fn lost_error(server: &str, why: &str) -> Error {
    Error::Failed(format!(
        "the lock of server {server} was lost ({why}): stopped so that two operations never change \
         it at once. Check `mcpctl status {server}`, then run the operation again"
    ))
}

/// Takes the Lease of `server`: its resourceVersion, and when (by our monotonic clock) its
/// `renewTime` was stamped, from which the loss deadline runs.
async fn acquire_one(
    cluster: &Cluster,
    ns: &str,
    fleet: &str,
    server: &str,
    me: &str,
    force_unlock: bool,
) -> Result<(String, Instant)> {
    let path = leases_path(ns);
    let obj_path = lease_path(ns, server);
    if force_unlock {
        break_lock(cluster, ns, server).await?;
    }
    let rv_of = |v: Value| {
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for _ in 0..3 {
        let stamped = Instant::now();
        let body = lease_body(ns, server, fleet, me, cluster.now(), 0);
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
                    server,
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
                let mut body = lease_body(ns, server, fleet, me, cluster.now(), transitions);
                body["metadata"]["resourceVersion"] = json!(rv);
                let put = Req::new(Method::PUT, &obj_path).json_body(&body);
                let resp = cluster.send(&put).await?;
                if resp.ok() {
                    tracing::warn!(
                        "took over the expired lock of server {server} from {}",
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
            "server {server}: the Lease {ns}/{} keeps changing under us; another operation is taking it",
            lease_name(server)
        ),
    })
}

/// How many times `--force-unlock` reads and deletes a Lease that changes in between.
const BREAK_ATTEMPTS: usize = 3;

/// `--force-unlock`: deletes the Lease of `server` whoever holds it. The delete carries the
/// resourceVersion read, so a renewal in between makes it 409: then the Lease is read and
/// deleted again; if it still stands after [`BREAK_ATTEMPTS`], that is an error (exit 5), not
/// a broken lock.
async fn break_lock(cluster: &Cluster, ns: &str, server: &str) -> Result<()> {
    let path = lease_path(ns, server);
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
        match delete_lease(cluster, ns, server, rv).await? {
            409 => continue,
            _ => {
                // Logged as an error so that it shows even with `-q`.
                tracing::error!(
                    "WARNING: --force-unlock: broke the lock of server {server} held by {holder} \
                     (Lease {ns}/{}); if that operation is still running, both will now change the server",
                    lease_name(server)
                );
                return Ok(());
            }
        }
    }
    Err(Error::WithCode {
        code: exit::LOCKED,
        message: format!(
            "--force-unlock could not break the lock of server {server}: the Lease {ns}/{} changed \
             between each read and delete ({BREAK_ATTEMPTS} times; its holder is renewing it, or \
             the API server answered 409 Conflict) and still stands. Check who holds it with \
             `kubectl -n {ns} get lease {}`, then run the operation again",
            lease_name(server),
            lease_name(server)
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
    server: String,
    me: String,
    mut stamped: Instant,
    rv: Arc<Mutex<String>>,
    lost: Arc<Mutex<Option<String>>>,
) {
    let path = lease_path(&ns, &server);
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
                tracing::info!("renewing the lock of {server}: {why}");
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

async fn delete_lease(cluster: &Cluster, ns: &str, server: &str, rv: &str) -> Result<u16> {
    let path = lease_path(ns, server);
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
    server: &str,
    me: &str,
    rv: &str,
) -> Result<()> {
    // Without a resourceVersion the delete would be unconditional: read first.
    if !rv.is_empty() && delete_lease(cluster, ns, server, rv).await? != 409 {
        return Ok(());
    }
    // Our resourceVersion went stale (a renewal we did not see the answer of):
    // delete only if it is still ours.
    let path = lease_path(ns, server);
    let resp = cluster.send(&Req::get(&path)).await?;
    if !resp.ok() {
        return Ok(());
    }
    let lease = resp.json()?;
    if lease["spec"]["holderIdentity"].as_str() == Some(me) {
        let rv = lease["metadata"]["resourceVersion"].as_str().unwrap_or("");
        delete_lease(cluster, ns, server, rv).await?;
    }
    Ok(())
}

/// Who holds the lock of `server` now (holder, since), if anyone does:
/// by the API server's clock, a Lease past its duration holds nothing.
pub async fn holder(cluster: &Cluster, ns: &str, server: &str) -> Result<Option<(String, String)>> {
    let req = Req::get(lease_path(ns, server));
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
        let mut other = lease_body("default", "zeta", "f", "ci:job/1", Timestamp::now(), 0);
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
    fn lease_body_shape() {
        let b = lease_body(
            "mcp",
            "github",
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
        let e = locked_error(
            "github",
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
