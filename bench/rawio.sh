#!/bin/bash
# bench/rawio.sh - the raw I/O limit of the test port: what the veth carries
# through the DPDK PMD tasd uses, with one core and no TCP (issue 10).
#
# bench/udp_echo (bare DPDK: ARP and a UDP echo, busy-polling one queue
# pair) drives the veth end in ns A as tasd would (the same vdev: TAS_PMD=
# af_packet, the default, or af_xdp, as lib.sh's tasd_vdev; the af_packet
# ring as large as tasd makes it), with $SERVER_IP as its address.  The
# Linux client bench/udp_rpc in ns B drives it closed-loop, one 64-B
# datagram outstanding per flow, for each flow count.  Prints datagrams/s
# and p50/p99 latency per flow count and the machine's CPU per echo, and
# saves the table under $BUILD/bench/results/: tasd's rates (bench/run.sh)
# read as a share of these.  A benchmark, not a test.
#
#   sudo [TAS_PMD=af_xdp] bench/rawio.sh [-d SECONDS] [-c "1 16 64 256"] [-s BYTES]
#
# Exits 1 if a point could not be measured cleanly (an error, a lost
# datagram, or nothing echoed; the table then says which).
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

DURATION=5
FLOWS="1 16 64 256"
SIZE=64
while getopts "d:c:s:h" o; do
    case $o in
    d) DURATION=$OPTARG ;;
    c) FLOWS=$OPTARG ;;
    s) SIZE=$OPTARG ;;
    *)
        echo "usage: $0 [-d SECONDS] [-c \"1 16 64 256\"] [-s BYTES]"
        exit 2
        ;;
    esac
done
ECHO=$BUILD/bench/udp_echo
RPC=$BUILD/bench/udp_rpc
UDP_PORT=7
# The veth end in ns A gets no kernel address: udp_echo answers for it.
# shellcheck disable=SC2034 # read by lib.sh
TAS_TEST_MODE=tasd
tas_init bench_rawio "$ECHO" "$RPC"
VDEV=$(tasd_vdev) || { echo "$VDEV"; exit 1; }
# tasd gives net_af_packet a ring of 4096 frames (tasd/port.c); so do we.
[[ $VDEV == net_af_packet* ]] && VDEV+=,framecnt=4096
echo "raw I/O: $SIZE-B datagrams, one outstanding per flow, ${DURATION} s per point, vdev $VDEV"

declare -A RATE=() P50=() P99=() LOST=() MACH=() ECHO_CPU=() NOTE=()
bench_failed=0
ECHO_STATS=

# point C: one udp_rpc run with C flows, measured.
point() {
    local c=$1 out rc=0 cpu
    echo "-- $c flow(s)"
    cpu_begin point
    out=$(run_linux_peer -t $((DURATION + 30)) "$RPC" -a "$SERVER_IP" -p $UDP_PORT -c "$c" \
        -d "$DURATION" -w 0 -s "$SIZE" 2>&1) || rc=$?
    cpu=$(cpu_end point "${BG_PID[echo]}")
    local line
    line=$(grep '^flows=' <<<"$out")
    echo "   ${line:-udp_rpc: no result} (exit $rc)"
    grep -v '^flows=' <<<"$out" | head -n 5 | sed 's/^/   | /'
    echo "   cpu: $cpu"
    local made
    made=$(kv requests "$line")
    if [[ -z $made || $made == 0 ]]; then
        NOTE[$c]="nothing echoed (exit $rc)"
        return 1
    fi
    RATE[$c]=$(kv rate "$line")
    P50[$c]=$(kv p50_us "$line")
    P99[$c]=$(kv p99_us "$line")
    LOST[$c]=$(kv lost "$line")
    MACH[$c]=$(awk -v b="$(kv busy_s "$cpu")" -v n="$made" \
        'BEGIN { if (b != "" && n > 0) printf "%.1f", b * 1e6 / n; else print "n/a" }')
    ECHO_CPU[$c]=$(pct_core "$(kv procs_s "$cpu")" "$(kv wall_s "$cpu")")
    local errors
    errors=$(kv errors "$line")
    if [[ $rc != 0 || ${errors:-1} != 0 || ${LOST[$c]:-1} != 0 ]]; then
        NOTE[$c]="lost=${LOST[$c]:-?} errors=${errors:-?} (exit $rc)"
        return 1
    fi
}

measure() {
    net_create
    local words cpus
    read -ra words <<<"$FLOWS"
    cpus=$(python3 -c 'import os; print(",".join(map(str, sorted(os.sched_getaffinity(0)))))')
    local life=$(((DURATION + 30) * ${#words[@]} + 60))
    # The main lcore may run on any CPU we may (as tasd's lcores): on a small
    # machine it shares them with the client and the kernel.
    start_bg echo tasd_raw -t $((life + 10)) "$ECHO" --no-huge --no-pci -m 512 \
        --file-prefix "$DPDK_PREFIX" --lcores "0@($cpus)" --vdev "$VDEV" \
        -- --ip "$SERVER_IP" -d "$life"
    if ! wait_ready echo 20; then
        NOTE[all]="udp_echo did not start"
        return 1
    fi
    # A short run first: the peer resolves udp_echo's MAC (ARP) outside the
    # measured points.
    local out
    if ! out=$(run_linux_peer -t 20 "$RPC" -a "$SERVER_IP" -p $UDP_PORT -c 1 -d 1 -w 0 \
        -s "$SIZE" 2>&1); then
        echo "   warm-up failed: $out"
        show_bg_log echo
        NOTE[all]="no echo in the warm-up run (ARP or UDP)"
        return 1
    fi
    local c ok=0
    for c in $FLOWS; do
        point "$c" || ok=1
    done
    stop_bg echo || { NOTE[all]="udp_echo did not end cleanly"; ok=1; }
    ECHO_STATS=$(grep '^udp_echo: rx=' "${BG_LOG[echo]}")
    local drops
    drops=$(sed -n 's/^udp_echo: drops: //p' "${BG_LOG[echo]}")
    [[ -n $ECHO_STATS && -n $drops ]] && ECHO_STATS+=" (drops: $drops)"
    echo "   ${ECHO_STATS:-udp_echo: no final counters}"
    [[ -n $ECHO_STATS ]] || ok=1
    return $ok
}

measure || bench_failed=1
net_teardown

# shellcheck disable=SC2317 # called by bench_save
table() {
    echo
    echo "Raw I/O limit of the test port: udp_echo (DPDK ${TAS_PMD:-af_packet}, one core busy-polling)"
    echo "in ns A, udp_rpc (Linux) in ns B, $SIZE-B datagrams closed loop, ${DURATION} s per point"
    bench_stamp
    printf '%-6s | %12s | %16s | %5s | %15s | %9s\n' flows "datagrams/s" "p50/p99 us" lost \
        "machine us/echo" "echo core"
    local c
    for c in $FLOWS; do
        printf '%-6s | %12s | %16s | %5s | %15s | %8s%%\n' "$c" "$(v "${RATE[$c]:-}")" \
            "$(v "${P50[$c]:-}")/$(v "${P99[$c]:-}")" "$(v "${LOST[$c]:-}")" \
            "$(v "${MACH[$c]:-}")" "$(v "${ECHO_CPU[$c]:-}")"
    done
    echo "(datagrams/s: echoes completed; machine us/echo: the whole machine's busy CPU time"
    echo " per echo, one request and its answer, with udp_echo's busy-polling core in it;"
    echo " echo core: udp_echo's CPU as % of one core)"
    if [[ -n $ECHO_STATS ]]; then echo "$ECHO_STATS"; fi
    local k
    for k in "${!NOTE[@]}"; do
        echo "note: $k: ${NOTE[$k]}"
    done
}

bench_save rawio table
exit $bench_failed
