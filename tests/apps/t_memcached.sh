#!/bin/bash
# t_memcached.sh - Debian's memcached (4 worker threads) runs unmodified in ns A (under tasd, or on Linux with
# TAS_TEST_MODE=linux); from the Linux peer in ns B, memcslap loads it with
# 20 threads (set, get, multi-get; every operation counted, no error), and
# memcache_check.py stores 200 values of known content (0 B to 512 KiB)
# and reads every byte back, key by key and with multi-key gets.  memcached
# must still be running at the end, and tasd must be left with no
# application or connection.
. "$(dirname "$0")/apps.sh"
apps_init t_memcached memcached memcslap
net_setup
apps_mark_idle

PORT=11211
THREADS=20
EXEC=${APPS_MEMCSLAP_N:-2000}

# -U 0: no UDP port; -l 0.0.0.0: every address of ns A.  -u root: as
# nobody, memcached could not reach app.sock in the test's private run
# directory (it drops privileges before it opens its sockets).
start_bg memcached tasd -t 600 "${APP[memcached]}" -u root -l 0.0.0.0 -p "$PORT" -U 0 \
    -t 4 -c 1024 -m 128
wait_port memcached "$SERVER_IP" "$PORT" || fatal "memcached did not start"

# slap TEST: memcslap with THREADS threads, EXEC operations each.  memcslap
# exits 0 even when every operation failed: it only prints "Fatal error ..."
# lines, and counts the keys it got through.
slap() {
    local t=$1 rc=0 out=$TMP/memcslap.$1
    local t0=$EPOCHREALTIME
    run_linux_peer -t 120 "${APP[memcslap]}" --servers="$SERVER_IP:$PORT" \
        --concurrency=$THREADS --execute-number="$EXEC" --test="$t" --verbose >"$out" 2>&1 || rc=$?
    local ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
    check_eq "memcslap $t: exit status" "$rc" 0
    check "memcslap $t: no error" bash -c "! grep -i -E 'error|fail' '$out'"
    local n
    n=$(sed -n "s/^Time to $t *\([0-9]*\) keys by .*/\1/p" "$out")
    check_eq "memcslap $t: every operation done ($THREADS x $EXEC)" "$n" $((THREADS * EXEC))
    [[ $rc == 0 && $n == $((THREADS * EXEC)) ]] || _show_log "$out"
    numbers "memcslap $t: $((THREADS * EXEC)) keys in ${ms} ms"
}
slap set
slap get
slap mget

check "memcache_check: 200 values of 0 B..512 KiB come back byte for byte" \
    run_linux_peer -t 60 python3 "$APPS_DIR/memcache_check.py" "$SERVER_IP" "$PORT" \
    --keys 200 --max-size 524288
stop_server memcached
apps_check_idle
finish
