#!/usr/bin/python3
"""idle_client.py - the Linux side of t_idle.sh: connections that go idle
and come back.

  idle_client.py hold ADDR PORT N GO_FILE
      opens N connections; on each sends 1 KiB of random bytes and checks
      the echo; prints "IDLE" and waits (at most 60 s) for GO_FILE; then
      on each sends 64 KiB more (more than its rings held before going
      idle) and checks the echo; then half-closes each and expects EOF.
  idle_client.py churn ADDR PORT N ROUNDS
      N connections, each ROUNDS times: a pause of 0-60 ms, then 1 B to
      20 KB of random bytes, echo checked; the pauses straddle the server's
      idle time, so its asks race with new requests.

Exits non-zero with a message on the first wrong byte, early EOF or error.
"""
import os
import random
import selectors
import socket
import sys
import time


def echo_all(conns, sizes, deadline):
    """Send sizes[i] random bytes on conns[i], all at once, and check that
    every byte comes back in order."""
    sel = selectors.DefaultSelector()
    want = {}
    for c, n in zip(conns, sizes):
        data = os.urandom(n)
        want[c] = [data, 0, 0]  # bytes, sent, received
        sel.register(c, selectors.EVENT_READ | selectors.EVENT_WRITE)
    left = len(conns)
    while left > 0:
        if time.monotonic() > deadline:
            sys.exit("idle_client: echo timed out (%d connections left)" % left)
        for key, ev in sel.select(timeout=1):
            c = key.fileobj
            data, sent, rcvd = want[c]
            if ev & selectors.EVENT_WRITE and sent < len(data):
                sent += c.send(data[sent:sent + 65536])
                if sent == len(data):
                    sel.modify(c, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                d = c.recv(65536)
                if not d:
                    sys.exit("idle_client: EOF before the echo")
                if d != data[rcvd:rcvd + len(d)]:
                    sys.exit("idle_client: wrong bytes echoed")
                rcvd += len(d)
                if rcvd == len(data):
                    sel.unregister(c)
                    left -= 1
            want[c] = [data, sent, rcvd]
    sel.close()


def connect(addr, port, n):
    conns = []
    for _ in range(n):
        c = socket.create_connection((addr, port), timeout=10)
        c.setblocking(False)
        conns.append(c)
    return conns


def close_all(conns):
    for c in conns:
        c.setblocking(True)
        c.settimeout(10)
        c.shutdown(socket.SHUT_WR)
        if c.recv(1) != b"":
            sys.exit("idle_client: bytes after the echo")
        c.close()


def hold(addr, port, n, go_file):
    conns = connect(addr, port, n)
    echo_all(conns, [1024] * n, time.monotonic() + 30)
    print("IDLE: %d connections echoed 1 KiB" % n, flush=True)
    end = time.monotonic() + 60
    while not os.path.exists(go_file):
        if time.monotonic() > end:
            sys.exit("idle_client: no go after 60 s")
        time.sleep(0.05)
    echo_all(conns, [65536] * n, time.monotonic() + 60)
    close_all(conns)
    print("idle_client: %d connections echoed 64 KiB after idling, closed" % n, flush=True)


def churn(addr, port, n, rounds):
    conns = connect(addr, port, n)
    rng = random.Random(os.urandom(8))
    end = time.monotonic() + 120
    for _ in range(rounds):
        time.sleep(rng.uniform(0, 0.06))
        k = rng.randint(1, n)
        echo_all(rng.sample(conns, k), [rng.randint(1, 20000) for _ in range(k)], end)
    close_all(conns)
    print("idle_client: churn: %d rounds on %d connections, every byte back" % (rounds, n),
          flush=True)


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("hold", "churn"):
        sys.exit(__doc__)
    addr, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if sys.argv[1] == "hold":
        hold(addr, port, n, sys.argv[5])
    else:
        churn(addr, port, n, int(sys.argv[5]))


if __name__ == "__main__":
    main()
