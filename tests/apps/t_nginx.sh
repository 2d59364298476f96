#!/bin/bash
# t_nginx.sh - Debian's nginx-light runs unmodified in ns A (under tasd, or
# on Linux with TAS_TEST_MODE=linux) as it does in production: a master
# process that listens and forks 2 workers which all accept on the
# inherited sockets (worker_processes 2; master_process on; daemon off).
# It serves a 100 MiB file with sendfile on (port 8080) and off (port
# 8081): curl on the Linux peer in ns B fetches it from each with the same
# sha256; then wrk -t2 -c100 for APPS_WRK_SECS seconds (default 10) must see
# no socket error and no non-2xx answer.  nginx must still be running at
# the end, log no error, and tasd must be left with no application or
# connection.  With the master on, two reloads (SIGHUP) under wrk load must
# give no non-2xx answer, and the 100 MiB file again afterwards.
#
# Under tasd the workers take the master's listeners over on their first
# epoll_ctl (libtas/core/attach.c); the master, which never accepts, gets no
# connections.  APPS_NGINX_MASTER=off runs nginx as one process instead
# (master_process off; no fork): t_nginx_single.sh.
. "$(dirname "$0")/apps.sh"
MASTER=${APPS_NGINX_MASTER:-on}
if [[ $MASTER == on ]]; then
    apps_init t_nginx nginx curl wrk
else
    apps_init t_nginx_single nginx curl wrk
fi
net_setup
apps_mark_idle

WWW=$TMP/www
mkdir -p "$WWW" "$TMP/nginx"
make_data "$WWW/big.bin" 100
head -c 4096 /dev/urandom | base64 -w 76 | head -c 4096 >"$WWW/small.txt"
cat >"$TMP/nginx.conf" <<CONF
worker_processes 2;
master_process $MASTER;
daemon off;
user root;
pid $TMP/nginx.pid;
error_log $TMP/nginx.error.log info;
events { worker_connections 1024; }
http {
    access_log off;
$(nginx_temp_paths)
    types { text/plain txt; application/octet-stream bin; }
    keepalive_requests 100000;
    server { listen 8080; root $WWW; sendfile on; }
    server { listen 8081; root $WWW; sendfile off; }
}
CONF
check "nginx -t accepts the configuration" timeout 20 "${APP[nginx]}" -t -q -p "$TMP/nginx" \
    -e "$TMP/nginx.error.log" -c "$TMP/nginx.conf"
start_bg nginx tasd -t 600 "${APP[nginx]}" -p "$TMP/nginx" -e "$TMP/nginx.error.log" \
    -c "$TMP/nginx.conf"
wait_port nginx "$SERVER_IP" 8080 || fatal "nginx did not start"
wait_port nginx "$SERVER_IP" 8081 || fatal "nginx did not listen on 8081"
if [[ $MASTER == on ]]; then
    # timeout -> nginx master (ip netns exec and env exec) -> workers
    master=$(pgrep -P "${BG_PID[nginx]}" | head -n 1)
    check_eq "the nginx master forked 2 workers" "$(pgrep -P "${master:-1}" -x nginx | wc -l)" 2
fi

want=$(sha "$WWW/big.bin")
for port in 8080 8081; do
    sf=on
    [[ $port == 8081 ]] && sf=off
    rm -f "$TMP/big.got"
    check "curl from the peer fetches 100 MiB (sendfile $sf)" \
        run_linux_peer -t 120 curl -sS --fail -o "$TMP/big.got" "http://$SERVER_IP:$port/big.bin"
    check_eq "sha256 of the 100 MiB file (sendfile $sf)" "$(sha "$TMP/big.got" 2>/dev/null)" "$want"
done
rm -f "$TMP/big.got"

wrk_secs=${APPS_WRK_SECS:-10}
rc=0
run_linux_peer -t $((wrk_secs + 60)) wrk -t2 -c100 -d"${wrk_secs}s" \
    "http://$SERVER_IP:8080/small.txt" >"$TMP/wrk.out" 2>&1 || rc=$?
sed 's/^/    | /' "$TMP/wrk.out"
check_eq "wrk: exit status" "$rc" 0
check "wrk: no socket error" bash -c "! grep -q 'Socket errors' '$TMP/wrk.out'"
check "wrk: no non-2xx response" bash -c "! grep -q 'Non-2xx' '$TMP/wrk.out'"
check "wrk: requests done" grep -q -E '^ *[1-9][0-9]* requests in' "$TMP/wrk.out"
numbers "wrk -t2 -c100 ${wrk_secs}s (master_process $MASTER):" \
    "$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$TMP/wrk.out") req/s"

if [[ $MASTER == on ]]; then
    # A reload (SIGHUP) twice under load: the master forks new workers,
    # which take the listeners over; the old ones finish their requests and
    # exit (the keep-alive connections they close count as wrk read errors,
    # on Linux too).
    run_linux_peer -t 60 wrk -t2 -c50 -d4s "http://$SERVER_IP:8080/small.txt" \
        >"$TMP/wrk2.out" 2>&1 &
    wrk_pid=$!
    sleep 1
    kill -HUP "$master"
    sleep 1.5
    kill -HUP "$master"
    rc=0
    wait "$wrk_pid" || rc=$?
    sed 's/^/    | /' "$TMP/wrk2.out"
    check_eq "wrk across two reloads: exit status" "$rc" 0
    check "wrk across two reloads: no non-2xx response" \
        bash -c "! grep -q 'Non-2xx' '$TMP/wrk2.out'"
    check "wrk across two reloads: requests done" \
        grep -q -E '^ *[1-9][0-9]* requests in' "$TMP/wrk2.out"
    rm -f "$TMP/big.got"
    check "after the reloads curl fetches 100 MiB" \
        run_linux_peer -t 120 curl -sS --fail -o "$TMP/big.got" "http://$SERVER_IP:8080/big.bin"
    check_eq "sha256 of the 100 MiB file after the reloads" "$(sha "$TMP/big.got" 2>/dev/null)" \
        "$want"
    rm -f "$TMP/big.got"
    # (the old workers exit once their last connection is closed)
    workers_back() {
        local i
        for ((i = 0; i < 50; i++)); do
            [[ $(pgrep -P "$master" -x nginx | wc -l) == 2 ]] && return 0
            sleep 0.2
        done
        pgrep -a -P "$master"
        return 1
    }
    check "2 workers again after the reloads" workers_back
fi

stop_server nginx
nginx_errors() {
    local re='\[(error|crit|alert|emerg)\]' n
    n=$(grep -c -E "$re" "$TMP/nginx.error.log")
    echo "$n error lines in nginx's log; the first:"
    grep -m 3 -E "$re" "$TMP/nginx.error.log"
    [[ $n == 0 ]]
}
check "nginx logged no error" nginx_errors
apps_check_idle
finish
