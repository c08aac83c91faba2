//! A rollout plan: an explicit list of steps, each with what it changes and
//! how to undo it. Strategies build plans (pure functions of the fleet model
//! and the observed cluster state); the executor runs them and writes the
//! journal after every step; `--dry-run` prints them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One thing the executor does. Every action is idempotent: running it
/// again after an interruption (the write may or may not have landed)
/// converges to the same state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    /// Server-side apply a Deployment (the rendered object, with the image
    /// and replica count of this step). The replica count is written by the
    /// rollout field manager, the rest by the apply field manager.
    #[serde(rename_all = "camelCase")]
    ApplyDeployment {
        name: String,
        image: String,
        replicas: Option<u32>,
        object: Value,
    },
    /// Scale a Deployment (rollout field manager).
    #[serde(rename_all = "camelCase")]
    Scale { name: String, replicas: u32 },
    /// Wait until the Deployments have rolled out, like `kubectl rollout status`.
    #[serde(rename_all = "camelCase")]
    WaitReady { deployments: Vec<String> },
    /// The MCP protocol smoke test against a Service of the server.
    #[serde(rename_all = "camelCase")]
    Smoke {
        service: String,
        port: u16,
        path: String,
    },
    /// Tool-schema compatibility of the candidate against the live version:
    /// a breaking change fails the gate unless `allowBreaking`.
    #[serde(rename_all = "camelCase")]
    ToolSchema {
        candidate: String,
        baseline: String,
        port: u16,
        path: String,
        allow_breaking: bool,
    },
    /// Point the preview Service at the colour being deployed (the rollout
    /// part of the rendered Service; no production traffic moves).
    #[serde(rename_all = "camelCase")]
    PointPreview { to: String, objects: Vec<Value> },
    /// Move all traffic to `to` in one write per traffic object (the rollout
    /// parts of the rendered Service selector or route).
    #[serde(rename_all = "camelCase")]
    Switch {
        to: String,
        from: String,
        objects: Vec<Value>,
    },
    /// Re-read the traffic objects and check that they route as `objects` say.
    #[serde(rename_all = "camelCase")]
    VerifyTraffic { to: String, objects: Vec<Value> },
    /// Re-apply the objects of a recorded revision (rolling rollback).
    #[serde(rename_all = "camelCase")]
    ApplyObjects { revision: u32, objects: Vec<Value> },
    /// Send `weight` percent of the traffic to the canary track through the
    /// server's router: the rollout parts of its route (`objects`), and the
    /// Deployments' replica counts (`scale`, in order; the replica ratio is
    /// the weight without a mesh). Read back after the write. `achieved` is
    /// the weight the router really gives (the replica ratio may differ).
    #[serde(rename_all = "camelCase")]
    SetWeight {
        weight: u32,
        achieved: u32,
        router: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        objects: Vec<Value>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scale: Vec<(String, u32)>,
    },
    /// Hold the canary at `weight` for `seconds` while the analysis samples
    /// Prometheus every interval; a failed analysis stops the rollout at
    /// once (exit 3). `mcpctl promote` ends the hold early.
    #[serde(rename_all = "camelCase")]
    Analyze { weight: u32, seconds: u64 },
}

impl Action {
    /// Whether the action moves traffic (the compensation runs these first).
    pub fn moves_traffic(&self) -> bool {
        matches!(self, Action::Switch { .. } | Action::SetWeight { .. })
    }

    /// Whether the action writes to the cluster.
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Action::ApplyDeployment { .. }
                | Action::Scale { .. }
                | Action::Switch { .. }
                | Action::PointPreview { .. }
                | Action::ApplyObjects { .. }
                | Action::SetWeight { .. }
        )
    }

    /// A one-word name (for tests and compact listings).
    pub fn short(&self) -> &'static str {
        match self {
            Action::ApplyDeployment { .. } => "apply",
            Action::Scale { .. } => "scale",
            Action::WaitReady { .. } => "wait",
            Action::Smoke { .. } => "smoke",
            Action::ToolSchema { .. } => "tools",
            Action::PointPreview { .. } => "preview",
            Action::Switch { .. } => "switch",
            Action::VerifyTraffic { .. } => "verify",
            Action::ApplyObjects { .. } => "objects",
            Action::SetWeight { .. } => "weight",
            Action::Analyze { .. } => "analyze",
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Action::ApplyDeployment {
                name,
                image,
                replicas,
                ..
            } => match replicas {
                Some(r) => format!("apply deployment {name} with image {image}, {r} replicas"),
                None => format!("apply deployment {name} with image {image}"),
            },
            Action::Scale { name, replicas } => format!("scale deployment {name} to {replicas}"),
            Action::WaitReady { deployments } => {
                format!("wait for {} to roll out", deployments.join(", "))
            }
            Action::Smoke {
                service,
                port,
                path,
            } => format!("MCP smoke test of service {service}:{port}{path}"),
            Action::ToolSchema {
                candidate,
                baseline,
                ..
            } => format!("compare the tools of {candidate} with {baseline}"),
            Action::Switch { to, from, objects } => {
                format!("switch traffic from {from} to {to} ({})", names(objects))
            }
            Action::VerifyTraffic { to, .. } => format!("verify that all traffic goes to {to}"),
            Action::PointPreview { to, .. } => format!("point the preview Service at {to}"),
            Action::ApplyObjects { revision, objects } => {
                format!(
                    "re-apply the {} objects of revision {revision}",
                    objects.len()
                )
            }
            Action::SetWeight {
                weight,
                achieved,
                router,
                objects,
                scale,
            } => {
                let mut what: Vec<String> = Vec::new();
                if !objects.is_empty() {
                    what.push(names(objects));
                }
                what.extend(scale.iter().map(|(d, r)| format!("deployment/{d}={r}")));
                let real = if achieved != weight {
                    format!(", {achieved}% achieved by the replica ratio")
                } else {
                    String::new()
                };
                format!(
                    "set the canary weight to {weight}% ({router}{real}: {})",
                    what.join(", ")
                )
            }
            Action::Analyze { weight, seconds } => format!(
                "hold at {weight}% for {} while the analysis samples Prometheus",
                crate::fleet::duration::format(std::time::Duration::from_secs(*seconds))
            ),
        }
    }
}

/// `service/gh, virtualservice/gh`.
pub fn names(objects: &[Value]) -> String {
    let what: Vec<String> = objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or("?").to_lowercase(),
                o["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect();
    what.join(", ")
}

/// A step of a plan and its compensation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub action: Action,
    /// What undoes this step when the operation fails after it; `None` when
    /// nothing needs undoing (a wait, a check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<Action>,
}

/// What a server runs before or after an operation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub image: String,
    /// The colour or track serving it (`blue`, `green`, `stable`).
    pub track: String,
}

/// Work left for later, performed by the next mutating command on the server
/// or by `mcpctl reconcile` once due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DueTask {
    pub action: Action,
    /// Seconds after the operation ends.
    pub after_seconds: u64,
    pub reason: String,
}

/// Everything an operation will do, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// deploy, rollback…
    pub operation: String,
    pub server: String,
    pub strategy: String,
    pub from: Version,
    pub to: Version,
    pub steps: Vec<Step>,
    /// Deferred work recorded when the plan succeeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<DueTask>,
    /// Things the operator should know about this plan (a skipped gate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Canary: the index of the first promotion step (where `promote
    /// --full` jumps to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote_at: Option<usize>,
    /// Canary: every query of an analysis sample, variables filled in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<String>,
}

impl Plan {
    /// The index of the step that moves traffic, if any.
    pub fn switch_index(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.action.moves_traffic())
    }

    /// The compensation of a plan interrupted at step `at` (that step may or
    /// may not have taken effect): the undo actions of steps `0..=at` in
    /// reverse, with traffic moved back first; an undo equal to an earlier
    /// one is done once (every canary step is undone by the same 0%).
    pub fn compensation(&self, at: usize) -> Vec<Action> {
        let last = at.min(self.steps.len().saturating_sub(1));
        let mut undos: Vec<Action> = Vec::new();
        for u in self.steps[..=last]
            .iter()
            .rev()
            .filter_map(|s| s.undo.clone())
        {
            if !undos.contains(&u) {
                undos.push(u);
            }
        }
        let (traffic, rest): (Vec<Action>, Vec<Action>) =
            undos.into_iter().partition(Action::moves_traffic);
        traffic.into_iter().chain(rest).collect()
    }

    /// The plan as lines for people.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} {} ({}): {} → {}\n",
            self.operation,
            self.server,
            self.strategy,
            version_text(&self.from),
            version_text(&self.to)
        );
        for (i, s) in self.steps.iter().enumerate() {
            out.push_str(&format!("  {}. {}\n", i + 1, s.action.describe()));
            if let Some(u) = &s.undo {
                out.push_str(&format!("       undo: {}\n", u.describe()));
            }
        }
        for t in &self.then {
            out.push_str(&format!(
                "  then, after {}: {} ({})\n",
                crate::fleet::duration::format(std::time::Duration::from_secs(t.after_seconds)),
                t.action.describe(),
                t.reason
            ));
        }
        for n in &self.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        if !self.queries.is_empty() {
            out.push_str("  analysis queries (each sample):\n");
            for q in &self.queries {
                out.push_str(&format!("    {q}\n"));
            }
        }
        out
    }
}

impl Version {
    pub fn new(image: impl Into<String>, track: impl Into<String>) -> Version {
        Version {
            image: image.into(),
            track: track.into(),
        }
    }
}

impl Plan {
    /// `operation` of `server` from `from` to `to` by `steps`: nothing
    /// deferred, no notes, no canary fields (set them on the result).
    pub fn new(
        operation: &str,
        server: &crate::fleet::Server,
        from: Version,
        to: Version,
        steps: Vec<Step>,
    ) -> Plan {
        Plan {
            operation: operation.into(),
            server: server.name.clone(),
            strategy: server.strategy.as_str().into(),
            from,
            to,
            steps,
            then: Vec::new(),
            notes: Vec::new(),
            promote_at: None,
            queries: Vec::new(),
        }
    }
}

fn version_text(v: &Version) -> String {
    match (v.image.is_empty(), v.track.is_empty()) {
        (true, _) => "nothing".into(),
        (false, true) => v.image.clone(),
        (false, false) => format!("{} ({})", v.image, v.track),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(action: Action, undo: Option<Action>) -> Step {
        Step { action, undo }
    }

    fn plan() -> Plan {
        Plan {
            operation: "deploy".into(),
            server: "gh".into(),
            strategy: "blue-green".into(),
            from: Version {
                image: "img:1".into(),
                track: "blue".into(),
            },
            to: Version {
                image: "img:2".into(),
                track: "green".into(),
            },
            steps: vec![
                step(
                    Action::Scale {
                        name: "gh-green".into(),
                        replicas: 3,
                    },
                    Some(Action::Scale {
                        name: "gh-green".into(),
                        replicas: 0,
                    }),
                ),
                step(
                    Action::WaitReady {
                        deployments: vec!["gh-green".into()],
                    },
                    None,
                ),
                step(
                    Action::Switch {
                        to: "green".into(),
                        from: "blue".into(),
                        objects: vec![json!({"kind": "Service", "metadata": {"name": "gh"}})],
                    },
                    Some(Action::Switch {
                        to: "blue".into(),
                        from: "green".into(),
                        objects: vec![],
                    }),
                ),
            ],
            then: vec![],
            notes: vec![],
            promote_at: None,
            queries: vec![],
        }
    }

    #[test]
    fn compensation_moves_traffic_back_first() {
        let p = plan();
        let c = p.compensation(2);
        assert_eq!(c.len(), 2);
        assert!(matches!(&c[0], Action::Switch { to, .. } if to == "blue"));
        assert!(matches!(&c[1], Action::Scale { replicas: 0, .. }));
        // Before the switch, only the scale-up is undone.
        let c = p.compensation(1);
        assert_eq!(c.len(), 1);
        assert!(matches!(&c[0], Action::Scale { replicas: 0, .. }));
        // An index past the end is the whole plan.
        assert_eq!(p.compensation(99).len(), 2);
        assert_eq!(p.switch_index(), Some(2));
    }

    #[test]
    fn plans_round_trip_through_json() {
        let p = plan();
        let text = serde_json::to_string(&p).unwrap();
        assert!(text.contains("\"action\":\"scale\""), "{text}");
        let back: Plan = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn describe_lists_steps_and_undos() {
        let d = plan().describe();
        assert!(d.starts_with("deploy gh (blue-green): img:1 (blue) → img:2 (green)"));
        assert!(d.contains("1. scale deployment gh-green to 3"));
        assert!(d.contains("undo: scale deployment gh-green to 0"));
        assert!(d.contains("3. switch traffic from blue to green (service/gh)"));
    }
}
