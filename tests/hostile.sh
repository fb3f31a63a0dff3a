#!/bin/sh
# hostile.sh - input an attacker or a busy network sends: fedtrace must not
# crash and must report what it has no name for as data.  Captures are
# generated at test time (tools/gen-pcap).
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
work="$BUILDDIR/tests/out/hostile"
rm -rf "$work"
mkdir -p "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# 1. DNS record types without a special parser (MX, HTTPS, CAA, LOC,
#    private-use, unassigned), in the question and the answer section.
"$PY" "$SRCDIR/tools/gen-pcap" "$work" dns-unknown-types >/dev/null
cap="$work/dns-unknown-types.pcap"
for fmt in json ndjson text; do
    if "$FEDTRACE" -q -v -r "$cap" --format "$fmt" -o "$work/unk.$fmt"; then ok; else
        bad "dns-unknown-types --format $fmt: exit $?"; fi
done
for t in MX HTTPS CAA LOC TYPE65280 TYPE54 HINFO; do
    if grep -q "\"$t\"" "$work/unk.json"; then ok; else bad "type $t missing from the JSON document"; fi
done
n=$(grep -c '"event_type":"dns.lookup"' "$work/unk.ndjson")
if [ "$n" = 6 ]; then ok; else bad "expected 6 dns.lookup events, got $n"; fi
# The same capture merged with a sample: one bad record must not take the
# other file's verdicts down.
if "$FEDTRACE" -q -r "$cap" -r "$SRCDIR/samples/federation-ok-outside.pcap" -o "$work/merged.json" &&
    grep -q '"federations"' "$work/merged.json"; then ok; else bad "merged run with unknown DNS types"; fi

echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
