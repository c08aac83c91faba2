//! The end-to-end tier: the real `mcpctl` binary against a real control plane (etcd,
//! kube-apiserver and kube-controller-manager of Kubernetes `test_cluster::KUBE_VERSION`, built
//! from source and cached by `tests/cluster/build.sh`), one control plane for this binary, one
//! namespace per test. `scripts/e2e.sh` runs this tier alone.

/// The CLI tier's helpers that do not depend on a server (running mcpctl, template overrides).
#[path = "../cli/support.rs"]
#[allow(dead_code)]
mod cli_support;
mod support;

/// apply's local "no change" decision against a server's dry runs, shared with the CLI tier.
#[path = "../cli/agreement.rs"]
mod agreement;

mod blue_green;
mod canary;
mod differential;
mod fleet;
mod harness;
mod local_decision;
mod prune;
mod rbac;
mod stuck_rollout;
