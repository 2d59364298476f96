#!/bin/bash
# t_policy.sh - policy at run time (slowpath/policy.c, tasctl policy):
#   - tasd.conf's policy section (port 7500 max_conns 2) is in force from
#     the start: a third connection to the port is refused (ECONNREFUSED),
#     counted in the rule; tasctl policy set raises the limit live;
#   - bad requests are refused with the reason (exit 1), a clear of no rule
#     says so;
#   - SIGHUP (systemctl reload) reads the file's policy again;
#   - a cap of 100 Mbit/s on an application (iperf3 -P 2, by its pid, set
#     as soon as it registered) holds within 5% over the 10 s from 2 s to
#     12 s as the sum of its two flows, while another
#     application's transfer at the same time is not held to it;
#   - a cap set on a running iperf3 (by command name) applies within one
#     second, without a reset;
#   - a user's congestion control (uid 0 cc cubic) reaches a live flow.
# Rate caps count Ethernet frames, as Linux's pacing does: the goodput
# iperf3 reports is the cap times 1448/1514 (payload of a full segment
# with timestamps / its frame).
. "$(dirname "$0")/lib.sh"
tas_init t_policy
tasd_only "the policy is tasd's"
command -v iperf3 >/dev/null 2>&1 || fatal "iperf3 is not installed (run .ci/deps)"
net_create
PY=/usr/bin/python3
GOODPUT=0.9564 # 1448 / 1514

cat >"$TMP/tasd.conf" <<'CONF'
policy = ( { port = 7500; max_conns = 2; } );
CONF
start_tasd --add --config "$TMP/tasd.conf" || fatal "tasd did not start"
tasctl policy get | sed 's/^/    /'
check_eq "the file's rule is in force" \
    "$(tasctl policy get --json | $PY -c 'import json,sys; r=json.load(sys.stdin)["rules"]; print(len(r), r[0]["target"], r[0]["key"], r[0]["max_conns"])')" \
    "1 port 7500 2"

# try_connect PORT: what connect() from the peer answers ("ok" or errno).
try_connect() { echo_probe peer "$SERVER_IP" "$1" 10; }

start_bg srv tasd -t 120 "$BIN/echo_server" --port 7500 --max-conns 20 --timeout 110
wait_ready srv || fatal "echo server did not start"
start_bg hold peer -t 60 "$PY" "$SRCDIR/tests/integration/hold_conns.py" "$SERVER_IP" 7500 2 50
wait_ready hold || fatal "two connections were not made"
check_eq "max_conns 2: a third connection to port 7500 is refused" "$(try_connect 7500)" \
    ECONNREFUSED
check_eq "the rule counted the refusal" \
    "$(tasctl policy get --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["rules"][0]["refused"])')" 1
check "tasctl policy set port 7500 max-conns 3" tasctl policy set port 7500 max-conns 3
check_eq "with max-conns 3 the third connection is served" "$(try_connect 7500)" ok
stop_bg hold

# Requests tasd refuses, with the reason.
bad() {
    local out rc
    out=$(tasctl policy "$@" 2>&1)
    rc=$?
    echo "    tasctl policy $*: $out (exit $rc)"
    [[ $rc == 1 && -n $out ]]
}
check "an unknown algorithm is refused" bad set app 1 cc bbr
check "a rate of 0 is refused" bad set uid 0 rate 0
check "an unknown setting is refused" bad set port 80 speed 3
check "an unknown target is refused" bad set host 1 rate 3
check "clear of a target without a rule says so" bad clear app 4242
check "tasctl policy set app 7 cc timely" tasctl policy set app 7 cc timely
check "... and clear app 7" tasctl policy clear app 7

# SIGHUP: the file again.
cat >"$TMP/tasd.conf" <<'CONF'
policy = ( { port = 7501; max_conns = 1; }, { app = "nosuchprog"; rate_mbps = 5; } );
CONF
tpid=$(tasctl status --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
kill -HUP "$tpid"
for ((i = 0; i < 50; i++)); do
    [[ $(sp_stat counters.policy_reloads) -ge 1 ]] && break
    sleep 0.1
done
tasctl policy get | sed 's/^/    /'
check_eq "SIGHUP: the file's new policy replaced the old one" \
    "$(tasctl policy get --json | $PY -c 'import json,sys; print(" ".join(r["target"]+":"+r["key"] for r in json.load(sys.stdin)["rules"]))')" \
    "port:7501 app:nosuchprog"
echo 'policy = ( { port = 0; } );' >"$TMP/tasd.conf"
kill -HUP "$tpid"
sleep 1
check "SIGHUP with a bad file: tasd says so and keeps the policy" \
    grep -q "the policy in force stays" "$TMP/tasd.log"
check_eq "... the rules are still two" \
    "$(tasctl policy get --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')" 2
stop_bg srv

# ---- a cap on one application, another not held to it ------------------
# iperf3_avg FILE FROM: the mean of iperf3's 0.5 s intervals (all its
# streams together) from FROM seconds on, Mbit/s.  (The first ones are
# before the cap was set.)
iperf_avg() {
    $PY -c '
import json, sys
iv = [i["sum"] for i in json.load(open(sys.argv[1]))["intervals"]
      if i["sum"]["start"] >= float(sys.argv[2]) - 0.01]
print("%.1f" % (sum(i["bytes"] for i in iv) * 8 / sum(i["seconds"] for i in iv) / 1e6))' "$1" "$2"
}
start_bg ips1 peer -t 60 iperf3 -s -1 -p 5301
start_bg ips2 peer -t 60 iperf3 -s -1 -p 5302
sleep 0.5
start_bg -o "$TMP/ip1.json" ipc1 tasd -t 40 iperf3 -c "$PEER_IP" -p 5301 -t 12 -P 2 -i 0.5 --json
pid=
for ((i = 0; i < 50 && ${#pid} == 0; i++)); do
    pid=$(tasctl apps --json | $PY -c '
import json, sys
for a in json.load(sys.stdin).get("apps", []):
    if a.get("command") == "iperf3": print(a["pid"]); break')
    [[ -z $pid ]] && sleep 0.1
done
[[ -n $pid ]] || fatal "iperf3 did not register with tasd"
check "tasctl policy set app $pid rate 100" tasctl policy set app "$pid" rate 100
make_data "$TMP/data" 100
start_bg -o "$TMP/rx.out" rx peer -t 60 "$BIN/tcp_recv" --listen --port 5303
wait_ready rx || fatal "receiver did not start"
sleep 1
start_bg -i "$TMP/data" tx tasd -t 60 "$BIN/tcp_send" --addr "$PEER_IP" --port 5303
check "iperf3 (capped) ran to the end" wait_bg ipc1 40
check "the other application's 100 MB transfer ended" wait_bg tx 60
check "... and was received" wait_bg rx 30
grep -h sent "${BG_LOG[tx]}" | sed 's/^/    other application: /'
avg=$(iperf_avg "$TMP/ip1.json" 2)
want=$($PY -c "print('%.1f' % (100 * $GOODPUT))")
echo "    iperf3 -P 2 under a 100 Mbit/s cap: $avg Mbit/s from 2 s to 12 s (the cap's goodput: $want)"
check "the capped application's two flows together stay within 5% of the cap" \
    $PY -c "import sys; sys.exit(0 if abs($avg - $want) <= 0.05 * $want else 1)"
other=$(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "${BG_LOG[tx]}" | head -1)
check "the other application was not held to the cap (${other:-?} MB/s)" \
    $PY -c "import sys; sys.exit(0 if ${other:-0} * 8 > 1.5 * 100 else 1)"
stop_bg ips1
stop_bg ips2
check "tasctl policy clear app $pid" tasctl policy clear app "$pid"

# ---- a cap on a running iperf3 within one second -------------------------
start_bg ips3 peer -t 60 iperf3 -s -1 -p 5304
sleep 0.5
t_launch=$(date +%s.%N)
start_bg -o "$TMP/ip3.json" ipc3 tasd -t 40 iperf3 -c "$PEER_IP" -p 5304 -t 8 -i 0.5 --json
sleep 3
t_change=$(date +%s.%N)
check "tasctl policy set app iperf3 rate 50 (running)" tasctl policy set app iperf3 rate 50
check "iperf3 ran to the end (no reset)" wait_bg ipc3 40
stop_bg ips3
check "every interval from 1 s after the change is within the new cap" $PY - "$TMP/ip3.json" \
    "$t_launch" "$t_change" "$GOODPUT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
change = float(sys.argv[3]) - float(sys.argv[2])  # seconds after launch
cap = 50 * float(sys.argv[4])
before, after = [], []
for iv in d["intervals"]:
    s = iv["sum"]
    mbps = s["bits_per_second"] / 1e6
    # iperf3's clock starts after the launch: an interval starting at
    # s["start"] began no earlier than that after the launch.
    if s["start"] >= change + 1.0:
        after.append(mbps)
    elif s["end"] <= change:
        before.append(mbps)
print("    before: %s" % " ".join("%.0f" % x for x in before))
print("    from 1 s after the change: %s" % " ".join("%.0f" % x for x in after))
ok = after and all(x <= cap * 1.05 for x in after) and before and max(before) > 2 * cap
sys.exit(0 if ok else 1)
PY
check "tasctl policy clear app iperf3" tasctl policy clear app iperf3

# ---- a user's congestion control reaches a live flow ----------------------
start_bg ips5 peer -t 60 iperf3 -s -1 -p 5305
sleep 0.5
start_bg -o "$TMP/ip5.json" ipc5 tasd -t 30 iperf3 -c "$PEER_IP" -p 5305 -t 3 --json
sleep 1.5
check "tasctl policy set uid 0 cc cubic" tasctl policy set uid 0 cc cubic
sleep 0.2
seen=$(tasctl flows --json | $PY -c '
import json, sys
print(" ".join(sorted(set(f["cc"] or "-" for f in json.load(sys.stdin)["flows"]
                          if f["remote"].endswith(":5305")))))')
check "iperf3 ran to the end (no reset)" wait_bg ipc5 30
stop_bg ips5
check_eq "its live flows run the user's algorithm now" "$seen" cubic
check "tasctl policy clear uid 0" tasctl policy clear uid 0
finish
