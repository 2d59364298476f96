#!/bin/bash
# t_redis.sh - Debian's redis-server runs unmodified in ns A (under tasd, or
# on Linux with TAS_TEST_MODE=linux); Linux clients in ns B load and check
# it: redis-benchmark's default tests with 50 clients, without and with
# pipelining (-P 16), each test reported and no error; a 1 MiB binary value
# SET and read back with the same sha256; and a client blocked in BLPOP
# that neither stalls another client's PING (answered in < 1 s) nor misses
# the LPUSH that wakes it; BGSAVE (a fork) saves, and the parent goes on
# serving old and new connections.  redis-server must still be running at
# the end, and tasd must be left with no application or connection.
. "$(dirname "$0")/apps.sh"
apps_init t_redis redis-server redis-cli redis-benchmark
net_setup
apps_mark_idle

N=${APPS_REDIS_N:-20000}
PORT=6379
# The default tests of redis-benchmark 7 (-t unset): each must report.
TESTS_WANT="PING_INLINE PING_MBULK SET GET INCR LPUSH RPUSH LPOP RPOP SADD HSET SPOP ZADD
ZPOPMIN LPUSH_(needed_to_benchmark_LRANGE) LRANGE_100_(first_100_elements)
LRANGE_300_(first_300_elements) LRANGE_500_(first_500_elements)
LRANGE_600_(first_600_elements) MSET_(10_keys)"

# Foreground, no persistence, no config file: everything on the command line.
start_bg redis tasd -t 600 "${APP[redis-server]}" --port "$PORT" --bind 0.0.0.0 \
    --protected-mode no --save '' --appendonly no --daemonize no --dir "$TMP" \
    --logfile ''
wait_port redis "$SERVER_IP" "$PORT" || fatal "redis-server did not start"

cli() { run_linux_peer -t 30 "${APP[redis-cli]}" -h "$SERVER_IP" -p "$PORT" "$@"; }

# bench NAME ARGS...: redis-benchmark with --csv; PASS when it exits 0,
# reports every default test with a rate > 0 and prints no error (it exits
# at the first error reply).
bench() {
    local name=$1 rc=0
    shift
    local out=$TMP/bench.$N_PASS.csv
    run_linux_peer -t 240 "${APP[redis-benchmark]}" -h "$SERVER_IP" -p "$PORT" \
        -c 50 --csv "$@" >"$out" 2>&1 || rc=$?
    check_eq "redis-benchmark $name: exit status" "$rc" 0
    local got
    got=$(awk -F'","' 'NR > 1 && $2 + 0 > 0 { gsub(/^"/, "", $1); gsub(/ /, "_", $1); print $1 }' \
        "$out" | sort | tr '\n' ' ')
    check_eq "redis-benchmark $name: every default test reported a rate" \
        "$got" "$(tr -s ' ' '\n' <<<"$TESTS_WANT" | sort | tr '\n' ' ')"
    check "redis-benchmark $name: no error" bash -c "! grep -i -E 'error|fail' '$out'"
    [[ $rc == 0 ]] || _show_log "$out"
    numbers "redis-benchmark $name:" \
        "$(awk -F'","' '$1 ~ /^"(SET|GET|PING_INLINE)$/ || $1 ~ /^"LRANGE_100 / { sub(/ .*/, "", $1); printf "%s=%.0f ", substr($1, 2), $2 }' "$out")req/s"
}
bench "50 clients" -n "$N"
bench "50 clients -P 16" -n "$((N * 2))" -P 16

# A binary value with a known sha256 round-trips (redis-cli --raw adds a newline).
make_data "$TMP/value" 1
set_blob() { cli -x SET blob <"$TMP/value" | grep -qx OK; }
check "redis-cli SET of a 1 MiB binary value" set_blob
cli --raw GET blob >"$TMP/value.got"
head -c -1 "$TMP/value.got" >"$TMP/value.back"
check_eq "redis-cli GET returns the value with the same sha256" \
    "$(sha "$TMP/value.back")" "$(sha "$TMP/value")"
check_eq "STRLEN of the value" "$(cli STRLEN blob)" 1048576

# A client blocked in BLPOP does not stall the server: another client's PING
# answers within 1 s, and an LPUSH wakes the blocked client with the value.
cli DEL queue >/dev/null
start_bg -o "$TMP/blpop.out" blpop peer -t 30 "${APP[redis-cli]}" -h "$SERVER_IP" \
    -p "$PORT" BLPOP queue 20
sleep 1
t0=$EPOCHREALTIME
pong=$(cli PING)
ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
check_eq "PING while another client is blocked in BLPOP" "$pong" PONG
check "that PING answered in < 1 s (${ms} ms)" test "$ms" -lt 1000
check "the BLPOP client is still blocked" _alive "${BG_PID[blpop]}"
check_eq "LPUSH to the blocked list" "$(cli LPUSH queue wake-up)" 1
check "BLPOP returned after the LPUSH" wait_bg blpop 5
check_eq "BLPOP got the pushed value" "$(tr '\n' ' ' <"$TMP/blpop.out")" "queue wake-up "

# BGSAVE forks: the child writes the dump and closes its copies of the
# listening and client sockets (tasd sockets, under tasd); the parent must
# go on serving old and new connections.
check_eq "BGSAVE starts" "$(cli BGSAVE)" "Background saving started"
for ((i = 0; i < 100; i++)); do
    [[ $(cli INFO persistence | tr -d '\r' | grep '^rdb_bgsave_in_progress:') == *:0 ]] && break
    sleep 0.1
done
check_eq "BGSAVE's child saved the dump" \
    "$(cli INFO persistence | tr -d '\r' | sed -n 's/^rdb_last_bgsave_status://p')" ok
check "the dump is in the data directory" test -s "$TMP/dump.rdb"
check_eq "after the fork: the 1 MiB value is still there" "$(cli STRLEN blob)" 1048576
check "after the fork: 20 new connections x 1000 GETs" \
    run_linux_peer -t 60 "${APP[redis-benchmark]}" -h "$SERVER_IP" -p "$PORT" -c 20 -n 20000 \
    -t get -q

check_eq "redis-server answers INFO after the load" \
    "$(cli INFO server | grep -c '^redis_version:')" 1
stop_server redis
apps_check_idle
finish
