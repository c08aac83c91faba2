//! Integration tests: run the real `mcpctl` binary. One test binary for all of
//! them, so the suite links once.

mod support;

mod agreement;
mod apply_writes;
mod canary;
mod certs;
mod ci_examples;
mod cluster_apply;
mod cluster_dashboard;
mod cluster_diff;
mod cluster_history;
mod cluster_prune;
mod cluster_status;
mod cluster_support;
mod completions;
mod deploy;
mod deploy_gates;
mod fleet_errors;
mod fleet_lock;
mod help;
mod lint;
mod local_decision;
mod output_shapes;
mod rbac;
mod render;
mod schema;
mod seed;
mod smoke;
mod terminal;
