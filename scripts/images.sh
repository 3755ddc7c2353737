#!/usr/bin/env bash
# npm run images: builds rbd-functions/base:$TAG from Dockerfile.base, then
# rbd-functions/<name>:$TAG for each functions/<name>/Dockerfile.
# TAG defaults to "dev". Uses Docker when its daemon answers, else podman
# (with runc, see scripts/engine.sh). When node:20-bookworm-slim can't be
# pulled, scripts/node-image.sh makes it locally first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/engine.sh
pick_engine
tag=${TAG:-dev}
node_image=node:20-bookworm-slim
log=${IMAGES_LOG:-$(mktemp /tmp/rbd-images.XXXXXX.log)}

bash scripts/node-image.sh "$node_image"

# npm's CA file, for registries behind a TLS-intercepting proxy (a build
# secret, so it never lands in a layer).
npm_ca=$(npm config get cafile 2>/dev/null || true)
if [[ -z $npm_ca || $npm_ca == null || ! -r $npm_ca ]]; then
  npm_ca=$(mktemp /tmp/rbd-images-ca.XXXXXX)
  trap 'rm -f "$npm_ca"' EXIT
fi

build=("${ENGINE[@]}" build --pull=never)
# podman writes OCI images by default, which drop HEALTHCHECK.
[[ ${ENGINE[0]} == podman ]] && build+=(--format docker --network=host)

echo "images: building rbd-functions/base:$tag (log: $log)"
start=$(date +%s)
if ! "${build[@]}" -f Dockerfile.base --build-arg "NODE_IMAGE=$node_image" --secret "id=npm_ca,src=$npm_ca" -t "rbd-functions/base:$tag" . >"$log" 2>&1; then
  tail -30 "$log" >&2
  echo "images: building the base image failed; full log in $log" >&2
  exit 1
fi
echo "images: base built in $(( $(date +%s) - start )) s"

for dir in functions/*/; do
  name=$(basename "$dir")
  [[ -f $dir/Dockerfile ]] || continue
  if ! "${build[@]}" --build-arg "BASE_IMAGE=rbd-functions/base:$tag" -t "rbd-functions/$name:$tag" "$dir" >>"$log" 2>&1; then
    tail -30 "$log" >&2
    echo "images: building rbd-functions/$name failed; full log in $log" >&2
    exit 1
  fi
done

size() { "${ENGINE[@]}" image inspect --format '{{.Size}}' "$1"; }
base=$(size "rbd-functions/base:$tag")
node=$(size "$node_image")
awk -v b="$base" -v n="$node" -v t="$tag" -v ni="$node_image" 'BEGIN {
  printf "images: rbd-functions/base:%s  %.1f MB (%s: %.1f MB, added on top: %.1f MB)\n", t, b/1e6, ni, n/1e6, (b-n)/1e6 }'
for dir in functions/*/; do
  name=$(basename "$dir")
  [[ -f $dir/Dockerfile ]] || continue
  printf 'images: %-36s +%d bytes over base\n' "rbd-functions/$name:$tag" "$(( $(size "rbd-functions/$name:$tag") - base ))"
done
