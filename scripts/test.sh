#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests.
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

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
