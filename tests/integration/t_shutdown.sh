#!/bin/bash
# t_shutdown.sh - stopping tasd (SIGTERM) with connections open must not
# leave anything hanging: the application under tasd sees ECONNRESET on a
# blocked read (then EPIPE/ECONNRESET on write), the Linux peer sees the
# connection reset, tasd exits 0 and a new tasd can start on the same run
# dir.  A Linux peer that stopped reading (its window zero, tasd probing
# it) is reset too: the RST's sequence number is clamped to the window the
# peer offers (as Linux's), not one past the probe's byte, which the peer
# would drop and stay ESTABLISHED for good.  Needs tasd: skipped in linux
# mode.
. "$(dirname "$0")/lib.sh"
tas_init t_shutdown
tasd_only "t_shutdown tests tasd itself"
net_setup

# Two connections: one where the server under tasd blocks in read, one
# where a client under tasd does.
start_bg srv tasd -t 60 "$BIN/close_test" --role server --closer none --how rst --port 7020
wait_ready srv || fatal "server under tasd did not start"
start_bg peer_cli peer -t 60 "$BIN/close_test" --role client --closer none --how rst \
    --addr "$SERVER_IP" --port 7020
start_bg peer_srv peer -t 60 "$BIN/close_test" --role server --closer none --how rst --port 7021
wait_ready peer_srv || fatal "Linux server did not start"
start_bg cli tasd -t 60 "$BIN/close_test" --role client --closer none --how rst \
    --addr "$PEER_IP" --port 7021
# A Linux server that accepts and never reads (4 KiB receive buffer), and a
# client under tasd that writes 8 MiB into it: the window closes, tasd
# probes it.
start_bg zw_srv peer -t 60 /usr/bin/python3 -c '
import socket, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
l.bind(("0.0.0.0", 7022))
l.listen(1)
print("READY", flush=True)
c, _ = l.accept()
time.sleep(50)'
wait_ready zw_srv || fatal "the zero-window server did not start"
start_bg zw_cli tasd -t 60 /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7022))
s.sendall(b"x" * (8 << 20))' "$PEER_IP"
sleep 2 # both hello exchanges done; all four programs now block in read
zw_est() { ip netns exec "$NS_B" ss -Htn state established '( sport = :7022 )' | wc -l; }
check_eq "the zero-window connection is established before the stop" "$(zw_est)" 1
echo "    peer's queue: $(ip netns exec "$NS_B" ss -Htn '( sport = :7022 )' | awk '{print $2, $3}')"

stop_tasd
rc=$?
check_eq "tasd exits 0 on SIGTERM with connections open" "$rc" 0
check "server under tasd: blocked read fails with ECONNRESET" wait_bg srv 20
check "client under tasd: blocked read fails with ECONNRESET" wait_bg cli 20
check "Linux client: tasd's connection was reset" wait_bg peer_cli 20
check "Linux server: tasd's connection was reset" wait_bg peer_srv 20
grep -h 'close_test' "${BG_LOG[srv]}" "${BG_LOG[cli]}" "${BG_LOG[peer_cli]}" \
    "${BG_LOG[peer_srv]}" | grep -v READY | sed 's/^/    /'

zw_gone() {
    local i
    for ((i = 0; i < 30; i++)); do
        [[ $(zw_est) == 0 ]] && return 0
        sleep 0.1
    done
    ip netns exec "$NS_B" ss -tni '( sport = :7022 )'
    return 1
}
check "the Linux peer with a zero window accepted tasd's RST (no longer ESTABLISHED)" zw_gone
stop_bg zw_srv
stop_bg zw_cli

check "a new tasd starts on the same run dir" start_tasd
finish
