#!/bin/bash
# t_exec.sh - exec() keeps tasd sockets without FD_CLOEXEC working in the
# new program and closes the others: a server accepts a connection, echoes
# one message, dups it and execs itself; the new image must echo the rest
# of that connection (a Linux client checks every byte) and accept a second
# connection on the inherited listener, while its SOCK_CLOEXEC listener is
# gone.
. "$(dirname "$0")/lib.sh"
tas_init t_exec
net_setup

start_bg server tasd -t 90 "$BIN/exec_server" --port 7030 --timeout 60
wait_ready server || fatal "exec server did not start"
check "the connection goes on across exec: 40 messages echoed exactly" \
    run_linux_peer -t 60 "$BIN/echo_client" --addr "$SERVER_IP" --port 7030 \
    --conns 1 --msgs 40 --size 4000 --timeout 50
check "the inherited listener accepts in the new program" \
    run_linux_peer -t 60 "$BIN/echo_client" --addr "$SERVER_IP" --port 7030 \
    --conns 1 --msgs 10 --size 100 --timeout 50
check "the new program saw every step as expected (exit 0)" wait_bg server 20
show_bg_log server
finish
