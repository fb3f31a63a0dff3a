#!/bin/sh
# bench_gen.sh - the benchmark's busy-capture generator (tools/bench/gen-busy)
# and scorer (tools/bench/score): same seed, same bytes; the capture decodes
# without a malformed packet; fedtrace's verdicts score against the truth
# file; and the scorer fails a run that gets them wrong.  Not a timing test.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
GEN="$BUILDDIR/tools/bench/gen-busy"
SCORE="$SRCDIR/tools/bench/score"
work="$BUILDDIR/tests/out/bench_gen"
rm -rf "$work"
mkdir -p "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# 1. Deterministic: the same seed gives the same capture and truth; another
#    seed gives another capture.
"$GEN" -q -s 3M -S 7 -o "$work/a.pcap" || bad "gen-busy -s 3M exit $?"
"$GEN" -q -s 3M -S 7 -o "$work/b.pcap" || bad "gen-busy second run exit $?"
"$GEN" -q -s 3M -S 8 -o "$work/c.pcap" || bad "gen-busy -S 8 exit $?"
grep -v '^# args' "$work/a.pcap.truth.tsv" >"$work/a.truth"
grep -v '^# args' "$work/b.pcap.truth.tsv" >"$work/b.truth"
if cmp -s "$work/a.pcap" "$work/b.pcap" && cmp -s "$work/a.truth" "$work/b.truth"; then ok; else
    bad "same seed, different output"; fi
if cmp -s "$work/a.pcap" "$work/c.pcap"; then bad "different seeds, same capture"; else ok; fi
# The same bytes whatever the compiler or optimisation (gcc and clang once
# evaluated draws in argument lists in different orders).  A deliberate
# change to gen-busy's output updates this checksum.
want=bd2d7f1724e72b6b68a45151be70010cb7b0b37fd3c9dfb408109b8513c95c4f
got=$(sha256sum <"$work/a.pcap" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then ok; else bad "gen-busy -s 3M -S 7 is $got, want $want"; fi
size=$(wc -c <"$work/a.pcap")
if [ "$size" -gt 2900000 ] && [ "$size" -le 3000000 ]; then ok; else bad "-s 3M wrote $size bytes"; fi
"$GEN" -q -f 40 -S 3 -o "$work/f.pcap" || bad "gen-busy -f 40 exit $?"
nf=$(grep -v '^#' "$work/f.pcap.truth.tsv" | cut -f1,2 | sort | awk -F'\t' '{k=($1<$2)?$1"|"$2:$2"|"$1; print k}' | sort -u | wc -l)
if [ "$nf" -ge 39 ] && [ "$nf" -le 41 ]; then ok; else bad "-f 40 made $nf federations (header line included)"; fi
if "$GEN" -q -s 0 -o "$work/x.pcap" 2>/dev/null; then bad "-s 0 accepted"; else ok; fi

# 2. Every packet decodes: no invalid IP or L4 header, no truncation, no
#    bogus sequence number, retransmissions that agree with the original.
cap="$work/a.pcap"
if "$FEDTRACE" -q -r "$cap" --format json -o "$work/a.json"; then ok; else bad "fedtrace exit $?"; fi
"$PY" - "$work/a.json" <<'PYEOF' || bad "decode counters (above)"
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
d, r = s["decode"], s["reassembly"]
want_zero = {k: d[k] for k in ("invalid_ip", "invalid_l4", "truncated_link", "truncated_ip", "truncated_l4",
                                "not_ip", "ipv4_csum_bad", "udp_csum_bad")}
want_zero.update({"bogus_seq": r["bogus_seq"], "overlap_conflicts": r["overlap_conflicts"]})
bad = {k: v for k, v in want_zero.items() if v}
need = {"ipv6": d["ipv6"], "vlan_tagged": d["vlan_tagged"], "tcp_csum_bad (zero sums)": d["tcp_csum_bad"],
        "retransmitted_segments": r["retransmitted_segments"], "out_of_order_segments": r["out_of_order_segments"]}
missing = {k: v for k, v in need.items() if not v}
if bad or missing:
    print("nonzero:", bad, "absent:", missing)
    sys.exit(1)
PYEOF
if command -v tshark >/dev/null 2>&1; then
    # Checksums: every IP and UDP checksum right; TCP ones right or zero.
    n=$(tshark -r "$cap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -Y 'ip.checksum.status==0 || udp.checksum.status==0 || (tcp.checksum.status==0 && tcp.checksum!=0) || dns.flags.response==1 && _ws.malformed' \
        2>/dev/null | wc -l)
    if [ "$n" = 0 ]; then ok; else bad "tshark: $n packets with a bad checksum or a malformed DNS answer"; fi
fi

# 3. The truth has every kind of outcome and the score is computed.
t="$work/a.pcap.truth.tsv"
for k in ok failed; do
    if cut -f5 "$t" | grep -qx "$k"; then ok; else bad "truth has no '$k' direction"; fi
done
if "$SCORE" --show 0 --min 50 --metric status --json "$work/score.json" "$t" "$work/a.json" >"$work/score.txt"; then ok; else
    bad "score below 50% by status:"; cat "$work/score.txt"; fi
# Negative control: every verdict turned to ok must score below the bar.
"$PY" - "$work/a.json" "$work/allok.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["federations"]:
    for x in f["directions"]:
        x["verdict"]["status"], x["verdict"]["stage"], x["verdict"]["code"] = "ok", "dialback", "OK"
json.dump(d, open(sys.argv[2], "w"))
PYEOF
"$SCORE" --show 0 --min 99 "$t" "$work/allok.json" >/dev/null 2>&1
rc=$?
if [ "$rc" = 1 ]; then ok; else bad "score accepted a run that calls every direction ok (exit $rc)"; fi
# Episodes: a direction listed twice is scored by the last entry's status
# and, when ok, by the furthest stage an ok entry reached.
printf '# t\nfrom\tto\tfrom_addr\tto_addr\toutcome\tstage\tcode\tobservable\n' >"$work/ep.tsv"
printf 'a.test\tb.test\t192.0.2.1\t192.0.2.2\tok\tsubscribe\tOK\tyes\n' >>"$work/ep.tsv"
printf 'c.test\td.test\t192.0.2.3\t192.0.2.4\tfailed\tconnect\tTCP-RST\tyes\n' >>"$work/ep.tsv"
"$PY" - "$work/ep.json" <<'PYEOF'
import json, sys
def fed(a, b, status, stage, code):
    return {"domains": [a, b], "directions": [{"from": a, "to": b,
            "verdict": {"status": status, "stage": stage, "code": code}}]}
json.dump({"federations": [fed("a.test", "b.test", "ok", "subscribe", "OK"),
                           fed("c.test", "d.test", "ok", "subscribe", "OK"),
                           fed("a.test", "b.test", "ok", "dialback", "OK"),
                           fed("c.test", "d.test", "failed", "connect", "TCP-RST")]}, open(sys.argv[1], "w"))
PYEOF
if "$SCORE" --show 0 --min 100 "$work/ep.tsv" "$work/ep.json" >"$work/ep.txt" 2>&1; then ok; else
    bad "episodes not combined:"; cat "$work/ep.txt"; fi
"$SCORE" "$t" /nonexistent >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then ok; else bad "score on a missing file: exit $rc, want 2"; fi

echo "bench_gen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
