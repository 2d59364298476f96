#!/bin/bash
# t_thctx.sh - a multi-threaded server gives each thread its own context
# (libtas/core/qctx.c, issue 10): thread_server runs 4 worker threads, each
# with its own SO_REUSEPORT listener and epoll set, after 30 threads that
# each made a socket and exited one after the other.  A Linux client opens
# 64 connections at once and echoes 4 x 1 KiB on each, checked byte for
# byte; the connections stay open a moment, and tasd shows:
#   - the application with exactly 4 contexts (the 30 short-lived threads
#     left theirs to the next one, the workers took one each);
#   - the connections spread over at least 3 of those contexts (the one
#     whose listener took each; SO_REUSEPORT spreads them);
# then every connection closes cleanly and the server ends without an
# error.  TAS_TEST_MODE=linux runs the same echo, without the tasd checks.
. "$(dirname "$0")/lib.sh"
tas_init t_thctx "$BIN/thread_server"
net_setup

PORT=7300
N=64
start_bg srv tasd -t 90 "$BIN/thread_server" --port "$PORT" --threads 4 --churn 30 \
    --total "$N" --timeout 80
wait_ready srv || fatal "thread_server did not start"
spid=$(sed -n 's/^READY pid=//p' "${BG_LOG[srv]}")
start_bg cli peer -t 60 "$BIN/echo_client" --addr "$SERVER_IP" --port "$PORT" \
    --conns "$N" --msgs 4 --size 1024 --barrier --hold 3 --timeout 50

if [[ $TAS_TEST_MODE == tasd ]]; then
    # Wait until all N are established, then read the views once.
    out=
    for ((i = 0; i < 100; i++)); do
        tasctl stats --json >"$TMP/stats.json" 2>/dev/null &&
            tasctl flows --json >"$TMP/flows.json" 2>/dev/null &&
            out=$(python3 - "$TMP/stats.json" "$TMP/flows.json" "$spid" "$PORT" <<'PY'
import json, sys
def find(d, key):
    if isinstance(d, dict):
        if isinstance(d.get(key), list):
            return d[key]
        d = list(d.values())
    if isinstance(d, list):
        for v in d:
            r = find(v, key)
            if r is not None:
                return r
    return None
stats, flows = (json.load(open(p)) for p in sys.argv[1:3])
pid, port = int(sys.argv[3]), sys.argv[4]
app = [a for a in find(stats, "apps") or [] if a["pid"] == pid]
if len(app) != 1:
    sys.exit(1)
mine = [f for f in find(flows, "flows") or []
        if f.get("app") == app[0]["id"] and str(f.get("local", "")).endswith(":" + port)
        and f.get("state") == "ESTABLISHED"]
print(app[0]["contexts"], len(mine), len({f.get("ctx") for f in mine}))
PY
) && [[ ${out#* } == "$N "* ]] && break
        sleep 0.1
    done
    read -r n_ctx n_est n_used <<<"${out:-0 0 0}"
    echo "    thread_server: $n_ctx contexts; $n_est connections established, on $n_used contexts"
    check_eq "the application holds 4 contexts (30 exited threads left theirs)" "$n_ctx" 4
    check_eq "all $N connections established" "$n_est" "$N"
    check "the connections are spread over at least 3 threads' contexts ($n_used)" \
        test "$n_used" -ge 3
fi
check "$N connections echoed 4 x 1 KiB each, byte for byte, and closed cleanly" wait_bg cli 60
check "thread_server: all $N connections served, no error" wait_bg srv 20
show_bg_log srv
finish
