#!/bin/bash
# bench/run.sh - RPC echo benchmark: tasd against the Linux stack, one run.
#
# The same unmodified echo_server runs in ns A, first on the Linux stack (the
# veth end has the address), then under tasd (tasd drives the veth end with
# DPDK af_packet; the server runs with LD_PRELOAD=libtas_interpose.so).  The
# same Linux client, bench/rpc_echo in ns B, drives it closed-loop with
# 64-B requests over 1 and 16 connections for a fixed duration.  Prints
# requests/s, p50 and p99 latency per setting and the tasd/Linux ratios,
# tasd's thread wake-ups per RPC and libtas's own (from tasctl stats), and
# saves the table under $BUILD/bench/results/.  A benchmark, not a test.
#
#   sudo bench/run.sh [-d SECONDS] [-c "1 16"] [-m "linux tasd"] [-s BYTES] [-T THREADS [-D]]
#
# -T: the server is tests/integration/thread_server with THREADS worker
# threads, each with its own SO_REUSEPORT listener and epoll set (each its
# own context under tasd; TAS_THREAD_CTX=0 in the environment makes them
# share one, for comparison).  -D with -T: the main thread accepts every
# connection and hands it to a worker (memcached's shape; thread_server
# --dispatch).
#   sudo bench/run.sh --matrix [bench/matrix.sh's options]
#
# Exits 1 if a mode could not be measured (the table then says why).
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

# --matrix: the whole comparison (bench/matrix.sh, with the options after it).
if [[ ${1:-} == --matrix ]]; then
    shift
    exec bash "$(dirname "$0")/matrix.sh" "$@"
fi

DURATION=10
CONNS="1 16"
MODES="linux tasd"
SIZE=64
THREADS=
DISPATCH=
while getopts "d:c:m:s:T:Dh" o; do
    case $o in
    d) DURATION=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    m) MODES=$OPTARG ;;
    s) SIZE=$OPTARG ;;
    T) THREADS=$OPTARG ;;
    D) DISPATCH=--dispatch ;;
    *)
        echo "usage: $0 [-d SECONDS] [-c \"1 16\"] [-m \"linux tasd\"] [-s BYTES] [-T THREADS [-D]]"
        exit 2
        ;;
    esac
done
RPC=$BUILD/bench/rpc_echo
SERVER=(echo_server --port 7000 --nodelay)
[[ -n $THREADS ]] &&
    SERVER=(thread_server --port 7000 --threads "$THREADS" --total 2000000000 --timeout 100000
        $DISPATCH)
tas_init bench "$BIN/${SERVER[0]}" "$RPC"
echo "RPC echo: $SIZE-B requests, one outstanding per connection, ${DURATION} s per point," \
    "server ${SERVER[0]}${THREADS:+ ($THREADS threads${DISPATCH:+, one accepts})}"

declare -A RATE=() P50=() P99=() WAKE=() NOTE=()
bench_failed=0

# measure MODE: one server, every connection count.
measure() {
    local mode=$1 c out
    # shellcheck disable=SC2034 # read by lib.sh
    TAS_TEST_MODE=$mode
    net_create
    if [[ $mode == tasd ]] && ! start_tasd; then
        NOTE[$mode]="tasd did not start (see above)"
        return 1
    fi
    local words
    read -ra words <<<"$CONNS"
    start_bg "server_$mode" tasd -t $(((DURATION + 30) * ${#words[@]} + 60)) \
        "$BIN/${SERVER[0]}" "${SERVER[@]:1}"
    if ! wait_ready "server_$mode"; then
        NOTE[$mode]="${SERVER[0]} did not start"
        return 1
    fi
    for c in $CONNS; do
        echo "-- $mode, $c connection(s)"
        [[ $mode == tasd ]] && tasctl stats --json >"$TMP/wake0.json" 2>/dev/null
        if ! out=$(run_linux_peer -t $((DURATION + 30)) "$RPC" -a "$SERVER_IP" -p 7000 \
            -c "$c" -d "$DURATION" -w 1 -s "$SIZE"); then
            echo "   rpc_echo failed: $out"
            NOTE[$mode]="rpc_echo failed with $c connection(s)"
            return 1
        fi
        echo "   $out"
        RATE[$mode,$c]=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out")
        P50[$mode,$c]=$(sed -n 's/.* p50_us=\([0-9.]*\).*/\1/p' <<<"$out")
        P99[$mode,$c]=$(sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$out")
        if [[ $mode == tasd ]] && tasctl stats --json >"$TMP/wake1.json" 2>/dev/null; then
            WAKE[$c]=$(wakes_per "$TMP/wake0.json" "$TMP/wake1.json" "$(kv requests "$out")")
        fi
    done
    # (its status is not a result: rpc_echo closes with requests in flight)
    stop_bg "server_$mode" || true
    return 0
}

for mode in $MODES; do
    echo "== $mode"
    if ! measure "$mode"; then
        bench_failed=1
        echo "   $mode: ${NOTE[$mode]:-failed}"
    fi
    net_teardown
done

table() {
    echo
    echo "RPC echo benchmark: $SIZE-B requests, closed loop, ${DURATION} s per point,"
    echo "server: ${SERVER[0]}${THREADS:+ ($THREADS threads${DISPATCH:+, one accepts})} in ns A, client: rpc_echo on Linux in ns B ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs)"
    printf '%-6s | %12s %12s %7s | %16s %16s | %10s %10s\n' conns "Linux req/s" "tasd req/s" \
        ratio "Linux p50/p99 us" "tasd p50/p99 us" "p50 ratio" "p99 ratio"
    local c
    for c in $CONNS; do
        printf '%-6s | %12s %12s %7s | %16s %16s | %10s %10s\n' "$c" \
            "$(v "${RATE[linux,$c]:-}")" "$(v "${RATE[tasd,$c]:-}")" \
            "$(ratio "${RATE[tasd,$c]:-}" "${RATE[linux,$c]:-}")" \
            "$(v "${P50[linux,$c]:-}")/$(v "${P99[linux,$c]:-}")" \
            "$(v "${P50[tasd,$c]:-}")/$(v "${P99[tasd,$c]:-}")" \
            "$(ratio "${P50[tasd,$c]:-}" "${P50[linux,$c]:-}")" \
            "$(ratio "${P99[tasd,$c]:-}" "${P99[linux,$c]:-}")"
    done
    if [[ -n ${WAKE[*]:-} ]]; then
        echo "tasd's thread wake-ups per RPC (tasctl stats: app = an application woken, by a"
        echo "core or the slow path; sp = the slow path kicked by a core; fp = a core woken by"
        echo "the slow path; sleeps = a core went to sleep; lib = one of the server's threads"
        echo "woken by another, in libtas):"
        for c in $CONNS; do
            printf '%-6s | %s\n' "$c" "$(v "${WAKE[$c]:-}")"
        done
    fi
    local m
    for m in "${!NOTE[@]}"; do
        echo "note: $m: ${NOTE[$m]}"
    done
    echo "(ratio = tasd/Linux: above 1 is better for req/s, below 1 is better for latency)"
}

bench_save rpc_echo table
exit $bench_failed
