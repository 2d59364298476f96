#!/bin/bash
# t_threads.sh - TCP sockets shared by threads (sem_threads.c) against a
# Linux peer driven by the test (sem_peer.py): any thread uses any socket,
# accept() while another thread reads, shutdown(SHUT_RDWR) wakes blocked
# read/accept/epoll_wait as on Linux, close() from another thread wakes a
# blocked read/accept under tasd (EBADF within 1 s).  TAS_TEST_MODE=linux
# runs the same program, checking only what Linux guarantees.
. "$(dirname "$0")/lib.sh"
tas_init t_threads "$BIN/sem_threads"
net_setup

start_bg peer peer -t 200 python3 "$TAS_LIB_DIR/sem_peer.py" --server "$SERVER_IP" --lifetime 190
wait_ready peer || fatal "sem_peer did not start"
check "threads share sockets as on Linux (sem_threads)" \
    run_under_tasd -t 150 "$BIN/sem_threads" --peer "$PEER_IP" --mode "$TAS_TEST_MODE"
grep -h -E '^(PASS|FAIL)' "$TMP"/check.*.out | sed 's/^/    /'
stop_bg peer
finish
