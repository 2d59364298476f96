#!/bin/bash
# t_synflood.sh - SYN floods do not stop established transfers or new
# legitimate connections.
#
# 1. A flood nobody answers (the peer's RSTs for our SYN-ACKs dropped, as
#    from an attacker that spoofs), 5,000 SYN/s: the half-open table of the
#    echo server's listener fills, tasd answers with SYN cookies, and 20 new
#    connections made during the flood echo through cookies.
# 2. A flood from the peer's own address (its kernel resets our SYN-ACKs,
#    the realistic case), TAS_SYNFLOOD_RATE SYN/s (default 100,000) and at
#    most 20 s, during a 100 MB transfer into ns A: the bytes arrive intact,
#    and the transfer's rate is printed against the same transfer without
#    the flood (bench/synflood.sh measures it properly).  Under tasd the
#    fast path answers the flooded port's SYNs itself (syncookies_sent of
#    the cores) and the port's drops are shown.
. "$(dirname "$0")/lib.sh"
tas_init t_synflood "$BIN/echo_server" "$BIN/echo_client" "$BIN/tcp_send" "$BIN/tcp_recv" \
    "$BIN/syn_flood"
net_setup
RATE=${TAS_SYNFLOOD_RATE:-100000}

# fp_sum KEY: KEY summed over the fast-path cores (tasctl stats --json)
fp_sum() {
    tasctl stats --json | python3 -c '
import json, sys
print(sum(c.get(sys.argv[1], 0) for c in json.load(sys.stdin)["fastpath"]["cores"]))' "$1"
}

start_bg srv tasd -t 120 "$BIN/echo_server" --port 7060 --max-conns 20 --timeout 100
wait_ready srv || fatal "echo server did not start"

# ---- 1: unanswered flood, new connections through cookies ----
ip netns exec "$NS_B" nft -f - <<NFT
table inet tasflood {
    chain out {
        type filter hook output priority 0; policy accept;
        ip daddr $SERVER_IP tcp dport 7060 tcp flags & (rst) == rst tcp sport 1024-32767 counter drop
    }
}
NFT
start_bg -o "$TMP/flood1.out" flood1 peer -t 30 "$BIN/syn_flood" "$PEER_IP" "$SERVER_IP" 7060 \
    5000 4
sleep 1
check "during an unanswered flood: 20 new connections echo 20 messages each" \
    run_linux_peer -t 60 "$BIN/echo_client" --addr "$SERVER_IP" --port 7060 \
    --conns 20 --msgs 20 --size 512 --timeout 50
check "the unanswered flood ran" wait_bg flood1 20
sed 's/^/    /' "$TMP/flood1.out"
check "the echo server served every connection" wait_bg srv 30
if [[ $TAS_TEST_MODE == tasd ]]; then
    ok=$(sp_stat counters.syncookies_ok)
    check "legitimate handshakes completed through cookies ($ok)" test "${ok:-0}" -gt 0
fi
ip netns exec "$NS_B" nft delete table inet tasflood

# ---- 2: flood from the peer's own address during a 100 MB transfer ----
make_data "$TMP/data" 100
start_bg srv2 tasd -t 120 "$BIN/echo_server" --port 7060 --timeout 100
wait_ready srv2 || fatal "echo server did not start"

send_in() {
    run_linux_peer -t 100 "$BIN/tcp_send" --addr "$SERVER_IP" --port 7061 <"$TMP/data" \
        2>"$TMP/tx.$1"
}

# xfer NAME: 100 MB from the peer into ns A; its rate (MB/s) in RATE_MBS
xfer() {
    start_bg -o "$TMP/rx.$1" "rx_$1" tasd -t 120 "$BIN/tcp_recv" --listen --port 7061
    wait_ready "rx_$1" || fatal "$1: receiver did not start"
    check "$1: sender wrote every byte and saw the receiver close" send_in "$1"
    check "$1: receiver read to EOF" wait_bg "rx_$1" 30
    check_eq "$1: sha256 at the receiver equals the sender's" "$(sha "$TMP/rx.$1")" \
        "$(sha "$TMP/data")"
    RATE_MBS=$(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "$TMP/tx.$1")
    rm -f "$TMP/rx.$1"
}
xfer alone
alone=$RATE_MBS
start_bg -o "$TMP/flood2.out" flood2 peer -t 40 "$BIN/syn_flood" "$PEER_IP" "$SERVER_IP" 7060 \
    "$RATE" 20
sleep 1
xfer flood
flooded=$RATE_MBS
stop_bg flood2 || true
sed 's/^/    /' "$TMP/flood2.out"
echo "    SYNFLOOD-NUMBERS: alone ${alone:-?} MB/s, during the flood ${flooded:-?} MB/s" \
    "(kept $(awk -v a="${alone:-0}" -v b="${flooded:-0}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "?" }'))"
if [[ $TAS_TEST_MODE == tasd ]]; then
    tasctl stats | grep -E 'syncookies|syn_shed|rst_shed|exc_shed|syn_flood|kernel_drops|imissed' |
        sed 's/^/    /'
    drops=$(tasctl stats --json | python3 -c '
import json, sys
p = json.load(sys.stdin)["port"]
print(" ".join(str(p[k]) for k in ("imissed", "ierrors", "oerrors", "rx_nombuf", "kernel_drops")))')
    check "tasctl stats shows the port's drops (imissed ierrors oerrors rx_nombuf kernel_drops: $drops)" \
        test "$(wc -w <<<"$drops")" -eq 5
    sent=$(fp_sum syncookies_sent)
    check "the fast path answered the flood with SYN cookies ($sent)" test "${sent:-0}" -gt 0
fi
check "the echo server is still there" stop_bg srv2
finish
