#!/bin/bash
# t_poll.sh - poll, ppoll, select and pselect on TCP sockets (sem_poll.c)
# against a Linux peer that sends, shuts down and resets on command
# (sem_peer.py): POLLIN/POLLOUT/POLLRDHUP/POLLHUP/POLLERR/POLLNVAL,
# timeouts, signal masks, sets mixing TCP with pipes, eventfds, UDP, Unix
# sockets and an epoll descriptor.  TAS_TEST_MODE=linux runs the same
# checks with Linux in place of tasd.
. "$(dirname "$0")/lib.sh"
tas_init t_poll "$BIN/sem_poll"
net_setup

start_bg peer peer -t 200 python3 "$TAS_LIB_DIR/sem_peer.py" --server "$SERVER_IP" --lifetime 190
wait_ready peer || fatal "sem_peer did not start"
check "poll, ppoll, select and pselect behave as on Linux (sem_poll)" \
    run_under_tasd -t 150 "$BIN/sem_poll" --peer "$PEER_IP" --mode "$TAS_TEST_MODE"
grep -h -E '^(PASS|FAIL)' "$TMP"/check.*.out | sed 's/^/    /'
stop_bg peer
finish
