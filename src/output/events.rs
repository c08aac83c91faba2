//! The engine's events as lines on stderr, for people and plain CI logs.

use super::Printer;
use crate::rollout::events::Event;

/// One line for an event (`None`: nothing to show at this verbosity).
pub fn line(e: &Event) -> Option<String> {
    Some(match e {
        Event::OperationStarted {
            kind,
            server,
            strategy,
            from,
            to,
            resumed_at,
            id,
        } => {
            let resumed = resumed_at
                .map(|s| format!(", resumed at step {s}"))
                .unwrap_or_default();
            format!("{kind} {server} ({strategy}): {from} → {to} [operation {id}{resumed}]")
        }
        Event::StepStarted { index, total, text } => format!("[{index}/{total}] {text}"),
        Event::ObjectApplied { object, manager } => format!("  {object} applied ({manager})"),
        Event::Waiting { message, .. } => format!("  {message}"),
        Event::Gate {
            gate,
            passed,
            detail,
        } => format!(
            "  {gate}: {} — {detail}",
            if *passed { "passed" } else { "FAILED" }
        ),
        Event::Switched { from, to } => format!("  traffic switched from {from} to {to}"),
        Event::Restoring { why } => format!("restoring the last good version: {why}"),
        Event::Undone { text } => format!("  undone: {text}"),
        Event::DueTask { text, done } => {
            format!("due task: {text}{}", if *done { " (done)" } else { "" })
        }
        Event::Warning { message } => format!("warning: {message}"),
        Event::Recorded { revision } => format!("recorded revision {revision}"),
        Event::Finished {
            outcome, exit_code, ..
        } => format!("finished: {outcome} (exit {exit_code})"),
    })
}

impl Printer {
    /// Shows an engine event on stderr.
    pub fn event(&self, e: &Event) {
        if let Some(l) = line(e) {
            match e {
                Event::Warning { .. } | Event::Restoring { .. } => self.warn(&l),
                _ => self.status(&l),
            }
        }
    }
}
