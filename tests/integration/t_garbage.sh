#!/bin/bash
# t_garbage.sh - an application that writes garbage into its own queues and
# rings (garbage_app: random fp_in/sp_in entries, random bytes over its
# context and its connections' rings) while another application moves
# 100 MB through tasd to the Linux peer.  tasd must keep running, reset the
# connection whose ring update cannot be true, hang up on the garbage app
# (resetting the rest of its connections, as the peer sees), count all of
# it in tasctl stats, and deliver the other transfer byte-identical.
# Needs tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_garbage "$BIN/garbage_app" "$BIN/tcp_send" "$BIN/tcp_recv" "$BIN/echo_server" \
    "$BIN/echo_client"
tasd_only "t_garbage tests tasd itself (TAS_TEST_MODE=$TAS_TEST_MODE)"
net_setup

MB=${TAS_GARBAGE_MB:-100}
SECS=${TAS_GARBAGE_SECONDS:-10}
make_data "$TMP/data" "$MB"
echo "data: $MB MiB, sha256 $(sha "$TMP/data"); garbage for $SECS s"

# The peer: a sink for the well-behaved application, an echo server for
# the garbage app's connections.
start_bg -o "$TMP/received" rx peer -t 300 "$BIN/tcp_recv" --listen --port 7201 --timeout 60
wait_ready rx || fatal "tcp_recv did not start on the peer"
start_bg echo peer -t $((SECS + 120)) "$BIN/echo_server" --port 7202 --timeout $((SECS + 60))
wait_ready echo || fatal "echo_server did not start on the peer"

start_bg garbage tasd_raw -t $((SECS + 60)) "$BIN/garbage_app" --addr "$PEER_IP" --port 7202 \
    --conns 4 --seconds "$SECS" --seed $((TAS_ID + 1))
# Start the transfer once the garbage app is up and misbehaving.
for ((i = 0; i < 100; i++)); do
    grep -q 'rounds of garbage\|established' "${BG_LOG[garbage]}" 2>/dev/null && break
    sleep 0.1
done
start_bg -i "$TMP/data" tx tasd -t 300 "$BIN/tcp_send" --addr "$PEER_IP" --port 7201 --timeout 60

check "the other application's sender wrote every byte" wait_bg tx 300
garbage_running=no
_alive "${BG_PID[garbage]}" && garbage_running=yes
check_eq "the garbage app was still at it when the transfer ended" "$garbage_running" yes
check "the peer's receiver read to EOF" wait_bg rx 30
grep -h -E 'sent|received' "${BG_LOG[tx]}" "${BG_LOG[rx]}" | sed 's/^/    /'
check_eq "sha256 at the peer equals the sender's" "$(sha "$TMP/received")" "$(sha "$TMP/data")"

check "garbage app: in every life tasd reset the bad connection alone, then hung up" \
    wait_bg garbage $((SECS + 30))
grep -E 'lives|app [0-9]+,' "${BG_LOG[garbage]}" | tail -n 3 | sed 's/^/    /'

# What tasctl stats says about it.
lives=$(grep -o '^garbage_app: [0-9]* lives' "${BG_LOG[garbage]}" | grep -o '[0-9]*')
app_bad=$(stat_sum app_refused)
bad_entries=$(stat_sum app_bad_entries)
resets=$(stat_sum app_bad_resets)
disconnects=$(stat_sum app_bad_disconnects)
echo "    tasctl stats: fast path app_refused $app_bad, slow path app_bad_entries $bad_entries," \
    "app_bad_resets $resets, app_bad_disconnects $disconnects (lives: ${lives:-?})"
check "fast path counted bad fp_in entries" test "${app_bad:-0}" -gt 0
check "slow path counted bad sp_in entries" test "${bad_entries:-0}" -gt 0
check "at least one connection reset per life (its bad ring update)" \
    test "${resets:-0}" -ge "${lives:-1000000}"
check_eq "one disconnect per life" "${disconnects:-0}" "${lives:-x}"

# Every connection of the garbage app ended at the peer too (RST).
peer_conns() {
    ip netns exec "$NS_B" ss -Htn state established '( sport = :7202 )' 2>/dev/null | wc -l
}
left=1
for ((i = 0; i < 50; i++)); do
    left=$(peer_conns)
    [[ $left == 0 ]] && break
    sleep 0.1
done
check_eq "no connection of the garbage app is left open at the peer" "$left" 0

# tasd still serves a well-behaved application.
check "an echo exchange after the garbage works" run_under_tasd -t 30 "$BIN/echo_client" \
    --addr "$PEER_IP" --port 7202 --conns 2 --msgs 100
stop_bg echo
finish
