#!/usr/bin/env bash
# npm run test:native: the addon's integration tests under AddressSanitizer +
# LeakSanitizer (clang's runtime). Fails on any ASan error (invalid read or
# write, use-after-free, ...) and on any leak the addon is behind.
#
# How: a copy of native/ is built with clang -fsanitize=address in a work dir
# (native/build is untouched) and jest runs in a node that LD_PRELOADs the ASan
# runtime (node is not instrumented: ASan intercepts its malloc/free, checks
# the addon's own accesses, and runs LSan at exit). RBD_NATIVE_ADDON points the
# tests at the copy; a -r preload drops LD_PRELOAD again, so the rbd/ceph CLIs
# and daemons the tests start run as usual. Reports go to files, read after:
# - every ASan error counts;
# - a leak counts if its stack has a frame of the addon (its sources, the
#   node-addon-api headers) or of the Ceph libraries: only the addon drives
#   them here, and they have no frame pointers, so with the fast unwinder their
#   stacks stop before reaching the addon's frame (the slow one is ~3x slower
#   and fails the tests on timeouts). Leaks of node and V8 alone are ignored.
# - halt_on_error=0 (+ -fsanitize-recover) goes on past errors and makes the
#   exit leak check print exit stats (atexit=1) after it: logs with neither
#   stats nor a leak report mean the check never ran, which fails too.
#
#   scripts/native-safety.sh [TEST_FILE...]   default: the tests below
#   NATIVE_SAFETY_SELFTEST=1   first proves the check fails: a copy with two
#                              leaks and a heap overflow injected must have all
#                              three reported, naming their frames
#   NATIVE_SAFETY_ASAN_OPTIONS more ASAN_OPTIONS, e.g. fast_unwind_on_malloc=0
#                              for a Ceph library leak's full stack
#   NATIVE_SAFETY_DIR=DIR      work dir (default $TMPDIR/rbdfn-native-safety),
#                              wiped at start; builds and logs stay there
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS

# Every call of the addon (progress callbacks included), its error paths, 300 creates at once, an unreachable
# cluster. Not concurrency.test (event-loop lateness < 50 ms, which ASan's
# malloc can miss), nor HTTP/container ones (time).
default_tests=(test/integration/connect.test.ts test/integration/images.test.ts
               test/integration/lifecycle-client.test.ts test/integration/runtime.test.ts)
tests=("${default_tests[@]}")
(($#)) && tests=("$@")
work=${NATIVE_SAFETY_DIR:-${TMPDIR:-/tmp}/rbdfn-native-safety}

die() { echo "native-safety: $*" >&2; exit 1; }

for tool in clang clang++ llvm-symbolizer; do
  command -v "$tool" >/dev/null || die "$tool not found (bash .ci/setup installs clang, libclang-rt-dev, llvm)"
done
runtime=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
[[ -f $runtime ]] || die "clang's ASan runtime is missing (apt-get install libclang-rt-dev)"
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
gyp_args=()
[[ -n $nodedir && $nodedir != undefined && $nodedir != null ]] && gyp_args=(--nodedir="$nodedir")

rm -rf "$work"
mkdir -p "$work"
# Preloaded into jest's node: children start without the ASan runtime, and at
# exit the addons mapped are listed, to check that the sanitized one was used.
cat >"$work/preload.cjs" <<'EOF'
delete process.env.LD_PRELOAD;
process.on('exit', () => {
  const fs = require('fs');
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
  const addons = new Set(maps.filter((l) => l.endsWith('.node')).map((l) => l.replace(/^(\S+\s+){5}/, '')));
  fs.writeFileSync(process.env.NATIVE_SAFETY_MAPS, [...addons].join(' '));
});
EOF

# build NAME [INJECT]: builds native/ as $work/NAME/build/Release/rbd_native.node;
# with INJECT, the self-test's bugs are patched into the copy first.
build() {
  local dir=$work/$1
  mkdir -p "$dir"
  cp -r native/binding.gyp native/src "$dir/"
  [[ ${2:-} ]] && inject "$dir/src"
  local flags="-fsanitize=address -fsanitize-recover=address -fno-omit-frame-pointer -g -O1"
  if ! (cd "$dir" && NODE_PATH=$root/node_modules CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags" \
        LDFLAGS="-fsanitize=address -shared-libasan" \
        "$root/node_modules/.bin/node-gyp" rebuild "${gyp_args[@]}" --directory . >build.log 2>&1); then
    tail -30 "$dir/build.log" >&2
    die "building the sanitized addon failed (log: $dir/build.log)"
  fi
}

# The self-test's bugs: a plain leak, a librados buffer never freed (its stack
# is all librados until the addon's frame), and a one-byte heap overflow.
inject() {
  local src=$1
  patch_line() {  # FILE ANCHOR NEWTEXT: replaces the line holding ANCHOR
    grep -qF -- "$2" "$1" || die "self-test: '$2' not found in $1; update inject()"
    ANCHOR=$2 NEW=$3 perl -0pi -e 's/^.*\Q$ENV{ANCHOR}\E.*$/$ENV{NEW}/m' "$1"
  }
  patch_line "$src/connect.cc" 'void ConnectWorker::Execute() {' \
    'void ConnectWorker::Execute() { { char* volatile leaked = new char[64]; leaked[0] = 1; }'
  patch_line "$src/pools.cc" 'rados_buffer_free(out);' ''
  patch_line "$src/connect.cc" 'std::vector<char> buf(4096);' \
    'std::vector<char> buf(4096); buf.data()[buf.size()] = 0;'
}

# run NAME TEST...: jest with the addon NAME under ASan; results in $work/NAME.
run() {
  local name=$1; shift
  local out=$work/$name
  mkdir -p "$out/logs"
  echo "native-safety: $name: jest ${*}" >&2
  set +e
  LD_PRELOAD=$runtime \
  ASAN_OPTIONS="log_path=$out/logs/asan:detect_leaks=1:halt_on_error=0:detect_stack_use_after_return=1:atexit=1:malloc_context_size=40:${NATIVE_SAFETY_ASAN_OPTIONS:-}" \
  ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer) \
  RBD_NATIVE_ADDON=$out/build/Release/rbd_native.node NATIVE_SAFETY_MAPS=$out/addons-mapped \
    node -r "$work/preload.cjs" --expose-gc node_modules/jest/bin/jest.js --runInBand \
      --selectProjects integration --json --outputFile="$out/jest.json" --runTestsByPath "$@" \
      >"$out/jest.log" 2>&1
  echo $? >"$out/jest.rc"
  set -e
}

# report NAME EXPECT: summarises $work/NAME; EXPECT=clean fails on findings,
# EXPECT=findings (self-test) fails unless both kinds were found.
report() {
  NAME=$1 EXPECT=$2 OUT=$work/$1 node - <<'EOF'
const fs = require('fs');
const path = require('path');
const { NAME, EXPECT, OUT } = process.env;
const problems = [];

let jest = null;
try { jest = JSON.parse(fs.readFileSync(`${OUT}/jest.json`, 'utf8')); } catch {}
const rc = fs.readFileSync(`${OUT}/jest.rc`, 'utf8').trim();
const tests = jest ? `${jest.numPassedTests} passed, ${jest.numFailedTests} failed` : `no results (jest exit ${rc})`;
if (!jest || !jest.success) problems.push(`tests did not pass: ${tests} (log: ${OUT}/jest.log)`);

// Without the sanitized addon loaded, a clean report would mean nothing.
let mapped = '';
try { mapped = fs.readFileSync(`${OUT}/addons-mapped`, 'utf8'); } catch {}
if (!mapped.includes(`${OUT}/build/Release/rbd_native.node`)) {
  problems.push(`the tests did not load the sanitized addon (RBD_NATIVE_ADDON); it loaded: ${mapped || 'none'}`);
}

// A stack frame: "    #3 0xADDR in FUNCTION LOCATION", LOCATION a file:line:col or (module+0xoff).
const frame = (line) => {
  const m = /^\s+#\d+ 0x[0-9a-f]+ (?:in (.*) )?\s*(\S+)$/.exec(line.replace(/ \(BuildId: \w+\)$/, ''));
  if (!m) return { fn: line.trim(), loc: '' };
  const fn = (m[1] || '?').replace(/\(anonymous namespace\)::/g, '').replace(/\(.*$/, '');
  const loc = m[2].replace(/^.*\/(src\/[^/]+|node-addon-api\/[^/]+)$/, '$1').replace(/:\d+$/, '')
    .replace(/^\(.*\/([^/]+)\)$/, '$1');
  return { fn, loc, module: (/\((\/[^+)]+)\+0x/.exec(m[2]) || [])[1] };
};
// The addon's frames: its sources and the .node (both under OUT), node-addon-api's headers.
const ours = (line) => line.includes(`${OUT}/`) || line.includes('node-addon-api/');
const ceph = (line) => /\/(librados|librbd|libceph[-\w]*)\.so/.test(line);
const show = (line) => { const f = frame(line); return `${f.fn} ${f.loc}`.trim(); };

const errors = [], addonLeaks = [], otherLibs = {};
let otherLeaks = 0, checked = 0, unchecked = 0;
for (const file of fs.readdirSync(`${OUT}/logs`).map((f) => path.join(OUT, 'logs', f))) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.some((l) => /exit stats|LeakSanitizer: detected memory leaks/.test(l))) checked++;
  else unchecked++;
  // The frames that follow line i (the first stack after it).
  const stackAfter = (i) => {
    while (i < lines.length && !/^\s+#\d/.test(lines[i])) i++;
    const frames = [];
    while (i < lines.length && /^\s+#\d/.test(lines[i])) frames.push(lines[i++]);
    return frames;
  };
  lines.forEach((line, i) => {
    let m;
    if ((m = /ERROR: AddressSanitizer: (\S+)/.exec(line))) {
      const access = /^(READ|WRITE) of size \d+/.exec(lines[i + 1] || '');
      const frames = stackAfter(i + 1);
      const mine = frames.find(ours);
      errors.push(`${m[1]}${access ? ` (${access[0]})` : ''} at ${show(frames[0] || '')}` +
        (mine && mine !== frames[0] ? `, from ${show(mine)}` : ''));
    } else if ((m = /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\)/.exec(line))) {
      const frames = stackAfter(i + 1);
      const mine = frames.find(ours) || frames.find(ceph);
      if (mine) {
        const lib = frames.find(ours) ? '' : ' (stack cut short in a Ceph library)';
        addonLeaks.push(`${m[1]} leak of ${m[2]} bytes in ${m[3]} object(s), from ${show(mine)}${lib}`);
      } else {
        otherLeaks++;
        const lib = frames.slice(1).map((f) => frame(f).module).find(Boolean);
        const key = lib ? path.basename(lib) : '?';
        otherLibs[key] = (otherLibs[key] || 0) + 1;
      }
    }
  });
}
if (checked === 0 || unchecked > 0) problems.push(`a process ended without its leak check (no exit stats in ${OUT}/logs)`);

const libs = Object.entries(otherLibs).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k}: ${v}`).join(', ');
console.log(`native-safety: ${NAME}: tests ${tests}; ASan errors: ${errors.length}; leaks in addon or Ceph library frames: ` +
  `${addonLeaks.length}; leak reports outside the addon (ignored): ${otherLeaks}${libs ? ` (${libs})` : ''}`);
for (const e of errors) console.log(`  ASan: ${e}`);
for (const l of addonLeaks) console.log(`  LSan: ${l}`);

if (EXPECT === 'clean') {
  if (errors.length) problems.push(`${errors.length} ASan error(s) (invalid access, use-after-free, ...)`);
  if (addonLeaks.length) problems.push(`${addonLeaks.length} leak(s) allocated through the addon or the Ceph libraries`);
} else {
  problems.length = 0; // the injected bugs may well fail tests; what counts is that they are reported
  const want = {
    'new char[64] in ConnectWorker::Execute': addonLeaks.some((l) => l.includes('ConnectWorker::Execute')),
    'unfreed rados_mon_command buffer': addonLeaks.some((l) => l.includes('ListPoolsWorker::Run') || l.includes('librados')),
    'heap overflow in ConnectWorker::ConfGet': errors.some((e) => e.startsWith('heap-buffer-overflow') && e.includes('ConfGet')),
  };
  for (const [what, found] of Object.entries(want)) if (!found) problems.push(`self-test: the injected ${what} was not reported`);
  if (checked === 0) problems.push('self-test: the leak check did not run');
}
for (const p of problems) console.log(`native-safety: FAIL: ${p}`);
if (problems.length) console.log(`native-safety: sanitizer logs in ${OUT}/logs`);
process.exit(problems.length ? 1 : 0);
EOF
}

status=0
if [[ ${NATIVE_SAFETY_SELFTEST:-0} == 1 ]]; then
  build selftest inject
  run selftest test/integration/connect.test.ts
  report selftest findings || status=1
  [[ $status == 0 ]] && echo "native-safety: self-test: the injected bugs were all reported"
fi
build real
run real "${tests[@]}"
report real clean || status=1
echo "native-safety: $([[ $status == 0 ]] && echo ok || echo FAILED) in $((SECONDS - started)) s"
exit $status
