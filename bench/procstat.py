#!/usr/bin/python3
"""procstat.py - CPU and memory samples for the benchmarks (bench/benchlib.sh).

  procstat.py cpu-start FILE
      saves a CPU sample in FILE: the time, /proc/stat's cpu line, and the
      run time of every thread on the machine (/proc/PID/task/TID/schedstat).
  procstat.py cpu-end FILE [ROOT_PID...] [--extra-ticks N]
      "wall_s=W procs_s=P children_s=C busy_s=B sched_s=T tick_s=K" since
      cpu-start:
        procs_s  CPU of the threads under the ROOT_PIDs (themselves included)
        children_s  N clock ticks (--extra-ticks: the caller's children that
                 ran and were reaped inside the window, from its cutime and
                 cstime), in seconds
        busy_s   the machine's busy time from /proc/stat: CPUs x wall time
                 less the idle and iowait time.  With NO_HZ_IDLE the kernel
                 measures idle time at each entry and exit of idle, so this
                 is exact and holds everything: threads, interrupts, softirq
        tick_s   the sum of /proc/stat's busy fields (user, nice, system,
                 irq, softirq, steal).  This kernel samples those at ticks
                 (TICK_CPU_ACCOUNTING): a thread that runs in bursts shorter
                 than a tick between sleeps (tasd's adaptive polling) is
                 largely missed, so it can be far below busy_s; shown only
                 to explain the difference
        sched_s  the machine's busy time as the scheduler measured it: the
                 run time of every thread alive at the end (exact), plus
                 children_s.  Time the kernel spends outside any thread
                 (softirq on an idle CPU) is not in it, nor are threads that
                 ended inside the window and were not the caller's children.

  procstat.py mem TASD_ROOT APP_ROOT...
      key=value pairs, in KiB:
        slab        Slab of /proc/meminfo (the whole machine's kernel slab)
        sock_slab   the socket caches of /proc/slabinfo (TCP, request_sock_TCP,
                    tcp_bind*_bucket, sock_inode_cache, eventpoll_*; a
                    subset that parallel builds on the machine disturb less)
        tasd_rss    RSS of the tasd process under TASD_ROOT (0 if none)
        tasd_rmap   the part of tasd_rss that is its mapping of application
                    regions (smaps Rss of the /memfd:tasd-app-* mappings)
        regions     pages allocated in those regions' memfds (st_blocks of
                    /proc/<tasd>/fd/N: every page touched by tasd or the
                    application, counted once)
        app_anon    RssAnon of the processes under the APP_ROOTs (their heap:
                    the program's own, plus libtas's under tasd)
      Memory tasd costs = (tasd_rss - tasd_rmap) + regions + the growth of
      app_anon beyond what the same program grows on Linux.
"""
import json
import os
import sys
import time

SOCK_CACHES = ("TCP", "request_sock_TCP", "tcp_bind_bucket", "tcp_bind2_bucket",
               "sock_inode_cache", "eventpoll_epi", "eventpoll_pwq")


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots):
    kids, out, todo = children_map(), [], list(roots)
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def thread_runtimes():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            tids = os.listdir("/proc/%s/task" % d)
        except OSError:
            continue
        for t in tids:
            try:
                with open("/proc/%s/task/%s/schedstat" % (d, t)) as f:
                    out[int(t)] = (int(d), int(f.read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
    return out


def cpu_start(path):
    busy, idle = machine_ticks()
    t = time.monotonic()
    with open(path, "w") as f:
        json.dump({"t": t, "busy": busy, "idle": idle,
                   "threads": {str(k): v[1] for k, v in thread_runtimes().items()}}, f)


def cpu_end(path, roots, extra_ticks):
    busy, idle = machine_ticks()
    t = time.monotonic()
    now = thread_runtimes()
    with open(path) as f:
        s0 = json.load(f)
    before = s0["threads"]
    pids = set(tree(roots)) if roots else set()
    sched = procs = 0
    for tid, (pid, rt) in now.items():
        if pid == os.getpid():
            continue  # this sampler itself
        d = rt - before.get(str(tid), 0)
        if d < 0:  # a reused thread id
            d = rt
        sched += d
        if pid in pids:
            procs += d
    hz = os.sysconf("SC_CLK_TCK")
    wall = t - s0["t"]
    print("wall_s=%.3f procs_s=%.3f children_s=%.3f busy_s=%.3f sched_s=%.3f tick_s=%.3f" % (
        wall, procs / 1e9, extra_ticks / hz,
        max(0.0, os.cpu_count() * wall - (idle - s0["idle"]) / hz),
        sched / 1e9 + extra_ticks / hz, (busy - s0["busy"]) / hz))


def machine_ticks():
    """(busy ticks as sampled, idle + iowait ticks) from /proc/stat"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is in user)
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy, v[3] + v[4]


def meminfo_kb(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def sock_slab_kb():
    total = 0
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                w = line.split()
                if w and w[0] in SOCK_CACHES:
                    total += int(w[2]) * int(w[3])  # num_objs * objsize
    except OSError:
        return -1
    return total // 1024


def tasd_pid(root):
    for p in tree([root]):
        if comm(p) == "tasd":
            return p
    return 0


def region_kb(pid):
    rss = 0
    try:
        with open("/proc/%d/smaps" % pid) as f:
            inside = False
            for line in f:
                w = line.split()
                if not w:
                    continue
                if "-" in w[0] and len(w) >= 5:
                    inside = len(w) >= 6 and w[5].startswith("/memfd:tasd-app-")
                elif inside and w[0] == "Rss:":
                    rss += int(w[1])
    except OSError:
        pass
    blocks = 0
    seen = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        fds = []
    for fd in fds:
        path = "/proc/%d/fd/%s" % (pid, fd)
        try:
            if not os.readlink(path).startswith("/memfd:tasd-app-"):
                continue
            st = os.stat(path)
        except OSError:
            continue
        if st.st_ino in seen:
            continue
        seen.add(st.st_ino)
        blocks += st.st_blocks
    return rss, blocks // 2


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "cpu-start" and len(sys.argv) == 3:
        cpu_start(sys.argv[2])
    elif sys.argv[1] == "cpu-end" and len(sys.argv) >= 3:
        args, extra = sys.argv[3:], 0
        if "--extra-ticks" in args:
            i = args.index("--extra-ticks")
            extra = int(args[i + 1])
            del args[i:i + 2]
        cpu_end(sys.argv[2], [int(x) for x in args], extra)
    elif sys.argv[1] == "mem":
        tp = tasd_pid(int(sys.argv[2])) if int(sys.argv[2]) > 0 else 0
        apps = tree([int(x) for x in sys.argv[3:]])
        rmap, regions = region_kb(tp) if tp else (0, 0)
        print("slab=%d sock_slab=%d tasd_rss=%d tasd_rmap=%d regions=%d app_anon=%d" % (
            meminfo_kb("Slab"), sock_slab_kb(), status_kb(tp, "VmRSS") if tp else 0,
            rmap, regions, sum(status_kb(p, "RssAnon") for p in apps)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
