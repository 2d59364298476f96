#!/bin/bash
# t_forkpy.sh - Python servers that fork as real ones do, each echoing
# for a Linux client that checks every byte (fork_patterns.py,
# fork_client.py): socketserver.ForkingTCPServer with 30 clients at once;
# a prefork server whose 3 workers accept with EPOLLEXCLUSIVE on the
# inherited listener, SIGTERMed at the end, after which the port is free;
# fork + exec of /bin/true while another thread is blocked in recv() on a
# connection; and BGSAVE-style children forked while 20 clients keep
# sending.  After each, tasd must hold nothing of the program.
. "$(dirname "$0")/lib.sh"
tas_init t_forkpy
net_setup
PY=/usr/bin/python3
SRV=$SRCDIR/tests/integration/fork_patterns.py
CLI=$SRCDIR/tests/integration/fork_client.py

# idle: tasd has no application, connection (but TIME_WAIT), half-open
# connection or listener left, and received no bad entry (within 10 s).
idle() {
    [[ $TAS_TEST_MODE == tasd ]] || return 0
    local i
    for ((i = 0; i < 50; i++)); do
        tasctl stats --json >"$TMP/state.json" || return 1
        "$PY" - "$TMP/state.json" <<'PYEOF' && return 0
import json, sys
s = json.load(open(sys.argv[1]))["slowpath"]
c = s["counters"]
st = "apps=%d conns=%d time_wait=%d syn_rcvd=%d listeners=%d bad=%d" % (
    s["n_apps"], s["conns"], s["time_wait"], s["syn_rcvd"], s["listeners"],
    c["app_bad_msgs"] + c["app_bad_entries"] + c["fp_app_bad"])
print(st)
ok = (s["n_apps"] == 0 and s["conns"] == s["time_wait"] and s["syn_rcvd"] == 0
      and s["listeners"] == 0)
sys.exit(0 if ok else 1)
PYEOF
        sleep 0.2
    done
    tasctl flows | grep -v TIME_WAIT
    return 1
}

# pattern NAME PORT CONNS BYTES [CLIENT OPTIONS...]: the server in ns A,
# the client in ns B; both must exit 0; then tasd must be idle.
pattern() {
    local name=$1 port=$2 conns=$3 bytes=$4
    shift 4
    start_bg "$name" tasd -t 90 "$PY" "$SRV" "$name" "$port" "$conns"
    wait_ready "$name" || { fatal "$name server did not start"; }
    check "$name: $conns clients get back every byte they sent" \
        run_linux_peer -t 70 "$PY" "$CLI" "$SERVER_IP" "$port" "$conns" "$bytes" "$@"
    check "$name: the server and its children did what they should (exit 0)" \
        wait_bg "$name" 30
    grep -h "$name: ok" "${BG_LOG[$name]}" | sed 's/^/    /'
    check "$name: tasd holds nothing of it afterwards" idle
}

pattern forking 7101 30 200000
pattern prefork 7102 30 100000 2000
pattern threads 7103 4 300000 --go
pattern bgsave 7104 20 400000 4000 --pace 20
finish
