#!/bin/bash
# t_keepalive.sh - SO_KEEPALIVE with TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s,
# TCP_KEEPCNT 3 (set on the listener, inherited by the accepted socket):
#   - an idle connection to a live peer gets probes, which the peer
#     answers, and stays up (it still echoes after 4 s of silence);
#   - once the peer disappears (everything from the server dropped at the
#     peer), the server's read fails with ETIMEDOUT after the probes.
. "$(dirname "$0")/lib.sh"
tas_init t_keepalive
net_setup

start_bg srv tasd -t 60 /usr/bin/python3 "$SRCDIR/tests/integration/ka_server.py" 7070 30
wait_ready srv || fatal "keepalive server did not start"
capture_start ka "tcp port 7070"
# The peer: echo, stay silent 4 s, echo again, then vanish for 10 s.
start_bg cli peer -t 40 /usr/bin/python3 -c '
import socket, sys, time
c = socket.create_connection((sys.argv[1], 7070), timeout=10)
for gap in (0, 4):
    time.sleep(gap)
    c.sendall(b"ping %d" % gap)
    assert c.recv(100) == b"ping %d" % gap
print("echo after 4 idle seconds: ok", flush=True)
time.sleep(15)
' "$SERVER_IP"
sleep 6
check "the idle connection survived its keepalive probes" grep -q "ok" "${BG_LOG[cli]}"
ip netns exec "$NS_B" nft -f - <<NFT
table inet taska {
    chain in {
        type filter hook input priority 0; policy accept;
        tcp sport 7070 drop
    }
}
NFT
check "the server exited" wait_bg srv 20
show_bg_log srv
check "the server's read failed with ETIMEDOUT once the peer vanished" \
    grep -q "connection ended: ETIMEDOUT" "${BG_LOG[srv]}"
capture_stop ka
probes=$(tshark -r "$TMP/ka.pcap" -Y "tcp.analysis.keep_alive && ip.src==$SERVER_IP" \
    2>/dev/null | wc -l)
acks=$(tshark -r "$TMP/ka.pcap" -Y "tcp.analysis.keep_alive_ack && ip.src==$PEER_IP" \
    2>/dev/null | wc -l)
echo "    keepalive probes seen: $probes, answered: $acks"
check "probes went out while idle and the live peer answered them" \
    test "$probes" -ge 2 -a "$acks" -ge 1
stop_bg cli
finish
