#!/usr/bin/env bash
# Throwaway single-node Ceph cluster (1 mon + 1 memstore OSD, no mgr unless
# --dashboard) for tests, benchmarks and local use. All state lives in one
# directory, ports are picked at boot time, so several clusters can run side
# by side.
#
#   eval "$(bash scripts/sandbox-cluster.sh up [DIR])"   # stdout: CEPH_* lines only
#   bash scripts/sandbox-cluster.sh up [DIR] --dashboard  # + a mgr serving the
#                                                      # dashboard REST API
#   bash scripts/sandbox-cluster.sh down DIR              # idempotent
#
# --dashboard (needs the ceph-mgr and ceph-mgr-dashboard packages) also starts
# mgr.x with the dashboard on http://127.0.0.1:<free port> (no TLS), creates an
# administrator with a random password and waits until it can log in; it adds
# DASHBOARD_URL, DASHBOARD_USER and DASHBOARD_PASSWORD_FILE (the password,
# verbatim, no trailing newline) to the printed lines.
#
# Env knobs: CEPH_SANDBOX_TIMEOUT (s, default 60, 120 with --dashboard) bounds
# the whole boot; CEPH_SANDBOX_KEEP_ON_FAILURE=1 keeps DIR after a failed boot
# for inspection.
set -euo pipefail

readonly MARKER=.rbd-sandbox   # `down` only rm -rf's directories carrying it
readonly MON_ID=a
readonly OSD_ID=0
readonly MGR_ID=x
readonly DASHBOARD_USER=admin
readonly BOOT_ATTEMPTS=5       # mon/dashboard restart on a new port if bind fails
readonly STOP_GRACE=5          # seconds between SIGTERM and SIGKILL
DASHBOARD=0                    # set by `up --dashboard`

log() { printf '[sandbox-cluster.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $0 up [DIR] [--dashboard]
                       boot a sandbox cluster, print CEPH_* env lines
                       (--dashboard: also a mgr with the dashboard REST API,
                       and DASHBOARD_* lines)
       $0 down DIR     stop its daemons and remove DIR
EOF
  exit 2
}

# A port the kernel considers free right now. It can be taken before the mon
# binds it; boot_mon retries on another port in that case.
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  fi
}

# True if PID is alive and was started with DIR's conf. Guards against pid
# reuse (never signal another cluster's or anyone else's process); zombies have
# an empty cmdline and count as dead.
is_our_daemon() {
  local pid=$1 dir=$2 arg
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  while IFS= read -r -d '' arg; do
    [[ $arg == "$dir/ceph.conf" ]] && return 0
  done </proc/"$pid"/cmdline 2>/dev/null
  return 1
}

# SIGTERM the daemons recorded in the given pid files, SIGKILL after
# STOP_GRACE s.
stop_pidfiles() {
  local dir=$1 f pid pids=() i alive
  shift
  for f in "$@"; do
    [[ -f $f ]] || continue
    pid=$(<"$f") || continue
    if is_our_daemon "$pid" "$dir"; then
      pids+=("$pid")
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  ((${#pids[@]})) || return 0
  for ((i = 0; i < STOP_GRACE * 20 + 20; i++)); do
    if ((i == STOP_GRACE * 20)); then
      for pid in "${pids[@]}"; do
        if is_our_daemon "$pid" "$dir"; then
          log "pid $pid ignored SIGTERM, sending SIGKILL"
          kill -KILL "$pid" 2>/dev/null || true
        fi
      done
    fi
    alive=0
    for pid in "${pids[@]}"; do is_our_daemon "$pid" "$dir" && alive=1; done
    ((alive)) || return 0
    sleep 0.05
  done
  log "warning: some daemons of $dir are still alive: ${pids[*]}"
}

# OSDs first: a stopping OSD waits for the mon to ack its shutdown (up to
# osd_mon_shutdown_timeout, 5 s) and would stall if the mon went first. The mgr
# goes with them, as it too talks to the mon while it stops. Its pid file is
# the one to trust: a mgr that respawns (`ceph mgr fail`, module enable/disable)
# daemonizes again under a new pid and rewrites it.
stop_daemons() {
  local dir=$1
  stop_pidfiles "$dir" "$dir"/run/osd.*.pid "$dir"/run/mgr.*.pid
  stop_pidfiles "$dir" "$dir"/run/*.pid
}

write_keyrings() {
  local dir=$1 mon_key admin_key osd_key
  mon_key=$(ceph-authtool --gen-print-key)
  admin_key=$(ceph-authtool --gen-print-key)
  osd_key=$(ceph-authtool --gen-print-key)
  local admin_entry osd_entry
  admin_entry="[client.admin]
	key = $admin_key
	caps mds = \"allow *\"
	caps mgr = \"allow *\"
	caps mon = \"allow *\"
	caps osd = \"allow *\""
  # osd.0's key is seeded into the mon at mkfs time, so no
  # `ceph auth get-or-create` round trip is needed before `ceph-osd --mkfs`.
  osd_entry="[osd.$OSD_ID]
	key = $osd_key
	caps mgr = \"allow profile osd\"
	caps mon = \"allow profile osd\"
	caps osd = \"allow *\""
  local -a mon_entries=("$admin_entry" "$osd_entry")
  # Seeded likewise for the mgr (--dashboard only).
  local mgr_entry=''
  if ((DASHBOARD)); then
    mgr_entry="[mgr.$MGR_ID]
	key = $(ceph-authtool --gen-print-key)
	caps mds = \"allow *\"
	caps mon = \"allow profile mgr\"
	caps osd = \"allow *\""
    mon_entries+=("$mgr_entry")
  fi
  (
    umask 077
    printf '%s\n' "$admin_entry" >"$dir/ceph.client.admin.keyring"
    printf '%s\n' "$osd_entry" >"$dir/osd.$OSD_ID.keyring"
    [[ -z $mgr_entry ]] || printf '%s\n' "$mgr_entry" >"$dir/mgr.$MGR_ID.keyring"
    {
      printf '[mon.]\n\tkey = %s\n\tcaps mon = "allow *"\n' "$mon_key"
      printf '%s\n' "${mon_entries[@]}"
    } >"$dir/mon.keyring"
  )
}

write_conf() {
  local dir=$1 fsid=$2 mon_host=$3
  cat >"$dir/ceph.conf" <<EOF
# Throwaway sandbox cluster written by scripts/sandbox-cluster.sh.
[global]
fsid = $fsid
mon host = $mon_host
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
ms bind ipv6 = false
# msgr v2 only: the mon needs a single port, the OSD half as many.
ms bind msgr1 = false
run dir = $dir/run
crash dir = $dir/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
# No mgr runs the autoscaler; keep pg counts as created.
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool delete = true
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
# Tests may create many small pools on the single OSD.
mon max pg per osd = 1000

[client]
keyring = $dir/ceph.client.admin.keyring

# Daemon-only paths: clients sharing this conf must not fight over one
# admin socket or log file.
[mon]
mon data = $dir/mon.\$id
keyring = $dir/mon.\$id/keyring
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
mon cluster log file = $dir/log/\$cluster.log
# Fail fast if the port got taken (boot_mon picks another) instead of
# retrying the same port for 10 s.
ms bind retry count = 1
ms bind retry delay = 0
# Single mon: commit map changes quickly instead of batching for 1 s.
paxos propose interval = 0.1

[osd]
osd data = $dir/osd.\$id
keyring = $dir/osd.\$id/keyring
osd objectstore = memstore
# Memstore only allocates what is written; this is the advertised capacity.
memstore device bytes = 2147483648
public addr = 127.0.0.1
cluster addr = 127.0.0.1
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
EOF
  ((DASHBOARD)) || return 0
  cat >>"$dir/ceph.conf" <<EOF

# --dashboard: one mgr. The mon creates the first MgrMap with just the
# dashboard enabled (the default adds restful, iostat, nfs), so the mgr needs
# no respawn to change modules; always-on modules run regardless.
[mon]
mgr initial modules = dashboard

[mgr]
mgr data = $dir/mgr.\$id
keyring = $dir/mgr.\$id/keyring
public addr = 127.0.0.1
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
# Never load the modules that are neither always-on nor needed by the
# dashboard: each costs 0.3-2 s of CPU at start, and restful fails to import
# anyway (cryptography's PyO3 allows one interpreter). Always-on ones must
# stay, or health turns to HEALTH_ERR (MGR_MODULE_ERROR).
mgr disabled modules = alerts cephadm diskprediction_local influx insights iostat k8sevents localpool mirroring nfs osd_perf_query osd_support prometheus restful rook selftest snap_schedule stats telegraf test_orchestrator zabbix
EOF
}

# Start DAEMON ARGS... detached from our session and stdio. The daemons fork
# themselves and the parent exits only after init (mon: after binding), so the
# exit status tells whether the daemon came up. Closing fd 3 (our real stdout)
# keeps `$(cluster.sh up)` from waiting on the daemons. Bounded because the
# OSD's init waits for the mon.
start_daemon() {
  local dir=$1 name=$2
  shift 2
  bounded setsid -w "$@" -c "$dir/ceph.conf" </dev/null >>"$dir/log/$name.out" 2>&1 3>&-
}

# mkfs + start the mon on a fresh free port; retries on bind failures.
# Sets MON_HOST.
boot_mon() {
  local dir=$1 fsid=$2 attempt port off out=$dir/log/mon.$MON_ID.out
  for ((attempt = 1; attempt <= BOOT_ATTEMPTS; attempt++)); do
    port=$(free_port)
    MON_HOST="v2:127.0.0.1:$port"
    log "mon.$MON_ID: mkfs + start on $MON_HOST (attempt $attempt)"
    rm -rf "$dir/mon.$MON_ID" "$dir/monmap"
    write_conf "$dir" "$fsid" "$MON_HOST"
    monmaptool --create --fsid "$fsid" --addv "$MON_ID" "[$MON_HOST]" \
      "$dir/monmap" >>"$out" 2>&1
    ceph-mon -c "$dir/ceph.conf" -i "$MON_ID" --mkfs --monmap "$dir/monmap" \
      --keyring "$dir/mon.keyring" >>"$out" 2>&1
    # Only look at this attempt's output when deciding whether to retry.
    off=$(stat -c %s "$out")
    if start_daemon "$dir" "mon.$MON_ID" ceph-mon -i "$MON_ID"; then
      return 0
    fi
    if tail -c +$((off + 1)) "$out" | grep -q 'unable to bind'; then
      log "mon.$MON_ID: port $port got taken, retrying on another one"
      continue
    fi
    return 1
  done
  log "mon.$MON_ID: no free port after $BOOT_ATTEMPTS attempts"
  return 1
}

# Run a CLI command bounded by the readiness deadline.
bounded() {
  local left=$((DEADLINE - SECONDS))
  ((left > 0)) || { log "timed out before: $*"; return 1; }
  timeout "$left" "$@"
}

# Options of the mgr's modules are read from the mon's config db only
# (ceph.conf values are ignored); before a mgr has reported its modules the mon
# accepts them only with --force. Sets DASHBOARD_PORT.
config_mgr() {
  local dir=$1 opt
  local -a ceph=(ceph -c "$dir/ceph.conf" --connect-timeout 10)
  DASHBOARD_PORT=$(free_port)
  # devicehealth would otherwise create a device_health_metrics pool, which a
  # cluster without the flag does not have.
  for opt in dashboard/ssl=false dashboard/server_addr=127.0.0.1 \
    "dashboard/server_port=$DASHBOARD_PORT" devicehealth/enable_monitoring=false; do
    bounded "${ceph[@]}" config set mgr "mgr/${opt%%=*}" "${opt#*=}" --force >/dev/null
  done
}

# Unlike the mon and OSD, ceph-mgr's parent exits right after the fork, before
# the child has written its pid file. Wait for that file, or a failed boot
# could not stop the mgr and the wait below would read a stale pid.
start_mgr() {
  local dir=$1 pidfile=$1/run/mgr.$MGR_ID.pid
  log "mgr.$MGR_ID: start, dashboard on 127.0.0.1:$DASHBOARD_PORT"
  rm -f -- "$pidfile"
  start_daemon "$dir" "mgr.$MGR_ID" ceph-mgr -i "$MGR_ID"
  until [[ -s $pidfile ]] && is_our_daemon "$(<"$pidfile")" "$dir"; do
    ((SECONDS < DEADLINE)) || die "mgr.$MGR_ID wrote no pid file; see $dir/log/mgr.$MGR_ID.log"
    sleep 0.05
  done
}

# True once the dashboard issues a token for DASHBOARD_USER. Python, as the
# ceph CLI runs on it anyway, and urllib bounds each request.
dashboard_login() {
  local url=$1 pwfile=$2
  python3 - "$url" "$DASHBOARD_USER" "$pwfile" <<'EOF'
import json, sys, urllib.request
url, user, pwfile = sys.argv[1:]
with open(pwfile) as f:
    body = json.dumps({"username": user, "password": f.read()}).encode()
req = urllib.request.Request(url + "/api/auth", data=body, headers={
    "Accept": "application/vnd.ceph.api.v1.0+json",
    "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        sys.exit(0 if json.load(r).get("token") else 1)
except Exception as e:
    print(f"POST {url}/api/auth: {e}", file=sys.stderr)
    sys.exit(1)
EOF
}

# Create the dashboard user, then wait until it can log in. The mgr takes
# most of the boot: it imports its python modules one by one (5-15 s). If the
# dashboard's port got taken meanwhile, the module fails for good, so restart
# the mgr on another port.
wait_dashboard() {
  local dir=$1 attempt=1 created=0 rc off stat
  local pwfile=$dir/dashboard.password mlog=$dir/log/mgr.$MGR_ID.log
  local pidfile=$dir/run/mgr.$MGR_ID.pid
  local out=$dir/log/dashboard.out   # our CLI/login errors, for a failed boot
  local -a ceph=(ceph -c "$dir/ceph.conf" --connect-timeout 10)
  # `ac-user-create -i` takes the file verbatim, so no trailing newline.
  (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n' >"$pwfile")
  off=0
  while :; do
    ((SECONDS < DEADLINE)) ||
      die "dashboard did not log $DASHBOARD_USER in on 127.0.0.1:$DASHBOARD_PORT in time; see $mlog and $out"
    if ! is_our_daemon "$(cat -- "$pidfile" 2>/dev/null)" "$dir"; then
      die "mgr.$MGR_ID exited; see $mlog and $dir/log/mgr.$MGR_ID.out"
    fi
    # Only this mgr run's lines count. grep reads all of them: an early exit
    # would SIGPIPE tail and fail the pipeline.
    if [[ -f $mlog ]] && grep -q "Unhandled exception from module 'dashboard'" < <(tail -c +$((off + 1)) "$mlog"); then
      if grep -q "Port $DASHBOARD_PORT not free" < <(tail -c +$((off + 1)) "$mlog") &&
        ((attempt < BOOT_ATTEMPTS)); then
        log "mgr.$MGR_ID: dashboard port $DASHBOARD_PORT got taken, restarting the mgr on another one"
        stop_pidfiles "$dir" "$pidfile"
        off=$(stat -c %s "$mlog")
        DASHBOARD_PORT=$(free_port)
        bounded "${ceph[@]}" config set mgr mgr/dashboard/server_port "$DASHBOARD_PORT" >/dev/null
        start_mgr "$dir"
        attempt=$((attempt + 1))
        continue
      fi
      die "the dashboard module failed; see $mlog"
    fi
    # Module commands hang until a mgr is active, so ask the mon first.
    if ((!created)); then
      stat=$(bounded "${ceph[@]}" mgr stat -f json 2>>"$out") || stat=
    fi
    if ((!created)) && [[ $stat =~ \"available\":\ *true ]]; then
      # Fails until the module has loaded its user DB; EEXIST if an earlier
      # try went through after all.
      rc=0
      bounded "${ceph[@]}" dashboard ac-user-create "$DASHBOARD_USER" -i "$pwfile" \
        administrator --force-password >/dev/null 2>>"$out" || rc=$?
      ((rc == 0 || rc == 17)) && created=1
    fi
    if ((created)) && dashboard_login "http://127.0.0.1:$DASHBOARD_PORT" "$pwfile" 2>>"$out"; then
      return 0
    fi
    sleep 0.5
  done
}

dump_logs() {
  local dir=$1 f
  for f in "$dir"/log/*; do
    [[ -s $f ]] || continue
    printf '\n----- tail of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

# EXIT trap of `up`: on failure show logs, stop what we started, clean up.
UP_OK=0 UP_DIR= UP_CREATED=0
on_up_exit() {
  local rc=$1
  ((UP_OK)) && return 0
  log "boot failed (rc=$rc), logs follow"
  dump_logs "$UP_DIR"
  stop_daemons "$UP_DIR"
  if ((UP_CREATED)) && [[ ${CEPH_SANDBOX_KEEP_ON_FAILURE:-0} != 1 ]]; then
    rm -rf -- "$UP_DIR"
  else
    log "left $UP_DIR for inspection; remove with: $0 down $UP_DIR"
  fi
  exit $((rc ? rc : 1))
}

cmd_up() {
  local dir='' created=0 arg
  for arg in "$@"; do
    case $arg in
      --dashboard) DASHBOARD=1 ;;
      -*) usage ;;
      *) [[ -z $dir ]] || usage; dir=$arg ;;
    esac
  done
  # The mgr alone takes 5-15 s to load its modules, more on a busy machine.
  READY_TIMEOUT=${CEPH_SANDBOX_TIMEOUT:-$((DASHBOARD ? 120 : 60))}
  # Ceph conf values and keyring lists split on whitespace.
  [[ $dir =~ [[:space:]] ]] && die "DIR must not contain whitespace: $dir"
  if [[ -z $dir ]]; then
    dir=$(mktemp -d /tmp/rbd-sandbox.XXXXXX)
    created=1
  elif [[ ! -e $dir ]]; then
    mkdir -p -- "$dir"
    created=1
  elif [[ -n $(ls -A -- "$dir") ]]; then
    die "$dir exists and is not empty"
  fi
  dir=$(cd -- "$dir" && pwd -P)

  # Everything below writes progress to stderr; the env lines go to fd 3.
  exec 3>&1 1>&2

  UP_DIR=$dir UP_CREATED=$created
  trap 'on_up_exit $?' EXIT

  local t0=$SECONDS
  DEADLINE=$((SECONDS + READY_TIMEOUT))
  touch "$dir/$MARKER"
  mkdir -p "$dir/run" "$dir/log" "$dir/crash" "$dir/osd.$OSD_ID"
  local fsid osd_uuid
  fsid=$(</proc/sys/kernel/random/uuid)
  osd_uuid=$(</proc/sys/kernel/random/uuid)
  write_keyrings "$dir"
  mv "$dir/osd.$OSD_ID.keyring" "$dir/osd.$OSD_ID/keyring"

  boot_mon "$dir" "$fsid"
  local -a ceph=(ceph -c "$dir/ceph.conf" --connect-timeout 10)

  # The mgr needs only the mon; its slow start overlaps the OSD's.
  if ((DASHBOARD)); then
    mkdir -p "$dir/mgr.$MGR_ID"
    mv "$dir/mgr.$MGR_ID.keyring" "$dir/mgr.$MGR_ID/keyring"
    config_mgr "$dir"
    start_mgr "$dir"
  fi

  log "osd.$OSD_ID: register, mkfs, start"
  bounded "${ceph[@]}" osd new "$osd_uuid" "$OSD_ID" >/dev/null
  bounded ceph-osd -c "$dir/ceph.conf" -i "$OSD_ID" --mkfs --osd-uuid "$osd_uuid" \
    >>"$dir/log/osd.$OSD_ID.out" 2>&1
  # A rejected objectstore value silently falls back to bluestore (a 100 GiB
  # sparse file on disk); make sure we really got memstore.
  [[ $(<"$dir/osd.$OSD_ID/type") == memstore ]] ||
    die "osd.$OSD_ID was created with objectstore '$(<"$dir/osd.$OSD_ID/type")', not memstore"
  start_daemon "$dir" "osd.$OSD_ID" ceph-osd -i "$OSD_ID"

  log "pool rbd: create + init"
  bounded "${ceph[@]}" osd pool create rbd 8 8
  # Blocks until the PGs are active, since it writes to the pool.
  bounded rbd -c "$dir/ceph.conf" pool init rbd

  # Prove the cluster serves real image ops, not just map changes.
  local probe=sandbox-probe-$$
  bounded rbd -c "$dir/ceph.conf" create --size 1M "rbd/$probe"
  bounded rbd -c "$dir/ceph.conf" ls -p rbd >/dev/null
  bounded rbd -c "$dir/ceph.conf" rm --no-progress "rbd/$probe"

  local env
  env=$(printf 'CEPH_SANDBOX_DIR=%s\nCEPH_CONF=%s\nCEPH_KEYRING=%s\nCEPH_MON_HOST=%s\n' \
    "$dir" "$dir/ceph.conf" "$dir/ceph.client.admin.keyring" "$MON_HOST")
  if ((DASHBOARD)); then
    log "mgr.$MGR_ID: waiting for the dashboard to log $DASHBOARD_USER in"
    wait_dashboard "$dir"
    env+=$(printf '\nDASHBOARD_URL=%s\nDASHBOARD_USER=%s\nDASHBOARD_PASSWORD_FILE=%s' \
      "http://127.0.0.1:$DASHBOARD_PORT" "$DASHBOARD_USER" "$dir/dashboard.password")
  fi
  printf '%s\n' "$env" >"$dir/env"
  UP_OK=1
  log "up in $((SECONDS - t0)) s: $dir ($MON_HOST)"
  printf '%s\n' "$env" >&3
}

cmd_down() {
  local dir=${1:-}
  [[ -n $dir ]] || usage
  if [[ ! -d $dir ]]; then
    log "$dir does not exist, nothing to do"
    return 0
  fi
  dir=$(cd -- "$dir" && pwd -P)
  [[ -e $dir/$MARKER ]] || die "$dir is not a sandbox dir (no $MARKER), refusing to remove it"
  stop_daemons "$dir"
  rm -rf -- "$dir"
  log "removed $dir"
}

case ${1:-} in
  up) shift; (($# <= 2)) || usage; cmd_up "$@" ;;
  down) shift; (($# == 1)) || usage; cmd_down "$@" ;;
  *) usage ;;
esac
