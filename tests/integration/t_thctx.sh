#!/bin/bash
# t_thctx.sh - a multi-threaded server gives each thread its own context
# (libtas/core/qctx.c, issue 10): thread_server runs 4 worker threads, each
# with its own SO_REUSEPORT listener and epoll set, after 30 threads that
# each made a socket and exited one after the other while the main thread
# held a socket.  A Linux client opens 64 connections at once and echoes
# 4 x 1 KiB on each, checked byte for byte; the connections stay open a
# moment, and tasd shows:
#   - 30 contexts given back (ctx_given_back: each short-lived thread got
#     one of its own and gave it back as it exited);
#   - the application with exactly 5 contexts (the main thread's and one
#     per worker);
#   - the connections spread over at least 3 of those contexts (the one
#     whose listener took each; SO_REUSEPORT spreads them);
# then every connection closes cleanly and the server ends without an
# error.  Then the same with --dispatch (memcached's shape): the main thread
# accepts every connection and hands it to a worker through a pipe; each
# connection moves to its worker's context when the worker adds it to its
# epoll set (libtas/core/attach.c), so none stays on the dispatcher's and
# they spread over the 4 workers'.  Then the 4 workers again with
# TAS_THREAD_CTX=0: one shared context, and tasctl stats shows the library's
# wake-ups of one thread by another.  TAS_TEST_MODE=linux runs the same
# echoes, without the tasd checks.
. "$(dirname "$0")/lib.sh"
tas_init t_thctx "$BIN/thread_server"
net_setup

N=64

# views PID PORT CTX: "contexts established contexts-used on-context-0
# lib-wakes" of the application PID and its established connections on
# PORT (lib-wakes: its threads' wake-ups of one another), once it has
# CTX contexts and all N are established, none left on context 0 when CTX
# is 5 (the workers take them over as they get them; retries for up to
# 10 s); the last reading if never.
views() {
    local out i a b d
    for ((i = 0; i < 100; i++)); do
        tasctl stats --json >"$TMP/stats.json" 2>/dev/null &&
            tasctl flows --json >"$TMP/flows.json" 2>/dev/null &&
            out=$(python3 - "$TMP/stats.json" "$TMP/flows.json" "$1" "$2" <<'PY'
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
print(app[0]["contexts"], len(mine), len({f.get("ctx") for f in mine}),
      sum(1 for f in mine if f.get("ctx") == 0), app[0].get("lib_wakes", -1))
PY
) && read -r a b _ d _ <<<"$out" && [[ $a == "$3" && $b == "$N" ]] &&
            { [[ $3 != 5 ]] || [[ $d == 0 ]]; } && break
        sleep 0.1
    done
    echo "${out:-0 0 0 0 -1}"
}

# run_case NAME PORT CTX SERVER-OPTIONS...: thread_server with 4 workers
# and the options (and the environment variable CASE_ENV, VAR=VALUE, if set), N connections from the Linux side; sets n_ctx n_est
# n_used n_0 n_wakes (views with CTX).
run_case() {
    local name=$1 port=$2 want=$3
    shift 3
    local pre=()
    [[ -n ${CASE_ENV:-} ]] && pre=(env "$CASE_ENV")
    start_bg "srv_$name" tasd -t 90 "${pre[@]}" "$BIN/thread_server" --port "$port" \
        --threads 4 --total "$N" --timeout 80 "$@"
    wait_ready "srv_$name" || fatal "thread_server ($name) did not start"
    local spid
    spid=$(sed -n 's/^READY pid=//p' "${BG_LOG[srv_$name]}")
    start_bg "cli_$name" peer -t 60 "$BIN/echo_client" --addr "$SERVER_IP" --port "$port" \
        --conns "$N" --msgs 4 --size 1024 --barrier --hold 3 --timeout 50
    n_ctx=0 n_est=0 n_used=0 n_0=0 n_wakes=-1
    if [[ $TAS_TEST_MODE == tasd ]]; then
        read -r n_ctx n_est n_used n_0 n_wakes <<<"$(views "$spid" "$port" "$want")"
        echo "    $name: $n_ctx contexts; $n_est connections established, on $n_used" \
            "contexts, $n_0 on the first thread's; $n_wakes wake-ups between threads"
    fi
}

end_case() {
    check "$1: $N connections echoed 4 x 1 KiB each, byte for byte, and closed cleanly" \
        wait_bg "cli_$1" 60
    check "$1: thread_server served all $N connections, no error" wait_bg "srv_$1" 20
    show_bg_log "srv_$1"
}

# ---- a listener per thread (SO_REUSEPORT), after 30 short-lived threads
[[ $TAS_TEST_MODE == tasd ]] && given0=$(sp_stat counters.ctx_given_back)
run_case reuseport 7300 5 --churn 30 --main-socket
if [[ $TAS_TEST_MODE == tasd ]]; then
    given=$(($(sp_stat counters.ctx_given_back) - given0))
    check_eq "the 30 short-lived threads gave their contexts back" "$given" 30
    check_eq "the application holds 5 contexts (the main thread's, the 4 workers')" \
        "$n_ctx" 5
    check_eq "all $N connections established" "$n_est" "$N"
    check "the connections are spread over at least 3 threads' contexts ($n_used)" \
        test "$n_used" -ge 3
fi
end_case reuseport

# ---- one thread accepts, workers serve (memcached's shape)
run_case dispatch 7301 5 --dispatch
if [[ $TAS_TEST_MODE == tasd ]]; then
    check_eq "dispatch: the application holds 5 contexts (dispatcher and 4 workers)" \
        "$n_ctx" 5
    check_eq "dispatch: all $N connections established" "$n_est" "$N"
    check_eq "dispatch: no connection stayed on the dispatcher's context" "$n_0" 0
    check "dispatch: the connections moved to at least 3 workers' contexts ($n_used)" \
        test "$n_used" -ge 3
fi
end_case dispatch

# ---- the same 4 workers sharing one context (TAS_THREAD_CTX=0): one
# thread at a time sleeps on it and wakes the others for their connections,
# and tasctl stats counts those wake-ups (lib_wakes) as the library does
CASE_ENV=TAS_THREAD_CTX=0 run_case shared 7302 1
if [[ $TAS_TEST_MODE == tasd ]]; then
    check_eq "shared: the application holds 1 context" "$n_ctx" 1
    check_eq "shared: all $N connections established" "$n_est" "$N"
    check "shared: tasctl stats counts the threads' wake-ups of one another ($n_wakes)" \
        test "$n_wakes" -gt 0
fi
end_case shared

# ---- 40 short-lived threads one after the other, each a client that
# connects to a Linux echo server, echoes 1 KiB and closes, then exits: each
# gives its context back although its connection is still closing in tasd
# (those go on the first context; the fast path sends their news there),
# and every connection ends cleanly on both sides
if [[ $TAS_TEST_MODE == tasd ]]; then
    start_bg churn_echo peer -t 60 "$BIN/echo_server" --port 7303 --max-conns 40 --timeout 50
    wait_ready churn_echo || fatal "echo_server (peer) did not start"
    given0=$(sp_stat counters.ctx_given_back)
    free0=$(sp_stat flows_free)
    check "churn: 40 client threads each echoed 1 KiB with the Linux peer and closed" \
        run_under_tasd -t 60 "$BIN/thread_server" --port 7304 --threads 0 \
        --churn 40 --churn-peer "$PEER_IP:7303" --main-socket --timeout 50
    given=$(($(sp_stat counters.ctx_given_back) - given0))
    check_eq "churn: the 40 client threads gave their contexts back" "$given" 40
    check "churn: the Linux echo server saw all 40 connections end cleanly" \
        wait_bg churn_echo 30
    check_eq "churn: every connection is gone from tasd, every flow id free again" \
        "$(flows_free_now "$free0")" "$free0"
fi
finish
