#!/bin/bash
# bench/instructions.sh - instructions per 64-B echo RPC in tasd's fast
# path and in the library (with the echo server it serves), counted by
# valgrind's callgrind with no kernel in the data path (issue 10): two tasd
# instances joined by a DPDK net_memif port (shared memory) in one network
# namespace, bench's echo server under tasd A, rpc_echo under tasd B.  tasd
# A's fast-path thread is counted in one run (the server native: the core,
# slowed ~50x by callgrind, is the bottleneck and finds little idle time),
# the echo server process in another (tasd native; TAS_SPIN_US=0: it sleeps
# at once instead of spinning).  Once the load runs, the counters are
# zeroed, and SECONDS later dumped; the RPCs in between are the data
# segments tasd A sent (its tx frames less its pure ACKs).  A benchmark,
# not a test:
#
#   sudo bench/instructions.sh [-c "1 16"] [-t SECONDS]    (make bench-instructions)
#
# Prints a table per connection count and the fast path's top functions,
# and saves them under $BUILD/bench/results/.
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

CONNS="1 16"
SECS=10
while getopts "c:t:h" o; do
    case $o in
    c) CONNS=$OPTARG ;;
    t) SECS=$OPTARG ;;
    *)
        echo "usage: $0 [-c \"1 16\"] [-t SECONDS]"
        exit 2
        ;;
    esac
done
TARGET=2000 # issue 10: fast path plus library, per RPC
RPC=$BUILD/bench/rpc_echo
TAS_TEST_MODE=tasd
tas_init bench_instructions "$BIN/echo_server" "$RPC"
for c in valgrind callgrind_control callgrind_annotate; do
    command -v "$c" >/dev/null || { echo "FAIL: $c is not installed (apt-get install valgrind)"; exit 1; }
done
ns_add "$NS_A" || fatal "cannot create a network namespace"
IP_A=10.99.0.2
IP_B=10.99.0.1

declare -A RPCS=() FP=() LIB=() NOTE=()
DUMPS=0 # callgrind_control -d so far: tasd A's dumps are cg.tasd.PID.N-THREAD

# tasd_on NAME IP ROLE [VALGRIND...]: a tasd on the memif port, run dir $TMP/NAME
tasd_on() {
    local name=$1 ip=$2 role=$3
    shift 3
    mkdir -p "$TMP/$name"
    start_bg "$name" tasd_raw -t 1200 "$@" "$TASD" --config /dev/null --ip "$ip/24" \
        --run-dir "$TMP/$name" --sp-thread own \
        --dpdk "--no-huge --no-pci -m 256 --file-prefix $DPDK_PREFIX$name --vdev net_memif0,role=$role,socket=$TMP/memif.sock,socket-abstract=no"
    local i
    for ((i = 0; i < 240; i++)); do
        timeout 5 "$TASCTL" --run-dir "$TMP/$name" status >/dev/null 2>&1 && return 0
        _alive "${BG_PID[$name]}" || break
        sleep 0.5
    done
    echo "tasd $name did not start:"
    show_bg_log "$name"
    return 1
}

# child PID: the process timeout(1) runs (ip netns exec and env exec theirs)
child() { pgrep -P "$1" | head -n 1; }

# stat_a KEY: tasd A's fast-path counter KEY, all cores
stat_a() {
    timeout 10 "$TASCTL" --run-dir "$TMP/a" stats --json | python3 -c '
import json, sys
print(sum(c[sys.argv[1]] for c in json.load(sys.stdin)["fastpath"]["cores"]))' "$1"
}

# ir_of FILE...: instructions in callgrind dumps (their "summary:" lines)
ir_of() { awk '/^summary:/ { s += $2 } END { printf "%.0f\n", s }' "$@"; }

# calls_of FILE FUNCTION: how often FUNCTION was called in a callgrind dump
calls_of() {
    python3 - "$1" "$2" <<'PY'
import re, sys
names, cur, n = {}, None, 0
for line in open(sys.argv[1]):
    m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3).strip()
        if m.group(1) == "cfn":
            cur = names.get(m.group(2))
        continue
    if line.startswith("calls=") and cur == sys.argv[2]:
        n += int(line.split()[0][6:])
print(n)
PY
}

# top FILE LABEL: the functions with the most instructions (inclusive)
top() {
    callgrind_annotate --inclusive=yes "$1" 2>/dev/null | sed -n '/file:function/,/^$/p' |
        grep '\[' | grep -v 'clone\|start_thread\|below main\|???:0x' |
        head -n 14 | sed "s/^/   $2 | /"
}

# measure C WHO: C connections, SECS seconds, with WHO (fp: tasd A; lib:
# the echo server) under callgrind; sets the results of C
measure() {
    local c=$1 who=$2 port=$((7100 + $1))
    local vg=()
    [[ $who == lib ]] && vg=(valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.srv$c.%p")
    start_bg "srv$c" tasd -t 1200 env TAS_RUN_DIR="$TMP/a" TAS_SPIN_US=0 "${vg[@]}" \
        "$BIN/echo_server" --port "$port" --max-conns "$c" --timeout 1000
    wait_ready "srv$c" 120 || { NOTE[$c]="echo server did not start"; return 1; }
    start_bg "cli$c" tasd -t 1200 env TAS_RUN_DIR="$TMP/b" "$RPC" -a "$IP_A" -p "$port" \
        -c "$c" -d $((SECS + 60)) -w 0
    local i t0 pid
    t0=$(stat_a tx_pkts)
    for ((i = 0; i < 120; i++)); do # until the load runs
        sleep 1
        [[ $(($(stat_a tx_pkts) - t0)) -gt 200 ]] && break
    done
    if [[ $who == fp ]]; then pid=$(child "${BG_PID[a]}"); else pid=$(child "${BG_PID[srv$c]}"); fi
    callgrind_control -z "$pid" >/dev/null || { NOTE[$c]="callgrind_control -z failed"; return 1; }
    local tx0 ack0 tx1 ack1
    tx0=$(stat_a tx_pkts)
    ack0=$(stat_a acks_sent)
    sleep "$SECS"
    tx1=$(stat_a tx_pkts)
    ack1=$(stat_a acks_sent)
    callgrind_control -d "$pid" >/dev/null || { NOTE[$c]="callgrind_control -d failed"; return 1; }
    sleep 2
    local n=$(((tx1 - tx0) - (ack1 - ack0)))
    stop_bg "cli$c"
    stop_bg "srv$c"
    if ((n <= 0)); then
        NOTE[$c]="no RPCs"
        return 1
    fi
    if [[ $who == fp ]]; then
        # tasd A's fast-path thread: the dump whose thread ran fp_core_run
        DUMPS=$((DUMPS + 1))
        local f fpf=""
        for f in "$TMP"/cg.tasd."$pid".$DUMPS-*; do
            grep -q "fp_core_run" "$f" 2>/dev/null && fpf=$f
        done
        [[ -n $fpf ]] || { NOTE[$c]="no fast-path dump"; return 1; }
        RPCS[$c]=$n
        FP[$c]=$(($(ir_of "$fpf") / n))
        POLLS[$c]=$(awk -v p="$(calls_of "$fpf" fp_core_poll)" -v n="$n" \
            'BEGIN { printf "%.1f", p / n }')
        top "$fpf" fp >"$TMP/top$c.fp"
    else
        LIBRPCS[$c]=$n
        LIB[$c]=$(($(ir_of "$TMP"/cg.srv$c."$pid".1) / n))
        top "$TMP"/cg.srv$c."$pid".1 lib >"$TMP/top$c.lib"
    fi
    echo "   $who: $n RPCs"
}

table() {
    echo "instructions per 64-B echo RPC (callgrind), tasd A over net_memif, $SECS s per point"
    echo "(fast path: tasd A under callgrind, the echo server native; library: the"
    echo " echo server under callgrind, tasd native; polls = fast-path loop turns per RPC)"
    bench_stamp
    printf '%-6s %10s %10s %7s %10s %12s %8s %8s\n' conns RPCs fast_path polls RPCs library+app \
        total target
    local c
    for c in $CONNS; do
        if [[ -n ${NOTE[$c]:-} ]]; then
            printf '%-6s %s\n' "$c" "not measured: ${NOTE[$c]}"
            continue
        fi
        printf '%-6s %10s %10s %7s %10s %12s %8s %8s\n' "$c" "${RPCS[$c]}" "${FP[$c]}" \
            "${POLLS[$c]}" "${LIBRPCS[$c]}" "${LIB[$c]}" $((FP[$c] + LIB[$c])) "$TARGET"
    done
    for c in $CONNS; do
        echo "where they go, $c connection(s) (inclusive instructions in the window):"
        cat "$TMP/top$c.fp" "$TMP/top$c.lib" 2>/dev/null
    done
}

declare -A POLLS=() LIBRPCS=()
failed=0
for who in fp lib; do
    echo "-- $who under callgrind"
    if [[ $who == fp ]]; then
        tasd_on a "$IP_A" server valgrind --tool=callgrind --separate-threads=yes \
            --callgrind-out-file="$TMP/cg.tasd.%p" || exit 1
    else
        tasd_on a "$IP_A" server || exit 1
    fi
    tasd_on b "$IP_B" client || exit 1
    for c in $CONNS; do
        echo "-- $c connection(s)"
        measure "$c" "$who" || failed=1
    done
    stop_bg b
    stop_bg a
    rm -f "$TMP/memif.sock"
done
bench_save instructions table
exit $failed
