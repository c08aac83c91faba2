//! Deferred work without a controller. A blue-green deploy keeps the old
//! colour up for a scale-down delay that usually outlives the process, so it
//! records "scale `x-blue` to 0 after T" as a due task in the server's
//! journal. The next mutating command on the server performs its due tasks
//! first; `mcpctl reconcile` performs every due task of the fleet.

use jiff::Timestamp;

use super::plan::{Action, DueTask};
use crate::cluster::journal::{Due, rfc3339};

/// Due records for a finished operation's deferred work.
pub fn schedule(now: Timestamp, operation: &str, tasks: &[DueTask]) -> Vec<Due> {
    tasks
        .iter()
        .map(|t| Due {
            action: t.action.clone(),
            due_at: rfc3339(
                now.checked_add(jiff::SignedDuration::from_secs(t.after_seconds as i64))
                    .unwrap_or(now),
            ),
            reason: t.reason.clone(),
            operation: operation.to_string(),
        })
        .collect()
}

/// Splits tasks into those due at `now` and those still waiting. A task
/// whose time cannot be read is due (better early than never).
pub fn due_now(tasks: &[Due], now: Timestamp) -> (Vec<Due>, Vec<Due>) {
    tasks.iter().cloned().partition(|t| {
        t.due_at
            .parse::<Timestamp>()
            .map(|at| at <= now)
            .unwrap_or(true)
    })
}

/// Drops tasks that would scale down a Deployment that serves traffic now
/// (`serving`): after a rollback the "old" colour is the live one again.
pub fn without_serving(tasks: Vec<Due>, serving: &[String]) -> Vec<Due> {
    tasks
        .into_iter()
        .filter(|t| match &t.action {
            Action::Scale { name, replicas: 0 } => !serving.contains(name),
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(name: &str) -> Action {
        Action::Scale {
            name: name.into(),
            replicas: 0,
        }
    }

    #[test]
    fn tasks_fall_due_after_their_delay() {
        let t0: Timestamp = "2026-11-21T06:00:00Z".parse().unwrap();
        let tasks = schedule(
            t0,
            "op1",
            &[DueTask {
                action: scale("gh-blue"),
                after_seconds: 600,
                reason: "delay".into(),
            }],
        );
        assert_eq!(tasks[0].due_at, "2026-11-21T06:10:00Z");
        let (now, later) = due_now(&tasks, t0);
        assert!(now.is_empty() && later.len() == 1);
        let t1: Timestamp = "2026-11-21T06:10:00Z".parse().unwrap();
        let (now, later) = due_now(&tasks, t1);
        assert!(now.len() == 1 && later.is_empty());
    }

    #[test]
    fn a_scale_down_of_what_serves_is_dropped() {
        let t0: Timestamp = "2026-11-21T06:00:00Z".parse().unwrap();
        let mk = |n: &str| DueTask {
            action: scale(n),
            after_seconds: 1,
            reason: String::new(),
        };
        let tasks = schedule(t0, "op", &[mk("gh-blue"), mk("gh-green")]);
        let kept = without_serving(tasks, &["gh-blue".to_string()]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].action, scale("gh-green"));
    }
}
