#!/bin/bash
# t_connburst.sh - 10,000 connects at the same moment (issue 8: listen
# backlog and SYN queue): conn_hold in ns B opens them all at once (every
# connect in flight together, from two source addresses) to one
# echo_server listening with a backlog of 128 (Linux's somaxconn before
# 5.4).  SYNs and handshakes that meet the full accept queue wait a moment
# for room (slowpath/listen.c) or are dropped and retried by the Linux
# client; before that hold, 1-8% of them timed out here.  Every connection
# must echo 1 KiB intact and close cleanly within the bounds, and tasd must
# end with no connection and every flow id free.
. "$(dirname "$0")/lib.sh"
tas_init t_connburst "$BIN/echo_server" "$BIN/conn_hold"

N=10000
net_setup
peer_add_ips 2
srcs=$(IFS=,; echo "${PEER_IPS[*]:1}")
free0=
[[ $TAS_TEST_MODE == tasd ]] && free0=$(sp_stat flows_free)

start_bg srv tasd -t 150 "$BIN/echo_server" --port 7000 --max-conns "$N" --timeout 140 \
    --backlog 128
wait_ready srv || fatal "echo_server did not start"
t0=$SECONDS
check "$N connects at once: every connection echoed 1 KiB and closed cleanly" \
    run_linux_peer -t 130 "$BIN/conn_hold" -a "$SERVER_IP" -p 7000 -n "$N" -P "$N" \
    -b "$srcs" -s 1024 -t 1 -T 60 -C 30
echo "    ($((SECONDS - t0)) s with a second's hold)"
check "echo_server: $N connections served without an error" wait_bg srv 30
grep -h 'served' "${BG_LOG[srv]}" | sed 's/^/    /'
if [[ $TAS_TEST_MODE == tasd ]]; then
    echo "    at the full accept queue: $(sp_stat counters.syn_held) frames held," \
        "$(sp_stat counters.syn_drop_backlog) dropped; SYN cookies: $(stat_sum syncookies_sent)"
    check "tasd: no application, connection or listener left" tasd_idle
    check_eq "tasd: every flow id free again" "$(flows_free_now "$free0")" "$free0"
fi
finish
