#!/bin/sh
# sample_verdicts.sh - the verdict of every bundled sample, as listed in
# tests/sample-verdicts.txt (what samples/README says each capture shows).
set -u
: "${SRCDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
exec "$PY" - "$FEDTRACE" "$SRCDIR" <<'PYEOF'
import json, subprocess, sys
fedtrace, src = sys.argv[1], sys.argv[2]
ok = bad = 0
for line in open(src + "/tests/sample-verdicts.txt"):
    if not line.strip() or line.startswith("#"):
        continue
    files, frm, to, status, code = line.split()
    args = []
    for i, f in enumerate(files.split(",")):
        args += ["-r", "%s/samples/%s@%s" % (src, f, "obs%d" % i)]
    d = json.loads(subprocess.run([fedtrace, "-q", "--format", "json"] + args, capture_output=True, text=True, check=True).stdout)
    got = [(x["verdict"]["status"], x["verdict"]["code"]) for f in d["federations"] for x in f["directions"]
           if x["from"] == frm and x["to"] == to]
    if got == [(status, code)]:
        ok += 1
    else:
        bad += 1
        print("FAIL %s %s -> %s: expected %s %s, got %s" % (files, frm, to, status, code, got))
print("sample-verdicts: %d passed, %d failed" % (ok, bad))
sys.exit(1 if bad else 0)
PYEOF
