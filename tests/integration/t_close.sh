#!/bin/bash
# t_close.sh - how connections end, with the server in ns A (under tasd, or
# on Linux with TAS_TEST_MODE=linux) and a Linux client in ns B:
#   the client closes        -> the server reads EOF
#   the client resets        -> the server reads ECONNRESET, then a write
#                               fails with EPIPE or ECONNRESET
#   the server closes first  -> the client reads EOF
#   one side closes, the other reads EOF and writes on
#                            -> the closed side resets: a write fails with
#                               EPIPE or ECONNRESET, and tasd frees the flow
# Each side reports what it saw; nothing may hang (every step is bounded).
. "$(dirname "$0")/lib.sh"
tas_init t_close
net_setup

close_case "Linux client closes" tasd peer client fin 7010
close_case "Linux client resets (SO_LINGER 0)" tasd peer client rst 7011
close_case "server under tasd closes first" tasd peer server fin 7012
close_case "server under tasd resets (SO_LINGER 0)" tasd peer server rst 7013
close_case "server under tasd closes, the Linux client writes on" tasd peer server late 7014
close_case "Linux client closes, the server under tasd writes on" tasd peer client late 7015
# The listener must still work after all of that.
close_case "a new connection after the others" tasd peer client fin 7010
check "tasd holds no connection afterwards (TIME_WAIT aside)" tasd_idle
finish
