#!/usr/bin/env bash
# Core-operation benchmark: the addon (through CephClient) against the same
# librados/librbd calls made from C (bench/core/floor.c), on one throwaway
# cluster, in one run. Writes bench/results/core.md and core.json.
#
#   npm run bench:core                 # full: per op 4 turns per tool (ABBA BAAB); ~2 min
#   npm run bench:core -- --quick      # CI smoke: per op floor, addon; small counts; ~30 s
#   npm run bench:core -- --out DIR    # write the results elsewhere
#
# --quick writes to bench/results/quick.tmp/ (gitignored) unless --out is
# given, so a smoke run never overwrites the recorded full results.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
bench_init core "$@"

if ((quick)); then
  iterations=connect=3,list_pools=200,list_images=50,stat=50,create=20,remove=20,trash_move=10
  # One turn each is enough to prove the harness works.
  order=(floor addon)
else
  # Per turn; 4 turns per tool make the totals 40, 4000, 1000, 1000, 400, 400, 200.
  iterations=connect=10,list_pools=1000,list_images=250,stat=250,create=100,remove=100,trash_move=50
  # ABBA BAAB per op: linear and quadratic drift (load from other tenants,
  # cluster state) weigh on both tools equally.
  order=(floor addon addon floor addon floor floor addon)
fi
readonly POOL=rbd LIST_POOL=bench-list

# ---- build (before the cluster, so a build error costs no boot) ----
[[ -f native/build/Release/rbd_native.node ]] || die "native addon not built; run: npm run build:native"
log "building floor.c and addon.ts"
gcc -O2 -Wall -Wextra -o "$work/floor" bench/core/floor.c -lrados -lrbd
node node_modules/typescript/bin/tsc -p bench/core/tsconfig.json
floor=("$work/floor")
addon=(node dist/bench/core/addon.js)

# ---- cluster ----
bench_clean_env
bench_cluster
ceph_cli=(ceph -c "$CEPH_CONF" --connect-timeout 20)
rbd_cli=(timeout 300 rbd -c "$CEPH_CONF")

log "pool $LIST_POOL: create, init, pre-fill with 200 images"
"${ceph_cli[@]}" osd pool create "$LIST_POOL" 8 8 >&2
"${rbd_cli[@]}" pool init "$LIST_POOL"
timeout 300 "${floor[@]}" "$CEPH_CONF" "$POOL" prefill 0 "$LIST_POOL"
[[ $("${rbd_cli[@]}" ls -p "$LIST_POOL" | wc -l) == 200 ]] || die "pre-fill of $LIST_POOL failed"

# ---- machine and cluster facts ----
meta=$work/meta.env
{
  machine_facts
  echo "order=per op: ${order[*]}"
  echo "iterations=$iterations (per turn)"
  echo "ceph=$(ceph --version | sed 's/ (.*)//') client; cluster: $("${ceph_cli[@]}" version 2>/dev/null | sed 's/ (.*)//')"
} >"$meta"

# ---- runs ----
# Op by op, the tools take turns (order above), each in a fresh process with
# its own long-lived connection; create and remove share a process so that
# remove deletes what create made. Back-to-back turns keep the floor and the
# addon of one op seconds apart, so load from other tenants hits both alike.
groups=(connect list_pools list_images stat create,remove trash_move)
inputs=()
for group in "${groups[@]}"; do
  declare -A rounds=()
  for tool in "${order[@]}"; do
    rounds[$tool]=$((${rounds[$tool]:-0} + 1))
    round=${rounds[$tool]}
    result=$work/$tool-$round-${group/,/-}.jsonl
    t0=$SECONDS
    if [[ $tool == floor ]]; then
      BENCH_ROUND=$round timeout 600 "${floor[@]}" "$CEPH_CONF" "$POOL" "$group" "$iterations" "$LIST_POOL" floor >"$result"
    else
      BENCH_ROUND=$round timeout 600 "${addon[@]}" "$POOL" "$group" "$iterations" "$LIST_POOL" addon >"$result"
    fi
    log "$tool round $round, $group: $(node -e '
      const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
      console.log(lines.map((l) => `${l.op} p50 ${l.p50_us} µs`).join(", "));' "$result") ($((SECONDS - t0)) s)"
    inputs+=("$result")
    # Same starting state for the next run: empty trash, no leftover images.
    if [[ $group == trash_move ]]; then "${rbd_cli[@]}" trash purge "$POOL" --no-progress; fi
    left=$("${rbd_cli[@]}" ls -p "$POOL" | wc -l)
    ((left == 0)) || die "$left images left in pool $POOL after $tool round $round of $group"
  done
  unset rounds
done

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$meta"
echo "wall_seconds=$((SECONDS - t_start))" >>"$meta"

# ---- report ----
mkdir -p "$out"
node dist/bench/core/report.js --meta "$meta" --md "$out/core.md" --json "$out/core.json" "${inputs[@]}"
echo
log "wrote $out/core.md and $out/core.json in $((SECONDS - t_start)) s"
