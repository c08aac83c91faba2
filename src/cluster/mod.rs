//! Talking to the cluster: client set-up, discovery, server-side apply,
//! waiting for rollouts, diffs, status, the journal and the per-server lock.
//! Decisions (retry, rollout evaluation, lease expiry, pruning, masking) are
//! pure functions tested without a cluster; the I/O around them is thin.

pub mod apply;
pub mod client;
pub mod diff;
pub mod discovery;
pub mod identity;
pub mod journal;
pub mod lock;
pub mod nochange;
pub mod observe;
pub mod prune;
pub mod retry;
pub mod session;
pub mod status;
pub mod wait;

pub use client::{Cluster, ConnectOptions, Req, Resp, connect, runtime};
