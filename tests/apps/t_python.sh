#!/bin/bash
# t_python.sh - Debian's /usr/bin/python3 runs unmodified in ns A (under
# tasd, or on Linux with TAS_TEST_MODE=linux): `python3 -m http.server`
# serves a 10 MiB file that curl on the Linux peer fetches (4 at once) with
# the same sha256, and an asyncio echo server (echo_asyncio.py) echoes
# every byte to the integration tests' echo_client on the peer: 64-B
# messages on 20 connections, 1-MiB messages on 4, and 100 connections open
# at the same time.  Both servers must end cleanly, and tasd must be left
# with no application or connection.
. "$(dirname "$0")/apps.sh"
apps_init t_python python3 curl
net_setup
apps_mark_idle

WWW=$TMP/www
mkdir -p "$WWW"
make_data "$WWW/big.bin" 10

start_bg http tasd -t 300 /usr/bin/python3 -m http.server 8000 --bind 0.0.0.0 --directory "$WWW"
wait_port http "$SERVER_IP" 8000 || fatal "python3 -m http.server did not start"
for i in 1 2 3 4; do
    start_bg "curl$i" peer -t 60 curl -sS --fail -o "$TMP/got.$i" "http://$SERVER_IP:8000/big.bin"
done
for i in 1 2 3 4; do
    check "curl $i of 4 (at once) from the peer fetched the 10 MiB file" wait_bg "curl$i" 60
    check_eq "curl $i: sha256 equal to the served file's" "$(sha "$TMP/got.$i")" "$(sha "$WWW/big.bin")"
done
stop_server http
check "http.server logged 4 answers 200 for /big.bin" \
    test "$(grep -c '"GET /big.bin HTTP/1.1" 200' "${BG_LOG[http]:-$TMP/http.log}")" -eq 4

# With --bind :: (its default where the host has IPv6 addresses),
# http.server listens on an AF_INET6 socket that also takes IPv4 (dual
# stack, IPV6_V6ONLY 0): IPv4 clients show as ::ffff:a.b.c.d.
start_bg http6 tasd -t 300 /usr/bin/python3 -m http.server 8001 --bind :: --directory "$WWW"
wait_port http6 "$SERVER_IP" 8001 || fatal "python3 -m http.server (dual stack) did not start"
check "curl from the peer fetches the 10 MiB file from http.server on :: (dual stack)" \
    run_linux_peer -t 60 curl -sS --fail -o "$TMP/got.6" "http://$SERVER_IP:8001/big.bin"
check_eq "sha256 equal to the served file's (dual stack)" "$(sha "$TMP/got.6")" \
    "$(sha "$WWW/big.bin")"
stop_server http6
check "http.server on :: saw the client as ::ffff:$PEER_IP" \
    grep -q "^::ffff:$PEER_IP .*GET /big.bin" "${BG_LOG[http6]}"

# 20 + 4 + 100 connections; the asyncio server exits after the last one.
start_bg echo tasd -t 200 /usr/bin/python3 "$APPS_DIR/echo_asyncio.py" --port 7000 \
    --max-conns 124 --timeout 180
wait_ready echo || fatal "asyncio echo server did not start"
check "asyncio echo: 64-B messages, 20 connections x 200, echoed exactly" \
    run_linux_peer -t 70 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 20 --msgs 200 --size 64 --timeout 60
check "asyncio echo: 1-MiB messages, 4 connections x 4, echoed exactly" \
    run_linux_peer -t 70 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 4 --msgs 4 --size 1048576 --timeout 60
check "asyncio echo: 100 connections open at once x 10 messages of 64 B" \
    run_linux_peer -t 70 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
    --conns 100 --msgs 10 --size 64 --barrier --timeout 60
check "asyncio echo server served all 124 connections without an error and exited 0" \
    wait_bg echo 30
show_bg_log echo
apps_check_idle
finish
