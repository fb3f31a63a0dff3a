#!/bin/sh
# soak.sh - fedtrace live on a veth for a while: tcpreplay loops the
# samples into one end at a modest rate (SOAK_PPS packets/s), fedtrace
# listens on the other (NDJSON, stats lines, metrics file) and tcpdump
# records the same packets.  After SOAK_SECONDS fedtrace gets SIGTERM while
# the replay goes on.  Checked:
#   - fedtrace exits 0 and its last line is the final capture.stats;
#   - zero kernel and interface drops at this rate;
#   - RSS stays flat.  What fedtrace holds on a steady link is a window:
#     ended connections and lookups stay --idle-timeout seconds of packet
#     time (300 by default, 10 here so the window fills early).  The
#     warm-up is that window plus one loop of the samples; RSS is sampled
#     every 2 s, and once the warm-up is over the last sample must be
#     within SOAK_RSS_SLACK_KIB of the first, the least-squares slope of
#     the second half of them under SOAK_RSS_SLOPE_KIB KiB per minute, and
#     no sample above SOAK_RSS_MAX_KIB.  Too short a run for a second half
#     (make check's 20 s) asserts the cap only and says so;
#   - nothing decided is lost, nothing made up: the verdicts (from, to,
#     status, code) of the live output are exactly those of the offline
#     analysis of the packets fedtrace saw (tcpdump's file cut to the
#     same frame count, same options);
#   - the verdict metrics follow the verdict events: /metrics is scraped
#     twice during the run, and each time fedtrace_verdicts_total (by
#     code) and fedtrace_federation_directions_failing equal what the
#     NDJSON lines written up to the scrape say (retired federations
#     included); promtool accepts both scrapes when it is installed.
# The network namespace and veth (unique names) are created here and
# removed on exit.  make check runs a short soak (SOAK_SECONDS=20);
# make check-soak runs five minutes.  Skipped without root, ip, tcpreplay
# or tcpdump.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
SOAK_SECONDS=${SOAK_SECONDS:-20}
SOAK_PPS=${SOAK_PPS:-300}
SOAK_RSS_SLACK_KIB=${SOAK_RSS_SLACK_KIB:-1024}
SOAK_RSS_SLOPE_KIB=${SOAK_RSS_SLOPE_KIB:-64}
SOAK_IDLE=${SOAK_IDLE:-10}
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
ip -n "$ns" link set lo up
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
mport=$((20000 + $$ % 20000))
ip netns exec "$ns" "$FEDTRACE" -q -i mon0@soak -f '' --idle-timeout "$SOAK_IDLE" --format ndjson -o "$work/live.ndjson" \
    --stats-interval 5 --metrics-file "$work/fedtrace.prom" --metrics-listen "127.0.0.1:$mport" 2>"$work/fedtrace.err" &
ftpid=$!
sleep 2
loop_pkts=$("$PY" -c "
import struct,sys
d=open(sys.argv[1],'rb').read(); o=24; n=0
while o+16<=len(d): o+=16+struct.unpack('<I',d[o+8:o+12])[0]; n+=1
print(n)" "$work/loop.pcap")
ip netns exec "$ns" tcpreplay -q -i rep0 --pps "$SOAK_PPS" --loop 0 "$work/loop.pcap" >"$work/tcpreplay.out" 2>&1 &
rpid=$!
warm=$(( SOAK_IDLE + (loop_pkts + SOAK_PPS - 1) / SOAK_PPS + 4 ))
# A scrape of /metrics between two looks at the NDJSON file: lines
# written before, the exposition, lines written after (scrape N).
scrape() {
    cp "$work/live.ndjson" "$work/before.$1"
    ip netns exec "$ns" "$PY" -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$mport/metrics', timeout=10).read().decode())" \
        >"$work/scrape.$1" 2>>"$work/scrape.err"
    cp "$work/live.ndjson" "$work/after.$1"
}
: >"$work/rss"
start=$(date +%s)
scrapes=0
while [ $(( $(date +%s) - start )) -lt "$SOAK_SECONDS" ]; do
    sleep 2
    kill -0 "$ftpid" 2>/dev/null || break
    now=$(( $(date +%s) - start ))
    echo "$now $(awk '/^VmRSS/ {print $2}' /proc/$ftpid/status)" >>"$work/rss"
    # Scrapes: once after a few seconds, once near the end.
    if { [ "$scrapes" -eq 0 ] && [ "$now" -ge 6 ]; } || { [ "$scrapes" -eq 1 ] && [ "$now" -ge $((SOAK_SECONDS - 4)) ]; }; then
        scrapes=$((scrapes + 1))
        scrape "$scrapes"
    fi
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
"$FEDTRACE" -q -r "$work/seen.pcap" -c "$frames" --idle-timeout "$SOAK_IDLE" --format ndjson -o "$work/offline.ndjson"
for n in 1 2; do
    if [ ! -s "$work/scrape.$n" ]; then
        echo "FAIL: scrape $n of /metrics got nothing: $(cat "$work/scrape.err" 2>/dev/null)"; fail=1
    elif command -v promtool >/dev/null 2>&1; then
        promtool check metrics <"$work/scrape.$n" >"$work/promtool.$n" 2>&1 ||
            { echo "FAIL: promtool on scrape $n: $(cat "$work/promtool.$n")"; fail=1; }
    fi
done
# AddressSanitizer's quarantine holds freed memory back: RSS says nothing
# about fedtrace then.
sanitized=0
grep -qa __asan_init "$FEDTRACE" && sanitized=1 && echo "built with AddressSanitizer: RSS reported, not asserted"
"$PY" - "$work" "$warm" "$SOAK_RSS_SLACK_KIB" "$SOAK_RSS_MAX_KIB" "$frames" "$sanitized" "$SOAK_RSS_SLOPE_KIB" <<'PYEOF' || fail=1
import json, os, re, sys
work, warm, slack, cap, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sanitized = sys.argv[6] == "1"
max_slope = float(sys.argv[7])
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
if not ov or lv != ov:
    print("FAIL: live and offline verdicts differ: offline only %s, live only %s"
          % (sorted(ov - lv), sorted(lv - ov))); bad += 1
# The verdict metrics at each scrape against the verdict events written
# before and after it: when no verdict came in between, they must match
# exactly; otherwise the counter lies between the two.
def expected(path):
    by_code, last = {}, {}
    for l in open(path):
        if not l.endswith("\n"):
            continue
        e = json.loads(l)
        if e["fedtrace"]["event_type"] != "federation.verdict":
            continue
        f = e["fedtrace"]["federation"]
        by_code[f["code"]] = by_code.get(f["code"], 0) + 1
        last[(f["from"], f["to"])] = f["status"]
    return by_code, sum(1 for s in last.values() if s == "failed")
for n in (1, 2):
    if not os.path.exists("%s/scrape.%d" % (work, n)):
        continue
    text = open("%s/scrape.%d" % (work, n)).read()
    got = {m.group(1): int(m.group(2)) for m in re.finditer(r'^fedtrace_verdicts_total\{stage="[^"]*",code="([^"]*)"\} (\d+)$', text, re.M)}
    m = re.search(r"^fedtrace_federation_directions_failing (\d+)$", text, re.M)
    failing = int(m.group(1)) if m else -1
    (b_codes, b_fail), (a_codes, a_fail) = expected("%s/before.%d" % (work, n)), expected("%s/after.%d" % (work, n))
    if b_codes == a_codes:
        ok = got == b_codes and failing == b_fail
    else:
        ok = all(b_codes.get(c, 0) <= got.get(c, 0) <= a_codes.get(c, 0) for c in set(got) | set(a_codes))
    print("soak: scrape %d: verdicts_total %s, directions failing %d (NDJSON before %s/%d, after %s/%d)"
          % (n, got, failing, b_codes, b_fail, a_codes, a_fail))
    if not ok or not got:
        print("FAIL: scrape %d: the verdict metrics do not follow the verdict events" % n); bad += 1
rss = [tuple(map(int, l.split())) for l in open(work + "/rss") if len(l.split()) == 2]
after = [(t, r) for t, r in rss if t >= warm]
peak = max(r for _, r in rss) if rss else 0
print("soak: %d frames, %d verdicts, warm-up %d s; RSS KiB every 2 s: %s" % (frames, len(lv), warm, " ".join(str(r) for _, r in rss)))
if peak > cap and not sanitized:
    print("FAIL: RSS peak %d KiB above %d" % (peak, cap)); bad += 1
half = after[len(after) // 2:]
if len(half) >= 6:
    n = len(half)
    mt = sum(t for t, _ in half) / n
    mr = sum(r for _, r in half) / n
    slope = sum((t - mt) * (r - mr) for t, r in half) / sum((t - mt) ** 2 for t, _ in half) * 60
    base, last = after[0][1], after[-1][1]
    print("soak: RSS %d KiB after warm-up, %d KiB at the end, peak %d KiB; second half slope %.1f KiB/min"
          % (base, last, peak, slope))
    if not sanitized and (last > base + slack or slope > max_slope):
        print("FAIL: RSS grew after the warm-up (bound %d KiB, slope bound %.0f KiB/min)" % (slack, max_slope)); bad += 1
else:
    print("soak: %d s is too short to judge RSS flatness (warm-up %d s): peak asserted only" % (rss[-1][0] if rss else 0, warm))
sys.exit(1 if bad else 0)
PYEOF
[ "$fail" -eq 0 ] && echo "soak: ok (${SOAK_SECONDS} s at ${SOAK_PPS} packets/s)"
exit $fail
