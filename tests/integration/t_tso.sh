#!/bin/bash
# t_tso.sh - TCP segmentation offload (--tso): tasd hands the port frames
# of several segments and the port cuts them.  The only port here that
# offers TSO is TAP (the default configuration's tas0, in a namespace of
# its own), whose PMD cuts in software, so auto leaves it off there and
# --tso on turns it on:
#   - tasd says TSO is on; 10 MB to a Linux receiver arrive intact (sha256)
#     and 10 MB back too; the cores count frames of several segments (on
#     average more than two each) and the port refused none;
#   - what the kernel receives on tas0 (tshark) is cut to the MTU: no
#     frame over 1514 bytes, most of them full, no bad checksum, nothing
#     out of order;
#   - with 1% of tasd's frames dropped (the test-only impairment drops
#     whole multi-segment frames) 5 MB still arrive intact;
#   - --tso auto on TAP says why it is off and sends no such frame.
# Needs tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_tso
tasd_only "TSO is tasd's; nothing to do in linux mode"
stop_tasd # the default one runs on a veth

NS_T=tas-tso-$TAS_ID
ns_add "$NS_T" || fatal "cannot create namespace $NS_T"
# Both ends in the TAP's namespace: tasd at 10.77.0.2, the kernel on tas0.
NS_A=$NS_T NS_B=$NS_T SERVER_IP=10.77.0.2 PEER_IP=10.77.0.1 VETH_B=tas0
tap_tasd() {
    start_tasd --ns "$NS_T" --config "$SRCDIR/conf/tasd.conf" --run-dir "$RUN_DIR" \
        --dpdk "--no-huge --no-pci -m 512 --file-prefix $DPDK_PREFIX --vdev net_tap0,iface=tas0" \
        "$@"
}
# core_stat KEY: that counter summed over the fast-path cores
core_stat() {
    tasctl stats --json | python3 -c '
import json, sys
print(sum(c[sys.argv[1]] for c in json.load(sys.stdin)["fastpath"]["cores"]))' "$1"
}

tap_tasd --tso on || fatal "tasd on TAP did not start"
check "tasd says TSO is on" grep -q "TSO on$" "$TMP/tasd.log"
capture_start tso "tcp portrange 7201-7203"
make_data "$TMP/data" 10
transfer "10 MB from tasd to the Linux peer" tasd peer to "$TMP/data" 7201 60
transfer "10 MB from the Linux peer to tasd" peer tasd to "$TMP/data" 7202 60
capture_stop tso
frames=$(core_stat tso_frames) segs=$(core_stat tso_segs) drops=$(core_stat tx_drops)
echo "    TSO: $frames frames of $segs segments; frames the port refused: $drops"
check "the cores sent frames of several segments ($frames)" test "$frames" -gt 50
check "... on average more than two segments each ($segs in $frames)" \
    test "$segs" -gt $((2 * frames))
check_eq "the port refused no frame" "$drops" 0
tshark -r "$TMP/tso.pcap" -o tcp.check_checksum:TRUE -Y "ip.src == $SERVER_IP" -T fields \
    -e frame.len -e tcp.len -e tcp.checksum.status -e tcp.checksum -e tcp.checksum_calculated \
    -e tcp.analysis.out_of_order -E occurrence=f -E separator=/s >"$TMP/tso.txt" 2>/dev/null
# (A sum of 0 written as 0xffff, which the TAP PMD does as for UDP, is the
# same number in ones' complement: the kernel takes it, tshark calls it bad.)
read -r n big full bad ooo < <(awk '{ n++; if ($1 > 1514) big++; if ($2 >= 1400) full++;
    if ($3 == 0 && !($4 == "0xffff" && $5 == "0x0000")) bad++; if ($6 != "") ooo++ }
    END { print n + 0, big + 0, full + 0, bad + 0, ooo + 0 }' "$TMP/tso.txt")
echo "    tas0 saw $n frames from tasd: $full with >= 1400 bytes of payload, $big over 1514 B"
check "the kernel saw tasd's data cut to the MTU: no frame over 1514 bytes ($big)" \
    test "$n" -gt 7000 -a "$big" -eq 0
check "... most of them full segments ($full of $n)" test "$full" -gt 7000
check_eq "... none with a bad TCP checksum" "$bad" 0
check_eq "... none out of order" "$ooo" 0
stop_tasd >/dev/null

tap_tasd --tso on --impair-allow on --impair-tx-drop 10 || fatal "tasd on TAP (1% drop) did not start"
make_data "$TMP/data5" 5
transfer "5 MB from tasd, 1% of its frames dropped" tasd peer to "$TMP/data5" 7203 60
echo "    TSO: $(core_stat tso_frames) frames; bytes sent again: $(core_stat retx_bytes)"
check "frames of several segments went out ($(core_stat tso_frames))" \
    test "$(core_stat tso_frames)" -gt 0
stop_tasd >/dev/null

tap_tasd --tso auto || fatal "tasd on TAP (tso auto) did not start"
check "--tso auto on TAP: off, and tasd says why" \
    grep -q "TSO off (net_tap's is software" "$TMP/tasd.log"
make_data "$TMP/data1" 1
transfer "1 MB from tasd without TSO" tasd peer to "$TMP/data1" 7204 60
check_eq "... no frame of several segments" "$(core_stat tso_frames)" 0
finish
