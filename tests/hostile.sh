#!/bin/sh
# hostile.sh - input an attacker or a busy network sends: fedtrace must not
# crash and must report what it has no name for as data (and data that is
# not XMPP as not XMPP).  Captures are
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

# 4. Binary data on an XMPP port that is neither XML nor TLS is not XMPP:
#    app "none" (nothing we decode), no XMPP events or errors, no
#    federation; the same connection carrying XML from mid-stream is XMPP.
"$PY" - "$work" <<'PYEOF'
import struct, sys
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return (~s) & 0xffff
def pkt(src, dst, sp, dp, seq, ack, flags, payload=b""):
    sa, da = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    c = csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, sa, da)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x00\x11\x22\x33\x44\x55\x00\x11\x22\x33\x44\x66\x08\x00" + ip + tcp
def capture(name, c2s, s2c):
    A, B = "192.0.2.1", "192.0.2.2"
    pk = [pkt(A, B, 40000, 5269, 1000, 0, 0x02), pkt(B, A, 5269, 40000, 5000, 1001, 0x12),
          pkt(A, B, 40000, 5269, 1001, 5001, 0x10), pkt(A, B, 40000, 5269, 1001, 5001, 0x18, c2s),
          pkt(B, A, 5269, 40000, 5001, 1001 + len(c2s), 0x18, s2c),
          pkt(A, B, 40000, 5269, 1001 + len(c2s), 5001 + len(s2c), 0x11),
          pkt(B, A, 5269, 40000, 5001 + len(s2c), 1002 + len(c2s), 0x11)]
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(pk):
        out += struct.pack("<IIII", 1700000000, i * 1000, len(p), len(p)) + p
    open(sys.argv[1] + "/" + name, "wb").write(out)
capture("xmpp-port-binary.pcap", bytes(range(1, 200)), b"\x00\xff\x10\x80" * 40)
capture("xmpp-port-midstream.pcap", b"<presence from='a@a.example' to='b@b.example' type='subscribe'/>",
        b"<presence from='b@b.example' to='a@a.example' type='subscribed'/>")
PYEOF
if "$FEDTRACE" -q -r "$work/xmpp-port-binary.pcap" --format json -o "$work/binary.json" &&
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); c=d['connections']; sys.exit(0 if len(c) == 1 and c[0]['app'] == 'none' and not c[0].get('xmpp') and not d['federations'] else 1)" "$work/binary.json"
then ok; else bad "binary data on 5269: expected app none, no XMPP events, no federation"; fi
if "$FEDTRACE" -q -r "$work/xmpp-port-midstream.pcap" --format json -o "$work/midxml.json" &&
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); c=d['connections']; sys.exit(0 if c[0]['app'] == 'xmpp' and c[0].get('xmpp') and d['federations'] else 1)" "$work/midxml.json"
then ok; else bad "XML from mid-stream on 5269: expected app xmpp and a federation"; fi

echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
