#!/usr/bin/env python3
"""memcache_check.py - set values of known content in memcached over its text
protocol and read them back, one key at a time and with a multi-key get;
every byte must come back.  Exit 0 if all match, 1 otherwise.

    memcache_check.py HOST PORT [--keys N] [--max-size BYTES] [--timeout S]
"""
import argparse
import os
import socket
import sys


def read_line(sock, buf):
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    line, _, rest = bytes(buf).partition(b"\r\n")
    del buf[:len(line) + 2]
    return line


def read_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    data = bytes(buf[:n])
    del buf[:n]
    return data


def get(sock, buf, keys):
    """Values of KEYS from one get command, as a dict."""
    sock.sendall(b"get " + b" ".join(keys) + b"\r\n")
    got = {}
    while True:
        line = read_line(sock, buf)
        if line == b"END":
            return got
        parts = line.split()
        if len(parts) != 4 or parts[0] != b"VALUE":
            raise ValueError("unexpected reply %r" % line[:80])
        got[parts[1]] = read_exact(sock, buf, int(parts[3]) + 2)[:-2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--keys", type=int, default=200)
    ap.add_argument("--max-size", type=int, default=512 * 1024)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()

    sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    buf = bytearray()
    want = {}
    for i in range(a.keys):
        key = b"check:%d" % i
        # sizes from 0 bytes up, a few of them large
        size = (i * 7919) % 4096 if i % 20 else (i * 104729) % a.max_size
        val = os.urandom(size)
        want[key] = val
        sock.sendall(b"set %s %d 0 %d\r\n" % (key, i, size) + val + b"\r\n")
        reply = read_line(sock, buf)
        if reply != b"STORED":
            print("set %s: %r" % (key.decode(), reply), file=sys.stderr)
            return 1
    bad = 0
    for key, val in want.items():
        got = get(sock, buf, [key])
        if got.get(key) != val:
            bad += 1
    keys = list(want)
    for i in range(0, len(keys), 50):
        got = get(sock, buf, keys[i:i + 50])
        bad += sum(1 for k in keys[i:i + 50] if got.get(k) != want[k])
    total = sum(len(v) for v in want.values())
    print("memcache_check: %d keys, %d bytes, %d mismatches" % (len(want), total, bad))
    sock.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
