#!/usr/bin/python3
"""fork_patterns.py - the ways real servers fork, exec and pass sockets,
each as one echo server for t_forkpy and t_forkexec (run under tasd, or
on Linux to validate the test).  Every mode prints READY once it listens,
serves CONNS connections (the peer is fork_client.py), checks what its own
processes did, prints "MODE: ok ..." and exits 0, or exits 1 saying what
went wrong.  Every wait is bounded.

  fork_patterns.py MODE PORT CONNS

forking   socketserver.ForkingTCPServer: a child per connection.
prefork   3 workers forked after listen(); each has its own epoll with
          EPOLLEXCLUSIVE on the inherited listener and accepts and echoes
          non-blocking; the master, told by a pipe, SIGTERMs them once
          CONNS are served, closes the listener and listens on the port
          again.
threads   a thread blocks in recv() on connection 1 while the main thread
          forks and execs /bin/true three ways (os.fork + os.execv,
          subprocess close_fds=False and close_fds=True, with the socket
          inheritable); then GO, and the thread echoes; connections
          2..CONNS are echoed by further threads (the listener works).
passfd    each accepted connection goes to a new program (made
          inheritable, os.fork + os.execv of python3 -c: socket(fileno=N),
          echo); the parent closes its copy.
passfd_popen  the same through subprocess.Popen(pass_fds=[fd]).
bgsave    all CONNS connections are served by one epoll loop; while the
          clients keep sending, it forks children that touch no socket
          (one _exit()s, one returns through sys.exit, one execs
          /bin/true; BGSAVE_KINDS=a,b picks some), as Redis's BGSAVE
          does, and reaps them.
cgi       one connection; for every read the parent (in epoll) forks a
          child that writes the answer on the inherited connection and
          _exit()s; the parent goes on with the connection.
execq     exec() of itself while CONNS connections wait unaccepted in
          the listener's queue; the new program accepts and echoes them.
lclose    a child closes the inherited listener and lives on; the
          parent accepts and echoes CONNS connections on it.
grand     double fork per connection: the child exits at once, the
          grandchild echoes; the parent closes its copy.
connfork  (active side, no READY) CONNS non-blocking connect()s to
          $PEER_ADDR:PORT, fork() while in progress, then echo checks.
exit      a child per connection echoes until EOF and calls os._exit()
          with the connection still open; the parent closes its copy.
chain     one connection through 20 exec()s of this program, each
          echoing a read, then a fork() whose child echoes the rest.
inetd     each connection becomes stdin and stdout of a new program
          (os.fork, os.dup2 onto 0 and 1, os.execv of `cat` or of python3
          copying sys.stdin.buffer); the parent then still writes to its
          own stdout.
inetd_popen  the same through subprocess.Popen(stdin=conn, stdout=conn).
popen_stdout  Popen(["/bin/true"], stdin=conn, stdout=conn), then our own
          stdout is written and the connection echoed by us.
"""
import errno
import os
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

mode, port, nconns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
DEADLINE = time.monotonic() + 60


def die(msg):
    print("%s: FAIL %s" % (mode, msg), flush=True)
    sys.exit(1)


def left():
    return max(0.1, DEADLINE - time.monotonic())


def listener(backlog=64):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(backlog)
    return s


def echo(c):
    """Echo until EOF; the number of bytes."""
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            return n
        c.sendall(d)
        n += len(d)


def reap(pid, what):
    """Wait (bounded) for a child; its exit status or die."""
    while time.monotonic() < DEADLINE:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return os.waitstatus_to_exitcode(st)
        time.sleep(0.01)
    die("%s (pid %d) did not end" % (what, pid))


def ready():
    print("%s: READY listening on port %d" % (mode, port), flush=True)


# ---------------------------------------------------------------- forking
def m_forking():
    class H(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(30)
            echo(self.request)

    class S(socketserver.ForkingTCPServer):
        allow_reuse_address = True
        request_queue_size = 64
        block_on_close = True

    srv = S(("0.0.0.0", port), H)
    srv.timeout = 1
    ready()
    served = 0
    while served < nconns and time.monotonic() < DEADLINE:
        r, _, _ = select.select([srv], [], [], 1)
        if r:
            srv._handle_request_noblock()
            served += 1
    if served < nconns:
        die("only %d of %d connections accepted" % (served, nconns))
    # Reap the children (ForkingMixIn keeps their pids) and check them.
    bad = 0
    for pid in list(srv.active_children or ()):
        if reap(pid, "handler child") != 0:
            bad += 1
    srv.active_children = None
    srv.server_close()
    if bad:
        die("%d handler children failed" % bad)
    print("%s: ok %d connections, a child each" % (mode, served), flush=True)


# ---------------------------------------------------------------- prefork
def m_prefork():
    l = listener()
    l.setblocking(False)
    rd, wr = os.pipe()
    workers = []
    for w in range(3):
        pid = os.fork()
        if pid == 0:
            os.close(rd)
            try:
                prefork_worker(l, wr, w)
            finally:
                os._exit(3)
        workers.append(pid)
    os.close(wr)
    ready()
    served, per = 0, {}
    buf = b""
    while served < nconns and time.monotonic() < DEADLINE:
        r, _, _ = select.select([rd], [], [], 1)
        if not r:
            continue
        d = os.read(rd, 4096)
        if not d:
            break
        buf += d
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            served += 1
            per[line] = per.get(line, 0) + 1
    if served < nconns:
        die("only %d of %d connections served" % (served, nconns))
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
    for pid in workers:
        st = reap(pid, "worker")
        if st != -signal.SIGTERM:
            die("worker %d ended with %d, not by SIGTERM" % (pid, st))
    l.close()
    # The port is free again once the last holder is gone.
    t_end = time.monotonic() + 5
    while True:
        try:
            l2 = listener()
            break
        except OSError as e:
            if time.monotonic() > t_end:
                die("listen again after close: %s" % e)
            time.sleep(0.05)
    l2.close()
    print("%s: ok %d connections by %d workers %s; port free again"
          % (mode, served, len(per), sorted(per.values())), flush=True)


def prefork_worker(l, wr, w):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ep = select.epoll()
    ep.register(l.fileno(), select.EPOLLIN | select.EPOLLEXCLUSIVE)
    conns = {}
    while True:
        for fd, ev in ep.poll(1):
            if fd == l.fileno():
                while True:
                    try:
                        c, _ = l.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    conns[c.fileno()] = c
                    ep.register(c.fileno(), select.EPOLLIN)
                continue
            c = conns[fd]
            try:
                d = c.recv(65536)
            except BlockingIOError:
                continue
            if d:
                # Small echoes: the send buffer has room (bounded retry).
                view = memoryview(d)
                t_end = time.monotonic() + 10
                while view and time.monotonic() < t_end:
                    try:
                        view = view[c.send(view):]
                    except BlockingIOError:
                        select.select([], [c], [], 0.1)
                continue
            ep.unregister(fd)
            c.close()
            del conns[fd]
            os.write(wr, b"%d\n" % w)


# ---------------------------------------------------------------- threads
def m_threads():
    l = listener()
    ready()
    l.settimeout(left())
    c, _ = l.accept()
    c.settimeout(left())
    result = {}

    def serve(conn, key):
        try:
            result[key] = echo(conn)
        except OSError as e:
            result[key] = e
        finally:
            conn.close()

    # GO arrives only after the forks, so the thread blocks in recv() on
    # the connection meanwhile (the GO line itself is ours, not echoed).
    t = threading.Thread(target=serve, args=(c, 0))
    t.start()
    time.sleep(0.2)
    c.set_inheritable(True)
    l.set_inheritable(True)
    pid = os.fork()
    if pid == 0:
        os.execv("/bin/true", ["true"])
    if reap(pid, "fork+exec child") != 0:
        die("fork+exec of /bin/true failed")
    for close_fds in (False, True):
        p = subprocess.Popen(["/bin/true"], close_fds=close_fds)
        if p.wait(timeout=left()) != 0:
            die("Popen(close_fds=%s) of /bin/true failed" % close_fds)
    c.sendall(b"GO\n")
    threads = [t]
    for i in range(1, nconns):
        c2, _ = l.accept()
        c2.settimeout(left())
        c2.sendall(b"GO\n")
        ti = threading.Thread(target=serve, args=(c2, i))
        ti.start()
        threads.append(ti)
    for ti in threads:
        ti.join(left())
    bad = {k: v for k, v in result.items() if not isinstance(v, int)}
    if len(result) != nconns or bad:
        die("echo threads: %r" % result)
    print("%s: ok the blocked recv() went on after 3 fork+exec; %d connections"
          % (mode, nconns), flush=True)


# ---------------------------------------------------------------- passfd
CHILD_ECHO = """
import socket, sys
fd = int(sys.argv[1])
c = socket.socket(fileno=fd)
c.settimeout(30)
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
    n += len(d)
c.close()
print("passfd child: echoed %d bytes on fd %d" % (n, fd), flush=True)
"""


def m_passfd(popen):
    l = listener()
    ready()
    l.settimeout(left())
    kids = []
    for _ in range(nconns):
        c, _ = l.accept()
        fd = c.fileno()
        argv = [sys.executable, "-c", CHILD_ECHO, str(fd)]
        if popen:
            p = subprocess.Popen(argv, pass_fds=[fd])
            kids.append(("echo program", p.pid, p))
        else:
            c.set_inheritable(True)
            pid = os.fork()
            if pid == 0:
                os.execv(argv[0], argv)
            kids.append(("echo program", pid, None))
        c.close()
    wait_kids(kids)
    print("%s: ok %d connections handed to new programs" % (mode, nconns), flush=True)


def wait_kids(kids):
    for what, pid, p in kids:
        st = p.wait(timeout=left()) if p is not None else reap(pid, what)
        if st != 0:
            die("%s child exited %d" % (what, st))


# ---------------------------------------------------------------- bgsave
def m_bgsave():
    l = listener()
    l.setblocking(False)
    ep = select.epoll()
    ep.register(l.fileno(), select.EPOLLIN)
    ready()
    conns, pend, done, accepted = {}, {}, 0, 0
    forks = []
    kinds = os.environ.get("BGSAVE_KINDS", "_exit,sys.exit,exec").split(",")
    next_fork = None
    while done < nconns and time.monotonic() < DEADLINE:
        if next_fork is not None and time.monotonic() >= next_fork and kinds:
            kind = kinds.pop(0)
            pid = os.fork()
            if pid == 0:
                bgsave_child(kind)
            forks.append((pid, kind))
            next_fork = time.monotonic() + 0.3
        for fd, ev in ep.poll(0.05):
            if fd == l.fileno():
                while True:
                    try:
                        c, _ = l.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    conns[c.fileno()] = c
                    pend[c.fileno()] = b""
                    ep.register(c.fileno(), select.EPOLLIN)
                    accepted += 1
                    if accepted == nconns:
                        next_fork = time.monotonic() + 0.2  # all are sending
                continue
            c = conns[fd]
            if ev & select.EPOLLIN:
                try:
                    d = c.recv(65536)
                except BlockingIOError:
                    d = None
                if d == b"":
                    if pend[fd]:
                        die("EOF with %d bytes still to echo" % len(pend[fd]))
                    ep.unregister(fd)
                    c.close()
                    del conns[fd]
                    done += 1
                    continue
                if d:
                    pend[fd] += d
            if pend[fd]:
                try:
                    n = c.send(pend[fd])
                    pend[fd] = pend[fd][n:]
                except BlockingIOError:
                    pass
                ep.modify(fd, select.EPOLLIN | (select.EPOLLOUT if pend[fd] else 0))
    if done < nconns:
        die("only %d of %d connections finished" % (done, nconns))
    if kinds:
        die("the clients finished before every fork (%d left)" % len(kinds))
    for pid, kind in forks:
        st = reap(pid, "bgsave child")
        if st != 0:
            die("bgsave child (%s) exited %d" % (kind, st))
    l.close()
    print("%s: ok %d connections echoed while %d children forked and exited"
          % (mode, nconns, len(forks)), flush=True)


def bgsave_child(kind):
    # Like Redis's BGSAVE: work that touches no socket, then leave.
    time.sleep(0.2)
    if kind == "_exit":
        os._exit(0)
    if kind == "exec":
        os.execv("/bin/true", ["true"])
    sys.exit(0)


# ---------------------------------------------------------------- cgi
def m_cgi():
    """Per request a child answers on the inherited connection and exits,
    while the parent keeps the connection in its epoll set for the next
    request (a CGI-style helper on a keep-alive connection)."""
    l = listener()
    ready()
    l.settimeout(left())
    c, _ = l.accept()
    c.setblocking(False)
    ep = select.epoll()
    ep.register(c.fileno(), select.EPOLLIN)
    total = 0
    while time.monotonic() < DEADLINE:
        if not ep.poll(1):
            continue
        try:
            d = c.recv(65536)
        except BlockingIOError:
            continue
        if not d:
            break
        pid = os.fork()
        if pid == 0:
            c.setblocking(True)
            c.sendall(d)
            os._exit(0)
        if reap(pid, "cgi child") != 0:
            die("cgi child failed")
        total += len(d)
    c.close()
    print("%s: ok %d bytes answered by one child per read" % (mode, total), flush=True)


# ---------------------------------------------------------------- chain
CHAIN_GENS = 20


def m_chain():
    """One connection through CHAIN_GENS exec()s of this program (each
    echoes one read, then execs the next with the socket inheritable),
    then the last one forks a child that echoes the rest."""
    if len(sys.argv) > 5:
        g, c = int(sys.argv[4]), socket.socket(fileno=int(sys.argv[5]))
    else:
        l = listener()
        ready()
        l.settimeout(left())
        c, _ = l.accept()
        l.close()
        g = 0
    c.settimeout(left())
    if g < CHAIN_GENS:
        try:
            d = c.recv(65536)
            c.sendall(d)
        except OSError as e:
            die("generation %d: %s" % (g, e))
        if not d:
            die("EOF in generation %d" % g)
        c.set_inheritable(True)
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), mode, str(port),
                                  str(nconns), str(g + 1), str(c.fileno())])
    pid = os.fork()
    if pid == 0:
        echo(c)
        c.close()
        os._exit(0)
    c.close()
    if reap(pid, "child of the last generation") != 0:
        die("the child of the last generation failed")
    print("%s: ok through %d exec()s and a fork()" % (mode, g), flush=True)


# ---------------------------------------------------------------- execq
def m_execq():
    """exec() while connections wait in the listener's queue: the new
    program (this one again, with the listener inheritable) accepts and
    echoes them, as after a binary upgrade or a re-exec on reload."""
    if len(sys.argv) > 4:
        l = socket.socket(fileno=int(sys.argv[4]))
        l.settimeout(left())
        kids = []
        for _ in range(nconns):
            c, _ = l.accept()
            c.settimeout(left())
            t = threading.Thread(target=echo, args=(c,))
            t.start()
            kids.append(t)
        for t in kids:
            t.join(left())
        print("%s: ok the new program accepted %d queued connections" % (mode, nconns),
              flush=True)
        return
    l = listener()
    ready()
    time.sleep(3)  # the clients connect meanwhile; nothing accepts them
    l.set_inheritable(True)
    os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), mode, str(port),
                              str(nconns), str(l.fileno())])


# ---------------------------------------------------------------- popen_stdout
def m_popen_stdout():
    """subprocess.Popen(stdin=conn, stdout=conn) of a program that exits at
    once (/bin/true): the dup2() onto 0 and 1 happens in a vfork() child;
    afterwards our own stdout must still be the log, and the connection
    is ours to echo on."""
    l = listener()
    ready()
    l.settimeout(left())
    conns = []
    for i in range(nconns):
        c, _ = l.accept()
        c.settimeout(left())
        p = subprocess.Popen(["/bin/true"], stdin=c, stdout=c)
        if p.wait(timeout=left()) != 0:
            die("/bin/true failed")
        print("%s: our stdout after Popen(stdout=conn) %d" % (mode, i), flush=True)
        t = threading.Thread(target=echo, args=(c,))
        t.start()
        conns.append(t)
    for t in conns:
        t.join(left())
    print("%s: ok %d connections echoed after Popen(stdout=conn)" % (mode, nconns), flush=True)


# ---------------------------------------------------------------- lclose
def m_lclose():
    """A child closes the inherited listener at once and lives on for a
    while; the parent keeps accepting on it and echoes every connection."""
    l = listener()
    pid = os.fork()
    if pid == 0:
        l.close()
        time.sleep(2)
        sys.exit(0)
    ready()
    l.settimeout(left())
    threads = []
    for _ in range(nconns):
        c, _ = l.accept()
        c.settimeout(left())
        t = threading.Thread(target=echo, args=(c,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join(left())
    if reap(pid, "child that closed the listener") != 0:
        die("the child failed")
    print("%s: ok %d connections accepted after a child closed the listener" % (mode, nconns),
          flush=True)


# ---------------------------------------------------------------- grand
def m_grand():
    """Double fork per connection (as a daemon detaches): the child forks a
    grandchild that echoes the connection and exits at once; the parent
    closes its copy; the grandchild reports through a pipe."""
    l = listener()
    ready()
    l.settimeout(left())
    rd, wr = os.pipe()
    for _ in range(nconns):
        c, _ = l.accept()
        pid = os.fork()
        if pid == 0:
            if os.fork() == 0:
                os.close(rd)
                c.settimeout(30)
                n = echo(c)
                c.close()
                os.write(wr, b"%d\n" % n)
                os._exit(0)
            os._exit(0)
        c.close()
        if reap(pid, "child") != 0:
            die("a child failed")
    os.close(wr)
    done, buf = 0, b""
    while done < nconns and time.monotonic() < DEADLINE:
        r, _, _ = select.select([rd], [], [], 1)
        if r:
            d = os.read(rd, 4096)
            if not d:
                break
            buf += d
            done = buf.count(b"\n")
    if done < nconns:
        die("%d of %d grandchildren reported" % (done, nconns))
    print("%s: ok %d connections echoed by grandchildren" % (mode, nconns), flush=True)


# ---------------------------------------------------------------- connfork
def m_connfork():
    """Active side: CONNS non-blocking connect()s to the echo server at
    $PEER_ADDR:PORT, a fork() while they are in progress (the child leaves
    through sys.exit without touching them), then each connection sends
    100 kB and must read back exactly that."""
    peer = os.environ["PEER_ADDR"]
    socks = []
    for _ in range(nconns):
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex((peer, port))
        if err not in (0, errno.EINPROGRESS):
            die("connect: %s" % os.strerror(err))
        socks.append(s)
    pid = os.fork()
    if pid == 0:
        time.sleep(0.3)
        sys.exit(0)
    data = os.urandom(100000)
    for s in socks:
        _, w, _ = select.select([], [s], [], left())
        if not w or s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
            die("connect did not complete after the fork")
        s.settimeout(left())
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            d = s.recv(65536)
            if not d:
                die("EOF after %d bytes" % len(got))
            got += d
        if got != data:
            die("echo differs")
        s.close()
    if reap(pid, "child") != 0:
        die("the child failed")
    print("%s: ok %d connections made across a fork()" % (mode, nconns), flush=True)


# ---------------------------------------------------------------- exit
def m_exit():
    """Per connection a child echoes until EOF and leaves with os._exit()
    without closing it (the kernel closes it: FIN); the parent closes its
    copy at once."""
    l = listener()
    ready()
    l.settimeout(left())
    kids = []
    for _ in range(nconns):
        c, _ = l.accept()
        pid = os.fork()
        if pid == 0:
            c.settimeout(30)
            echo(c)
            os._exit(0)
        kids.append(("echo child", pid, None))
        c.close()
    wait_kids(kids)
    print("%s: ok %d children left by _exit()" % (mode, nconns), flush=True)


# ---------------------------------------------------------------- inetd
STDIN_ECHO = """
import sys
n = 0
while True:
    d = sys.stdin.buffer.read1(65536)
    if not d:
        break
    sys.stdout.buffer.write(d)
    sys.stdout.buffer.flush()
    n += len(d)
sys.stderr.write("inetd child: %d bytes from stdin to stdout\\n" % n)
"""


def m_inetd(popen):
    l = listener()
    ready()
    l.settimeout(left())
    kids = []
    for i in range(nconns):
        c, _ = l.accept()
        argv = ["/bin/cat"] if i % 2 == 0 else [sys.executable, "-c", STDIN_ECHO]
        if popen:
            p = subprocess.Popen(argv, stdin=c, stdout=c)
            kids.append((argv[0], p.pid, p))
        else:
            pid = os.fork()
            if pid == 0:
                os.dup2(c.fileno(), 0)
                os.dup2(c.fileno(), 1)
                os.execv(argv[0], argv)
            kids.append((argv[0], pid, None))
        c.close()
        # Our own stdout is still ours (the log), not the connection.
        print("%s: handed connection %d to a child" % (mode, i), flush=True)
    wait_kids(kids)
    print("%s: ok %d connections through stdin/stdout of new programs" % (mode, nconns),
          flush=True)


modes = {"forking": m_forking, "prefork": m_prefork, "threads": m_threads,
         "passfd": lambda: m_passfd(False), "passfd_popen": lambda: m_passfd(True),
         "bgsave": m_bgsave, "inetd": lambda: m_inetd(False),
         "inetd_popen": lambda: m_inetd(True), "cgi": m_cgi, "chain": m_chain,
         "exit": m_exit, "execq": m_execq, "popen_stdout": m_popen_stdout,
         "lclose": m_lclose, "grand": m_grand,
         "connfork": m_connfork}
if mode not in modes:
    die("unknown mode")
modes[mode]()
sys.exit(0)
