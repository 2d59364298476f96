#!/usr/bin/python3
"""fork_client.py - the Linux peer of t_forkpy and t_forkexec: opens
CONNS connections to ADDR:PORT at once (one thread each), sends each
BYTES random bytes in chunks of CHUNK while reading the echo, and checks
that every connection got back exactly what it sent (sha256), then EOF
after it shut down its side.  Exits 0 only if every connection did.

  fork_client.py ADDR PORT CONNS BYTES [CHUNK] [--go] [--pace MS]

--go: wait for a line "GO\\n" from the server before sending (the server
      says when it is done with what it does meanwhile); the line is not
      part of the echo.
--pace MS: sleep MS between chunks (a client that keeps sending while the
      server forks).
"""
import hashlib
import os
import socket
import sys
import threading
import time

args = [a for a in sys.argv[1:] if not a.startswith("--")]
opts = sys.argv[1:]
addr, port, conns, nbytes = args[0], int(args[1]), int(args[2]), int(args[3])
chunk = int(args[4]) if len(args) > 4 else 4096
go = "--go" in opts
pace = 0.0
if "--pace" in opts:
    pace = float(opts[opts.index("--pace") + 1]) / 1000.0
DEADLINE = time.monotonic() + 50

results = {}


def one(i):
    try:
        s = socket.create_connection((addr, port), timeout=20)
        s.settimeout(max(1.0, DEADLINE - time.monotonic()))
        if go:
            line = b""
            while not line.endswith(b"\n") and len(line) < 16:
                d = s.recv(1)
                if not d:
                    raise RuntimeError("EOF before GO")
                line += d
            if line != b"GO\n":
                raise RuntimeError("expected GO, got %r" % line)
        data = os.urandom(nbytes)
        got = bytearray()
        sent = 0
        while sent < len(data):
            n = s.send(data[sent:sent + chunk])
            sent += n
            # Read what is there without waiting long: the echo comes back.
            s.settimeout(0.001)
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        raise RuntimeError("EOF after %d of %d bytes" % (len(got), nbytes))
                    got += d
            except (BlockingIOError, socket.timeout):
                pass
            s.settimeout(max(1.0, DEADLINE - time.monotonic()))
            if pace:
                time.sleep(pace)
        while len(got) < len(data):
            d = s.recv(65536)
            if not d:
                raise RuntimeError("EOF after %d of %d bytes" % (len(got), nbytes))
            got += d
        s.shutdown(socket.SHUT_WR)
        d = s.recv(1)
        if d:
            raise RuntimeError("more than was sent came back")
        s.close()
        if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
            raise RuntimeError("echo differs from what was sent")
        results[i] = "ok"
    except Exception as e:  # noqa: BLE001 - reported per connection
        results[i] = "%s: %s" % (type(e).__name__, e)


threads = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join(max(0.1, DEADLINE + 5 - time.monotonic()))
bad = {i: r for i, r in results.items() if r != "ok"}
missing = conns - len(results)
print("fork_client: %d of %d connections echoed %d bytes exactly"
      % (conns - len(bad) - missing, conns, nbytes))
for i, r in sorted(bad.items()):
    print("fork_client: connection %d: %s" % (i, r))
if missing:
    print("fork_client: %d connections did not finish" % missing)
sys.exit(0 if not bad and not missing else 1)
