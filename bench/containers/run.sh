#!/usr/bin/env bash
# Container benchmark: image sizes, cold start to the first 200, and idle
# RSS of the list-pools image (npm run images), next to a floor measured in
# the same run: a bare Node.js HTTP server in the same node:20-bookworm-slim
# base, started the same way. Both run as in production (host network,
# read-only root, tmpfs /tmp, uid 1000), against a throwaway cluster.
#
#   npm run bench:containers               # 7 cold starts per side, alternating
#   npm run bench:containers -- --quick    # CI smoke: 2 per side
#   npm run bench:containers -- --out DIR
#
# Needs the images (npm run images). --quick writes to
# bench/results/quick.tmp/ unless --out is given.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/engine.sh
source bench/lib.sh
pick_engine

containers=()
bench_on_exit() {
  if ((${#containers[@]})); then "${ENGINE[@]}" rm --force --time 0 "${containers[@]}" >/dev/null 2>&1; fi
}
bench_init containers "$@"
if ((quick)); then runs=2; else runs=7; fi
tag=${TAG:-dev}
readonly IMAGE=rbd-functions/list-pools:$tag BASE=rbd-functions/base:$tag NODE_IMAGE=node:20-bookworm-slim
for image in "$IMAGE" "$BASE" "$NODE_IMAGE"; do
  "${ENGINE[@]}" image inspect "$image" >/dev/null 2>&1 || die "$image missing; run: npm run images"
done

bench_cluster
# What a node with a Ceph client has: ceph.conf and the keyring, readable by uid 1000.
etc=$work/etc-ceph
mkdir -m 0755 "$etc"
printf '[global]\nfsid = %s\nmon host = %s\n' "$(sed -n 's/^fsid = //p' "$CEPH_CONF")" "$CEPH_MON_HOST" >"$etc/ceph.conf"
install -m 0600 -o 1000 -g 1000 "$CEPH_KEYRING" "$etc/ceph.client.admin.keyring"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# start NAME IMAGE [CMD...]: runs a container as production does (no
# HEALTHCHECK timer: podman wants systemd for it); prints
# "first_200_ms rss_kib" (RSS of its main process after 3 s idle).
start() {
  local name=$1 image=$2; shift 2
  local port t0 id code ms pid rss
  port=$(free_port)
  t0=$(now_ms)
  id=$("${ENGINE[@]}" run --detach --network=host --read-only --tmpfs /tmp:rw,size=16m --user 1000:1000 \
    --cap-drop ALL --security-opt no-new-privileges --no-healthcheck --volume "$etc:/etc/ceph:ro" \
    --env "port=$port" --env "PORT=$port" --env LOG_LEVEL=warn "$image" "$@")
  containers+=("$id")
  for ((i = 0; i < 1500; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/" || true)
    [[ $code == 200 ]] && break
    sleep 0.02
  done
  ms=$(( $(now_ms) - t0 ))
  [[ $code == 200 ]] || { "${ENGINE[@]}" logs "$id" >&2 || true; die "$name: no 200 within 30 s (last $code)"; }
  sleep 3
  pid=$("${ENGINE[@]}" inspect --format '{{.State.Pid}}' "$id")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  "${ENGINE[@]}" rm --force --time 0 "$id" >/dev/null
  echo "$ms $rss"
}

floor_js='require("http").createServer((q,s)=>s.end("ok")).listen(+process.env.PORT,"127.0.0.1")'
log "warm-up: one start of each (page cache, image layers)"
start floor "$NODE_IMAGE" node -e "$floor_js" >/dev/null
start list-pools "$IMAGE" >/dev/null
: >"$work/floor" >"$work/image"
for ((r = 1; r <= runs; r++)); do
  # Alternate which goes first, so drift weighs on both.
  if ((r % 2)); then
    start floor "$NODE_IMAGE" node -e "$floor_js" >>"$work/floor"
    start list-pools "$IMAGE" >>"$work/image"
  else
    start list-pools "$IMAGE" >>"$work/image"
    start floor "$NODE_IMAGE" node -e "$floor_js" >>"$work/floor"
  fi
  log "run $r/$runs: floor $(tail -n1 "$work/floor"), list-pools $(tail -n1 "$work/image") (ms KiB)"
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
f_ms=$(cut -d' ' -f1 "$work/floor" | median); i_ms=$(cut -d' ' -f1 "$work/image" | median)
f_rss=$(cut -d' ' -f2 "$work/floor" | median); i_rss=$(cut -d' ' -f2 "$work/image" | median)
size() { "${ENGINE[@]}" image inspect --format '{{.Size}}' "$1"; }
s_node=$(size "$NODE_IMAGE"); s_base=$(size "$BASE")
added=""
for dir in functions/*/; do
  name=$(basename "$dir")
  added+="| rbd-functions/$name:$tag | +$(( $(size "rbd-functions/$name:$tag") - s_base )) bytes over the base |"$'\n'
done

mkdir -p "$out"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b / 1e6}'; }
cat >"$out/containers.md" <<MD
# Container benchmark ($mode)

$(date -u '+%Y-%m-%d %H:%M:%S') UTC, ${ENGINE[*]}, $(nproc) CPUs, $(node --version) (host), git $(git rev-parse --short HEAD).
Floor: \`node -e 'http.createServer(...)'\` in $NODE_IMAGE, started the same way (host network, read-only root, tmpfs /tmp, uid 1000). Medians of $runs alternating starts each, after one warm-up start.

| Image | Size |
|---|---|
| $NODE_IMAGE | $(mb "$s_node") |
| rbd-functions/base:$tag | $(mb "$s_base") (+$(mb $((s_base - s_node))) over $NODE_IMAGE; budget 298 MB) |
${added}
| Measure | Floor | list-pools | Ratio |
|---|---|---|---|
| \`run\` to first 200 (list-pools: GET / connects to Ceph and lists pools) | ${f_ms} ms | ${i_ms} ms | $(ratio "$i_ms" "$f_ms") |
| Idle RSS of the main process, 3 s after the first 200 | $((f_rss / 1024)) MiB | $((i_rss / 1024)) MiB | $(ratio "$i_rss" "$f_rss") |
MD
printf '{"mode":"%s","runs":%d,"sizes":{"node":%d,"base":%d},"first200Ms":{"floor":%s,"listPools":%s},"idleRssKiB":{"floor":%s,"listPools":%s}}\n' \
  "$mode" "$runs" "$s_node" "$s_base" "$f_ms" "$i_ms" "$f_rss" "$i_rss" >"$out/containers.json"
cat "$out/containers.md"
log "wrote $out/containers.md in $((SECONDS - t_start)) s"
