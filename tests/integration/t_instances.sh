#!/bin/bash
# t_instances.sh - a second tasd does not take over what a running one
# holds, and start-up errors name what failed (tasd/instance.c, port.c):
#   - with a tasd serving the test address, a second one on the same run dir
#     and one on another run dir with the same address are refused, each
#     naming the first one (its pid and run dir), and the first one still
#     serves an echo;
#   - a tasd on a TAP device (net_tap, iface=tasi<id>) holds it: another
#     instance on the same device with another address is refused, naming
#     the device and the first instance;
#   - a vdev that fails to probe (an interface that does not exist) is
#     named in the error;
#   - the installed tasd.conf (a TAP port with host_if tas0) with the port
#     and address given on the command line (the test veth's port, TAS_PMD)
#     starts: host_if is ignored with a line that says so.
# Needs tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_instances
tasd_only "instances are tasd's (TAS_TEST_MODE=$TAS_TEST_MODE)"
net_setup

# second NAME ARGS...: run another tasd in ns A to completion (it must not
# start), its output in $TMP/NAME.log; its exit status.
second() {
    local name=$1
    shift
    timeout -k 5 30 ip netns exec "$NS_A" "$TASD" "$@" >"$TMP/$name.log" 2>&1 </dev/null
}
# said NAME REGEX: the log of `second NAME` has a line that matches
said() { grep -qE -- "$2" "$TMP/$1.log" || { sed 's/^/    | /' "$TMP/$1.log"; false; }; }

# (tas_init started the first tasd: the test network's, on RUN_DIR)
FIRST_DIR=$RUN_DIR

# ---- the same run dir, the same address
second same_dir --config /dev/null --ip "$SERVER_IP/$NET_PREFIX" --run-dir "$RUN_DIR" \
    --dpdk "--no-huge --no-pci -m 256 --file-prefix ${DPDK_PREFIX}b --vdev net_ring0"
check_eq "a second tasd on the same run dir exits 1" "$?" 1
check "... and says another tasd runs with that run dir" \
    said same_dir "another tasd is running with run dir $RUN_DIR"

mkdir -p "$TMP/run2"
second same_ip --config /dev/null --ip "$SERVER_IP/$NET_PREFIX" --run-dir "$TMP/run2" \
    --dpdk "--no-huge --no-pci -m 256 --file-prefix ${DPDK_PREFIX}b --vdev net_ring0"
check_eq "a second tasd with the same address on another run dir exits 1" "$?" 1
check "... naming the address and the first tasd (pid, run dir)" \
    said same_ip "address $SERVER_IP is held by another running tasd \\(pid [0-9]+, run dir $FIRST_DIR\\)"
start_bg echo tasd -t 30 "$BIN/echo_server" --port 7401 --max-conns 1 --timeout 25
wait_ready echo || fatal "echo_server did not start"
check "the first tasd still serves (an echo through it)" \
    run_linux_peer -t 20 "$BIN/echo_client" --addr "$SERVER_IP" --port 7401 --conns 1 \
    --msgs 4 --size 16384 --timeout 15
check "echo_server ended cleanly" wait_bg echo 10
stop_tasd

# ---- a TAP device is one instance's
TAP=tasi$TAS_ID
TAP_IP=10.$((TAS_ID % 200 + 20)).9.2
mkdir -p "$TMP/run3" "$TMP/run4"
RUN_DIR=$TMP/run3
start_tasd --config /dev/null --ip "$TAP_IP/24" --run-dir "$TMP/run3" \
    --dpdk "--no-huge --no-pci -m 256 --file-prefix ${DPDK_PREFIX}t --vdev net_tap0,iface=$TAP" ||
    fatal "tasd on TAP $TAP did not start"
second same_tap --config /dev/null --ip "10.$((TAS_ID % 200 + 20)).10.2/24" --run-dir "$TMP/run4" \
    --dpdk "--no-huge --no-pci -m 256 --file-prefix ${DPDK_PREFIX}u --vdev net_tap0,iface=$TAP"
check_eq "a second tasd on the same TAP device exits 1" "$?" 1
check "... naming the device and the first tasd" \
    said same_tap "TAP device $TAP is held by another running tasd \\(pid [0-9]+, run dir $TMP/run3\\)"
check "the first tasd's TAP device is still there" ip netns exec "$NS_A" ip link show "$TAP"
check "... and the first tasd answers tasctl status" tasctl status
stop_tasd
RUN_DIR=$FIRST_DIR

# ---- a vdev that does not probe is named
second bad_vdev --config /dev/null --ip "$SERVER_IP/$NET_PREFIX" --run-dir "$TMP/run2" \
    --dpdk "--no-huge --no-pci -m 256 --file-prefix ${DPDK_PREFIX}c --vdev net_af_packet0,iface=nosuch$TAS_ID"
check_eq "tasd on a vdev that does not probe exits 1" "$?" 1
check "... naming the vdev" said bad_vdev "could not probe --vdev net_af_packet0,iface=nosuch$TAS_ID"

# ---- the installed configuration with another port: host_if is ignored
start_tasd --config "$SRCDIR/conf/tasd.conf" --ip "$SERVER_IP/$NET_PREFIX" \
    --run-dir "$RUN_DIR" \
    --dpdk "--no-huge --no-pci -m 512 --file-prefix $DPDK_PREFIX --vdev $(tasd_vdev)" $(tasd_cores)
check_eq "tasd with conf/tasd.conf on ${TAS_PMD:-af_packet} starts" "$?" 0
check "... and says host_if tas0 is ignored on a port that is not a TAP" \
    grep -q "host_if tas0 ignored: the port is net_${TAS_PMD:-af_packet}" "$TMP/tasd.log"
stop_tasd
finish
