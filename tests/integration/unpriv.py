#!/usr/bin/python3
"""unpriv.py - a socket program that says which of Linux's rules stopped it,
for t_unpriv.sh (run as another user with setpriv).

  unpriv.py listen PORT [reuseport] [SECONDS]
      bind, listen (SO_REUSEPORT if asked); prints "READY listening on
      PORT" and echoes connections for SECONDS (default 20), one at a time,
      or prints "ERR <errno name> at <call>" and exits 3
  unpriv.py connect IP PORT SRCPORT
      bind to SRCPORT (0: any), connect, send 4 KiB, read the echo back;
      prints "OK echoed 4096" (exit 0) or "ERR <errno name> at <call>"
      (exit 3; a wrong echo exits 1)
  unpriv.py hold IP PORT N SECONDS
      N connections, then one more: prints "HELD N"
      and "OK one more" or "ERR <errno name> at connect", then holds them
      for SECONDS (exit 0 unless one of the N failed)
  unpriv.py listens N PORT
      listens on PORT, PORT+1, ... N times: "LISTENED k" for each, and
      "ERR <errno name> at listen" at the first refusal

The errno is compared, not the call: Linux refuses a port at bind(), tasd
(which learns of the port when the program listens or connects) at
listen() or connect().
"""
import errno
import os
import socket
import sys
import time


def fail(e, call):
    print("ERR %s at %s" % (errno.errorcode.get(e.errno, str(e.errno)), call), flush=True)
    sys.exit(3)


def step(call, fn, *args):
    try:
        return fn(*args)
    except OSError as e:
        fail(e, call)


def listen(port, reuse, secs):
    s = step("socket", socket.socket, socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    step("bind", s.bind, ("0.0.0.0", port))
    step("listen", s.listen, 16)
    print("READY listening on %d (uid %d)" % (port, os.geteuid()), flush=True)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            c, _ = s.accept()
        except (socket.timeout, TimeoutError):
            break
        c.settimeout(10)
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()


def connect(ip, port, src):
    s = step("socket", socket.socket, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    step("bind", s.bind, ("0.0.0.0", src))
    step("connect", s.connect, (ip, port))
    data = os.urandom(4096)
    step("send", s.sendall, data)
    got = b""
    while len(got) < len(data):
        d = step("recv", s.recv, 65536)
        if not d:
            break
        got += d
    if got != data:
        print("BAD echo: %d of %d bytes, or different" % (len(got), len(data)), flush=True)
        sys.exit(1)
    print("OK echoed %d" % len(got), flush=True)


def hold(ip, port, n, secs):
    held = []
    for _ in range(n):
        s = step("socket", socket.socket, socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        step("connect", s.connect, (ip, port))
        held.append(s)
    print("HELD %d" % len(held), flush=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((ip, port))
        print("OK one more", flush=True)
    except OSError as e:
        print("ERR %s at connect" % errno.errorcode.get(e.errno, str(e.errno)), flush=True)
    time.sleep(secs)


def listens(n, port):
    held = []
    for k in range(n):
        s = step("socket", socket.socket, socket.AF_INET, socket.SOCK_STREAM)
        step("bind", s.bind, ("0.0.0.0", port + k))
        step("listen", s.listen, 4)
        held.append(s)
        print("LISTENED %d" % (k + 1), flush=True)


if len(sys.argv) == 6 and sys.argv[1] == "hold":
    hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
elif len(sys.argv) == 4 and sys.argv[1] == "listens":
    listens(int(sys.argv[2]), int(sys.argv[3]))
elif len(sys.argv) >= 3 and sys.argv[1] == "listen":
    rest = sys.argv[3:]
    reuse = "reuseport" in rest
    nums = [a for a in rest if a != "reuseport"]
    listen(int(sys.argv[2]), reuse, float(nums[0]) if nums else 20.0)
elif len(sys.argv) == 5 and sys.argv[1] == "connect":
    connect(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
else:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
