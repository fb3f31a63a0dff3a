#!/bin/sh
# output_safety.sh - output that survives hostile input and a hostile
# environment: valid UTF-8 in JSON/NDJSON whatever the wire carried, no
# wire controls on the terminal, whole NDJSON lines flushed per event,
# SIGHUP reopens, SIGINT/SIGTERM say the run was cut short, write errors
# (full disk, bad stdout, unusable TMPDIR) give one line and exit 2.
# Captures are built at test time with tools/gen-pcap's helpers.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
work="$BUILDDIR/tests/out/output_safety"
rm -rf "$work"
mkdir -p "$work"
pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
mnt=""
cleanup() {
    [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
    [ -n "${ftpid:-}" ] && kill "$ftpid" 2>/dev/null
    [ -n "${wpid:-}" ] && kill "$wpid" 2>/dev/null
}
trap cleanup EXIT

# ---- capture builders -------------------------------------------------------
cat >"$work/gen.py" <<'PYEOF'
"""gen.py GEN-PCAP OUT CASE: hostile | many | dns"""
import importlib.machinery, importlib.util, struct, sys
loader = importlib.machinery.SourceFileLoader("genpcap", sys.argv[1])
spec = importlib.util.spec_from_loader("genpcap", loader)
g = importlib.util.module_from_spec(spec)
loader.exec_module(g)
out, case = sys.argv[2], sys.argv[3]

FAKE = "&#10;F00000000 a.example &lt;-&gt; b.example OK"
BIDI = "&#x202E;&#x9B;&#x2028;&#x2066;&#13;"

def stream(frm, to, extra=""):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            "xmlns:db='jabber:server:dialback' from='%s' to='%s'%s "
            "version='1.0'>" % (frm, to, extra)).encode()

def s2s(t0, cport, c_data, s_data):
    c = g.Conn(0x1000 + cport, 0x2000 + cport)
    c.send(t0, g.C2S, g.SYN, opts=g.tcp_opts_syn())
    c.send(t0 + 300, g.S2C, g.SYN | g.ACK, opts=g.tcp_opts_syn())
    c.send(t0 + 600, g.C2S, g.ACK)
    t = t0 + 1000
    for d, data in [(g.C2S, c_data)] + [(g.S2C, x) for x in s_data]:
        c.send(t, d, g.PSH | g.ACK, data)
        t += 1000
    c.send(t, g.S2C, g.FIN | g.ACK)
    c.send(t + 300, g.C2S, g.FIN | g.ACK)
    c.send(t + 600, g.S2C, g.ACK)
    return g.records(c.segs, g.Endpoints(g.V4_CLI, g.V4_SRV, cport).eth_frame)

def hostile():
    # Peer-controlled stream attributes and stream-error text carrying a
    # forged report line, bidi/C1/line-separator characters, and a text
    # longer than the 1023-byte cap made of 2-byte characters.
    err = ("<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
           "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>x" + FAKE + BIDI +
           "\u00e9" * 700 + "</text></stream:error></stream:stream>").encode()
    recs = s2s(0, 40001, stream("a.example.test", "b.example.test" + FAKE + BIDI),
               [stream("b.example.test" + FAKE, "a.example.test", " id='x1'"), err])
    # Direct TLS (XEP-0368, 5270): a ClientHello whose SNI is not UTF-8
    # (stray byte, overlong, surrogate, > U+10FFFF, cut sequence, C1, RLO).
    sni = (b"bad\xff\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82.\xc2\x9b"
           b"\x9b\xe2\x80\xae.example")
    ext = struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
    body = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
            + struct.pack("!H", len(ext)) + ext)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    rec = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
    t = g.Conn(0x3000, 0x4000)
    t.send(100000, g.C2S, g.SYN, opts=g.tcp_opts_syn())
    t.send(100300, g.S2C, g.SYN | g.ACK, opts=g.tcp_opts_syn())
    t.send(100600, g.C2S, g.ACK)
    t.send(101000, g.C2S, g.PSH | g.ACK, rec)
    t.send(102000, g.C2S, g.FIN | g.ACK)
    t.send(102300, g.S2C, g.FIN | g.ACK)
    t.send(102600, g.C2S, g.ACK)
    recs += g.records(t.segs, g.Endpoints(g.V4_CLI, g.V4_SRV, 40002, sport=5270).eth_frame)
    return recs

def many():
    # 200 short s2s streams, one after the other.
    recs = []
    for i in range(200):
        recs += s2s(i * 20000, 20000 + i, stream("a.example.test", "b.example.test"),
                    [stream("b.example.test", "a.example.test", " id='m%d'" % i),
                     b"</stream:stream>"])
    return recs

def dns():
    # 400 answered lookups: a DNS spool of well over 64 KiB.
    recs = []
    cmac, dmac = "02:00:00:00:00:0a", "02:00:00:00:00:35"
    for i in range(400):
        name = "_xmpp-server._tcp.d%d.example.test" % i
        q = g.DnsMsg(i, 0x0100)
        q.question(name, 33)
        a = g.DnsMsg(i, 0x8180)
        a.question(name, 33)
        a.srv(1, name, 300, 0, 5, 5269, "xmpp%d.example.test" % i)
        for d, msg, ts in ((0, q, i * 1000), (1, a, i * 1000 + 500)):
            src, dst = (g.V4_CLI, g.V4_DNS) if d == 0 else (g.V4_DNS, g.V4_CLI)
            sp, dp = (30000 + i, 53) if d == 0 else (53, 30000 + i)
            recs.append(g.Record(g.ts_of(ts), g.eth(dmac if d == 0 else cmac, cmac if d == 0 else dmac,
                        g.ETH_IPV4, g.ipv4(src, dst, g.IP_UDP, g.udp(src, dst, sp, dp, msg.bytes()), i))))
    return recs

open(out, "wb").write(g.pcap_bytes({"hostile": hostile, "many": many, "dns": dns}[case](), 1))
PYEOF
gen() { "$PY" "$work/gen.py" "$SRCDIR/tools/gen-pcap" "$work/$1.pcap" "$1" || { echo "gen $1 failed"; exit 1; }; }
gen hostile
gen many
gen dns

# strict UTF-8 and JSON, one document or one event per line
strict_json() {
    "$PY" -c '
import json, sys
text = open(sys.argv[1], encoding="utf-8", errors="strict").read()
if sys.argv[2] == "doc":
    json.loads(text)
else:
    assert text.endswith("\n"), "no final newline"
    for line in text.splitlines():
        json.loads(line)
' "$1" "$2"
}
validate() {
    "$PY" "$SRCDIR/tools/validate-json" "$SRCDIR/doc/fedtrace.schema.json" "$@" >"$work/validate.out" 2>&1
    rc=$?
    [ "$rc" -eq 77 ] && { skipped=$((skipped + 1)); return 0; }
    [ "$rc" -eq 0 ] || cat "$work/validate.out"
    return $rc
}
jcheck() { # FILE PYTHON-EXPR-ON-d (doc) - prints the expression on failure
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

# ---- 1. JSON and NDJSON are valid UTF-8 ------------------------------------
H="$work/hostile.pcap"
# the file name itself is not UTF-8 and carries a newline
odd="$work/$(printf 'odd\377\nF00000000 name')".pcap
cp "$H" "$odd"
for fmt in json ndjson; do
    out="$work/hostile.$fmt"
    if "$FEDTRACE" -q -v -r "$H" -r "$odd" --format $fmt -o "$out"; then ok; else bad "hostile --format $fmt: exit $?"; fi
    kind=doc; [ $fmt = ndjson ] && kind=lines
    if strict_json "$out" $kind; then ok; else bad "$fmt output is not strict UTF-8 JSON"; fi
    if validate "$out"; then ok; else bad "$fmt output fails the schema"; fi
done
if jcheck "$work/hostile.json" "d['stats']['output']['utf8_replaced'] >= 20"; then ok; else
    bad "stats.output.utf8_replaced does not count the replacements"; fi
# The SNI's bad bytes are replaced, its good characters (U+009B, U+202E) kept.
if jcheck "$work/hostile.json" "any(e.get('tls',{}).get('sni','') == 'bad' + '\ufffd'*11 + '.\u009b\ufffd\u202e.example' for c in d['connections'] for e in c.get('xmpp',[]))"; then ok; else
    bad "SNI not cleaned as expected"; fi
# The stream error text was cut at its cap between two characters, not in one.
if jcheck "$work/hostile.json" "any(e.get('text','').endswith('\u00e9') and e.get('truncated') and '\ufffd' not in e['text'] for c in d['connections'] for e in c.get('xmpp',[]))"; then ok; else
    bad "capped stream error text is not cut at a character boundary"; fi

# ---- 2. the text report passes no wire control to the terminal -------------
"$FEDTRACE" -q -v -r "$H" -r "$odd" --format text -o "$work/hostile.txt"
if grep -q '^F00000000' "$work/hostile.txt"; then bad "a forged report line reached the text output"; else ok; fi
if grep -q 'F00000000' "$work/hostile.txt"; then ok; else bad "the forged text vanished instead of being escaped"; fi
if "$PY" -c '
import sys
b = open(sys.argv[1], "rb").read()
bad = [x for x in (b"\r", b"\x1b", b"\x9b", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x80\xa8", b"\xe2\x81\xa6", b"\xff") if x in b]
b.decode("utf-8")
sys.exit(1 if bad else 0)
' "$work/hostile.txt"; then ok; else bad "controls, bidi or non-UTF-8 bytes in the text report"; fi
if grep -q '\\x0aF00000000 a.example <-> b.example OK\\u202e\\u009b\\u2028\\u2066\\x0d' "$work/hostile.txt"; then ok; else
    bad "escaped form of the peer's domain missing from the text report"; fi

# ---- 3/4/5. streaming NDJSON, SIGHUP, SIGINT/SIGTERM on an offline run -----
# A writer feeds a capture through a pipe: the first half, then it waits
# for a go file, then the rest.  fedtrace reads -r - and is signalled while
# it waits for the second half.
half_bytes() { # PCAP: bytes feed() writes before it waits (a record boundary)
    "$PY" -c '
import sys
data = open(sys.argv[1], "rb").read()
half = 24 + (len(data) - 24) // 2
off = 24
while off < half:
    off += 16 + int.from_bytes(data[off + 8:off + 12], "little")
print(off)
' "$1"
}
feed() { # PCAP GOFILE: writes to stdout (the first half_bytes, then the rest)
    "$PY" -c '
import os, sys, time
data = open(sys.argv[1], "rb").read()
off = int(sys.argv[3])
sys.stdout.buffer.write(data[:off]); sys.stdout.flush()
for _ in range(1200):
    if os.path.exists(sys.argv[2]): break
    time.sleep(0.05)
try:
    sys.stdout.buffer.write(data[off:]); sys.stdout.flush()
except BrokenPipeError:  # fedtrace was stopped before the end: expected
    os._exit(0)
' "$1" "$2" "$(half_bytes "$1")"
}
handlers_ready() { # PID: SIGINT caught (handler installed); waits up to 20 s
    # (a loaded machine once took more than 5 s to get there)
    for _ in $(seq 400); do
        m=$(awk '/^SigCgt/ {print $2}' "/proc/$1/status" 2>/dev/null)
        [ -n "$m" ] && [ $(( 0x$m & 2 )) -ne 0 ] && return 0
        sleep 0.05
    done
    return 1
}
read_at_least() { # PID BYTES: the process has read that much (any load; up to 20 s)
    for _ in $(seq 400); do
        r=$(awk '/^rchar:/ {print $2}' "/proc/$1/io" 2>/dev/null)
        [ -n "$r" ] && [ "$r" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
lines_at_least() { # FILE N
    for _ in $(seq 100); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
M="$work/many.pcap"

# 3+4: NDJSON lines are on disk, whole, while the run goes on; -o appends;
# SIGHUP after a rotation moves the rest to a new file and kills nothing.
nd="$work/stream.ndjson"
echo '{"event_type":"earlier run"}' >"$nd"
rm -f "$work/go"
feed "$M" "$work/go" | "$FEDTRACE" -q -r - --format ndjson -o "$nd" 2>"$work/hup.err" &
ftpid=$!
if lines_at_least "$nd" 40; then ok; else bad "NDJSON events not on disk while the run goes on"; fi
if tail -c 1 "$nd" | od -An -c | grep -q '\\n' && strict_json "$nd" lines; then ok; else
    bad "NDJSON file holds a partial line mid-run"; fi
if head -n 1 "$nd" | grep -q 'earlier run'; then ok; else bad "-o truncated an existing NDJSON file"; fi
mv "$nd" "$nd.1"
kill -HUP "$ftpid"
sleep 0.3
touch "$work/go"
wait "$ftpid"
rc=$?
ftpid=""
if [ "$rc" -eq 0 ]; then ok; else bad "SIGHUP run exit $rc"; cat "$work/hup.err"; fi
if [ -s "$nd" ] && strict_json "$nd" lines && strict_json "$nd.1" lines; then ok; else bad "files after SIGHUP"; fi
if tail -n 1 "$nd" | grep -q '"event_type":"capture.stats"'; then ok; else bad "capture.stats not in the reopened file"; fi
n1=$(grep -c '"event_type":"xmpp.stream_open"' "$nd.1")
n2=$(grep -c '"event_type":"xmpp.stream_open"' "$nd")
if [ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] && [ $((n1 + n2)) -eq 400 ]; then ok; else
    bad "stream_open events before/after SIGHUP: $n1 + $n2, want 400 in all"; fi

# 5: SIGINT / SIGTERM stop an offline run: stderr, capture.interrupted,
# 130 / 143; the output is complete and valid.
# an uninterrupted run has no such flag and exits 0
if "$FEDTRACE" --format json -q -r "$M" -o "$work/whole.json" && jcheck "$work/whole.json" "'interrupted' not in d['capture']"; then ok; else
    bad "uninterrupted run"; fi
all=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['capture']['frames'])" "$work/whole.json")
first=$(half_bytes "$M")
for sig in INT TERM; do
    for fmt in json ndjson; do
        out="$work/int-$sig.$fmt"
        rm -f "$work/go"
        feed "$M" "$work/go" | "$FEDTRACE" -q -r - --format $fmt -o "$out" 2>"$work/int.err" &
        ftpid=$!
        # signalled once it has read the first half (so frames > 0 however
        # loaded the machine is) and waits for the rest
        if handlers_ready "$ftpid" && read_at_least "$ftpid" "$first"; then
            sleep 0.1
            kill -$sig "$ftpid"
        else
            echo "note: SIG$sig $fmt: fedtrace had not installed its handlers or read the first half after 20 s; no signal sent"
        fi
        wait "$ftpid"
        rc=$?
        ftpid=""
        touch "$work/go"
        want=130; [ $sig = TERM ] && want=143
        if [ "$rc" -eq "$want" ]; then ok; else bad "SIG$sig $fmt: exit $rc, want $want"; fi
        if grep -q "interrupted by SIG$sig" "$work/int.err"; then ok; else bad "SIG$sig $fmt: no stderr line"; cat "$work/int.err"; fi
        kind=doc; [ $fmt = ndjson ] && kind=lines
        if strict_json "$out" $kind && validate "$out"; then ok; else bad "SIG$sig $fmt: output invalid"; fi
        if [ $fmt = json ]; then
            c="$out"
        else
            tail -n 1 "$out" | "$PY" -c 'import json,sys; json.dump(json.load(sys.stdin)["fedtrace"], sys.stdout)' >"$work/last.json"
            c="$work/last.json"
        fi
        if jcheck "$c" "d['capture']['interrupted'] is True and d['capture']['interrupted_by'] == 'SIG$sig' and 0 < d['capture']['frames'] < $all"; then ok; else
            bad "SIG$sig $fmt: capture.interrupted missing or frames wrong"; fi
    done
done

# ---- 6. write errors ---------------------------------------------------------
werr() { # WHAT EXPECTED-STDERR-PATTERN COMMAND...
    what=$1 pat=$2
    shift 2
    "$@" 2>"$work/werr.err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$work/werr.err")" -eq 1 ] && grep -q "$pat" "$work/werr.err"; then ok; else
        bad "$what: exit $rc, stderr: $(cat "$work/werr.err")"; fi
}
if [ -w /dev/full ]; then
    for fmt in json ndjson text; do
        werr "-o /dev/full ($fmt)" "cannot write '/dev/full': No space left on device" \
            "$FEDTRACE" -q -r "$M" --format $fmt -o /dev/full
        werr "stdout /dev/full ($fmt)" "cannot write 'standard output': No space left on device" \
            sh -c '"$1" -q -r "$2" --format "$3" >/dev/full' sh "$FEDTRACE" "$M" $fmt
    done
else
    skipped=$((skipped + 1))
fi
D="$work/dns.pcap"
werr "TMPDIR missing" "cannot create a temporary file in '$work/nowhere': No such file or directory" \
    env TMPDIR="$work/nowhere" "$FEDTRACE" --format json -q -r "$D" -o "$work/tmp.json"
# the spool lives in TMPDIR and is gone afterwards
mkdir -p "$work/tmpdir"
if TMPDIR="$work/tmpdir" "$FEDTRACE" --format json -q -r "$D" -o "$work/tmp.json" && [ -z "$(ls -A "$work/tmpdir")" ] &&
    jcheck "$work/tmp.json" "len(d['dns']) == 400"; then ok; else bad "spool in TMPDIR"; fi
# a read-only and a tiny full tmpfs (root only)
mnt="$work/mnt"
mkdir -p "$mnt"
if mount -t tmpfs -o size=64k,ro tmpfs "$mnt" 2>/dev/null; then
    werr "TMPDIR read-only" "cannot create a temporary file in '$mnt': Read-only file system" \
        env TMPDIR="$mnt" "$FEDTRACE" --format json -q -r "$D" -o "$work/tmp.json"
    umount "$mnt"
    mount -t tmpfs -o size=16k tmpfs "$mnt"
    werr "TMPDIR full" "cannot write a temporary file in '$mnt': No space left on device" \
        env TMPDIR="$mnt" "$FEDTRACE" --format json -q -r "$D" -o "$work/tmp.json"
    umount "$mnt"
else
    echo "cannot mount a tmpfs: read-only and full TMPDIR not tested"
    skipped=$((skipped + 1))
fi
mnt=""

# --rotate-size: every piece is whole lines, together they are the run.
rot="$work/rot"
mkdir -p "$rot"
"$FEDTRACE" -q -r "$D" --format ndjson -o "$work/whole.ndjson"
if "$FEDTRACE" -q -r "$D" --format ndjson -o "$rot/o.ndjson" --rotate-size 8K &&
    "$PY" - "$rot" "$work/whole.ndjson" <<'PYEOF'
import json, os, sys
d = sys.argv[1]
files = sorted(os.listdir(d))
assert len(files) > 5, files
n = 0
for f in files:
    data = open(os.path.join(d, f), "rb").read()
    assert not data or data.endswith(b"\n"), f
    assert f == "o.ndjson" or len(data) < 8192 + 4096, (f, len(data))
    n += sum(1 for l in data.splitlines() if json.loads(l))
assert n == sum(1 for l in open(sys.argv[2])), n
PYEOF
then ok; else bad "--rotate-size"; fi
werr "rotation needs a file" "rotate-seconds need --format ndjson and -o FILE" \
    "$FEDTRACE" -q -r "$D" --format ndjson --rotate-size 1M

echo "output_safety: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
