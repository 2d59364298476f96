#!/bin/bash
# t_bulk.sh - 100 MB each way between a program in ns A (under tasd, or on
# Linux with TAS_TEST_MODE=linux) and the Linux peer, with sha256 computed
# at both ends and compared.
. "$(dirname "$0")/lib.sh"
tas_init t_bulk
net_setup

MB=${TAS_BULK_MB:-100}
make_data "$TMP/data" "$MB"
echo "data: $MB MiB, sha256 $(sha "$TMP/data")"
transfer "Linux client sends $MB MB to a server under tasd" peer tasd to "$TMP/data" 7001 300
transfer "server under tasd sends $MB MB to a Linux client" tasd peer from "$TMP/data" 7002 300
finish
