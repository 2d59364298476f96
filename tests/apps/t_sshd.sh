#!/bin/bash
# t_sshd.sh - OpenSSH's sshd under the shim (issue 11: sandboxed programs).
# For each connection sshd forks, re-executes itself and forks again; its
# pre-authentication child installs a seccomp allowlist (read, write,
# ppoll, futex, clock calls, ...; anything else kills it with SIGSYS) and
# only then uses the connection it inherited, so libtas may do nothing
# there but what such a list allows (it used to make its wake-up eventfd
# and read app.sock with recvfrom then, and the client saw
# "kex_exchange_identification: Connection reset by peer").  A Linux ssh
# client in ns B logs in with a key and runs a command; scp copies 50 MiB
# up and back down, both compared by sha256; sshd is still running at the
# end.  TAS_TEST_MODE=linux runs the same against Linux.
. "$(dirname "$0")/apps.sh"
apps_init t_sshd sshd ssh scp ssh-keygen
net_setup

K=$TMP/ssh
mkdir -p "$K"
chmod 0700 "$K"
ssh-keygen -q -t ed25519 -N '' -f "$K/host_ed25519" || fatal "no host key"
ssh-keygen -q -t ed25519 -N '' -f "$K/client" || fatal "no client key"
cp "$K/client.pub" "$K/authorized_keys"
mkdir -p /run/sshd # sshd's privilege separation directory (the package's tmpfiles)
cat >"$K/sshd_config" <<CONF
Port 2222
ListenAddress 0.0.0.0
HostKey $K/host_ed25519
PidFile $K/sshd.pid
AuthorizedKeysFile $K/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel VERBOSE
CONF
check "sshd -t accepts the configuration" "${APP[sshd]}" -t -f "$K/sshd_config"
start_bg sshd tasd -t 300 "${APP[sshd]}" -D -e -f "$K/sshd_config"
wait_port sshd "$SERVER_IP" 2222 || fatal "sshd did not start"

SSH_OPTS=(-i "$K/client" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR)
out=$(run_linux_peer -t 30 ssh "${SSH_OPTS[@]}" -p 2222 "root@$SERVER_IP" \
    'echo "logged in as $(id -un)"' 2>&1)
echo "    ssh: $out"
check_eq "ssh logs in with a key and runs a command" "$out" "logged in as root"
if [[ $N_FAIL -gt 0 ]]; then # what tasd and the processes show, for the cause
    echo "tasctl apps / flows after the failed login:"
    { tasctl apps; tasctl flows; } 2>&1 | sed 's/^/    | /'
    for p in $(pgrep -x sshd); do
        echo "    | sshd $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" \
            "wchan $(cat "/proc/$p/wchan" 2>/dev/null); $(tasctl check "$p" 2>&1)"
    done
fi

make_data "$TMP/up.bin" 50
check "scp copies 50 MiB up" run_linux_peer -t 120 scp -q "${SSH_OPTS[@]}" -P 2222 \
    "$TMP/up.bin" "root@$SERVER_IP:$TMP/there.bin"
check_eq "... intact (sha256)" "$(sha "$TMP/there.bin" 2>/dev/null)" "$(sha "$TMP/up.bin")"
check "scp copies it back down" run_linux_peer -t 120 scp -q "${SSH_OPTS[@]}" -P 2222 \
    "root@$SERVER_IP:$TMP/there.bin" "$TMP/down.bin"
check_eq "... intact (sha256)" "$(sha "$TMP/down.bin" 2>/dev/null)" "$(sha "$TMP/up.bin")"
if grep -qiE 'SIGSYS|seccomp|killed by signal' "${BG_LOG[sshd]}"; then
    grep -iE 'SIGSYS|seccomp|killed by signal' "${BG_LOG[sshd]}" | head -n 5 | sed 's/^/    | /'
fi
check "no sshd child was killed by its sandbox" \
    bash -c "! grep -qiE 'SIGSYS|killed by signal 31|seccomp' '${BG_LOG[sshd]}'"
if [[ $N_FAIL -gt 0 ]]; then echo "sshd log:"; tail -n 40 "${BG_LOG[sshd]}" | sed "s/^/    | /"; fi
stop_server sshd
finish
