#!/bin/bash
# t_dup.sh - a server under tasd uses each connection through dup, dup2,
# dup3 and F_DUPFD copies, closing the original first and the copies one by
# one: the connection lives until the last copy is closed, and a Linux
# client checks every echoed byte and the final EOF.
. "$(dirname "$0")/lib.sh"
tas_init t_dup
net_setup

start_bg server tasd -t 90 "$BIN/dup_server" --port 7004 --conns 3 --timeout 60
wait_ready server || fatal "dup server did not start"
check "3 connections x 30 messages echoed through descriptor copies, then EOF" \
    run_linux_peer -t 70 "$BIN/echo_client" --addr "$SERVER_IP" --port 7004 \
    --conns 1 --msgs 30 --size 3000 --timeout 20
check "second connection" run_linux_peer -t 30 "$BIN/echo_client" --addr "$SERVER_IP" \
    --port 7004 --conns 1 --msgs 5 --size 100000 --timeout 20
check "third connection" run_linux_peer -t 30 "$BIN/echo_client" --addr "$SERVER_IP" \
    --port 7004 --conns 1 --msgs 2 --size 10 --timeout 20
check "every step on the copies behaved as on Linux (server exit 0)" wait_bg server 20
show_bg_log server
finish
