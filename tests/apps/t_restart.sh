#!/bin/bash
# t_restart.sh - servers that outlive tasd (issue 11).  redis-server, nginx
# (a master and 2 workers) and an asyncio echo server run under the shim
# with TAS_FALLBACK=0 while tasd is stopped with SIGTERM and started again
# TAS_RESTART_ROUNDS times (default 5), then as many times killed with
# SIGKILL and started again.  In every round:
#   - while tasd is down (2 s), each server is still running, uses under 2%
#     of a core (the CPU time of its processes over those 2 s: a server
#     whose dead listener counts as ready spins at 20-100%), and logs no line
#     but the shim's own (at most one per process);
#   - once tasd is ready again, the same processes serve new Linux clients
#     within 2 s: redis PING and a SET/GET of a fresh value, a 64 KiB file
#     from nginx compared by sha256, 4 x 1 KiB echoed intact by the asyncio
#     server;
#   - a connection open across the stop fails as on a reset (redis-cli's
#     next command on it says so) rather than hanging.
. "$(dirname "$0")/apps.sh"
apps_init t_restart redis-server redis-cli nginx curl
tasd_only "t_restart stops and starts tasd under running servers"
net_setup

ROUNDS=${TAS_RESTART_ROUNDS:-5}
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || fatal "TAS_RESTART_ROUNDS must be >= 1"

WWW=$TMP/www
mkdir -p "$WWW" "$TMP/nginx"
head -c 65536 /dev/urandom >"$WWW/file.bin"
cat >"$TMP/nginx.conf" <<CONF
worker_processes 2;
master_process on;
daemon off;
user root;
pid $TMP/nginx.pid;
error_log $TMP/nginx.error.log notice;
events { worker_connections 1024; }
http {
    access_log off;
$(nginx_temp_paths)
    types { application/octet-stream bin; }
    server { listen 8080; root $WWW; }
}
CONF

start_bg redis tasd -t 900 "${APP[redis-server]}" --port 6379 --bind 0.0.0.0 \
    --protected-mode no --save '' --appendonly no --daemonize no --dir "$TMP" --logfile ''
start_bg nginx tasd -t 900 "${APP[nginx]}" -p "$TMP/nginx" -e "$TMP/nginx.error.log" \
    -c "$TMP/nginx.conf"
start_bg aecho tasd -t 900 /usr/bin/python3 "$APPS_DIR/echo_asyncio.py" --port 7000 \
    --max-conns 100000 --timeout 900
wait_port redis "$SERVER_IP" 6379 || fatal "redis-server did not start"
wait_port nginx "$SERVER_IP" 8080 || fatal "nginx did not start"
wait_ready aecho || fatal "the asyncio server did not start"

# The servers' logs: what they write (nginx's error log; the others' stderr
# and stdout), and the processes of each (the program and its children).
declare -A LOGF=([redis]=${BG_LOG[redis]} [nginx]=$TMP/nginx.error.log [aecho]=${BG_LOG[aecho]})
pids_of() { # pids_of NAME: the server's process and every descendant
    local todo=("${BG_PID[$1]}") p
    while [[ ${#todo[@]} -gt 0 ]]; do
        p=${todo[0]}
        todo=("${todo[@]:1}")
        echo "$p"
        mapfile -t -O "${#todo[@]}" todo < <(pgrep -P "$p")
    done
}
cpu_ticks() { # cpu_ticks NAME: utime + stime of its processes, in clock ticks
    local p t=0 f
    for p in $(pids_of "$1"); do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${f% *} + ${f#* }))
    done
    echo "$t"
}
HZ=$(getconf CLK_TCK)
SHA=$(sha "$WWW/file.bin")

serves() { # serves: every server answers a new Linux client correctly
    local v=$RANDOM$RANDOM
    run_linux_peer -t 5 "${APP[redis-cli]}" -h "$SERVER_IP" PING | grep -qx PONG || return 1
    run_linux_peer -t 5 "${APP[redis-cli]}" -h "$SERVER_IP" SET k "$v" | grep -qx OK || return 1
    [[ $(run_linux_peer -t 5 "${APP[redis-cli]}" -h "$SERVER_IP" GET k) == "$v" ]] || return 1
    run_linux_peer -t 5 curl -s -o "$TMP/got.bin" "http://$SERVER_IP:8080/file.bin" || return 1
    [[ $(sha "$TMP/got.bin") == "$SHA" ]] || return 1
    run_linux_peer -t 5 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 --conns 1 \
        --msgs 4 --size 1024 --timeout 4 >/dev/null 2>&1
}
serves_within() { # serves_within SECONDS
    local end=$((SECONDS + $1))
    until serves; do
        [[ $SECONDS -lt $end ]] || return 1
        sleep 0.1
    done
}
check "before any restart: the servers serve Linux clients" serves_within 5

# A client connection held open across the first stop (redis-cli reading
# commands from a pipe).
mkfifo "$TMP/held.in"
start_bg -i "$TMP/held.in" held peer -t 120 "${APP[redis-cli]}" -h "$SERVER_IP"
exec 7>"$TMP/held.in"
echo PING >&7
sleep 0.3

round() { # round N HOW: stop tasd (term or kill), check the servers, start it
    local n=$1 how=$2 name s
    declare -A lines0=() ticks0=()
    for name in redis nginx aecho; do
        lines0[$name]=$(wc -l <"${LOGF[$name]}")
    done
    if [[ $how == kill ]]; then
        local tp
        tp=$(pgrep -P "$TASD_PID" -x tasd || echo "$TASD_PID")
        kill -9 "$tp"
        wait "$TASD_PID" 2>/dev/null
        TASD_PID=
    else
        stop_tasd
    fi
    sleep 0.5 # the servers notice
    for name in redis nginx aecho; do
        ticks0[$name]=$(cpu_ticks "$name")
    done
    sleep 2
    for name in redis nginx aecho; do
        local used=$(($(cpu_ticks "$name") - ticks0[$name]))
        # 2% of a core over 2 s is 0.04 s
        check "round $n ($how): $name runs while tasd is down, using $used/$HZ s of CPU in 2 s" \
            test "$used" -le $((HZ * 4 / 100)) -a -n "$(pids_of "$name")"
        local added
        added=$(tail -n +"$((lines0[$name] + 1))" "${LOGF[$name]}" | grep -vc '^libtas: ')
        if [[ $added -gt 0 ]]; then
            tail -n +"$((lines0[$name] + 1))" "${LOGF[$name]}" | grep -v '^libtas: ' |
                head -n 5 | sed 's/^/    | /'
        fi
        check_eq "round $n ($how): $name logged nothing of its own while tasd was down" \
            "$added" 0
    done
    start_tasd || fatal "round $n: tasd did not start again"
    s=$SECONDS
    check "round $n ($how): the same processes serve new clients within 2 s of tasd being ready" \
        serves_within 2
    echo "    served again after $((SECONDS - s)) s"
}

round 1 term
echo PING >&7 # on the connection that was open across the stop
exec 7>&-
wait_bg held 10 >/dev/null 2>&1
check "a connection open across the stop failed as on a reset, not silently" \
    grep -qiE 'reset|closed|error' "${BG_LOG[held]}"
for ((i = 2; i <= ROUNDS; i++)); do
    round "$i" term
done
for ((i = 1; i <= ROUNDS; i++)); do
    round "k$i" kill
done
for name in redis nginx aecho; do
    n=$(grep -c 'libtas: tasd exited' "${BG_LOG[$name]}")
    procs=1
    [[ $name == nginx ]] && procs=3
    check "$name: the shim said tasd exited at most once per process ($n, $procs processes)" \
        test "$n" -le "$procs"
done
stop_server redis
stop_server nginx
stop_server aecho
finish
