#!/bin/bash
# tests/demo.sh - the README's demo: tasd on its default configuration (a
# DPDK TAP device tas0 whose kernel side tasd addresses 10.77.0.1/24), an
# unmodified web server under LD_PRELOAD=libtas_interpose.so on
# 10.77.0.2:8080, and curl on the Linux stack fetching its page through the
# TAP device.  Everything runs in a network namespace of its own
# (tas-demo-<pid>), so the demo touches nothing else on the machine and
# leaves nothing behind.
#
#   sudo tests/demo.sh [--keep] [--linux]
#
#   --keep   leave tasd and the server running until Ctrl-C, to try more
#            clients (the script prints the command)
#   --linux  self-check of this script without tasd: the server runs on the
#            Linux stack (on a stand-in tas0) instead
#
# Uses conf/tasd.conf from the source tree with a temporary --run-dir, and
# the programs of the build tree (default: this source tree, i.e. an
# in-tree build; set BUILD for another).
set -u
KEEP=0
MODE=tasd
for arg in "$@"; do
    case $arg in
    --keep) KEEP=1 ;;
    --linux) MODE=linux ;;
    *)
        echo "usage: $0 [--keep] [--linux]"
        exit 2
        ;;
    esac
done
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck disable=SC2034 # read by lib.sh
TAS_TEST_MODE=$MODE
# shellcheck source=integration/lib.sh
. "$(dirname "$0")/integration/lib.sh"
NS_A=tas-demo-$TAS_ID
[[ $KEEP == 1 ]] && TASD_LIFETIME=$((7 * 24 * 3600))
URL=http://10.77.0.2:8080/

tas_init demo "$BIN/http_hello"
ns_add "$NS_A" || fatal "cannot create namespace $NS_A"
if [[ $MODE == tasd ]]; then
    start_tasd --ns "$NS_A" --config "$SRCDIR/conf/tasd.conf" --run-dir "$RUN_DIR" ||
        fatal "tasd did not start"
    echo "tasctl status:"
    tasctl status | sed 's/^/    /'
else
    # A veth end named tas0 stands in for the TAP device.
    if ! ip -n "$NS_A" link add tas0 type veth peer name tas0peer ||
        ! ip -n "$NS_A" addr add 10.77.0.2/24 dev tas0 ||
        ! ip -n "$NS_A" link set tas0 up; then
        fatal "cannot set up a stand-in tas0"
    fi
fi
echo "kernel side of tas0 in $NS_A:"
ip -n "$NS_A" -br addr show dev tas0 | sed 's/^/    /'

web_secs=120
[[ $KEEP == 1 ]] && web_secs=$TASD_LIFETIME
start_bg web tasd -t "$web_secs" "$BIN/http_hello" --port 8080
wait_ready web || fatal "the demo web server did not start"
echo "web server: $(basename "$BIN")/http_hello on 10.77.0.2:8080 ($MODE)"

echo "\$ curl -s $URL"
answer=$(timeout 20 ip netns exec "$NS_A" curl -s --max-time 15 "$URL")
echo "$answer"
check_eq "curl on the Linux stack got the page of the server running over $MODE" \
    "$answer" "hello from tasd"

if [[ $KEEP == 1 ]]; then
    echo
    echo "tasd and the web server keep running. Try, in another shell:"
    echo "    sudo ip netns exec $NS_A curl $URL"
    [[ $MODE == tasd ]] && echo "    sudo $TASCTL --run-dir $RUN_DIR flows"
    echo "Ctrl-C stops them and removes the namespace."
    while _alive "${BG_PID[web]}"; do
        sleep 1
    done
    echo "the web server exited"
fi
finish
