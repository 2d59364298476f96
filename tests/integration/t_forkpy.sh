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
# its epoll set.  After each, tasd must hold nothing of the program.
. "$(dirname "$0")/lib.sh"
tas_init t_forkpy
net_setup
fork_pattern forking 7101 30 200000
fork_pattern prefork 7102 30 100000 2000
fork_pattern threads 7103 4 300000 --go
fork_pattern bgsave 7104 20 400000 4000 --pace 20
fork_pattern cgi 7105 1 300000 3000 --pace 2
# tasd resets what a process still holds when it goes without close()
# (its contract for SIGKILL, t_kill); the kernel closes with FIN, and
# children commonly leave by _exit(), which skips libtas's exit handler.
fork_pattern --known-bug "_exit() with a connection open resets it (Linux: FIN)" \
    exit 7106 3 50000
finish
