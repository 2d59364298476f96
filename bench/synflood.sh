#!/bin/bash
# bench/synflood.sh - an established transfer during a SYN flood: tasd
# against the Linux stack, one run (issue 8).
#
# In ns A, first on the Linux stack, then under tasd: an echo server
# listening on port 7060 (the flood's target) and a receiver on 7061.  A
# Linux sender in ns B moves SIZE MiB to the receiver, once alone and once
# while bench's syn_flood sends RATE SYN/s from ns B's own address to port
# 7060 (random source ports: ns B's kernel answers the SYN-ACKs with RSTs,
# the realistic case).  Prints both transfer rates, what the flood kept, the
# SYN rate achieved, and in tasd mode what tasd counted (SYN cookies, shed
# exceptions, the port's drops); bytes are checked by sha256 each time.
#
#   sudo bench/synflood.sh [-r RATE] [-s SIZE_MIB] [-m "linux tasd"]
#
# TASD_EXTRA passes more tasd flags.  Exits 1 if a transfer failed.
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

RATE=150000
SIZE=100
MODES="linux tasd"
usage() {
    echo "usage: $0 [-r RATE] [-s SIZE_MIB] [-m \"linux tasd\"]"
    exit 2
}
while getopts "r:s:m:h" o; do
    case $o in
    r) RATE=$OPTARG ;;
    s) SIZE=$OPTARG ;;
    m) MODES=$OPTARG ;;
    *) usage ;;
    esac
done
tas_init bench_synflood "$BIN/echo_server" "$BIN/tcp_send" "$BIN/tcp_recv" "$BIN/syn_flood"
make_data "$TMP/data" "$SIZE"
want=$(sha "$TMP/data")
declare -A MBS=() WALL=() SYNS=() NOTE=()
bench_failed=0

# xfer MODE KEY: one SIZE MiB transfer from ns B into ns A, timed; MB/s
# in MBS[MODE,KEY].
xfer() {
    local mode=$1 key=$2 t0 t1
    start_bg -o "$TMP/rx" "rx_${mode}_$key" tasd -t 200 "$BIN/tcp_recv" --listen --port 7061
    wait_ready "rx_${mode}_$key" || { NOTE[$mode]="receiver did not start"; return 1; }
    t0=$(date +%s.%N)
    if ! run_linux_peer -t 180 "$BIN/tcp_send" --addr "$SERVER_IP" --port 7061 \
        <"$TMP/data" 2>"$TMP/tx.log"; then
        NOTE[$mode,$key]="sender failed: $(tail -n 1 "$TMP/tx.log")"
        stop_bg "rx_${mode}_$key"
        return 1
    fi
    t1=$(date +%s.%N)
    wait_bg "rx_${mode}_$key" 30 || { NOTE[$mode,$key]="receiver failed"; return 1; }
    if [[ $(sha "$TMP/rx") != "$want" ]]; then
        NOTE[$mode,$key]="bytes differ"
        return 1
    fi
    sed 's/^/   sender: /' "$TMP/tx.log"
    # The sender's own rate: from connect() to the receiver's close.
    MBS[$mode,$key]=$(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "$TMP/tx.log")
    WALL[$mode,$key]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    echo "   $key: ${MBS[$mode,$key]} MB/s (${WALL[$mode,$key]} s with the sender's start)"
}

measure() {
    local mode=$1 ok=0
    # shellcheck disable=SC2034 # read by lib.sh
    TAS_TEST_MODE=$mode
    net_create
    if [[ $mode == tasd ]] && ! start_tasd; then
        NOTE[$mode]="tasd did not start (see above)"
        return 1
    fi
    start_bg "srv_$mode" tasd -t 600 "$BIN/echo_server" --port 7060 --backlog 1024
    wait_ready "srv_$mode" || { NOTE[$mode]="echo server did not start"; return 1; }
    xfer "$mode" alone || ok=1
    start_bg -o "$TMP/flood.out" "flood_$mode" peer -t 120 "$BIN/syn_flood" "$PEER_IP" "$SERVER_IP" \
        7060 "$RATE" 60
    sleep 1
    xfer "$mode" flood || ok=1
    stop_bg "flood_$mode" || true
    sleep 0.2
    SYNS[$mode]=$(sed -n 's/.*(\([0-9]*\)\/s.*/\1/p' "$TMP/flood.out")
    cat "$TMP/flood.out" | sed 's/^/   flood: /'
    if [[ $mode == tasd ]]; then
        [[ -n ${SYNFLOOD_STATS:-} ]] && tasctl stats >"$SYNFLOOD_STATS"
        tasctl stats | grep -E 'syncookies|syn_|shed|exc|imissed|rx_nombuf|ierrors|oerrors|kernel_drops' |
            sed 's/^/   /'
    fi
    stop_bg "srv_$mode" || true
    return $ok
}

for mode in $MODES; do
    echo "== $mode"
    measure "$mode" || bench_failed=1
    net_teardown
done

table() {
    local mode
    echo
    echo "SYN flood: a ${SIZE} MiB transfer Linux -> ns A, alone and during a flood of $RATE SYN/s"
    echo "(asked) to another port, from the sender's host (its kernel resets the SYN-ACKs)"
    echo "$(bench_stamp)"
    printf '%-6s | %10s %10s %7s | %10s\n' mode "alone MB/s" "flood MB/s" kept "SYN/s sent"
    for mode in $MODES; do
        printf '%-6s | %10s %10s %7s | %10s\n' "$mode" "$(v "${MBS[$mode,alone]:-}")" \
            "$(v "${MBS[$mode,flood]:-}")" \
            "$(ratio "${MBS[$mode,flood]:-}" "${MBS[$mode,alone]:-}")" "$(v "${SYNS[$mode]:-}")"
    done
    local k
    for k in "${!NOTE[@]}"; do
        echo "note: $k: ${NOTE[$k]}"
    done
}
bench_save synflood table
exit $bench_failed
