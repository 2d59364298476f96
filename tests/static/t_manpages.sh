#!/bin/bash
# t_manpages.sh - the manuals name everything the programs offer: every
# flag `tasd --help` prints is in tasd(8), every request and option
# `tasctl --help` lists is in tasctl(8), every option of `tas-run --help`
# in tas-run(1), every function of libtas.h in libtas(3).  (Reads the roff sources, with "\-" as "-"; needs the
# built programs.)  Exits 1 naming what is missing.
BUILD=${BUILD:-$PWD}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bad=0
# page PAGE: its text with roff's \- as -.
page() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$SRCDIR/doc/$1"; }
# want PAGE WORD...: each WORD appears in PAGE.
want() {
    local p=$1 text w
    shift
    text=$(page "$p")
    for w in "$@"; do
        if ! grep -q -F -e "$w" <<<"$text"; then
            echo "t_manpages: doc/$p does not name $w"
            bad=1
        fi
    done
}
for prog in tasd/tasd tasctl/tasctl tasrun/tas-run; do
    [[ -x $BUILD/$prog ]] || { echo "t_manpages: $BUILD/$prog is not built"; exit 1; }
done
mapfile -t flags < <("$BUILD/tasd/tasd" --help | grep -o -E -- '--[a-z][a-z0-9-]*' | sort -u)
((${#flags[@]} > 40)) || { echo "t_manpages: tasd --help lists only ${#flags[@]} flags"; exit 1; }
want tasd.8 "${flags[@]}"
mapfile -t reqs < <("$BUILD/tasctl/tasctl" --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p')
mapfile -t topts < <("$BUILD/tasctl/tasctl" --help | grep -o -E -- '--[a-z][a-z-]*' | sort -u)
((${#reqs[@]} >= 9)) || { echo "t_manpages: tasctl --help lists only ${#reqs[@]} requests"; exit 1; }
want tasctl.8 "${reqs[@]}" "${topts[@]}" "policy set" "policy get" "policy clear"
mapfile -t ropts < <("$BUILD/tasrun/tas-run" --help 2>&1 | grep -o -E -- '--[a-z][a-z-]*' | sort -u)
want tas-run.1 "${ropts[@]}"
mapfile -t funcs < <(grep -o -E '\btas_[a-z0-9_]+\(' "$SRCDIR/libtas/libtas.h" |
    sed -e 's/^tas_//' -e 's/($//' | sort -u)
((${#funcs[@]} > 30)) || { echo "t_manpages: libtas.h has only ${#funcs[@]} functions"; exit 1; }
want libtas.3 "${funcs[@]}"
[[ $bad == 0 ]] && echo "t_manpages: ${#flags[@]} tasd flags, ${#reqs[@]} tasctl requests, ${#ropts[@]} tas-run options, ${#funcs[@]} libtas functions: all in the manuals"
exit $bad
