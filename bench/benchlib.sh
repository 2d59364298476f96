# benchlib.sh - what the benchmarks (bench/run.sh, connscale.sh,
# shortconn.sh, matrix.sh) add to the integration helper library
# tests/integration/lib.sh, which they use for namespaces, tasd and bounded
# processes: ratios and table cells, CPU and memory samples
# (bench/procstat.py), tasd's wake-up counters, an nginx to measure, and
# where results are saved.
#
#   . "$(dirname "$0")/benchlib.sh"
#   tas_init bench_x "$BIN/echo_server" ...
#   ...
#   bench_save connscale table    # prints the table and saves it
# shellcheck shell=bash disable=SC2034

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/integration/lib.sh
. "$BENCH_DIR/../tests/integration/lib.sh"
PROCSTAT=$BENCH_DIR/procstat.py
CLK_TCK=$(getconf CLK_TCK)

# ratio A B: A/B with two decimals, or n/a
ratio() {
    if [[ -n ${1:-} && -n ${2:-} && ${1:-} != n/a && ${2:-} != n/a ]]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
    else
        echo "n/a"
    fi
}

# v X: X, or n/a if empty
v() { if [[ -n ${1:-} ]]; then echo "$1"; else echo "n/a"; fi; }

# calc EXPR: awk arithmetic, rounded to a whole number (n/a if an operand
# is n/a or missing, or on division by zero).
calc() {
    [[ $1 == *n/a* ]] && { echo n/a; return; }
    local r
    r=$(awk "BEGIN { printf \"%.0f\", ($1) }" 2>/dev/null) || r=n/a
    [[ $r =~ ^-?[0-9]+$ ]] || r=n/a
    echo "$r"
}

# kv KEY LINE: the value of KEY=VALUE in a summary line (empty if absent)
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -n 1; }

# bg_pids NAME...: the pids of these background programs (lib.sh's start_bg)
# wakes_per BEFORE.json AFTER.json N: tasd's wake-up counters (tasctl stats
# --json) between the two snapshots, per operation.
wakes_per() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
try:
    a, b = (json.load(open(f)) for f in sys.argv[1:3])
    n = float(sys.argv[3])
except (OSError, ValueError):
    sys.exit(0)
def tot(d):
    fp = d.get("fastpath", {}).get("cores", [])
    sp = d.get("slowpath", {}).get("counters", {})
    return {"app": sum(c.get("app_kicks", 0) for c in fp) + sp.get("app_kicks", 0),
            "sp": sum(c.get("sp_kicks", 0) for c in fp),
            "fp": sp.get("fp_kicks", 0),
            "sleeps": sum(c.get("idle_sleeps", 0) for c in fp),
            "lib": sum(a.get("lib_wakes", 0) for a in d.get("apps", []))}
x, y = tot(a), tot(b)
if n > 0:
    print(" ".join("%s=%.3f" % (k, (y[k] - x[k]) / n) for k in x))
PY
}

bg_pids() {
    local n
    for n in "$@"; do
        [[ -n ${BG_PID[$n]:-} ]] && echo "${BG_PID[$n]}"
    done
}

# cpu_begin NAME: start a CPU window (procstat.py cpu-start), and remember
# the CPU of this shell's reaped children so far.
declare -A CPU_CHILD0=()
cpu_begin() {
    CPU_CHILD0[$1]=$(_child_ticks)
    python3 "$PROCSTAT" cpu-start "$TMP/cpu.$1"
}

# cpu_end NAME [PID...]: "wall_s=W procs_s=P children_s=C busy_s=B
# sched_s=S tick_s=T" for the window (see procstat.py): CPU seconds of the
# processes under the PIDs, of the programs this shell ran and reaped in
# the window, and of the whole machine (busy_s: /proc/stat's exact idle
# time subtracted from the CPUs' wall time; the others to compare).
cpu_end() {
    local name=$1
    shift
    python3 "$PROCSTAT" cpu-end "$TMP/cpu.$name" "$@" \
        --extra-ticks $(($(_child_ticks) - ${CPU_CHILD0[$name]:-0}))
}

# pct_core SECONDS WALL: CPU seconds as % of one core over WALL seconds
pct_core() {
    awk -v c="${1:-}" -v w="${2:-}" 'BEGIN { if (c != "" && w > 0) printf "%.1f", 100 * c / w; else print "n/a" }'
}

# _child_ticks: cutime + cstime of this shell (its reaped descendants)
_child_ticks() {
    local s
    s=$(cat "/proc/$$/stat")
    s=${s##*) }
    local f
    read -ra f <<<"$s"
    echo $((f[13] + f[14]))
}

# mem_sample: procstat.py mem for tasd (if running) and the given programs
mem_sample() { python3 "$PROCSTAT" mem "${TASD_PID:-0}" "$@"; }

# bench_save NAME FUNCTION: print the table FUNCTION writes and save it as
# $BUILD/bench/results/NAME-<UTC time>.txt
bench_save() {
    mkdir -p "$BUILD/bench/results"
    local result
    result=$BUILD/bench/results/$1-$(date -u +%Y%m%d-%H%M%S).txt
    "$2" | tee "$result"
    echo "saved: $result"
}

# bench_stamp: the line that says when and where a table was measured
bench_stamp() {
    echo "($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, kernel $(uname -r)," \
        "TASD_EXTRA='${TASD_EXTRA:-}')"
}

# nginx_conf [tls]: $TMP/nginx.conf for Debian's nginx-light on port 8080
# (a master and ${WORKERS:-2} workers, as tests/apps/t_nginx.sh runs it),
# serving the 64-B file small.txt from $TMP/www; with tls also HTTPS on
# 8443 with a fresh self-signed P-256 certificate, no session cache and no
# tickets (every connection a full handshake).
nginx_conf() {
    local www=$TMP/www tls=""
    mkdir -p "$www" "$TMP/nginx"
    head -c 64 /dev/zero | tr '\0' x >"$www/small.txt"
    if [[ ${1:-} == tls ]]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj /CN=tasd-bench -days 2 -keyout "$TMP/nginx/key.pem" \
            -out "$TMP/nginx/cert.pem" 2>/dev/null || return 1
        tls="server { listen 8443 ssl backlog=4096; root $www;
        ssl_certificate $TMP/nginx/cert.pem; ssl_certificate_key $TMP/nginx/key.pem;
        ssl_session_cache off; ssl_session_tickets off; }"
    fi
    cat >"$TMP/nginx.conf" <<CONF
worker_processes ${WORKERS:-2};
master_process on;
daemon off;
user root;
pid $TMP/nginx.pid;
error_log $TMP/nginx.error.log warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
http {
    access_log off;
$(nginx_temp_paths)
    types { text/plain txt; }
    server { listen 8080 backlog=4096; root $www; }
    $tls
}
CONF
}

# wait_listen NAME PORT: until the server in ns A accepts on PORT
wait_listen() {
    local i
    for ((i = 0; i < 100; i++)); do
        timeout 2 ip netns exec "$NS_B" bash -c "exec 3<>/dev/tcp/$SERVER_IP/$2" 2>/dev/null &&
            return 0
        _alive "${BG_PID[$1]}" || return 1
        sleep 0.2
    done
    return 1
}
