# apps.sh - what the tests of real programs (tests/apps/t_*.sh) add to the
# integration helper library tests/integration/lib.sh, which they all use
# for namespaces, tasd, bounded processes and assertions: checking that the
# Debian programs are installed, waiting for a server that prints no READY
# line, tasd's view after the programs are gone (no application or
# connection left), and the "APPS-NUMBERS:" lines that carry measurements
# into the test log.
#
#   . "$(dirname "$0")/apps.sh"
#   apps_init t_example redis-server redis-cli
#   net_setup
#   start_bg redis tasd -t 300 redis-server --port 6379 ...
#   wait_port redis "$SERVER_IP" 6379 || fatal "redis-server did not start"
#   ...
#   apps_check_idle
#   finish
# shellcheck shell=bash disable=SC2119,SC2120,SC2034

APPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib.sh
. "$APPS_DIR/../integration/lib.sh"

# apps_init NAME COMMAND...: as tas_init, and every COMMAND must be
# installed (.ci/deps installs them; a missing one fails the test rather
# than skipping it, so that CI cannot pass without running it).  Sets
# APP[COMMAND] to its path.
declare -A APP=()
apps_init() {
    local name=$1 c p
    shift
    if [[ $EUID -eq 0 ]]; then
        for c in "$@"; do
            p=$(command -v "$c" 2>/dev/null)
            if [[ -z $p ]]; then
                echo "== $name"
                echo "FAIL: '$c' is not installed (run .ci/deps)"
                exit 1
            fi
            APP[$c]=$p
        done
    fi
    tas_init "$name" "$BIN/echo_client"
}

# wait_port NAME IP PORT [SECONDS]: wait until IP:PORT accepts a connection
# (probed from the Linux peer's namespace, which reaches both sides) while
# the background program NAME is running.  For servers without a READY line.
wait_port() {
    local name=$1 ip=$2 port=$3 secs=${4:-20} i
    local pid=${BG_PID[$name]:-}
    [[ -z $pid ]] && { echo "wait_port: no process '$name'"; return 1; }
    for ((i = 0; i < secs * 5; i++)); do
        if ! _alive "$pid"; then
            echo "$name exited before it listened on $ip:$port:"
            _show_log "${BG_LOG[$name]}"
            return 1
        fi
        if timeout 2 ip netns exec "$NS_B" bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "$name not listening on $ip:$port after $secs s:"
    _show_log "${BG_LOG[$name]}"
    return 1
}

# wait_log NAME REGEX [SECONDS]: wait until the background program NAME
# logs a line matching REGEX (for servers such as iperf3 -s, which a probe
# connection would disturb).
wait_log() {
    local name=$1 re=$2 secs=${3:-20} i
    local pid=${BG_PID[$name]:-}
    [[ -z $pid ]] && { echo "wait_log: no process '$name'"; return 1; }
    for ((i = 0; i < secs * 10; i++)); do
        grep -q -E "$re" "${BG_LOG[$name]}" 2>/dev/null && return 0
        if ! _alive "$pid"; then
            echo "$name exited before it logged '$re':"
            _show_log "${BG_LOG[$name]}"
            return 1
        fi
        sleep 0.1
    done
    echo "$name did not log '$re' within $secs s:"
    _show_log "${BG_LOG[$name]}"
    return 1
}

# numbers TEXT...: one measurement line for the report, tagged with the mode.
numbers() { echo "APPS-NUMBERS: $TEST_NAME [$TAS_TEST_MODE] $*"; }

# stop_server NAME: SIGTERM a server that runs until told to stop; PASS if it
# was still running (it did not die during the test) and ended.
stop_server() {
    local name=$1 pid=${BG_PID[$1]:-}
    if [[ -z $pid ]] || ! _alive "$pid"; then
        N_FAIL=$((N_FAIL + 1))
        echo "FAIL: $name was not running any more before it was told to stop; its log:"
        [[ -n $pid ]] && wait "$pid"
        unset "BG_PID[$name]"
        _show_log "${BG_LOG[$name]}"
        return
    fi
    stop_bg "$name"
    N_PASS=$((N_PASS + 1))
    echo "PASS: $name ran until it was stopped"
}

# tasd_state: one line "apps=N conns=N time_wait=N syn_rcvd=N listeners=N
# flows_free=N app_rows=N apps_total=N conn_passive=N conn_active=N
# app_bad=N" from `tasctl stats --json` (app_rows: rows in its "apps" table;
# the last four count since tasd started; app_bad: bad messages and queue
# entries tasd received from applications).
tasd_state() {
    tasctl stats --json >"$TMP/state.json" || return 1
    python3 - "$TMP/state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["slowpath"]
c = s["counters"]
print("apps=%d conns=%d time_wait=%d syn_rcvd=%d listeners=%d flows_free=%d app_rows=%d"
      " apps_total=%d conn_passive=%d conn_active=%d app_bad=%d"
      % (s["n_apps"], s["conns"], s["time_wait"], s["syn_rcvd"], s["listeners"],
         s["flows_free"], len(s["apps"]), c["apps_total"], c["conn_passive"],
         c["conn_active"], c["app_bad_msgs"] + c["app_bad_entries"] + c["fp_app_bad"]))
PY
}

# apps_mark_idle: remember tasd's idle state (before any program ran), so
# that apps_check_idle can compare the free flow ids with it.
APPS_IDLE_STATE=
apps_mark_idle() {
    [[ $TAS_TEST_MODE == tasd ]] || return 0
    APPS_IDLE_STATE=$(tasd_state) || fatal "tasctl stats --json failed"
    echo "tasd before the programs: $APPS_IDLE_STATE"
}

# apps_check_idle [SECONDS]: after every program under tasd has exited, tasd
# must within SECONDS (default 15; orphaned connections finish their FIN
# exchange first) have no application, no connection other than TIME_WAIT
# records, no half-open connection, no listener, and every flow id free that
# was free before the programs ran (apps_mark_idle); at least one process
# must have registered with tasd and one connection been made, and tasd
# must have found no bad message or queue entry from them.
# Sets APPS_REGISTERED (processes registered since apps_mark_idle) and
# APPS_CONNS (connections tasd opened or accepted in all).
apps_check_idle() {
    local secs=${1:-15} st='' t0=$SECONDS
    if [[ $TAS_TEST_MODE != tasd ]]; then
        echo "(tasd's leftover check does not apply in $TAS_TEST_MODE mode)"
        return 0
    fi
    local want_free=${APPS_IDLE_STATE##*flows_free=}
    want_free=${want_free%% *}
    while true; do
        st=$(tasd_state) || st=
        _idle_ok "$st" "$want_free" >/dev/null && break
        ((SECONDS - t0 >= secs)) && break
        sleep 0.2
    done
    echo "tasd after the programs ($((SECONDS - t0)) s): $st"
    check "tasctl stats: no application, connection (but TIME_WAIT), listener or flow left" \
        _idle_ok "$st" "$want_free"
    if ! _idle_ok "$st" "$want_free" >/dev/null; then
        echo "tasctl flows and applications (TIME_WAIT rows left out):"
        { tasctl flows | grep -v TIME_WAIT; tasctl stats | sed -n '/^applications:/,$p'; } 2>&1 |
            head -n 40 | sed 's/^/    | /'
    fi
    APPS_REGISTERED=$(($(_state_field "$st" apps_total) - $(_state_field "$APPS_IDLE_STATE" apps_total)))
    APPS_CONNS=$(($(_state_field "$st" conn_passive) + $(_state_field "$st" conn_active)))
    check "tasd served the programs: $APPS_REGISTERED processes registered, $APPS_CONNS connections" \
        test "$APPS_REGISTERED" -ge 1 -a "$APPS_CONNS" -ge 1
    check_eq "tasd received no bad message or queue entry from the programs" \
        "$(_state_field "$st" app_bad)" 0
}


# _state_field STATE NAME: one number of a tasd_state line (0 if absent)
_state_field() {
    local v=${1##*"$2"=}
    [[ $1 == *"$2"=* ]] || v=0
    echo "${v%% *}"
}

_idle_ok() {
    local st=$1 want_free=$2
    echo "state: $st (flows_free before: ${want_free:-unknown})"
    [[ $st =~ apps=0\ conns=([0-9]+)\ time_wait=([0-9]+)\ syn_rcvd=0\ listeners=0\ flows_free=([0-9]+)\ app_rows=0\  ]] || return 1
    [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]] || return 1
    [[ -z $want_free || ${BASH_REMATCH[3]} == "$want_free" ]]
}

# json_field FILE EXPR: evaluate a Python expression on the JSON document j
# (for iperf3 -J output).
json_field() {
    python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {"j": j}))
PY
}
