#!/usr/bin/env python3
"""cc_sock.py - TCP_CONGESTION as a program sees it (t_cc.sh).

    cc_sock.py ADDR PORT DEFAULT

Run under tasd: a fresh socket names DEFAULT (tasd's tcp.cc); a name
tasd does not offer gives ENOENT and changes nothing; "cubic" set before
connect() reads back and holds on the connection; "dctcp" set on the
live connection reads back at once; "timely" set while a non-blocking
connect() is in flight reaches the connection; 64 KiB echo through an echo server at
ADDR:PORT before and after the change.  Prints SECOND <its local port> and
CHANGED once the changes are made, then holds the connection for 3 s (the test looks at tasd's
flows meanwhile) and echoes again.  Exit 0 if all held.
"""
import errno
import select
import socket
import sys
import time

TCP_CONGESTION = 13


def name(s):
    return s.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, 16).rstrip(b"\0").decode()


def echo(s, n):
    data = bytes((i * 7) & 0xFF for i in range(n))
    s.sendall(data)
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise RuntimeError("EOF during echo")
        got += b
    if got != data:
        raise RuntimeError("echo differs")


def main():
    addr, port, default = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    bad = 0

    def want(what, got, exp):
        nonlocal bad
        ok = got == exp
        print(f"{'ok' if ok else 'WRONG'}: {what}: {got!r} (want {exp!r})", flush=True)
        bad += 0 if ok else 1

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    want("a fresh socket's algorithm", name(s), default)
    try:
        s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, b"nosuchcc")
        want("setting an unknown algorithm", "accepted", "ENOENT")
    except OSError as e:
        want("setting an unknown algorithm", errno.errorcode.get(e.errno), "ENOENT")
    want("after the refused name", name(s), default)
    s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, b"cubic")
    want("set before connect()", name(s), "cubic")
    s.connect((addr, port))
    want("after connect()", name(s), "cubic")
    echo(s, 65536)
    s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, b"dctcp")
    want("changed on the live connection", name(s), "dctcp")
    # Set while a non-blocking connect() is in flight: it follows.
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setblocking(False)
    try:
        t.connect((addr, port))
    except BlockingIOError:
        pass
    t.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, b"timely")
    t.settimeout(20)
    select.select([], [t], [], 20)
    want("set while connecting", name(t), "timely")
    echo(t, 1000)
    print("SECOND %d" % t.getsockname()[1], flush=True)
    print("CHANGED", flush=True)
    time.sleep(3)
    echo(s, 65536)
    want("after more data", name(s), "dctcp")
    s.close()
    t.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
