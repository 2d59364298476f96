#!/bin/bash
# t_tasctl.sh - tasctl against a running tasd: status exits 0, status /
# stats / flows --json are valid JSON, TAS_RUN_DIR works like --run-dir,
# flows lists live connections, stats count received packets and wake-ups
# after traffic, an idle tasd uses < 5% of a core, and tasd exits 0 on
# SIGTERM; tasctl apps shows the server with its connections and bytes,
# tasctl check tells a process on tasd from one without the shim, tasctl
# arp and routes show the peer's address and our subnet, tasctl flows
# filters by application, port and state, tasctl
# metrics is valid Prometheus text with the application's connections in it; against a fake control socket, a malformed JSON reply is an error
# (exit 1, said on stderr, nothing on stdout) and status --json reads
# "ready".  Needs tasd:
# skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_tasctl
tasd_only "tasctl needs tasd (TAS_TEST_MODE=$TAS_TEST_MODE)"
net_setup

# json_ok CMD: tasctl CMD --json prints one valid JSON document
json_ok() { tasctl "$1" --json >"$TMP/$1.json" && python3 -m json.tool "$TMP/$1.json" >/dev/null; }
# json_count FILE KEY: sum of every number under KEY anywhere in the document
json_sum() {
    python3 - "$1" "$2" <<'PY'
import json, sys
def walk(v, key):
    if isinstance(v, dict):
        return sum((x if k == key and isinstance(x, (int, float)) else 0) + walk(x, key)
                   for k, x in v.items())
    if isinstance(v, list):
        return sum(walk(x, key) for x in v)
    return 0
print(int(walk(json.load(open(sys.argv[1])), sys.argv[2])))
PY
}
# json_strings_with FILE TEXT: how many string values contain TEXT
json_strings_with() {
    python3 - "$1" "$2" <<'PY'
import json, sys
def walk(v, t):
    if isinstance(v, dict):
        return sum(walk(x, t) for x in v.values())
    if isinstance(v, list):
        return sum(walk(x, t) for x in v)
    return 1 if isinstance(v, str) and t in v else 0
print(walk(json.load(open(sys.argv[1])), sys.argv[2]))
PY
}

# cpu_ticks PID: user + system clock ticks of a process (all its threads)
cpu_ticks() {
    local a
    read -r -a a < <(sed 's/.*) //' "/proc/$1/stat")
    echo $((a[11] + a[12]))
}
check "tasctl status exits 0" tasctl status
# Adaptive polling: an idle tasd uses less than 5% of a core.
tasd_pid=$(awk '{print $1}' "/proc/$TASD_PID/task/$TASD_PID/children" 2>/dev/null)
if [[ -n $tasd_pid && -r /proc/$tasd_pid/stat ]]; then
    hz=$(getconf CLK_TCK)
    t0=$(cpu_ticks "$tasd_pid")
    sleep 5
    t1=$(cpu_ticks "$tasd_pid")
    pct=$(((t1 - t0) * 100 / (5 * hz)))
    check "idle tasd uses < 5% of a core (used ${pct}% over 5 s)" test "$pct" -lt 5
else
    check "found tasd's process to measure its idle CPU use" false
fi
check "TAS_RUN_DIR works like --run-dir" env TAS_RUN_DIR="$RUN_DIR" timeout 10 "$TASCTL" status
for c in status stats flows; do
    check "tasctl $c --json is valid JSON" json_ok "$c"
done
check "tasctl stats prints a human-readable table" bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' stats | grep -q ."

start_bg server tasd -t 120 "$BIN/echo_server" --port 7000 --max-conns 3 --timeout 100
wait_ready server || fatal "echo server did not start"
start_bg client peer -t 60 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 3 --msgs 100 --size 64 --hold 4 --timeout 50
sleep 2 # the client holds its 3 connections open for 4 s after its messages
check "tasctl flows --json while 3 connections are open" json_ok flows
n=$(json_strings_with "$TMP/flows.json" "$PEER_IP" 2>/dev/null || echo 0)
check "flows lists the 3 connections from $PEER_IP (found $n)" test "${n:-0}" -ge 3
# tasctl apps: the server's row (command, connections, bytes both ways);
# tasctl check: the server is on tasd, a process without the shim is not
check "tasctl apps: echo_server with 3 connections and >= 19200 bytes each way" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' apps | tee '$TMP/apps.txt' |
        awk '\$2 == \"echo_server\" && \$5 == 3 && \$7 >= 19200 && \$8 >= 19200 && \$10 == \"up\" { ok = 1 }
             END { exit !ok }'" || sed 's/^/    | /' "$TMP/apps.txt"
check "tasctl apps --json is valid JSON with the server's command" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' apps --json |
        /usr/bin/python3 -c 'import json, sys; a = json.load(sys.stdin)[\"apps\"]; sys.exit(not any(x[\"command\"] == \"echo_server\" for x in a))'"
spid=$(awk '$2 == "echo_server" { print $1 }' "$TMP/apps.txt")
check "tasctl check PID of the server: on tasd, exit 0" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' check '${spid:-0}' | grep -q 'is on tasd'"
sleep 30 &
plain=$!
timeout 10 "$TASCTL" --run-dir "$RUN_DIR" check "$plain" >"$TMP/check.txt"
check_eq "tasctl check PID of a process without the shim exits 1" "$?" 1
check "... saying it was not started with the shim" grep -q "not started with the shim" "$TMP/check.txt"
kill "$plain"
wait "$plain" 2>/dev/null
# tasctl flows with filters: the server's 3 connections by its pid, by its
# command, by port and state; none for another port or state
nflows() { timeout 10 "$TASCTL" --run-dir "$RUN_DIR" flows "$@" --json |
    /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d["flows"]), len(d["listeners"]))'; }
check_eq "flows --app PID: the server's 3 connections and its listener" "$(nflows --app "${spid:-0}")" "3 1"
check_eq "flows --app echo_server: the same" "$(nflows --app echo_server)" "3 1"
check_eq "flows --port 7000 --state ESTABLISHED: the 3 connections" \
    "$(nflows --port 7000 --state ESTABLISHED)" "3 0"
check_eq "flows --state LISTEN: the listener only" "$(nflows --state LISTEN)" "0 1"
check_eq "flows --port 7999: nothing" "$(nflows --port 7999)" "0 0"
check "flows --app echo_server prints a table with the server's pid" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' flows --app echo_server | grep -c ' ${spid:-0}\$' | grep -qx 4"
timeout 10 "$TASCTL" --run-dir "$RUN_DIR" stats --port 7000 >/dev/null 2>&1
check_eq "a filter on another request is a usage error (exit 2)" "$?" 2
# tasctl arp / routes: the peer's MAC as the peer's veth has it, our subnet
peer_mac=$(ip netns exec "$NS_B" cat "/sys/class/net/$VETH_B/address")
check "tasctl arp lists $PEER_IP at $peer_mac" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' arp | grep -Eq '^$PEER_IP +$peer_mac +'"
check "tasctl arp --json is valid JSON" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' arp --json | /usr/bin/python3 -m json.tool >/dev/null"
subnet=$(/usr/bin/python3 -c "import ipaddress; print(ipaddress.ip_interface('$SERVER_IP/$NET_PREFIX').network)")
check "tasctl routes shows $subnet directly connected" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' routes | grep -Eq '^$subnet +\(directly connected\)'"
check "tasctl routes --json names it with no gateway" \
    bash -c "timeout 10 '$TASCTL' --run-dir '$RUN_DIR' routes --json |
        /usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin)[\"routes\"]; sys.exit(not any(x[\"dest\"] == \"$subnet\" and x[\"gateway\"] is None for x in r))'"
# Prometheus text exposition of the same statistics
check "tasctl metrics exits 0" bash -c "tasctl() { timeout 10 '$TASCTL' --run-dir '$RUN_DIR' \"\$@\"; }; tasctl metrics >'$TMP/metrics.txt'"
check "tasctl metrics is valid Prometheus text (HELP, TYPE, names, labels, values)" \
    /usr/bin/python3 "$TAS_LIB_DIR/prom_check.py" "$TMP/metrics.txt"
if command -v promtool >/dev/null; then
    check "promtool check metrics accepts it" bash -c "promtool check metrics <'$TMP/metrics.txt'"
fi
check "metrics: the application's 3 connections, per core rx, the port's link" \
    bash -c "grep -Eq '^tasd_app_conns\{app=\"[0-9]+\",pid=\"[0-9]+\",uid=\"0\"\} 3$' '$TMP/metrics.txt' &&
        grep -Eq '^tasd_fastpath_rx_pkts_total\{core=\"0\"\} [1-9]' '$TMP/metrics.txt' &&
        grep -Eq '^tasd_port_link_up\{port=\"0\"\} 1$' '$TMP/metrics.txt' &&
        grep -Eq '^tasd_slowpath_conns 3$' '$TMP/metrics.txt'"
check "echo client verified its connections" wait_bg client 30
check "echo server ended cleanly" wait_bg server 30

check "tasctl stats --json after traffic" json_ok stats
rx=$(json_sum "$TMP/stats.json" rx_pkts 2>/dev/null || echo 0)
check "stats show rx_pkts > 0 after traffic (rx_pkts = $rx)" test "${rx:-0}" -gt 0
# Wake-ups: the echo server slept in accept() through the 5 idle seconds and
# in read() through the client's 4-s hold, so tasd woke it at least for the
# connections and for their end; the core, idle for seconds, slept, and
# woke the slow path for the SYNs (unless the slow path runs on the core's
# thread, status "sp_thread": "shared": then core 0 never writes its
# eventfd; other cores do).
apk=$(json_sum "$TMP/stats.json" app_kicks 2>/dev/null || echo 0)
spk=$(json_sum "$TMP/stats.json" sp_kicks 2>/dev/null || echo 0)
slp=$(json_sum "$TMP/stats.json" idle_sleeps 2>/dev/null || echo 0)
spt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sp_thread"])' \
    "$TMP/status.json" 2>/dev/null)
check "stats count >= 2 application wake-ups (app_kicks = $apk)" test "${apk:-0}" -ge 2
if [[ $spt == shared ]]; then
    spk0=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["fastpath"]["cores"][0]["sp_kicks"])' "$TMP/stats.json")
    check "slow path on core 0's thread: that core wrote no eventfd (sp_kicks = $spk0)" \
        test "${spk0:-1}" -eq 0
else
    check "stats count slow-path wake-ups by the core (sp_kicks = $spk, sp_thread $spt)" \
        test "${spk:-0}" -ge 1 -a "$spt" = own
fi
check "stats count the idle core's sleeps (idle_sleeps = $slp)" test "${slp:-0}" -ge 1
check "stats name the slow path's core wake-ups (fp_kicks)" grep -q '"fp_kicks"' "$TMP/stats.json"
check "stats show the port's mbufs, in use <= total, after traffic" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["port"]
sys.exit(0 if p["mbufs"] > 0 and 0 <= p["mbufs_in_use"] <= p["mbufs"] else 1)' "$TMP/stats.json"

stop_tasd
rc=$?
check_eq "tasd exits 0 on SIGTERM" "$rc" 0

# fake_reply NAME REPLY CMD: tasctl CMD --json against a control socket that
# answers REPLY (Python escapes); exit status 1 if tasctl exited 0.
# $TMP/fake.NAME.{out,err} keep what tasctl printed.
fake_reply() {
    local dir=$TMP/fake.$1 rc=0
    mkdir -p "$dir"
    timeout 10 python3 - "$dir/control.sock" "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
c.recv(128)
c.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
c.close()
PY
    local fake=$!
    for _ in $(seq 50); do [[ -S $dir/control.sock ]] && break; sleep 0.1; done
    timeout 10 "$TASCTL" --run-dir "$dir" "$3" --json >"$TMP/fake.$1.out" \
        2>"$TMP/fake.$1.err" || rc=$?
    wait "$fake"
    return "$rc"
}
# malformed NAME REPLY: tasctl stats --json fails on REPLY, says why, prints nothing.
malformed() {
    ! fake_reply "$1" "$2" stats && grep -q "malformed" "$TMP/fake.$1.err" &&
        [[ ! -s $TMP/fake.$1.out ]]
}
# fails NAME REPLY CMD [STDERR_TEXT]: tasctl CMD --json exits nonzero on REPLY
# (and says STDERR_TEXT).
fails() {
    ! fake_reply "$1" "$2" "$3" && { [[ -z ${4:-} ]] || grep -qF -- "$4" "$TMP/fake.$1.err"; }
}
# prints NAME REPLY CMD TEXT: tasctl CMD --json exits 0 and prints TEXT.
prints() { fake_reply "$1" "$2" "$3" && grep -qF -- "$4" "$TMP/fake.$1.out"; }
check "a cut-off JSON reply is an error" malformed cut '{"cores": [1, 2'
check "a reply that is not JSON is an error" malformed text 'cores: 1\n'
check "text after the JSON document is an error" malformed trailing '{"a": 1} {"b": 2}'
check "a JSON array is an error (tasd answers objects)" malformed array '[1, 2]\n'
check "a well-formed JSON reply is printed, exit 0" prints ok '{"a": 1}\n' stats '"a": 1'
check "status --json exits 0 on \"ready\": true" prints ready '{ "ready":true }\n' status ready
check "status --json exits 1 on \"ready\": false" fails notready '{"ready": false}\n' status
check "status --json without a boolean \"ready\" is an error" \
    fails noready '{"ready": "yes"}\n' status '"ready"'
check "a JSON error reply exits 1" fails err '{"error": "bad request"}\n' stats
finish
