# lib.sh - the one helper library of the integration tests (and of
# bench/run.sh and tests/demo.sh): per-run network namespaces and veth,
# tasd start/stop, running programs under tasd or on the Linux peer,
# bounded background processes, PASS/FAIL assertions, and a cleanup trap
# that undoes exactly what this run created.
#
# Test network (one per run, names carry this shell's pid):
#
#   ns tas-A-<pid>                              ns tas-B-<pid>
#   server side (the program under test)        Linux peer
#   tasA<pid> ------------------ veth ----------- tasB<pid>
#   10.<n>.0.2 (tasd, or Linux in linux mode)   10.<n>.0.1/24 (Linux)
#
# TAS_TEST_MODE selects who runs TCP for ns A:
#   tasd   (default) tasd drives tasA<pid> with DPDK net_af_packet; the
#          interface has no kernel address; programs in ns A run with
#          LD_PRELOAD=libtas_interpose.so.
#   linux  tasA<pid> gets 10.<n>.0.2/24 and programs in ns A use the kernel:
#          the same test, with Linux at both ends (validates the test).
#
# Built programs are found under $BUILD (default: the current directory,
# which is the build directory under `make check`; automake passes BUILD and
# SRCDIR through AM_TESTS_ENVIRONMENT).  Every step runs under coreutils
# timeout; every loop is bounded.  A test script looks like:
#
#   . "$(dirname "$0")/lib.sh"
#   tas_init t_example
#   net_setup
#   start_bg srv tasd "$BIN/echo_server" --port 7000
#   wait_ready srv || fatal "server did not start"
#   check "echo works" run_linux_peer "$BIN/echo_client" --addr "$SERVER_IP"
#   finish
# shellcheck shell=bash disable=SC2119,SC2120

TAS_TEST_MODE=${TAS_TEST_MODE:-tasd}
TAS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$TAS_LIB_DIR/../.." && pwd)}
BUILD=${BUILD:-$PWD}
BIN=$BUILD/tests/integration/bin
TASD=${TASD:-$BUILD/tasd/tasd}
TASCTL=${TASCTL:-$BUILD/tasctl/tasctl}
INTERPOSE=${INTERPOSE:-$BUILD/libtas/.libs/libtas_interpose.so}
STEP_TIMEOUT=${STEP_TIMEOUT:-60}       # default bound of one step, seconds
TASD_LIFETIME=${TASD_LIFETIME:-1200}   # bound of one tasd instance, seconds
TASD_READY_TIMEOUT=${TASD_READY_TIMEOUT:-20}

TAS_ID=$$
NS_A=tas-A-$TAS_ID
NS_B=tas-B-$TAS_ID
VETH_A=tasA$TAS_ID # < 16 characters for any pid
VETH_B=tasB$TAS_ID
NET_N=$((TAS_ID % 200 + 20))
PEER_IP=10.$NET_N.0.1
SERVER_IP=10.$NET_N.0.2
NET_PREFIX=24
DPDK_PREFIX=tas$TAS_ID

TEST_NAME=
TMP=
RUN_DIR=
TASD_PID=
TASD_LOG_SHOWN=
NAMESPACES=()
declare -A BG_PID=()
declare -A BG_LOG=()
N_PASS=0
N_FAIL=0
CMD=()

# ---- set-up and tear-down ----------------------------------------------

# tas_init NAME [PROGRAM...]: root check (exit 77 = skipped), the programs
# it needs (default: the integration test programs), temp dir, cleanup trap.
tas_init() {
    TEST_NAME=$1
    echo "== $TEST_NAME (mode: $TAS_TEST_MODE, build: $BUILD)"
    case $TAS_TEST_MODE in
    linux | tasd) ;;
    *) echo "FAIL: TAS_TEST_MODE must be 'tasd' or 'linux', not '$TAS_TEST_MODE'"; exit 1 ;;
    esac
    if [[ $EUID -ne 0 ]]; then
        echo "SKIP: $TEST_NAME needs root (network namespaces); run 'sudo make check'"
        exit 77
    fi
    local c
    for c in ip ethtool timeout sha256sum python3; do
        if ! command -v "$c" >/dev/null 2>&1; then
            echo "FAIL: '$c' is not installed (run .ci/deps)"
            exit 1
        fi
    done
    local progs=("${@:2}")
    if [[ ${#progs[@]} -eq 0 ]]; then
        progs=("$BIN/echo_server" "$BIN/echo_client" "$BIN/tcp_send" "$BIN/tcp_recv"
            "$BIN/close_test")
    fi
    for c in "${progs[@]}"; do
        if [[ ! -x $c ]]; then
            echo "FAIL: $c is not built (run 'make check', or set BUILD to the build dir)"
            exit 1
        fi
    done
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/tas-test.XXXXXX") || exit 1
    RUN_DIR=$TMP/run
    trap tas_cleanup EXIT
    trap 'echo "interrupted"; exit 130' INT
    trap 'echo "terminated"; exit 143' TERM
}

# ns_add NAME: create a namespace that cleanup deletes.
ns_add() {
    ip netns add "$1" || return 1
    NAMESPACES+=("$1")
    ip -n "$1" link set lo up
    # IPv6 off: no router solicitations or DAD frames on the test link.
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

# net_setup [TASD ARGS...]: net_create, then in tasd mode start tasd in
# ns A (with these arguments instead of the defaults, if given).  Exits the
# test (FAIL) if anything goes wrong.
net_setup() {
    net_create
    if [[ $TAS_TEST_MODE == tasd ]]; then
        start_tasd "$@" || fatal "tasd did not start"
    fi
}

# net_create: namespaces, veth with offloads off, the peer's address, and in
# linux mode the server side's address.  Exits the test (FAIL) on error.
net_create() {
    if ! ns_add "$NS_A" || ! ns_add "$NS_B"; then
        fatal "cannot create network namespaces"
    fi
    ip -n "$NS_A" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NS_B" ||
        fatal "cannot create the veth pair"
    local ns dev
    for ns in A B; do
        if [[ $ns == A ]]; then ns=$NS_A dev=$VETH_A; else ns=$NS_B dev=$VETH_B; fi
        # Frames on the wire carry real checksums and are not merged, as on a NIC.
        ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 ||
            fatal "ethtool -K $dev failed"
        ip -n "$ns" link set "$dev" up || fatal "cannot bring $dev up"
    done
    ip -n "$NS_B" addr add "$PEER_IP/$NET_PREFIX" dev "$VETH_B" || fatal "cannot address $VETH_B"
    if [[ $TAS_TEST_MODE == linux ]]; then
        ip -n "$NS_A" addr add "$SERVER_IP/$NET_PREFIX" dev "$VETH_A" ||
            fatal "cannot address $VETH_A"
    fi
    echo "network: $NS_A ($VETH_A, $SERVER_IP, $TAS_TEST_MODE) <-> $NS_B ($VETH_B, $PEER_IP, linux)"
}

# peer_add_ips N: give the Linux peer N more addresses on its veth
# (10.<n>.0.11, .12, ...), so that clients can open more connections to one
# server port than one ephemeral port range holds (~28k per source
# address); sets PEER_IPS to every address of the peer, PEER_IP first.
PEER_IPS=()
peer_add_ips() {
    local n=$1 i ip
    PEER_IPS=("$PEER_IP")
    ((n > 200)) && fatal "peer_add_ips: at most 200 addresses"
    for ((i = 0; i < n; i++)); do
        ip=10.$NET_N.0.$((11 + i))
        ip -n "$NS_B" addr add "$ip/$NET_PREFIX" dev "$VETH_B" || fatal "cannot add $ip to $VETH_B"
        PEER_IPS+=("$ip")
    done
}

# net_teardown: stop every process this run started, delete its namespaces.
net_teardown() {
    local name
    for name in "${!BG_PID[@]}"; do
        stop_bg "$name" >/dev/null 2>&1
    done
    [[ -n $TASD_PID ]] && stop_tasd >/dev/null
    local ns
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    NAMESPACES=()
    # EAL run-time files of our DPDK prefix (ours alone: the name has our pid).
    rm -rf "/var/run/dpdk/$DPDK_PREFIX"
}

tas_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # A test that changed something of the machine's defines test_cleanup.
    declare -F test_cleanup >/dev/null && test_cleanup
    net_teardown
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${TAS_TEST_KEEP:-0} == 1 ]]; then
            echo "kept $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    exit "$rc"
}

# ---- tasd ----------------------------------------------------------------

# tasd_vdev: the DPDK virtual device tasd drives the test veth with:
# TAS_PMD=af_packet (default) or af_xdp.  TAS_FP_CORES=N (default 1): N
# fast-path cores, on N af_packet queue pairs (the kernel spreads flows
# over them by hash: PACKET_FANOUT_HASH).
tasd_vdev() {
    local q=${TAS_FP_CORES:-1}
    case ${TAS_PMD:-af_packet} in
    af_packet) echo "net_af_packet0,iface=$VETH_A$([[ $q -gt 1 ]] && echo ",qpairs=$q")" ;;
    af_xdp) echo "net_af_xdp0,iface=$VETH_A" ;;
    *) fatal "TAS_PMD=$TAS_PMD: af_packet or af_xdp" ;;
    esac
}

# tasd_cores: the --fp-cores flag that goes with tasd_vdev's queue pairs
# (nothing for one core), for a test that gives tasd its own arguments.
tasd_cores() { [[ ${TAS_FP_CORES:-1} -gt 1 ]] && echo "--fp-cores $TAS_FP_CORES"; return 0; }

# tasd_default_args: set TASD_ARGS to the arguments that run tasd on the
# test network.
tasd_default_args() {
    # --config /dev/null: an installed /etc/tasd/tasd.conf must not leak in.
    TASD_ARGS=(--config /dev/null --ip "$SERVER_IP/$NET_PREFIX" --run-dir "$RUN_DIR"
        --dpdk "--no-huge --no-pci -m 512 --file-prefix $DPDK_PREFIX --vdev $(tasd_vdev)")
    # shellcheck disable=SC2207
    TASD_ARGS+=($(tasd_cores))
    # TASD_EXTRA="--flag value ...": more options after the defaults.
    # shellcheck disable=SC2206
    [[ -n ${TASD_EXTRA:-} ]] && TASD_ARGS+=($TASD_EXTRA)
    return 0
}

# start_tasd [--ns NS] [--add] [TASD ARGS...]: start tasd (default arguments:
# the test network; --add: the defaults and these), wait until `tasctl
# status` succeeds.  0 or 1 with the log.
start_tasd() {
    local ns=$NS_A add=0
    if [[ ${1:-} == --ns ]]; then
        ns=$2
        shift 2
    fi
    if [[ ${1:-} == --add ]]; then
        add=1
        shift
    fi
    local args=("$@")
    if [[ ${#args[@]} -eq 0 || $add == 1 ]]; then
        tasd_default_args
        args=("${TASD_ARGS[@]}" "${args[@]}")
    fi
    local f
    for f in "$TASD" "$TASCTL" "$INTERPOSE"; do
        if [[ ! -e $f ]]; then
            echo "FAIL: tasd mode needs $f, which is not built."
            echo "      Build everything (make), or validate the test alone with TAS_TEST_MODE=linux."
            return 1
        fi
    done
    mkdir -p "$RUN_DIR"
    echo "starting: ip netns exec $ns $TASD$(printf ' %q' "${args[@]}")"
    timeout -k 5 "$TASD_LIFETIME" ip netns exec "$ns" "$TASD" "${args[@]}" \
        >"$TMP/tasd.log" 2>&1 </dev/null &
    TASD_PID=$!
    local i t0=$SECONDS
    for ((i = 0; i < TASD_READY_TIMEOUT * 5; i++)); do
        if ! _alive "$TASD_PID"; then
            wait "$TASD_PID"
            echo "FAIL: tasd exited with status $? during start-up; its log:"
            _show_log "$TMP/tasd.log"
            TASD_PID=
            TASD_LOG_SHOWN=1
            return 1
        fi
        if timeout 3 "$TASCTL" --run-dir "$RUN_DIR" status >/dev/null 2>&1; then
            echo "tasd ready after $((SECONDS - t0)) s (pid $TASD_PID)"
            return 0
        fi
        sleep 0.2
    done
    echo "FAIL: tasd not ready (tasctl status) after $TASD_READY_TIMEOUT s; its log:"
    _show_log "$TMP/tasd.log"
    stop_tasd
    TASD_LOG_SHOWN=1
    return 1
}

# stop_tasd: SIGTERM, wait up to 15 s (then SIGKILL).  Returns tasd's exit
# status (124/137 if it had to be killed).
stop_tasd() {
    [[ -z $TASD_PID ]] && return 0
    _stop_pid "$TASD_PID" 15
    local rc=$?
    TASD_PID=
    return $rc
}

tasctl() { timeout 10 "$TASCTL" --run-dir "$RUN_DIR" "$@"; }

# stat_sum KEY: the sum of every number named KEY anywhere in
# `tasctl stats --json` (all cores, slow path, applications); empty if
# tasctl fails.
stat_sum() {
    tasctl stats --json >"$TMP/stats.json" || return 1
    python3 - "$TMP/stats.json" "$1" <<'PY'
import json, sys
def walk(v, key):
    if isinstance(v, dict):
        return sum((x if k == key and isinstance(x, (int, float)) else 0) + walk(x, key)
                   for k, x in v.items())
    if isinstance(v, list):
        return sum(walk(x, key) for x in v)
    return 0
print(int(walk(json.load(open(sys.argv[1])), sys.argv[2])))
PY
}

# sp_stat KEY: one value of the slow path's part of `tasctl stats --json`
# (conns, time_wait, flows_free, n_apps, ...; counters.NAME for a counter).
sp_stat() {
    tasctl stats --json | python3 -c '
import json, sys
v = json.load(sys.stdin)["slowpath"]
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

# ---- running programs ------------------------------------------------------

# _mk_cmd WHERE [-t SECONDS] PROGRAM ARGS...: build CMD for WHERE = tasd
# (ns A, under the shim in tasd mode), tasd_raw (ns A, no shim, TAS_RUN_DIR
# set) or peer (ns B, Linux).
_mk_cmd() {
    local where=$1 t=$STEP_TIMEOUT
    shift
    if [[ ${1:-} == -t ]]; then
        t=$2
        shift 2
    fi
    case $where in
    tasd)
        CMD=(timeout -k 5 "$t" ip netns exec "$NS_A")
        if [[ $TAS_TEST_MODE == tasd ]]; then
            # TAS_FALLBACK=0: never fall back to the kernel stack silently.
            CMD+=(env "LD_PRELOAD=$INTERPOSE" "TAS_RUN_DIR=$RUN_DIR" TAS_FALLBACK=0)
        fi
        ;;
    tasd_raw)
        # ns A, talking to tasd directly (no shim): programs that speak the
        # registration protocol themselves (garbage_app).
        CMD=(timeout -k 5 "$t" ip netns exec "$NS_A" env "TAS_RUN_DIR=$RUN_DIR")
        ;;
    peer) CMD=(timeout -k 5 "$t" ip netns exec "$NS_B") ;;
    *) fatal "_mk_cmd: unknown place '$where'" ;;
    esac
    CMD+=("$@")
}

# run_under_tasd [-t SECONDS] PROGRAM ARGS...: run in ns A (the server side)
run_under_tasd() {
    _mk_cmd tasd "$@"
    "${CMD[@]}"
}

# echo_probe tasd|peer ADDR PORT SECONDS: from that side, connect to an
# echo server at ADDR:PORT within SECONDS and echo 100 bytes; prints "ok",
# "short" (other bytes or fewer came back) or the errno name connect() or
# the echo failed with (EHOSTUNREACH, ECONNREFUSED, ...).
echo_probe() {
    _mk_cmd "$1" -t $(($4 * 2 + 5)) /usr/bin/python3 -c '
import errno, socket, sys
s = socket.socket(); s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); s.sendall(b"e" * 100)
    got = b""
    while len(got) < 100:
        b = s.recv(100)
        if not b: break
        got += b
    print("ok" if got == b"e" * 100 else "short")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))' "$2" "$3" "$4"
    "${CMD[@]}"
}

# run_linux_peer [-t SECONDS] PROGRAM ARGS...: run in ns B (Linux)
run_linux_peer() {
    _mk_cmd peer "$@"
    "${CMD[@]}"
}

# where_ip tasd|peer: the address of that side
where_ip() { if [[ $1 == tasd ]]; then echo "$SERVER_IP"; else echo "$PEER_IP"; fi; }

# start_bg [-i IN] [-o OUT] NAME tasd|peer [-t SECONDS] PROGRAM ARGS...:
# run in the background; stderr (and stdout unless -o) to $TMP/NAME.log.
start_bg() {
    local in=/dev/null out=
    while [[ $1 == -i || $1 == -o ]]; do
        if [[ $1 == -i ]]; then in=$2; else out=$2; fi
        shift 2
    done
    local name=$1
    shift
    _mk_cmd "$@"
    local log=$TMP/$name.log
    BG_LOG[$name]=$log
    if [[ -n $out ]]; then
        "${CMD[@]}" <"$in" >"$out" 2>"$log" &
    else
        "${CMD[@]}" <"$in" >"$log" 2>&1 &
    fi
    BG_PID[$name]=$!
}

# wait_ready NAME [SECONDS]: wait for the program's READY line (it listens).
wait_ready() {
    local name=$1 secs=${2:-15} i
    local pid=${BG_PID[$name]:-}
    [[ -z $pid ]] && { echo "wait_ready: no process '$name'"; return 1; }
    for ((i = 0; i < secs * 10; i++)); do
        grep -q READY "${BG_LOG[$name]}" 2>/dev/null && return 0
        if ! _alive "$pid"; then
            echo "$name exited before it was ready:"
            _show_log "${BG_LOG[$name]}"
            return 1
        fi
        sleep 0.1
    done
    echo "$name not ready after $secs s:"
    _show_log "${BG_LOG[$name]}"
    return 1
}

# wait_bg NAME [SECONDS]: wait for a background program to end by itself;
# returns its exit status (124 if it had to be stopped) and shows its log
# if non-zero.
wait_bg() {
    local name=$1 secs=${2:-$STEP_TIMEOUT} i
    local pid=${BG_PID[$name]:-}
    [[ -z $pid ]] && { echo "wait_bg: no process '$name'"; return 1; }
    for ((i = 0; i < secs * 10; i++)); do
        _alive "$pid" || break
        sleep 0.1
    done
    local late=0
    if _alive "$pid"; then
        echo "$name still running after $secs s: stopping it"
        late=1
    fi
    _stop_pid "$pid" 5
    local rc=$?
    [[ $late == 1 ]] && rc=124 # not ending by itself is a failure
    unset "BG_PID[$name]"
    if [[ $rc -ne 0 ]]; then
        echo "$name exited with status $rc; its log:"
        _show_log "${BG_LOG[$name]}"
    fi
    return $rc
}

# stop_bg NAME: SIGTERM now, then as wait_bg.
stop_bg() {
    local pid=${BG_PID[$1]:-}
    [[ -z $pid ]] && return 0
    _stop_pid "$pid" 5
    local rc=$?
    unset "BG_PID[$1]"
    return $rc
}

# show_bg_log NAME: print a background program's log, indented.
show_bg_log() { _show_log "${BG_LOG[$1]}"; }

# _alive PID: PID is running and is our own child (never touch another
# process that happens to reuse the number).
_alive() {
    local pid=$1 stat
    [[ -r /proc/$pid/stat ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }                   # after "pid (comm) "
    local state=${stat%% *} rest=${stat#* }
    local ppid=${rest%% *}
    [[ $state != Z && $ppid == "$BASHPID" ]]
}

# _stop_pid PID SECONDS: TERM if running (coreutils timeout forwards it to
# the program), wait SECONDS, then KILL; reap and return the exit status.
_stop_pid() {
    local pid=$1 secs=$2 i
    if _alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < secs * 10; i++)); do
            _alive "$pid" || break
            sleep 0.1
        done
        _alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

_show_log() {
    if [[ -s $1 ]]; then
        tail -n "${TAS_LOG_LINES:-40}" "$1" | sed 's/^/    | /'
    else
        echo "    | (no output)"
    fi
}

# ---- assertions --------------------------------------------------------------

# check DESCRIPTION COMMAND...: PASS if the command exits 0; on FAIL shows
# its output.
check() {
    local desc=$1
    shift
    local out=$TMP/check.$((N_PASS + N_FAIL)).out
    local t0=$SECONDS
    if "$@" >"$out" 2>&1; then
        N_PASS=$((N_PASS + 1))
        echo "PASS: $desc ($((SECONDS - t0)) s)"
    else
        local rc=$?
        N_FAIL=$((N_FAIL + 1))
        echo "FAIL: $desc (exit $rc$([[ $rc == 124 ]] && echo ', timed out'))"
        _show_log "$out"
    fi
}

# check_tests WHAT TEST...: run other integration tests of this folder in
# the environment the caller set (e.g. TAS_PMD, TASD_EXTRA), one check
# each, "TEST passes WHAT"; a failing one's own FAIL lines are shown.
check_tests() {
    local what=$1 t
    shift
    for t in "$@"; do
        if bash "$TAS_LIB_DIR/$t.sh" >"$TMP/$t.log" 2>&1; then
            check "$t passes $what ($(tail -n 1 "$TMP/$t.log"))" true
        else
            sed 's/^/    | /' "$TMP/$t.log" | grep -v '^    | PASS' | tail -n 20
            check "$t passes $what" false
        fi
    done
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
    if [[ "$2" == "$3" ]]; then
        N_PASS=$((N_PASS + 1))
        echo "PASS: $1"
    else
        N_FAIL=$((N_FAIL + 1))
        echo "FAIL: $1: got '$2', want '$3'"
    fi
}

# fatal MESSAGE: a failure that ends the test now.
fatal() {
    N_FAIL=$((N_FAIL + 1))
    echo "FAIL: $*"
    finish
}

# finish: in tasd mode assert tasd survived; print the summary; exit 0 if
# every check passed, else show tasd's log and exit 1.
finish() {
    if [[ -n $TASD_PID ]]; then
        if _alive "$TASD_PID"; then
            N_PASS=$((N_PASS + 1))
            echo "PASS: tasd is still running at the end of the test"
        else
            N_FAIL=$((N_FAIL + 1))
            echo "FAIL: tasd died during the test"
        fi
    fi
    if [[ $N_FAIL -gt 0 && -s $TMP/tasd.log && -z $TASD_LOG_SHOWN ]]; then
        echo "tasd log (last lines):"
        TAS_LOG_LINES=80 _show_log "$TMP/tasd.log"
    fi
    echo "$TEST_NAME ($TAS_TEST_MODE mode): $N_PASS passed, $N_FAIL failed"
    [[ $N_FAIL -eq 0 ]] && exit 0
    exit 1
}

# nginx_temp_paths: the http{} lines of an nginx.conf written by a test or
# a benchmark that keep Debian's nginx's temporary files under $TMP/nginx
nginx_temp_paths() {
    local k
    for k in client_body:body proxy:proxy fastcgi:fastcgi uwsgi:uwsgi scgi:scgi; do
        echo "    ${k%%:*}_temp_path $TMP/nginx/${k#*:};"
    done
}

# capture_start NAME [FILTER]: tshark on the peer's end of the veth (what
# tasd sent and what it was sent), into $TMP/NAME.pcap, until capture_stop
# NAME (at most 120 s).  Returns once tshark is capturing.
capture_start() {
    local name=$1 filter=${2:-} i
    local pcap=$TMP/$name.pcap
    start_bg "$name" peer -t 120 tshark -i "$VETH_B" ${filter:+-f "$filter"} -w "$pcap" -q
    for ((i = 0; i < 50; i++)); do # capturing once the file exists
        [[ -s $pcap ]] && break
        sleep 0.1
    done
    sleep 0.5
}

# capture_stop NAME: end the capture (a second after the last frames, which
# tshark may not have written yet); $TMP/NAME.pcap is complete.
capture_stop() {
    sleep 1
    stop_bg "$1" || true
}

# ---- scenarios shared by several tests ----------------------------------------

sha() { sha256sum "$1" | cut -d' ' -f1; }

# make_data FILE MIB: random bytes
make_data() { head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"; }

# transfer DESC FROM TO LISTENER FILE PORT [SECONDS]: send FILE from FROM to
# TO (tasd|peer) with tcp_send/tcp_recv; LISTENER (from|to) says which side
# accepts.  Checks both programs' status and the sha256 at both ends.
transfer() {
    local desc=$1 from=$2 to=$3 listener=$4 file=$5 port=$6 t=${7:-120}
    local out=$TMP/received.$port rx=rx$port tx=tx$port
    if [[ $listener == to ]]; then
        start_bg -o "$out" "$rx" "$to" -t "$t" "$BIN/tcp_recv" --listen --port "$port"
        wait_ready "$rx" || { fatal "$desc: receiver did not start"; }
        start_bg -i "$file" "$tx" "$from" -t "$t" "$BIN/tcp_send" --addr "$(where_ip "$to")" \
            --port "$port"
    else
        start_bg -i "$file" "$tx" "$from" -t "$t" "$BIN/tcp_send" --listen --port "$port"
        wait_ready "$tx" || { fatal "$desc: sender did not start"; }
        start_bg -o "$out" "$rx" "$to" -t "$t" "$BIN/tcp_recv" --addr "$(where_ip "$from")" \
            --port "$port"
    fi
    check "$desc: sender wrote every byte and saw the receiver close" wait_bg "$tx" $((t + 10))
    check "$desc: receiver read to EOF" wait_bg "$rx" 30
    grep -h -E 'sent|received' "${BG_LOG[$tx]}" "${BG_LOG[$rx]}" | sed 's/^/    /'
    check_eq "$desc: sha256 at the receiver equals the sender's" "$(sha "$out")" "$(sha "$file")"
    rm -f "$out"
}

# close_case DESC SERVER CLIENT CLOSER HOW PORT: one close_test run, server
# in SERVER (tasd|peer), client in CLIENT; CLOSER (server|client) closes with
# HOW (fin|rst).  Both sides must report the expected result.
close_case() {
    local desc=$1 swhere=$2 cwhere=$3 closer=$4 how=$5 port=$6
    local s=close_srv$port c=close_cli$port
    start_bg "$s" "$swhere" -t 30 "$BIN/close_test" --role server --closer "$closer" \
        --how "$how" --port "$port"
    if ! wait_ready "$s"; then
        N_FAIL=$((N_FAIL + 1))
        echo "FAIL: $desc: server did not start"
        return
    fi
    start_bg "$c" "$cwhere" -t 30 "$BIN/close_test" --role client --closer "$closer" \
        --how "$how" --addr "$(where_ip "$swhere")" --port "$port"
    check "$desc: client ($cwhere) result" wait_bg "$c" 30
    check "$desc: server ($swhere) result" wait_bg "$s" 30
    grep -h 'close_test' "${BG_LOG[$s]}" "${BG_LOG[$c]}" | grep -v READY | sed 's/^/    /'
}

# ---- fault tests: numbers for people ------------------------------------------

# tasd_tx_totals: "TX_PKTS TX_BYTES RETX_BYTES" summed over tasd's fast-path
# cores (tasctl stats); RETX_BYTES is "-" while the fast path has no such
# counter.
tasd_tx_totals() {
    tasctl stats --json | python3 -c '
import json, sys
cores = json.load(sys.stdin)["fastpath"]["cores"]
retx = "-"
if cores and all("retx_bytes" in c for c in cores):
    retx = sum(c["retx_bytes"] for c in cores)
print(sum(c["tx_pkts"] for c in cores), sum(c["tx_bytes"] for c in cores), retx)'
}

# fault_transfer FAULT DESC FROM TO FILE PORT [SECONDS]: transfer (from the
# side that listens: FROM = tasd listens, as in t_loss) and print one
#   FAULT-NUMBERS: fault=F sender=tasd|linux mb=N seconds=S MBps=R retx_bytes=B (how)
# line.  Linux senders report TCP_INFO's bytes_retrans; tasd reports its
# retx_bytes counter, or, until the fast path has one, the payload it sent
# beyond the data (tx bytes less 66 header bytes a frame: Ethernet, IPv4,
# TCP with timestamps), an estimate good to a few hundred bytes.
fault_transfer() {
    local fault=$1 desc=$2 from=$3 to=$4 file=$5 port=$6 t=${7:-120}
    local listener=to before= size
    [[ $from == tasd ]] && listener=from
    size=$(stat -c %s "$file")
    local kernel_sender=1
    [[ $from == tasd && $TAS_TEST_MODE == tasd ]] && kernel_sender=0
    [[ $kernel_sender == 0 ]] && before=$(tasd_tx_totals)
    transfer "$desc" "$from" "$to" "$listener" "$file" "$port" "$t"
    local log=${BG_LOG[tx$port]} secs rate retx how
    secs=$(sed -n 's/.*sent [0-9]* bytes in \([0-9.]*\) s.*/\1/p' "$log")
    rate=$(sed -n 's/.*s (\([0-9.]*\) MB\/s).*/\1/p' "$log")
    if [[ $kernel_sender == 1 ]]; then
        retx=$(sed -n 's/.*bytes_retrans \([0-9]*\).*/\1/p' "$log")
        how="Linux TCP_INFO bytes_retrans"
    else
        local p0 b0 r0 p1 b1 r1
        read -r p0 b0 r0 <<<"$before"
        read -r p1 b1 r1 <<<"$(tasd_tx_totals)"
        if [[ $r1 != - ]]; then
            retx=$((r1 - r0))
            how="tasctl stats retx_bytes"
        else
            retx=$((b1 - b0 - (p1 - p0) * 66 - size))
            how="estimate: tasd tx payload beyond the data, tasctl stats"
        fi
    fi
    local who=tasd
    [[ $from == peer ]] && who=linux
    [[ $from == tasd && $kernel_sender == 1 ]] && who=linux-in-ns-A
    [[ -z $secs ]] && return # the transfer failed: no numbers
    echo "FAULT-NUMBERS: fault=$fault sender=$who" \
        "mb=$((size / 1048576)) seconds=${secs:-?} MBps=${rate:-?} retx_bytes=${retx:-?} ($how)"
}

# tasd_idle: (tasd mode) within 10 s tasd has no application, connection
# other than TIME_WAIT records, half-open connection or listener left.
tasd_idle() {
    [[ $TAS_TEST_MODE == tasd ]] || return 0
    local i
    for ((i = 0; i < 50; i++)); do
        tasctl stats --json >"$TMP/state.json" || return 1
        python3 - "$TMP/state.json" <<'PYEOF' && return 0
import json, sys
s = json.load(open(sys.argv[1]))["slowpath"]
print("apps=%d conns=%d time_wait=%d syn_rcvd=%d listeners=%d" % (
    s["n_apps"], s["conns"], s["time_wait"], s["syn_rcvd"], s["listeners"]))
sys.exit(0 if s["n_apps"] == 0 and s["conns"] == s["time_wait"] and
         s["syn_rcvd"] == 0 and s["listeners"] == 0 else 1)
PYEOF
        sleep 0.2
    done
    tasctl flows | grep -v TIME_WAIT
    return 1
}

# tasd_only WHY: a test of tasd itself ends here, skipped (exit 77), in
# linux mode, saying WHY.
tasd_only() {
    [[ $TAS_TEST_MODE == tasd ]] && return 0
    echo "SKIP: $1"
    exit 77
}

# flows_free_now FREE0: (tasd mode) the slow path's count of free flow ids,
# once it is FREE0 again (within 10 s: closes finish), or as it is then.
flows_free_now() {
    local i n=
    for ((i = 0; i < 50; i++)); do
        n=$(sp_stat flows_free)
        [[ $n == "$1" ]] && break
        sleep 0.2
    done
    echo "$n"
}

# fork_pattern [--known-bug WHY] MODE PORT CONNS BYTES [CLIENT OPTIONS...]:
# fork_patterns.py MODE in ns A, fork_client.py with CONNS connections of
# BYTES each in ns B; both must exit 0, then tasd must be idle.  With
# --known-bug (tasd mode only) a failure of the programs is reported as
# KNOWN BUG, not counted; a pass then fails, so that the mark goes.
fork_pattern() {
    local bug=
    if [[ $1 == --known-bug ]]; then
        [[ $TAS_TEST_MODE == tasd ]] && bug=$2
        shift 2
    fi
    local name=$1 port=$2 conns=$3 bytes=$4
    shift 4
    local py=/usr/bin/python3 dir=$SRCDIR/tests/integration
    start_bg "$name" tasd -t 90 "$py" "$dir/fork_patterns.py" "$name" "$port" "$conns"
    wait_ready "$name" || { fatal "$name server did not start"; }
    if [[ -n $bug ]]; then
        local ok=1
        run_linux_peer -t 70 "$py" "$dir/fork_client.py" "$SERVER_IP" "$port" "$conns" \
            "$bytes" "$@" >"$TMP/$name.client" 2>&1 || ok=0
        wait_bg "$name" 30 >/dev/null || ok=0
        if [[ $ok == 1 ]]; then
            N_FAIL=$((N_FAIL + 1))
            echo "FAIL: $name passes now: remove its --known-bug mark ($bug)"
        else
            echo "KNOWN BUG: $name: $bug"
            grep -h -E "fork_client: [0-9]|FAIL|Error" "$TMP/$name.client" "${BG_LOG[$name]}" |
                head -n 4 | sed 's/^/    | /'
        fi
    else
        check "$name: $conns clients get back every byte they sent" \
            run_linux_peer -t 70 "$py" "$dir/fork_client.py" "$SERVER_IP" "$port" "$conns" \
            "$bytes" "$@"
        check "$name: the server and its children did what they should (exit 0)" \
            wait_bg "$name" 30
        grep -h "$name: ok" "${BG_LOG[$name]}" | sed 's/^/    /'
    fi
    check "$name: tasd holds nothing of it afterwards" tasd_idle
}
