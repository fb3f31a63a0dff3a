#!/bin/sh
# schema.sh - every JSON document and NDJSON event fedtrace writes for the
# samples and the crafted captures validates against doc/fedtrace.schema.json,
# and a broken document does not (so the check can fail).
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
"$PY" -c 'import jsonschema' 2>/dev/null || PY=/usr/bin/python3
"$PY" -c 'import jsonschema' 2>/dev/null || { echo "python3-jsonschema not installed: skipped"; exit 77; }
work="$BUILDDIR/tests/out/schema"
rm -rf "$work"
mkdir -p "$work/gen" "$work/out"
"$PY" "$SRCDIR/tools/gen-pcap" "$work/gen" >/dev/null
for f in "$SRCDIR"/samples/*.pcap "$work"/gen/*.pcap "$work"/gen/*.pcapng; do
    b=$(basename "$f")
    "$FEDTRACE" --format json -q -r "$f" -o "$work/out/$b.json"
    "$FEDTRACE" -q -v -r "$f" --format ndjson -o "$work/out/$b.ndjson"
done
# decrypted runs: the key log files of the encrypted lab samples, a wrong one
for k in "$SRCDIR"/samples/*.keys; do
    n=$(basename "$k" .keys)
    [ -f "$SRCDIR/samples/$n-outside.pcap" ] || continue
    "$FEDTRACE" --format json -q --tls-keylog "$k" -r "$SRCDIR/samples/$n-outside.pcap" -o "$work/out/$n-keylog.json"
    "$FEDTRACE" -q -v --tls-keylog "$k" -r "$SRCDIR/samples/$n-outside.pcap" --format ndjson \
        -o "$work/out/$n-keylog.ndjson"
done
"$FEDTRACE" -q --tls-keylog "$SRCDIR/samples/federation-direct-tls.keys" \
    -r "$SRCDIR/samples/federation-tls-ok-outside.pcap" --format ndjson -o "$work/out/wrong-keylog.ndjson"
for f in "$SRCDIR"/samples/*.pcapng; do
    "$FEDTRACE" --format json -q -r "$f" -o "$work/out/$(basename "$f").json"
done
"$FEDTRACE" --format json -q -r "$SRCDIR/samples/federation-ok-outside.pcap@outside" \
    -r "$SRCDIR/samples/federation-ok-inside.pcap@inside" -o "$work/out/merged.json"
# --evidence-dir: directions carry evidence_file
"$FEDTRACE" -q -r "$SRCDIR/samples/federation-fw-drop-inside.pcap@inside" \
    -r "$SRCDIR/samples/federation-fw-drop-outside.pcap@outside" --format json --evidence-dir "$work/evidence" \
    -o "$work/out/evidence.json"
grep -q '"evidence_file"' "$work/out/evidence.json" || { echo "FAIL: no evidence_file in the document"; exit 1; }
"$PY" "$SRCDIR/tools/validate-json" "$SRCDIR/doc/fedtrace.schema.json" "$work"/out/* || exit 1
# The validator must reject a document that breaks the contract.
"$PY" - "$work/out/merged.json" "$work/broken.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["federations"][0]["verdict"]["status"] = "fine"
del d["capture"]
json.dump(d, open(sys.argv[2], "w"))
PYEOF
if "$PY" "$SRCDIR/tools/validate-json" "$SRCDIR/doc/fedtrace.schema.json" "$work/broken.json" >/dev/null; then
    echo "FAIL: a broken document validated"
    exit 1
fi
echo "schema: the broken document was rejected"
