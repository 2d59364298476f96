#!/bin/bash
# t_layers.sh - the walls between the product's layers, checked on every
# #include of every product source file.  Which folder may include which:
#
#   include/tas/  tas/ only, and no DPDK (<rte_*>): the ABI the library and
#                 the daemon share
#   common/       common/ and tas/: the floor under fastpath, slowpath, tasd
#   fastpath/     fastpath/, common/, tas/ (never slowpath/ or tasd/)
#   slowpath/     slowpath/, fastpath/, common/, tas/ (never tasd/)
#   tasd/         anything of the daemon (never libtas/)
#   libtas/       its public header only (libtas/libtas.h): tas/ at most
#   libtas/core/  libtas/core/ and tas/ (never the POSIX layer above it)
#   libtas/posix/ libtas/posix/, libtas/core/, libtas/libtas.h and tas/
#   tasctl/       tasctl/ and tas/
#   tasrun/       the library's public header and tas/
# libtas/, tasctl/ and tasrun/ never include DPDK.  An allowed entry is a folder
# (everything under it) or one file.
#
# Prints every include that crosses a wall, with file and line; exits 1 if
# there is any (so the check fails as soon as one crosses).  First it runs
# on a small tree of its own with two walls crossed, and must find both.
set -u
SRC=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# allowed DIR: the folders a quoted include from DIR may name.
allowed() {
    case $1 in
    include/tas) echo "tas" ;;
    common) echo "common tas" ;;
    fastpath) echo "fastpath common tas" ;;
    slowpath) echo "slowpath fastpath common tas" ;;
    tasd) echo "tasd slowpath fastpath common tas" ;;
    libtas) echo "libtas/libtas.h tas" ;;
    libtas/core) echo "libtas/core tas" ;;
    libtas/posix) echo "libtas/posix libtas/core libtas/libtas.h tas" ;;
    tasctl) echo "tasctl tas" ;;
    tasrun) echo "libtas/libtas.h tas" ;;
    esac
}
no_dpdk() { [[ $1 == include/tas || $1 == libtas* || $1 == tasctl || $1 == tasrun ]]; }

# permitted TARGET ALLOWED...: is the quoted include TARGET one of them?
permitted() {
    local t=$1 a
    shift
    [[ $t == */* ]] || return 1
    for a in "$@"; do
        [[ $t == "$a" || $t == "$a"/* ]] && return 0
    done
    return 1
}

# check_tree ROOT: the walls of the tree at ROOT; sets bad and files.
check_tree() {
    bad=0 files=0
    cd "$1" || { echo "FAIL: no source tree at $1"; exit 1; }
    for dir in include/tas common fastpath slowpath tasd libtas libtas/core libtas/posix tasctl tasrun; do
        [[ -d $dir ]] || continue
        ok=$(allowed "$dir")
        while IFS= read -r f; do
            files=$((files + 1))
            while IFS=: read -r line inc; do
                target=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$inc")
                if [[ -n $target ]]; then
                    # shellcheck disable=SC2086
                    if ! permitted "$target" $ok; then
                        echo "FAIL: $f:$line: #include \"$target\" (from $dir/ only: $ok)"
                        bad=$((bad + 1))
                    fi
                elif no_dpdk "$dir" && grep -q '<rte_' <<<"$inc"; then
                    echo "FAIL: $f:$line: $(sed 's/^[[:space:]]*//' <<<"$inc") ($dir/ has no DPDK)"
                    bad=$((bad + 1))
                fi
            done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$f")
        done < <(find "$dir" -maxdepth 1 -name '*.[ch]' | sort)
    done
    cd - >/dev/null || exit 1
}

# The check itself: a fast-path file naming the daemon, a library file
# naming DPDK, the library's core naming the POSIX layer above it; a
# slow-path file including the fast path, and the POSIX layer the core,
# are fine.
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/fastpath" "$t/slowpath" "$t/libtas/core" "$t/libtas/posix"
printf '#include "tasd/port.h"\n#include "fastpath/x.h"\n' >"$t/fastpath/a.c"
printf '#include "fastpath/fastpath.h"\n' >"$t/slowpath/b.c"
printf '#include <rte_mbuf.h>\n#include "libtas/core/core.h"\n' >"$t/libtas/posix/c.c"
printf '#include "libtas/core/core.h"\n#include "libtas/posix/posix.h"\n' >"$t/libtas/core/d.c"
check_tree "$t" >"$t/out"
if ((bad != 3)) || ! grep -q 'fastpath/a.c:1:' "$t/out" || ! grep -q 'libtas/posix/c.c:1:' "$t/out" ||
    ! grep -q 'libtas/core/d.c:2:' "$t/out"; then
    echo "FAIL: t_layers: the check missed a crossed wall in its own test tree:"
    sed 's/^/    | /' "$t/out"
    exit 1
fi

check_tree "$SRC"
if ((files == 0)); then
    echo "FAIL: no source files under $SRC"
    exit 1
fi
if ((bad > 0)); then
    echo "t_layers: $bad include(s) cross a wall ($files files)"
    exit 1
fi
echo "PASS: t_layers: no include crosses a wall ($files files)"
