//! The journal kept in the cluster, like Helm's release records.
//!
//! - One ConfigMap per revision and server, `mcpctl.rev.<fleet>.<server>.v<N>`
//!   (labels `mcpctl.io/record=revision`, `app.kubernetes.io/name=<server>`,
//!   `mcpctl.io/revision=<N>`): who, when, image, strategy, outcome, and the
//!   rendered objects (gzip, in `binaryData`) needed to roll back to it. At most
//!   [`KEEP`] per server; the oldest are deleted.
//! - One state ConfigMap per server, `mcpctl.state.<fleet>.<server>`
//!   (`mcpctl.io/record=state`): the last revision's summary, the in-flight
//!   operation (with its plan and the step being executed) and the due tasks
//!   (deferred work such as a delayed scale-down). `status` lists these with
//!   one call for the whole fleet.
//!
//! Records are keyed by fleet *and* server, so two fleets sharing a namespace
//! never share history. The in-flight and due records carry a
//! `schemaVersion`: a record this version cannot read is an error, never
//! "nothing in flight". Times are the API server's (see [`Cluster::now`]).
//!
//! Records carry `mcpctl.io/fleet=<fleet>` rather than
//! `app.kubernetes.io/part-of`, so listing a fleet's rendered objects by
//! `part-of` never drags the journal along.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine;
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Cluster, Req};
use crate::error::{Error, Result};
use crate::rollout::plan::{Action, Plan, Version};

/// Revisions kept per server.
pub const KEEP: usize = 10;

/// The version of the in-flight and due-task records this build writes and reads.
pub const SCHEMA_VERSION: u32 = 2;

/// One recorded revision of one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub server: String,
    pub revision: u32,
    /// apply, deploy, rollback, promote, abort.
    pub operation: String,
    pub image: String,
    pub strategy: String,
    /// Operator: `user@host` or the CI job.
    pub who: String,
    /// RFC 3339.
    pub when: String,
    /// succeeded, failed, aborted, rolled-back, timed-out…
    pub outcome: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Whether the rendered objects are stored (needed to roll back to it).
    #[serde(default)]
    pub has_objects: bool,
    /// Every image involved, by colour or track (`blue`, `green`, `stable`,
    /// `canary`), after the operation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, String>,
    /// The colour or track serving all traffic after the operation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub traffic: String,
    /// The image served before the operation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_image: String,
    /// The server has been deployed (by this or an earlier revision): from
    /// then on `apply` keeps the deployed image.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deployed: bool,
}

impl Revision {
    /// Whether the server has been deployed, as of this revision.
    pub fn deployed(&self) -> bool {
        self.deployed || self.operation == "deploy" || self.operation == "rollback"
    }
}

/// Where an operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Executing its plan.
    #[default]
    Running,
    /// Undoing its plan (a gate failed, a timeout, a signal, an abort).
    Compensating,
}

/// One gate's verdict, kept in the in-flight record as the operation goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateResult {
    pub gate: String,
    pub passed: bool,
    pub detail: String,
}

/// The operation in progress on a server: enough to show it, to finish it
/// (`deploy --resume`) or to undo it (`rollback`) from another process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub schema_version: u32,
    /// Unique per operation.
    pub id: String,
    /// apply, deploy, rollback…
    pub kind: String,
    pub strategy: String,
    #[serde(default)]
    pub from: Version,
    #[serde(default)]
    pub to: Version,
    /// The plan being executed (none for `apply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Index of the step being executed (it may or may not have taken effect).
    #[serde(default)]
    pub step: usize,
    #[serde(default)]
    pub phase: Phase,
    /// The step for people: "applying objects", "switch traffic from blue to green".
    pub step_text: String,
    /// Traffic weights by track/colour when known.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateResult>,
    /// RFC 3339, the API server's clock.
    pub started: String,
    pub holder: String,
    pub who: String,
    /// Control requests (`promote`, `abort`) this operation has acted on,
    /// by id: a resumed run does not act on them twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_seen: Vec<String>,
}

/// What `mcpctl promote` and `mcpctl abort` ask of a running canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Request {
    /// End the current step now.
    Promote,
    /// Skip every remaining step: promote now.
    PromoteFull,
    /// Restore stable and stop (exit 6).
    Abort,
}

impl Request {
    pub fn as_str(self) -> &'static str {
        match self {
            Request::Promote => "promote",
            Request::PromoteFull => "promote --full",
            Request::Abort => "abort",
        }
    }
}

/// A control request for one in-flight operation, kept in the state record
/// beside it (the operation's own writes never touch it), so it reaches the
/// process running the operation wherever that runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Control {
    pub schema_version: u32,
    /// Unique per request.
    pub id: String,
    /// The id of the operation it is for (a request for an earlier one is ignored).
    pub operation: String,
    pub request: Request,
    pub who: String,
    /// RFC 3339, the API server's clock.
    pub when: String,
}

/// A due task: deferred work of a finished operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Due {
    pub action: Action,
    /// RFC 3339, the API server's clock.
    pub due_at: String,
    pub reason: String,
    /// The operation that left it.
    pub operation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DueRecord {
    schema_version: u32,
    tasks: Vec<Due>,
}

/// The per-server state record.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub last: Option<Revision>,
    pub inflight: Option<Operation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub due: Vec<Due>,
    /// The latest promote/abort request (for the in-flight operation, or stale).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<Control>,
    /// Parts of the record this version cannot read, with why: a command that
    /// changes the server refuses to go on (it cannot know what is in flight).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

impl State {
    /// Fails when part of the record cannot be read.
    pub fn check_readable(&self, server: &str) -> Result<()> {
        if self.unreadable.is_empty() {
            return Ok(());
        }
        Err(Error::Failed(format!(
            "the journal of server {server} cannot be read by this mcpctl: {}; use the mcpctl \
             version that wrote it (a newer schemaVersion needs a newer mcpctl), or, if the record \
             is damaged, inspect it with `kubectl get configmap -l \
             mcpctl.io/record=state,app.kubernetes.io/name={server} -o yaml`",
            self.unreadable.join("; ")
        )))
    }
}

/// Reads a versioned record (in-flight operation or due tasks).
fn parse_versioned<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("the {what} record is not JSON ({e})"))?;
    match v["schemaVersion"].as_u64() {
        Some(n) if n == u64::from(SCHEMA_VERSION) => {}
        Some(n) => {
            return Err(format!(
                "the {what} record has schemaVersion {n}; this mcpctl reads {SCHEMA_VERSION}"
            ));
        }
        None => return Err(format!("the {what} record has no schemaVersion")),
    }
    serde_json::from_value(v).map_err(|e| format!("the {what} record is malformed ({e})"))
}

pub fn revision_name(fleet: &str, server: &str, n: u32) -> String {
    format!("mcpctl.rev.{fleet}.{server}.v{n}")
}

pub fn state_name(fleet: &str, server: &str) -> String {
    format!("mcpctl.state.{fleet}.{server}")
}

fn cm_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps")
}

/// The path of the ConfigMap `name` of `ns`.
fn record_path(ns: &str, name: &str) -> String {
    format!("{}/{name}", cm_path(ns))
}

/// RFC 3339 in UTC, to the second.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Gzips and base64-encodes the objects (ConfigMap `binaryData`).
pub fn encode_objects(objects: &[Value]) -> Result<String> {
    let json = serde_json::to_vec(objects)
        .map_err(|e| Error::Failed(format!("cannot encode objects: {e}")))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json)?;
    let bytes = gz.finish()?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

pub fn decode_objects(b64: &str) -> Result<Vec<Value>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| Error::Failed(format!("journal record: objects are not base64: {e}")))?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut json)
        .map_err(|e| Error::Failed(format!("journal record: objects are not gzip: {e}")))?;
    serde_json::from_slice(&json)
        .map_err(|e| Error::Failed(format!("journal record: objects are not JSON: {e}")))
}

/// The ConfigMap recording `rev`.
pub fn revision_configmap(
    ns: &str,
    fleet: &str,
    rev: &Revision,
    objects: &[Value],
) -> Result<Value> {
    let mut cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": revision_name(fleet, &rev.server, rev.revision),
            "namespace": ns,
            "labels": {
                "app.kubernetes.io/managed-by": "mcpctl",
                "app.kubernetes.io/name": rev.server,
                "mcpctl.io/fleet": fleet,
                "mcpctl.io/record": "revision",
                "mcpctl.io/revision": rev.revision.to_string(),
            },
        },
        "data": {
            "revision.json": serde_json::to_string_pretty(rev).expect("revision serializes"),
        },
    });
    if !objects.is_empty() {
        let kept: Vec<Value> = objects.iter().map(without_secret_values).collect();
        cm["binaryData"] = json!({"objects.json.gz": encode_objects(&kept)?});
    }
    Ok(cm)
}

/// Annotation on a Secret stored in a revision record whose values were left
/// out: rolling back must leave that Secret's data as it is live.
pub const SECRET_DATA_OMITTED: &str = "mcpctl.io/data-omitted";

/// A revision record is a ConfigMap, readable by anyone who may read
/// ConfigMaps: a Secret (rendered by a template override) is kept without its
/// values, marked with [`SECRET_DATA_OMITTED`].
fn without_secret_values(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if obj["kind"] == "Secret" && obj["apiVersion"] == "v1" {
        if let Some(m) = obj.as_object_mut() {
            m.shift_remove("data");
            m.shift_remove("stringData");
        }
        obj["metadata"]["annotations"][SECRET_DATA_OMITTED] = json!("true");
    }
    obj
}

/// Reads a revision ConfigMap.
pub fn parse_revision(cm: &Value) -> Option<Revision> {
    let text = cm["data"]["revision.json"].as_str()?;
    serde_json::from_str(text).ok()
}

/// The stored objects of a revision ConfigMap (for rollback).
pub fn revision_objects(cm: &Value) -> Result<Vec<Value>> {
    match cm["binaryData"]["objects.json.gz"].as_str() {
        Some(b) => decode_objects(b),
        None => Ok(Vec::new()),
    }
}

/// Which revision numbers to delete once `new` is recorded, so that `keep`
/// remain: of `listed` when the revisions were listed, else the one that
/// `new` pushes out (earlier ones went when their successors were recorded).
pub fn superseded(listed: Option<Vec<u32>>, new: u32, keep: usize) -> Vec<u32> {
    match listed {
        Some(mut all) => {
            all.push(new);
            all.sort_unstable();
            all.dedup();
            to_prune(all, keep)
        }
        None => new
            .checked_sub(keep as u32)
            .filter(|n| *n > 0)
            .into_iter()
            .collect(),
    }
}

/// Which revision numbers to delete so that `keep` remain (the oldest go).
pub fn to_prune(mut revisions: Vec<u32>, keep: usize) -> Vec<u32> {
    revisions.sort_unstable();
    let n = revisions.len().saturating_sub(keep);
    revisions.truncate(n);
    revisions
}

/// Reads a state ConfigMap; what cannot be read is listed in `unreadable`.
pub fn parse_state(cm: &Value) -> State {
    let mut state = State {
        last: cm["data"]["last"]
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok()),
        ..Default::default()
    };
    if let Some(text) = cm["data"]["inflight"].as_str() {
        match parse_versioned::<Operation>("in-flight operation", text) {
            Ok(op) => state.inflight = Some(op),
            Err(e) => state.unreadable.push(e),
        }
    }
    if let Some(text) = cm["data"]["due"].as_str() {
        match parse_versioned::<DueRecord>("due tasks", text) {
            Ok(d) => state.due = d.tasks,
            Err(e) => state.unreadable.push(e),
        }
    }
    if let Some(text) = cm["data"]["control"].as_str() {
        match parse_versioned::<Control>("control request", text) {
            Ok(c) => state.control = Some(c),
            Err(e) => state.unreadable.push(e),
        }
    }
    state
}

/// The `due` data value for these tasks (`null` removes the key).
fn due_value(tasks: &[Due]) -> Value {
    if tasks.is_empty() {
        return Value::Null;
    }
    let rec = DueRecord {
        schema_version: SCHEMA_VERSION,
        tasks: tasks.to_vec(),
    };
    Value::String(serde_json::to_string(&rec).expect("serializes"))
}

/// Journal access for one namespace of one fleet.
pub struct Journal<'a> {
    pub cluster: &'a Cluster,
    pub ns: String,
    pub fleet: String,
}

impl<'a> Journal<'a> {
    pub fn new(cluster: &'a Cluster, ns: &str, fleet: &str) -> Journal<'a> {
        Journal {
            cluster,
            ns: ns.to_string(),
            fleet: fleet.to_string(),
        }
    }

    /// Now, by the API server's clock.
    pub fn now(&self) -> String {
        rfc3339(self.cluster.now())
    }

    /// Revision ConfigMaps of a server, oldest first.
    pub async fn revision_records(&self, server: &str) -> Result<Vec<Value>> {
        let sel = format!(
            "mcpctl.io/record=revision,mcpctl.io/fleet={},app.kubernetes.io/name={server}",
            self.fleet
        );
        let mut items = self.cluster.list(&cm_path(&self.ns), Some(&sel)).await?;
        items.retain(|cm| parse_revision(cm).is_some_and(|r| r.server == server));
        items.sort_by_key(|cm| parse_revision(cm).map(|r| r.revision).unwrap_or(0));
        Ok(items)
    }

    /// Recorded revisions of a server, oldest first.
    pub async fn revisions(&self, server: &str) -> Result<Vec<Revision>> {
        Ok(self
            .revision_records(server)
            .await?
            .iter()
            .filter_map(parse_revision)
            .collect())
    }

    /// One recorded revision with its stored objects (what a rollback
    /// re-applies), or `None` when it is not (or no longer) recorded.
    pub async fn revision(&self, server: &str, n: u32) -> Result<Option<(Revision, Vec<Value>)>> {
        let path = record_path(&self.ns, &revision_name(&self.fleet, server, n));
        let req = Req::get(&path);
        let resp = self.cluster.send(&req).await?;
        if resp.status == 404 {
            return Ok(None);
        }
        if !resp.ok() {
            return Err(self.cluster.api_error(&req, &resp));
        }
        let cm = resp.json()?;
        let rev = parse_revision(&cm).ok_or_else(|| {
            Error::Failed(format!(
                "ConfigMap {}/{} is not a revision record",
                self.ns,
                revision_name(&self.fleet, server, n)
            ))
        })?;
        Ok(Some((rev, revision_objects(&cm)?)))
    }

    /// Records a new revision, prunes to [`KEEP`] and updates the state
    /// record's `last` (clearing the in-flight mark).
    ///
    /// The number follows the state record's last revision: one GET by name,
    /// where listing the server's revisions would make the API server scan
    /// every record of the namespace for each server (quadratic over a
    /// fleet). A number already taken (a revision recorded without its state,
    /// a race with another writer) is refused with 409: then the revisions are
    /// listed and the next number after the highest is taken.
    pub async fn record(
        &self,
        mut rev: Revision,
        objects: &[Value],
        due: Option<&[Due]>,
    ) -> Result<Revision> {
        let server = rev.server.clone();
        let state = self.state_record(&server).await?;
        let state_exists = state.is_some();
        let mut next = state.and_then(|s| s.last).map(|l| l.revision).unwrap_or(0) + 1;
        // Every recorded number, once a 409 made us list them.
        let mut listed: Option<Vec<u32>> = None;
        for _ in 0..4 {
            rev.revision = next;
            rev.has_objects = !objects.is_empty();
            let cm = revision_configmap(&self.ns, &self.fleet, &rev, objects)?;
            let req = Req::new(Method::POST, cm_path(&self.ns)).json_body(&cm);
            let path = record_path(&self.ns, &revision_name(&self.fleet, &server, rev.revision));
            let resp = self.cluster.create(&req, &path).await?;
            if resp.status == 409 {
                // Ours already, when the create's answer was lost.
                let existing = self.cluster.send(&Req::get(&path)).await?;
                let ours = existing.ok()
                    && existing
                        .json()
                        .ok()
                        .as_ref()
                        .and_then(parse_revision)
                        .as_ref()
                        == Some(&rev);
                if !ours {
                    let numbers: Vec<u32> = self
                        .revisions(&server)
                        .await?
                        .iter()
                        .map(|r| r.revision)
                        .collect();
                    next = numbers.iter().copied().max().unwrap_or(0).max(next) + 1;
                    listed = Some(numbers);
                    continue;
                }
            } else if !resp.ok() {
                return Err(self.cluster.api_error(&req, &resp));
            }
            // The operation is over: record it and clear the in-flight mark in
            // one write, before pruning, so that a failed prune never leaves
            // the state behind the revisions.
            // The due tasks the operation leaves go in the same write: a
            // crash in between can never lose them.
            let mut data =
                json!({"last": serde_json::to_string(&rev).expect("serializes"), "inflight": null});
            if let Some(d) = due {
                data["due"] = due_value(d);
            }
            self.write_state(&server, data, state_exists).await?;
            for old in superseded(listed, rev.revision, KEEP) {
                let path = record_path(&self.ns, &revision_name(&self.fleet, &server, old));
                let resp = self.cluster.send(&Req::new(Method::DELETE, &path)).await?;
                if !resp.ok() && resp.status != 404 {
                    tracing::warn!(
                        "could not delete old revision {server} v{old}: {}",
                        resp.message()
                    );
                }
            }
            return Ok(rev);
        }
        Err(Error::Failed(format!(
            "could not record a revision of {server}: revision numbers kept changing under us"
        )))
    }

    /// Marks an operation in flight on a server (written after every step).
    pub async fn set_inflight(&self, server: &str, op: &Operation) -> Result<()> {
        self.set_inflight_known(server, op, true).await
    }

    /// [`Journal::set_inflight`], knowing whether the server's state record
    /// exists (as the fleet's states showed it): when it does not, it is
    /// created at once instead of after a patch answered 404 (a create that
    /// finds it made in between patches it).
    pub async fn set_inflight_known(
        &self,
        server: &str,
        op: &Operation,
        exists: bool,
    ) -> Result<()> {
        let mut op = op.clone();
        op.schema_version = SCHEMA_VERSION;
        self.write_state(
            server,
            json!({"inflight": serde_json::to_string(&op).expect("serializes")}),
            exists,
        )
        .await
    }

    /// Clears the in-flight mark without recording a revision.
    pub async fn clear_inflight(&self, server: &str) -> Result<()> {
        self.patch_state(server, json!({"inflight": null})).await
    }

    /// Asks the process running `operation` to promote or abort.
    pub async fn request(&self, server: &str, control: &Control) -> Result<()> {
        let mut c = control.clone();
        c.schema_version = SCHEMA_VERSION;
        self.patch_state(
            server,
            json!({"control": serde_json::to_string(&c).expect("serializes")}),
        )
        .await
    }

    /// Replaces the server's due tasks.
    pub async fn set_due(&self, server: &str, tasks: &[Due]) -> Result<()> {
        self.patch_state(server, json!({"due": due_value(tasks)}))
            .await
    }

    /// One server's state record (default when there is none).
    pub async fn state(&self, server: &str) -> Result<State> {
        Ok(self.state_record(server).await?.unwrap_or_default())
    }

    /// One server's state record, `None` when there is none.
    async fn state_record(&self, server: &str) -> Result<Option<State>> {
        let path = record_path(&self.ns, &state_name(&self.fleet, server));
        let req = Req::get(&path);
        let resp = self.cluster.send(&req).await?;
        if resp.status == 404 {
            return Ok(None);
        }
        if !resp.ok() {
            return Err(self.cluster.api_error(&req, &resp));
        }
        Ok(Some(parse_state(&resp.json()?)))
    }

    /// Merge-patches the state record's data (a `null` removes a key),
    /// creating the record first when it does not exist.
    async fn patch_state(&self, server: &str, data: Value) -> Result<()> {
        self.write_state(server, data, true).await
    }

    /// [`Journal::patch_state`], creating the record at once when it was
    /// just read as missing (`exists` false): a create that finds it made in
    /// between patches it instead.
    async fn write_state(&self, server: &str, data: Value, exists: bool) -> Result<()> {
        let path = record_path(&self.ns, &state_name(&self.fleet, server));
        let patch = json!({"data": data});
        let mut patch_first = exists;
        for _ in 0..3 {
            if patch_first {
                let req = Req::new(Method::PATCH, &path)
                    .json_body(&patch)
                    .content_type("application/merge-patch+json");
                let resp = self.cluster.send(&req).await?;
                if resp.ok() {
                    return Ok(());
                }
                if resp.status != 404 {
                    return Err(self.cluster.api_error(&req, &resp));
                }
            }
            patch_first = true;
            let mut clean = serde_json::Map::new();
            for (k, v) in data.as_object().into_iter().flatten() {
                if !v.is_null() {
                    clean.insert(k.clone(), v.clone());
                }
            }
            let cm = json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": state_name(&self.fleet, server),
                    "namespace": self.ns,
                    "labels": {
                        "app.kubernetes.io/managed-by": "mcpctl",
                        "app.kubernetes.io/name": server,
                        "mcpctl.io/fleet": self.fleet,
                        "mcpctl.io/record": "state",
                    },
                },
                "data": clean,
            });
            let req = Req::new(Method::POST, cm_path(&self.ns)).json_body(&cm);
            let resp = self.cluster.create(&req, &path).await?;
            if resp.ok() {
                return Ok(());
            }
            if resp.status != 409 {
                return Err(self.cluster.api_error(&req, &resp));
            }
            // Created in between: patch again.
        }
        Err(Error::Failed(format!(
            "could not write the state record of {server}"
        )))
    }

    /// Deletes every record of a server (its revisions and its state): what
    /// `delete --purge` forgets. Returns how many were deleted.
    pub async fn purge(&self, server: &str) -> Result<usize> {
        let sel = format!(
            "mcpctl.io/record in (revision,state),mcpctl.io/fleet={},app.kubernetes.io/name={server}",
            self.fleet
        );
        let items = self.cluster.list(&cm_path(&self.ns), Some(&sel)).await?;
        let mut n = 0;
        for cm in items {
            let Some(name) = cm["metadata"]["name"].as_str() else {
                continue;
            };
            let req = Req::new(Method::DELETE, record_path(&self.ns, name));
            let resp = self.cluster.send(&req).await?;
            if resp.ok() {
                n += 1;
            } else if resp.status != 404 {
                return Err(self.cluster.api_error(&req, &resp));
            }
        }
        Ok(n)
    }

    /// State records of the whole fleet, by server (one LIST).
    pub async fn states(&self) -> Result<BTreeMap<String, State>> {
        let sel = format!("mcpctl.io/record=state,mcpctl.io/fleet={}", self.fleet);
        let items = self.cluster.list(&cm_path(&self.ns), Some(&sel)).await?;
        Ok(items
            .iter()
            .filter_map(|cm| {
                let server = cm["metadata"]["labels"]["app.kubernetes.io/name"].as_str()?;
                Some((server.to_string(), parse_state(cm)))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(n: u32) -> Revision {
        Revision {
            server: "github".into(),
            revision: n,
            operation: "apply".into(),
            image: "ghcr.io/acme/github-mcp:1.4.2".into(),
            strategy: "canary".into(),
            who: "ana@lap".into(),
            when: "2026-11-21T06:00:00Z".into(),
            outcome: "succeeded".into(),
            message: String::new(),
            has_objects: true,
            images: BTreeMap::new(),
            traffic: String::new(),
            from_image: String::new(),
            deployed: false,
        }
    }

    #[test]
    fn a_new_revision_pushes_out_the_one_ten_before_it() {
        assert_eq!(superseded(None, 11, 10), vec![1]);
        assert_eq!(superseded(None, 10, 10), Vec::<u32>::new());
        assert_eq!(superseded(None, 3, 10), Vec::<u32>::new());
        // Listed after a 409: every number beyond the newest ten goes.
        assert_eq!(superseded(Some((1..=12).collect()), 14, 10), vec![1, 2, 3]);
        assert_eq!(superseded(Some(vec![4, 5]), 6, 10), Vec::<u32>::new());
    }

    #[test]
    fn pruning_keeps_the_newest() {
        assert_eq!(to_prune((1..=12).collect(), 10), vec![1, 2]);
        assert_eq!(to_prune(vec![5, 3, 11, 4], 2), vec![3, 4]);
        assert_eq!(to_prune(vec![1, 2], 10), Vec::<u32>::new());
    }

    #[test]
    fn objects_round_trip_compressed() {
        let objs: Vec<Value> = (0..50)
            .map(|i| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")},
                "data": {"k": "the same text repeated again and again"}}))
            .collect();
        let enc = encode_objects(&objs).unwrap();
        assert!(
            enc.len() < serde_json::to_string(&objs).unwrap().len() / 3,
            "compressed"
        );
        assert_eq!(decode_objects(&enc).unwrap(), objs);
    }

    #[test]
    fn revision_configmap_round_trips() {
        let objs = vec![json!({"kind": "Service"})];
        let cm = revision_configmap("mcp", "acme", &rev(3), &objs).unwrap();
        assert_eq!(cm["metadata"]["name"], "mcpctl.rev.acme.github.v3");
        assert_eq!(cm["metadata"]["labels"]["mcpctl.io/revision"], "3");
        assert_eq!(cm["metadata"]["labels"]["mcpctl.io/fleet"], "acme");
        assert!(
            cm["metadata"]["labels"]
                .get("app.kubernetes.io/part-of")
                .is_none()
        );
        assert_eq!(parse_revision(&cm).unwrap(), rev(3));
        assert_eq!(revision_objects(&cm).unwrap(), objs);
    }

    #[test]
    fn revision_records_keep_no_secret_values() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "api", "annotations": {"a": "b"}},
            "type": "Opaque", "data": {"token": "c2VjcmV0"}, "stringData": {"pw": "hunter2"}});
        let objs = vec![json!({"apiVersion": "v1", "kind": "Service"}), secret];
        let cm = revision_configmap("mcp", "acme", &rev(3), &objs).unwrap();
        let text = serde_json::to_string(&revision_objects(&cm).unwrap()).unwrap();
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("hunter2"),
            "{text}"
        );
        let stored = revision_objects(&cm).unwrap();
        assert_eq!(stored[0], objs[0]);
        assert_eq!(
            stored[1]["metadata"]["annotations"],
            json!({"a": "b", SECRET_DATA_OMITTED: "true"})
        );
        assert_eq!(stored[1]["type"], "Opaque");
    }

    #[test]
    fn state_parses_partial_records() {
        let cm = json!({"data": {"last": serde_json::to_string(&rev(2)).unwrap()}});
        let s = parse_state(&cm);
        assert_eq!(s.last.unwrap().revision, 2);
        assert!(s.inflight.is_none());
        let op = Operation {
            schema_version: SCHEMA_VERSION,
            kind: "deploy".into(),
            step_text: "canary step 2/5".into(),
            ..Default::default()
        };
        let cm = json!({"data": {"inflight": serde_json::to_string(&op).unwrap()}});
        assert_eq!(parse_state(&cm).inflight.unwrap(), op);
    }

    #[test]
    fn unreadable_records_are_errors_not_nothing_in_flight() {
        let newer = json!({"data": {"inflight": r#"{"schemaVersion": 3, "kind": "deploy"}"#}});
        let s = parse_state(&newer);
        assert!(s.inflight.is_none());
        assert_eq!(
            s.unreadable,
            vec!["the in-flight operation record has schemaVersion 3; this mcpctl reads 2"]
        );
        let e = s.check_readable("gh").unwrap_err().to_string();
        assert!(e.contains("journal of server gh cannot be read"), "{e}");
        let old = json!({"data": {"inflight": r#"{"operation": "apply"}"#, "due": "not json"}});
        let s = parse_state(&old);
        assert_eq!(s.unreadable.len(), 2, "{:?}", s.unreadable);
        assert!(s.unreadable[0].contains("no schemaVersion"));
        assert!(s.unreadable[1].contains("not JSON"));
    }

    #[test]
    fn due_tasks_round_trip() {
        let due = vec![Due {
            action: Action::Scale {
                name: "gh-blue".into(),
                replicas: 0,
            },
            due_at: "2026-11-21T06:10:00Z".into(),
            reason: "scale-down delay of the previous colour".into(),
            operation: "op1".into(),
        }];
        let cm = json!({"data": {"due": due_value(&due)}});
        assert_eq!(parse_state(&cm).due, due);
        assert_eq!(due_value(&[]), Value::Null);
    }
}
