#!/bin/bash
# t_dctcp.sh - DCTCP (slowpath/cc_dctcp.c) with tasd at both ends, as in
# the TAS paper, through a Linux router that marks CE:
#
#   ns A: tasd A            ns R: Linux, forwarding         ns B: tasd B
#   10.<n>.1.2 tasA<pid> -- tasRa<pid> 10.<n>.1.1
#                            tasRb<pid> 10.<n>.2.1 ------- tasB<pid> 10.<n>.2.2
#
# nftables in ns R sets CE on 5% of the ECT(0) segments it forwards from A
# to B; tasd B's test impairment holds every segment it receives 2 ms, so
# that the round trip (about 2.5 ms), not the CPU, bounds the transfer.  A client under tasd A sends to a server under tasd B (whose
# connections run dctcp, so its ACKs echo each CE mark: RFC 8257 3.2), once
# with dctcp and once with reno; the sender's window is sampled from tasd
# A's flows.  DCTCP cuts in proportion to the marked share and keeps its
# window where reno halves it at every marked round trip: DCTCP's mean
# window must be more than twice reno's.  Bytes are compared (sha256).
. "$(dirname "$0")/lib.sh"
tas_init t_dctcp
tasd_only "DCTCP runs in tasd (Linux here has no dctcp module)"
command -v nft >/dev/null 2>&1 || fatal "nft is not installed (run .ci/deps)"
PY=/usr/bin/python3
NS_R=tas-R-$TAS_ID
VETH_RA=tasRa$TAS_ID
VETH_RB=tasRb$TAS_ID
IP_A=10.$NET_N.1.2
IP_B=10.$NET_N.2.2
RUN_B=$TMP/runb
MB=${TAS_DCTCP_MB:-24}

test_cleanup() { rm -rf "/var/run/dpdk/${DPDK_PREFIX}b"; }

ns_add "$NS_A" && ns_add "$NS_B" && ns_add "$NS_R" || fatal "cannot create namespaces"
ip -n "$NS_A" link add "$VETH_A" type veth peer name "$VETH_RA" netns "$NS_R" &&
    ip -n "$NS_B" link add "$VETH_B" type veth peer name "$VETH_RB" netns "$NS_R" ||
    fatal "cannot create the veth pairs"
for nd in "$NS_A $VETH_A" "$NS_B $VETH_B" "$NS_R $VETH_RA" "$NS_R $VETH_RB"; do
    read -r ns dev <<<"$nd"
    ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 ||
        fatal "ethtool -K $dev failed"
    ip -n "$ns" link set "$dev" up || fatal "cannot bring $dev up"
done
ip -n "$NS_R" addr add "10.$NET_N.1.1/24" dev "$VETH_RA" &&
    ip -n "$NS_R" addr add "10.$NET_N.2.1/24" dev "$VETH_RB" &&
    ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 || fatal "cannot set up the router"
ip netns exec "$NS_R" nft -f - <<NFT || fatal "nft failed"
table inet tasdctcp {
    chain c {
        type filter hook forward priority 0; policy accept;
        ip saddr $IP_A ip ecn ect0 meta l4proto tcp counter
        ip saddr $IP_A ip ecn ect0 meta l4proto tcp numgen random mod 100 < 5 counter ip ecn set ce
    }
}
NFT
echo "network: $NS_A ($IP_A, tasd) <-> $NS_R (router, CE on 5%) <-> $NS_B ($IP_B, tasd)"

# tasd A through lib.sh (TASD_PID, RUN_DIR); tasd B beside it.
start_tasd --config /dev/null --ip "$IP_A/24" --route "10.$NET_N.2.0/24,10.$NET_N.1.1" \
    --run-dir "$RUN_DIR" --ecn 1 \
    --dpdk "--no-huge --no-pci -m 512 --file-prefix $DPDK_PREFIX --vdev net_af_packet0,iface=$VETH_A" ||
    fatal "tasd A did not start"
mkdir -p "$RUN_B"
start_bg tasdb peer -t "$TASD_LIFETIME" "$TASD" --config /dev/null --ip "$IP_B/24" \
    --route "10.$NET_N.1.0/24,10.$NET_N.2.1" --run-dir "$RUN_B" --ecn 1 --cc dctcp \
    --impair-allow on --impair-rx-delay 1000 --impair-rx-delay-us 2000 \
    --dpdk "--no-huge --no-pci -m 512 --file-prefix ${DPDK_PREFIX}b --vdev net_af_packet0,iface=$VETH_B"
for ((i = 0; i < 100; i++)); do
    timeout 3 "$TASCTL" --run-dir "$RUN_B" status >/dev/null 2>&1 && break
    sleep 0.2
done
timeout 3 "$TASCTL" --run-dir "$RUN_B" status >/dev/null 2>&1 || {
    show_bg_log tasdb
    fatal "tasd B did not start"
}
under_b() { # NAME [-o OUT] PROGRAM ARGS...: in ns B under tasd B
    local name=$1 out=
    shift
    if [[ $1 == -o ]]; then out=$2; shift 2; fi
    local log=$TMP/$name.log
    BG_LOG[$name]=$log
    timeout -k 5 90 ip netns exec "$NS_B" env "LD_PRELOAD=$INTERPOSE" "TAS_RUN_DIR=$RUN_B" \
        TAS_FALLBACK=0 "$@" >"${out:-$log}" 2>>"$log" </dev/null &
    BG_PID[$name]=$!
}

make_data "$TMP/data" "$MB"
# run CC PORT: MB from A (--cc CC) to B; prints the mean and samples of
# the sender's window in segments.
run() {
    local cc=$1 port=$2 out=$TMP/recv.$2
    under_b "rx$port" -o "$out" "$BIN/tcp_recv" --listen --port "$port" --timeout 60
    wait_ready "rx$port" || fatal "receiver under tasd B did not start"
    start_bg -i "$TMP/data" "tx$port" tasd -t 90 "$BIN/tcp_send" --addr "$IP_B" \
        --port "$port" --cc "$cc" --timeout 60
    : >"$TMP/cwnd.$cc"
    local i
    for ((i = 0; i < 600; i++)); do
        _alive "${BG_PID[tx$port]}" || break
        tasctl flows --json 2>/dev/null | $PY -c '
import json, sys
for f in json.load(sys.stdin)["flows"]:
    if f["remote"].endswith(":" + sys.argv[1]) and f["state"] == "ESTABLISHED" and f["cwnd"]:
        print(f["cwnd"] // f["mss"], f["cc"])' "$port" >>"$TMP/cwnd.$cc"
        sleep 0.1
    done
    check "$cc: the client under tasd A sent $MB MB" wait_bg "tx$port" 90
    check "$cc: the server under tasd B read to EOF" wait_bg "rx$port" 30
    grep -h sent "${BG_LOG[tx$port]}" | sed "s/^/    $cc: /"
    check_eq "$cc: sha256 at tasd B's server equals the sender's" "$(sha "$out")" \
        "$(sha "$TMP/data")"
    rm -f "$out"
}
run dctcp 7600
run reno 7601
ip netns exec "$NS_R" nft list table inet tasdctcp | grep -o 'packets [0-9]*' | tr '\n' ' ' |
    sed 's/^/    router (ECT(0) seen, CE set): /'
echo
mean() { $PY -c '
import sys
w = [int(l.split()[0]) for l in open(sys.argv[1]) if l.split()[1:] == [sys.argv[2]]]
print("%.1f" % (sum(w) / len(w)) if w else 0)' "$TMP/cwnd.$1" "$1"; }
md=$(mean dctcp)
mr=$(mean reno)
echo "    sender's mean window: dctcp $md segments ($(wc -l <"$TMP/cwnd.dctcp") samples), reno $mr ($(wc -l <"$TMP/cwnd.reno") samples)"
ce=$(timeout 10 "$TASCTL" --run-dir "$RUN_B" stats --json | $PY -c '
import json, sys
def walk(v):
    if isinstance(v, dict):
        return sum((x if k == "ce_marks" and isinstance(x, int) else 0) + walk(x)
                   for k, x in v.items())
    return sum(walk(x) for x in v) if isinstance(v, list) else 0
print(walk(json.load(sys.stdin)))' 2>/dev/null)
check "tasd B received CE marks (${ce:-?})" test "${ce:-0}" -gt 0
check "the flows ran the algorithm they asked for" \
    test "$(grep -c dctcp "$TMP/cwnd.dctcp")" -gt 0 -a "$(grep -c reno "$TMP/cwnd.reno")" -gt 0
check "DCTCP keeps its window where reno halves it (mean $md vs $mr segments)" \
    $PY -c "import sys; sys.exit(0 if $md > 2 * $mr > 0 else 1)"
stop_bg tasdb
finish
