#!/usr/bin/python3
"""prom_check.py FILE - is FILE valid Prometheus text exposition (0.0.4)?

Checks what a scraper and promtool insist on: every sample belongs to a
family whose HELP and TYPE lines came first (once each), metric and label
names are valid, label values are quoted and escaped, values are numbers,
no series repeats, and a counter's name ends in _total.  Prints each
problem and exits 1, or prints the number of families and samples and
exits 0."""
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def labels(text):
    out, pos = [], 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if m is None:
            return None
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return tuple(out)


def main(path):
    bad, helps, types, seen, n = [], {}, {}, set(), 0
    for i, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.match(name):
                    bad.append(f"{i}: bad metric name {name!r}")
                table = helps if parts[1] == "HELP" else types
                if name in table:
                    bad.append(f"{i}: second {parts[1]} for {name}")
                table[name] = parts[3] if len(parts) > 3 else ""
                if parts[1] == "TYPE" and table[name] not in TYPES:
                    bad.append(f"{i}: unknown type {table[name]!r}")
                if parts[1] == "TYPE" and table[name] == "counter" and not name.endswith("_total"):
                    bad.append(f"{i}: counter {name} does not end in _total")
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$", line)
        if m is None:
            bad.append(f"{i}: not a sample: {line!r}")
            continue
        name, lab, value = m.group(1), m.group(3) or "", m.group(4)
        if name not in types or name not in helps:
            bad.append(f"{i}: {name} has no HELP and TYPE before it")
        ls = labels(lab)
        if ls is None:
            bad.append(f"{i}: bad labels {lab!r}")
        try:
            float(value)
        except ValueError:
            bad.append(f"{i}: value {value!r} is not a number")
        key = (name, ls)
        if key in seen:
            bad.append(f"{i}: series repeated: {name}{{{lab}}}")
        seen.add(key)
        n += 1
    for b in bad[:50]:
        print("prom_check:", b)
    if bad:
        return 1
    print(f"prom_check: {len(types)} families, {n} samples")
    return 0 if n > 0 else 1


sys.exit(main(sys.argv[1]))
