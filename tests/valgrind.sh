#!/bin/sh
# valgrind.sh - the unit tests, and fedtrace on every sample and crafted
# capture (pcap and pcapng) in each output format, and the crash regressions
# through every fuzz harness, under valgrind's memcheck: any error or leak
# fails.  Run by `make check-valgrind`.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}"
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed: skipped"; exit 77; }
PY=${PYTHON3:-python3}
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
work="$BUILDDIR/tests/out/valgrind"
rm -rf "$work"
mkdir -p "$work/gen"
"$PY" "$SRCDIR/tools/gen-pcap" "$work/gen" >/dev/null
pass=0
fail=0
run() {
    $VG "$@" >"$work/out" 2>"$work/err"
    if [ $? -eq 99 ]; then fail=$((fail + 1)); echo "FAIL: $*"; cat "$work/err"; else pass=$((pass + 1)); fi
}
for t in test_decode test_reasm test_flow test_dns test_tls test_xmpp test_verdict test_correlate test_tls_decrypt; do
    run "$BUILDDIR/tests/$t"
done
mkdir -p "$work/tls"
for f in "$SRCDIR"/tests/fixtures/tls/*.pcap; do
    run "$BUILDDIR/tests/tls_replay" "$work/tls" "${f%.pcap}.keys" "$f"
done
for f in "$SRCDIR"/samples/*.pcap "$SRCDIR"/samples/*.pcapng "$work"/gen/*.pcap "$work"/gen/*.pcapng; do
    for fmt in json ndjson text; do
        run "$BUILDDIR/analyzer/fedtrace" --format "$fmt" -v -r "$f"
    done
done
# the crash regressions through every fuzz harness (onefile builds)
for h in program reasm pipeline dns xmpp tls pcapng tls_decrypt; do
    run "$BUILDDIR/fuzz/replay_$h" "$SRCDIR/tests/regress"
done
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
