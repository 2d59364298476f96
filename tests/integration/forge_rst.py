#!/usr/bin/python3
"""forge_rst.py - RFC 5961 from the peer's side: open a connection to an
echo server, learn the server's RCV.NXT from the ACKs it sends, then send
forged RSTs.

  forge_rst.py IFACE ADDR PORT MODE

MODE inwindow: an RST 1000 bytes past RCV.NXT (inside the window) must not
  end the connection: an echo afterwards still works; exit 0 if it does.
MODE exact: an RST at exactly RCV.NXT must end the connection at the other
  side: exit 0 once the server stops echoing (the connection is gone there).
Prints what it sent.
"""
import socket
import struct
import sys
import threading
import time

iface, addr, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


last = {}


def sniff(stop, lport):
    """Record the ACK field of the server's segments: its RCV.NXT."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((iface, 0))
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            f = s.recv(65535)
        except socket.timeout:
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            continue
        src = socket.inet_ntoa(ip[12:16])
        tot = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:tot]
        sp, dp, seq, ack = struct.unpack("!HHII", tcp[:12])
        if src == addr and sp == port and dp == lport and tcp[13] & 0x10:
            last["nxt"] = ack
            last["src"] = socket.inet_ntoa(ip[16:20])


def echo(c, n):
    msg = bytes((i * 7) & 0xFF for i in range(n))
    c.sendall(msg)
    got = b""
    c.settimeout(3)
    while len(got) < n:
        d = c.recv(n - len(got))
        if not d:
            raise ConnectionError("EOF")
        got += d
    return got == msg


c = socket.create_connection((addr, port), timeout=10)
lport = c.getsockname()[1]
stop = threading.Event()
t = threading.Thread(target=sniff, args=(stop, lport))
t.start()
time.sleep(0.3)
ok = echo(c, 3000)
time.sleep(0.3)
stop.set()
t.join()
if not ok or "nxt" not in last:
    sys.exit("could not learn the sequence numbers")

seq = last["nxt"] + (1000 if mode == "inwindow" else 0)
src = socket.inet_aton(last["src"])
dst = socket.inet_aton(addr)
tcp = struct.pack("!HHIIBBHHH", lport, port, seq & 0xFFFFFFFF, 0, 5 << 4, 0x04, 0, 0, 0)
pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.sendto(ip + tcp, (addr, 0))
print("sent RST seq=%u (%s, RCV.NXT %u)" % (seq, mode, last["nxt"]), flush=True)
time.sleep(0.5)
try:
    alive = echo(c, 500)
except (OSError, ConnectionError):
    alive = False
print("connection %s" % ("still echoes" if alive else "is gone"), flush=True)
sys.exit(0 if alive == (mode == "inwindow") else 1)
