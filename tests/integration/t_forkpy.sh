#!/bin/bash
# t_forkpy.sh - Python servers that fork as real ones do, each echoing
# for a Linux client that checks every byte (fork_patterns.py,
# fork_client.py): socketserver.ForkingTCPServer with 30 clients at once;
# a prefork server whose 3 workers accept with EPOLLEXCLUSIVE on the
# inherited listener, SIGTERMed at the end, after which the port is free;
# fork + exec of /bin/true while another thread is blocked in recv() on a
# connection; and BGSAVE-style children forked while 20 clients keep
# sending; and a CGI-style child per request that answers on the
# inherited connection and exits while the parent keeps the connection in
# its epoll set; a child closing the inherited listener; double fork; a
# fork() while connect()s are in progress; a child leaving by _exit().  After
# each, tasd must hold nothing of the program.
. "$(dirname "$0")/lib.sh"
tas_init t_forkpy
net_setup
fork_pattern forking 7101 30 200000
fork_pattern prefork 7102 30 100000 2000
fork_pattern threads 7103 4 300000 --go
fork_pattern bgsave 7104 20 400000 4000 --pace 20
fork_pattern cgi 7105 1 300000 3000 --pace 2
fork_pattern lclose 7107 5 100000
fork_pattern grand 7108 5 100000
# fork() while connect()s are in progress: the parent's complete and echo.
start_bg peer_echo peer -t 60 "$BIN/echo_server" --port 7109 --timeout 50
wait_ready peer_echo || fatal "the peer's echo server did not start"
check "connfork: connections in progress at fork() complete and echo in the parent" \
    run_under_tasd -t 40 env PEER_ADDR="$PEER_IP" /usr/bin/python3 \
    "$SRCDIR/tests/integration/fork_patterns.py" connfork 7109 4
stop_bg peer_echo
check "connfork: tasd holds nothing of it afterwards" tasd_idle
# A child that leaves by _exit() with the connection open: the kernel would
# close it with FIN, and so does libtas (it interposes _exit); only a
# process killed outright gets its connections reset (t_kill).
fork_pattern exit 7106 3 50000
finish
