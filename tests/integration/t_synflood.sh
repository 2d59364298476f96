#!/bin/bash
# t_synflood.sh - a flood of 10k SYNs that never complete (their SYN-ACKs
# answered by nobody) does not stop an established transfer or new
# legitimate connections: tasd answers with SYN cookies once the half-open
# table of the listener is full, and the peers that do complete the
# handshake get connections from the cookies.
. "$(dirname "$0")/lib.sh"
tas_init t_synflood
net_setup
N=${TAS_SYNFLOOD_N:-10000}

# The peer's kernel would answer the SYN-ACKs of the flood with RST (which
# clears half-open state); an attacker does not: drop those RSTs.
ip netns exec "$NS_B" nft -f - <<NFT
table inet tasflood {
    chain out {
        type filter hook output priority 0; policy accept;
        ip daddr $SERVER_IP tcp dport 7060 tcp flags & (rst) == rst tcp sport 20000-60000 counter drop
    }
}
NFT

make_data "$TMP/data" 100
start_bg -o "$TMP/rx" rx tasd -t 120 "$BIN/tcp_recv" --listen --port 7061
wait_ready rx || fatal "receiver did not start"
start_bg srv tasd -t 120 "$BIN/echo_server" --port 7060 --max-conns 20 --timeout 100
wait_ready srv || fatal "echo server did not start"

# An established transfer is running when the flood starts: its data comes
# through a FIFO, half of it now and the rest once the flood is over.
mkfifo "$TMP/fifo"
start_bg -i "$TMP/fifo" tx peer -t 120 "$BIN/tcp_send" --addr "$SERVER_IP" --port 7061
{ head -c 52428800 "$TMP/data"; sleep 4; tail -c +52428801 "$TMP/data"; } >"$TMP/fifo" &
feeder=$!
check "the flood: $N SYNs to the echo server's port" \
    run_linux_peer -t 60 /usr/bin/python3 "$SRCDIR/tests/integration/syn_flood.py" \
    "$PEER_IP" "$SERVER_IP" 7060 "$N"
check "during the flood: 20 new connections echo 20 messages each" \
    run_linux_peer -t 60 "$BIN/echo_client" --addr "$SERVER_IP" --port 7060 \
    --conns 20 --msgs 20 --size 512 --timeout 50
wait "$feeder"
check "the established transfer: sender done" wait_bg tx 100
check "the established transfer: receiver done" wait_bg rx 30
check_eq "the established transfer: sha256" "$(sha "$TMP/rx")" "$(sha "$TMP/data")"
check "the echo server served every connection" wait_bg srv 30
if [[ $TAS_TEST_MODE == tasd ]]; then
    tasctl stats | grep -E 'syncookies|syn_drop|syn_rcvd ' | sed 's/^/    /'
    sent=$(tasctl stats | awk '$1 == "syncookies_sent" {print $2}')
    check "tasd answered with SYN cookies ($sent)" test "${sent:-0}" -gt 0
    ok=$(tasctl stats | awk '$1 == "syncookies_ok" {print $2}')
    check "legitimate handshakes completed through cookies ($ok)" test "${ok:-0}" -gt 0
fi
finish
