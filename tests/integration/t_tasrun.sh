#!/bin/bash
# t_tasrun.sh - tas-run, the wrapper users type instead of LD_PRELOAD
# (tasrun/tas-run.c), the shim's own word on a Go program
# (libtas/core/exe.c), and the pkg-config file:
#   - tas-run echo_server serves a Linux client over tasd (tasd owns the
#     address: the kernel in ns A does not have it) and says so;
#   - with no tasd on the run dir it exits 1 and says where it looked;
#   - a statically linked program (echo_static) and a Go program (a copy of
#     echo_server with a .go.buildinfo section, as Go's linker writes) are
#     refused with exit 126 and one line why; the shim, preloaded by hand
#     into the Go one, says the same and leaves its sockets to the kernel;
#   - not found: exit 127;
#   - libtas.pc is valid and names -ltas.
# Needs tasd: skipped in linux mode.
. "$(dirname "$0")/lib.sh"
tas_init t_tasrun
tasd_only "tas-run runs programs over tasd (TAS_TEST_MODE=$TAS_TEST_MODE)"
net_setup

TASRUN=$BUILD/tasrun/tas-run
export TAS_INTERPOSE=$INTERPOSE
[[ -x $TASRUN ]] || fatal "tas-run is not built ($TASRUN)"

# ---- a server over tasd
start_bg srv tasd_raw -t 40 "$TASRUN" "$BIN/echo_server" --port 7501 --max-conns 1 --timeout 30
wait_ready srv || fatal "echo_server under tas-run did not start"
check "tas-run: the server echoes 4 x 16 KiB to a Linux client over tasd" \
    run_linux_peer -t 20 "$BIN/echo_client" --addr "$SERVER_IP" --port 7501 --conns 1 \
    --msgs 4 --size 16384 --timeout 15
check "tas-run: the server ended cleanly" wait_bg srv 10
check "tas-run said the program runs over tasd" \
    grep -q "tas-run: $BIN/echo_server runs over tasd (run dir $RUN_DIR)" "$TMP/srv.log"

# run_tasrun NAME ARGS...: tas-run ARGS in ns A (no shim); output in
# $TMP/NAME.log; its exit status.
run_tasrun() {
    local name=$1
    shift
    timeout -k 5 20 ip netns exec "$NS_A" env "TAS_RUN_DIR=$RUN_DIR" "$TASRUN" "$@" \
        >"$TMP/$name.log" 2>&1 </dev/null
}
said() { grep -qF -- "$2" "$TMP/$1.log" || { sed 's/^/    | /' "$TMP/$1.log"; false; }; }

# ---- no tasd there
run_tasrun nodaemon --run-dir "$TMP/none" "$BIN/echo_server" --help
check_eq "tas-run with no tasd on the run dir exits 1" "$?" 1
check "... saying where it looked" said nodaemon "no tasd answers on $TMP/none/app.sock"

# ---- programs the shim cannot serve
run_tasrun static "$BIN/echo_static" --help
check_eq "tas-run of a static program exits 126" "$?" 126
check "... saying it is statically linked" said static "echo_static is statically linked"
cp "$BIN/echo_server" "$TMP/gosrv"
objcopy --add-section .go.buildinfo=/dev/null "$TMP/gosrv"
run_tasrun gosrv "$TMP/gosrv" --help
check_eq "tas-run of a Go program exits 126" "$?" 126
check "... saying it is a Go program" said gosrv "gosrv is a Go program"
start_bg golib tasd -t 20 "$TMP/gosrv" --port 7502 --max-conns 1 --timeout 15
wait_ready golib || fatal "the Go-marked echo_server did not start under the shim"
check "the shim in a Go program says it does not serve it" \
    said golib "libtas: $TMP/gosrv is a Go program"
check_eq "... and leaves its sockets to the kernel (no application registered with tasd)" \
    "$(sp_stat n_apps)" 0
stop_bg golib
run_tasrun missing no-such-program-$TAS_ID
check_eq "tas-run of a program it cannot find exits 127" "$?" 127

# ---- pkg-config
check "libtas.pc is valid" pkg-config --validate "$BUILD/libtas/libtas.pc"
check "libtas.pc names -ltas" bash -c "PKG_CONFIG_PATH='$BUILD/libtas' pkg-config --libs libtas | grep -q -- -ltas"
finish
