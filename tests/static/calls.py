#!/usr/bin/env python3
"""calls.py - circles of calls between the product's source files.

Reads the built objects with nm: a file calls another when it uses a
function (a text symbol) that the other defines.  Prints every set of
files that call each other round a loop (a strongly connected component
of more than one file) with the functions that tie them, and exits 1 if
there is one outside the folders named by --known (circles that an open
issue still has to break; they are printed, marked known).

  calls.py [--known DIR]... OBJECT...

An object's source file is its folder plus its name with automake's
per-target prefix (tasd_tasd-) and the .o taken off; a libtool object in
DIR/.libs/ counts as DIR/.
"""
import collections
import os
import subprocess
import sys


def source_of(obj):
    d, base = os.path.split(obj)
    if os.path.basename(d) == ".libs":
        d = os.path.dirname(d)
    name = base[:-2] if base.endswith(".o") else base
    if "-" in name:
        name = name.split("-", 1)[1]
    return os.path.join(d, name + ".c")


def read(objs):
    defs, uses = {}, collections.defaultdict(set)
    for o in objs:
        src = source_of(o)
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] == "T":
                defs[f[2]] = src
            elif len(f) == 2 and f[0] == "U":
                uses[src].add(f[1])
    edges = collections.defaultdict(lambda: collections.defaultdict(set))
    for src, names in uses.items():
        for n in names:
            if n in defs and defs[n] != src:
                edges[src][defs[n]].add(n)
    return edges


def circles(edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    nodes = set(edges) | {b for a in edges for b in edges[a]}
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main(argv):
    known, objs = [], []
    i = 0
    while i < len(argv):
        if argv[i] == "--known":
            known.append(argv[i + 1].rstrip("/") + "/")
            i += 2
        else:
            objs.append(argv[i])
            i += 1
    if not objs:
        print("calls.py: no objects", file=sys.stderr)
        return 2
    edges = read(objs)
    bad = 0
    for comp in circles(edges):
        is_known = all(any(f.startswith(k) for k in known) for f in comp)
        print("%s circle of %d files:" % ("known" if is_known else "NEW", len(comp)))
        for a in comp:
            for b in sorted(edges[a]):
                if b in comp:
                    print("  %s -> %s: %s" % (a, b, ", ".join(sorted(edges[a][b]))))
        if not is_known:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
