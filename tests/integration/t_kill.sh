#!/bin/bash
# t_kill.sh - an application under tasd killed with SIGKILL: tasd resets
# its connections (the Linux peer sees ECONNRESET) and frees it (it is gone
# from `tasctl stats --json` within 1 s), while another application's
# 30 MB transfer running at the same time completes byte for byte.
. "$(dirname "$0")/lib.sh"
tas_init t_kill
# On Linux the kernel closes a killed process's sockets with FIN, not
# RST: the reset and tasctl checks are tasd's contract.
tasd_only "t_kill checks tasd's handling of a killed application"
net_setup

# The other application: receives 30 MB from the peer while the victim dies.
make_data "$TMP/data" 30
start_bg -o "$TMP/received" rx tasd -t 90 "$BIN/tcp_recv" --listen --port 7011
wait_ready rx || fatal "receiver did not start"

start_bg victim tasd -t 60 "$BIN/echo_server" --port 7010 --max-conns 100 --timeout 55
wait_ready victim || fatal "victim did not start"
start_bg holder peer -t 40 /usr/bin/python3 "$SRCDIR/tests/integration/hold_conns.py" \
    "$SERVER_IP" 7010 5 10
wait_ready holder 15 || fatal "the peer's connections did not open"

start_bg -i "$TMP/data" tx peer -t 90 "$BIN/tcp_send" --addr "$SERVER_IP" --port 7011
sleep 0.3

vpid=$(pgrep -P "${BG_PID[victim]}")
[[ -n $vpid ]] || fatal "no victim process"
apps_with_pid() {
    tasctl stats --json | python3 -c '
import json, sys
def apps(d):
    if isinstance(d, dict):
        if isinstance(d.get("apps"), list):
            return d["apps"]
        d = list(d.values())
    if isinstance(d, list):
        for v in d:
            r = apps(v)
            if r is not None:
                return r
    return None
print(sum(1 for a in apps(json.load(sys.stdin)) or [] if a["pid"] == int(sys.argv[1])))' "$1"
}
check_eq "the victim (pid $vpid) is a registered application" "$(apps_with_pid "$vpid")" 1
kill -KILL "$vpid"
t0=$(date +%s%N)
gone_ms=-1
for ((i = 0; i < 50; i++)); do
    if [[ $(apps_with_pid "$vpid") == 0 ]]; then
        gone_ms=$((($(date +%s%N) - t0) / 1000000))
        break
    fi
    sleep 0.05
done
echo "    victim freed after ${gone_ms} ms"
check "tasd freed the killed application within 1 s" test "$gone_ms" -ge 0 -a "$gone_ms" -le 1000
check "the peer saw every connection of the killed application reset" wait_bg holder 20
show_bg_log holder
wait_bg victim 5 >/dev/null

check "the other application's transfer: sender done" wait_bg tx 100
check "the other application's transfer: receiver done" wait_bg rx 30
check_eq "the other application received every byte (sha256)" "$(sha "$TMP/received")" \
    "$(sha "$TMP/data")"
finish
