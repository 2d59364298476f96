#!/usr/bin/env python3
"""raw_frames.py - send hand-made Ethernet/IPv4/TCP frames, one malformed
kind at a time, through an AF_PACKET socket (run on the Linux peer's side of
the test link; needs root).  Each kind is a well-formed TCP segment (or ping)
from SRC_IP to DST_IP with one thing wrong, named like the fast path's
counter it must move (fastpath/classify.h), plus "ip_opts": a well-formed
segment with IP options, which tasd accepts.

    raw_frames.py IFACE DST_MAC SRC_IP DST_IP KIND COUNT
    raw_frames.py --kinds        (lists the kinds)
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(dst_mac, src_mac, sip, dip, ipopt=b"", proto=6, payload=b"hello",
          ver=4, ihl=None, tot_delta=0, frag=0x4000, ip_bad=False, tcp_bad=False,
          doff=None, ethertype=0x0800, trunc=None, l4=None):
    if l4 is None:
        tcp = struct.pack("!HHIIBBHHH", 40000, 7999, 1000, 0, (5 if doff is None else doff) << 4,
                          0x10, 1024, 0, 0) + payload
        pseudo = struct.pack("!4s4sBBH", sip, dip, 0, 6, len(tcp))
        c = csum(pseudo + tcp)
        if tcp_bad:
            c ^= 0x00FF
        l4 = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    if ihl is None:
        ihl = 5 + len(ipopt) // 4
    tot = 20 + len(ipopt) + len(l4) + tot_delta
    ip = struct.pack("!BBHHHBBH4s4s", ver << 4 | ihl, 0, tot, 0, frag, 64, proto, 0, sip,
                     dip) + ipopt
    c = csum(ip)
    if ip_bad:
        c ^= 0x00FF
    ip = ip[:10] + struct.pack("!H", c) + ip[12:]
    f = dst_mac + src_mac + struct.pack("!H", ethertype) + ip + l4
    return f[:trunc] if trunc is not None else f


def icmp_bad():
    body = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
    c = csum(body) ^ 0x0F0F
    return body[:2] + struct.pack("!H", c) + body[4:]


KINDS = {
    "ip_trunc": dict(trunc=14 + 12),
    "ip_version": dict(ver=6),
    "ip_hlen": dict(ihl=4),
    "ip_len": dict(tot_delta=+7),
    "ip_frag": dict(frag=0x2000),          # MF
    "ip_frag_offset": dict(frag=0x0010),   # offset 128 bytes
    "ip_cksum": dict(ip_bad=True),
    "icmp_cksum": dict(proto=1, l4=icmp_bad()),
    "tcp_trunc": dict(l4=b"\0" * 12),
    "tcp_doff": dict(doff=4),
    "tcp_doff_beyond": dict(doff=15, payload=b""),
    "tcp_cksum": dict(tcp_bad=True),
    "not_our_ip": dict(),                  # sent to another address (see main)
    "ethertype": dict(ethertype=0x86DD),
    "ip_opts": dict(ipopt=bytes([0x94, 4, 0, 0])),  # router alert: accepted
}


def main():
    if sys.argv[1:] == ["--kinds"]:
        print(" ".join(KINDS))
        return 0
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    iface, dmac, sip, dip, kind, count = sys.argv[1:]
    dst_mac = bytes.fromhex(dmac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src_mac = s.getsockname()[4][:6]
    sip_b, dip_b = socket.inet_aton(sip), socket.inet_aton(dip)
    if kind == "not_our_ip":
        dip_b = bytes(dip_b[:3]) + bytes([(dip_b[3] + 100) % 256])
    f = frame(dst_mac, src_mac, sip_b, dip_b, **KINDS[kind])
    for _ in range(int(count)):
        s.send(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
