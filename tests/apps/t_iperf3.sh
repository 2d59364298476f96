#!/bin/bash
# t_iperf3.sh - Debian's iperf3 in ns A (under tasd, or on Linux with
# TAS_TEST_MODE=linux) against iperf3 on the Linux peer in ns B, four ways:
# server under tasd with the client on the peer, and client under tasd with
# the server on the peer, each sending (default) and receiving (-R).  The
# client's JSON report (-J) must hold no error, bytes sent > 0, at least
# 50 Mbit/s, and the bytes the receiver counted equal to the bytes the
# sender counted less what can be in flight when iperf3 ends the test (see
# iperf_case); the one-off server (-1) must exit 0 after its test.  The issue asks for 10 s
# per run: APPS_IPERF_SECS (default 10, as the issue asks; 3 for a quick run).
. "$(dirname "$0")/apps.sh"
apps_init t_iperf3 iperf3
net_setup
apps_mark_idle

SECS=${APPS_IPERF_SECS:-10}
PORT=5201

# iperf_case NAME SERVER_SIDE CLIENT_SIDE [CLIENT ARGS...]: one test, server
# in SERVER_SIDE (tasd|peer) handling one client and exiting.
iperf_case() {
    local name=$1 sside=$2 cside=$3
    shift 3
    PORT=$((PORT + 1))
    local srv=iperf_srv$PORT json=$TMP/iperf.$PORT.json
    start_bg "$srv" "$sside" -t $((SECS + 60)) "${APP[iperf3]}" -s -4 -1 -p "$PORT" --forceflush
    if ! wait_log "$srv" 'Server listening' 10; then
        check "$name: iperf3 server started" false
        return
    fi
    local rc=0
    _mk_cmd "$cside" -t $((SECS + 30)) "${APP[iperf3]}" -4 -c "$(where_ip "$sside")" -p "$PORT" \
        -t "$SECS" -J "$@"
    "${CMD[@]}" >"$json" 2>"$TMP/iperf.$PORT.err" || rc=$?
    check_eq "$name: iperf3 client exit status" "$rc" 0
    check "$name: iperf3 server (one-off) exits 0" wait_bg "$srv" 20
    check "$name: JSON report without an error" \
        python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit("error" in j)' "$json"
    local sent recv
    sent=$(json_field "$json" 'j["end"]["sum_sent"]["bytes"]' 2>/dev/null)
    recv=$(json_field "$json" 'j["end"]["sum_received"]["bytes"]' 2>/dev/null)
    check "$name: bytes sent > 0 ($sent)" test "${sent:-0}" -gt 0
    # iperf3 counts as sent what the sender wrote into its socket, and as
    # received what the receiver read before it saw TEST_END on the control
    # connection, which it then acts on without draining the data
    # connections (iperf_handle_message_server closes them).  Bytes still
    # in flight at that moment (at most the send and receive buffers: a few
    # MiB) are sent, not received.  Linux to Linux they usually come out
    # equal because the receiver keeps the sender's buffer empty; under
    # tasd the sender's buffer still holds data (the peer's 4 MiB Linux
    # send buffer against tasd's 128 KiB receive buffer), or the control
    # connection's few bytes overtake data still queued on the data flow.
    check "$name: bytes received ($recv) <= sent, short by < 16 MiB ($((${sent:-0} - ${recv:-0})))" \
        test "${recv:-0}" -gt 0 -a "${recv:-0}" -le "${sent:-0}" -a \
        $((${sent:-0} - ${recv:-0})) -lt 16777216
    local mbps
    mbps=$(json_field "$json" 'int(j["end"]["sum_received"]["bits_per_second"] / 1e6)' 2>/dev/null)
    check "$name: at least 50 Mbit/s ($mbps)" test "${mbps:-0}" -ge 50
    [[ $rc == 0 ]] || { _show_log "$json"; _show_log "$TMP/iperf.$PORT.err"; }
    numbers "iperf3 $name: $mbps Mbit/s"
}

iperf_case "server under tasd, peer sends" tasd peer
iperf_case "server under tasd, peer receives (-R)" tasd peer -R
iperf_case "client under tasd sends" peer tasd
iperf_case "client under tasd receives (-R)" peer tasd -R
apps_check_idle
finish
