#!/bin/bash
# t_curl.sh - Debian's curl runs unmodified in ns A (under tasd, or on
# Linux with TAS_TEST_MODE=linux) against nginx on the Linux peer in ns B
# (no shim there): one 10 MiB download with the same sha256, then 50
# short-lived curl processes in a row, each fetching a 64 KiB file (exit
# status 0, bytes identical).  Afterwards tasd must be left with no
# application, connection (other than TIME_WAIT), listener or flow: every
# one of the 51 processes registered and went away cleanly.
. "$(dirname "$0")/apps.sh"
apps_init t_curl curl nginx
net_setup
apps_mark_idle

RUNS=${APPS_CURL_RUNS:-50}
WWW=$TMP/www
mkdir -p "$WWW"
make_data "$WWW/big.bin" 10
head -c 65536 /dev/urandom >"$WWW/small.bin"

mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<CONF
master_process off;
daemon off;
user root;
pid $TMP/nginx.pid;
error_log $TMP/nginx.error.log;
events { worker_connections 256; }
http {
    access_log $TMP/access.log;
$(nginx_temp_paths)
    types { application/octet-stream bin; }
    server { listen $PEER_IP:8000; root $WWW; }
}
CONF
start_bg http peer -t 300 "${APP[nginx]}" -p "$TMP/nginx" -e "$TMP/nginx.error.log" \
    -c "$TMP/nginx.conf"
wait_port http "$PEER_IP" 8000 || fatal "nginx on the peer did not start"

check "curl under tasd downloads 10 MiB" \
    run_under_tasd -t 60 "${APP[curl]}" -sS --fail -o "$TMP/big.got" "http://$PEER_IP:8000/big.bin"
check_eq "the download has the sha256 of the served file" "$(sha "$TMP/big.got")" "$(sha "$WWW/big.bin")"

want=$(sha "$WWW/small.bin")
ok=0
t0=$EPOCHREALTIME
for ((i = 1; i <= RUNS; i++)); do
    rm -f "$TMP/small.got"
    if ! run_under_tasd -t 20 "${APP[curl]}" -sS --fail -o "$TMP/small.got" \
        "http://$PEER_IP:8000/small.bin" >"$TMP/curl.err" 2>&1; then
        echo "curl run $i failed:"
        _show_log "$TMP/curl.err"
    elif [[ $(sha "$TMP/small.got") != "$want" ]]; then
        echo "curl run $i: the 64 KiB file came back different"
    else
        ok=$((ok + 1))
    fi
done
ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
check_eq "$RUNS curl processes in a row under tasd, each exit 0 with identical bytes" "$ok" "$RUNS"
numbers "$RUNS curl runs in $ms ms ($((ms / RUNS)) ms each)"
stop_server http
check "nginx on the peer answered 200 to all $((RUNS + 1)) requests" \
    test "$(grep -c '" 200 ' "$TMP/access.log")" -eq $((RUNS + 1))
apps_check_idle
if [[ $TAS_TEST_MODE == tasd ]]; then
    check "every curl process registered with tasd ($APPS_REGISTERED of $((RUNS + 1)))" \
        test "$APPS_REGISTERED" -ge $((RUNS + 1))
fi
finish
