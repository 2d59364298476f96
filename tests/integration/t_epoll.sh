#!/bin/bash
# t_epoll.sh - epoll semantics on TCP sockets (sem_epoll.c) against a Linux
# peer that sends, shuts down, resets and connects on command (sem_peer.py):
# level/edge triggering, EPOLLONESHOT, EPOLLRDHUP, EPOLLHUP/EPOLLERR on
# reset, EPOLLEXCLUSIVE, signal masks, mixed sets, epoll_ctl errors, an
# epoll descriptor closed while in use.  TAS_TEST_MODE=linux runs the same
# checks with Linux in place of tasd.
. "$(dirname "$0")/lib.sh"
tas_init t_epoll "$BIN/sem_epoll"
net_setup

start_bg peer peer -t 200 python3 "$TAS_LIB_DIR/sem_peer.py" --server "$SERVER_IP" --lifetime 190
wait_ready peer || fatal "sem_peer did not start"
check "epoll behaves as on Linux (sem_epoll)" \
    run_under_tasd -t 150 "$BIN/sem_epoll" --peer "$PEER_IP" --mode "$TAS_TEST_MODE"
grep -h -E '^(PASS|FAIL)' "$TMP"/check.*.out | sed 's/^/    /'
stop_bg peer
finish
