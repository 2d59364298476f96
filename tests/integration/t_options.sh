#!/bin/bash
# t_options.sh - a Linux peer that offers neither timestamps nor window
# scaling (per-namespace sysctls in ns B): connections still work, bulk data
# arrives intact, and the server side's SYN-ACK carries neither option
# (checked on the wire with tshark when it is installed).
. "$(dirname "$0")/lib.sh"
tas_init t_options
net_setup

ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_timestamps=0 net.ipv4.tcp_window_scaling=0
check_eq "peer has timestamps and window scaling off" \
    "$(ip netns exec "$NS_B" sysctl -n net.ipv4.tcp_timestamps net.ipv4.tcp_window_scaling | tr '\n' ' ')" \
    "0 0 "

capture=no
if command -v tshark >/dev/null 2>&1; then
    start_bg cap peer -t 200 tshark -n -i "$VETH_B" -f 'tcp[tcpflags] & tcp-syn != 0' \
        -w "$TMP/syn.pcap"
    for ((i = 0; i < 100; i++)); do
        grep -q 'Capturing on' "${BG_LOG[cap]}" && { capture=yes; break; }
        sleep 0.1
    done
    [[ $capture == yes ]] || { echo "tshark did not start; not checking the wire:"; show_bg_log cap; }
else
    echo "tshark not installed: not checking SYN-ACK options on the wire"
fi

start_bg server tasd -t 200 "$BIN/echo_server" --port 7000 --max-conns 4 --timeout 180
wait_ready server || fatal "echo server did not start"
check "256-KB messages, 4 connections x 20, echoed exactly without timestamps/window scaling" \
    run_linux_peer -t 100 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 4 --msgs 20 --size 262144 --timeout 90
check "server served the 4 connections cleanly" wait_bg server 30

make_data "$TMP/data" 20
transfer "Linux client sends 20 MB (64 KB window, no timestamps)" peer tasd to "$TMP/data" 7001 120
transfer "server under tasd sends 20 MB (64 KB window, no timestamps)" tasd peer from \
    "$TMP/data" 7002 120

if [[ $capture == yes ]]; then
    sleep 1 # let dumpcap flush
    stop_bg cap
    synacks=$(tshark -n -r "$TMP/syn.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==1' 2>/dev/null | wc -l)
    bad=$(tshark -n -r "$TMP/syn.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==1 &&
        (tcp.options.timestamp.tsval || tcp.options.wscale.shift)' 2>/dev/null | wc -l)
    check "captured the server side's SYN-ACKs ($synacks)" test "$synacks" -ge 6
    check_eq "SYN-ACKs carrying timestamps or window scale (peer offered neither)" "$bad" 0
fi
finish
