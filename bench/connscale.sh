#!/bin/bash
# bench/connscale.sh - idle connections against active ones: tasd against
# the Linux stack, one run (issue 8).
#
# In ns A, S echo_server processes share port 7000 with SO_REUSEPORT (S =
# one per 12,500 connections of the largest count, as a process here holds
# at most 20,000 descriptors), first on the Linux stack, then under tasd.
# The Linux peer in ns B opens idle connections in steps (default 0, 1k,
# 10k; -n "0 1000 10000 100000" for the issue's full run) with conn_hold
# processes of at most 10,000 connections, from one source address per
# 20,000 connections (one ephemeral port range per address); each echoes
# 1 KiB checked byte for byte, then stays idle.  At each step:
#
#   memory   sampled 2 s after the step's connections are up, against the
#            sample with the servers up and no connection (method below)
#   idle CPU of tasd and the servers (their threads' run time), and of
#            the whole machine (/proc/stat: wall time less idle time), over
#            -i seconds with only idle connections, as % of one core
#   active   bench/rpc_echo: 16 connections of 64-B requests, closed loop,
#            -d seconds: requests/s and p99, beside the idle connections
#
# Memory per idle connection (the growth from the sample at 0, divided by
# the connections):
#   Linux  the kernel's slab growth for the server-side sockets.  Both
#          runs' slab growth (/proc/meminfo Slab) also holds the Linux
#          client's sockets in ns B; the tasd run's holds them plus the
#          kernel socket that libtas reserves for each tasd socket.  A
#          calibration (K plain socket() calls in ns A) gives that reserved
#          socket's size R, so client = tasd-run slab - R and
#          Linux server = Linux-run slab - client.
#   tasd   tasd's RSS without its mapping of the application regions, plus
#          the pages allocated in the regions' memfds (st_blocks: touched by
#          tasd or the application, counted once), plus what the servers'
#          heap grew beyond the same servers' growth on Linux (libtas's
#          per-socket state).  "tasd+kernel" adds R, the reserved sockets.
# Slab figures are machine-wide: another build or test on the machine
# disturbs them (more at 1k connections than at 100k).
#
#   sudo bench/connscale.sh [-n "0 1000 10000"] [-d SECONDS] [-i SECONDS]
#                           [-m "linux tasd"] [-a ACTIVE]
#
# TASD_EXTRA passes more tasd flags (today's limits need e.g.
# "--max-flows 110000 --app-mem-mb 1024 --rx-buf-size 32768 --tx-buf-size 32768").
# Prints two tables with tasd/Linux ratios and saves them under
# $BUILD/bench/results/.  Exits 1 if a mode could not be measured at every
# count (the table says why).
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

COUNTS="0 1000 10000"
DURATION=5
IDLE=5
MODES="linux tasd"
ACTIVE=16
usage() {
    echo "usage: $0 [-n \"0 1000 10000\"] [-d SECONDS] [-i SECONDS] [-m \"linux tasd\"] [-a ACTIVE]"
    exit 2
}
while getopts "n:d:i:m:a:h" o; do
    case $o in
    n) COUNTS=$OPTARG ;;
    d) DURATION=$OPTARG ;;
    i) IDLE=$OPTARG ;;
    m) MODES=$OPTARG ;;
    a) ACTIVE=$OPTARG ;;
    *) usage ;;
    esac
done
RPC=$BUILD/bench/rpc_echo
tas_init bench_connscale "$BIN/echo_server" "$BIN/conn_hold" "$RPC"

max=0 prev=-1
for c in $COUNTS; do
    [[ $c =~ ^[0-9]+$ && $c -gt $prev ]] || { echo "-n: counts must be ascending numbers"; usage; }
    prev=$c max=$c
done
PER_HOLDER=10000
n_srv=$(((max + 12499) / 12500))
((n_srv < 1)) && n_srv=1
n_src=$(((max + 19999) / 20000))
((n_src < 1)) && n_src=1
PORT=7000
CALIB_K=5000
echo "idle connections: $COUNTS; $n_srv server process(es), $n_src source address(es)," \
    "holders of <= $PER_HOLDER; $ACTIVE active 64-B RPC connections for $DURATION s;" \
    "idle CPU over $IDLE s"

declare -A RATE=() P99=() CPU_P=() CPU_M=() MEM=() NOTE=()
CALIB_R=
bench_failed=0

# calibrate: R, the slab of one plain kernel TCP socket (what libtas
# reserves per tasd socket), in bytes, from CALIB_K sockets in ns A.
calibrate() {
    local s0 s1
    s0=$(mem_sample)
    start_bg calib tasd_raw -t 60 python3 -c '
import socket, sys, time
socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(int(sys.argv[1]))]
print("READY", flush=True)
time.sleep(50)' "$CALIB_K"
    if ! wait_ready calib 20; then
        echo "calibration failed"
        return 1
    fi
    sleep 1
    s1=$(mem_sample)
    stop_bg calib
    CALIB_R=$(calc "($(kv slab "$s1") - $(kv slab "$s0")) * 1024 / $CALIB_K")
    echo "calibration: $CALIB_K plain TCP sockets: slab +$(($(kv slab "$s1") - $(kv slab "$s0"))) KiB" \
        "(socket caches +$(($(kv sock_slab "$s1") - $(kv sock_slab "$s0"))) KiB): R = $CALIB_R B"
}

# open_step MODE FROM TO: conn_hold processes for connections FROM..TO-1;
# 0 if all of them are up and echoed.
HOLDERS=()
open_step() {
    local mode=$1 from=$2 to=$3 i=$2 k h ok=0 srcs
    srcs=$(IFS=,; echo "${PEER_IPS[*]:1}")
    local names=()
    while ((i < to)); do
        k=$((to - i))
        ((k > PER_HOLDER)) && k=$PER_HOLDER
        h=hold_${mode}_${#HOLDERS[@]}
        start_bg "$h" peer -t 3000 "$BIN/conn_hold" -a "$SERVER_IP" -p "$PORT" -n "$k" \
            -b "$srcs" -s 1024 -i "${#HOLDERS[@]}" -w "$TMP/stop_$mode" -P 64 -T 600 -C 300
        HOLDERS+=("$h")
        names+=("$h")
        i=$((i + k))
    done
    local echoed=0 e
    for h in "${names[@]}"; do
        wait_ready "$h" 660 || ok=1
        e=$(sed -n 's/.*READY .* echoed=\([0-9]*\) .*/\1/p' "${BG_LOG[$h]}")
        echoed=$((echoed + ${e:-0}))
    done
    echo "   $((to - from)) more connections: $echoed echoed"
    ((echoed == to - from)) || ok=1
    return $ok
}

# measure MODE: servers, then every count in turn.
measure() {
    local mode=$1 c have=0 i out
    # shellcheck disable=SC2034 # read by lib.sh
    TAS_TEST_MODE=$mode
    HOLDERS=()
    net_create
    peer_add_ips "$n_src"
    ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_tw_reuse=1 # rpc_echo's runs
    [[ -z $CALIB_R && $max -gt 0 ]] && calibrate
    if [[ $mode == tasd ]] && ! start_tasd; then
        NOTE[$mode]="tasd did not start (see above)"
        return 1
    fi
    local srvs=()
    for ((i = 0; i < n_srv; i++)); do
        start_bg "srv_${mode}_$i" tasd -t 3600 "$BIN/echo_server" --port "$PORT" --reuseport \
            --nodelay --backlog 4096
        srvs+=("srv_${mode}_$i")
    done
    for i in "${srvs[@]}"; do
        wait_ready "$i" || { NOTE[$mode]="echo_server did not start"; return 1; }
    done
    local spids
    mapfile -t spids < <(bg_pids "${srvs[@]}")
    sleep 1
    local m0 m
    m0=$(mem_sample "${spids[@]}")
    MEM[$mode,0]=$m0
    for c in $COUNTS; do
        echo "-- $mode, $c idle connection(s)"
        if ((c > have)); then
            if ! open_step "$mode" "$have" "$c"; then
                NOTE[$mode]="could not hold $c connections (conn_hold logs: $TMP)"
                [[ $mode == tasd ]] && tasctl stats | sed -n -e '/^slow path/p' \
                    -e '/^applications:/,$p' | head -n $((n_srv + 3)) | sed 's/^/   | /'
                return 1
            fi
            have=$c
            sleep 2
        fi
        m=$(mem_sample "${spids[@]}")
        MEM[$mode,$c]=$m
        echo "   memory: $m"
        cpu_begin idle
        sleep "$IDLE"
        out=$(cpu_end idle ${TASD_PID:-} "${spids[@]}")
        local w
        w=$(kv wall_s "$out")
        CPU_P[$mode,$c]=$(pct_core "$(kv procs_s "$out")" "$w")
        CPU_M[$mode,$c]=$(pct_core "$(kv busy_s "$out")" "$w")
        echo "   idle CPU, % of a core: ${CPU_P[$mode,$c]} (servers$([[ $mode == tasd ]] &&
            echo ' + tasd')), machine ${CPU_M[$mode,$c]} ($out)"
        if ! out=$(run_linux_peer -t $((DURATION + 60)) "$RPC" -a "$SERVER_IP" -p "$PORT" \
            -c "$ACTIVE" -d "$DURATION" -w 1 -s 64); then
            echo "   rpc_echo failed: $out"
            NOTE[$mode]="rpc_echo failed beside $c idle connections"
            return 1
        fi
        echo "   $out"
        RATE[$mode,$c]=$(kv rate "$out")
        P99[$mode,$c]=$(kv p99_us "$out")
    done
    # Close everything: the holders half-close, see EOF and exit.
    touch "$TMP/stop_$mode"
    local h bad=0
    for h in "${HOLDERS[@]}"; do
        wait_bg "$h" 300 >/dev/null || bad=1
    done
    [[ $bad == 1 ]] && NOTE[$mode]="a conn_hold process saw an error while holding or closing"
    for i in "${srvs[@]}"; do
        stop_bg "$i" || true
    done
    return $bad
}

for mode in $MODES; do
    echo "== $mode"
    if ! measure "$mode"; then
        bench_failed=1
        echo "   $mode: ${NOTE[$mode]:-failed}"
    fi
    net_teardown
done

# mem_per_conn MODE C: the per-connection figures "slab user" in bytes:
# slab growth of the machine, and (tasd) tasd's own memory without the
# library share.
mem_delta() { # mem_delta MODE C KEY: KiB growth from count 0
    local a=${MEM[$1,$2]:-} b=${MEM[$1,0]:-}
    [[ -z $a || -z $b ]] && { echo n/a; return; }
    echo $(($(kv "$3" "$a") - $(kv "$3" "$b")))
}
per_conn() { calc "$1 * 1024 / $2"; } # per_conn KIB C: bytes per connection

table() {
    local c
    echo
    echo "Connection scale: $ACTIVE active 64-B RPC connections (closed loop, $DURATION s) beside"
    echo "N idle connections (1 KiB echoed each) to $n_srv echo_server(s) sharing a port (SO_REUSEPORT)"
    echo "in ns A; clients: conn_hold and rpc_echo on Linux in ns B $(bench_stamp)"
    printf '%-7s | %11s %11s %6s | %11s %11s %6s | %13s %13s\n' "idle" "Linux req/s" \
        "tasd req/s" ratio "Linux p99us" "tasd p99us" ratio "Linux vs 0" "tasd vs 0"
    for c in $COUNTS; do
        printf '%-7s | %11s %11s %6s | %11s %11s %6s | %13s %13s\n' "$c" \
            "$(v "${RATE[linux,$c]:-}")" "$(v "${RATE[tasd,$c]:-}")" \
            "$(ratio "${RATE[tasd,$c]:-}" "${RATE[linux,$c]:-}")" \
            "$(v "${P99[linux,$c]:-}")" "$(v "${P99[tasd,$c]:-}")" \
            "$(ratio "${P99[tasd,$c]:-}" "${P99[linux,$c]:-}")" \
            "$(ratio "${RATE[linux,$c]:-}" "${RATE[linux,0]:-}")" \
            "$(ratio "${RATE[tasd,$c]:-}" "${RATE[tasd,0]:-}")"
    done
    echo
    echo "Idle CPU over $IDLE s with only the idle connections, % of one core: the servers (plus"
    echo "tasd in the tasd run: their threads' run time), and the whole machine (/proc/stat: wall"
    echo "time less idle time, so everything on the box, other users included)"
    printf '%-7s | %9s %9s %6s | %9s %9s %6s\n' "idle" "Linux" "tasd" ratio \
        "Lnx mach" "tasd mach" ratio
    for c in $COUNTS; do
        printf '%-7s | %9s %9s %6s | %9s %9s %6s\n' "$c" \
            "$(v "${CPU_P[linux,$c]:-}")" "$(v "${CPU_P[tasd,$c]:-}")" \
            "$(ratio "${CPU_P[tasd,$c]:-}" "${CPU_P[linux,$c]:-}")" \
            "$(v "${CPU_M[linux,$c]:-}")" "$(v "${CPU_M[tasd,$c]:-}")" \
            "$(ratio "${CPU_M[tasd,$c]:-}" "${CPU_M[linux,$c]:-}")"
    done
    echo
    echo "Memory per idle connection, bytes (method in bench/connscale.sh; R = $(v "$CALIB_R") B,"
    echo "a reserved kernel socket; lib = libtas's heap in the servers, part of 'tasd')"
    printf '%-7s | %10s %10s %10s %8s | %6s %6s\n' "idle" "Linux krn" "tasd" "tasd+krn" \
        "(lib)" "ratio" "+krn"
    for c in $COUNTS; do
        local lk=n/a tu=n/a tk=n/a lib=n/a
        if ((c > 0)); then
            local ls ts tr tg ta la
            ls=$(mem_delta linux "$c" slab)
            ts=$(mem_delta tasd "$c" slab)
            tr=$(calc "$(mem_delta tasd "$c" tasd_rss) - $(mem_delta tasd "$c" tasd_rmap)")
            tg=$(mem_delta tasd "$c" regions)
            ta=$(mem_delta tasd "$c" app_anon)
            la=$(mem_delta linux "$c" app_anon)
            # client = tasd-run slab - R; Linux server = Linux-run slab - client
            lk=$(calc "($ls - $ts) * 1024 / $c + ${CALIB_R:-n/a}")
            lib=$(calc "($ta - $la) * 1024 / $c")
            tu=$(calc "($tr + $tg + $ta - $la) * 1024 / $c")
            tk=$(calc "$tu + ${CALIB_R:-n/a}")
        fi
        printf '%-7s | %10s %10s %10s %8s | %6s %6s\n' "$c" "$lk" "$tu" "$tk" "$lib" "$(ratio "$tu" "$lk")" "$(ratio "$tk" "$lk")"
    done
    echo "raw growth per idle connection, bytes (slab: machine-wide; regions: memfd pages):"
    for c in $COUNTS; do
        ((c > 0)) || continue
        echo "  $c: Linux run slab $(per_conn "$(mem_delta linux "$c" slab)" "$c")" \
            "(socket caches $(per_conn "$(mem_delta linux "$c" sock_slab)" "$c")," \
            "servers' heap $(per_conn "$(mem_delta linux "$c" app_anon)" "$c"));" \
            "tasd run slab $(per_conn "$(mem_delta tasd "$c" slab)" "$c")" \
            "(socket caches $(per_conn "$(mem_delta tasd "$c" sock_slab)" "$c")," \
            "servers' heap $(per_conn "$(mem_delta tasd "$c" app_anon)" "$c")," \
            "tasd RSS $(per_conn "$(mem_delta tasd "$c" tasd_rss)" "$c")," \
            "of it regions $(per_conn "$(mem_delta tasd "$c" tasd_rmap)" "$c")," \
            "region pages $(per_conn "$(mem_delta tasd "$c" regions)" "$c"))"
    done
    local m
    for m in "${!NOTE[@]}"; do
        echo "note: $m: ${NOTE[$m]}"
    done
    echo "(ratio = tasd/Linux: above 1 is better for req/s, below 1 is better for latency,"
    echo " CPU and memory; 'vs 0' = rate beside N idle connections / rate beside none;"
    echo " memory ratio: tasd / Linux kernel, '+krn' with the reserved kernel sockets)"
}

bench_save connscale table
exit $bench_failed
