#!/bin/bash
# t_fault.sh - bytes survive a hostile network made by nftables on the Linux
# peer's side (ns B): 2% random loss, 1% duplication (dup to), 1% TCP
# checksum corruption (tcp checksum set; rx checksum offload off on the
# peer's veth, so Linux really checks), bursts of 10 consecutive losses
# every 500 packets (the last 10 of each 500, so the handshake is spared),
# each alone and all combined.  Bursts count only packets of a busy flow
# (over 200 a second): counted per packet alone, a burst that starts while
# the sender is backing off would take its next 10 retransmissions, minutes
# apart, which no real network does.  The rules sit in both
# the input and the output hook, so data and ACKs are hit in both
# directions, and every case runs both ways: server under tasd sends to a
# Linux client, and a Linux client sends to a server under tasd.  sha256 is
# compared at both ends; the rule counters (and, for corruption, the
# receiver's checksum-error counter) prove the fault really happened.
# Each transfer prints a FAULT-NUMBERS line: throughput and retransmitted
# bytes of the sender, tasd and Linux in the same run.
#
# The peer's veth has gso_max_segs 1, so Linux's output hook sees single
# segments (not GSO super-packets) and the shares are shares of segments.
#
# Size: TAS_FAULT_MB, default 100 (the issue's figure; about a minute and a
# half for the whole test); TAS_FAULT_MB=20 for a quick run.
# TAS_FAULT_CASES="loss dup ..." runs a subset.
. "$(dirname "$0")/lib.sh"
tas_init t_fault
for c in nft nstat; do
    if ! command -v $c >/dev/null 2>&1; then
        echo "FAIL: $c is not installed (run .ci/deps)"
        exit 1
    fi
done
net_setup

MB=${TAS_FAULT_MB:-100}
CASES=${TAS_FAULT_CASES:-loss dup csum burst combined}
# Bound of one transfer: generous for tasd's go-back-N at ~1 MB/s under loss.
T=$((60 + MB * 6))
make_data "$TMP/data" "$MB"

ip -n "$NS_B" link set "$VETH_B" gso_max_segs 1 ||
    echo "note: cannot set gso_max_segs on $VETH_B; Linux's output hook sees GSO super-packets"
ip netns exec "$NS_B" ethtool -K "$VETH_B" rx off >/dev/null 2>&1 ||
    fatal "cannot turn rx checksum offload off on $VETH_B"

# rules FAULT HOOK: the nftables statements of one fault for the peer's
# input hook (packets from ns A), its output hook (packets to ns A), or the
# egress hook of its veth (losses of packets to ns A).  Every rule has its
# own counter.
#
# A drop in Linux's own output path is a local drop, not a loss: TCP sees
# the send fail and sends the segment again as if for the first time.  So
# packets to ns A are "lost" after Linux has handed them to the device: in
# the egress hook they get a destination MAC that nobody has, and ns A's
# side discards them as a NIC would.
rules() {
    local lose="drop"
    [[ $2 == egress ]] && lose="ether daddr set 02:00:00:00:00:00"
    case $1:$2 in
    loss:input | loss:egress) echo "meta l4proto tcp numgen random mod 1000 < 20 counter $lose" ;;
    burst:input | burst:egress)
        echo "meta l4proto tcp limit rate over 200/second numgen inc mod 500 >= 490 counter $lose"
        ;;
    dup:input) echo "meta l4proto tcp numgen random mod 100 < 1 counter dup to $PEER_IP" ;;
    dup:output)
        echo "meta l4proto tcp numgen random mod 100 < 1 counter dup to $SERVER_IP device \"$VETH_B\""
        ;;
    csum:input | csum:output)
        echo "meta l4proto tcp numgen random mod 100 < 1 counter tcp checksum set 0xdead"
        ;;
    combined:*) for f in loss dup csum burst; do rules $f "$2"; done ;;
    esac
}

# set_fault FAULT: replace the peer's tables with FAULT in every hook.
set_fault() {
    ip netns exec "$NS_B" nft -f - <<NFT || fatal "nft rejected the rules for $1"
table ip tasfault
delete table ip tasfault
table netdev tasfault
delete table netdev tasfault
table ip tasfault {
    chain in {
        type filter hook input priority 0; policy accept;
        meta l4proto tcp counter
$(rules "$1" input)
    }
    chain out {
        type filter hook output priority 0; policy accept;
        meta l4proto tcp counter
$(rules "$1" output)
    }
}
table netdev tasfault {
    chain egress {
        type filter hook egress device "$VETH_B" priority 0; policy accept;
        meta l4proto tcp counter
$(rules "$1" egress)
    }
}
NFT
}

# hits in|out: packets each impairment rule acted on, one per line, for
# packets from ns A (in) or to ns A (out: output and egress hooks).
hits() {
    local c
    if [[ $1 == in ]]; then c=("ip tasfault in"); else c=("ip tasfault out" "netdev tasfault egress"); fi
    for t in "${c[@]}"; do
        # shellcheck disable=SC2086
        ip netns exec "$NS_B" nft list chain $t |
            sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | tail -n +2
    done
}

# csum_errors tasd|peer: checksum errors counted by that side's TCP so far.
csum_errors() {
    if [[ $1 == tasd && $TAS_TEST_MODE == tasd ]]; then
        tasctl stats --json | python3 -c '
import json, sys
print(sum(c["drops_bad"] for c in json.load(sys.stdin)["fastpath"]["cores"]))'
    else
        local ns=$NS_B
        [[ $1 == tasd ]] && ns=$NS_A
        ip netns exec "$ns" nstat -az TcpInCsumErrors | awk '$1 == "TcpInCsumErrors" {print $2}'
    fi
}

port=7100
for fault in $CASES; do
    for dir in tasd peer; do
        if [[ $dir == tasd ]]; then
            to=peer chain=in desc="$fault: server under tasd sends $MB MB to Linux"
        else
            to=tasd chain=out desc="$fault: Linux client sends $MB MB to a server under tasd"
        fi
        set_fault "$fault"
        errs0=$(csum_errors "$to")
        port=$((port + 1))
        fault_transfer "$fault" "$desc" "$dir" "$to" "$TMP/data" "$port" "$T"
        mapfile -t h < <(hits "$chain")
        check "$desc: every rule of the fault hit the data (${h[*]} packets)" \
            bash -c '[[ $# -gt 0 ]] && for n; do [[ $n -gt 0 ]] || exit 1; done' _ "${h[@]}"
        if [[ $fault == csum || $fault == combined ]]; then
            errs1=$(csum_errors "$to")
            check "$desc: the receiver ($to) dropped segments with bad checksums ($errs0 -> $errs1)" \
                test "${errs1:-0}" -gt "${errs0:-0}"
        fi
    done
done
ip netns exec "$NS_B" nft delete table ip tasfault
ip netns exec "$NS_B" nft delete table netdev tasfault
[[ $TAS_TEST_MODE == tasd ]] && tasctl stats | grep -E 'retx|ooo|drops_bad' | sed 's/^/    /'
finish
