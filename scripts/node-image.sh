#!/usr/bin/env bash
# Makes a local stand-in for docker.io/library/node:20-bookworm-slim when no
# registry is reachable: a Debian 12 minbase (debootstrap), slimmed the way
# the official debian:bookworm-slim is, plus this machine's Node.js 20 laid
# out as the official tarball is (/usr/local), and the "node" user (uid 1000).
# Usage: scripts/node-image.sh [NAME]   (default node:20-bookworm-slim)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/engine.sh"
pick_engine
name=${1:-node:20-bookworm-slim}

if "${ENGINE[@]}" image exists "$name" 2>/dev/null || "${ENGINE[@]}" image inspect "$name" >/dev/null 2>&1; then
  echo "node-image: $name already present"
  exit 0
fi
if "${ENGINE[@]}" pull -q "docker.io/library/$name" >/dev/null 2>&1; then
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ $node_major == 20 ]] || { echo "node-image: needs this machine's Node.js 20 (found $node_major)" >&2; exit 1; }
node_bin=$(readlink -f "$(command -v node)")
node_prefix=$(dirname "$(dirname "$node_bin")")
for need in "$node_prefix/include/node/node_api.h" "$node_prefix/lib/node_modules/npm/bin/npm-cli.js"; do
  [[ -e $need ]] || { echo "node-image: $need is missing" >&2; exit 1; }
done
command -v debootstrap >/dev/null || { echo "node-image: install debootstrap" >&2; exit 1; }

root=$(mktemp -d /var/tmp/node-image.XXXXXX)
trap 'rm -rf "$root"' EXIT
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
echo "node-image: debootstrap bookworm from $mirror (about a minute)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
  { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"

# As debian:bookworm-slim: dpkg skips docs, man pages and locales for every
# later install too, and apt keeps no package cache.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/{man,info,groff,lintian,linda,locale}/* \
  "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
  "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*

# Node.js, npm and corepack where the official image has them.
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/include" "$root/usr/local/lib/node_modules"
cp -a "$node_prefix/include/node" "$root/usr/local/include/"
# OpenSSL's per-platform configs for 20-odd platforms are 50 MB; keep this
# one, so the stand-in weighs what the official image does (about 200 MB).
arch_dir=$root/usr/local/include/node/openssl/archs
if [[ -d $arch_dir ]]; then
  keep=linux-$(uname -m); [[ $keep == linux-aarch64 || -d $arch_dir/$keep ]] || keep=linux-x86_64
  find "$arch_dir" -mindepth 1 -maxdepth 1 ! -name "$keep" -exec rm -rf {} +
fi
cp -a "$node_prefix/lib/node_modules/npm" "$root/usr/local/lib/node_modules/"
[[ -d $node_prefix/lib/node_modules/corepack ]] && cp -a "$node_prefix/lib/node_modules/corepack" "$root/usr/local/lib/node_modules/"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
[[ -d $root/usr/local/lib/node_modules/corepack ]] && ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$root" node --version >/dev/null

node_version=$(node -p process.versions.node)
tar --numeric-owner -C "$root" -c . | "${ENGINE[@]}" import \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  - "$name" >/dev/null
echo "node-image: built $name (Node.js $node_version)"
