#!/bin/sh
# ecs.sh - every NDJSON event fedtrace writes for the samples and the
# crafted captures is an ECS document: field names and types checked by
# tools/ecs-check against the field definitions of the @elastic/ecs
# package from the npm registry (fetched here once, kept in tests/out),
# no field with two types across event types, and uids that differ from
# one run to the next.  A doctored event must fail the check.  Skipped
# (exit 77) only when the package cannot be fetched or node is missing.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
ECS_PKG=${ECS_PKG:-@elastic/ecs@9.4.0}
work="$BUILDDIR/tests/out/ecs"
cache="$BUILDDIR/tests/out/ecs-package"
rm -rf "$work"
mkdir -p "$work/gen" "$work/out" "$cache"

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    { echo "node and npm are needed to fetch $ECS_PKG: skipped"; exit 77; }
if [ ! -s "$cache/flat.json" ]; then
    (cd "$cache" && rm -rf package ./*.tgz &&
        timeout 120 npm pack --silent "$ECS_PKG" >npm.log 2>&1 && tar xzf ./*.tgz) ||
        { echo "cannot fetch $ECS_PKG from the npm registry: skipped"; cat "$cache/npm.log"; exit 77; }
    node -e "process.stdout.write(JSON.stringify(require(process.argv[1]).EcsFlat))" \
        "$cache/package/build/commonjs/ecs_flat.js" >"$cache/flat.json.tmp" &&
        mv "$cache/flat.json.tmp" "$cache/flat.json" || { echo "FAIL: no EcsFlat in $ECS_PKG"; exit 1; }
fi

"$PY" "$SRCDIR/tools/gen-pcap" "$work/gen" >/dev/null
for f in "$SRCDIR"/samples/*.pcap "$SRCDIR"/samples/*.pcapng "$work"/gen/*.pcap "$work"/gen/*.pcapng; do
    "$FEDTRACE" -q -v -r "$f@probe" --format ndjson -o "$work/out/$(basename "$f").ndjson"
done
"$FEDTRACE" -q -r "$SRCDIR/samples/federation-ok-outside.pcap@outside" \
    -r "$SRCDIR/samples/federation-ok-inside.pcap@inside" --format ndjson -o "$work/out/merged.ndjson"
"$PY" "$SRCDIR/tools/ecs-check" "$cache/flat.json" "$work"/out/*.ndjson || exit 1

# The check must be able to fail: a field outside ECS and fedtrace.*, a
# port as text, an event.kind ECS does not know.
"$PY" - "$work/out/merged.ndjson" "$work/doctored.ndjson" <<'PYEOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
e = evs[0]
e["uid"] = "C1"
e.setdefault("source", {})["port"] = "5269"
e["event"]["kind"] = "finding"
open(sys.argv[2], "w").write("\n".join(json.dumps(x) for x in evs) + "\n")
PYEOF
out=$("$PY" "$SRCDIR/tools/ecs-check" "$cache/flat.json" "$work/doctored.ndjson")
for want in "not an ECS field: .*uid" "wrong type: .*source.port" "value not allowed: .*event.kind" "type conflict: source.port"; do
    echo "$out" | grep -q "$want" || { echo "FAIL: the doctored event passed ($want)"; echo "$out"; exit 1; }
done

# observer.name comes from the @tag; uids are random per run.
"$PY" - "$work/out/merged.ndjson" <<'PYEOF' || exit 1
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
names = {e["observer"]["name"] for e in evs if e["fedtrace"]["event_type"] != "federation.verdict" and e["fedtrace"]["event_type"] != "capture.stats"}
assert names == {"inside", "outside"}, names
uids = {e["fedtrace"]["uid"] for e in evs if "uid" in e["fedtrace"]}
assert uids and all(len(u) == 18 and u[0] in "CD" for u in uids), sorted(uids)[:3]
PYEOF
a=$("$FEDTRACE" -q -r "$SRCDIR/samples/federation-ok-inside.pcap" --format ndjson | grep -o '"uid":"C[^"]*"' | head -1)
b=$("$FEDTRACE" -q -r "$SRCDIR/samples/federation-ok-inside.pcap" --format ndjson | grep -o '"uid":"C[^"]*"' | head -1)
[ -n "$a" ] && [ "$a" != "$b" ] || { echo "FAIL: uids repeat across runs ($a, $b)"; exit 1; }
echo "ecs: checked against $ECS_PKG; the doctored event failed"
