# What every bench/*/run.sh shares: logging, the common arguments, a work
# directory with a sandbox cluster that goes away however the script ends,
# and an environment with no connection settings but the sandbox's.
# Source it from the repository root, after `set -euo pipefail`.

work= sandbox= BENCH_NAME=bench

log() { printf '[bench:%s] %s\n' "$BENCH_NAME" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# bench_init NAME "$@": parses --quick, --out DIR and -h/--help (the script's
# header comment). Sets quick (0/1), mode (full/quick), out (bench/results,
# or bench/results/quick.tmp for --quick, so a smoke run never overwrites the
# recorded figures), t_start, and work and sandbox (a fresh directory and its
# cluster's). On any exit: bench_on_exit RC if the script defines it, then the
# cluster's teardown and the directory's removal; the exit status is kept.
bench_init() {
  BENCH_NAME=$1
  shift
  quick=0 out=
  while (($#)); do
    case $1 in
      --quick) quick=1 ;;
      --out) out=${2:?--out needs a directory}; shift ;;
      -h | --help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
      *) die "unknown argument: $1" ;;
    esac
    shift
  done
  if ((quick)); then mode=quick out=${out:-bench/results/quick.tmp}; else mode=full out=${out:-bench/results}; fi
  t_start=$SECONDS
  work=$(mktemp -d "/tmp/rbd-bench-$BENCH_NAME.XXXXXX")
  sandbox=$work/cluster
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if declare -F bench_on_exit >/dev/null; then bench_on_exit "$rc" || true; fi
  # Only the cluster this script booted: `down` checks its marker file.
  if [[ -n $sandbox && -e $sandbox ]]; then
    bash scripts/sandbox-cluster.sh down "$sandbox" || log "warning: teardown of $sandbox failed"
  fi
  [[ -n $work ]] && rm -rf -- "$work"
  exit "$rc"
}

# Connection and runtime settings come from the sandbox only, for every side.
bench_clean_env() {
  unset CEPH_ID CEPH_MON_HOST CEPH_KEY CEPH_TIMEOUT_SECONDS CEPH_ARGS CEPH_CHECK_INTERVAL_SECONDS NODE_OPTIONS K_SINK \
    RBD_API_TOKEN RBD_POOLS RBD_MAX_IMAGE_SIZE exec_timeout max_inflight port PORT
  export OPENFAAS_SECRETS_DIR=$work/no-secrets
}

# bench_cluster [--dashboard]: boots the sandbox cluster and exports
# CEPH_CONF and CEPH_KEYRING (and the dashboard's URL, user and password file).
# CEPH_MON_HOST is set, not exported: the conf file already names it.
bench_cluster() {
  log "booting a sandbox cluster in $sandbox"
  local lines
  lines=$(bash scripts/sandbox-cluster.sh up "$sandbox" "$@") # a failed boot stops here (set -e)
  eval "$lines"
  export CEPH_CONF CEPH_KEYRING
  if [[ -n ${DASHBOARD_URL:-} ]]; then export DASHBOARD_URL DASHBOARD_USER DASHBOARD_PASSWORD_FILE; fi
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Other tenants' sandbox clusters share the CPUs and add noise: count their daemons.
other_daemons() {
  local pid others=0
  for pid in $(pgrep -x 'ceph-(mon|osd|mgr)' || true); do
    grep -qzF -- "$sandbox/ceph.conf" "/proc/$pid/cmdline" 2>/dev/null || others=$((others + 1))
  done
  echo "$others"
}

# The machine, as key=value lines for the reports.
machine_facts() {
  echo "date=$(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "mode=$mode"
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "node=$(node --version)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "other_daemons=$(other_daemons)"
}
