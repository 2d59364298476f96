#!/bin/bash
# t_shutdown.sh - stopping tasd (SIGTERM) with connections open must not
# leave anything hanging: the application under tasd sees ECONNRESET on a
# blocked read (then EPIPE/ECONNRESET on write), the Linux peer sees the
# connection reset, tasd exits 0 and a new tasd can start on the same run
# dir.  Needs tasd: skipped in linux mode.
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
sleep 2 # both hello exchanges done; all four programs now block in read

stop_tasd
rc=$?
check_eq "tasd exits 0 on SIGTERM with connections open" "$rc" 0
check "server under tasd: blocked read fails with ECONNRESET" wait_bg srv 20
check "client under tasd: blocked read fails with ECONNRESET" wait_bg cli 20
check "Linux client: tasd's connection was reset" wait_bg peer_cli 20
check "Linux server: tasd's connection was reset" wait_bg peer_srv 20
grep -h 'close_test' "${BG_LOG[srv]}" "${BG_LOG[cli]}" "${BG_LOG[peer_cli]}" \
    "${BG_LOG[peer_srv]}" | grep -v READY | sed 's/^/    /'

check "a new tasd starts on the same run dir" start_tasd
finish
