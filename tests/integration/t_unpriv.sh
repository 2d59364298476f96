#!/bin/bash
# t_unpriv.sh - ordinary users' programs under tasd, held to Linux's socket
# rules by the daemon (issue 11).  Programs run as nobody (uid 65534,
# group nogroup) or uid 65533 through setpriv, under the shim with
# TAS_FALLBACK=0 (a program tasd does not serve fails instead of using the
# kernel); unpriv.py reports the errno that stopped it:
#   1. app.sock is every user's (0666), and nobody's echo server serves a
#      Linux client (4 KiB of random bytes back intact) with its flows on
#      tasd, which shows the application's uid;
#   2. nobody may not listen on port 80 (EACCES); with CAP_NET_BIND_SERVICE
#      (ambient, through setpriv) it may, on 81; root may, on 80;
#   3. nobody may not join root's SO_REUSEPORT listener on 9000
#      (EADDRINUSE); another root program may;
#   4. nobody may not connect from source port 22 (EACCES), may from an
#      ephemeral one, and with the capability from 23;
#   5. nobody cannot open root's application's shared memory (its region
#      memfd) or tasd's through /proc, and uid 65533 cannot open nobody's;
#   6. tasd --app-users 65533: nobody's program is refused (it says why and
#      fails), uid 65533's works, cred_refused counts it;
#   7. tasd --app-group nogroup: app.sock is root:nogroup 0660; nobody (in
#      nogroup) is served, uid 65533 cannot reach app.sock;
#   8. per-application limits (--app-max-conns 4 --app-max-listeners 2):
#      nobody's fifth connection fails with ENOBUFS while another program
#      connects, its third listen() fails with ENOBUFS, and tasd's log
#      names the setting each time;
#   9. buffer memory (--app-buf-mb 1, rings of 256 + 128 KiB at most):
#      two connections get their full rings, the third smaller ones, the
#      fourth is refused with ENOBUFS, and tasd's log names the setting.
# TAS_TEST_MODE=linux runs 2-4 against Linux, whose rules these are
# (Linux refuses at bind(), tasd at listen() or connect(): the errno is
# compared).
. "$(dirname "$0")/lib.sh"
tas_init t_unpriv "$BIN/echo_server"
net_setup

PY=/usr/bin/python3
NB=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
U33=(setpriv --reuid=65533 --regid=65533 --clear-groups)
CAP=(--inh-caps=+net_bind_service --ambient-caps=+net_bind_service)
# Other users must reach app.sock, the shim and the script: the test's
# directory is root's (0700), and so may the checkout be.
chmod 0711 "$TMP"
mkdir -p "$TMP/pub"
cp "$SRCDIR/tests/integration/unpriv.py" "$TMP/pub/"
U=$TMP/pub/unpriv.py
if [[ $TAS_TEST_MODE == tasd ]]; then
    cp "$INTERPOSE" "$TMP/pub/"
    INTERPOSE=$TMP/pub/$(basename "$INTERPOSE")
    chmod 0755 "$RUN_DIR"
fi
chmod -R a+rX "$TMP/pub"

# says NAME WANT: the program NAME's log has WANT ("READY", "ERR EACCES" ...)
says() { grep -q "$2" "${BG_LOG[$1]}" || { cat "${BG_LOG[$1]}"; return 1; }; }
# try NAME WANT WHO... unpriv.py ARGS: run it under the shim in ns A, as WHO
try() {
    local name=$1 want=$2
    shift 2
    start_bg "$name" tasd -t 20 "$@"
    wait_bg "$name" 15 >/dev/null 2>&1 || true
    says "$name" "$want"
}

if [[ $TAS_TEST_MODE == tasd ]]; then
    check_eq "app.sock is every user's" "$(stat -c '%a %U' "$RUN_DIR/app.sock")" "666 root"
fi

# 1. nobody's server
start_bg nb_srv tasd -t 60 "${NB[@]}" $PY "$U" listen 8080 40
wait_ready nb_srv || fatal "nobody's server did not start"
check "nobody's server echoes a Linux client's 4 KiB intact" \
    run_linux_peer -t 15 $PY "$U" connect "$SERVER_IP" 8080 0
if [[ $TAS_TEST_MODE == tasd ]]; then
    tasctl stats --json >"$TMP/stats1.json"
    check "tasd serves it and knows it as uid 65534" python3 -c '
import json, sys
apps = json.load(open(sys.argv[1]))["slowpath"]["apps"]
sys.exit(0 if any(a["uid"] == 65534 and a["listeners"] == 1 for a in apps) else 1)' \
        "$TMP/stats1.json"
fi

# 2. privileged ports
check "nobody may not listen on port 80 (EACCES)" \
    try nb80 "ERR EACCES" "${NB[@]}" $PY "$U" listen 80 1
check "nobody with CAP_NET_BIND_SERVICE may listen on port 81" \
    try nb81 "READY" "${NB[@]}" "${CAP[@]}" $PY "$U" listen 81 1
check "root may listen on port 80" try root80 "READY" $PY "$U" listen 80 1

# 3. SO_REUSEPORT groups are per user
start_bg root_rp tasd -t 60 "$BIN/echo_server" --port 9000 --reuseport
wait_ready root_rp || fatal "root's SO_REUSEPORT server did not start"
check "nobody may not join root's SO_REUSEPORT group on 9000 (EADDRINUSE)" \
    try nb_rp "ERR EADDRINUSE" "${NB[@]}" $PY "$U" listen 9000 reuseport 1
check "another of root's programs may join it" \
    try root_rp2 "READY" $PY "$U" listen 9000 reuseport 1

# 4. source ports below 1024
start_bg peer_echo peer -t 60 $PY "$U" listen 7070 40
wait_ready peer_echo || fatal "the peer's echo server did not start"
check "nobody may not connect from source port 22 (EACCES)" \
    try nb_src22 "ERR EACCES" "${NB[@]}" $PY "$U" connect "$PEER_IP" 7070 22
check "nobody may connect from an ephemeral port" \
    try nb_src0 "OK echoed" "${NB[@]}" $PY "$U" connect "$PEER_IP" 7070 0
check "nobody with CAP_NET_BIND_SERVICE may connect from source port 23" \
    try nb_src23 "OK echoed" "${NB[@]}" "${CAP[@]}" $PY "$U" connect "$PEER_IP" 7070 23

if [[ $TAS_TEST_MODE != tasd ]]; then
    stop_bg nb_srv
    stop_bg root_rp
    stop_bg peer_echo
    finish
fi

# 5. nobody cannot reach others' shared memory through /proc
tasctl stats --json >"$TMP/stats2.json"
app_pid() { # app_pid UID: the pid of an application of that uid
    python3 -c '
import json, sys
for a in json.load(open(sys.argv[1]))["slowpath"]["apps"]:
    if a["uid"] == int(sys.argv[2]):
        print(a["pid"]); break' "$TMP/stats2.json" "$1"
}
memfds() { # memfds PID: its memfd descriptors, as /proc paths
    local f
    for f in /proc/"$1"/fd/*; do
        [[ $(readlink "$f") == /memfd:* ]] && echo "$f"
    done
}
cannot_open() { # cannot_open WHO... -- PATH...: WHO can open none of them
    local who=() p n=0
    while [[ $1 != -- ]]; do who+=("$1"); shift; done
    shift
    [[ $# -gt 0 ]] || { echo "no memfd found"; return 1; }
    for p in "$@"; do
        if "${who[@]}" dd if="$p" of=/dev/null bs=4096 count=1 status=none 2>/dev/null; then
            echo "opened $p ($(readlink "$p"))"
            n=$((n + 1))
        fi
    done
    echo "tried $#, opened $n"
    [[ $n -eq 0 ]]
}
root_pid=$(app_pid 0)
nb_pid=$(app_pid 65534)
mapfile -t root_fds < <(memfds "$root_pid")
mapfile -t nb_fds < <(memfds "$nb_pid")
mapfile -t tasd_fds < <(memfds "$(pgrep -x -P "$TASD_PID" tasd || echo "$TASD_PID")")
check "root's application has its region memfd (pid $root_pid: ${#root_fds[@]})" \
    test "${#root_fds[@]}" -ge 1
check "nobody cannot open root's application's memfds through /proc" \
    cannot_open "${NB[@]}" -- "${root_fds[@]}"
check "nobody cannot open tasd's memfds through /proc" \
    cannot_open "${NB[@]}" -- "${tasd_fds[@]}"
check "uid 65533 cannot open nobody's application's memfds through /proc" \
    cannot_open "${U33[@]}" -- "${nb_fds[@]}"
check "nobody cannot map root's application's memory through /proc/PID/map_files" \
    cannot_open "${NB[@]}" -- $(ls -d /proc/"$root_pid"/map_files/* 2>/dev/null | head -n 20)
stop_bg nb_srv
stop_bg root_rp
stop_bg peer_echo

# 6. apps.users
stop_tasd
start_tasd --add --app-users 65533 || fatal "tasd --app-users did not start"
chmod 0755 "$RUN_DIR"
check "nobody, not in apps.users, is refused and fails (ECONNREFUSED)" \
    try nb_users "ERR ECONNREFUSED" "${NB[@]}" $PY "$U" listen 8081 1
check "... and is told why" says nb_users "does not serve this user"
check "uid 65533, in apps.users, is served" \
    try u33_users "READY" "${U33[@]}" $PY "$U" listen 8082 1
check_eq "tasd counted one refusal" "$(sp_stat counters.cred_refused)" 1

# 7. apps.group
stop_tasd
start_tasd --add --app-group nogroup || fatal "tasd --app-group did not start"
chmod 0755 "$RUN_DIR"
check_eq "app.sock is root:nogroup 0660" "$(stat -c '%a %U:%G' "$RUN_DIR/app.sock")" \
    "660 root:nogroup"
check "nobody, in nogroup, is served" \
    try nb_group "READY" "${NB[@]}" $PY "$U" listen 8083 1
check "uid 65533, not in nogroup, cannot reach app.sock (and fails)" \
    try u33_group "ERR ECONNREFUSED" "${U33[@]}" $PY "$U" listen 8084 1
check "... and is told why" says u33_group "Permission denied"

# 8. per-application limits
stop_tasd
start_tasd --add --app-max-conns 4 --app-max-listeners 2 || fatal "tasd with limits did not start"
chmod 0755 "$RUN_DIR"
start_bg peer_echo2 peer -t 60 $PY "$U" listen 7071 40
wait_ready peer_echo2 || fatal "the peer's echo server did not start"
start_bg nb_hold tasd -t 30 "${NB[@]}" $PY "$U" hold "$PEER_IP" 7071 4 8
for ((i = 0; i < 50; i++)); do
    grep -qE '^(OK|ERR)' "${BG_LOG[nb_hold]}" 2>/dev/null && break
    sleep 0.1
done
check "nobody holds 4 connections" says nb_hold "HELD 4"
check "... and its fifth fails with ENOBUFS (limits.app_max_conns 4)" says nb_hold "ERR ENOBUFS"
check "meanwhile another program connects" \
    try other_conn "OK echoed" $PY "$U" connect "$PEER_IP" 7071 0
check "tasd's log names limits.app_max_conns" grep -q 'limits.app_max_conns' "$TMP/tasd.log"
check "nobody's third listen() fails with ENOBUFS (limits.app_max_listeners 2)" \
    try nb_listens "ERR ENOBUFS at listen" "${NB[@]}" $PY "$U" listens 3 8100
check "... after two" says nb_listens "LISTENED 2"
check "tasd's log names limits.app_max_listeners" \
    grep -q 'limits.app_max_listeners' "$TMP/tasd.log"
stop_bg nb_hold

# 9. buffer memory per application
stop_tasd
start_tasd --add --app-buf-mb 1 --rx-buf-size 262144 --tx-buf-size 131072 ||
    fatal "tasd with a buffer limit did not start"
chmod 0755 "$RUN_DIR"
start_bg nb_buf tasd -t 30 "${NB[@]}" $PY "$U" hold "$PEER_IP" 7071 3 8
for ((i = 0; i < 50; i++)); do
    grep -qE '^(OK|ERR)' "${BG_LOG[nb_buf]}" 2>/dev/null && break
    sleep 0.1
done
check "with 1 MB of buffers nobody holds 3 connections of 384 KiB largest rings" \
    says nb_buf "HELD 3"
check "... and its fourth fails with ENOBUFS (limits.app_buf_mb 1)" says nb_buf "ERR ENOBUFS"
check_eq "one connection got smaller largest rings" "$(sp_stat counters.app_buf_shrunk)" 1
check_eq "one was refused" "$(sp_stat counters.limit_app_buf)" 1
check "tasd's log names limits.app_buf_mb" grep -q 'limits.app_buf_mb' "$TMP/tasd.log"
stop_bg nb_buf
stop_bg peer_echo2
finish
