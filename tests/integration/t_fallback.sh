#!/bin/bash
# t_fallback.sh - the shim without tasd, and what tasd does not route:
#   - tasd not running (its run dir missing): the program says so once on
#     stderr and runs on the kernel stack (an echo over loopback);
#   - the same with TAS_FALLBACK=0: socket() fails with a clear message;
#   - tasd running: a connection to 127.0.0.1 goes to the kernel stack.
. "$(dirname "$0")/lib.sh"
tas_init t_fallback
tasd_only "t_fallback checks the shim's behaviour without tasd"
net_create

# shim CMD...: run in ns A under the shim with a run dir that does not exist.
shim() {
    timeout -k 5 60 ip netns exec "$NS_A" env "LD_PRELOAD=$INTERPOSE" \
        "TAS_RUN_DIR=$TMP/no-tasd-here" "$@"
}

# until_ready LOG: wait (at most 5 s) for a server's READY line in LOG.
until_ready() {
    local i
    for ((i = 0; i < 50; i++)); do
        grep -q READY "$1" && return 0
        sleep 0.1
    done
    return 1
}

shim "$BIN/echo_server" --port 7020 --max-conns 3 --timeout 30 >"$TMP/srv.log" 2>&1 &
srv=$!
until_ready "$TMP/srv.log" || fatal "echo_server under the shim did not start"
check "no tasd: a client under the shim echoes over the kernel stack" \
    shim "$BIN/echo_client" --addr 127.0.0.1 --port 7020 --conns 3 --msgs 20 --size 1000 \
    --timeout 20
wait "$srv"
check_eq "no tasd: the server ran to the end on the kernel stack" "$?" 0
_show_log "$TMP/srv.log"
check_eq "no tasd: the server said so exactly once" \
    "$(grep -c 'tasd not reachable' "$TMP/srv.log")" 1

if shim env TAS_FALLBACK=0 "$BIN/echo_client" --addr 127.0.0.1 --port 7021 --conns 1 \
    --msgs 1 --size 10 --timeout 5 >"$TMP/nofb.log" 2>&1; then
    nofb=0
else
    nofb=1
fi
_show_log "$TMP/nofb.log"
check_eq "TAS_FALLBACK=0 without tasd: the client fails" "$nofb" 1
check "TAS_FALLBACK=0 without tasd: the message names TAS_FALLBACK=0" \
    grep -q 'TAS_FALLBACK=0' "$TMP/nofb.log"
check "TAS_FALLBACK=0 without tasd: socket() fails with ECONNREFUSED" \
    grep -q 'ECONNREFUSED' "$TMP/nofb.log"

start_tasd || fatal "tasd did not start"
# A kernel server in ns A (no shim); the client under the shim, with tasd
# up and TAS_FALLBACK=0, must still reach it over loopback.
timeout -k 5 60 ip netns exec "$NS_A" "$BIN/echo_server" --port 7022 --max-conns 2 \
    --timeout 30 >"$TMP/ksrv.log" 2>&1 &
ksrv=$!
until_ready "$TMP/ksrv.log" || fatal "the kernel echo_server did not start"
check "tasd up: 127.0.0.1 from under the shim goes to the kernel stack" \
    run_under_tasd -t 30 "$BIN/echo_client" --addr 127.0.0.1 --port 7022 --conns 2 \
    --msgs 10 --size 500 --timeout 20
wait "$ksrv"
check_eq "tasd up: the kernel server served the loopback client" "$?" 0
finish
