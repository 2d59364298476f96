#!/bin/bash
# nspawn_check.sh - runs inside the container of t_nspawn.sh, as the unit
# tas-check.service that the container boots to: tasd.service under a
# real systemd is started (Type=notify), serves a program under the shim
# (the host's Linux peer echoes through it) and another user's program, is
# reloaded and stopped; then once more on a TAP port (tap.conf), with a
# kernel client on its host side.
# Writes each step to stdout (check.log) and rc=N to /out/result.
TAS=/tas
rc=0
step() {
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; rc=1; fi
}
stat_is() { # KEY VALUE: tasctl stats --json has "KEY": VALUE
    timeout 10 "$TAS/tasctl/tasctl" stats --json | grep -q "\"$1\": $2"
}
# serve PORT LOG: an echo server under the shim for one connection, in
# the background (srv), once it said READY (at most 10 s).
serve() {
    LD_PRELOAD=$TAS/libtas/.libs/libtas_interpose.so TAS_FALLBACK=0 timeout 90 \
        "$TAS/tests/integration/bin/echo_server" --port "$1" --max-conns 1 --timeout 80 \
        >"$2" 2>&1 &
    srv=$!
    for ((i = 0; i < 100; i++)); do
        grep -q READY "$2" && break
        sleep 0.1
    done
}
step "systemctl start tasd (returns once tasd said READY=1)" timeout 90 systemctl start tasd
step "tasd.service is active" systemctl is-active --quiet tasd
step "tasctl status: ready" timeout 10 "$TAS/tasctl/tasctl" status
systemctl show -p MainPID -p ActiveState -p SubState -p Type tasd
serve 7800 /out/server.log
step "a server under the shim listens" grep -q READY /out/server.log
step "... on tasd (one application registered)" stat_is n_apps 1
# Another user's program (uid 65534): tasd.service's capabilities hold no
# CAP_KILL, so tasd must tell that it lives without signalling it.
setpriv --reuid=65534 --regid=65534 --clear-groups env \
    LD_PRELOAD=$TAS/libtas/.libs/libtas_interpose.so TAS_FALLBACK=0 timeout 30 \
    "$TAS/tests/integration/bin/echo_server" --port 7802 --max-conns 1 --timeout 25 \
    >/out/nobody.log 2>&1 &
nobody=$!
for ((i = 0; i < 100; i++)); do
    grep -q READY /out/nobody.log && break
    sleep 0.1
done
step "an unprivileged user's server under the shim listens on tasd too (uid 65534)" \
    grep -q READY /out/nobody.log
step "... registered beside the first (two applications)" stat_is n_apps 2
kill "$nobody" 2>/dev/null
wait "$nobody"
touch /out/ready
for ((i = 0; i < 900; i++)); do
    [[ -e /out/client-done ]] && break
    sleep 0.1
done
wait "$srv"
step "the server echoed its client and ended cleanly" test $? -eq 0
step "systemctl reload tasd" timeout 30 systemctl reload tasd
for ((i = 0; i < 50; i++)); do
    stat_is policy_reloads 1 && break
    sleep 0.1
done
step "... tasd read its configuration again (policy_reloads 1)" stat_is policy_reloads 1
step "systemctl stop tasd" timeout 60 systemctl stop tasd
step "tasd stopped cleanly (inactive, result success)" test \
    "$(systemctl show -p ActiveState --value tasd) $(systemctl show -p Result --value tasd)" \
    = "inactive success"

# The installed default's kind of port: a TAP device whose host side tasd
# configures, and a kernel client on it (the demo's set-up).
if [[ -e /etc/tasd/tap.conf ]]; then
    step "the TAP configuration in place of the first" mount --bind /etc/tasd/tap.conf \
        /etc/tasd/tasd.conf
    step "systemctl start tasd (TAP port)" timeout 90 systemctl start tasd
    read -r tap_ip host_if <"/etc/tasd/tap.args"
    serve 7801 /out/server2.log
    step "tasd brought the host side of the TAP up ($host_if)" ip link show "$host_if" up
    step "a kernel client on the host side echoes through the server under the shim" \
        timeout 30 "$TAS/tests/integration/bin/echo_client" --addr "$tap_ip" --port 7801 \
        --conns 1 --msgs 20 --size 10000
    wait "$srv"
    step "... which ended cleanly" test $? -eq 0
    step "systemctl stop tasd (TAP port)" timeout 60 systemctl stop tasd
    step "... stopped cleanly" test \
        "$(systemctl show -p ActiveState --value tasd) $(systemctl show -p Result --value tasd)" \
        = "inactive success"
fi
echo "--- journal of tasd.service:"
journalctl -u tasd --no-pager -o cat | tail -25
echo "rc=$rc" >/out/result
exit 0
