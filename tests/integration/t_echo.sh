#!/bin/bash
# t_echo.sh - an unmodified epoll echo server runs in ns A (under tasd, or
# on Linux with TAS_TEST_MODE=linux); a Linux client in ns B checks every
# echoed byte: 64-B messages, 1-MB messages, and 200 connections open at
# the same time.  The server then must have served every connection cleanly.
. "$(dirname "$0")/lib.sh"
tas_init t_echo
net_setup

# 10 + 4 + 200 connections in all; the server exits after the last one.
start_bg server tasd -t 300 "$BIN/echo_server" --port 7000 --max-conns 214 --timeout 280
wait_ready server || fatal "echo server did not start"

check "64-B messages: 10 connections x 1000 messages echoed exactly" \
    run_linux_peer -t 70 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 10 --msgs 1000 --size 64 --timeout 60
check "1-MB messages: 4 connections x 4 messages echoed exactly" \
    run_linux_peer -t 130 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 4 --msgs 4 --size 1048576 --timeout 120
check "200 concurrent connections (all open before sending) x 20 messages of 64 B" \
    run_linux_peer -t 130 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 200 --msgs 20 --size 64 --barrier --timeout 120

check "server served all 214 connections without an error and exited 0" wait_bg server 30
show_bg_log server
check "server had 200 connections open at the same time" \
    grep -E -q 'max open (2[0-9][0-9]|[3-9][0-9][0-9])' "${BG_LOG[server]}"
finish
