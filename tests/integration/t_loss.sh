#!/bin/bash
# t_loss.sh - bytes survive packet loss.  nftables on the Linux peer (ns B)
# drops 2% of the TCP segments it receives (tasd must retransmit: fast
# retransmit or RTO) and, separately, loses 2% of those it sends (tasd must
# hold out-of-order data and ACK so Linux retransmits).  20 MB each way,
# sha256 compared; the counters prove loss really happened.  A drop in
# Linux's own output path would be a local drop, which TCP just sends again:
# instead, in the egress hook of its veth, the packet gets a destination MAC
# nobody has and ns A discards it as a NIC would (as t_fault does).  Linux
# hands the device GSO super-packets (segmented later), so one such loss
# removes a burst of segments, which tests tasd's out-of-order handling.
. "$(dirname "$0")/lib.sh"
tas_init t_loss
if ! command -v nft >/dev/null 2>&1; then
    echo "FAIL: nft is not installed (run .ci/deps)"
    exit 1
fi
net_setup

MB=${TAS_LOSS_MB:-20}
make_data "$TMP/data" "$MB"

# set_loss input|egress: lose 2% of TCP packets from ns A (input hook) or
# to ns A (egress hook of the peer's veth).
set_loss() {
    local table="inet tasloss" hook="hook input" lose=drop
    if [[ $1 == egress ]]; then
        table="netdev tasloss" hook="hook egress device \"$VETH_B\""
        lose="ether daddr set 02:00:00:00:00:00"
    fi
    ip netns exec "$NS_B" nft -f - <<NFT
table inet tasloss
delete table inet tasloss
table netdev tasloss
delete table netdev tasloss
table $table {
    chain c {
        type filter $hook priority 0; policy accept;
        meta l4proto tcp counter
        meta l4proto tcp numgen random mod 100 < 2 counter $lose
    }
}
NFT
}
# counters: "SEEN DROPPED" TCP packets in the chain.
counters() {
    ip netns exec "$NS_B" nft list table "$LOSS_TABLE" tasloss |
        sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | tr '\n' ' '
}

LOSS_TABLE=inet
set_loss input
transfer "2% loss on the way to Linux: server under tasd sends $MB MB" tasd peer from \
    "$TMP/data" 7031 240
read -r seen n <<<"$(counters)"
check "segments from ns A were dropped ($n of $seen)" test "${n:-0}" -gt 0

LOSS_TABLE=netdev
set_loss egress
transfer "2% loss on the way from Linux: Linux client sends $MB MB to tasd" peer tasd to \
    "$TMP/data" 7032 240
read -r seen n <<<"$(counters)"
check "segments to ns A were dropped ($n of $seen)" test "${n:-0}" -gt 0
[[ $TAS_TEST_MODE == tasd ]] && tasctl stats | grep -E 'retx|ooo' | sed 's/^/    /'
finish
