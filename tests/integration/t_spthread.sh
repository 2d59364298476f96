#!/bin/bash
# t_spthread.sh - where the slow path runs (slow_path_thread, --sp-thread):
# with auto, tasctl status says "shared" exactly when tasd may use at most
# fp_cores + 1 CPUs; with "own" and with "shared" forced, status says so,
# the core writes the slow path's eventfd only with "own" (sp_kicks after
# connections), and the echo (bytes compared), close, loss and fork tests
# pass with the mode that auto did not pick, each with its own tasd.  Needs
# tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_spthread "$BIN/echo_server" "$BIN/echo_client"
tasd_only "t_spthread is about tasd's threads; nothing to do in linux mode"

# sp_thread_of: the mode tasctl status --json reports
sp_thread_of() {
    tasctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sp_thread"])'
}
# sp_kicks_now [own|shared]: the eventfd writes to the slow path so far, of
# every core (own), or of core 0, the one the slow path shares (shared)
sp_kicks_now() {
    tasctl stats --json | python3 -c '
import json, sys
cores = json.load(sys.stdin)["fastpath"]["cores"]
print(sum(c["sp_kicks"] for c in (cores[:1] if sys.argv[1] == "shared" else cores)))' "$1"
}
# a few echoed connections (bytes compared by the client)
echo_round() {
    start_bg server tasd -t 60 "$BIN/echo_server" --port 7000 --max-conns 4 --timeout 50
    wait_ready server || fatal "echo server did not start"
    run_linux_peer -t 30 "$BIN/echo_client" --addr "$SERVER_IP" --port 7000 \
        --conns 4 --msgs 20 --size 1000 --timeout 20 >"$TMP/client.$1.log" 2>&1
    local rc=$?
    wait_bg server 20
    return $rc
}

cpus=$(nproc)
ncores=${TAS_FP_CORES:-1}
want=own
((cpus <= ncores + 1)) && want=shared
net_setup
check "auto: sp_thread is \"$want\" with $cpus CPUs and $ncores fast-path core(s)" \
    test "$(sp_thread_of)" = "$want"
tasctl status >"$TMP/status.txt"
check "tasctl status says where the slow path runs" grep -q '^slow path:  on ' "$TMP/status.txt"
stop_tasd >/dev/null

for mode in own shared; do
    start_tasd --add --sp-thread "$mode" || fatal "tasd --sp-thread $mode did not start"
    check "--sp-thread $mode: status says $mode" test "$(sp_thread_of)" = "$mode"
    k0=$(sp_kicks_now "$mode")
    check "--sp-thread $mode: echo with 1000-B messages" echo_round "$mode"
    k1=$(sp_kicks_now "$mode")
    if [[ $mode == own ]]; then
        check "own: the core woke the slow path for the connections (sp_kicks +$((k1 - k0)))" \
            test $((k1 - k0)) -ge 1
    else
        check "shared: core 0 wrote no eventfd (sp_kicks +$((k1 - k0)))" test $((k1 - k0)) -eq 0
    fi
    stop_tasd >/dev/null
done

other=own
[[ $want == own ]] && other=shared
TASD_EXTRA="--sp-thread $other" check_tests "with --sp-thread $other" t_echo t_close t_loss t_fork
finish
