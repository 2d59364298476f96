#!/bin/bash
# t_connscale.sh - many concurrent connections to one application (issue 8):
# one echo_server process in ns A (under tasd, or on Linux with
# TAS_TEST_MODE=linux) holds TAS_CONNSCALE_N connections (default 19,000:
# a process here may hold 20,000 descriptors, and each tasd socket has one)
# at the same time.  The Linux peer opens them from several conn_hold
# processes (at most 5,000 each) and from several source addresses (at
# least 2, and one per ~22,000 connections, as one ephemeral port range
# holds ~28,000 per source address and server port).  Every connection
# echoes 1 KiB checked byte for byte; the server must hold all N at once
# (tasctl stats, or ss on Linux); then every client half-closes, sees the
# server's EOF and closes.  Afterwards tasd must have no application, no
# connection (TIME_WAIT records aside: here tasd closes second and keeps
# none), no listener, and every flow id free that was free before.
#
# tasd's limits today are below 19,000 per application with the defaults;
# TASD_EXTRA raises them, e.g.
#   TASD_EXTRA="--max-flows 20480 --app-mem-mb 1280 --rx-buf-size 32768 --tx-buf-size 32768"
. "$(dirname "$0")/lib.sh"
tas_init t_connscale "$BIN/echo_server" "$BIN/conn_hold"

N=${TAS_CONNSCALE_N:-19000}
PER_HOLDER=5000
PORT=7000
[[ $N =~ ^[0-9]+$ && $N -ge 1 && $N -le 19900 ]] ||
    fatal "TAS_CONNSCALE_N must be 1..19900 (one process holds them all), not '$N'"

net_setup
read -r lo hi < <(ip netns exec "$NS_B" cat /proc/sys/net/ipv4/ip_local_port_range)
n_src=$(((N + 21999) / 22000))
((n_src < 2)) && n_src=2
peer_add_ips "$n_src"
srcs=$(IFS=,; echo "${PEER_IPS[*]:1}")
n_holders=$(((N + PER_HOLDER - 1) / PER_HOLDER))
echo "$N connections from $n_holders processes and $n_src source addresses ($srcs;" \
    "peer port range $lo-$hi)"

free0=
if [[ $TAS_TEST_MODE == tasd ]]; then
    free0=$(sp_stat flows_free) || fatal "tasctl stats --json failed"
    echo "tasd before: $free0 flow ids free"
fi

start_bg srv tasd -t 300 "$BIN/echo_server" --port "$PORT" --max-conns "$N" --timeout 280
wait_ready srv || fatal "echo_server did not start"

stop_file=$TMP/stop
t0=$SECONDS
for ((h = 0; h < n_holders; h++)); do
    n=$PER_HOLDER
    ((h == n_holders - 1)) && n=$((N - PER_HOLDER * (n_holders - 1)))
    start_bg "hold$h" peer -t 300 "$BIN/conn_hold" -a "$SERVER_IP" -p "$PORT" -n "$n" \
        -b "$srcs" -s 1024 -i "$h" -w "$stop_file" -T 150 -C 90
done
all_ready=1
for ((h = 0; h < n_holders; h++)); do
    wait_ready "hold$h" 170 || all_ready=0
done
setup_s=$((SECONDS - t0))
echoed=0
for ((h = 0; h < n_holders; h++)); do
    e=$(sed -n 's/.*READY .* echoed=\([0-9]*\) .*/\1/p' "${BG_LOG[hold$h]}")
    echoed=$((echoed + ${e:-0}))
done
check_eq "all $N connections opened and echoed 1 KiB intact (in $setup_s s)" "$echoed" "$N"
[[ $all_ready == 1 ]] || echo "    (a conn_hold process did not get ready)"

# The server side holds all of them at once.
if [[ $TAS_TEST_MODE == tasd ]]; then
    held=$(tasctl stats --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["slowpath"]; print(s["conns"]-s["time_wait"]-s["syn_rcvd"])')
    tasctl stats | sed -n -e '/^slow path/p' -e '/^applications:/,/^[a-z]/p' | head -n 6 | sed 's/^/    /'
else
    held=$(ip netns exec "$NS_A" ss -Htn state established "( sport = :$PORT )" | wc -l)
fi
check_eq "the server side holds $N established connections at once" "$held" "$N"

t1=$SECONDS
touch "$stop_file"
for ((h = 0; h < n_holders; h++)); do
    check "conn_hold $h: every connection closed cleanly (our FIN, the server's EOF)" \
        wait_bg "hold$h" 120
    grep -h '^conn_hold: id=' "${BG_LOG[hold$h]}" | sed 's/^/    /'
done
close_s=$((SECONDS - t1))
if [[ $echoed == "$N" ]]; then
    check "echo_server: $N connections served without an error" wait_bg srv 60
else
    stop_bg srv # it waits for connections that were never made
    check_eq "echo_server: connections served" "$(sed -n 's/.*served \([0-9]*\) .*/\1/p' \
        "${BG_LOG[srv]}")" "$N"
fi
grep -h 'served' "${BG_LOG[srv]}" | sed 's/^/    /'
check "echo_server held all $N at once (its max open)" \
    grep -q "max open $N," "${BG_LOG[srv]}"
echo "CONNSCALE-NUMBERS: [$TAS_TEST_MODE] conns=$N holders=$n_holders sources=$n_src" \
    "setup_s=$setup_s close_s=$close_s"

if [[ $TAS_TEST_MODE == tasd ]]; then
    check "tasd: no application, connection or listener left" tasd_idle
    check_eq "tasd: every flow id free again" "$(flows_free_now "$free0")" "$free0"
fi
finish
