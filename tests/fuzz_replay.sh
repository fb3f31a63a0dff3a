#!/bin/sh
# fuzz_replay.sh - replays every crash-regression input (tests/regress) and
# every file of the committed seed corpus (fuzz/corpus/*) through every fuzz
# harness, built with fuzz/onefile.c in the default build: a harness that
# crashes, aborts on a broken contract or trips a sanitizer fails the test.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}"
list="$BUILDDIR/tests/out/fuzz-replay.list"
mkdir -p "$BUILDDIR/tests/out"
find "$SRCDIR/tests/regress" "$SRCDIR/fuzz/corpus" -type f ! -name 'README*' | sort >"$list"
n=$(wc -l <"$list")
if [ "$n" -eq 0 ]; then
    echo "FAIL: no corpus or regression inputs under $SRCDIR"
    exit 1
fi
pass=0
fail=0
for h in program reasm pipeline dns xmpp tls pcapng tls_decrypt; do
    # fedtrace's own one-line complaints about damaged inputs are expected
    if tr '\n' '\0' <"$list" | xargs -0 "$BUILDDIR/fuzz/replay_$h" 2>"$BUILDDIR/tests/out/fuzz-replay.err"; then
        pass=$((pass + 1))
        echo "ok: $h replayed $n inputs"
    else
        fail=$((fail + 1))
        echo "FAIL: $h (find the input with: $BUILDDIR/fuzz/replay_$h FILE)"
        grep -v '^fedtrace: ' "$BUILDDIR/tests/out/fuzz-replay.err" | tail -30
    fi
done
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
