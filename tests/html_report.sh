#!/bin/sh
# html_report.sh - the HTML report: well nested, nothing that runs or
# fetches, the ladder's lanes, steps and failing arrow as in
# tests/html-structure.txt for a few samples; `fedtrace report` on the
# saved JSON writes the same page as --format html; text from the wire
# that looks like markup (a JID, a stream error, a DNS name with
# <script>) is escaped; a damaged document is refused with status 2.
# Re-bless the structure with: UPDATE=1 make check TESTS=tests/html_report.sh
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
S="$SRCDIR/samples"
work="$BUILDDIR/tests/out/html"
rm -rf "$work"
mkdir -p "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

: >"$work/structure.txt"
for spec in \
    "dialback-invalid-merged:-r $S/federation-dialback-invalid-inside.pcap@inside -r $S/federation-dialback-invalid-outside.pcap@outside" \
    "ok-inside:-r $S/federation-ok-inside.pcap" \
    "remote-down-inside:-r $S/federation-remote-down-inside.pcap" \
    "dns-missing-inside:-r $S/federation-dns-missing-inside.pcap" \
    "tls-reject-outside:-r $S/federation-tls-reject-outside.pcap" \
    "sub-unanswered-inside:-r $S/federation-sub-unanswered-inside.pcap"; do
    name=${spec%%:*}
    args=${spec#*:}
    # shellcheck disable=SC2086
    "$FEDTRACE" -q $args --format html -o "$work/$name.html"; rc=$?
    [ $rc -eq 0 ] || bad "$name: --format html exit $rc"
    # shellcheck disable=SC2086
    "$FEDTRACE" -q $args --format json -o "$work/$name.json" || bad "$name: json exit $?"
    "$FEDTRACE" report "$work/$name.json" -o "$work/$name.report.html"; rc=$?
    [ $rc -eq 0 ] || bad "$name: report exit $rc"
    # the same page but for what differs from run to run (tools/golden's
    # volatile fields: memory peak and time spent)
    if diff "$work/$name.html" "$work/$name.report.html" | grep '^[<>]' |
        grep -qv 'peak_bytes\|busy_ns'; then
        bad "$name: report of the saved JSON differs from --format html"
    else ok; fi
    echo "# $name" >>"$work/structure.txt"
    if "$PY" "$SRCDIR/tests/html_check.py" "$work/$name.html" >>"$work/structure.txt"; then ok; else bad "$name: page check (see $work/structure.txt)"; fi
done
if [ "${UPDATE:-}" = 1 ]; then
    cp "$work/structure.txt" "$SRCDIR/tests/html-structure.txt"
fi
if diff -u "$SRCDIR/tests/html-structure.txt" "$work/structure.txt"; then ok; else bad "structure differs from tests/html-structure.txt"; fi

# Markup from the wire stays text.  The saved document is edited where
# wire strings land (JIDs, the stream error, the timeline, a DNS name,
# the file name) and made into a page.
"$PY" - "$work/dialback-invalid-merged.json" "$work/evil.json" <<'PYEOF' || bad "could not make the hostile document"
import json, sys
d = json.load(open(sys.argv[1]))
evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;\u0007"
f = d["federations"][0]
f["domains"][0] = "a" + evil
f["local"] = evil
x = f["directions"][0]
x["from"] = evil + "@jid"
x["verdict"]["summary"] = "stream error <" + evil + ">"
x["verdict"]["code"] = evil
x["verdict"]["advice"].append(evil)
x["verdict"]["notes"].append(evil)
for t in x["timeline"]:
    t["what"] = "-> stream error " + evil
d["dns"][0]["qname"] = evil
d["dns"][0]["answers"][0]["target"] = evil
d["connections"][0]["xmpp"][0]["from"] = evil
d["capture"]["sources"][0]["name"] = "/tmp/" + evil
d["capture"]["sources"][0]["observer"] = evil
d["stats"][evil] = {evil: 7}
json.dump(d, open(sys.argv[2], "w"))
PYEOF
"$FEDTRACE" report "$work/evil.json" -o "$work/evil.html"; rc=$?
[ $rc -eq 0 ] || bad "hostile document: report exit $rc"
if "$PY" "$SRCDIR/tests/html_check.py" "$work/evil.html" >"$work/evil.txt"; then ok; else bad "hostile document: $(grep ERROR "$work/evil.txt" | head -3)"; fi
if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$work/evil.html"; then ok; else bad "hostile text is not shown escaped"; fi
if grep -qi '<img\|<script' "$work/evil.html"; then bad "hostile markup left unescaped"; else ok; fi

# What is not a fedtrace document is refused with one line and status 2.
printf '{"schema": {"name": "fedtrace"}, "federations": [' >"$work/cut.json"
"$FEDTRACE" report "$work/cut.json" -o "$work/cut.html" 2>"$work/cut.err"; rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$work/cut.err")" -eq 1 ]; then ok; else bad "cut document: exit $rc, $(cat "$work/cut.err")"; fi
printf '[1,2,3]' >"$work/arr.json"
"$FEDTRACE" report "$work/arr.json" -o "$work/arr.html" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && ok || bad "not a document: exit $rc"
"$FEDTRACE" report "$work/missing.json" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && ok || bad "missing file: exit $rc"
"$PY" -c 'import sys; sys.stdout.write("[" * 100000)' >"$work/deep.json"
"$FEDTRACE" report "$work/deep.json" -o "$work/deep.html" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && ok || bad "deep document: exit $rc"

echo "html_report: $pass passed, $fail failed"
[ $fail -eq 0 ]
