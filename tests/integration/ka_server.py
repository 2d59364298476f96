#!/usr/bin/python3
"""ka_server.py - an echo server whose listener sets SO_KEEPALIVE with
TCP_KEEPIDLE/KEEPINTVL/KEEPCNT of 1 s, 1 s, 3 (accepted sockets inherit
them).  It serves one connection: echoes until EOF or an error, and prints
how the connection ended ("eof" or the errno name), then exits 0.

  ka_server.py PORT SECONDS
"""
import errno
import socket
import sys

port, secs = int(sys.argv[1]), float(sys.argv[2])
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
l.bind(("0.0.0.0", port))
l.listen(4)
print("ka_server: READY listening on port %d" % port, flush=True)
l.settimeout(secs)
c, _ = l.accept()
c.settimeout(secs)
how = "timeout"
try:
    while True:
        d = c.recv(65536)
        if not d:
            how = "eof"
            break
        c.sendall(d)
except OSError as e:
    # (socket.timeout is TimeoutError, which ETIMEDOUT from recv() also
    # raises: only errno tells them apart.)
    if e.errno is None:
        how = "no end within %g s" % secs
    else:
        how = errno.errorcode.get(e.errno, str(e.errno))
print("ka_server: connection ended: %s" % how, flush=True)
