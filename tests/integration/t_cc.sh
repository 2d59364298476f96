#!/bin/bash
# t_cc.sh - congestion control per connection (slowpath/conn_cc.c, cc_*.c)
# against the Linux peer:
#   - TCP_CONGESTION (cc_sock.py): tasd's default on a fresh socket, ENOENT
#     for a name tasd does not offer, "cubic" set before connect() holds on
#     the connection, "dctcp" set on the live connection reads back and
#     tasd runs the flow with it (tasctl flows), echo intact around it;
#   - a listener's TCP_CONGESTION goes to its connections (tcp_recv --cc:
#     getsockopt of the accepted socket answers from tasd's flow report);
#   - CUBIC under 1% loss (nftables on the peer): 30 MB each way, sha256,
#     the loss seen and recovered from (fast retransmits);
#   - TIMELY paces: tasd's test impairment delays every received segment
#     (the ACKs) by 8 ms, above TIMELY's T_high, and the flow's rate
#     (tasctl flows) falls from 10 Gbit/s to the floor while the bytes
#     still arrive intact; reno's flow under the same delay has no rate.
# Rates are printed, never asserted.
. "$(dirname "$0")/lib.sh"
tas_init t_cc
tasd_only "the congestion control under test is tasd's"
command -v nft >/dev/null 2>&1 || fatal "nft is not installed (run .ci/deps)"
net_setup
PY=/usr/bin/python3
DIR=$SRCDIR/tests/integration

# flow_field PORT FIELD: FIELD of tasd's flow with remote or local port PORT.
flow_field() {
    tasctl flows --json | $PY -c '
import json, sys
port, field = sys.argv[1], sys.argv[2]
for f in json.load(sys.stdin)["flows"]:
    if f["local"].endswith(":" + port) or f["remote"].endswith(":" + port):
        print(f.get(field)); break' "$1" "$2"
}

# cc_transfer DESC FROM TO FILE PORT CC [SECONDS]: as lib.sh's transfer,
# the receiver listening, the sender (tcp_send) with --cc CC.
cc_transfer() {
    local desc=$1 from=$2 to=$3 file=$4 port=$5 cc=$6 t=${7:-120}
    local out=$TMP/received.$port
    start_bg -o "$out" "rx$port" "$to" -t "$t" "$BIN/tcp_recv" --listen --port "$port"
    wait_ready "rx$port" || fatal "$desc: receiver did not start"
    start_bg -i "$file" "tx$port" "$from" -t "$t" "$BIN/tcp_send" \
        --addr "$(where_ip "$to")" --port "$port" --cc "$cc"
}
cc_transfer_end() {
    local desc=$1 file=$2 port=$3 t=${4:-120} t0=$SECONDS
    check "$desc: sender wrote every byte and saw the receiver close" wait_bg "tx$port" "$t"
    check "$desc: receiver read to EOF" wait_bg "rx$port" 30
    grep -h -E 'sent|received|congestion' "${BG_LOG[tx$port]}" "${BG_LOG[rx$port]}" |
        sed 's/^/    /'
    check_eq "$desc: sha256 at the receiver equals the sender's" \
        "$(sha "$TMP/received.$port")" "$(sha "$file")"
    rm -f "$TMP/received.$port"
}

# ---- TCP_CONGESTION ------------------------------------------------------
start_bg echo peer -t 60 "$BIN/echo_server" --port 7400 --max-conns 4 --timeout 50
wait_ready echo || fatal "echo server did not start"
start_bg ccsock tasd -t 40 "$PY" "$DIR/cc_sock.py" "$PEER_IP" 7400 reno
for ((i = 0; i < 100; i++)); do
    grep -q CHANGED "${BG_LOG[ccsock]}" && break
    sleep 0.1
done
second=$(sed -n 's/^SECOND //p' "${BG_LOG[ccsock]}")
check_eq "tasd runs the live connection with the algorithm set on it" \
    "$(tasctl flows --json | $PY -c '
import json, sys
for f in json.load(sys.stdin)["flows"]:
    if f["remote"].endswith(":7400") and not f["local"].endswith(":" + sys.argv[1]):
        print(f["cc"]); break' "$second")" dctcp
check_eq "... and the one whose TCP_CONGESTION was set while connecting" \
    "$(flow_field "$second" cc)" timely
check "TCP_CONGESTION: default, ENOENT, before and after connect(), live change" \
    wait_bg ccsock 30
sed 's/^/    /' "${BG_LOG[ccsock]}"
check "the change counted (cc_changes)" test "$(sp_stat counters.cc_changes)" -ge 1
stop_bg echo

make_data "$TMP/small" 4
start_bg -o "$TMP/received.7401" rx7401 tasd -t 60 "$BIN/tcp_recv" --listen --port 7401 \
    --cc cubic
wait_ready rx7401 || fatal "receiver did not start"
start_bg -i "$TMP/small" tx7401 peer -t 60 "$BIN/tcp_send" --addr "$SERVER_IP" --port 7401
check "a Linux client sends 4 MB to a listener with TCP_CONGESTION cubic" wait_bg tx7401 60
check "the listener's connection read to EOF" wait_bg rx7401 30
check "the accepted connection runs cubic (its getsockopt, from tasd's report)" \
    grep -q "congestion control cubic" "${BG_LOG[rx7401]}"
check_eq "the accepted connection's bytes are intact" "$(sha "$TMP/received.7401")" \
    "$(sha "$TMP/small")"

# ---- CUBIC under 1% loss -------------------------------------------------
ip netns exec "$NS_B" nft -f - <<NFT
table inet tascc {
    chain c {
        type filter hook input priority 0; policy accept;
        meta l4proto tcp counter
        meta l4proto tcp numgen random mod 100 < 1 counter drop
    }
}
NFT
MB=${TAS_CC_MB:-30}
make_data "$TMP/data" "$MB"
fretx0=$(stat_sum retx_fast)
cc_transfer "CUBIC, 1% loss: a client under tasd sends $MB MB to Linux" tasd peer \
    "$TMP/data" 7402 cubic 240
cc_transfer_end "CUBIC, 1% loss" "$TMP/data" 7402 240
fretx=$(($(stat_sum retx_fast) - fretx0))
check "the losses were repaired by fast retransmit ($fretx)" test "$fretx" -gt 0
ip netns exec "$NS_B" nft list table inet tascc | grep -o 'packets [0-9]*' |
    tr '\n' ' ' | sed 's/^/    nft (seen, dropped): /'
echo
cc_transfer "reno, 1% loss: the same for comparison" tasd peer "$TMP/data" 7403 reno 240
cc_transfer_end "reno, 1% loss" "$TMP/data" 7403 240
ip netns exec "$NS_B" nft delete table inet tascc

# ---- TIMELY paces on the RTT ---------------------------------------------
stop_tasd
start_tasd --add --impair-allow on --impair-rx-delay 1000 --impair-rx-delay-us 8000 ||
    fatal "tasd with the impairment did not start"
make_data "$TMP/four" 4
cc_transfer "TIMELY, ACKs 8 ms late: a client under tasd sends 4 MB" tasd peer \
    "$TMP/four" 7404 timely 120
lowest=
for ((i = 0; i < 60; i++)); do
    r=$(flow_field 7404 rate_kbps)
    [[ $r =~ ^[0-9]+$ && $r -gt 0 ]] && { [[ -z $lowest || $r -lt $lowest ]] && lowest=$r; }
    [[ -n $lowest && $lowest -le 10000 ]] && break
    sleep 0.2
done
cc_transfer_end "TIMELY under 8 ms of delay" "$TMP/four" 7404 120
echo "    TIMELY's lowest pacing rate seen: ${lowest:-none} kbit/s"
check "TIMELY cut its rate from 10 Gbit/s to below 1 Gbit/s (${lowest:-none} kbit/s)" \
    test "${lowest:-10000000}" -lt 1000000
cc_transfer "reno under the same delay" tasd peer "$TMP/data" 7405 reno 120
rr=
for ((i = 0; i < 50; i++)); do
    rr=$(flow_field 7405 rate_kbps)
    [[ $rr =~ ^[0-9]+$ ]] && break
    rr=
    sleep 0.1
done
cc_transfer_end "reno under 8 ms of delay" "$TMP/data" 7405 120
check_eq "reno's flow has no pacing rate" "${rr:-gone}" 0
finish
