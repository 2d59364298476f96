#!/bin/bash
# t_impair.sh - tasd's test-only port impairment (tasd/impair_port.c):
#   - off by default: no "impair" section in tasctl stats;
#   - refused without impair.allow: tasd exits 2 with a clear message
#     before it touches DPDK;
#   - every received packet delayed 1 ms: echo round trips take at least
#     1 ms each (the delay is real) and not much more (held packets are
#     released on time although the core sleeps when idle);
#   - drop + duplicate + delay + reorder in both directions, with a fixed
#     seed: TAS_FAULT_MB (default 100, as t_fault.sh) each way, server under tasd sending
#     to Linux and Linux sending to a server under tasd, sha256 compared,
#     every impairment counter non-zero, FAULT-NUMBERS printed.
# The impairment is inside tasd: in linux mode there is nothing to test.
. "$(dirname "$0")/lib.sh"
tas_init t_impair
if [[ $TAS_TEST_MODE == linux ]]; then
    echo "SKIP: t_impair tests tasd's own impairment setting; linux mode has no tasd"
    exit 77
fi
net_setup
MB=${TAS_FAULT_MB:-100}
T=$((60 + MB * 6))
make_data "$TMP/data" "$MB"

check "impairment is off by default: no impair section in tasctl stats" \
    bash -c '! timeout 10 "$1" --run-dir "$2" stats | grep -q "^impair"' _ "$TASCTL" "$RUN_DIR"
stop_tasd

# Refused without impair.allow, before DPDK starts.
tasd_default_args
timeout 20 ip netns exec "$NS_A" "$TASD" "${TASD_ARGS[@]}" --impair-rx-drop 10 \
    >"$TMP/refused.log" 2>&1
check_eq "impairment without impair.allow: tasd exits with status 2" "$?" 2
check "impairment without impair.allow: the message says why and how" \
    grep -q -- "--impair-rx-drop 10: refused: .*impair.allow = true (--impair-allow on)" \
    "$TMP/refused.log"
check "impairment without impair.allow: DPDK was not started" \
    bash -c '! grep -q "starting DPDK" "$1"' _ "$TMP/refused.log"
_show_log "$TMP/refused.log"

# Every received packet held 1 ms; the core may sleep 100 ms when idle.
start_tasd --add --impair-allow on --impair-rx-delay 1000 --impair-rx-delay-us 1000 \
    --poll-max-sleep-us 100000 || fatal "tasd did not start with the impairment"
check "tasd says the impairment is on (log and tasctl status)" \
    bash -c 'grep -q "IMPAIRMENT ON" "$1" && timeout 10 "$2" --run-dir "$3" status |
        grep -q "^impair: *ON"' _ "$TMP/tasd.log" "$TASCTL" "$RUN_DIR"
start_bg echo tasd "$BIN/echo_server" --port 7201 --max-conns 1
wait_ready echo || fatal "echo server did not start"
t0=$(date +%s%N)
check "200 echo round trips with every received packet delayed 1 ms" \
    run_linux_peer -t 30 "$BIN/echo_client" --addr "$SERVER_IP" --port 7201 --msgs 200 \
    --size 100
ms=$((($(date +%s%N) - t0) / 1000000))
check "the delay is real: 200 round trips took at least 200 ms ($ms ms)" test "$ms" -ge 200
check "held packets are released on time: 200 round trips took at most 2000 ms ($ms ms)" \
    test "$ms" -le 2000
check "echo server ended cleanly" wait_bg echo 10
stop_tasd

# Everything at once, both directions, fixed seed.
start_tasd --add --impair-allow on --impair-seed 4242 \
    --impair-rx-drop 10 --impair-rx-dup 10 --impair-rx-delay 20 --impair-rx-delay-us 300 \
    --impair-rx-reorder 20 \
    --impair-tx-drop 10 --impair-tx-dup 10 --impair-tx-delay 20 --impair-tx-delay-us 300 \
    --impair-tx-reorder 20 || fatal "tasd did not start with the impairment"
check "the fixed seed is used" grep -q "seed 4242" "$TMP/tasd.log"
fault_transfer impair "impair: server under tasd sends $MB MB to Linux" tasd peer \
    "$TMP/data" 7202 "$T"
fault_transfer impair "impair: Linux client sends $MB MB to a server under tasd" peer tasd \
    "$TMP/data" 7203 "$T"
tasctl stats | sed -n '/^impair/,$p' | sed 's/^/    /'
# Every kind of impairment happened in each direction.
check "tasctl stats counts drops, duplicates, delays and reorders in rx and tx" \
    python3 -c '
import json, subprocess, sys
s = json.loads(subprocess.run(sys.argv[1:], capture_output=True, check=True, text=True).stdout)
bad = []
for d in ("rx", "tx"):
    for k in ("seen", "dropped", "duplicated", "delayed", "reordered"):
        n = sum(q[d][k] for q in s["impair"]["queues"])
        print(d, k, n)
        if n == 0:
            bad.append(d + " " + k)
sys.exit("zero: " + ", ".join(bad) if bad else 0)' timeout 10 "$TASCTL" --run-dir "$RUN_DIR" stats --json
finish
