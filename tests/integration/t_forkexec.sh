#!/bin/bash
# t_forkexec.sh - accepted connections handed to new programs, as inetd
# and process-per-connection servers do (fork_patterns.py): made
# inheritable and passed by number through fork + exec (the child wraps it
# with socket(fileno=N)), and as stdin and stdout of `cat` or of a Python
# program reading sys.stdin.buffer (dup2, then exec).  A Linux client
# checks every echoed byte; afterwards tasd must hold nothing.  The same
# through subprocess.Popen (close_fds, pass_fds).
. "$(dirname "$0")/lib.sh"
tas_init t_forkexec
net_setup
fork_pattern passfd 7111 6 200000
fork_pattern inetd 7112 6 200000
fork_pattern chain 7115 1 600000 2000 --pace 20
# The vfork() child of subprocess dup2()s the connection onto 0 and 1 in
# our memory: our own stdout must not become the connection.
fork_pattern popen_stdout 7117 3 50000
# Python's subprocess closes every descriptor but the ones it passes
# (close_range(), in its vfork() child) before exec: libtas's own stay open,
# and the socket goes on in the new program under the number it was passed
# as, or as 0 and 1 (dup2 in the vfork child, which our table does not see).
fork_pattern passfd_popen 7113 4 20000
fork_pattern inetd_popen 7114 4 20000
# Connections waiting unaccepted when the program execs itself stay in the
# listener's queue for the new program, as with Linux.
fork_pattern execq 7116 4 20000
finish
