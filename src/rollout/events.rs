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
    /// The canary weight was set and read back.
    #[serde(rename_all = "camelCase")]
    WeightSet {
        weight: u32,
        /// What the router really gives (the replica ratio without a mesh).
        achieved: u32,
        router: String,
    },
    /// A canary step's hold starts: `seconds` at `weight`, sampled meanwhile.
    #[serde(rename_all = "camelCase")]
    Holding { weight: u32, seconds: u64 },
    /// One analysis sample: each query's value against its threshold.
    #[serde(rename_all = "camelCase")]
    Sample {
        /// The canary weight held.
        weight: u32,
        /// 1-based, over the whole rollout.
        index: usize,
        /// pass, fail or no-data.
        verdict: String,
        /// Failed samples so far, and how many abort.
        failed: u32,
        failure_limit: u32,
        checks: Vec<SampleCheck>,
    },
    /// A `promote` or `abort` request reached the operation.
    #[serde(rename_all = "camelCase")]
    Control { request: String, who: String },
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

/// One query of a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleCheck {
    pub name: String,
    /// canary or stable.
    pub track: String,
    pub query: String,
    pub value: Option<f64>,
    /// `<= 0.01`, `>= 20`.
    pub threshold: Option<String>,
    /// pass, fail, no-data, error.
    pub outcome: String,
    /// Why, for anything but a pass.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}
