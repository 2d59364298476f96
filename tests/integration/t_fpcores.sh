#!/bin/bash
# t_fpcores.sh - two fast-path cores on a port without RSS (--fp-cores 2 on
# two af_packet queue pairs, which the kernel fills by flow hash):
#   - tasd reports 2 cores, and both carry connections;
#   - a connection's segments reach the core that holds its flow: the
#     slow path sees only handshakes and closes (a few exceptions per
#     connection, not one per segment);
#   - 32 echoed connections and 10 MB each way are byte-identical;
#   - the Linux peer sees no segment of tasd's out of order (tshark);
# the same on TAP (the default configuration's tas0, two queues, which the
# kernel's tun steers by flow): the idle cores sleep on the queues' rx
# interrupts (tasctl status; few sleeps), pages served to curl from a server under
# tasd, both cores carrying them, a few exceptions per connection; then the
# echo, client, close and fork tests pass with two cores, each with its own
# tasd.  Needs tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_fpcores
tasd_only "t_fpcores is about tasd's fast-path cores; nothing to do in linux mode"
# Queue pairs on a veth are af_packet's (af_xdp there has one queue:
# doc/architecture.md), whatever TAS_PMD the suite runs with.
export TAS_PMD=af_packet
export TAS_FP_CORES=2

# core_stat KEY: that counter of each fast-path core, space-separated
core_stat() {
    tasctl stats --json | python3 -c '
import json, sys
print(" ".join(str(c[sys.argv[1]]) for c in json.load(sys.stdin)["fastpath"]["cores"]))' "$1"
}
net_setup
check "tasd runs two fast-path cores" grep -q " 2 fast-path core(s)" "$TMP/tasd.log"
capture_start fp "tcp portrange 7000-7002"
rx0=($(core_stat rx_pkts))
exc0=$(core_stat exceptions)

conns=32
start_bg server tasd -t 60 "$BIN/echo_server" --port 7000 --max-conns "$conns" --timeout 50
wait_ready server || fatal "echo server did not start"
check "$conns connections x 200 messages of 1000 B echoed exactly" \
    run_linux_peer -t 40 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns "$conns" --msgs 200 --size 1000 --timeout 30
check "the echo server served them all" wait_bg server 20
rx1=($(core_stat rx_pkts))
echo "    frames received per core: $((rx1[0] - rx0[0])) and $((rx1[1] - rx0[1]))"
check "both cores received their connections' segments" \
    test $((rx1[0] - rx0[0])) -gt 100 -a $((rx1[1] - rx0[1])) -gt 100
exc1=$(core_stat exceptions)
exc=$(($(tr ' ' '+' <<<"$exc1") - $(tr ' ' '+' <<<"$exc0")))
check "segments reach their flow's core: $exc exceptions for $conns connections (at most 4 each)" \
    test "$exc" -le $((conns * 4))

make_data "$TMP/data" 10
transfer "10 MB from the Linux peer to tasd" peer tasd to "$TMP/data" 7001 60
transfer "10 MB from tasd to the Linux peer" tasd peer to "$TMP/data" 7002 60
capture_stop fp
ooo=$(tshark -r "$TMP/fp.pcap" -Y "ip.src==$SERVER_IP && tcp.analysis.out_of_order" \
    2>/dev/null | wc -l)
check "the peer saw none of tasd's segments out of order ($ooo)" test "$ooo" -eq 0
stop_tasd >/dev/null

# TAP, as the default configuration runs it (tests/demo.sh's set-up).
NS_T=tas-fpt-$TAS_ID
ns_add "$NS_T" || fatal "cannot create namespace $NS_T"
RUN_DIR=$TMP/tap
start_tasd --ns "$NS_T" --config "$SRCDIR/conf/tasd.conf" --run-dir "$RUN_DIR" \
    --fp-cores 2 || fatal "tasd on TAP did not start"
check "tasd on TAP runs two fast-path cores" grep -q " 2 fast-path core(s)" "$TMP/tasd.log"
rx_wakes() { tasctl status | grep -q 'a received frame wakes a sleeping core'; }
check "TAP: a received frame wakes a sleeping core (its rx interrupt: the queue's tap fd)" \
    rx_wakes
sleeps() { tr ' ' '+' <<<"$(core_stat idle_sleeps)"; }
s0=$(($(sleeps)))
sleep 2
s1=$(($(sleeps)))
check "TAP: idle cores sleep on it, not on short timers ($((s1 - s0)) sleeps in 2 s, < 100)" \
    test $((s1 - s0)) -ge 1 -a $((s1 - s0)) -lt 100
rx0=($(core_stat rx_pkts))
exc0=$(core_stat exceptions)
start_bg web tasd -t 60 env TAS_RUN_DIR="$RUN_DIR" "$BIN/http_hello" --port 8080
wait_ready web || fatal "http_hello did not start"
pages=0
for ((i = 0; i < 40; i++)); do
    a=$(timeout 10 ip netns exec "$NS_T" curl -s --max-time 5 http://10.77.0.2:8080/) &&
        [[ $a == "hello from tasd" ]] && pages=$((pages + 1))
done
check "TAP: 40 of 40 pages from a server under tasd ($pages)" test "$pages" -eq 40
rx1=($(core_stat rx_pkts))
exc=$(($(tr ' ' '+' <<<"$(core_stat exceptions)") - $(tr ' ' '+' <<<"$exc0")))
echo "    TAP frames received per core: $((rx1[0] - rx0[0])) and $((rx1[1] - rx0[1])); exceptions: $exc"
check "TAP: both cores received connections' segments" \
    test $((rx1[0] - rx0[0])) -gt 10 -a $((rx1[1] - rx0[1])) -gt 10
check "TAP: segments reach their flow's core ($exc exceptions for 40 connections, at most 4 each)" \
    test "$exc" -le 160
stop_bg web
stop_tasd >/dev/null

check_tests "with two fast-path cores" t_echo t_client t_close t_fork
finish
