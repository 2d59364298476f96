#!/bin/bash
# t_fork.sh - servers that fork keep their tasd sockets, as with the kernel:
# a prefork server (listen, fork 2 workers that both accept), a forking
# server (accept, fork a child per connection, the parent closes its copy),
# and a parent that exits right after forking while its child still has
# to serve the connection.  A Linux client checks every echoed byte.
. "$(dirname "$0")/lib.sh"
tas_init t_fork
net_setup

start_bg prefork tasd -t 120 "$BIN/fork_server" --mode prefork --workers 2 --port 7001 \
    --conns 20 --timeout 100
wait_ready prefork || fatal "prefork server did not start"
sleep 0.5 # the workers take the listener over on their first accept
check "prefork: 20 connections x 10 messages echoed by 2 workers" \
    run_linux_peer -t 70 "$BIN/echo_client" --addr "$SERVER_IP" --port 7001 \
    --conns 20 --msgs 10 --size 1000 --timeout 60
check "prefork: every connection served, each worker served some" wait_bg prefork 30
show_bg_log prefork

start_bg perconn tasd -t 120 "$BIN/fork_server" --mode perconn --port 7002 --conns 30 \
    --timeout 100
wait_ready perconn || fatal "perconn server did not start"
check "perconn: 30 connections x 20 messages of 5000 B echoed by forked children" \
    run_linux_peer -t 70 "$BIN/echo_client" --addr "$SERVER_IP" --port 7002 \
    --conns 30 --msgs 20 --size 5000 --timeout 60
check "perconn: the parent's close did not end the children's connections" \
    wait_bg perconn 30
show_bg_log perconn

start_bg orphan tasd -t 60 "$BIN/fork_server" --mode orphan --port 7003 --timeout 50
wait_ready orphan || fatal "orphan server did not start"
check "orphan: the child echoes after its parent exited" \
    run_linux_peer -t 40 "$BIN/echo_client" --addr "$SERVER_IP" --port 7003 \
    --conns 1 --msgs 50 --size 2000 --timeout 30
check "orphan: the parent exited 0" wait_bg orphan 10
sleep 0.5
show_bg_log orphan
check "orphan: the child said its echo was complete" \
    grep -q "orphan child: echo ok" "${BG_LOG[orphan]}"
finish
