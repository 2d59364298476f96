#!/bin/bash
# t_loss.sh - bytes survive packet loss.  nftables on the Linux peer (ns B)
# drops 2% of the TCP segments it receives (tasd must retransmit: fast
# retransmit or RTO) and, separately, 2% of those it sends (tasd must hold
# out-of-order data and ACK so Linux retransmits).  20 MB each way, sha256
# compared; the drop counters prove loss really happened.  Linux TCP hands
# its output hook GSO super-packets (segmented later, at the device), so on
# the way out a drop removes a burst of up to ~45 segments: about 2% of the
# bytes, in bursts, which tests tasd's out-of-order handling harder.
. "$(dirname "$0")/lib.sh"
tas_init t_loss
if ! command -v nft >/dev/null 2>&1; then
    echo "FAIL: nft is not installed (run .ci/deps)"
    exit 1
fi
net_setup

MB=${TAS_LOSS_MB:-20}
make_data "$TMP/data" "$MB"

# set_loss HOOK: drop 2% of TCP in the peer's HOOK (input | output) chain.
set_loss() {
    ip netns exec "$NS_B" nft -f - <<NFT
table inet tasloss
delete table inet tasloss
table inet tasloss {
    chain c {
        type filter hook $1 priority 0; policy accept;
        meta l4proto tcp counter
        meta l4proto tcp numgen random mod 100 < 2 counter drop
    }
}
NFT
}
# counters: "SEEN DROPPED" TCP packets in the chain.
counters() {
    ip netns exec "$NS_B" nft list table inet tasloss |
        sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | tr '\n' ' '
}

set_loss input
transfer "2% loss on the way to Linux: server under tasd sends $MB MB" tasd peer from \
    "$TMP/data" 7031 240
read -r seen n <<<"$(counters)"
check "segments from ns A were dropped ($n of $seen)" test "${n:-0}" -gt 0

set_loss output
transfer "2% loss on the way from Linux: Linux client sends $MB MB to tasd" peer tasd to \
    "$TMP/data" 7032 240
read -r seen n <<<"$(counters)"
check "segments to ns A were dropped ($n of $seen)" test "${n:-0}" -gt 0
[[ $TAS_TEST_MODE == tasd ]] && tasctl stats | grep -E 'retx|ooo' | sed 's/^/    /'
finish
