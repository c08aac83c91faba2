#!/usr/bin/env bash
# The end-to-end tier alone: mcpctl against a real control plane (etcd, kube-apiserver and
# kube-controller-manager built from source, see tests/cluster/build.sh). The first run on a
# machine builds the control plane (needs Go 1.26+); later runs reuse the cache.
# Arguments go to the test binary, e.g. `scripts/e2e.sh stuck` runs the tests matching "stuck".
set -euo pipefail
cd "$(dirname "$0")/.."
tests/cluster/build.sh >/dev/null
exec cargo test --locked --test e2e -- "$@"
