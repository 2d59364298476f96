#!/bin/bash
# t_together.sh - several real programs share one tasd at the same time:
# redis-server, memcached and `python3 -m http.server` in ns A (under tasd,
# or on Linux with TAS_TEST_MODE=linux) are loaded at once from the Linux
# peer in ns B (redis-benchmark, memcslap, 40 curl downloads of 1 MiB),
# while an iperf3 client in ns A sends to an iperf3 server on the peer.
# Every load generator must finish without an error, every download and
# memcache_check.py's values must come back byte for byte, every server
# must still be running at the end, and once all are stopped tasd must be
# left with no application or connection.
. "$(dirname "$0")/apps.sh"
apps_init t_together redis-server redis-benchmark memcached memcslap iperf3 curl python3
net_setup
apps_mark_idle

WWW=$TMP/www
mkdir -p "$WWW"
make_data "$WWW/one.bin" 1

start_bg redis tasd -t 300 "${APP[redis-server]}" --port 6379 --bind 0.0.0.0 \
    --protected-mode no --save '' --appendonly no --daemonize no --dir "$TMP" --logfile ''
start_bg memcached tasd -t 300 "${APP[memcached]}" -u root -l 0.0.0.0 -p 11211 -U 0 -t 2 -m 64
start_bg http tasd -t 300 /usr/bin/python3 -m http.server 8000 --bind 0.0.0.0 --directory "$WWW"
start_bg iperf_srv peer -t 120 "${APP[iperf3]}" -s -4 -1 -p 5201 --forceflush
wait_port redis "$SERVER_IP" 6379 || fatal "redis-server did not start"
wait_port memcached "$SERVER_IP" 11211 || fatal "memcached did not start"
wait_port http "$SERVER_IP" 8000 || fatal "python3 -m http.server did not start"
wait_log iperf_srv 'Server listening' || fatal "iperf3 server on the peer did not start"

# All at once: four load generators on the peer, one client under tasd.
start_bg -o "$TMP/bench.csv" bench peer -t 120 "${APP[redis-benchmark]}" -h "$SERVER_IP" \
    -p 6379 -c 20 -n 20000 -t set,get,lpush,lpop --csv
start_bg slap peer -t 120 "${APP[memcslap]}" --servers="$SERVER_IP:11211" --concurrency=10 \
    --execute-number=5000 --test=set
start_bg curls peer -t 120 bash -c "for i in \$(seq 40); do
    curl -sS --fail -o '$TMP/one.'\$i 'http://$SERVER_IP:8000/one.bin' || exit 1; done"
start_bg -o "$TMP/iperf.json" iperf tasd -t 60 "${APP[iperf3]}" -4 -c "$PEER_IP" -p 5201 -t 5 -J
check "memcache_check during the load: 100 values come back byte for byte" \
    run_linux_peer -t 60 python3 "$APPS_DIR/memcache_check.py" "$SERVER_IP" 11211 --keys 100

check "redis-benchmark (20 clients, set/get/lpush/lpop) exits 0" wait_bg bench 120
check_eq "redis-benchmark reported all 4 tests" \
    "$(awk -F'","' 'NR > 1 && $2 + 0 > 0' "$TMP/bench.csv" | wc -l)" 4
check "memcslap (10 threads x 5000 sets) ended" wait_bg slap 120
check "memcslap: no error" bash -c "! grep -i -E 'error|fail' '${BG_LOG[slap]}'"
check_eq "memcslap: every set done" \
    "$(sed -n 's/^Time to set *\([0-9]*\) keys by .*/\1/p' "${BG_LOG[slap]}")" 50000
check "40 curl downloads from http.server ended" wait_bg curls 120
n=0
for i in $(seq 40); do
    [[ -f $TMP/one.$i && $(sha "$TMP/one.$i") == "$(sha "$WWW/one.bin")" ]] && n=$((n + 1))
done
check_eq "every download has the served file's sha256" "$n" 40
check "iperf3 client under tasd ended" wait_bg iperf 60
check "iperf3: JSON without an error, bytes received > 0" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit("error" in j or not j["end"]["sum_received"]["bytes"] > 0)' "$TMP/iperf.json"
check "iperf3 server on the peer exited 0" wait_bg iperf_srv 20

stop_server redis
stop_server memcached
stop_server http
apps_check_idle
if [[ $TAS_TEST_MODE == tasd ]]; then
    check "all four programs under tasd registered with it ($APPS_REGISTERED)" \
        test "$APPS_REGISTERED" -ge 4
fi
finish
