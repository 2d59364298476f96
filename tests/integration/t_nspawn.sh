#!/bin/bash
# t_nspawn.sh - tasd.service under a real systemd: systemd-nspawn boots
# this machine's own tree (--volatile=yes: a tmpfs root over the host's
# /usr) in the test's network namespace A, with the unit built from
# systemd/tasd.service.in (paths pointing at the build tree, bound at
# /tas), a tasd.conf for the test veth, and a oneshot unit the container
# boots to (systemd.unit=tas-check.service) that runs nspawn_check.sh:
# systemctl start tasd (Type=notify), a program under the shim that the
# Linux peer in ns B echoes through, systemctl reload (SIGHUP re-reads
# the configuration), systemctl stop; then the same with the installed
# default's kind of port, a TAP device (/dev/net/tun bound in) whose host
# side tasd brings up and a kernel client in the container echoes over;
# then the container powers off.
. "$(dirname "$0")/lib.sh"
tas_init t_nspawn
# what nspawn leaves behind for its machine
test_cleanup() { rm -rf "/run/systemd/nspawn/propagate/tasnsp$TAS_ID"; }
tasd_only "the unit under test runs tasd"
if ! command -v systemd-nspawn >/dev/null 2>&1; then
    echo "SKIP: systemd-nspawn is not installed (package systemd-container; .ci/deps)"
    exit 77
fi
net_create
OUT=$TMP/out
mkdir -p "$OUT"
sed -e "s|@sbindir@|/tas/tasd|g" -e "s|@sysconfdir@|/etc|g" \
    "$SRCDIR/systemd/tasd.service.in" >"$TMP/tasd.service"
cat >"$TMP/tasd.conf" <<CONF
ip = "$SERVER_IP/$NET_PREFIX";
dpdk = "--no-huge --no-pci -m 512 --file-prefix tasnsp$TAS_ID --vdev net_af_packet0,iface=$VETH_A";
run_dir = "/run/tasd";
CONF
TAP=tasT$TAS_ID
cat >"$TMP/tap.conf" <<CONF
ip = "10.$NET_N.200.2/24";
host_if = { name = "$TAP"; ip = "10.$NET_N.200.1/24"; };
dpdk = "--no-huge --no-pci -m 512 --file-prefix tasnspt$TAS_ID --vdev net_tap0,iface=$TAP";
run_dir = "/run/tasd";
CONF
echo "10.$NET_N.200.2 $TAP" >"$TMP/tap.args"
cat >"$TMP/tas-check.service" <<'UNIT'
[Unit]
Description=tasd under systemd: start, serve, reload, stop (t_nspawn)
[Service]
Type=oneshot
ExecStart=/tassrc/tests/integration/nspawn_check.sh
StandardOutput=file:/out/check.log
StandardError=inherit
ExecStopPost=/bin/systemctl --no-block poweroff
UNIT
# Not through ip netns exec (its own /sys has no cgroup mount, which
# nspawn needs): from here, in the host's mount namespace, by hand.
BG_LOG[nspawn]=$TMP/nspawn.log
timeout -k 5 240 systemd-nspawn -q -D / --volatile=yes --register=no --keep-unit \
    --machine="tasnsp$TAS_ID" --network-namespace-path="/run/netns/$NS_A" \
    --capability=CAP_NET_ADMIN,CAP_IPC_LOCK \
    --bind-ro="$BUILD:/tas" --bind-ro="$SRCDIR:/tassrc" --bind="$OUT:/out" \
    --bind-ro="$TMP/tasd.service:/etc/systemd/system/tasd.service" \
    --bind-ro="$TMP/tas-check.service:/etc/systemd/system/tas-check.service" \
    --bind-ro="$TMP/tasd.conf:/etc/tasd/tasd.conf" \
    --bind-ro="$TMP/tap.conf:/etc/tasd/tap.conf" --bind-ro="$TMP/tap.args:/etc/tasd/tap.args" \
    --bind=/dev/net/tun --property=DeviceAllow="/dev/net/tun rwm" \
    -b systemd.unit=tas-check.service systemd.firstboot=off >"${BG_LOG[nspawn]}" 2>&1 </dev/null &
BG_PID[nspawn]=$!
for ((i = 0; i < 1500; i++)); do
    [[ -e $OUT/ready ]] && break
    _alive "${BG_PID[nspawn]}" || break
    sleep 0.1
done
check "the container booted, started tasd.service and a server under it" test -e "$OUT/ready"
if [[ -e $OUT/ready ]]; then
    check "the Linux peer echoes through the server under the unit's tasd" \
        run_linux_peer -t 30 "$BIN/echo_client" --addr "$SERVER_IP" --port 7800 --conns 1 \
        --msgs 20 --size 10000
fi
touch "$OUT/client-done"
check "the container ran its checks and powered off" wait_bg nspawn 180
sed 's/^/    /' "$OUT/check.log" 2>/dev/null
check_eq "every step inside the container passed" "$(cat "$OUT/result" 2>/dev/null)" rc=0
finish
