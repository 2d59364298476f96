#!/bin/bash
# t_calls.sh - no circles of calls between the product's files: when file A
# calls into file B, B never calls back into A, directly or round a loop
# (a lower file that must tell a higher one something does it through a
# hook the higher one registers).  Reads the built objects of tasd (common/,
# fastpath/, slowpath/, tasd/), libtas (core/ and posix/) and tasctl with
# tests/static/calls.py; any circle fails the check.
# First the check runs on two objects of its own that call each other and
# must find them.
set -u
SRC=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILDDIR:-$PWD}
CALLS="python3 $SRC/tests/static/calls.py"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The check must see a circle it is shown.
mkdir -p "$tmp/x"
printf 'int b(int);\nint a(int n) { return n ? b(n - 1) : 0; }\n' >"$tmp/x/a.c"
printf 'int a(int);\nint b(int n) { return n ? a(n - 1) : 1; }\n' >"$tmp/x/b.c"
printf 'int a(int);\nint c(int n) { return a(n); }\n' >"$tmp/x/c.c"
for f in a b c; do cc -c -o "$tmp/x/$f.o" "$tmp/x/$f.c" || exit 1; done
if $CALLS "$tmp"/x/*.o >"$tmp/self.out"; then
    echo "t_calls: FAIL: the check did not see a circle of its own test objects" >&2
    exit 1
fi
if ! grep -q "NEW circle of 2 files" "$tmp/self.out" || grep -q "c.c" "$tmp/self.out"; then
    echo "t_calls: FAIL: the check found the wrong circle in its own test objects:" >&2
    cat "$tmp/self.out" >&2
    exit 1
fi

objs=()
for d in common fastpath slowpath tasd; do
    # (automake names tasd's objects tasd/tasd-X.o, the others DIR/tasd_tasd-X.o)
    for o in "$BUILD"/$d/tasd_tasd-*.o "$BUILD"/$d/tasd-*.o; do [[ -e $o ]] && objs+=("$o"); done
done
# libtas: the interposing build only (the same sources plus interpose.c, and
# libc.c through dlsym); in the plain build libc.c names libc's socket
# calls, which interpose.c defines, and would seem to call up into it.
for o in "$BUILD"/libtas/core/.libs/libtas_interpose_la-*.o \
    "$BUILD"/libtas/posix/.libs/libtas_interpose_la-*.o "$BUILD"/tasctl/*.o; do
    [[ -e $o ]] && objs+=("$o")
done
for d in common fastpath slowpath tasd libtas tasctl; do
    if ! printf '%s\n' "${objs[@]}" | grep -q "/$d/"; then
        echo "t_calls: FAIL: no object of $d/ under $BUILD (build first)" >&2
        exit 1
    fi
done
if [[ ${#objs[@]} -lt 70 ]]; then
    echo "t_calls: FAIL: only ${#objs[@]} objects under $BUILD (build first)" >&2
    exit 1
fi
cd "$BUILD" || exit 1
rel=("${objs[@]#"$BUILD"/}")
$CALLS "${rel[@]}"
rc=$?
if [[ $rc -ne 0 ]]; then
    echo "t_calls: FAIL: a circle of calls (above)" >&2
    exit 1
fi
echo "t_calls: ${#objs[@]} objects, no circle"
