#!/bin/bash
# t_systemd.sh - the shipped unit file and default configuration are valid:
# `systemd-analyze verify` on systemd/tasd.service (install paths pointed at
# this build) prints nothing, a unit with a mistake makes it complain (so
# the check can fail), `systemd-analyze security` rates its exposure under
# 5, and `tasd --check-config` accepts conf/tasd.conf.  systemd is not PID
# 1 here, so this checks the unit; t_nspawn starts it under a real systemd.
. "$(dirname "$0")/lib.sh"
tas_init t_systemd "$TASD"
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze is not installed"
    exit 77
fi

unit_dir=$TMP/units
mkdir -p "$unit_dir"
sed -e "s|@sbindir@|$(dirname "$TASD")|g" -e "s|@sysconfdir@|$SRCDIR/conf/..|g" \
    "$SRCDIR/systemd/tasd.service.in" >"$unit_dir/tasd.service"
# verify_quiet FILE: systemd-analyze verify prints nothing on stderr.
verify_quiet() {
    local err
    err=$(cd "$(dirname "$1")" && timeout 60 systemd-analyze verify "$(basename "$1")" 2>&1 >/dev/null)
    [[ -z $err ]] || { printf '%s\n' "$err" | sed 's/^/    | /'; return 1; }
}
check "systemd-analyze verify tasd.service prints nothing" verify_quiet "$unit_dir/tasd.service"

bad_dir=$TMP/bad
mkdir -p "$bad_dir"
sed -e 's/^Type=notify/Type=notfy/' "$unit_dir/tasd.service" >"$bad_dir/tasd.service"
check "a unit with a bad Type= is reported (the check can fail)" \
    bash -c "! ( $(declare -f verify_quiet); verify_quiet '$bad_dir/tasd.service' >/dev/null )"

exposure=$(cd "$unit_dir" && timeout 60 systemd-analyze security --offline=true tasd.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for tasd.service: \([0-9.]*\).*/\1/p')
echo "    systemd-analyze security: exposure ${exposure:-?}"
check "systemd-analyze security rates the unit under 5 (${exposure:-?})" \
    /usr/bin/python3 -c "import sys; sys.exit(0 if float('${exposure:-99}') < 5 else 1)"

check "tasd --check-config accepts conf/tasd.conf" \
    timeout 10 "$TASD" --check-config --config "$SRCDIR/conf/tasd.conf"
finish
