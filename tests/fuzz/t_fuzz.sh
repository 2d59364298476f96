#!/bin/bash
# t_fuzz.sh - run the receive-path fuzzer (tests/fuzz/fuzz_rx, libFuzzer
# with ASan and UBSan) over the committed seed corpus.  Any crash, sanitizer
# report or broken invariant fails the test and leaves the input that caused
# it in the log.
#
#   make check                 FUZZ_RUNS inputs (default 500000, seed 1)
#   make fuzz-long             FUZZ_SECONDS of fuzzing (default 600, random
#                              seed); FUZZ_KEEP=DIR keeps the new corpus there
#
# Skipped (exit 77) when configure found no clang that links
# -fsanitize=fuzzer (Debian: clang-14 libclang-rt-14-dev, in .ci/deps).
set -u
BUILD=${BUILD:-$PWD}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FUZZ=$BUILD/tests/fuzz/fuzz_rx
CORPUS=$SRCDIR/tests/fuzz/corpus

echo "== t_fuzz (build: $BUILD)"
if [[ ! -x $FUZZ ]]; then
    echo "SKIP: $FUZZ is not built: configure found no clang that links" \
        "-fsanitize=fuzzer,address,undefined (install clang-14 and libclang-rt-14-dev," \
        "then re-run configure)"
    exit 77
fi
n_seeds=$(find "$CORPUS" -maxdepth 1 -type f 2>/dev/null | wc -l)
if [[ $n_seeds -lt 10 ]]; then
    echo "FAIL: the seed corpus $CORPUS has $n_seeds files (want the committed ones)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tas-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/new"
if [[ ${FUZZ_LONG:-0} == 1 ]]; then
    secs=${FUZZ_SECONDS:-600}
    args=(-max_total_time="$secs")
    limit=$((secs + 120))
    [[ -n ${FUZZ_KEEP:-} ]] && mkdir -p "$FUZZ_KEEP" && tmpnew=$FUZZ_KEEP || tmpnew=$tmp/new
else
    args=(-runs="${FUZZ_RUNS:-500000}" -seed="${FUZZ_SEED:-1}")
    limit=${FUZZ_TIMEOUT:-240}
    tmpnew=$tmp/new
fi
echo "running: $FUZZ ${args[*]} ($n_seeds seeds)"
# New inputs go to the first directory; the committed corpus stays as it is.
timeout -k 10 "$limit" "$FUZZ" "${args[@]}" -max_len=4096 -timeout=10 -error_exitcode=1 \
    -artifact_prefix="$tmp/" -print_final_stats=1 "$tmpnew" "$CORPUS" >"$tmp/log" 2>&1
rc=$?

grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$tmp/log" | sed 's/^/    /'
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$tmp/log" |
    sed 's/^/    /'
if [[ $rc -ne 0 ]] || grep -qE 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:|invariant broken' "$tmp/log"; then
    echo "FAIL: fuzz_rx exited with status $rc$([[ $rc == 124 ]] && echo ' (timed out)'); its report:"
    grep -v -E '^#[0-9]+ +(NEW|REDUCE|pulse)' "$tmp/log" | tail -n 60 | sed 's/^/    | /'
    for a in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*; do
        [[ -f $a ]] || continue
        echo "    input $(basename "$a") (hex):"
        od -An -tx1 -v "$a" | head -n 20 | sed 's/^/    /'
    done
    exit 1
fi
echo "PASS: fuzz_rx ran clean"
exit 0
