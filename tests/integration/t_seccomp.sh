#!/bin/bash
# t_seccomp.sh - a server that locks itself in before it reads its accepted
# connection, as sshd's pre-authentication child does (issue 11):
# seccomp_server accepts under the shim, then allows only read, write,
# poll calls, futex, clock calls, memory and exit, with RLIMIT_NOFILE 1,
# and echoes 1 MiB back to a Linux client, which checks every byte.  Any
# other system call of the library (making an eventfd, recvfrom on
# app.sock, polling more descriptors than the limit) kills it with SIGSYS.
# TAS_TEST_MODE=linux runs it against Linux.
. "$(dirname "$0")/lib.sh"
tas_init t_seccomp "$BIN/seccomp_server" "$BIN/echo_client"
net_setup

start_bg srv tasd -t 60 "$BIN/seccomp_server" --port 7090 --bytes $((256 * 4096)) --timeout 30
wait_ready srv || fatal "seccomp_server did not start"
check "a Linux client gets 1 MiB echoed intact by the locked-in server" \
    run_linux_peer -t 40 "$BIN/echo_client" --addr "$SERVER_IP" --port 7090 --conns 1 \
    --msgs 256 --size 4096 --timeout 30
check "the server exits 0 (not killed by its seccomp filter)" wait_bg srv 20
show_bg_log srv
check "... after echoing everything inside the sandbox" \
    grep -q 'echoed everything in the sandbox' "${BG_LOG[srv]}"
finish
