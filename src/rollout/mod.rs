//! The operation engine every deploy and rollback goes through: lock, plan,
//! journal, execute, compensate, record, release.
//!
//! - [`plan`]: the plan types (steps, each with its undo).
//! - [`bluegreen`], [`canary`] and [`rolling`]: the strategies, pure
//!   functions from the model and the observed state to a plan.
//! - [`hold`]: a canary step's hold (analysis samples) and the watcher of
//!   `promote`/`abort` requests.
//! - [`execute`]: runs a plan step by step, writing the journal after each,
//!   and on failure or interruption runs its compensation (traffic first).
//! - [`events`]: what the engine reports; only `output/` prints them.
//! - [`due`]: deferred work (delayed scale-downs) and who performs it.

pub mod bluegreen;
pub mod canary;
pub mod due;
pub mod events;
pub mod execute;
pub mod gates;
pub mod hold;
pub mod observed;
pub mod plan;
pub mod record;
pub mod rolling;
pub mod run;
