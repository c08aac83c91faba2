//! What the engine reports as it goes. Only `output/` turns these into
//! text (terminal lines today; NDJSON and CI annotations use the same events).

use serde::Serialize;

/// One thing that happened during an operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    #[serde(rename_all = "camelCase")]
    OperationStarted {
        id: String,
        kind: String,
        server: String,
        strategy: String,
        from: String,
        to: String,
        resumed_at: Option<usize>,
    },
    #[serde(rename_all = "camelCase")]
    StepStarted {
        index: usize,
        total: usize,
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    ObjectApplied { object: String, manager: String },
    /// A Deployment's rollout as `kubectl rollout status` would print it.
    #[serde(rename_all = "camelCase")]
    Waiting {
        deployment: String,
        message: String,
        done: bool,
    },
    #[serde(rename_all = "camelCase")]
    Gate {
        gate: String,
        passed: bool,
        detail: String,
    },
    #[serde(rename_all = "camelCase")]
    Switched { from: String, to: String },
    #[serde(rename_all = "camelCase")]
    Restoring { why: String },
    #[serde(rename_all = "camelCase")]
    Undone { text: String },
    #[serde(rename_all = "camelCase")]
    DueTask { text: String, done: bool },
    #[serde(rename_all = "camelCase")]
    Warning { message: String },
    #[serde(rename_all = "camelCase")]
    Recorded { revision: u32 },
    #[serde(rename_all = "camelCase")]
    Finished {
        outcome: String,
        exit_code: u8,
        message: String,
    },
}
