#!/bin/bash
# t_client.sh - unmodified clients run in ns A (under tasd, or on Linux with
# TAS_TEST_MODE=linux) against Linux servers in ns B: echo traffic with
# every byte checked, a 10 MB upload with sha256 compared, and the three
# ways a connection ends, seen from the client under tasd.
. "$(dirname "$0")/lib.sh"
tas_init t_client
net_setup

start_bg peer_echo peer -t 300 "$BIN/echo_server" --port 7000 --max-conns 12 --timeout 280
wait_ready peer_echo || fatal "Linux echo server did not start"
check "client under tasd: 64-B messages, 10 connections x 500, echoed exactly" \
    run_under_tasd -t 70 "$BIN/echo_client" --addr "$PEER_IP" --port 7000 \
    --conns 10 --msgs 500 --size 64 --timeout 60
check "client under tasd: 1-MB messages, 2 connections x 4, echoed exactly" \
    run_under_tasd -t 130 "$BIN/echo_client" --addr "$PEER_IP" --port 7000 \
    --conns 2 --msgs 4 --size 1048576 --timeout 120
check "Linux echo server saw all 12 connections end cleanly" wait_bg peer_echo 30

make_data "$TMP/data" 10
transfer "client under tasd uploads 10 MB" tasd peer to "$TMP/data" 7001 120
transfer "client under tasd downloads 10 MB" peer tasd from "$TMP/data" 7002 120

close_case "Linux server closes" peer tasd server fin 7010
close_case "Linux server resets" peer tasd server rst 7011
close_case "client under tasd closes" peer tasd client fin 7012
finish
