#!/bin/bash
# t_capture.sh - DPDK's dpdk-dumpcap captures what tasd sends and receives
# (tasd calls rte_pdump_init): tasd on af_packet with its memory in
# hugepages (a capture tool attaches as a DPDK secondary process, which
# cannot share a --no-huge primary's memory), dpdk-dumpcap -i 0 in the
# background, 1 MB from the Linux peer to a tcp_recv under tasd and 1 MB
# back, each checked by sha256; then tshark reads the capture: TCP segments
# of both transfers, in both directions, with at least 1 MB of payload from
# each sender, and the handshakes' SYNs.  Skipped where hugepages cannot be
# reserved or dpdk-dumpcap is missing; the machine's hugepage count and
# mounts are put back.  dumpcap is stopped once its count stands still.
. "$(dirname "$0")/lib.sh"
tas_init t_capture
tasd_only "capture is tasd's (TAS_TEST_MODE=$TAS_TEST_MODE)"
command -v dpdk-dumpcap >/dev/null || { echo "SKIP: no dpdk-dumpcap"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }

HP0=$(cat /proc/sys/vm/nr_hugepages)
HP_MOUNTED=
test_cleanup() {
    [[ -n $DUMPCAP_PID ]] && kill "$DUMPCAP_PID" 2>/dev/null
    stop_tasd
    [[ -n $HP_MOUNTED ]] && umount "$HP_MOUNTED" 2>/dev/null
    echo "$HP0" >/proc/sys/vm/nr_hugepages 2>/dev/null
}
DUMPCAP_PID=
echo $((HP0 + 160)) >/proc/sys/vm/nr_hugepages 2>/dev/null
if [[ $(cat /proc/sys/vm/nr_hugepages) -lt $((HP0 + 100)) ]]; then
    echo "SKIP: cannot reserve hugepages here"
    exit 77
fi
if ! grep -q hugetlbfs /proc/mounts; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages || { echo "SKIP: cannot mount hugetlbfs"; exit 77; }
    HP_MOUNTED=/dev/hugepages
fi
net_setup
stop_tasd # the default one runs without hugepages
start_tasd --config /dev/null --ip "$SERVER_IP/$NET_PREFIX" --run-dir "$RUN_DIR" \
    --dpdk "--no-pci -m 128 --file-prefix $DPDK_PREFIX --vdev $(tasd_vdev)" $(tasd_cores) ||
    fatal "tasd with hugepages did not start"

ip netns exec "$NS_A" dpdk-dumpcap --file-prefix="$DPDK_PREFIX" -i 0 -w "$TMP/cap.pcapng" \
    >"$TMP/dumpcap.log" 2>&1 &
DUMPCAP_PID=$!
for ((i = 0; i < 50; i++)); do
    grep -q "Packets captured" "$TMP/dumpcap.log" && break
    _alive "$DUMPCAP_PID" || break
    sleep 0.2
done
check "dpdk-dumpcap attached to tasd's port (it counts packets)" \
    grep -q "Packets captured" "$TMP/dumpcap.log" ||
    sed 's/^/    | /' "$TMP/dumpcap.log"

make_data "$TMP/data" 1
transfer "peer -> tasd, 1 MB" peer tasd to "$TMP/data" 7601 60
transfer "tasd -> peer, 1 MB" tasd peer to "$TMP/data" 7602 60
# dumpcap writes what it takes from its ring and prints the running count;
# on SIGINT it leaves the ring's rest unwritten, so wait (up to 10 s) until
# the count has stood still for a second before stopping it
captured() { tr '\b\r' '  ' <"$TMP/dumpcap.log" | grep -o 'Packets captured:[ 0-9]*' |
    tail -1 | awk '{ print $NF }'; }
last=-1
for ((i = 0; i < 20; i++)); do
    sleep 0.5
    now=$(captured)
    [[ $now == "$last" ]] && break
    last=$now
done
echo "    dumpcap: $(captured) packets written before SIGINT"
kill -INT "$DUMPCAP_PID"
wait "$DUMPCAP_PID"
check_eq "dpdk-dumpcap ended cleanly on SIGINT" "$?" 0
DUMPCAP_PID=
tr '\r' '\n' <"$TMP/dumpcap.log" | grep -E "dropped" | tail -1 | sed 's/^/    dumpcap: /'
# payload bytes per direction and port, and SYNs, as tshark reads the file
tshark -r "$TMP/cap.pcapng" -Y tcp -T fields -e ip.src -e tcp.dstport -e tcp.len \
    -e tcp.flags.syn >"$TMP/cap.txt" 2>"$TMP/tshark.err"
check "tshark reads the capture" test -s "$TMP/cap.txt"
sum() { awk -v src="$1" -v port="$2" '$1 == src && $2 == port { n += $3 } END { print n + 0 }' "$TMP/cap.txt"; }
in_bytes=$(sum "$PEER_IP" 7601)
out_bytes=$(sum "$SERVER_IP" 7602)
echo "    captured: $(wc -l <"$TMP/cap.txt") TCP segments; payload peer->tasd $in_bytes, tasd->peer $out_bytes"
check "the capture holds >= 1 MB received by tasd (port 7601)" test "$in_bytes" -ge 1048576
check "the capture holds >= 1 MB sent by tasd (port 7602)" test "$out_bytes" -ge 1048576
check "the capture holds both handshakes' SYNs" \
    test "$(awk '$4 == 1 || $4 == "True"' "$TMP/cap.txt" | wc -l)" -ge 4
finish
