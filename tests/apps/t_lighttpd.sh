#!/bin/bash
# t_lighttpd.sh - Debian's lighttpd (in the foreground, a minimal config
# written here) runs unmodified in ns A (under tasd, or on Linux with
# TAS_TEST_MODE=linux) and serves files to the Linux peer in ns B: ab with
# and without keep-alive (every request complete, none failed, all 2xx),
# wrk with 100 connections (no socket error, no non-2xx answer), and curl
# fetching a 10 MiB file with the same sha256.  lighttpd must still be
# running at the end, and tasd must be left with no application or
# connection.  APPS_WRK_SECS sets wrk's duration (default 5).
. "$(dirname "$0")/apps.sh"
apps_init t_lighttpd lighttpd ab wrk curl
net_setup
apps_mark_idle

PORT=8080
WWW=$TMP/www
mkdir -p "$WWW"
head -c 4096 /dev/urandom | base64 -w 76 | head -c 4096 >"$WWW/small.txt"
make_data "$WWW/big.bin" 10
cat >"$TMP/lighttpd.conf" <<CONF
server.document-root = "$WWW"
server.port = $PORT
server.bind = "0.0.0.0"
server.errorlog = "$TMP/lighttpd.error.log"
server.max-connections = 1024
server.max-keep-alive-requests = 1000
mimetype.assign = (".txt" => "text/plain", ".bin" => "application/octet-stream")
CONF
start_bg lighttpd tasd -t 600 "${APP[lighttpd]}" -D -f "$TMP/lighttpd.conf"
wait_port lighttpd "$SERVER_IP" "$PORT" || fatal "lighttpd did not start"

# ab_run NAME ARGS...: 2000 requests, 20 at a time, for the 4 KiB file;
# ab's report in AB_OUT.
ab_run() {
    local name=$1 rc=0 out=$TMP/ab.$N_PASS
    shift
    AB_OUT=$out
    run_linux_peer -t 120 "${APP[ab]}" -n 2000 -c 20 "$@" "http://$SERVER_IP:$PORT/small.txt" \
        >"$out" 2>&1 || rc=$?
    check_eq "ab $name: exit status" "$rc" 0
    check_eq "ab $name: complete requests" \
        "$(sed -n 's/^Complete requests: *\([0-9]*\)$/\1/p' "$out")" 2000
    check_eq "ab $name: failed requests" "$(sed -n 's/^Failed requests: *\([0-9]*\)$/\1/p' "$out")" 0
    check "ab $name: no non-2xx response" bash -c "! grep -q '^Non-2xx responses' '$out'"
    check_eq "ab $name: bytes of the document" \
        "$(sed -n 's/^Document Length: *\([0-9]*\) bytes$/\1/p' "$out")" 4096
    [[ $rc == 0 ]] || _show_log "$out"
    numbers "ab $name: $(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' "$out") req/s"
}
ab_run "(a connection per request)"
ab_run "-k (keep-alive)" -k
# ab -k counts keep-alive requests: all but the first on each connection
kept=$(sed -n 's/^Keep-Alive requests: *\([0-9]*\)$/\1/p' "$AB_OUT")
check "ab -k: connections were kept alive ($kept keep-alive requests)" test "${kept:-0}" -ge 1900

wrk_secs=${APPS_WRK_SECS:-5}
rc=0
run_linux_peer -t $((wrk_secs + 60)) "${APP[wrk]}" -t2 -c100 -d"${wrk_secs}s" \
    "http://$SERVER_IP:$PORT/small.txt" >"$TMP/wrk.out" 2>&1 || rc=$?
sed 's/^/    | /' "$TMP/wrk.out"
check_eq "wrk: exit status" "$rc" 0
check "wrk: no socket error" bash -c "! grep -q 'Socket errors' '$TMP/wrk.out'"
check "wrk: no non-2xx response" bash -c "! grep -q 'Non-2xx' '$TMP/wrk.out'"
check "wrk: requests done" grep -q -E '^ *[1-9][0-9]* requests in' "$TMP/wrk.out"
numbers "wrk -t2 -c100 ${wrk_secs}s: $(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$TMP/wrk.out") req/s"

check "curl from the peer fetches the 10 MiB file" \
    run_linux_peer -t 60 curl -sS --fail -o "$TMP/big.got" "http://$SERVER_IP:$PORT/big.bin"
check_eq "the fetched file has the same sha256" "$(sha "$TMP/big.got")" "$(sha "$WWW/big.bin")"

stop_server lighttpd
check "lighttpd logged its start and no error" bash -c \
    "grep -q 'server started' '$TMP/lighttpd.error.log' && ! grep -i -E 'error|fail' '$TMP/lighttpd.error.log'"
apps_check_idle
finish
