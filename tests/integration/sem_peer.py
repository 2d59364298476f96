#!/usr/bin/env python3
"""sem_peer.py - the Linux peer of the semantics tests (sem_epoll, sem_poll,
sem_threads), run in ns B and driven by the program under test.

It listens on a control port and a data port.  The program under test opens
one control connection and sends one command per line; each gets one reply
line, "ok [...]" or "err <why>".  Data connections are named by an id:
a connection the program made to the data port by the program's local port
(its getsockname()), one the peer made with `connect` by the id `connect`
returned (the program's getpeername() port).

  send ID N          write N bytes ('a'..'z' repeating)
  sendin ID N MS     the same MS ms from now; answered at once
  shutwr ID          shutdown(SHUT_WR): the program sees EOF
  rst ID             close with SO_LINGER 0: the program sees a reset
  close ID           close
  recv ID N MS       read until N bytes, EOF or MS ms: "ok COUNT eof|more|rst"
  connect PORT       connect to the program's address:PORT: "ok ID"
                     (or "err ..." when refused or timed out)
  quit               end this control connection

Every wait is bounded; the peer exits after --lifetime seconds at most.
"""
import argparse
import errno
import os
import socket
import struct
import sys
import threading
import time

conns = {}
conns_cv = threading.Condition()


def acceptor(lsock):
    while True:
        try:
            c, addr = lsock.accept()
        except OSError:
            return
        with conns_cv:
            conns[str(addr[1])] = c
            conns_cv.notify_all()


def lookup(cid, wait_s=5.0):
    end = time.monotonic() + wait_s
    with conns_cv:
        while cid not in conns:
            left = end - time.monotonic()
            if left <= 0:
                return None
            conns_cv.wait(left)
        return conns[cid]


def pattern(n):
    return bytes((97 + i % 26) for i in range(n))


def command(line, server_ip):
    w = line.split()
    if not w:
        return "err empty"
    op = w[0]
    if op == "connect" and len(w) == 2:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((server_ip, int(w[1])))
        except OSError as e:
            s.close()
            return "err connect: %s" % errno.errorcode.get(e.errno, str(e))
        s.settimeout(None)
        cid = "k%d" % s.getsockname()[1]
        with conns_cv:
            conns[cid] = s
        return "ok %s" % cid
    if len(w) < 2:
        return "err usage"
    c = lookup(w[1])
    if c is None:
        return "err no connection %s" % w[1]
    try:
        if op == "send" and len(w) == 3:
            c.settimeout(10)
            c.sendall(pattern(int(w[2])))
            return "ok"
        if op == "sendin" and len(w) == 4:
            c.settimeout(10)
            threading.Timer(int(w[3]) / 1000.0, c.sendall, (pattern(int(w[2])),)).start()
            return "ok"
        if op == "shutwr":
            c.shutdown(socket.SHUT_WR)
            return "ok"
        if op == "rst":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            return "ok"
        if op == "close":
            c.close()
            return "ok"
        if op == "recv" and len(w) == 4:
            want, end = int(w[2]), time.monotonic() + int(w[3]) / 1000.0
            got, how = 0, "more"
            while got < want:
                left = end - time.monotonic()
                if left <= 0:
                    break
                c.settimeout(left)
                try:
                    b = c.recv(min(65536, want - got))
                except socket.timeout:
                    break
                except ConnectionResetError:
                    how = "rst"
                    break
                if not b:
                    how = "eof"
                    break
                got += len(b)
            return "ok %d %s" % (got, how)
    except OSError as e:
        return "err %s" % errno.errorcode.get(e.errno, str(e))
    return "err unknown command"


def serve(ctl, server_ip):
    f = ctl.makefile("rwb", buffering=0)
    while True:
        line = f.readline()
        if not line:
            return
        line = line.decode().strip()
        if line == "quit":
            f.write(b"ok\n")
            return
        f.write((command(line, server_ip) + "\n").encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="the program's address")
    ap.add_argument("--ctl-port", type=int, default=7100)
    ap.add_argument("--data-port", type=int, default=7101)
    ap.add_argument("--lifetime", type=int, default=300)
    a = ap.parse_args()
    t = threading.Timer(a.lifetime, lambda: os._exit(0))
    t.daemon = True
    t.start()

    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("0.0.0.0", a.data_port))
    lsock.listen(64)
    threading.Thread(target=acceptor, args=(lsock,), daemon=True).start()
    csock = socket.socket()
    csock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    csock.bind(("0.0.0.0", a.ctl_port))
    csock.listen(4)
    print("sem_peer: READY listening on port %d" % a.ctl_port, file=sys.stderr, flush=True)
    csock.settimeout(a.lifetime)
    end = time.monotonic() + a.lifetime
    while time.monotonic() < end:
        try:
            ctl, _ = csock.accept()
        except socket.timeout:
            break
        serve(ctl, a.server)
        ctl.close()


if __name__ == "__main__":
    main()
    os._exit(0)
