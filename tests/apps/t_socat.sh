#!/bin/bash
# t_socat.sh - Debian's socat, the inetd of the command line, runs unmodified
# under tasd as an echo server in its three ways of handing a connection to
# a program: EXEC (socat forks per connection, and the child runs cat on a
# socketpair while it copies to and from the connection), SYSTEM (the same
# through sh -c) and EXEC with nofork (the forked child dup2()s the
# connection onto cat's stdin and stdout and execs it: cat then reads and
# writes the tasd socket itself).  From the Linux peer, 3 connections in a
# row and then 8 at once per server send 4 MiB each; the echo must have the
# same sha256.  Then socat under tasd is the client of a Linux socat echo
# server.  Afterwards tasd must hold nothing.
. "$(dirname "$0")/apps.sh"
apps_init t_socat socat
net_setup
apps_mark_idle

make_data "$TMP/data" 4
want=$(sha "$TMP/data")

# echo_rounds PORT WHAT: the peer's connections to a server under tasd.
echo_rounds() {
    local port=$1 what=$2 i ok=0 got
    for i in 1 2 3; do
        got=$(ip netns exec "$NS_B" timeout 30 "${APP[socat]}" -t 10 - \
            "TCP:$SERVER_IP:$port" <"$TMP/data" | sha256sum | cut -d' ' -f1)
        [[ $got == "$want" ]] && ok=$((ok + 1))
    done
    check_eq "$what: 3 connections in a row echo 4 MiB each (sha256)" "$ok" 3
    local pids=()
    for i in 1 2 3 4 5 6 7 8; do
        ip netns exec "$NS_B" timeout 60 "${APP[socat]}" -t 10 - "TCP:$SERVER_IP:$port" \
            <"$TMP/data" >"$TMP/par.$port.$i" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    ok=0
    for i in 1 2 3 4 5 6 7 8; do
        [[ $(sha "$TMP/par.$port.$i") == "$want" ]] && ok=$((ok + 1))
    done
    check_eq "$what: 8 connections at once echo 4 MiB each (sha256)" "$ok" 8
}

start_bg exec tasd -t 300 "${APP[socat]}" TCP-LISTEN:7401,fork,reuseaddr EXEC:/bin/cat
start_bg system tasd -t 300 "${APP[socat]}" TCP-LISTEN:7402,fork,reuseaddr SYSTEM:cat
start_bg nofork tasd -t 300 "${APP[socat]}" TCP-LISTEN:7403,fork,reuseaddr \
    EXEC:/bin/cat,nofork
for p in exec:7401 system:7402 nofork:7403; do
    wait_port "${p%%:*}" "$SERVER_IP" "${p##*:}" || fatal "socat ${p%%:*} did not start"
done
echo_rounds 7401 "socat fork + EXEC:cat under tasd"
echo_rounds 7402 "socat fork + SYSTEM:cat under tasd"
echo_rounds 7403 "socat fork + EXEC:cat,nofork (cat reads and writes the socket) under tasd"
for n in exec system nofork; do stop_server "$n"; done

start_bg lecho peer -t 120 "${APP[socat]}" "TCP-LISTEN:7404,fork,reuseaddr" EXEC:/bin/cat
wait_port lecho "$PEER_IP" 7404 || fatal "socat on the peer did not start"
got=$(run_under_tasd -t 60 "${APP[socat]}" -t 10 - "TCP:$PEER_IP:7404" <"$TMP/data" |
    sha256sum | cut -d' ' -f1)
check_eq "socat under tasd as the client of a Linux echo server: 4 MiB back (sha256)" \
    "$got" "$want"
stop_server lecho

apps_check_idle
finish
