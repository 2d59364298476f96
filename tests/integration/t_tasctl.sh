#!/bin/bash
# t_tasctl.sh - tasctl against a running tasd: status exits 0, status /
# stats / flows --json are valid JSON, TAS_RUN_DIR works like --run-dir,
# flows lists live connections, stats count received packets after traffic,
# an idle tasd uses < 5% of a core, and tasd exits 0 on SIGTERM.  Needs
# tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_tasctl
if [[ $TAS_TEST_MODE != tasd ]]; then
    echo "SKIP: tasctl needs tasd (TAS_TEST_MODE=$TAS_TEST_MODE)"
    exit 77
fi
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
check "echo client verified its connections" wait_bg client 30
check "echo server ended cleanly" wait_bg server 30

check "tasctl stats --json after traffic" json_ok stats
rx=$(json_sum "$TMP/stats.json" rx_pkts 2>/dev/null || echo 0)
check "stats show rx_pkts > 0 after traffic (rx_pkts = $rx)" test "${rx:-0}" -gt 0

stop_tasd
rc=$?
check_eq "tasd exits 0 on SIGTERM" "$rc" 0
finish
