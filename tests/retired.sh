#!/bin/sh
# retired.sh - federations the correlator retires before the end of input
# are spooled by the output and still reported in full.  The capture is
# two lab samples of the same pair, the second shifted in time to begin
# 1000 s after the first ends: a dialback key refused (DB-INVALID), then
# a federation that works.
# With --idle-timeout 60 the first retires, is handed to the output and
# freed; the second is a new episode of the same pair.  Asserted:
#   - the document lists both episodes, in time order, under the pair's id;
#     stats count both, one released, none dropped;
#   - every lookup and connection a federation refers to (verdict evidence,
#     timeline) is in the document's dns and connections lists, a retired
#     federation's lookups included (a second capture: host-unknown first);
#   - --fail-on-broken exits 1 (only the retired episode failed);
#   - the text report and --summary show both episodes;
#   - NDJSON carries both episodes' verdicts;
#   - with a long --idle-timeout nothing retires early (the same pair is one
#     federation judged at the end), so the checks above can fail;
#   - a temporary file that cannot be written (a full tmpfs, root only)
#     is an output error: exit 2, one line on stderr.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
work="$BUILDDIR/tests/out/retired"
rm -rf "$work"
mkdir -p "$work"
S="$SRCDIR/samples"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
jcheck() { # FILE PYTHON-EXPR-ON-d
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

# Two classic pcap files of one link type as one, the second's records
# shifted to begin GAP seconds after the first's last.
cat_shifted() { # OUT GAP A B
    "$PY" - "$@" <<'PYEOF'
import struct, sys
out, gap, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def records(path, add):
    d = open(path, "rb").read()
    o, recs = 24, []
    while o + 16 <= len(d):
        s, f, incl, orig = struct.unpack("<IIII", d[o:o + 16])
        recs.append(struct.pack("<IIII", s + add, f, incl, orig) + d[o + 16:o + 16 + incl])
        o += 16 + incl
    return d[:24], recs
ha, ra = records(a, 0)
hb, rb = records(b, 0)
last = max(struct.unpack("<I", r[:4])[0] for r in ra)
first = min(struct.unpack("<I", r[:4])[0] for r in rb)
hb, rb = records(b, last + gap - first)
# Between them, a packet nobody dissects every 100 s (UDP to the discard
# port): packet time moves on, so the judging rounds that free the idle
# facts and retire their directions run before the pair comes back.
def filler(ts):
    udp = struct.pack(">HHHH", 40000, 9, 12, 0) + b"tick"
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                               bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])))
    csum = sum(struct.unpack(">10H", bytes(ip)))
    csum = (csum & 0xffff) + (csum >> 16)
    ip[10:12] = struct.pack(">H", ~csum & 0xffff)
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + bytes(ip) + udp
    return struct.pack("<IIII", ts, 0, len(frame), len(frame)) + frame
ra += [filler(last + t) for t in range(100, gap, 100)]
if ha[:4] != hb[:4] or ha[20:24] != hb[20:24]:
    sys.exit("different pcap formats")
open(out, "wb").write(ha + b"".join(ra + rb))
PYEOF
}

cap="$work/revived.pcap"
cat_shifted "$cap" 1000 "$S/federation-dialback-invalid-inside.pcap" "$S/federation-ok-inside.pcap" ||
    { echo "cannot build the capture"; exit 99; }
cap2="$work/lookups.pcap"
cat_shifted "$cap2" 1000 "$S/federation-host-unknown-inside.pcap" "$S/federation-ok-inside.pcap" ||
    { echo "cannot build the capture"; exit 99; }

# Every reference resolves (timeline lines and verdict evidence, to the
# dns and connections lists); the first federation refers to lookups
# when KIND says D, to connections when C.
cat >"$work/refs.py" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
dns = {l["uid"] for l in d["dns"]}
conns = {c["uid"] for c in d["connections"]}
def refs(f):
    out = set()
    for di in f["directions"]:
        ev = di["verdict"].get("evidence", {})
        out |= set(ev.get("dns", [])) | set(ev.get("uids", []))
        for t in di.get("timeline", []):
            out |= {t[k] for k in ("dns", "uid") if t.get(k)}
    return out
missing = sorted(u for f in d["federations"] for u in refs(f) if u not in (dns if u[0] == "D" else conns))
first = refs(d["federations"][0])
ok = not missing and any(u[0] == sys.argv[2] for u in first)
if not ok:
    print("missing", missing, "the first federation refers to", sorted(first))
sys.exit(0 if ok else 1)
PYEOF

# ---- a revived pair: the document ------------------------------------------
"$FEDTRACE" -q --idle-timeout 60 --format json -r "$cap" -o "$work/doc.json"
rc=$?
[ $rc -eq 0 ] && ok || bad "json run: exit $rc"
jcheck "$work/doc.json" "[(f['id'], f['verdict']['status'], f['verdict'].get('code')) for f in d['federations']] ==
    [(d['federations'][0]['id'], 'failed', 'DB-INVALID'), (d['federations'][0]['id'], 'ok', 'OK')]" &&
    ok || bad "two episodes of the pair, failed then ok: $("$PY" -c "import json,sys; print([(f['id'], f['verdict']['status'], f['verdict'].get('code')) for f in json.load(open(sys.argv[1]))['federations']])" "$work/doc.json")"
jcheck "$work/doc.json" "d['stats']['correlator']['federations'] == 2 and
    d['stats']['correlator']['federations_released'] == 1 and d['stats']['correlator']['federations_dropped'] == 0" &&
    ok || bad "stats: federations 2, released 1, dropped 0"
"$PY" "$work/refs.py" "$work/doc.json" C && ok || bad "references of the revived pair"

# ---- --fail-on-broken, text, --summary, NDJSON ------------------------------
"$FEDTRACE" -q --idle-timeout 60 --format json --fail-on-broken -r "$cap" -o /dev/null
rc=$?
[ $rc -eq 1 ] && ok || bad "--fail-on-broken: exit $rc, want 1 (the retired episode failed)"
"$FEDTRACE" -q --idle-timeout 60 --format text -r "$cap" -o "$work/report.txt"
grep -q '^federations: 2$' "$work/report.txt" &&
    [ "$(grep -c 'a.example.test <-> b.example.test  FAILED at dialback: DB-INVALID' "$work/report.txt")" -eq 1 ] &&
    [ "$(grep -c 'a.example.test <-> b.example.test  OK$' "$work/report.txt")" -eq 1 ] &&
    ok || bad "text report: two episodes"
"$FEDTRACE" -q --idle-timeout 60 --format text --summary -r "$cap" -o "$work/summary.txt"
[ "$(cut -d' ' -f1,2 "$work/summary.txt" | tr '\n' ' ')" = "FAILED DB-INVALID OK OK OK OK " ] &&
    ok || bad "--summary: $(tr '\n' '|' <"$work/summary.txt")"
"$FEDTRACE" -q --idle-timeout 60 --format ndjson -r "$cap" -o "$work/events.ndjson"
"$PY" - "$work/events.ndjson" <<'PYEOF' && ok || bad "NDJSON: both episodes' verdicts"
import json, sys
st = []
for line in open(sys.argv[1]):
    ev = json.loads(line)
    ft = ev.get("fedtrace", ev)
    v = ft.get("federation", {})
    if ft.get("event_type") == "federation.verdict" and v.get("from") == "a.example.test":
        st.append(v.get("code"))
sys.exit(0 if st == ["DB-INVALID", "OK"] else 1)
PYEOF

# ---- nothing retires early with a long idle timeout ---------------------------
"$FEDTRACE" -q --idle-timeout 3600 --format json -r "$cap" -o "$work/long.json"
jcheck "$work/long.json" "len(d['federations']) == 1 and d['stats']['correlator'].get('federations_released', 0) == 0" &&
    ok || bad "--idle-timeout 3600: one federation, none released"

# ---- the lookups a retired federation refers to stay listed ---------------------
"$FEDTRACE" -q --idle-timeout 60 --format json -r "$cap2" -o "$work/doc2.json"
jcheck "$work/doc2.json" "d['federations'][0]['domains'] == ['a.example.test', 'old.example.test'] and
    d['stats']['correlator']['federations_released'] == 1" &&
    ok || bad "the retired federation first"
"$PY" "$work/refs.py" "$work/doc2.json" D && ok || bad "lookups of the retired federation listed"

# ---- a spool that cannot be written ------------------------------------------
mnt="$work/mnt"
mkdir -p "$mnt"
if mount -t tmpfs -o size=16k tmpfs "$mnt" 2>/dev/null; then
    dd if=/dev/zero of="$mnt/fill" bs=1k count=64 2>/dev/null
    # text without -v spools only the retired federations
    env TMPDIR="$mnt" "$FEDTRACE" -q --idle-timeout 60 --format text -r "$cap" -o "$work/full.txt" 2>"$work/full.err"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$work/full.err")" -eq 1 ] &&
        grep -q "cannot write a temporary file in '$mnt': No space left on device" "$work/full.err"; then ok; else
        bad "full TMPDIR: exit $rc, stderr: $(cat "$work/full.err")"; fi
    umount "$mnt"
else
    echo "cannot mount a tmpfs: full TMPDIR not tested"
fi

echo "retired: $pass passed, $fail failed"
[ $fail -eq 0 ]
