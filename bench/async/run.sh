#!/usr/bin/env bash
# Async throughput benchmark: calls completed per second through the local
# gateway's async queue (RBD_ASYNC_CONCURRENCY=8), callbacks to a receiver on
# loopback, against the same calls made synchronously by 8 concurrent
# clients, on one throwaway cluster, in one run (bench/async/bench.ts).
#
#   npm run bench:async               # list-pools 2000, create+delete 300 per turn; ~1-2 min
#   npm run bench:async -- --quick    # CI smoke: 200 and 30
#   npm run bench:async -- --out DIR
#
# --quick writes to bench/results/quick.tmp/ unless --out is given.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[bench:async] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

calls=list-pools=2000,create-image=300 out= mode=full
while (($#)); do
  case $1 in
    --quick) calls=list-pools=200,create-image=30 mode=quick; out=${out:-bench/results/quick.tmp} ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done
out=${out:-bench/results}
readonly CONCURRENCY=8 GATEWAY_MAIN=dist/shared/local/main.js

t_start=$SECONDS
work=$(mktemp -d /tmp/rbd-bench-async.XXXXXX)
sandbox=$work/cluster
gw_pid=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $gw_pid ]] && kill -0 "$gw_pid" 2>/dev/null; then kill -TERM "$gw_pid"; wait "$gw_pid" || true; fi
  [[ -e $sandbox ]] && { bash test/sandbox/cluster.sh down "$sandbox" || log "warning: teardown of $sandbox failed"; }
  ((rc != 0)) && [[ -s $work/gateway.log ]] && tail -n 20 "$work/gateway.log" >&2
  rm -rf -- "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ -f native/build/Release/rbd_native.node ]] || die "native addon not built; run: npm run build:native"
node node_modules/typescript/bin/tsc -p tsconfig.json
unset CEPH_ID CEPH_MON_HOST CEPH_KEY CEPH_ARGS NODE_OPTIONS RBD_API_TOKEN RBD_POOLS K_SINK exec_timeout max_inflight
export OPENFAAS_SECRETS_DIR=$work/no-secrets
log "booting sandbox cluster in $sandbox"
eval "$(bash test/sandbox/cluster.sh up "$sandbox")"
export CEPH_CONF CEPH_KEYRING

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$work/tmp"
PORT=$port LOG_LEVEL=warn TMPDIR=$work/tmp RBD_ASYNC_CONCURRENCY=$CONCURRENCY RBD_ASYNC_QUEUE_SIZE=100000 \
  node "$GATEWAY_MAIN" >>"$work/gateway.log" 2>&1 &
gw_pid=$!
for ((i = 0; i < 300; i++)); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/_/ready" || true) == 200 ]] && break
  kill -0 "$gw_pid" 2>/dev/null || die "gateway exited"
  sleep 0.1
done
log "gateway ready on $port; calls per turn: $calls; order per op: sync async async sync"
timeout 900 node dist/bench/async/bench.js --url "http://127.0.0.1:$port" --concurrency "$CONCURRENCY" --calls "$calls" >"$work/runs.jsonl"
kill -TERM "$gw_pid"; wait "$gw_pid"; gw_pid=

mkdir -p "$out"
node - "$work/runs.jsonl" "$out" "$mode" "$calls" <<'JS'
const fs = require('fs');
const [file, out, mode, calls] = process.argv.slice(2);
const runs = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const rows = [];
for (const op of [...new Set(runs.map((r) => r.op))]) {
  const of = (mode) => runs.filter((r) => r.op === op && r.mode === mode);
  const sync = median(of('sync').map((r) => r.perSecond)), async = median(of('async').map((r) => r.perSecond));
  const statuses = [...new Set(runs.filter((r) => r.op === op).flatMap((r) => Object.keys(r.statuses)))].join(', ');
  rows.push({ op, calls: of('async')[0].calls, syncPerSecond: sync, asyncPerSecond: async, ratio: async / sync, statuses });
}
const md = [
  `# Async throughput (${mode})`, '',
  `${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC, ${require('os').cpus().length} CPUs, Node.js ${process.version}. Local gateway with RBD_ASYNC_CONCURRENCY=8, one sandbox cluster (1 mon + 1 memstore OSD). Calls per turn: ${calls}; per op: sync, async, async, sync; medians of 2 turns each.`,
  'Async: submissions to /async-function/<name> with X-Callback-Url (8 submitters), timed from the first submission to the last callback received. Sync: the same calls to /function/<name> from 8 concurrent clients.', '',
  '| op | calls | sync, 8 clients (calls/s) | async, concurrency 8 (calls/s) | async / sync | statuses |',
  '| --- | ---: | ---: | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.op} | ${r.calls} | ${r.syncPerSecond.toFixed(0)} | ${r.asyncPerSecond.toFixed(0)} | ${r.ratio.toFixed(2)}x | ${r.statuses} |`),
  '',
].join('\n');
fs.writeFileSync(`${out}/async.md`, md);
fs.writeFileSync(`${out}/async.json`, JSON.stringify({ mode, calls, rows, runs }, null, 1) + '\n');
process.stdout.write(md);
JS
log "wrote $out/async.md in $((SECONDS - t_start)) s"
