#!/usr/bin/python3
"""cork_server.py - a server that builds its replies from small writes
under TCP_CORK and MSG_MORE, for t_cork.sh.  It serves one connection, in
phases; each starts when the peer sends one byte (so that phases never
share a segment), and writes bytes of the phase's letter:

  A  TCP_CORK on, ten writes of 100 bytes, 50 ms pause, TCP_CORK off
  B  three sends of 300 bytes with MSG_MORE, then one of 100 without
  C  TCP_CORK on, fifty writes of 100 bytes, TCP_CORK off
  D  TCP_CORK on, one write of 100 bytes, never uncorked: the peer answers
     once it has them, and the time that took is printed (Linux's ceiling
     on a cork is 200 ms)
  E  TCP_CORK on, 50 bytes, close()

The listener is corked (accepted sockets inherit TCP_CORK and TCP_NODELAY,
as Linux); the server checks that and uncorks before phase A.

  cork_server.py PORT
"""
import socket
import sys
import time

port = int(sys.argv[1])
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
l.bind(("0.0.0.0", port))
l.listen(1)
print("cork_server: READY listening on port %d" % port, flush=True)
l.settimeout(30)
c, _ = l.accept()
c.settimeout(30)


def opt(name):
    return c.getsockopt(socket.IPPROTO_TCP, name)


def cork(on):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)


def go(letter):
    b = c.recv(1)
    if b != letter.lower().encode():
        sys.exit("cork_server: expected the peer's go for %s, got %r" % (letter, b))


inherited = (opt(socket.TCP_CORK), opt(socket.TCP_NODELAY))
print("cork_server: accepted socket TCP_CORK=%d TCP_NODELAY=%d" % inherited, flush=True)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
cork(False)

go("A")
cork(True)
for _ in range(10):
    c.send(b"A" * 100)
time.sleep(0.05)
print("cork_server: corked: TCP_CORK reads %d" % opt(socket.TCP_CORK), flush=True)
cork(False)

go("B")
for _ in range(3):
    c.send(b"B" * 300, socket.MSG_MORE)
c.send(b"B" * 100)

go("C")
cork(True)
for _ in range(50):
    c.send(b"C" * 100)
cork(False)

go("D")
cork(True)
t0 = time.monotonic()
c.send(b"D" * 100)
if c.recv(1) != b"e":
    sys.exit("cork_server: the peer did not confirm phase D")
print("cork_server: corked bytes reached the peer after %d ms"
      % ((time.monotonic() - t0) * 1000), flush=True)

c.send(b"E" * 50)  # still corked
c.close()
print("cork_server: done", flush=True)
