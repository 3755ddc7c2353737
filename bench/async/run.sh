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
source bench/lib.sh

gw_pid=
bench_on_exit() {
  if [[ -n $gw_pid ]] && kill -0 "$gw_pid" 2>/dev/null; then kill -TERM "$gw_pid"; wait "$gw_pid" || true; fi
  if (($1 != 0)) && [[ -s $work/gateway.log ]]; then tail -n 20 "$work/gateway.log" >&2; fi
}
bench_init async "$@"
if ((quick)); then calls=list-pools=200,create-image=30; else calls=list-pools=2000,create-image=300; fi
readonly CONCURRENCY=8 GATEWAY_MAIN=dist/shared/local/main.js

[[ -f native/build/Release/rbd_native.node ]] || die "native addon not built; run: npm run build:native"
node node_modules/typescript/bin/tsc -p tsconfig.json
bench_clean_env
bench_cluster

port=$(free_port)
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
