#!/bin/bash
# t_ecn.sh - ECN (RFC 3168) and RST validation (RFC 5961).
#   - A Linux peer that asks for ECN gets an ECN-setup SYN-ACK (ECE); tasd's
#     data then carries ECT(0); CE marks that nftables sets on the peer's
#     data are counted (ce_marks) and echoed with ECE, and the peer answers
#     with CWR.  5 MB (captured) and 100 MB cross each way with sha256 compared.
#   - tasd started with --ecn 1 asks for ECN on connect (SYN with ECE|CWR).
#   - An RST inside the window but not at RCV.NXT does not end a connection
#     (a challenge ACK goes out); an RST at exactly RCV.NXT does.
. "$(dirname "$0")/lib.sh"
tas_init t_ecn
TASD_EXTRA="--ecn 1" net_setup
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_ecn=1
# Linux mode: the server side's kernel asks on connect too, like --ecn 1.
[[ $TAS_TEST_MODE == linux ]] && ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_ecn=1

make_data "$TMP/small" 5
make_data "$TMP/data" 100
capture_start ecn
# CE on every 20th TCP segment the peer sends with ECT(0).
ip netns exec "$NS_B" nft -f - <<NFT
table inet tasecn {
    chain out {
        type filter hook output priority 0; policy accept;
        ip ecn ect0 meta l4proto tcp numgen inc mod 20 == 0 counter ip ecn set ce
    }
}
NFT
# Captured (what the checks below read): 5 MB each way.
transfer "ECN: Linux client sends 5 MB to a server under tasd" peer tasd to "$TMP/small" 7050 60
transfer "ECN: a client under tasd sends 5 MB to a Linux server" tasd peer to "$TMP/small" 7051 60
sleep 0.5
capture_stop ecn
# Not captured: 100 MB each way through the same CE marking.
transfer "ECN: Linux client sends 100 MB to a server under tasd" peer tasd to "$TMP/data" 7053 120
transfer "ECN: a client under tasd sends 100 MB to a Linux server" tasd peer to "$TMP/data" 7054 120
count() { tshark -r "$TMP/ecn.pcap" -Y "$1" 2>/dev/null | wc -l; }
check "the server side's SYN-ACK to an ECN-setup SYN has ECE, not CWR" \
    test "$(count "tcp.port==7050 && tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.flags.ece==1 && tcp.flags.cwr==0")" -ge 1
check "the server side echoed the CE marks with ECE" \
    test "$(count "tcp.port==7050 && ip.src==$SERVER_IP && tcp.flags.ece==1 && tcp.flags.syn==0")" -ge 1
check "the peer reacted to the echoed ECE with CWR" \
    test "$(count "tcp.port==7050 && ip.src==$PEER_IP && tcp.flags.cwr==1")" -ge 1
check "the client side's SYN asks for ECN (ECE and CWR)" \
    test "$(count "tcp.port==7051 && tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.flags.ece==1 && tcp.flags.cwr==1")" -ge 1
check "the client side's data carries ECT(0)" \
    test "$(count "tcp.port==7051 && ip.src==$SERVER_IP && tcp.len>0 && ip.dsfield.ecn==2")" -ge 1
if [[ $TAS_TEST_MODE == tasd ]]; then
    ce=$(stat_sum ce_marks)
    check "tasd counted the CE marks (ce_marks $ce)" test "${ce:-0}" -gt 0
fi
ip netns exec "$NS_B" nft delete table inet tasecn

start_bg srv tasd -t 60 "$BIN/echo_server" --port 7052 --max-conns 2 --timeout 50
wait_ready srv || fatal "echo server did not start"
check "an RST inside the window (not at RCV.NXT) leaves the connection alone" \
    run_linux_peer -t 30 /usr/bin/python3 "$SRCDIR/tests/integration/forge_rst.py" \
    "$VETH_B" "$SERVER_IP" 7052 inwindow
check "an RST at exactly RCV.NXT ends the connection" \
    run_linux_peer -t 30 /usr/bin/python3 "$SRCDIR/tests/integration/forge_rst.py" \
    "$VETH_B" "$SERVER_IP" 7052 exact
if [[ $TAS_TEST_MODE == tasd ]]; then
    tasctl stats | grep -E 'challenge_acks|rst_rcvd|rst_ignored' | sed 's/^/    /'
    check "tasd answered the in-window RST with a challenge ACK" \
        test "$(tasctl stats | awk '$1 == "challenge_acks" {print $2}')" -gt 0
fi
finish
