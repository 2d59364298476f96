#!/bin/bash
# t_sockbuf.sh - SO_RCVBUF/SO_SNDBUF set before listen() size the rings of
# the connections: with 4096 asked, the accepted socket reports 8192 (the
# kernel's doubled value, as Linux) and 10 MB still go through the small
# rings byte for byte, each way.
. "$(dirname "$0")/lib.sh"
tas_init t_sockbuf
net_setup

make_data "$TMP/data" 10
start_bg -o "$TMP/rx" rx tasd -t 120 env TU_SOCKBUF=4096 "$BIN/tcp_recv" --listen \
    --port 7040
wait_ready rx || fatal "receiver did not start"
start_bg -i "$TMP/data" tx peer -t 120 "$BIN/tcp_send" --addr "$SERVER_IP" --port 7040
check "10 MB into an 8 KiB receive ring: sender done" wait_bg tx 110
check "10 MB into an 8 KiB receive ring: receiver done" wait_bg rx 30
check_eq "10 MB into an 8 KiB receive ring: sha256" "$(sha "$TMP/rx")" "$(sha "$TMP/data")"
check "the accepted socket reports SO_RCVBUF 8192 SO_SNDBUF 8192" \
    grep -q "SO_RCVBUF 8192 SO_SNDBUF 8192" "${BG_LOG[rx]}"

start_bg -i "$TMP/data" tx2 tasd -t 120 env TU_SOCKBUF=4096 "$BIN/tcp_send" --listen \
    --port 7041
wait_ready tx2 || fatal "sender did not start"
start_bg -o "$TMP/rx2" rx2 peer -t 120 "$BIN/tcp_recv" --addr "$SERVER_IP" --port 7041
check "10 MB out of an 8 KiB send ring: sender done" wait_bg tx2 110
check "10 MB out of an 8 KiB send ring: receiver done" wait_bg rx2 30
check_eq "10 MB out of an 8 KiB send ring: sha256" "$(sha "$TMP/rx2")" "$(sha "$TMP/data")"
finish
