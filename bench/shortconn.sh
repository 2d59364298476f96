#!/bin/bash
# bench/shortconn.sh - one request per connection: tasd against the Linux
# stack, one run (issue 8).
#
# In ns A, first on the Linux stack, then under tasd, two servers:
#   nginx   Debian's nginx-light (master and -w workers, as tests/apps/
#           t_nginx.sh runs it), a 64-B file; the client is ab -n N -c C
#           (HTTP/1.0 without keep-alive: nginx answers and closes first)
#   echo    echo_server; the client is conn_churn -c C: connect, one 64-B
#           request, its echo checked, close (the client first), from 4
#           source addresses (TIME_WAIT on the client, tcp_tw_reuse=1 in
#           ns B, as a load generator is set up)
#   tls     the same nginx over HTTPS (P-256 certificate, no session
#           cache or tickets); the client is C parallel `openssl s_time
#           -new` (a full handshake and a GET of the file per connection)
#           for -t seconds (s_time counts no failures and no latency)
# at each concurrency (default 1, 16 and 100), for N connections or -t
# seconds, whichever comes first.  Prints connections/s and CPU per
# connection: the CPU time of the whole machine over the point (/proc/stat:
# the CPUs' wall time less their idle time; other users of the machine
# count too) and of the benchmark's own processes (tasd, the server and
# the client: their threads' run time), divided by the connections made,
# with the tasd/Linux ratios; saves the table under $BUILD/bench/results/.
#
#   sudo bench/shortconn.sh [-c "1 16 100"] [-n CONNS] [-t SECONDS]
#                           [-m "linux tasd"] [-s "nginx echo tls"] [-w WORKERS]
#
# TASD_EXTRA passes more tasd flags.  Exits 1 if a point could not be
# measured or saw failed connections (the table says which).
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

CONCS="1 16 100"
N=20000
LIMIT=20
MODES="linux tasd"
SERVERS="nginx echo tls"
WORKERS=2
usage() {
    echo "usage: $0 [-c \"1 16 100\"] [-n CONNS] [-t SECONDS] [-m \"linux tasd\"] [-s \"nginx echo tls\"] [-w WORKERS]"
    exit 2
}
while getopts "c:n:t:m:s:w:h" o; do
    case $o in
    c) CONCS=$OPTARG ;;
    n) N=$OPTARG ;;
    t) LIMIT=$OPTARG ;;
    m) MODES=$OPTARG ;;
    s) SERVERS=$OPTARG ;;
    w) WORKERS=$OPTARG ;;
    *) usage ;;
    esac
done
tas_init bench_shortconn "$BIN/echo_server" "$BIN/conn_churn"
for c in ab nginx openssl; do
    command -v "$c" >/dev/null || { echo "FAIL: '$c' is not installed (run .ci/deps)"; exit 1; }
done
NGINX=$(command -v nginx)
echo "one request per connection: ${N} connections or ${LIMIT} s per point, concurrency $CONCS," \
    "servers: $SERVERS (nginx: $WORKERS workers)"

declare -A RATE=() MACH=() OURS=() FAILS=() P99=() NOTE=()
bench_failed=0

# point MODE SERVER CONC SERVER_BG: one client run, measured.
point() {
    local mode=$1 srv=$2 c=$3 bg=$4 out rc=0 made fails rate p99
    local key=$mode,$srv,$c
    echo "-- $mode, $srv, $c concurrent"
    cpu_begin point
    if [[ $srv == nginx ]]; then
        rm -f "$TMP/ab.csv"
        out=$(run_linux_peer -t $((LIMIT + 30)) ab -q -r -s 10 -e "$TMP/ab.csv" -t "$LIMIT" \
            -n "$N" -c "$c" \
            "http://$SERVER_IP:8080/small.txt" 2>&1) || rc=$?
    elif [[ $srv == tls ]]; then
        # C clients at once, each its own s_time; their lines summed below
        # shellcheck disable=SC2016 # expanded by the inner bash
        out=$(run_linux_peer -t $((LIMIT + 30)) bash -c '
            for ((i = 0; i < $1; i++)); do
                openssl s_time -connect "$2:8443" -new -www /small.txt -time "$3" \
                    -CAfile "$4" 2>&1 |
                    grep "real seconds" &
            done
            wait' s_time "$c" "$SERVER_IP" "$LIMIT" "$TMP/nginx/cert.pem" 2>&1) || rc=$?
    else
        local srcs
        srcs=$(IFS=,; echo "${PEER_IPS[*]:1}")
        out=$(run_linux_peer -t $((LIMIT + 30)) "$BIN/conn_churn" -a "$SERVER_IP" -p 7000 \
            -c "$c" -n "$N" -d "$LIMIT" -s 64 -b "$srcs" -T 10000 -e 1000 2>&1) || rc=$?
    fi
    local cpu
    cpu=$(cpu_end point ${TASD_PID:-} "${BG_PID[$bg]}")
    if [[ $srv == nginx ]]; then
        made=$(sed -n 's/^Complete requests: *\([0-9]*\).*/\1/p' <<<"$out")
        fails=$(sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p' <<<"$out")
        local non2xx
        non2xx=$(sed -n 's/^Non-2xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
        fails=$((${fails:-0} + ${non2xx:-0}))
        rate=$(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' <<<"$out")
        # ab -e: "percentage,ms" lines
        p99=$(awk -F, '$1 == 99 { printf "%.0f", $2 * 1000 }' "$TMP/ab.csv" 2>/dev/null)
        echo "   ab: complete=${made:-?} failed=$fails rate=${rate:-?} p99_us=${p99:-?} (exit $rc)"
        if [[ -z $made ]]; then
            sed 's/^/   | /' <<<"$out" | tail -n 5
        fi
    elif [[ $srv == tls ]]; then
        # "N connections in T real seconds, B bytes read per connection"
        local clients
        clients=$(grep -c 'real seconds' <<<"$out")
        made=$(awk '/real seconds/ { n += $1 } END { print n + 0 }' <<<"$out")
        rate=$(awk '/real seconds/ { if ($4 > 0) r += $1 / $4 } END { printf "%.0f", r }' <<<"$out")
        fails=$((c - clients))
        p99=""
        echo "   s_time: clients=$clients/$c connections=$made rate=$rate (exit $rc)"
        [[ $clients -gt 0 ]] || sed 's/^/   | /' <<<"$out" | tail -n 5
    else
        local line
        line=$(grep '^conn_churn:' <<<"$out")
        made=$(kv conns "$line")
        fails=$(kv errors "$line")
        rate=$(kv rate "$line")
        p99=$(kv p99_us "$line")
        echo "   $line (exit $rc)"
        grep -v '^conn_churn: conc' <<<"$out" | head -n 3 | sed 's/^/   | /'
    fi
    echo "   cpu: $cpu"
    if [[ -z $made || $made == 0 ]]; then
        NOTE[$key]="no connection completed"
        return 1
    fi
    RATE[$key]=${rate%.*}
    FAILS[$key]=${fails:-0}
    P99[$key]=${p99%.*}
    MACH[$key]=$(calc "$(kv busy_s "$cpu") * 1000000 / $made")
    OURS[$key]=$(calc "($(kv procs_s "$cpu") + $(kv children_s "$cpu")) * 1000000 / $made")
    [[ ${fails:-0} == 0 ]] || return 1
}

measure() {
    local mode=$1 srv c ok=0
    # shellcheck disable=SC2034 # read by lib.sh
    TAS_TEST_MODE=$mode
    net_create
    peer_add_ips 4
    ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_tw_reuse=1
    if [[ $mode == tasd ]] && ! start_tasd; then
        NOTE[$mode]="tasd did not start (see above)"
        return 1
    fi
    for srv in $SERVERS; do
        local bg=${srv}_$mode
        if [[ $srv == nginx || $srv == tls ]]; then
            local port=8080
            [[ $srv == tls ]] && port=8443
            nginx_conf "$srv" || { NOTE[$mode]="no certificate for tls"; ok=1; continue; }
            start_bg "$bg" tasd -t 3600 "$NGINX" -p "$TMP/nginx" -e "$TMP/nginx.error.log" \
                -c "$TMP/nginx.conf"
            wait_listen "$bg" $port || { NOTE[$mode]="nginx did not start"; ok=1; continue; }
        else
            start_bg "$bg" tasd -t 3600 "$BIN/echo_server" --port 7000 --nodelay --backlog 4096
            wait_ready "$bg" || { NOTE[$mode]="echo_server did not start"; ok=1; continue; }
        fi
        for c in $CONCS; do
            point "$mode" "$srv" "$c" "$bg" || ok=1
        done
        stop_bg "$bg" || true
    done
    return $ok
}

for mode in $MODES; do
    echo "== $mode"
    measure "$mode" || bench_failed=1
    net_teardown
done

table() {
    local srv c
    echo
    echo "Short connections: one request per connection (nginx: ab, 64-B file, HTTP/1.0 without"
    echo "keep-alive; echo: conn_churn, 64-B request and echo; tls: openssl s_time -new, a full"
    echo "TLS handshake and a GET per connection, one client per concurrent connection),"
    echo "$N connections or $LIMIT s per point (tls: $LIMIT s);"
    echo "servers in ns A, clients on Linux in ns B $(bench_stamp)"
    echo "CPU/conn, us: CPU time over the point / connections; mach: the whole machine"
    echo "(/proc/stat), ours: tasd, server and client processes; fails: failed connections or"
    echo "non-2xx answers (tls: s_time clients that printed no count)"
    printf '%-6s %5s | %10s %10s %6s | %9s %9s %6s | %9s %9s %6s | %10s %10s | %7s %7s\n' \
        server conc "Linux c/s" "tasd c/s" ratio "Lnx mach" "tasd mach" ratio \
        "Lnx ours" "tasd ours" ratio "Lnx p99us" "tasd p99us" "L fails" "T fails"
    for srv in $SERVERS; do
        for c in $CONCS; do
            local l=linux,$srv,$c t=tasd,$srv,$c
            printf '%-6s %5s | %10s %10s %6s | %9s %9s %6s | %9s %9s %6s | %10s %10s | %7s %7s\n' \
                "$srv" "$c" "$(v "${RATE[$l]:-}")" "$(v "${RATE[$t]:-}")" \
                "$(ratio "${RATE[$t]:-}" "${RATE[$l]:-}")" \
                "$(v "${MACH[$l]:-}")" "$(v "${MACH[$t]:-}")" \
                "$(ratio "${MACH[$t]:-}" "${MACH[$l]:-}")" \
                "$(v "${OURS[$l]:-}")" "$(v "${OURS[$t]:-}")" \
                "$(ratio "${OURS[$t]:-}" "${OURS[$l]:-}")" \
                "$(v "${P99[$l]:-}")" "$(v "${P99[$t]:-}")" \
                "$(v "${FAILS[$l]:-}")" "$(v "${FAILS[$t]:-}")"
        done
    done
    local m
    for m in "${!NOTE[@]}"; do
        echo "note: $m: ${NOTE[$m]}"
    done
    echo "(ratio = tasd/Linux: above 1 is better for connections/s, below 1 is better for CPU"
    echo " and latency; p99: connect to the last byte of the answer)"
}

bench_save shortconn table
exit $bench_failed
