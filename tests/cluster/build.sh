#!/usr/bin/env bash
# Builds the real control plane the end-to-end tier runs against: kube-apiserver and
# kube-controller-manager of one Kubernetes release, and etcd, all from source through the Go
# module proxy. Nothing prebuilt is downloaded.
#
# The binaries are cached by version outside the work tree, in
#   ${MCPCTL_TEST_CACHE:-~/.cache/mcpctl-test}/k8s-v<KUBE_VERSION>/bin/
# so only the first run on a machine pays for the build. A finished cache holds a `.complete`
# stamp; a build that was interrupted is started again.
#
# Usage: tests/cluster/build.sh            build what is missing, print the bin directory last
#        tests/cluster/build.sh --print    print the bin directory without building
#
# Versions: Kubernetes 1.37 is the newest release k8s-openapi 0.29 has a feature for; etcd 3.6
# is the release line Kubernetes 1.37 supports as its storage.
set -euo pipefail

KUBE_VERSION=1.37.2
ETCD_VERSION=3.6.16

cache_root="${MCPCTL_TEST_CACHE:-${HOME}/.cache/mcpctl-test}"
dir="${cache_root}/k8s-v${KUBE_VERSION}"
bin="${dir}/bin"

if [ "${1:-}" = "--print" ]; then
    echo "$bin"
    exit 0
fi

log() { echo "[control-plane build $(date +%H:%M:%S)] $*" >&2; }

if [ -f "${dir}/.complete" ]; then
    log "reusing kube-apiserver, kube-controller-manager v${KUBE_VERSION} and etcd v${ETCD_VERSION} in ${bin}"
    echo "$bin"
    exit 0
fi

# The official tarball's place, for shells whose PATH does not have it.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
    PATH="/usr/local/go/bin:${PATH}"
fi
if ! command -v go >/dev/null; then
    log "error: no Go toolchain on PATH: the end-to-end tier builds Kubernetes v${KUBE_VERSION} from source and needs Go 1.26 or newer (https://go.dev/dl/, or /usr/local/go/bin on PATH)"
    exit 1
fi

mkdir -p "$dir"
# One build at a time per cache: test binaries or scripts started together wait here.
exec 9>"${dir}/.lock"
if ! flock -n 9; then
    log "another build of this cache is running; waiting for it"
    flock 9
fi
if [ -f "${dir}/.complete" ]; then
    log "reusing ${bin} (built while waiting)"
    echo "$bin"
    exit 0
fi

# Two cores are often shared with other builds: stay out of their way.
nice_cmd=(nice -n "${MCPCTL_TEST_BUILD_NICE:-15}")
export GOFLAGS="-buildvcs=false -trimpath"
export CGO_ENABLED=0
start=$(date +%s)
log "building into ${dir} with $(go version | cut -d' ' -f3) (GOPROXY=$(go env GOPROXY))"

# --- etcd: its server module's main package.
log "step 1/5: building etcd v${ETCD_VERSION} (a few CPU-minutes)"
t0=$(date +%s)
esrc="${dir}/src/etcd"
mkdir -p "$esrc" "$bin"
cd "$esrc"
cat >go.mod <<GOMOD
module mcpctl.test/etcd

go 1.24
GOMOD
"${nice_cmd[@]}" go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" 2>&1 | sed 's/^/    /' >&2
"${nice_cmd[@]}" go build -ldflags "-s -w" -o "${bin}/etcd.tmp" go.etcd.io/etcd/server/v3
mv "${bin}/etcd.tmp" "${bin}/etcd"
log "built etcd in $(( $(date +%s) - t0 ))s"

# --- Kubernetes: a scratch module that requires k8s.io/kubernetes and replaces every staging
# module k8s.io/* (required there as v0.0.0 and replaced by ./staging/...) with its v0.x.y release.
src="${dir}/src/kubernetes"
mkdir -p "$src" "$bin"
staging_version="v0.${KUBE_VERSION#1.}"
cd "$src"
log "step 2/5: resolving k8s.io/kubernetes v${KUBE_VERSION} and its staging modules at ${staging_version}"
kube_mod=$(go mod download -json "k8s.io/kubernetes@v${KUBE_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
if [ -z "$kube_mod" ] || [ ! -f "$kube_mod" ]; then
    log "error: could not download the go.mod of k8s.io/kubernetes v${KUBE_VERSION} from $(go env GOPROXY)"
    exit 1
fi
go_line=$(grep -m1 '^go ' "$kube_mod")
{
    echo "module mcpctl.test/control-plane"
    echo
    echo "$go_line"
    echo
    echo "require k8s.io/kubernetes v${KUBE_VERSION}"
    echo
    echo "replace ("
    grep -E '^[[:space:]]+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$kube_mod" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
} >go.mod
cat >tools.go <<'GO'
//go:build tools

// Package tools names the commands this scratch module builds, so that `go mod tidy` keeps
// their dependencies.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)
GO
log "step 3/5: downloading modules (go mod tidy; about 1 GB into an empty module cache)"
"${nice_cmd[@]}" go mod tidy -e 2>&1 | sed 's/^/    /' >&2
if ! go list -m k8s.io/kubernetes >/dev/null; then
    log "error: go mod tidy did not resolve k8s.io/kubernetes; see the lines above"
    exit 1
fi

# The version the binaries report (and emulate): set the way Kubernetes' own build sets it.
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=v${KUBE_VERSION}"
    ldflags+=" -X ${pkg}.gitMajor=${KUBE_VERSION%%.*}"
    minor=${KUBE_VERSION#*.}
    ldflags+=" -X ${pkg}.gitMinor=${minor%%.*}"
    ldflags+=" -X ${pkg}.gitTreeState=clean"
    ldflags+=" -X ${pkg}.buildDate=${build_date}"
done
step=4
for cmd in kube-apiserver kube-controller-manager; do
    # Measured cold: about 17 CPU-minutes for kube-apiserver, then 3 for the controller manager
    # (most packages are shared); the Go build cache grows by about 4 GB.
    log "step ${step}/5: building ${cmd} v${KUBE_VERSION} (the longest step: see tests/cluster/README.md for the time it takes)"
    step=$((step + 1))
    t0=$(date +%s)
    "${nice_cmd[@]}" go build -ldflags "-s -w ${ldflags}" -o "${bin}/${cmd}.tmp" "k8s.io/kubernetes/cmd/${cmd}"
    mv "${bin}/${cmd}.tmp" "${bin}/${cmd}"
    log "built ${cmd} in $(( $(date +%s) - t0 ))s"
done

for b in kube-apiserver kube-controller-manager etcd; do
    "${bin}/${b}" --version 2>&1 | head -1 | sed "s/^/    ${b}: /" >&2
done
elapsed=$(( $(date +%s) - start ))
echo "kube ${KUBE_VERSION} etcd ${ETCD_VERSION} built in ${elapsed}s on $(nproc) cores" >"${dir}/.complete"
log "done in ${elapsed}s: ${bin}"
echo "$bin"
