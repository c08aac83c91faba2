//! Runs a plan: the journal is written before every step (which step, and
//! that the operation is running), each step races signals and the loss of
//! the lock, and any failure or interruption runs the plan's compensation —
//! traffic back to the last good version first, then the rest undone — and
//! ends with the exit code of the contract (3 gate, 4 timeout, 6 interrupted,
//! 7 traffic could not be restored).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::events::Event;
use super::gates;
use super::hold::{Analyzer, Held};
use super::plan::{Action, Plan, names};
use crate::cluster::Cluster;
use crate::cluster::apply::{self, FIELD_MANAGER, Target};
use crate::cluster::discovery::Discovered;
use crate::cluster::journal::{GateResult, Journal, Operation, Phase};
use crate::cluster::lock::{self, Locks};
use crate::cluster::session::Signals;
use crate::cluster::wait::{self, WaitProgress};
use crate::error::{Error, Result, exit};
use crate::fleet::Server;
use crate::traffic::{self, ROLLOUT_MANAGER};

/// Everything the steps act on.
pub struct Engine<'a> {
    pub cluster: &'a Cluster,
    pub journal: &'a Journal<'a>,
    pub ns: &'a str,
    pub server: &'a Server,
    pub discovered: &'a Discovered,
    /// How long a wait for a rollout may take (exit 4 past it).
    pub wait_timeout: Duration,
    pub smoke: gates::Settings,
    /// A canary's analysis (none for other strategies).
    pub analyzer: Option<&'a Analyzer>,
    pub emit: &'a dyn Fn(Event),
    /// Set by a hold ended by `promote --full`: skip to the promotion.
    pub jump: std::cell::Cell<bool>,
}

/// A wait's progress as [`Event::Waiting`] events, each change once.
pub struct Waiting<'a> {
    emit: &'a dyn Fn(Event),
    last: std::collections::BTreeMap<String, String>,
}

impl<'a> Waiting<'a> {
    pub fn new(emit: &'a dyn Fn(Event)) -> Waiting<'a> {
        Waiting {
            emit,
            last: Default::default(),
        }
    }
}

impl WaitProgress for Waiting<'_> {
    fn update(&mut self, name: &str, msg: &str, done: bool) {
        if self.last.get(name).map(String::as_str) == Some(msg) {
            return;
        }
        self.last.insert(name.to_string(), msg.to_string());
        (self.emit)(Event::Waiting {
            deployment: name.to_string(),
            message: msg.to_string(),
            done,
        });
    }
}

/// Why an operation stopped before its end.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    Gate(String),
    Timeout(String),
    Interrupted(String),
    Failed(String),
    /// The lock was lost: another operation may run; nothing is undone.
    LockLost(String),
}

impl Stop {
    pub fn code(&self) -> u8 {
        match self {
            Stop::Gate(_) => exit::GATE_FAILED_RESTORED,
            Stop::Timeout(_) => exit::TIMEOUT,
            Stop::Interrupted(_) => exit::INTERRUPTED,
            Stop::Failed(_) => exit::ERROR,
            Stop::LockLost(_) => exit::UNRESTORED,
        }
    }
    /// The outcome recorded in the revision.
    pub fn outcome(&self) -> &'static str {
        match self {
            Stop::Gate(_) => "gate-failed",
            Stop::Timeout(_) => "timed-out",
            Stop::Interrupted(_) => "interrupted",
            Stop::Failed(_) => "failed",
            Stop::LockLost(_) => "lock-lost",
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Stop::Gate(m)
            | Stop::Timeout(m)
            | Stop::Interrupted(m)
            | Stop::Failed(m)
            | Stop::LockLost(m) => m,
        }
    }
    fn from_error(e: Error) -> Stop {
        match e.exit_code() {
            exit::TIMEOUT => Stop::Timeout(e.to_string()),
            _ => Stop::Failed(e.to_string()),
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub code: u8,
    /// succeeded, gate-failed, timed-out, interrupted, failed, unrestored.
    pub outcome: String,
    pub message: String,
    /// Whether the journal must keep the operation in flight (traffic could
    /// not be restored: `rollback` finishes it).
    pub keep_inflight: bool,
}

impl Outcome {
    pub fn succeeded() -> Outcome {
        Outcome {
            code: exit::OK,
            outcome: "succeeded".into(),
            message: String::new(),
            keep_inflight: false,
        }
    }
}

impl Engine<'_> {
    fn target(&self, obj: &Value, manager: &'static str) -> Result<Target> {
        let mut t = apply::targets(std::slice::from_ref(obj), self.discovered, self.ns)?;
        let mut t = t.remove(0);
        t.manager = manager;
        Ok(t)
    }

    async fn apply(&self, obj: &Value, manager: &'static str) -> Result<()> {
        let t = self.target(obj, manager)?;
        apply::apply_one(self.cluster, &t, true).await?;
        (self.emit)(Event::ObjectApplied {
            object: t.display(),
            manager: manager.into(),
        });
        Ok(())
    }

    fn deployments_path(&self) -> String {
        format!("/apis/apps/v1/namespaces/{}/deployments", self.ns)
    }

    /// Performs one action.
    pub async fn act(&self, op: &mut Operation, action: &Action) -> Result<(), Stop> {
        let failed = Stop::from_error;
        match action {
            Action::ApplyDeployment { object, .. } => {
                let (main, part) = traffic::split(object, self.server.strategy);
                self.apply(&main, FIELD_MANAGER).await.map_err(failed)?;
                if let Some(p) = part {
                    self.apply(&p, ROLLOUT_MANAGER).await.map_err(failed)?;
                }
            }
            Action::Scale { name, replicas } => {
                let part = self.replicas_part(name, *replicas);
                self.apply(&part, ROLLOUT_MANAGER).await.map_err(failed)?;
            }
            Action::PointPreview { objects, .. } => {
                for o in objects {
                    self.apply(o, ROLLOUT_MANAGER).await.map_err(failed)?;
                }
            }
            Action::Switch { objects, from, to } => {
                for o in objects {
                    self.apply(o, ROLLOUT_MANAGER).await.map_err(failed)?;
                }
                (self.emit)(Event::Switched {
                    from: from.clone(),
                    to: to.clone(),
                });
            }
            Action::VerifyTraffic { objects, to } => {
                self.read_back(
                    objects,
                    &format!("send all traffic to {to} after the switch"),
                )
                .await?;
            }
            Action::WaitReady { deployments } => {
                let names: BTreeSet<String> = deployments.iter().cloned().collect();
                let mut progress = Waiting {
                    emit: self.emit,
                    last: Default::default(),
                };
                wait::wait_for_deployments(
                    self.cluster,
                    &self.deployments_path(),
                    None,
                    &names,
                    self.wait_timeout,
                    &mut progress,
                )
                .await
                .map_err(failed)?;
                // Rolled out at zero replicas is not ready to take traffic
                // (a due scale-down may have emptied it meanwhile).
                for name in deployments {
                    let d = self
                        .cluster
                        .get_json(&format!("{}/{name}", self.deployments_path()))
                        .await
                        .map_err(failed)?;
                    let available = d["status"]["availableReplicas"].as_i64().unwrap_or(0);
                    if d["spec"]["replicas"].as_i64().unwrap_or(1) == 0 || available == 0 {
                        return Err(Stop::Failed(format!(
                            "deployment {name} has no available pods to take traffic (replicas {}, \
                             available {available})",
                            d["spec"]["replicas"]
                        )));
                    }
                }
            }
            Action::Smoke {
                service,
                port,
                path,
            } => {
                let r =
                    gates::smoke(self.cluster, self.ns, service, *port, path, &self.smoke).await;
                self.gate(op, "smoke", r)?;
            }
            Action::ToolSchema {
                candidate,
                baseline,
                port,
                path,
                allow_breaking,
            } => {
                let r = gates::tools(
                    self.cluster,
                    self.ns,
                    (candidate, baseline),
                    *port,
                    path,
                    *allow_breaking,
                    &self.smoke,
                )
                .await;
                self.gate(op, "tool-schema", r)?;
            }
            Action::ApplyObjects { objects, .. } => {
                for o in objects {
                    self.apply(o, FIELD_MANAGER).await.map_err(failed)?;
                }
            }
            Action::SetWeight {
                weight,
                achieved,
                router,
                objects,
                scale,
            } => {
                self.set_weight(objects, scale).await?;
                op.weights = [
                    ("stable".to_string(), 100 - achieved),
                    ("canary".to_string(), *achieved),
                ]
                .into();
                (self.emit)(Event::WeightSet {
                    weight: *weight,
                    achieved: *achieved,
                    router: router.clone(),
                });
            }
            Action::Analyze { weight, seconds } => {
                let a = self.analyzer.ok_or_else(|| {
                    Stop::Failed(
                        "this canary step needs its analysis, and none is set up (no Prometheus URL)"
                            .into(),
                    )
                })?;
                let held = a
                    .hold(*weight, Duration::from_secs(*seconds), self.emit)
                    .await;
                let (n, failed) = a.counts();
                let summary = format!("{n} sample(s) so far, {failed} failed");
                match held {
                    Held::Done => op.gates.push(GateResult {
                        gate: format!("analysis at {weight}%"),
                        passed: true,
                        detail: summary,
                    }),
                    Held::Promoted { full } => {
                        op.gates.push(GateResult {
                            gate: format!("analysis at {weight}%"),
                            passed: true,
                            detail: format!(
                                "{summary}; ended early by `mcpctl promote{}`",
                                if full { " --full" } else { "" }
                            ),
                        });
                        self.jump.set(full);
                    }
                    Held::Failed(why) => {
                        op.gates.push(GateResult {
                            gate: format!("analysis at {weight}%"),
                            passed: false,
                            detail: why.clone(),
                        });
                        return Err(Stop::Gate(format!(
                            "the canary analysis failed at {weight}%: {why}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Re-reads traffic objects: each must route as `objects` say.
    async fn read_back(&self, objects: &[Value], what: &str) -> Result<(), Stop> {
        let failed = Stop::from_error;
        for o in objects {
            let t = self.target(o, ROLLOUT_MANAGER).map_err(failed)?;
            let live = apply::get_live(self.cluster, &t).await.map_err(failed)?;
            let have = live.as_ref().and_then(traffic::traffic_of);
            if have != traffic::traffic_of(o) {
                return Err(Stop::Failed(format!(
                    "{} does not {what} (it routes {}); another writer may have changed it",
                    t.display(),
                    have.map(|v| v.to_string())
                        .unwrap_or_else(|| "nothing".into())
                )));
            }
        }
        Ok(())
    }

    /// A replica count as the rollout manager applies it.
    fn replicas_part(&self, name: &str, replicas: u32) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.ns},
            "spec": {"replicas": replicas}})
    }

    /// Writes a weight (route parts, then replica counts in order) and reads
    /// every object back: a weight is set only once the API server says so.
    async fn set_weight(&self, objects: &[Value], scale: &[(String, u32)]) -> Result<(), Stop> {
        let failed = Stop::from_error;
        for o in objects {
            self.apply(o, ROLLOUT_MANAGER).await.map_err(failed)?;
        }
        for (name, replicas) in scale {
            let part = self.replicas_part(name, *replicas);
            self.apply(&part, ROLLOUT_MANAGER).await.map_err(failed)?;
        }
        self.read_back(objects, "route as written").await?;
        for (name, replicas) in scale {
            let d = self
                .cluster
                .get_json(&format!("{}/{name}", self.deployments_path()))
                .await
                .map_err(failed)?;
            if d["spec"]["replicas"].as_u64() != Some(u64::from(*replicas)) {
                return Err(Stop::Failed(format!(
                    "deployment {name} has {} replicas, not the {replicas} just written; another \
                     writer (an autoscaler?) changed it",
                    d["spec"]["replicas"]
                )));
            }
        }
        Ok(())
    }

    fn gate(
        &self,
        op: &mut Operation,
        gate: &str,
        r: std::result::Result<String, String>,
    ) -> Result<(), Stop> {
        let (passed, detail) = match &r {
            Ok(d) => (true, d.clone()),
            Err(d) => (false, d.clone()),
        };
        (self.emit)(Event::Gate {
            gate: gate.into(),
            passed,
            detail: detail.clone(),
        });
        op.gates.push(GateResult {
            gate: gate.into(),
            passed,
            detail: detail.clone(),
        });
        if passed {
            Ok(())
        } else {
            Err(Stop::Gate(format!("the {gate} gate failed: {detail}")))
        }
    }

    /// Resolves when `mcpctl abort` asks this operation to stop (a canary's
    /// requests are watched; other operations never resolve).
    async fn watch_control(
        &self,
        server: &str,
        op: &str,
        seen: &std::cell::RefCell<Vec<String>>,
    ) -> String {
        match self.analyzer {
            Some(a) => a.watch(self.journal, server, op, seen, self.emit).await,
            None => std::future::pending().await,
        }
    }

    /// Runs the operation's plan from its recorded step; on any stop, runs
    /// the compensation.
    pub async fn run(&self, op: &mut Operation, mut signals: Signals, locks: &Locks) -> Outcome {
        let plan = op
            .plan
            .clone()
            .expect("an operation run by the engine has a plan");
        let total = plan.steps.len();
        let mut stop = None;
        let seen = std::cell::RefCell::new(op.control_seen.clone());
        let op_id = op.id.clone();
        let mut i = op.step;
        while i < total {
            op.step = i;
            op.step_text = plan.steps[i].action.describe();
            op.phase = Phase::Running;
            op.control_seen = seen.borrow().clone();
            if let Err(e) = self.journal.set_inflight(&plan.server, op).await {
                stop = Some(Stop::Failed(e.to_string()));
                break;
            }
            (self.emit)(Event::StepStarted {
                index: i + 1,
                total,
                text: op.step_text.clone(),
            });
            let action = plan.steps[i].action.clone();
            let r = tokio::select! {
                r = self.act(op, &action) => r,
                why = self.watch_control(&plan.server, &op_id, &seen) => Err(Stop::Interrupted(why)),
                sig = signals.recv() => Err(Stop::Interrupted(format!("interrupted by {sig}"))),
                (server, why) = locks.until_lost() => Err(Stop::LockLost(lock::lost_error(&server, &why).to_string())),
            };
            if let Err(s) = r {
                stop = Some(s);
                break;
            }
            i += 1;
            if self.jump.take()
                && let Some(p) = plan.promote_at
            {
                i = i.max(p);
            }
        }
        op.control_seen = seen.borrow().clone();
        // From here on a signal exits at once (the operator insists).
        signals.exit_on_next();
        match stop {
            None => Outcome::succeeded(),
            // Another operation may own the server now: touching traffic
            // would fight it. Nothing is undone; the operation stays recorded.
            Some(Stop::LockLost(why)) => Outcome {
                code: exit::UNRESTORED,
                outcome: "lock-lost".into(),
                message: format!(
                    "{why}; nothing was undone, so traffic is where step {} ({}) left it. Check \
                     `mcpctl status {}`; once no other operation runs, `mcpctl rollback {}` undoes \
                     this one (it stays recorded as in flight)",
                    op.step + 1,
                    op.step_text,
                    plan.server,
                    plan.server
                ),
                keep_inflight: true,
            },
            Some(s) => self.compensate(op, &plan, s).await,
        }
    }

    /// Undoes an operation stopped at its recorded step: traffic first.
    pub async fn compensate(&self, op: &mut Operation, plan: &Plan, stop: Stop) -> Outcome {
        (self.emit)(Event::Restoring {
            why: stop.message().to_string(),
        });
        op.phase = Phase::Compensating;
        op.step_text = format!("restoring: {}", stop.message());
        if let Err(e) = self.journal.set_inflight(&plan.server, op).await {
            (self.emit)(Event::Warning {
                message: format!("could not mark the operation as restoring in the journal: {e}"),
            });
        }
        let mut warnings = Vec::new();
        for a in plan.compensation(op.step) {
            match self.act(op, &a).await {
                Ok(()) => (self.emit)(Event::Undone { text: a.describe() }),
                Err(e) if a.moves_traffic() => {
                    let to = match &a {
                        Action::Switch { to, objects, .. } => format!("{to} ({})", names(objects)),
                        _ => String::new(),
                    };
                    return Outcome {
                        code: exit::UNRESTORED,
                        outcome: "unrestored".into(),
                        message: format!(
                            "{}; then traffic could NOT be restored to {to}: {}. Traffic may still go \
                             to {}. Fix the cause (`kubectl -n {} get service,virtualservice,httproute {}`), \
                             then run `mcpctl rollback {}` to restore it; the operation stays recorded \
                             as in flight",
                            stop.message(),
                            e.message(),
                            plan.to.track,
                            self.ns,
                            plan.server,
                            plan.server
                        ),
                        keep_inflight: true,
                    };
                }
                Err(e) => warnings.push(format!("{}: {}", a.describe(), e.message())),
            }
        }
        // Without a switch (rolling), the undo re-rolls the Deployment to the
        // previous version: traffic is restored only once that has rolled out.
        let rerolled: Vec<String> = plan
            .compensation(op.step)
            .iter()
            .filter_map(|a| match a {
                Action::ApplyDeployment { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        if plan.switch_index().is_some() && !rerolled.is_empty() && warnings.is_empty() {
            // Traffic is safe already; the re-applied track rolls back too.
            let wait = Action::WaitReady {
                deployments: rerolled.clone(),
            };
            if let Err(e) = self.act(op, &wait).await {
                warnings.push(format!(
                    "{} did not roll out again: {}",
                    rerolled.join(", "),
                    e.message()
                ));
            }
        }
        if plan.switch_index().is_none() && !rerolled.is_empty() {
            let wait = Action::WaitReady {
                deployments: rerolled,
            };
            let outcome = if warnings.is_empty() {
                self.act(op, &wait)
                    .await
                    .map_err(|e| e.message().to_string())
            } else {
                Err(warnings.join("; "))
            };
            if let Err(e) = outcome {
                return Outcome {
                    code: exit::UNRESTORED,
                    outcome: "unrestored".into(),
                    message: format!(
                        "{}; then the previous version ({}) did not roll out again: {}. Traffic \
                         goes to whatever pods are ready. Check `kubectl -n {} rollout status \
                         deployment/{}`, then run `mcpctl rollback {}`",
                        stop.message(),
                        plan.from.image,
                        e,
                        self.ns,
                        plan.server,
                        plan.server
                    ),
                    keep_inflight: true,
                };
            }
            let restored = format!("rolled back to {} and rolled out again", plan.from.image);
            return Outcome {
                code: stop.code(),
                outcome: stop.outcome().into(),
                message: format!("{}; {restored}", stop.message()),
                keep_inflight: false,
            };
        }
        let restored = if plan.switch_index().is_some_and(|i| op.step >= i) {
            format!(
                "traffic is back on {} ({})",
                plan.from.track, plan.from.image
            )
        } else {
            format!(
                "traffic never moved from {} ({})",
                plan.from.track, plan.from.image
            )
        };
        let mut message = format!("{}; {restored}", stop.message());
        if !warnings.is_empty() {
            message.push_str(&format!(
                "; not undone (traffic is safe): {}",
                warnings.join("; ")
            ));
        }
        Outcome {
            code: stop.code(),
            outcome: stop.outcome().into(),
            message,
            keep_inflight: false,
        }
    }
}
