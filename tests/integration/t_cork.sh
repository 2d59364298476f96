#!/bin/bash
# t_cork.sh - TCP_CORK and MSG_MORE as on Linux (cork_server.py under tasd,
# a Linux client), checked on the wire with tshark at the peer:
#   - ten corked 100-byte writes leave as one 1000-byte segment on uncork;
#   - three sends with MSG_MORE and a last one without: one segment;
#   - 5000 corked bytes go as full segments and one short tail;
#   - bytes left corked reach the peer after the 200 ms ceiling, not before
#     100 ms and not after 1 s;
#   - close() pushes what is corked, with the FIN;
#   - an accepted socket inherits TCP_CORK and TCP_NODELAY from its
#     listener, and getsockopt reads TCP_CORK back.
# Every byte is checked by the client.
. "$(dirname "$0")/lib.sh"
tas_init t_cork
net_setup

start_bg srv tasd -t 60 /usr/bin/python3 "$SRCDIR/tests/integration/cork_server.py" 7080
wait_ready srv || fatal "cork server did not start"
capture_start cork "tcp port 7080"
start_bg cli peer -t 40 /usr/bin/python3 -c '
import socket, sys, time
c = socket.create_connection((sys.argv[1], 7080), timeout=10)
def take(n, letter):
    got = b""
    while len(got) < n:
        d = c.recv(n - len(got))
        if not d:
            sys.exit("peer: EOF in phase " + letter)
        got += d
    if got != letter.encode() * n:
        sys.exit("peer: wrong bytes in phase " + letter)
for letter, n in (("A", 1000), ("B", 1000), ("C", 5000), ("D", 100)):
    c.sendall(letter.lower().encode())
    take(n, letter)
t0 = time.monotonic()
c.sendall(b"e")
take(50, "E")
if c.recv(10) != b"":
    sys.exit("peer: no EOF after phase E")
print("peer: every phase received; E and EOF after %d ms"
      % ((time.monotonic() - t0) * 1000), flush=True)
' "$SERVER_IP"
check "the client received every phase, byte for byte" wait_bg cli 30
check "the server finished" wait_bg srv 10
capture_stop cork
show_bg_log srv
show_bg_log cli

check "the accepted socket inherited TCP_CORK and TCP_NODELAY" \
    grep -q "accepted socket TCP_CORK=1 TCP_NODELAY=1" "${BG_LOG[srv]}"
check "getsockopt(TCP_CORK) reads 1 while corked" \
    grep -q "corked: TCP_CORK reads 1" "${BG_LOG[srv]}"
held=$(sed -n 's/.*corked bytes reached the peer after \([0-9]*\) ms.*/\1/p' "${BG_LOG[srv]}")
check "bytes left corked waited for the ceiling (${held:-?} ms: 100 to 1000)" \
    test "${held:-0}" -ge 100 -a "${held:-0}" -le 1000
late=$(sed -n 's/.*E and EOF after \([0-9]*\) ms.*/\1/p' "${BG_LOG[cli]}")
check "close() pushed the corked bytes with the FIN (${late:-?} ms)" \
    test -n "$late" -a "${late:-1000}" -lt 100

# The data segments the server sent, per phase (its letter): their lengths.
segs=$(tshark -r "$TMP/cork.pcap" -T fields -e tcp.len -e tcp.payload \
    -Y "ip.src==$SERVER_IP && tcp.len > 0 && !tcp.analysis.retransmission" 2>/dev/null |
    python3 -c '
import sys
seen = {}
for line in sys.stdin:
    n, payload = line.split()
    letter = chr(int(payload.replace(":", "")[:2], 16))
    seen.setdefault(letter, []).append(n)
print(" ".join("%s:%s" % (k, ",".join(v)) for k, v in sorted(seen.items())))
')
echo "    data segments per phase: $segs"
phase() { tr ' ' '\n' <<<"$segs" | sed -n "s/^$1://p"; }
check "TCP_CORK: ten 100-byte writes left as one segment" test "$(phase A)" = 1000
check "MSG_MORE: four sends left as one segment" test "$(phase B)" = 1000
check "TCP_CORK: 5000 bytes left as full segments and one tail" python3 -c '
import sys
n = [int(x) for x in sys.argv[1].split(",")]
sys.exit(not (sum(n) == 5000 and len(n) >= 2 and len(set(n[:-1])) == 1 and n[-1] < n[0]))
' "$(phase C)"
check "bytes left corked went as one segment" test "$(phase D)" = 100
check "close() pushed the last corked bytes" test "$(phase E)" = 50
finish
