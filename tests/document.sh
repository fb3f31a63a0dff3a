#!/bin/sh
# document.sh - what the JSON document holds by default and with -v, on a
# busy capture (tools/bench/gen-busy): without -v the "dns" list holds
# exactly the lookups a federation refers to (verdict evidence or
# timeline), the others are counted in stats.dissectors.dns
# .lookups_unreferenced; -v lists every lookup, as NDJSON does, each the
# same as its NDJSON event; the verdicts are the same either way.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
work="$BUILDDIR/tests/out/document"
rm -rf "$work"
mkdir -p "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

"$BUILDDIR/tools/bench/gen-busy" -q -s 2M -S 5 -o "$work/b.pcap" || bad "gen-busy exit $?"
"$FEDTRACE" -q -r "$work/b.pcap" --format json -o "$work/d.json" || bad "fedtrace exit $?"
"$FEDTRACE" -q -v -r "$work/b.pcap" --format json -o "$work/v.json" || bad "fedtrace -v exit $?"
"$FEDTRACE" -q -r "$work/b.pcap" --format ndjson -o "$work/e.ndjson" || bad "fedtrace ndjson exit $?"
if "$PY" - "$work/d.json" "$work/v.json" "$work/e.ndjson" <<'PYEOF'; then ok; else bad "document contents (above)"; fi
import json, sys
d, v = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
nd = [json.loads(l) for l in open(sys.argv[3])]
refs = set()
for f in d["federations"]:
    for x in f["directions"]:
        refs.update(x["verdict"]["evidence"]["dns"])
        refs.update(t["dns"] for t in x["timeline"] if "dns" in t)
listed = [l["uid"] for l in d["dns"]]
st = d["stats"]["dissectors"]["dns"]
errs = []
if set(listed) != refs:
    errs.append("default dns list %d, referenced %d, listed but not referenced %s, referenced but absent %s" % (
        len(listed), len(refs), sorted(set(listed) - refs)[:5], sorted(refs - set(listed))[:5]))
if len(listed) + st["lookups_unreferenced"] != st["lookups"]:
    errs.append("%d listed + %d unreferenced != %d lookups" % (len(listed), st["lookups_unreferenced"], st["lookups"]))
if st["lookups_unreferenced"] == 0:
    errs.append("no unreferenced lookup: the capture does not exercise the choice")
if len(v["dns"]) != st["lookups"] or "lookups_unreferenced" in v["stats"]["dissectors"]["dns"]:
    errs.append("-v lists %d of %d lookups" % (len(v["dns"]), st["lookups"]))
ndl = [e for e in nd if e.get("fedtrace", {}).get("event_type") == "dns.lookup"]
if len(ndl) != st["lookups"]:
    errs.append("NDJSON has %d dns.lookup events of %d" % (len(ndl), st["lookups"]))
byuid = {l["uid"]: l for l in v["dns"]}
if any(byuid.get(l["uid"]) != l for l in d["dns"]):
    errs.append("a listed lookup differs from its -v form")
# The document renders lookups from its spool at the end, NDJSON as they
# complete: the same lookup either way.
# NDJSON uids are random (unique across runs and sensors): match on the
# lookup's own fields instead.
strip = lambda l: {k: x for k, x in l.items() if k != "uid"}
bykey = {(l["ts"], l["txid"], l["qname"]): strip(l) for l in v["dns"]}
ndd = [e["fedtrace"]["dns"] for e in ndl]
differ = [l["uid"] for l in ndd if bykey.get((l["ts"], l["txid"], l["qname"])) != strip(l)]
if differ:
    errs.append("%d lookups differ between NDJSON and the document, e.g. %s" % (len(differ), differ[:3]))
verdicts = lambda doc: [(f["id"], [x["verdict"] for x in f["directions"]]) for f in doc["federations"]]
if verdicts(d) != verdicts(v):
    errs.append("verdicts differ with -v")
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
PYEOF

echo "document: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
