#!/bin/bash
# t_sockbuf.sh - SO_RCVBUF/SO_SNDBUF set before listen() size the rings of
# the connections: with 4096 asked, the accepted socket reports 8192 (the
# kernel's doubled value, as Linux) and 10 MB still go through the small
# rings byte for byte, each way.
. "$(dirname "$0")/lib.sh"
tas_init t_sockbuf
net_setup

make_data "$TMP/data" 10

# small_rings DESC LISTENER PEER PORT: LISTENER (tcp_recv or tcp_send) runs
# under tasd with 4096-byte buffers asked; PEER connects from the Linux side.
small_rings() {
    local desc=$1 mine=$2 theirs=$3 port=$4
    local -a min=() mout=() tin=() tout=()
    if [[ $mine == tcp_recv ]]; then
        mout=(-o "$TMP/got$port") tin=(-i "$TMP/data")
    else
        min=(-i "$TMP/data") tout=(-o "$TMP/got$port")
    fi
    start_bg "${min[@]}" "${mout[@]}" mine$port tasd -t 120 env TU_SOCKBUF=4096 \
        "$BIN/$mine" --listen --port "$port"
    wait_ready mine$port || fatal "$desc: $mine did not start"
    start_bg "${tin[@]}" "${tout[@]}" theirs$port peer -t 120 "$BIN/$theirs" \
        --addr "$SERVER_IP" --port "$port"
    check "$desc: the Linux side is done" wait_bg theirs$port 110
    check "$desc: the side under tasd is done" wait_bg mine$port 30
    check_eq "$desc: sha256" "$(sha "$TMP/got$port")" "$(sha "$TMP/data")"
    check "$desc: the accepted socket reports SO_RCVBUF 8192 SO_SNDBUF 8192" \
        grep -q "SO_RCVBUF 8192 SO_SNDBUF 8192" "${BG_LOG[mine$port]}"
}

small_rings "10 MB into an 8 KiB receive ring" tcp_recv tcp_send 7040
small_rings "10 MB out of an 8 KiB send ring" tcp_send tcp_recv 7041
finish
