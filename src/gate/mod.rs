//! Gates a rollout is held by: the MCP smoke test (does the server speak the
//! protocol and list its tools?), tool-schema compatibility (would clients
//! of the old tool list break against the new one?), and the canary analysis
//! (Prometheus queries judged sample by sample: `prometheus`, `query`,
//! `analysis`, `sample`).

pub mod analysis;
pub mod prometheus;
pub mod query;
pub mod sample;
pub mod smoke;
pub mod tools;

pub use smoke::{
    CallTiming, Endpoint, Era, FailureKind, SmokeFailure, SmokeOptions, SmokeReport, smoke,
};
pub use tools::{Change, Severity, Tool, ToolDiff, compare};
