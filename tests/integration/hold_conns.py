#!/usr/bin/python3
"""hold_conns.py - open N connections to an echo server, check one echo on
each, then wait for the server side to end them and report how each ended.

  hold_conns.py ADDR PORT N SECONDS

Prints READY after the echoes, then one line per connection: "reset",
"eof" or "open" (still open after SECONDS).  Exits 0 if every connection
was reset within SECONDS of READY, 1 otherwise.  (Used by t_kill.sh: the
server process is killed with SIGKILL.)
"""
import select
import socket
import sys
import time

addr, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
conns = []
for i in range(n):
    s = socket.create_connection((addr, port), timeout=10)
    msg = b"hold %d " % i * 8
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(len(msg) - len(got))
        if not chunk:
            sys.exit("connection %d: EOF before the echo" % i)
        got += chunk
    if got != msg:
        sys.exit("connection %d: echo differs" % i)
    conns.append(s)
print("READY", flush=True)
end = time.monotonic() + secs
state = {s: "open" for s in conns}
while time.monotonic() < end and any(v == "open" for v in state.values()):
    live = [s for s, v in state.items() if v == "open"]
    r, _, _ = select.select(live, [], [], max(0.0, end - time.monotonic()))
    for s in r:
        try:
            data = s.recv(4096)
            state[s] = "eof" if not data else "data"
        except ConnectionResetError:
            state[s] = "reset"
for i, s in enumerate(conns):
    print("connection %d: %s" % (i, state[s]), flush=True)
sys.exit(0 if all(v == "reset" for v in state.values()) else 1)
