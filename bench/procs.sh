#!/bin/bash
# bench/procs.sh - what a new process costs: many short client processes in
# a row, tasd against the Linux stack, one run (issue 8: "a new process's
# registration ... under 0.5 ms").
#
# In ns A, first on the Linux stack, then under tasd (LD_PRELOAD), one shell
# starts N processes one after the other, each to its end, of each kind:
#   true    /bin/true: starting a process (under tasd: the shim loaded, no
#           socket, so no registration); the floor of the others
#   echo    echo_client: one connection to echo_server on the Linux peer,
#           one 64-B message echoed, close
#   curl    curl: one HTTP request to http_hello on the Linux peer
#           (Connection: close), as the issue measured it
# and prints the wall time per process, tasd less Linux (what each process
# pays for tasd: registration, the shim's start, and a connection through
# tasd instead of the kernel) and the tasd/Linux ratio; saves the table under
# $BUILD/bench/results/.  A benchmark, not a test.
#
#   sudo bench/procs.sh [-n PROCESSES] [-k "true echo curl"] [-m "linux tasd"]
#
# TASD_EXTRA passes more tasd flags.  Exits 1 if a point could not be
# measured or a process failed.
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

N=1000
KINDS="true echo curl"
MODES="linux tasd"
usage() {
    echo "usage: $0 [-n PROCESSES] [-k \"true echo curl\"] [-m \"linux tasd\"]"
    exit 2
}
while getopts "n:k:m:h" o; do
    case $o in
    n) N=$OPTARG ;;
    k) KINDS=$OPTARG ;;
    m) MODES=$OPTARG ;;
    *) usage ;;
    esac
done
tas_init bench_procs "$BIN/echo_server" "$BIN/echo_client" "$BIN/http_hello"
command -v curl >/dev/null || { echo "FAIL: 'curl' is not installed (run .ci/deps)"; exit 1; }
echo "new processes: $N in a row per kind, kinds: $KINDS"

declare -A US=() FAILS=() NOTE=()
bench_failed=0

# The loop runs in one shell in ns A, so that neither `ip netns exec` nor
# this script's own forks count; it prints "<ns per process> <failures>".
# shellcheck disable=SC2016 # expanded by the inner shell
LOOP='n=$1; shift; f=0; t0=$(date +%s%N)
for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 || f=$((f + 1)); done
t1=$(date +%s%N); echo $(((t1 - t0) / n)) $f'

# point MODE KIND: N processes of KIND, timed.
point() {
    local mode=$1 kind=$2 out prog=()
    case $kind in
    true) prog=(/bin/true) ;;
    echo) prog=("$BIN/echo_client" --addr "$PEER_IP" --port 7000 --conns 1 --msgs 1
        --size 64 --timeout 10) ;;
    curl) prog=(curl -s -f -o /dev/null --max-time 10 -H "Connection: close"
        "http://$PEER_IP:8080/") ;;
    *) NOTE[$mode,$kind]="unknown kind"; return 1 ;;
    esac
    echo "-- $mode, $kind"
    out=$(run_under_tasd -t $((N / 50 + 120)) bash -c "$LOOP" loop "$N" "${prog[@]}") || true
    local ns fails
    read -r ns fails <<<"$out"
    if [[ -z ${ns:-} ]]; then
        NOTE[$mode,$kind]="the loop did not finish"
        return 1
    fi
    US[$mode,$kind]=$(calc "$ns / 1000")
    FAILS[$mode,$kind]=$fails
    echo "   ${US[$mode,$kind]} us per process, $fails failed"
    [[ $fails == 0 ]]
}

measure() {
    local mode=$1 kind ok=0
    # shellcheck disable=SC2034 # read by lib.sh
    TAS_TEST_MODE=$mode
    net_create
    if [[ $mode == tasd ]] && ! start_tasd; then
        NOTE[$mode]="tasd did not start (see above)"
        return 1
    fi
    start_bg "echo_$mode" peer -t 3600 "$BIN/echo_server" --port 7000 --backlog 1024
    start_bg "web_$mode" peer -t 3600 "$BIN/http_hello" --port 8080
    if ! wait_ready "echo_$mode" || ! wait_ready "web_$mode"; then
        NOTE[$mode]="the peer's servers did not start"
        return 1
    fi
    for kind in $KINDS; do
        point "$mode" "$kind" || ok=1
    done
    stop_bg "echo_$mode" || true
    stop_bg "web_$mode" || true
    return $ok
}

for mode in $MODES; do
    echo "== $mode"
    measure "$mode" || bench_failed=1
    net_teardown
done

table() {
    local k
    echo
    echo "New processes: $N in a row per kind, each to its end, in one shell in ns A (under"
    echo "tasd: LD_PRELOAD); servers on Linux in ns B $(bench_stamp)"
    echo "us/process: wall time per process; extra: tasd less Linux"
    printf '%-6s | %11s %11s %9s %6s | %7s %7s\n' kind "Linux us" "tasd us" "extra us" ratio \
        "L fails" "T fails"
    for k in $KINDS; do
        local l=${US[linux,$k]:-} t=${US[tasd,$k]:-} d=
        [[ -n $l && -n $t ]] && d=$((t - l))
        printf '%-6s | %11s %11s %9s %6s | %7s %7s\n' "$k" "$(v "$l")" "$(v "$t")" "$(v "$d")" \
            "$(ratio "$t" "$l")" "$(v "${FAILS[linux,$k]:-}")" "$(v "${FAILS[tasd,$k]:-}")"
    done
    for k in "${!NOTE[@]}"; do
        echo "note: $k: ${NOTE[$k]}"
    done
    echo "(true: a process with the shim and no socket; echo, curl: one connection each;"
    echo " ratio = tasd/Linux, below 1 is better)"
}

bench_save procs table
exit $bench_failed
