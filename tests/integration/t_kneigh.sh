#!/bin/bash
# t_kneigh.sh - tasd takes the kernel's neighbours (kernel_neighbours on,
# slowpath/kneigh.c).  The Linux peer answers no ARP (nftables drops ARP
# coming in; it reaches tasd through a permanent entry of its own), so
# tasd cannot resolve it by itself: a connection to the peer fails
# (EHOSTUNREACH) until the kernel in ns A, where tasd runs, gets a
# permanent entry for the peer; then tasd's ARP table has it within a
# second (tasctl arp, kneigh_learned) and the connection echoes.
. "$(dirname "$0")/lib.sh"
tas_init t_kneigh
tasd_only "tasd's own ARP table"
command -v nft >/dev/null 2>&1 || fatal "nft is not installed (run .ci/deps)"
net_create
PY=/usr/bin/python3
mac_a=$(ip netns exec "$NS_A" cat "/sys/class/net/$VETH_A/address")
mac_b=$(ip netns exec "$NS_B" cat "/sys/class/net/$VETH_B/address")
ip -n "$NS_B" neigh replace "$SERVER_IP" lladdr "$mac_a" dev "$VETH_B" nud permanent ||
    fatal "cannot add the peer's entry for tasd"
ip netns exec "$NS_B" nft -f - <<'NFT' || fatal "nft failed"
table arp tasnoarp {
    chain in {
        type filter hook input priority 0; policy accept;
        counter drop
    }
}
NFT
start_tasd --add --kernel-neighbours on || fatal "tasd did not start"
start_bg echo peer -t 90 "$BIN/echo_server" --port 7900 --max-conns 20 --timeout 80
wait_ready echo || fatal "echo server did not start"

connect_to() { echo_probe tasd "$PEER_IP" 7900 30; }
arp_mac() {
    tasctl arp --json | $PY -c '
import json, sys
for e in json.load(sys.stdin)["arp"]:
    if e.get("ip") == sys.argv[1]:
        print(e.get("mac")); break' "$PEER_IP"
}

check_eq "a peer that answers no ARP is not reachable" "$(connect_to)" EHOSTUNREACH
ip -n "$NS_A" neigh replace "$PEER_IP" lladdr "$mac_b" dev "$VETH_A" nud permanent ||
    fatal "cannot add the kernel's entry in ns A"
for ((i = 0; i < 20; i++)); do
    [[ $(arp_mac) == "$mac_b" ]] && break
    sleep 0.1
done
tasctl arp | sed 's/^/    /'
check_eq "the kernel's entry for the peer is in tasd's ARP table" "$(arp_mac)" "$mac_b"
check "... counted (kneigh_learned)" test "$(sp_stat counters.kneigh_learned)" -ge 1
check_eq "and the peer is reachable through it" "$(connect_to)" ok
ip netns exec "$NS_B" nft list table arp tasnoarp | grep -o 'packets [0-9]*' |
    sed 's/^/    ARP dropped at the peer: /'
stop_bg echo
finish
