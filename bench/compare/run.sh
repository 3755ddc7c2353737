#!/usr/bin/env bash
# The side-by-side benchmark: every operation by the librbd floor (a C
# program), by this project (function processes over HTTP), by the Ceph
# dashboard's REST API and by the rbd/ceph CLIs, on one sandbox cluster with
# a mgr and the dashboard, in one run. Writes bench/results/compare.{md,json}.
#
#   npm run bench                 # full: pools of 1,000 and 10,000 images; under 10 min
#   npm run bench -- --quick      # CI smoke: smaller counts, no 10,000 pool; under 2 min
#   npm run bench -- --out DIR
#
# --quick writes to bench/results/quick.tmp/ unless --out is given. Every
# figure is reported as a ratio to the floor and to this project, measured in
# the same run; CI asserts no timings.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh

drv_pid=
bench_on_exit() {
  if [[ -n $drv_pid ]] && kill -0 "$drv_pid" 2>/dev/null; then kill -TERM "$drv_pid"; wait "$drv_pid" || true; fi
}
bench_init compare "$@"

# ---- build (before the cluster, so a build error costs no boot) ----
[[ -f native/build/Release/rbd_native.node ]] || die "native addon not built; run: npm run build:native"
log "building the TypeScript and the floor"
node node_modules/typescript/bin/tsc -p tsconfig.json
node scripts/bundle.mjs >/dev/null
node scripts/bundle.mjs --outdir dist/bench/bundle --entry express-floor=bench/compare/express-floor.ts >/dev/null
gcc -O2 -Wall -pthread -o "$work/floor" bench/compare/floor.c -lrados -lrbd

# ---- cluster with mgr and dashboard ----
bench_clean_env
bench_cluster --dashboard
ceph_cli=(ceph -c "$CEPH_CONF" --connect-timeout 20)

pools=(bench-100=100 bench-1k=1000)
[[ $mode == full ]] && pools+=(bench-10k=10000)
for spec in "${pools[@]}"; do
  pool=${spec%=*} count=${spec#*=}
  t=$SECONDS
  "${ceph_cli[@]}" osd pool create "$pool" 8 8 >/dev/null 2>&1
  timeout 120 rbd -c "$CEPH_CONF" pool init "$pool"
  timeout 600 "$work/floor" prefill "$CEPH_CONF" "$pool" img "$count" 16 >/dev/null
  log "pool $pool: $count images in $((SECONDS - t)) s"
done

# The lifecycle rows' pools (images made per sample by the floor, and one
# for purge-trash's trash); clones are v2
# for every system, as on a cluster that requires mimic clients or newer.
"${ceph_cli[@]}" osd pool create bench-life 8 8 >/dev/null 2>&1
timeout 120 rbd -c "$CEPH_CONF" pool init bench-life
"${ceph_cli[@]}" osd pool create bench-purge 8 8 >/dev/null 2>&1
timeout 120 rbd -c "$CEPH_CONF" pool init bench-purge
"${ceph_cli[@]}" osd set-require-min-compat-client mimic --yes-i-really-mean-it >/dev/null 2>&1

# ---- machine and cluster facts ----
meta=$work/meta.env
{
  machine_facts
  echo "ceph=$(ceph --version | sed 's/ (.*)//')"
  echo "git=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- shared functions native bench 2>/dev/null || echo ' + uncommitted changes')"
} >"$meta"

# ---- runs ----
timeout 1200 node dist/bench/compare/bench.js --floor "$work/floor" --mode "$mode" >"$work/runs.jsonl" &
drv_pid=$!
wait "$drv_pid"
drv_pid=
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$meta"
echo "wall_seconds=$((SECONDS - t_start))" >>"$meta"

mkdir -p "$out"
node dist/bench/compare/report.js --meta "$meta" --md "$out/compare.md" --json "$out/compare.json" "$work/runs.jsonl"
log "wrote $out/compare.md and $out/compare.json in $((SECONDS - t_start)) s"
