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
if "$FEDTRACE" --format json -q -r "$cap" -r "$SRCDIR/samples/federation-ok-outside.pcap" -o "$work/merged.json" &&
    grep -q '"federations"' "$work/merged.json"; then ok; else bad "merged run with unknown DNS types"; fi

# 2. pcapng timestamps that do not fit 64-bit nanoseconds (2^64-1 units; an
#    if_tsoffset of 2^62 s): clamped and counted, no signed overflow.
"$PY" "$SRCDIR/tools/gen-pcap" "$work" huge-ts mixed-link damaged >/dev/null
for fmt in json ndjson text; do
    if "$FEDTRACE" -q -v -r "$work/huge-ts.pcapng" --format "$fmt" -o "$work/ts.$fmt"; then ok; else
        bad "huge-ts --format $fmt: exit $?"; fi
done
if "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['capture']['sources'][0]; sys.exit(0 if s['bad_timestamps'] == 2 and s['frames'] == 4 and len(d['dns']) >= 1 else 1)" "$work/ts.json"
then ok; else bad "huge-ts: 4 frames, 2 bad timestamps counted"; fi

# 3. pcapng whose interfaces have different link types (a mergecap merge):
#    analysed completely, exit 0; a damaged pcapng: analysed up to the
#    damage, exit 3.
if "$FEDTRACE" --format json -q -r "$work/mixed-link.pcapng" -o "$work/mixed.json" &&
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['capture']['sources'][0]; sys.exit(0 if s['frames'] == 13 and 'error' not in s and d['federations'][0]['verdict']['status'] == 'ok' else 1)" "$work/mixed.json"
then ok; else bad "mixed-link.pcapng not analysed completely"; fi
"$FEDTRACE" --format json -r "$work/damaged.pcapng" -o "$work/damaged.json" 2>"$work/damaged.err"
st=$?
if [ "$st" -eq 3 ] && grep -q "damaged after frame 9" "$work/damaged.err" &&
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['capture']['sources'][0]; sys.exit(0 if s['frames'] == 9 and 'trailing block length' in s['error'] else 1)" "$work/damaged.json"
then ok; else bad "damaged.pcapng: exit $st, expected 3 with a warning and the error kept"; cat "$work/damaged.err"; fi

echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
