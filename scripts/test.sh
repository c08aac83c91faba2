#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every tier of tests: unit, the CLI against the
# API server stand-in (tests/cli, tests/apiserver), and end to end against a real control plane
# (tests/e2e; its binaries are built from source on the first run, see tests/cluster/build.sh).
# Installs what the tests need on a fresh Debian machine (run as root, or with
# the tools already present).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=0
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "test.sh: $* missing and not root: install it, or some tests are skipped" >&2
        return 1
    fi
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq >/dev/null
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# kubectl: the compatibility test of the test API server drives it (skipped without it).
command -v kubectl >/dev/null || apt_install kubectl || true
# openssl: the end-to-end tier makes its control plane's certificates with it.
command -v openssl >/dev/null || apt_install openssl
# prometheus: the analysis tests (tests/analysis) query a real one, started by tests/prometheus.
command -v prometheus >/dev/null || apt_install --no-install-recommends prometheus

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The end-to-end tier's control plane: built once per machine (about 20 CPU-minutes, see
# tests/cluster/README.md), then reused. Fails, and stops the run, without a Go toolchain.
tests/cluster/build.sh >/dev/null
cargo test --workspace --locked
