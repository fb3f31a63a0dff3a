#!/bin/sh
# soak.sh - fedtrace live on a veth for a while: tcpreplay loops the
# samples into one end at a modest rate (SOAK_PPS packets/s), fedtrace
# listens on the other (NDJSON, stats lines, metrics file) and tcpdump
# records the same packets.  After SOAK_SECONDS fedtrace gets SIGTERM while
# the replay goes on.  Checked:
#   - fedtrace exits 0 and its last line is the final capture.stats;
#   - zero kernel and interface drops at this rate;
#   - RSS stays flat: sampled every 2 s, the last sample is within
#     SOAK_RSS_SLACK_KIB of the sample taken after the first loop of the
#     samples (the warm-up), and never above SOAK_RSS_MAX_KIB;
#   - nothing decided is lost: every verdict (from, to, status, code) the
#     offline analysis of the packets fedtrace saw (tcpdump's file cut to
#     the same frame count) gives is in the live output.
# The network namespace and veth (unique names) are created here and
# removed on exit.  make check runs a short soak (SOAK_SECONDS=20);
# make check-soak runs five minutes.  Skipped without root, ip, tcpreplay
# or tcpdump.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
SOAK_SECONDS=${SOAK_SECONDS:-20}
SOAK_PPS=${SOAK_PPS:-300}
SOAK_RSS_SLACK_KIB=${SOAK_RSS_SLACK_KIB:-4096}
SOAK_RSS_MAX_KIB=${SOAK_RSS_MAX_KIB:-262144}
[ "$(id -u)" -eq 0 ] || { echo "needs root: skipped"; exit 77; }
for t in ip tcpreplay tcpdump; do
    command -v $t >/dev/null 2>&1 || { echo "needs $t: skipped"; exit 77; }
done
ns="ftsoak$$"
work="$BUILDDIR/tests/out/soak"
rm -rf "$work"
mkdir -p "$work"
cleanup() {
    [ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
    [ -n "${ftpid:-}" ] && kill "$ftpid" 2>/dev/null
    [ -n "${tdpid:-}" ] && kill "$tdpid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT INT TERM
ip netns add "$ns" || { echo "cannot create a network namespace: skipped"; exit 77; }
ip -n "$ns" link add rep0 type veth peer name mon0 || { echo "cannot create a veth: skipped"; exit 77; }
for d in rep0 mon0; do
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
    ip -n "$ns" link set "$d" up
done

# One loop: every sample, in name order, as one capture.
ls "$SRCDIR"/samples/*.pcap | sort >"$work/samples"
"$PY" - "$work/loop.pcap" $(cat "$work/samples") <<'PYEOF'
import struct, sys
out = open(sys.argv[1], "wb")
hdr = None
t = 0.0
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d) or struct.unpack("<I", data[20:24])[0] != 1:
        continue  # Ethernet pcap only
    nano = magic == 0xa1b23c4d
    if hdr is None:
        hdr = data[:24]
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    off = 24
    base = None
    while off + 16 <= len(data):
        s, us, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        frac = us / (1e9 if nano else 1e6)
        if base is None:
            base = s + frac
        when = t + (s + frac - base)
        out.write(struct.pack("<IIII", int(when), int((when % 1) * 1e6), incl, orig))
        out.write(data[off + 16:off + 16 + incl])
        off += 16 + incl
    t = when + 2.0  # two quiet seconds between samples
PYEOF

ip netns exec "$ns" tcpdump -q -i mon0 -s 0 -w "$work/seen.pcap" 2>"$work/tcpdump.err" &
tdpid=$!
# No filter (-f ''): fedtrace examines every packet, as the offline run
# of tcpdump's file does, so both see the same frames.
ip netns exec "$ns" "$FEDTRACE" -q -i mon0@soak -f '' --format ndjson -o "$work/live.ndjson" --stats-interval 5 \
    --metrics-file "$work/fedtrace.prom" 2>"$work/fedtrace.err" &
ftpid=$!
sleep 2
loop_pkts=$("$PY" -c "
import struct,sys
d=open(sys.argv[1],'rb').read(); o=24; n=0
while o+16<=len(d): o+=16+struct.unpack('<I',d[o+8:o+12])[0]; n+=1
print(n)" "$work/loop.pcap")
ip netns exec "$ns" tcpreplay -q -i rep0 --pps "$SOAK_PPS" --loop 0 "$work/loop.pcap" >"$work/tcpreplay.out" 2>&1 &
rpid=$!
warm=$(( (loop_pkts + SOAK_PPS - 1) / SOAK_PPS + 2 ))
[ "$warm" -lt "$SOAK_SECONDS" ] || warm=$((SOAK_SECONDS / 2))
: >"$work/rss"
start=$(date +%s)
while [ $(( $(date +%s) - start )) -lt "$SOAK_SECONDS" ]; do
    sleep 2
    kill -0 "$ftpid" 2>/dev/null || break
    echo "$(( $(date +%s) - start )) $(awk '/^VmRSS/ {print $2}' /proc/$ftpid/status)" >>"$work/rss"
done
# SIGTERM mid-replay: what fedtrace decided up to there must all be out.
kill -TERM "$ftpid"
wait "$ftpid"
rc=$?
ftpid=""
kill "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
rpid=""
sleep 1
kill -TERM "$tdpid"
wait "$tdpid" 2>/dev/null
tdpid=""
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: fedtrace exited $rc: $(cat "$work/fedtrace.err")"; fail=1; }
frames=$("$PY" -c "
import json,sys
e=json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert e['fedtrace']['event_type']=='capture.stats' and e['fedtrace']['final']
print(e['fedtrace']['capture']['frames'])" "$work/live.ndjson") || { echo "FAIL: no final stats line"; exit 1; }
"$FEDTRACE" -q -r "$work/seen.pcap" -c "$frames" --format ndjson -o "$work/offline.ndjson"
# AddressSanitizer's quarantine holds freed memory back: RSS says nothing
# about fedtrace then.
sanitized=0
grep -qa __asan_init "$FEDTRACE" && sanitized=1 && echo "built with AddressSanitizer: RSS reported, not asserted"
"$PY" - "$work" "$warm" "$SOAK_RSS_SLACK_KIB" "$SOAK_RSS_MAX_KIB" "$frames" "$sanitized" <<'PYEOF' || fail=1
import json, sys
work, warm, slack, cap, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sanitized = sys.argv[6] == "1"
def events(p):
    return [json.loads(l) for l in open(p)]
live, off = events(work + "/live.ndjson"), events(work + "/offline.ndjson")
bad = 0
st = live[-1]["fedtrace"]["capture"]["sources"][0]
if st.get("kernel_dropped", 0) or st.get("interface_dropped", 0):
    print("FAIL: drops at a modest rate: %s" % st); bad += 1
periodic = [e for e in live if e["fedtrace"]["event_type"] == "capture.stats" and not e["fedtrace"]["final"]]
if not periodic:
    print("FAIL: no periodic stats line"); bad += 1
def verdicts(evs):
    out = set()
    for e in evs:
        if e["fedtrace"]["event_type"] == "federation.verdict":
            f = e["fedtrace"]["federation"]
            out.add((f["from"], f["to"], f["status"], f["code"]))
    return out
lv, ov = verdicts(live), verdicts(off)
missing = ov - lv
if not ov or missing:
    print("FAIL: offline verdicts missing from the live output: %s (live %s)" % (sorted(missing), sorted(lv))); bad += 1
rss = [tuple(map(int, l.split())) for l in open(work + "/rss") if len(l.split()) == 2]
after = [r for t, r in rss if t >= warm]
if len(after) >= 2:
    base, last, peak = after[0], after[-1], max(r for _, r in rss)
    print("soak: %d frames, %d verdicts, RSS %d KiB after warm-up, %d KiB at the end, peak %d KiB"
          % (frames, len(lv), base, last, peak))
    if not sanitized and (last > base + slack or peak > cap):
        print("FAIL: RSS grew: %s" % rss); bad += 1
else:
    print("FAIL: too few RSS samples: %s" % rss); bad += 1
sys.exit(1 if bad else 0)
PYEOF
[ "$fail" -eq 0 ] && echo "soak: ok (${SOAK_SECONDS} s at ${SOAK_PPS} packets/s)"
exit $fail
