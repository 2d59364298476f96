#!/bin/bash
# t_idle.sh - idle connections give their rings' memory back (issue 8;
# libtas/core/idle.c, fastpath/idle.c), and nothing is lost by it:
#   - N connections to echo_server under tasd (TAS_IDLE_MS=2000) each echo
#     1 KiB, then idle: within a few seconds tasd counts N rings released
#     and the application's region has given back about a page per
#     connection (st_blocks of its memfd);
#   - the same connections then echo 64 KiB each (rings grown past what they
#     held, from fresh pages), checked byte for byte, and close cleanly;
#   - churn: with TAS_IDLE_MS=20, connections pause 0-60 ms between random
#     requests, so the library's asks race with new bytes both ways: every
#     byte comes back, and releases happened in between.
# With TAS_TEST_MODE=linux only the echoes run (the memory is the kernel's).
. "$(dirname "$0")/lib.sh"
tas_init t_idle "$BIN/echo_server"
net_setup

N=300
CLIENT=$SRCDIR/tests/integration/idle_client.py

# KiB allocated in tasd's application regions (their memfds' blocks).
# TASD_PID is timeout(1); tasd is its child.
region_kb() {
    local f l sum=0 b pid
    pid=$(cat /proc/"$TASD_PID"/task/"$TASD_PID"/children) || return 1
    pid=${pid%% *}
    for f in /proc/"$pid"/fd/*; do
        l=$(readlink "$f" 2>/dev/null) || continue
        [[ $l == /memfd:tasd-app-* ]] || continue
        b=$(stat -L -c '%b*%B' "$f") || continue
        sum=$((sum + b))
    done
    echo $((sum / 1024))
}
released() { stat_sum rings_released; }

# ---- hold: go idle, give back, come back
start_bg srv tasd -t 90 env TAS_IDLE_MS=2000 "$BIN/echo_server" --port 7100 --max-conns "$N" \
    --timeout 80
wait_ready srv || fatal "echo_server did not start"
go=$TMP/go
r0=0
[[ $TAS_TEST_MODE == tasd ]] && r0=$(released)
start_bg cli peer -t 90 /usr/bin/python3 "$CLIENT" hold "$SERVER_IP" 7100 "$N" "$go"
for ((i = 0; i < 300; i++)); do
    grep -q '^IDLE' "${BG_LOG[cli]}" && break
    _alive "${BG_PID[cli]}" || break
    sleep 0.1
done
check "$N connections echoed 1 KiB each" grep -q '^IDLE' "${BG_LOG[cli]}"
if [[ $TAS_TEST_MODE == tasd ]]; then
    kb1=$(region_kb)
    r1=
    for ((i = 0; i < 80; i++)); do
        r1=$(released)
        (( r1 - r0 >= N )) && break
        sleep 0.1
    done
    kb2=$(region_kb)
    echo "    region pages: ${kb1} KiB right after the echoes, ${kb2} KiB once idle;" \
        "rings released: $((r1 - r0))"
    check "tasd released the rings of all $N idle connections ($((r1 - r0)))" \
        test $((r1 - r0)) -ge "$N"
    check "the region gave back at least 3 KiB per connection ($(((kb1 - kb2) * 1024 / N)) B)" \
        test $(((kb1 - kb2) * 1024)) -ge $((N * 3072))
fi
touch "$go"
check "after idling, every connection echoed 64 KiB intact and closed cleanly" wait_bg cli 60
check "echo_server: $N connections served without an error" wait_bg srv 20
show_bg_log cli

# ---- churn: asks racing with requests
[[ $TAS_TEST_MODE == tasd ]] && r0=$(released)
start_bg srv2 tasd -t 150 env TAS_IDLE_MS=20 "$BIN/echo_server" --port 7101 --max-conns 40 \
    --timeout 140
wait_ready srv2 || fatal "echo_server (churn) did not start"
check "churn: 40 connections, 150 rounds of random pauses and sizes, every byte back" \
    run_linux_peer -t 140 /usr/bin/python3 "$CLIENT" churn "$SERVER_IP" 7101 40 150
check "echo_server (churn): served without an error" wait_bg srv2 20
if [[ $TAS_TEST_MODE == tasd ]]; then
    r1=$(released)
    echo "    rings released during the churn: $((r1 - r0)); kept (not quiet when asked):" \
        "$(stat_sum rings_kept); failed: $(stat_sum rings_release_fail)"
    check "churn: rings were released between requests ($((r1 - r0)))" test $((r1 - r0)) -ge 10
    check "no release failed" test "$(stat_sum rings_release_fail)" = 0
    check "no application entry was refused" test "$(stat_sum app_refused)" = 0
    check "tasd: no application, connection or listener left" tasd_idle
fi
finish
