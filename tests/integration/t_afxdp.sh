#!/bin/bash
# t_afxdp.sh - tasd on DPDK's net_af_xdp instead of net_af_packet (the
# other supported way onto a veth): tasctl status names the PMD and says a
# received frame wakes the sleeping core (it sleeps on the AF_XDP socket, as
# on af_packet's), an idle core sleeps rarely, and the echo (bytes compared),
# bulk (sha256 both ways), loss and close tests pass on it unchanged, and
# the two churn tests (19,000 connections at once, 30,000 in a row each
# way: the port once stopped receiving after ~17,000), each with its own
# tasd (TAS_PMD=af_xdp, lib.sh).  Needs tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_afxdp
tasd_only "t_afxdp runs tasd on af_xdp; nothing to do in linux mode"
export TAS_PMD=af_xdp
net_setup

tasctl status >"$TMP/status.txt"
check "tasctl status names the port's PMD (net_af_xdp)" grep -q '(net_af_xdp)' "$TMP/status.txt"
check "a received frame wakes the sleeping core (status)" \
    grep -q 'a received frame wakes a sleeping core' "$TMP/status.txt"
tasctl status --json >"$TMP/status.json"
check "status --json: port.driver is net_af_xdp, rx_wake true" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["port"]
sys.exit(0 if p["driver"] == "net_af_xdp" and p["rx_wake"] is True else 1)' "$TMP/status.json"
# Sleeping on the AF_XDP socket, an idle core sleeps up to 100 ms at a time
# (timed sleeps would be up to 2 ms: hundreds in 2 s).
sleeps() {
    tasctl stats --json | python3 -c '
import json, sys
print(sum(c["idle_sleeps"] for c in json.load(sys.stdin)["fastpath"]["cores"]))'
}
a=$(sleeps)
sleep 2
b=$(sleeps)
n=$((${b:-0} - ${a:-0}))
check "an idle core sleeps on its AF_XDP socket ($n sleeps in 2 s, < 100)" \
    test "$n" -ge 1 -a "$n" -lt 100
stop_tasd >/dev/null

check_tests "on af_xdp" t_echo t_bulk t_loss t_close t_connscale t_shortconn
finish
