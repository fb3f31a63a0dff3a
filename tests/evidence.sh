#!/bin/sh
# evidence.sh - -w FILE and --evidence-dir DIR against Wireshark's tools.
#   -w: the file written holds exactly the frames analysed, byte for byte
#       with their times (compared record by record with the input, and
#       with tcpdump's own filtering for a BPF filter); pcap for one pcap
#       input, pcapng for a pcapng input or merged inputs, the observer as
#       the interface name;
#   --evidence-dir: for failed lab samples (one observer and two), each
#       failed direction's file opens in tshark, holds exactly the frames
#       of the connections and DNS lookups its timeline cites (tshark
#       filters built from the document's connection and DNS records, run
#       on the original), is named in the JSON document, the text and the
#       HTML report, and fedtrace on it alone gives the same verdict for
#       that direction; --evidence-dir with -i is refused with status 2.
# Skipped without tshark, editcap and tcpdump.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
for t in tshark editcap tcpdump; do
    command -v $t >/dev/null 2>&1 || { echo "needs $t (Debian tshark, tcpdump): skipped"; exit 77; }
done
work="$BUILDDIR/tests/out/evidence"
rm -rf "$work"
mkdir -p "$work"
S="$SRCDIR/samples"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tsh() { tshark "$@" 2>/dev/null; }

# The records of a capture file as "time caplen wirelen sha1(data)" lines,
# read through editcap into pcap (nanoseconds) so pcap and pcapng compare.
records() {
    editcap -F pcap -T ether "$1" "$work/rec.pcap" 2>/dev/null ||
        editcap -F pcap "$1" "$work/rec.pcap" 2>/dev/null || { echo "unreadable $1"; return; }
    "$PY" - "$work/rec.pcap" <<'PYEOF'
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", d[:4])[0]
nano = magic == 0xa1b23c4d
o = 24
while o + 16 <= len(d):
    s, f, incl, orig = struct.unpack("<IIII", d[o:o + 16])
    print("%d.%09d %d %d %s" % (s, f if nano else f * 1000, incl, orig, hashlib.sha1(d[o + 16:o + 16 + incl]).hexdigest()))
    o += 16 + incl
PYEOF
}
same_records() { # what, got, want
    records "$2" >"$work/got.txt"
    records "$3" >"$work/want.txt"
    if [ -s "$work/want.txt" ] && cmp -s "$work/got.txt" "$work/want.txt"; then ok; else
        bad "$1: $(wc -l <"$work/got.txt") records, want $(wc -l <"$work/want.txt"); first difference: $(diff "$work/got.txt" "$work/want.txt" | head -3 | tr '\n' ' ')"
    fi
}

# ---- -w -------------------------------------------------------------------
in="$S/federation-fw-drop-inside.pcap"
"$FEDTRACE" -q -r "$in" -w "$work/w.pcap" --format json -o /dev/null
[ "$(tsh -r "$work/w.pcap" -T fields -e frame.number | wc -l)" -eq "$(tsh -r "$in" -T fields -e frame.number | wc -l)" ] &&
    ok || bad "-w: tshark does not read the same number of frames"
head -c 4 "$work/w.pcap" | od -An -tx1 | grep -q "d4 c3 b2 a1\|4d 3c b2 a1" && ok || bad "-w of a pcap input is not pcap"
same_records "-w (no filter)" "$work/w.pcap" "$in"
"$FEDTRACE" -q -r "$in" -w "$work/wf.pcap" --format json -o /dev/null tcp port 5269
tcpdump -q -r "$in" -w "$work/wf-want.pcap" tcp port 5269 2>/dev/null
same_records "-w with a BPF filter (against tcpdump's)" "$work/wf.pcap" "$work/wf-want.pcap"
"$FEDTRACE" -q -r "$S/federation-ok-pcapng-both.pcapng" -w "$work/w.pcapng" --format json -o /dev/null
head -c 4 "$work/w.pcapng" | od -An -tx1 | grep -q "0a 0d 0d 0a" && ok || bad "-w of a pcapng input is not pcapng"
same_records "-w (pcapng)" "$work/w.pcapng" "$S/federation-ok-pcapng-both.pcapng"
"$FEDTRACE" -q -r "$in@inside" -r "$S/federation-fw-drop-outside.pcap@outside" -c 30 -w "$work/m.pcapng" --format json -o /dev/null
got=$(tsh -r "$work/m.pcapng" -T fields -e frame.interface_name | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
case "$got" in "inside="*" outside="*) ok ;; *) bad "-w of merged inputs: interfaces '$got' (want inside and outside)" ;; esac
[ "$(tsh -r "$work/m.pcapng" -T fields -e frame.number | wc -l)" -eq 30 ] && ok || bad "-w with -c 30: not 30 frames"
"$FEDTRACE" -q -r "$in" -w "$work/no/such/dir/w.pcap" --format json -o /dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ok || bad "-w to an unwritable path: status $rc, stderr: $(cat "$work/err")"

# ---- --evidence-dir ----------------------------------------------------------
# check NAME INPUT...: runs fedtrace with --evidence-dir on the inputs and
# checks every failed direction's file.
check() {
    name=$1
    shift
    dir="$work/ev-$name"
    "$FEDTRACE" -q "$@" --format json -o "$work/$name.json" --evidence-dir "$dir"
    rc=$?
    [ "$rc" -eq 0 ] || { bad "$name: status $rc"; return; }
    "$FEDTRACE" -q "$@" --format text -o "$work/$name.txt" --evidence-dir "$dir.t"
    "$FEDTRACE" -q "$@" --format html -o "$work/$name.html" --evidence-dir "$dir.h"
    "$PY" - "$work/$name.json" >"$work/$name.plan" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
conns = {c["uid"]: c for c in doc["connections"]}
dns = {d["uid"]: d for d in doc.get("dns", [])}
for f in doc["federations"]:
    for d in f["directions"]:
        if d["verdict"]["status"] != "failed":
            continue
        assert "evidence_file" in d, d["from"]
        terms = []
        lines = list(d["timeline"])
        pairs = list(d.get("nat_pairs", []))
        lone = bool(lines) and all(t["stage"] == "connect" for t in lines)
        if lone:  # a lone connect-back: the other direction's stream goes in too
            lines += [t for o in f["directions"] if o is not d for t in o["timeline"]]
            pairs += [p for o in f["directions"] if o is not d for p in o.get("nat_pairs", [])]
        # NAT twins: the same connections at the other capture point
        lines += [{"uid": u, "stage": "connect"} for p in pairs for u in (p["uid"], p["nat_peer"])]
        for t in lines:
            if "uid" in t and t["uid"] in conns:
                c = conns[t["uid"]]
                p = c["transport"]
                terms.append("(ip.addr==%s && ip.addr==%s && %s.port==%d && %s.port==%d)" % (
                    c["orig"]["ip"], c["resp"]["ip"], p, c["orig"]["port"], p, c["resp"]["port"]))
            if "dns" in t and t["dns"] in dns:
                q = dns[t["dns"]]
                terms.append("(dns.id==%d && ip.addr==%s && %s.port==%d)" % (
                    q["txid"], q["client"]["ip"], q["transport"], q["client"]["port"]))
        print("%s\t%s\t%s\t%s\t%s" % (d["evidence_file"], d["from"], d["to"], d["verdict"]["code"],
                                       " || ".join(sorted(set(terms)))))
PYEOF
    [ -s "$work/$name.plan" ] || { bad "$name: no failed direction with an evidence_file"; return; }
    while IFS="$(printf '\t')" read -r file from to code filter; do
        case "$file" in "$dir"/*) ok ;; *) bad "$name: $file is not in $dir" ;; esac
        [ -s "$file" ] && tsh -r "$file" >/dev/null && ok || { bad "$name: tshark cannot read $file"; continue; }
        # Exactly the frames of the cited connections and lookups.
        i=0
        for src in "$@"; do
            case "$src" in -r) continue ;; esac
            i=$((i + 1))
            tsh -r "${src%@*}" -Y "$filter" -F pcap -w "$work/want-$i.pcap"
        done
        if [ "$i" -gt 1 ]; then
            mergecap -F pcap -w "$work/want.pcap" "$work"/want-*.pcap
        else
            cp "$work/want-1.pcap" "$work/want.pcap"
        fi
        rm -f "$work"/want-*.pcap
        same_records "$name: $(basename "$file")" "$file" "$work/want.pcap"
        # The same verdict from the evidence alone.
        got=$("$FEDTRACE" -q -r "$file" --format json | "$PY" -c "
import json, sys
doc = json.load(sys.stdin)
print(' '.join(d['verdict']['code'] for f in doc['federations'] for d in f['directions']
               if d['from'] == sys.argv[1] and d['to'] == sys.argv[2]))" "$from" "$to")
        [ "$got" = "$code" ] && ok || bad "$name: fedtrace on $(basename "$file") alone says '$got' for $from -> $to (want $code)"
        b=$(basename "$file")
        grep -q "evidence: $dir.t/$b" "$work/$name.txt" && ok || bad "$name: the text report does not name $b"
        grep -q "href=\"$dir.h/$b\"" "$work/$name.html" && ok || bad "$name: the HTML report does not link $b"
    done <"$work/$name.plan"
}
check fw-drop -r "$S/federation-fw-drop-inside.pcap@inside" -r "$S/federation-fw-drop-outside.pcap@outside"
check tls-reject -r "$S/federation-tls-reject-inside.pcap"
check dns-missing -r "$S/federation-dns-missing-inside.pcap"
# A lookup's 5-tuple is not enough: a stray DNS response (same client
# port and resolver, another transaction id and name, between the query
# and its answer) belongs to no lookup of the federation and must stay
# out of its evidence.
"$PY" - "$S/federation-dns-missing-inside.pcap" "$work/stray-dns.pcap" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
recs, o = [], 24
while o + 16 <= len(d):
    s, f, incl, orig = struct.unpack("<IIII", d[o:o + 16])
    recs.append([s, f, d[o + 16:o + 16 + incl], orig])
    o += 16 + incl
def udp(p):
    if p[12:14] != b"\x08\x00" or p[23] != 17:
        return None
    u = 14 + (p[14] & 15) * 4
    return u, struct.unpack("!HH", p[u:u + 4])
q = next(i for i, r in enumerate(recs) if udp(r[2]) and udp(r[2])[1][1] == 53)
uq = udp(recs[q][2])[0]
a = next(j for j in range(q + 1, len(recs)) if udp(recs[j][2]) and udp(recs[j][2])[1][0] == 53
         and recs[j][2][udp(recs[j][2])[0] + 8:][:2] == recs[q][2][uq + 8:uq + 10])
ua = udp(recs[a][2])[0]
p = bytearray(recs[a][2])
p[ua + 8:ua + 10] = bytes([p[ua + 8] ^ 0x5a, p[ua + 9] ^ 0x5a])
p[ua + 6:ua + 8] = b"\0\0"  # no UDP checksum
p = bytearray(bytes(p).replace(b"\x01b\x07example", b"\x01z\x07example"))
recs.insert(q + 1, [recs[q][0], recs[q][1] + 1, bytes(p), len(p)])
w = open(sys.argv[2], "wb")
w.write(d[:24])
for s, f, data, orig in recs:
    w.write(struct.pack("<IIII", s, f, len(data), orig))
    w.write(data)
PYEOF
check stray-dns -r "$work/stray-dns.pcap"
case "$(ls "$work/ev-fw-drop")" in *.pcapng*) ok ;; *) bad "merged inputs: evidence not pcapng" ;; esac
n=$(tsh -r "$work/ev-fw-drop/$(ls "$work/ev-fw-drop" | head -1)" -T fields -e frame.interface_name | sort -u | tr '\n' ' ')
[ "$n" = "inside outside " ] && ok || bad "evidence interfaces named '$n' (want the observers)"

# The HTML report with evidence links passes the page check (no fetch,
# no script); a saved document whose evidence_file carries a scheme is
# rendered as text, never as a link.
"$PY" "$SRCDIR/tests/html_check.py" "$work/fw-drop.html" >"$work/html-check.txt" && ok ||
    bad "evidence HTML: $(grep ERROR "$work/html-check.txt" | head -3)"
"$PY" - "$work/fw-drop.json" "$work/evil.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["federations"]:
    for x in f["directions"]:
        if "evidence_file" in x:
            x["evidence_file"] = "javascript:alert(1)//x.pcap"
json.dump(d, open(sys.argv[2], "w"))
PYEOF
"$FEDTRACE" report "$work/evil.json" -o "$work/evil.html"
grep -q 'javascript:alert(1)//x.pcap' "$work/evil.html" && ! grep -q 'href="javascript' "$work/evil.html" && ok ||
    bad "an evidence_file with a scheme became a link (or vanished)"

# Refused live, status 2 with one line.
"$FEDTRACE" -i lo --evidence-dir "$work/live" --format json 2>"$work/err" >/dev/null
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q -- "-w FILE" "$work/err" && ok ||
    bad "--evidence-dir with -i: status $rc, stderr: $(cat "$work/err")"
[ ! -e "$work/live" ] && ok || bad "--evidence-dir with -i made the directory"

echo "evidence: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
