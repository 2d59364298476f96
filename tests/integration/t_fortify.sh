#!/bin/bash
# t_fortify.sh - a program built with -O2 -D_FORTIFY_SOURCE=2 calls glibc's
# checked entry points (__read_chk, __recv_chk, __recvfrom_chk, __poll_chk,
# __ppoll_chk, __fdelt_chk); under tasd they reach the shim (bytes echoed by
# a Linux peer come back equal) and their overflow checks still abort.
. "$(dirname "$0")/lib.sh"
tas_init t_fortify "$BIN/sem_fortify" "$BIN/sem_io"
net_setup

for sym in __read_chk __recv_chk __recvfrom_chk __poll_chk __ppoll_chk __fdelt_chk; do
    check "sem_fortify calls $sym (nm)" \
        bash -c "nm -D '$BIN/sem_fortify' | grep -E -q ' U $sym(@|\$)'"
done

start_bg peer peer -t 120 "$BIN/sem_io" --peer --port 7400 --tmp "$TMP" --timeout 100
wait_ready peer || fatal "echo peer did not start"
check "fortified reads/polls under $TAS_TEST_MODE: 10 echo rounds equal, overflows abort" \
    run_under_tasd -t 60 "$BIN/sem_fortify" --addr "$PEER_IP" --port 7400
finish
