#!/bin/bash
# t_sockopt.sh - socket options as Linux has them (sem_sockopt.c): the same
# table of get/set steps on a fresh, a connected and a listening socket runs
# in ns A (under tasd, or Linux in linux mode) and in ns B (Linux), and the
# two results must be equal line by line, except the differences listed with
# their reason in sem_sockopt.allowed (tasd mode only).  TCP_CONGESTION
# names tasd's algorithm (checked with --cc none too).
. "$(dirname "$0")/lib.sh"
tas_init t_sockopt "$BIN/sem_sockopt"
net_setup

# A sink on each side for the connected sockets; nothing listens on 7301.
start_bg sinkB peer -t 120 "$BIN/sem_sockopt" --sink --port 7300 --timeout 100
start_bg sinkA tasd -t 120 "$BIN/sem_sockopt" --sink --port 7300 --timeout 100
wait_ready sinkB || fatal "sink in ns B did not start"
wait_ready sinkA || fatal "sink in ns A did not start"

_mk_cmd tasd -t 60 "$BIN/sem_sockopt" --addr "$PEER_IP" --port 7300
check "the option table runs in ns A ($TAS_TEST_MODE)" bash -c '"$@" >"'"$TMP"'/a.txt"' _ "${CMD[@]}"
_mk_cmd peer -t 60 "$BIN/sem_sockopt" --addr "$SERVER_IP" --port 7300
check "the option table runs in ns B (linux)" bash -c '"$@" >"'"$TMP"'/b.txt"' _ "${CMD[@]}"
check "the table has every row ($(wc -l <"$TMP/a.txt") lines)" test "$(wc -l <"$TMP/a.txt")" -gt 300

allowed=/dev/null
[[ $TAS_TEST_MODE == tasd ]] && allowed=$TAS_LIB_DIR/sem_sockopt.allowed
check "every step gives Linux's result, but for the documented differences" \
    python3 - "$TMP/a.txt" "$TMP/b.txt" "$allowed" <<'PY'
import sys
def table(path):
    rows = {}
    for line in open(path):
        key, _, val = line.rstrip("\n").partition(": ")
        rows[key] = val
    return rows
a, b = table(sys.argv[1]), table(sys.argv[2])
allowed = {}
for line in open(sys.argv[3]):
    line = line.strip()
    if line and not line.startswith("#"):
        key, _, why = line.partition("#")
        allowed[key.strip()] = why.strip()
bad = 0
for key in b:
    if key not in a:
        print(f"missing under test: {key}"); bad += 1
    elif a[key] != b[key]:
        if key in allowed:
            print(f"allowed: {key}: {a[key]} (Linux: {b[key]}) -- {allowed[key]}")
        else:
            print(f"DIFFERENT: {key}: {a[key]} (Linux: {b[key]})"); bad += 1
for key in allowed:
    if key in a and key in b and a[key] == b[key]:
        print(f"note: listed difference now agrees with Linux: {key}")
print(f"{len(b)} steps, {bad} unexpected differences")
sys.exit(1 if bad else 0)
PY
stop_bg sinkA
stop_bg sinkB

# TCP_CONGESTION names tasd's configured algorithm, not a constant.
if [[ $TAS_TEST_MODE == tasd ]]; then
    check_eq "TCP_CONGESTION under tasd's default configuration" \
        "$(run_under_tasd -t 20 "$BIN/sem_sockopt" --congestion)" reno
    stop_tasd
    start_tasd --config /dev/null --ip "$SERVER_IP/$NET_PREFIX" --run-dir "$RUN_DIR" --cc none \
        --dpdk "--no-huge --no-pci -m 512 --file-prefix $DPDK_PREFIX --vdev net_af_packet0,iface=$VETH_A" ||
        fatal "tasd --cc none did not start"
    check_eq "TCP_CONGESTION under tasd --cc none" \
        "$(run_under_tasd -t 20 "$BIN/sem_sockopt" --congestion)" none
fi
finish
