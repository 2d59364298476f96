#!/bin/bash
# t_peer_gone.sh - the peer disappears in the middle of a transfer: its
# veth goes down, or its network namespace is deleted (its end of the veth
# first, so that nothing its dying kernel says reaches ns A; the pair, and
# so tasd's interface, goes with it).  The application in ns A must get
# ETIMEDOUT or ECONNRESET within the configured limits, and tasd must free
# the flow (tasctl flows shows none left) and keep running.
#
# Both directions: a server in ns A streams to a Linux client with
# blocking writes (tcp_send), and a Linux client streams to a server in ns
# A that streams back (tcp_duplex, both ends).  A pure receiver learns
# nothing when its peer vanishes, under tasd as under Linux without
# SO_KEEPALIVE; the duplex server always has bytes in flight, so its
# retransmission timeout ends the connection.
#
# Limits: tasd runs with a short RTO (100..800 ms) and 5 retries, so a dead
# peer is given up after at most ~5 s; in linux mode ns A gets
# net.ipv4.tcp_retries2 = 3 (~3 s with Linux's 200 ms minimum RTO), and
# Linux may report the soft error EHOSTUNREACH (ARP failed) instead of
# ETIMEDOUT.  Deleting the namespace removes ns A's own interface; Linux
# then fails its retransmissions locally and does not time out within
# tcp_retries2, so the namespace cases run in tasd mode only.
. "$(dirname "$0")/lib.sh"
tas_init t_peer_gone "$BIN/tcp_send" "$BIN/tcp_recv" "$BIN/tcp_duplex"

RTO_MAX_MS=800
RETRIES=5
if [[ $TAS_TEST_MODE == tasd ]]; then
    # Worst case: every retry waits rto_max (RFC 6298 backoff, capped).
    LIMIT=$((RTO_MAX_MS * (RETRIES + 1) / 1000 + 3))
    ERRORS='ETIMEDOUT|ECONNRESET'
else
    LIMIT=10
    ERRORS='ETIMEDOUT|ECONNRESET|EHOSTUNREACH'
fi

# setup: a fresh network (and tasd with the short limits).
setup() {
    net_create
    if [[ $TAS_TEST_MODE == tasd ]]; then
        start_tasd --add --rto-min-ms 100 --rto-initial-ms 200 --rto-max-ms $RTO_MAX_MS \
            --max-retries $RETRIES || fatal "tasd did not start"
    else
        ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_retries2=3 ||
            fatal "cannot set tcp_retries2 in $NS_A"
    fi
}

# no_flows_left DESC: tasd frees the flow within 5 s (tasd mode).
no_flows_left() {
    if [[ $TAS_TEST_MODE != tasd ]]; then
        echo "SKIP: $1: tasd frees the flow (tasctl is tasd-only)"
        return
    fi
    local i n=
    for ((i = 0; i < 50; i++)); do
        n=$(tasctl flows --json | python3 -c '
import json, sys
print(len(json.load(sys.stdin)["flows"]))') && [[ $n == 0 ]] && break
        sleep 0.1
    done
    check_eq "$1: tasd freed the flow (flows left in tasctl flows)" "$n" 0
}

# established PORT: the application is running and its connection on
# PORT is established (tasctl flows, or Linux's ss in linux mode).
established() {
    _alive "${BG_PID[app]}" || return 1
    if [[ $TAS_TEST_MODE == tasd ]]; then
        tasctl flows | grep -q "ESTABLISHED .*:$1 "
    else
        ip netns exec "$NS_A" ss -Htn state established "( sport = :$1 )" | grep -q .
    fi
}

# gone METHOD DIR PORT: start a transfer, make the peer vanish by METHOD
# (down | netns), check the error, the time it took and the flow.
gone() {
    local how=$1 dir=$2 port=$3 desc
    if [[ $how == netns && $TAS_TEST_MODE != tasd ]]; then
        echo "SKIP: $how ($dir): in linux mode deleting ns B takes ns A's interface too"
        return
    fi
    if [[ $dir == tasd ]]; then
        desc="$how: server in ns A streams to Linux"
        start_bg -i /dev/zero app tasd -t 60 "$BIN/tcp_send" --listen --port "$port" --timeout 50
        wait_ready app || fatal "$desc: sender did not start"
        start_bg -o /dev/null peer peer -t 60 "$BIN/tcp_recv" --addr "$SERVER_IP" \
            --port "$port" --timeout 50
    else
        desc="$how: Linux client streams to a server in ns A that streams back"
        start_bg app tasd -t 60 "$BIN/tcp_duplex" --listen --port "$port" --timeout 50
        wait_ready app || fatal "$desc: server did not start"
        start_bg peer peer -t 60 "$BIN/tcp_duplex" --addr "$SERVER_IP" --port "$port" \
            --timeout 50
    fi
    sleep 1.5
    check "$desc: the connection is established and the application running" \
        established "$port"
    local t0=$SECONDS
    if [[ $how == down ]]; then
        ip -n "$NS_B" link set "$VETH_B" down || fatal "cannot take $VETH_B down"
    else
        ip -n "$NS_B" link del "$VETH_B" || fatal "cannot delete $VETH_B"
        ip netns del "$NS_B" || fatal "cannot delete $NS_B"
        stop_bg peer # its namespace goes with it
    fi
    local i
    for ((i = 0; i < (LIMIT + 10) * 10; i++)); do
        _alive "${BG_PID[app]}" || break
        sleep 0.1
    done
    local secs=$((SECONDS - t0))
    if [[ $TAS_TEST_MODE == tasd ]] && _alive "${BG_PID[app]}"; then
        echo "    application still running after $secs s; tasd's view:"
        { tasctl flows; tasctl stats; } 2>&1 | sed 's/^/    | /'
    fi
    wait_bg app 1 >/dev/null
    local rc=$?
    grep -v READY "${BG_LOG[app]}" | sed 's/^/    | /'
    check "$desc: the application failed (exit $rc)" test "$rc" -eq 1
    check "$desc: with $ERRORS" grep -Eq "$ERRORS" "${BG_LOG[app]}"
    check "$desc: within the configured limits ($secs s <= $LIMIT s)" test "$secs" -le "$LIMIT"
    no_flows_left "$desc"
    stop_bg peer
}

setup
gone down tasd 7301
ip -n "$NS_B" link set "$VETH_B" up || fatal "cannot bring $VETH_B up again"
gone down peer 7302
ip -n "$NS_B" link set "$VETH_B" up || fatal "cannot bring $VETH_B up again"
if [[ $TAS_TEST_MODE == tasd ]]; then
    gone netns tasd 7303
    # The veth pair, and tasd's interface, are gone: start over.
    check "tasd survived losing its interface" _alive "$TASD_PID"
    net_teardown
    setup
    gone netns peer 7304
else
    gone netns tasd 7303
    gone netns peer 7304
fi
finish
