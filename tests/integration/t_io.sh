#!/bin/bash
# t_io.sh - the I/O calls of a program under tasd behave as on Linux
# (sem_io.c): recv flags, SIGPIPE/EPIPE, iovecs, sendfile/splice with the
# bytes compared by sha256, sendmmsg/recvmmsg, fcntl/ioctl, timeouts,
# SO_LINGER {1,0}, SO_ERROR after a refused connect, and SO_REUSEPORT
# listeners sharing a port (two sockets of one process, two processes).
. "$(dirname "$0")/lib.sh"
tas_init t_io "$BIN/sem_io"
net_setup

start_bg peer peer -t 400 "$BIN/sem_io" --peer --port 7100 --tmp "$TMP" --timeout 380
wait_ready peer || fatal "sem_io peer did not start"

io_case() { # DESCRIPTION CASE
    check "$1" run_under_tasd -t 60 env TAS_TEST_MODE="$TAS_TEST_MODE" "$BIN/sem_io" \
        --case "$2" --addr "$PEER_IP" --port 7100 --tmp "$TMP" --timeout 50
}
io_case "MSG_PEEK (also with MSG_DONTWAIT, recvmsg, recvfrom) then read returns the same bytes" peek
io_case "MSG_DONTWAIT on a blocking socket: EAGAIN from recv, recvfrom, recvmsg" dontwait
io_case "MSG_WAITALL returns the full length across 20 segments, short only at EOF" waitall
io_case "MSG_PEEK|MSG_WAITALL waits for the full length (or EOF), then read gets the same bytes" peekwaitall
io_case "MSG_TRUNC discards on TCP (as Linux), MSG_TRUNC|MSG_PEEK counts" trunc
io_case "MSG_OOB: recv EINVAL without urgent data; send EOPNOTSUPP under tasd; MSG_ERRQUEUE EAGAIN" oob
io_case "SIGPIPE after RST/FIN kills by default; SIG_IGN -> EPIPE; handler once per EPIPE; MSG_NOSIGNAL" sigpipe
io_case "1024 iovecs (zero-length ones too) with writev/readv and sendmsg/recvmsg; 1025 -> EINVAL/EMSGSIZE" iov
io_case "sendfile with and without an offset pointer, count beyond EOF" sendfile
check_eq "sendfile: sha256 of the echoed bytes equals the file's (twice, then its last 5000 bytes)" \
    "$(sha "$TMP/sendfile.out")" \
    "$({ cat "$TMP/sendfile.in" "$TMP/sendfile.in"; tail -c 5000 "$TMP/sendfile.in"; } | sha256sum | cut -d' ' -f1)"
io_case "splice file->pipe->socket and socket->pipe->file; splice errors; copy_file_range" splice
check_eq "splice: sha256 of the spliced-back file equals the source's" \
    "$(sha "$TMP/splice.out")" "$(sha "$TMP/splice.in")"
check_eq "copy_file_range: sha256 of the copy equals the source's" \
    "$(sha "$TMP/copy.out")" "$(sha "$TMP/splice.in")"
io_case "sendmmsg/recvmmsg on TCP (loop over sendmsg/recvmsg, MSG_WAITFORONE) and UDP (kernel)" mmsg
io_case "fcntl O_NONBLOCK, FIONBIO, FIONREAD/SIOCINQ, SIOCOUTQ drains, EINVAL on a listener" ioctl
io_case "SO_RCVTIMEO and SO_SNDTIMEO: EAGAIN (or a partial send) after 300 ms" timeo
io_case "SO_LINGER {1,0}: close resets, the peer's read fails with ECONNRESET" linger0
io_case "a signal (SA_RESTART) ends a blocking recv/send with its partial count, restarts an empty one" signal
io_case "send/write/writev/sendmmsg/splice -> EPIPE, recv/read/recvmmsg -> ENOTCONN on fresh and listening sockets" unconnected
io_case "TCP_INFO: CLOSE_WAIT after the peer's FIN, tcpi_snd_mss equals TCP_MAXSEG" tcpinfo
io_case "TCP_INFO after 100 KB each way: RTT, RTO, cwnd and byte counts (from tasd's report)" tcpinfo_data
io_case "non-blocking connect to a closed port: SO_ERROR is ECONNREFUSED once" refused
io_case "close_range/closefrom close sockets as close(); a child that closes every descriptor from 3 still connects" closerange
io_case "AF_INET6 dual stack: connect to ::ffff:peer, names as IPv4-mapped sockaddr_in6, sockaddr_in -> EINVAL" dualstack

# SO_REUSEPORT: two listeners of one process, then two processes, share a
# port; every connection from the peer is served.
start_bg rp1 tasd -t 60 "$BIN/sem_io" --reuseport-serve 2 --port 7200 --conns 60 --timeout 50
wait_ready rp1 || fatal "reuseport server did not start"
check "SO_REUSEPORT, two sockets of one process: 60 connections all served (1 byte written right after accept)" \
    run_linux_peer -t 60 "$BIN/sem_io" --reuseport-client 60 --addr "$SERVER_IP" --port 7200
check "the reuseport server exited cleanly" wait_bg rp1 30
show_bg_log rp1
start_bg rpa tasd -t 60 "$BIN/sem_io" --reuseport-serve 1 --port 7201 --conns 30 --timeout 15
wait_ready rpa || fatal "reuseport server A did not start"
start_bg rpb tasd -t 60 "$BIN/sem_io" --reuseport-serve 1 --base 1 --port 7201 --conns 30 \
    --timeout 15
wait_ready rpb || fatal "reuseport server B did not start"
check "SO_REUSEPORT, two processes: 30 connections all served" \
    run_linux_peer -t 60 "$BIN/sem_io" --reuseport-client 30 --addr "$SERVER_IP" --port 7201
check "reuseport server A exited cleanly" wait_bg rpa 30
check "reuseport server B exited cleanly" wait_bg rpb 30
show_bg_log rpa
show_bg_log rpb
check "both processes were given connections" \
    bash -c "grep -q 'listener a served [1-9]' '${BG_LOG[rpa]}' && grep -q 'listener b served [1-9]' '${BG_LOG[rpb]}'"
finish
