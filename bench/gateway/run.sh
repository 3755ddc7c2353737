#!/usr/bin/env bash
# Gateway benchmark: each function through the local gateway over HTTP
# (`node dist/shared/local/main.js`, its own process) next to the same work
# through the addon alone (CephClient in the driver, bench/gateway/bench.ts),
# on one throwaway cluster, in one run. Writes bench/results/gateway.md and
# gateway.json.
#
#   npm run bench:gateway                 # full: per op 4 turns per tool (ABBA BAAB); ~2-3 min
#   npm run bench:gateway -- --quick      # CI smoke: per op addon, gateway; small counts; < 40 s
#   npm run bench:gateway -- --out DIR    # write the results elsewhere
#
# --quick writes to bench/results/quick.tmp/ (gitignored) unless --out is
# given, so a smoke run never overwrites the recorded full results.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh

gw_pid= drv_pid=
bench_on_exit() {
  # The driver runs in the background so that a signal is handled at once;
  # its http-floor child exits when the driver's end of its stdin closes.
  if [[ -n $drv_pid ]] && kill -0 "$drv_pid" 2>/dev/null; then
    kill -TERM "$drv_pid" 2>/dev/null || true
    wait "$drv_pid" 2>/dev/null || true
  fi
  stop_gateway_hard
  if (($1 != 0)) && [[ -s $work/gateway.log ]]; then
    log "last lines of the gateway's log:"
    tail -n 20 "$work/gateway.log" >&2
  fi
}
bench_init gateway "$@"

if ((quick)); then
  iterations=list-pools=100,list-images=30,list-images-detail=3,create-image=5,create-image-bare=5
  order='addon gateway'
  bare_turns=1
else
  # Per turn; 4 turns per tool: 4000, 1000, 40, 200 (+200 deletes) samples per
  # tool; 100 bare creates in 2 addon turns.
  iterations=list-pools=1000,list-images=250,list-images-detail=10,create-image=50,create-image-bare=50
  # ABBA BAAB per op: linear and quadratic drift (load from other tenants,
  # cluster state) weigh on both tools equally.
  order='addon gateway gateway addon gateway addon addon gateway'
  bare_turns=2
fi
readonly POOL=rbd LIST_POOL=bench-list GATEWAY_MAIN=dist/shared/local/main.js

# True while gw_pid is the gateway this script started (guards against pid reuse).
gateway_alive() {
  [[ -n $gw_pid ]] && kill -0 "$gw_pid" 2>/dev/null && grep -qzF -- "$GATEWAY_MAIN" "/proc/$gw_pid/cmdline" 2>/dev/null
}

stop_gateway_hard() {
  gateway_alive || return 0
  kill -TERM "$gw_pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do gateway_alive || return 0; sleep 0.1; done
  log "gateway pid $gw_pid ignored SIGTERM for 10 s, sending SIGKILL"
  kill -KILL "$gw_pid" 2>/dev/null || true
}

# ---- build (before the cluster, so a build error costs no boot) ----
[[ -f native/build/Release/rbd_native.node ]] || die "native addon not built; run: npm run build:native"
log "building the driver, the gateway and the functions"
node node_modules/typescript/bin/tsc -p bench/gateway/tsconfig.json
[[ -f $GATEWAY_MAIN ]] || die "$GATEWAY_MAIN missing after the build"

# ---- cluster ----
bench_clean_env
# The gateway defaults to 16 libuv threads; the driver gets the same, so that
# the addon's detail page runs its 16 stats as concurrently as the function's.
export UV_THREADPOOL_SIZE=16
bench_cluster
ceph_cli=(ceph -c "$CEPH_CONF" --connect-timeout 20)
rbd_cli=(timeout 300 rbd -c "$CEPH_CONF")

log "pool $LIST_POOL: create, init, pre-fill with 200 images"
"${ceph_cli[@]}" osd pool create "$LIST_POOL" 8 8 >&2
"${rbd_cli[@]}" pool init "$LIST_POOL"
timeout 120 node dist/bench/gateway/bench.js prefill "$LIST_POOL" 200
[[ $("${rbd_cli[@]}" ls -p "$LIST_POOL" | wc -l) == 200 ]] || die "pre-fill of $LIST_POOL failed"

# ---- gateway ----
mkdir -p "$work/gateway-tmp"
for attempt in 1 2 3; do
  port=$(free_port)
  log "starting the gateway on port $port (attempt $attempt)"
  # TMPDIR: the gateway writes its lock file there; keep it out of the shared /tmp.
  PORT=$port LOG_LEVEL=warn TMPDIR=$work/gateway-tmp node "$GATEWAY_MAIN" >>"$work/gateway.log" 2>&1 &
  gw_pid=$!
  ready=0
  for ((i = 0; i < 300; i++)); do
    gateway_alive || break
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/_/ready" || true) == 200 ]]; then
      ready=1
      break
    fi
    sleep 0.1
  done
  ((ready)) && break
  if gateway_alive; then die "gateway (pid $gw_pid) not ready after 30 s"; fi
  wait "$gw_pid" || true
  gw_pid=
  grep -q EADDRINUSE "$work/gateway.log" || die "gateway exited before it was ready"
done
((ready)) || die "gateway could not get a port"
log "gateway ready: pid $gw_pid, http://127.0.0.1:$port ($((SECONDS - t_start)) s since start)"

# ---- machine and cluster facts ----
meta=$work/meta.env
{
  machine_facts
  echo "order=per op: $order (an addon-paced turn after each addon turn except for the detail page; list-pools: an http-floor turn after each gateway turn); create-image-bare: $bare_turns addon turns"
  echo "iterations=$iterations (per turn)"
  echo "ceph=$(ceph --version | sed 's/ (.*)//') client; cluster: $("${ceph_cli[@]}" version 2>/dev/null | sed 's/ (.*)//')"
  echo "git=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- shared functions native 2>/dev/null || echo ' + uncommitted changes in shared/functions/native')"
} >"$meta"

# ---- runs ----
runs=$work/runs.jsonl
timeout 900 node dist/bench/gateway/bench.js run --url "http://127.0.0.1:$port" --gateway-pid "$gw_pid" \
  --pool "$POOL" --list-pool "$LIST_POOL" --iterations "$iterations" --order "$order" --bare-turns "$bare_turns" >"$runs" &
drv_pid=$!
wait "$drv_pid"  # returns at once on a signal, so the trap can clean up
drv_pid=

# ---- stop the gateway: SIGTERM, it drains and must exit 0 ----
gw_rc=0
kill -TERM "$gw_pid"
wait "$gw_pid" || gw_rc=$?
gw_pid=
log "gateway exited with status $gw_rc"
((gw_rc == 0)) || die "gateway exited with $gw_rc after SIGTERM"
[[ ! -e $work/gateway-tmp/.lock ]] || log "warning: the gateway left its lock file behind"
left=$("${rbd_cli[@]}" ls -p "$POOL" | wc -l)
((left == 0)) || die "$left images left in pool $POOL"

{
  echo "gateway_exit=$gw_rc"
  echo "gateway_log_lines=$(wc -l <"$work/gateway.log")"
  echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "other_daemons_after=$(other_daemons)"
  echo "wall_seconds=$((SECONDS - t_start))"
} >>"$meta"
if [[ -s $work/gateway.log ]]; then
  log "the gateway logged (LOG_LEVEL=warn):"
  head -n 5 "$work/gateway.log" >&2
fi

# ---- report ----
mkdir -p "$out"
node dist/bench/gateway/report.js --meta "$meta" --md "$out/gateway.md" --json "$out/gateway.json" "$runs"
echo
log "wrote $out/gateway.md and $out/gateway.json in $((SECONDS - t_start)) s"
