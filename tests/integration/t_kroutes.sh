#!/bin/bash
# t_kroutes.sh - tasd follows the kernel's routes (kernel_routes on,
# slowpath/kroutes.c): in ns A, where tasd runs, the kernel's main table
# gets routes through the Linux peer (onlink on tasd's veth), and tasd's
# table (tasctl routes) follows within a second:
#   - a route that was there before tasd started is taken from the dump;
#   - one added later arrives by notification, and a connection to an
#     address behind it (the peer holds 10.<n>.9.5 and .8.5) echoes;
#   - a route through a gateway tasd cannot reach directly is not taken;
#   - ip route replace moves the gateway; ip route del removes the route
#     and connect() then fails with ENETUNREACH, as with no route at all.
. "$(dirname "$0")/lib.sh"
tas_init t_kroutes
tasd_only "tasd's own routing table"
net_create
PY=/usr/bin/python3
FAR_A=10.$NET_N.8.0/24
FAR_B=10.$NET_N.9.0/24
ip -n "$NS_B" addr add "10.$NET_N.8.5/24" dev "$VETH_B"
ip -n "$NS_B" addr add "10.$NET_N.9.5/24" dev "$VETH_B"
ip -n "$NS_A" route add "$FAR_A" via "$PEER_IP" dev "$VETH_A" onlink ||
    fatal "cannot add a kernel route in ns A"
start_tasd --add --kernel-routes on || fatal "tasd did not start"

# route_is DEST: tasd's gateway for DEST and its origin ("-" if none).
route_is() {
    tasctl routes --json | $PY -c '
import json, sys
for r in json.load(sys.stdin)["routes"]:
    if r["dest"] == sys.argv[1]:
        print(r.get("gateway"), r.get("origin")); break
else:
    print("-")' "$1"
}
# wait_route DEST WANT: until route_is says WANT (at most 2 s).
wait_route() {
    local i got
    for ((i = 0; i < 20; i++)); do
        got=$(route_is "$1")
        [[ $got == "$2" ]] && break
        sleep 0.1
    done
    echo "$got"
}
# connect_to ADDR: what connect() under tasd answers ("ok" or errno name).
connect_to() { echo_probe tasd "$1" 7700 8; }

start_bg echo peer -t 90 "$BIN/echo_server" --port 7700 --max-conns 20 --timeout 80
wait_ready echo || fatal "echo server did not start"
tasctl routes | sed 's/^/    /'
check_eq "a kernel route from before the start is in tasd's table" "$(route_is "$FAR_A")" \
    "$PEER_IP kernel"
check_eq "... and carries connections" "$(connect_to "10.$NET_N.8.5")" ok
check_eq "no route to $FAR_B yet: ENETUNREACH" "$(connect_to "10.$NET_N.9.5")" ENETUNREACH

ip -n "$NS_A" route add "$FAR_B" via "$PEER_IP" dev "$VETH_A" onlink
check_eq "a route the kernel gets later arrives in tasd's table" \
    "$(wait_route "$FAR_B" "$PEER_IP kernel")" "$PEER_IP kernel"
check_eq "... and carries connections" "$(connect_to "10.$NET_N.9.5")" ok

ip -n "$NS_A" route add 10.$NET_N.7.0/24 via 192.168.254.1 dev "$VETH_A" onlink
sleep 0.5
check_eq "a route through a gateway off tasd's subnet is not followed" \
    "$(route_is "10.$NET_N.7.0/24")" -
check "... and counted" test "$(sp_stat counters.kroutes_ignored)" -ge 1

ip -n "$NS_A" route replace "$FAR_B" via "10.$NET_N.0.3" dev "$VETH_A" onlink
check_eq "ip route replace moves tasd's gateway" \
    "$(wait_route "$FAR_B" "10.$NET_N.0.3 kernel")" "10.$NET_N.0.3 kernel"
ip -n "$NS_A" route del "$FAR_B"
check_eq "ip route del removes the route from tasd's table" "$(wait_route "$FAR_B" -)" -
check_eq "... and connect() fails with ENETUNREACH again" "$(connect_to "10.$NET_N.9.5")" \
    ENETUNREACH
check_eq "the route from before is still there" "$(route_is "$FAR_A")" "$PEER_IP kernel"
echo "    added $(sp_stat counters.kroutes_added), removed $(sp_stat counters.kroutes_removed), ignored $(sp_stat counters.kroutes_ignored)"
stop_bg echo
finish
