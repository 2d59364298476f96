#!/bin/bash
# bench/matrix.sh - the whole comparison in one run, one table, one picture
# (issue 10); `bench/run.sh --matrix` runs it.
#
# Three set-ups on the same veth pair, one after the other: Linux's own
# stack, tasd on DPDK net_af_packet, tasd on DPDK net_af_xdp.  On each, the
# same servers in ns A and the same Linux clients in ns B:
#   rpc     echo_server, bench/rpc_echo closed loop, 64-B requests, at 1, 16,
#           64 and 256 connections (-r)
#   nginx   nginx-light (master and 2 workers) serving a 64-B file, wrk -t 1
#           with keep-alive at 1, 16 and 100 connections (-w)
#   bulk    iperf3, one stream each way: Linux client -> server in ns A
#           (rx) and the reverse (-R, tx)
# with the machine's CPU per operation for each point (/proc/stat busy time
# over the point / requests, or / MB for bulk).  Then the raw I/O limit of
# each DPDK port (bench/rawio.sh: a minimal DPDK UDP echo on the same veth,
# driven by a Linux UDP client at the same flow counts), so that every tasd
# RPC figure is also a share of what the port itself carries.  Writes the
# table under $BUILD/bench/results/ and beside it a PNG (gnuplot): rate
# against connections, tasd against Linux and the raw limit.
#
#   sudo bench/matrix.sh [-d SECONDS] [-r "1 16 64 256"] [-w "1 16 100"]
#                        [-s "linux af_packet af_xdp"]
#
# Exits 1 if a point could not be measured (the table says n/a and why).
set -u
# shellcheck source=benchlib.sh disable=SC2034
. "$(dirname "$0")/benchlib.sh"

DURATION=5
RPC_CONNS="1 16 64 256"
WRK_CONNS="1 16 100"
SETUPS="linux af_packet af_xdp"
while getopts "d:r:w:s:h" o; do
    case $o in
    d) DURATION=$OPTARG ;;
    r) RPC_CONNS=$OPTARG ;;
    w) WRK_CONNS=$OPTARG ;;
    s) SETUPS=$OPTARG ;;
    *)
        echo "usage: $0 [-d SECONDS] [-r \"1 16 64 256\"] [-w \"1 16 100\"] [-s \"linux af_packet af_xdp\"]"
        exit 2
        ;;
    esac
done

RPC=$BUILD/bench/rpc_echo
tas_init bench_matrix "$BIN/echo_server" "$RPC"
NGINX=$(command -v nginx) || fatal "nginx is not installed (run .ci/deps)"
WRK=$(command -v wrk) || fatal "wrk is not installed (run .ci/deps)"
IPERF=$(command -v iperf3) || fatal "iperf3 is not installed (run .ci/deps)"
GNUPLOT=$(command -v gnuplot) || fatal "gnuplot is not installed (run .ci/deps)"
# shellcheck disable=SC2034 # nginx_conf (benchlib.sh) reads it
WORKERS=2

# RATE[setup,workload,n]: ops/s (bulk: Gbit/s); CPU[...]: machine CPU us per
# op (bulk: ms per MB); WAKE[setup,n]: tasd's wake-ups per RPC.
declare -A RATE=() CPU=() WAKE=() NOTE=()
bench_failed=0

# dec EXPR: awk arithmetic with two decimals (n/a when it cannot be done)
dec() {
    local r
    r=$(awk "BEGIN { printf \"%.2f\", ($1) }" 2>/dev/null) || r=n/a
    [[ $r =~ ^-?[0-9]+\.[0-9]+$ ]] || r=n/a
    echo "$r"
}

# cpu_per KEY SCALE OPS: record the machine CPU of the window per op.
cpu_per() {
    local cpu busy
    cpu=$(cpu_end point)
    busy=$(kv busy_s "$cpu")
    if [[ -n $busy && ${3:-0} != 0 ]]; then
        CPU[$1]=$(dec "$busy * $2 / $3")
    fi
}

rpc_points() {
    local s=$1 c out
    start_bg "rpc_$s" tasd -t $(((DURATION + 30) * 5)) "$BIN/echo_server" --port 7000 --nodelay \
        --backlog 4096
    wait_ready "rpc_$s" || { NOTE[$s]="echo_server did not start"; return 1; }
    for c in $RPC_CONNS; do
        echo "-- $s, rpc, $c connection(s)"
        [[ $s != linux ]] && tasctl stats --json >"$TMP/wake0.json" 2>/dev/null
        cpu_begin point
        if ! out=$(run_linux_peer -t $((DURATION + 30)) "$RPC" -a "$SERVER_IP" -p 7000 -c "$c" \
            -d "$DURATION" -w 1 -s 64); then
            echo "   rpc_echo failed: $out"
            NOTE[$s]="rpc_echo failed at $c connection(s)"
            return 1
        fi
        echo "   $out"
        RATE[$s,rpc,$c]=$(kv rate "$out")
        cpu_per "$s,rpc,$c" 1000000 "$(kv requests "$out")"
        if [[ $s != linux ]] && tasctl stats --json >"$TMP/wake1.json" 2>/dev/null; then
            WAKE[$s,$c]=$(wakes_per "$TMP/wake0.json" "$TMP/wake1.json" "$(kv requests "$out")")
        fi
    done
    stop_bg "rpc_$s" || true
}

nginx_points() {
    local s=$1 c out n
    nginx_conf
    start_bg "nginx_$s" tasd -t $(((DURATION + 30) * 4)) "$NGINX" -p "$TMP/nginx" \
        -e "$TMP/nginx.error.log" -c "$TMP/nginx.conf"
    wait_listen "nginx_$s" 8080 || { NOTE[$s]="nginx did not start"; return 1; }
    for c in $WRK_CONNS; do
        echo "-- $s, nginx, $c connection(s)"
        cpu_begin point
        if ! out=$(run_linux_peer -t $((DURATION + 30)) "$WRK" -t 1 -c "$c" -d "${DURATION}s" \
            "http://$SERVER_IP:8080/small.txt" 2>&1); then
            echo "   wrk failed: $out"
            NOTE[$s]="wrk failed at $c connection(s)"
            return 1
        fi
        n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")
        RATE[$s,nginx,$c]=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
        echo "   $n requests, ${RATE[$s,nginx,$c]:-n/a}/s"
        if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
            NOTE[$s]="wrk saw errors at $c connection(s): $(grep 'Non-2xx\|Socket errors' <<<"$out")"
            return 1
        fi
        cpu_per "$s,nginx,$c" 1000000 "${n:-0}"
    done
    stop_bg "nginx_$s" || true
}

# iperf3 one stream: rx (the Linux client sends to ns A) and tx (-R).
bulk_points() {
    local s=$1 dir out i
    start_bg "iperf_$s" tasd -t $(((DURATION + 30) * 3)) "$IPERF" -s -p 5201 --forceflush
    for ((i = 0; i < 50; i++)); do
        grep -q 'Server listening' "${BG_LOG[iperf_$s]}" 2>/dev/null && break
        sleep 0.1
    done
    for dir in rx tx; do
        echo "-- $s, bulk, $dir"
        local rev=()
        [[ $dir == tx ]] && rev=(-R)
        cpu_begin point
        if ! out=$(run_linux_peer -t $((DURATION + 30)) "$IPERF" -c "$SERVER_IP" -p 5201 \
            -t "$DURATION" -J "${rev[@]}"); then
            NOTE[$s]="iperf3 $dir failed"
            return 1
        fi
        local bps bytes
        read -r bps bytes < <(python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum_received"]
print(e["bits_per_second"], e["bytes"])' <<<"$out") || { NOTE[$s]="iperf3 $dir: no result"; return 1; }
        RATE[$s,bulk,$dir]=$(dec "$bps / 1000000000")
        echo "   ${RATE[$s,bulk,$dir]} Gbit/s"
        cpu_per "$s,bulk,$dir" 1000 "$(dec "$bytes / 1000000")"
    done
    stop_bg "iperf_$s" || true
}

measure() {
    local s=$1
    # shellcheck disable=SC2034 # read by lib.sh
    if [[ $s == linux ]]; then TAS_TEST_MODE=linux; else TAS_TEST_MODE=tasd TAS_PMD=$s; fi
    export TAS_PMD
    net_create
    if [[ $s != linux ]] && ! start_tasd; then
        NOTE[$s]="tasd did not start (see above)"
        return 1
    fi
    rpc_points "$s" && nginx_points "$s" && bulk_points "$s"
}

# raw PMD: bench/rawio.sh's datagrams/s at each RPC flow count.
raw_points() {
    local p=$1 out line c
    echo "-- raw I/O limit, $p"
    if ! out=$(TAS_PMD=$p bash "$BENCH_DIR/rawio.sh" -d "$DURATION" -c "$RPC_CONNS" 2>&1); then
        echo "$out" | tail -n 5
        NOTE[raw_$p]="rawio.sh failed"
        return 1
    fi
    while read -r line; do
        c=$(kv flows "$line")
        [[ -n $c ]] && RATE[raw_$p,rpc,$c]=$(kv rate "$line")
    done < <(grep 'flows=' <<<"$out")
}

for s in $SETUPS; do
    echo "== $s"
    measure "$s" || {
        bench_failed=1
        echo "   $s: ${NOTE[$s]:-failed}"
    }
    net_teardown
done
for s in $SETUPS; do
    [[ $s == linux ]] && continue
    raw_points "$s" || bench_failed=1
done

cell() { v "${RATE[$1]:-}"; }
cpu() { v "${CPU[$1]:-}"; }

table() {
    local s c w
    echo
    echo "One run, three set-ups on one veth pair, servers in ns A, Linux clients in ns B,"
    echo "${DURATION} s per point $(bench_stamp)"
    echo "rpc: 64-B echo, req/s; nginx: wrk keep-alive, 64-B file, req/s; bulk: iperf3 one"
    echo "stream, Gbit/s (rx: into ns A, tx: out of it). x: tasd/Linux. raw: the DPDK port's"
    echo "own UDP echo limit at as many flows, and tasd's share of it. CPU: the whole"
    echo "machine per op, us (bulk: ms per MB)."
    printf '%-6s %5s | %9s %9s %5s %9s %5s | %9s %9s | %5s %5s | %7s %7s %7s\n' \
        what conns Linux af_packet x af_xdp x "raw pkt" "raw xdp" "%pkt" "%xdp" \
        "CPU Lnx" "CPU pkt" "CPU xdp"
    for w in rpc nginx bulk; do
        local ns
        case $w in rpc) ns=$RPC_CONNS ;; nginx) ns=$WRK_CONNS ;; bulk) ns="rx tx" ;; esac
        for c in $ns; do
            printf '%-6s %5s | %9s %9s %5s %9s %5s | %9s %9s | %5s %5s | %7s %7s %7s\n' \
                "$w" "$c" "$(cell "linux,$w,$c")" \
                "$(cell "af_packet,$w,$c")" \
                "$(ratio "${RATE[af_packet,$w,$c]:-}" "${RATE[linux,$w,$c]:-}")" \
                "$(cell "af_xdp,$w,$c")" \
                "$(ratio "${RATE[af_xdp,$w,$c]:-}" "${RATE[linux,$w,$c]:-}")" \
                "$(cell "raw_af_packet,$w,$c")" "$(cell "raw_af_xdp,$w,$c")" \
                "$(pct "${RATE[af_packet,$w,$c]:-}" "${RATE[raw_af_packet,$w,$c]:-}")" \
                "$(pct "${RATE[af_xdp,$w,$c]:-}" "${RATE[raw_af_xdp,$w,$c]:-}")" \
                "$(cpu "linux,$w,$c")" "$(cpu "af_packet,$w,$c")" "$(cpu "af_xdp,$w,$c")"
        done
    done
    if [[ -n ${WAKE[*]:-} ]]; then
        echo "tasd's wake-ups per RPC (app, sp, fp, lib: see bench/run.sh; sleeps: a core slept):"
        for s in af_packet af_xdp; do
            for c in $RPC_CONNS; do
                [[ -n ${WAKE[$s,$c]:-} ]] && printf '  %-9s %5s | %s\n' "$s" "$c" "${WAKE[$s,$c]}"
            done
        done
    fi
    for s in "${!NOTE[@]}"; do
        echo "note: $s: ${NOTE[$s]}"
    done
    echo "picture: $PLOT"
}

# pct A B: A as a % of B, or n/a
pct() {
    awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && b > 0) printf "%.0f", 100 * a / b; else print "n/a" }'
}

# plot: rate against connections, one line per set-up (rpc and nginx).
plot() {
    local w s c dat=$TMP/plot
    mkdir -p "$dat"
    for w in rpc nginx; do
        for s in linux af_packet af_xdp raw_af_packet raw_af_xdp; do
            : >"$dat/$w.$s"
            for c in $([[ $w == rpc ]] && echo "$RPC_CONNS" || echo "$WRK_CONNS"); do
                [[ -n ${RATE[$s,$w,$c]:-} ]] && echo "$c ${RATE[$s,$w,$c]}" >>"$dat/$w.$s"
            done
        done
    done
    "$GNUPLOT" <<GP
set terminal png size 1200,500 noenhanced
set output "$PLOT"
set multiplot layout 1,2 title "tasd against Linux, $(date -u +%Y-%m-%d), $(nproc) CPUs"
set logscale x 2
set xlabel "connections"
set ylabel "requests/s"
set key top left
set grid
set title "64-B echo RPC (rpc_echo)"
plot "$dat/rpc.linux" w lp t "Linux", "$dat/rpc.af_packet" w lp t "tasd af_packet", \
     "$dat/rpc.af_xdp" w lp t "tasd af_xdp", "$dat/rpc.raw_af_packet" w lp dt 2 t "raw af_packet", \
     "$dat/rpc.raw_af_xdp" w lp dt 2 t "raw af_xdp"
set title "nginx, 64-B file (wrk, keep-alive)"
plot "$dat/nginx.linux" w lp t "Linux", "$dat/nginx.af_packet" w lp t "tasd af_packet", \
     "$dat/nginx.af_xdp" w lp t "tasd af_xdp"
unset multiplot
GP
}

mkdir -p "$BUILD/bench/results"
PLOT=$BUILD/bench/results/matrix-$(date -u +%Y%m%d-%H%M%S).png
plot >/dev/null 2>&1 || NOTE[plot]="gnuplot failed"
bench_save matrix table
exit $bench_failed
