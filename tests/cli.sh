#!/bin/sh
# cli.sh - the fedtrace command line as a user meets it: options, exit
# status, error messages, the three output formats, several inputs merged,
# stdin, damaged files.  Uses crafted captures from tools/gen-pcap.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
work="$BUILDDIR/tests/out/cli"
rm -rf "$work"
mkdir -p "$work/gen"
"$PY" "$SRCDIR/tools/gen-pcap" "$work/gen" >/dev/null || { echo "gen-pcap failed"; exit 1; }
G="$work/gen"

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_status() {  # expected-status description command...
    want=$1; what=$2; shift 2
    "$@" >"$work/stdout" 2>"$work/stderr"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, expected $want"; cat "$work/stderr"; fi
}
# jq-like checks without jq: a python expression over the document `d`.
json_true() {  # description file expression
    if "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2"; then ok
    else bad "$1: ($3) is false"; fi
}

expect_status 0 "--help" "$FEDTRACE" --help
grep -q "^Usage: fedtrace" "$work/stdout" && ok || bad "--help prints usage on stdout"
expect_status 0 "--version" "$FEDTRACE" --version
grep -q "^fedtrace [0-9]" "$work/stdout" && ok || bad "--version prints the version"

expect_status 2 "no input" "$FEDTRACE"
grep -q "^fedtrace: no input" "$work/stderr" && ok || bad "no input message"
expect_status 2 "missing file" "$FEDTRACE" --format json -r "$work/nonexistent.pcap"
[ "$(cat "$work/stderr")" = "fedtrace: cannot open '$work/nonexistent.pcap': No such file or directory" ] && ok ||
    bad "missing file message: $(cat "$work/stderr")"
printf 'this is not a capture file at all\n' >"$work/garbage.pcap"
expect_status 2 "not a capture" "$FEDTRACE" --format json -r "$work/garbage.pcap"
grep -q "^fedtrace: cannot read '$work/garbage.pcap'" "$work/stderr" && ok || bad "garbage file message"
[ "$(wc -l <"$work/stderr")" -eq 1 ] && ok || bad "error is one line"
expect_status 2 "bad format" "$FEDTRACE" --format xml -r "$G/eth-tcp-basic.pcap"
expect_status 2 "bad port list" "$FEDTRACE" --format json --xmpp-ports 5269,x -r "$G/eth-tcp-basic.pcap"
expect_status 2 "bad filter" "$FEDTRACE" --format json -r "$G/eth-tcp-basic.pcap" -f "tcp port"
grep -q "bad filter" "$work/stderr" && ok || bad "bad filter message"
expect_status 2 "unknown option" "$FEDTRACE" --format json --no-such-option -r "$G/eth-tcp-basic.pcap"

# JSON document (the default when stdout is not a terminal).
expect_status 0 "json" "$FEDTRACE" --format json -r "$G/eth-tcp-basic.pcap"
cp "$work/stdout" "$work/basic.json"
json_true "schema" "$work/basic.json" "d['schema']['name'] == 'fedtrace' and d['schema']['version']"
json_true "frames" "$work/basic.json" "d['capture']['frames'] == 13 and d['capture']['sources'][0]['linktype'] == 'EN10MB'"
json_true "one connection" "$work/basic.json" "len(d['connections']) == 1"
json_true "connection facts" "$work/basic.json" \
    "c['conn_state'] == 'SF' and c['history'] == 'ShADadFf' and c['app'] == 'xmpp' and c['resp']['port'] == 5269 for c in [d['connections'][0]]"
json_true "handshake frames" "$work/basic.json" \
    "h['syn']['frame'] == 1 and h['synack']['frame'] == 2 and h['ack']['frame'] == 3 and h['syn_count'] == 1 for h in [d['connections'][0]['handshake']]"
json_true "tcp options" "$work/basic.json" \
    "o['mss'] == 1460 and o['window_scale'] == 7 and o['sack_permitted'] and o['timestamps'] for o in [d['connections'][0]['directions']['orig']]"
json_true "byte counts" "$work/basic.json" \
    "x['orig']['delivered_bytes'] == 293 and x['resp']['delivered_bytes'] == 375 for x in [d['connections'][0]['directions']]"
json_true "stats" "$work/basic.json" "d['stats']['decode']['tcp'] == 13 and d['stats']['reassembly']['gaps'] == 0"

# NDJSON: one JSON object per line, connection events then capture.stats.
expect_status 0 "ndjson" "$FEDTRACE" --format ndjson -r "$G/vlan-qinq.pcap"
if "$PY" - "$work/stdout" <<'PYEOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
types = [e["fedtrace"]["event_type"] for e in evs]
assert [t for t in types if not t.startswith("xmpp.")] == ["connection", "connection", "federation.verdict", "capture.stats"], types
v = [e for e in evs if e["fedtrace"]["event_type"] == "federation.verdict"][0]
assert v["fedtrace"]["federation_id"].startswith("F") and v["event"]["outcome"] == "success", v
assert v["fedtrace"]["federation"]["code"] == "OK" and v["fedtrace"]["federation"]["from"] == "a.example.test", v
assert types.count("xmpp.stream_open") == 4 and types.count("xmpp.db_result") == 4, types
assert types[-1] == "capture.stats"
for e in evs:
    assert e["@timestamp"].endswith("Z"), e
for e in [e for e in evs if e["fedtrace"]["event_type"] == "connection"]:
    assert e["@timestamp"].endswith("Z") and e["fedtrace"]["frame"] >= 1
    assert e["destination"]["port"] == 5269 and e["network"]["transport"] == "tcp"
PYEOF
then ok; else bad "ndjson events"; fi

# DNS lookups and XMPP events in the document.
expect_status 0 "dns lookups" "$FEDTRACE" --format json -r "$G/ipv4-frag-dns.pcap"
cp "$work/stdout" "$work/dns.json"
json_true "dns lookup" "$work/dns.json" \
    "l['qname'] == '_xmpp-server._tcp.example.test' and l['qtype'] == 'SRV' and l['outcome'] == 'answered' and l['queries'][0]['frame'] == 1 and l['response']['frame'] == 4 for l in [d['dns'][0]]"
json_true "srv answers" "$work/dns.json" \
    "a['port'] == 5269 and a['target'].endswith('.example.test') for a in [d['dns'][0]['answers'][0]]"
json_true "xmpp events" "$work/basic.json" \
    "[e['type'] for e in d['connections'][0]['xmpp']][:5] == ['stream_open', 'stream_open', 'features', 'db_result', 'db_result']"
json_true "dialback valid" "$work/basic.json" \
    "d['connections'][0]['xmpp'][4]['db_type'] == 'valid' and d['connections'][0]['xmpp'][4]['dir'] == 'resp'"

# Text report.
expect_status 0 "text" "$FEDTRACE" --format text -v -r "$G/tcp-syn-unanswered.pcap"
grep -q "S0" "$work/stdout" && grep -q "connections: 1" "$work/stdout" && ok || bad "text report"
grep -q "FAILED at connect, TCP-NO-SYNACK" "$work/stdout" && ok || bad "text ladder names the failure"
grep -q "^      >> +[0-9]*\.[0-9]\{6\} connect" "$work/stdout" && ok || bad "text ladder marks the failing step"
grep -q "^      .. +0\.000000 " "$work/stdout" && ok || bad "text timeline times start at +0.000000"
grep -q "what to do (fedtrace explain TCP-NO-SYNACK)" "$work/stdout" && ok || bad "text ladder gives advice"
# Text is the default, to a pipe or a file as on a terminal; JSON is asked for.
"$FEDTRACE" -r "$G/tcp-syn-unanswered.pcap" | cat >"$work/default-pipe.txt"
"$FEDTRACE" -r "$G/tcp-syn-unanswered.pcap" -o "$work/default-file.txt"
for f in "$work/default-pipe.txt" "$work/default-file.txt"; do
    head -n 1 "$f" | grep -q "^fedtrace [0-9.]*: [0-9]* frames from 1 source" &&
        grep -q "FAILED at connect, TCP-NO-SYNACK" "$f" && ok || bad "no --format: text report in $(basename "$f")"
done
expect_status 0 "--absolute-time" "$FEDTRACE" --format text --absolute-time -r "$G/tcp-syn-unanswered.pcap"
grep -q "^      >> 20[0-9-]*T[0-9:.]*Z connect" "$work/stdout" && ok || bad "--absolute-time shows UTC times"
expect_status 0 "--summary" "$FEDTRACE" --summary -n -r "$G/tcp-syn-unanswered.pcap"
[ "$(wc -l <"$work/stdout")" -eq "$(grep -c '^FAILED TCP-NO-SYNACK .* -> .*: ' "$work/stdout")" ] &&
    [ -s "$work/stdout" ] && ok || bad "--summary: one line per direction"
expect_status 2 "--summary with json" "$FEDTRACE" --summary --format json -r "$G/tcp-syn-unanswered.pcap"
# -D lists interfaces (or says in one line why it cannot).
"$FEDTRACE" -D >"$work/stdout" 2>"$work/stderr"; rc=$?
{ [ $rc -eq 0 ] && grep -q '^1\.' "$work/stdout"; } || { [ $rc -eq 2 ] && [ "$(wc -l <"$work/stderr")" -eq 1 ]; } &&
    ok || bad "-D exit $rc"

# Verdicts: --fail-on-broken, -d, explain.
expect_status 1 "--fail-on-broken with a failure" "$FEDTRACE" --format json --fail-on-broken -r "$G/tcp-rst.pcap"
expect_status 0 "--fail-on-broken without one" "$FEDTRACE" --format json --fail-on-broken -r "$G/eth-tcp-basic.pcap"
expect_status 0 "-d" "$FEDTRACE" --format json -d b.example.test -r "$G/eth-tcp-basic.pcap"
cp "$work/stdout" "$work/d.json"
json_true "-d sets the local side" "$work/d.json" \
    "f['local'] == 'b.example.test' and f['roles_inferred'] == False for f in [d['federations'][0]]"
json_true "federation verdict" "$work/d.json" \
    "f['verdict']['status'] == 'ok' and f['directions'][0]['verdict']['code'] == 'OK' and f['directions'][0]['stages']['dialback']['status'] == 'ok' for f in [d['federations'][0]]"
expect_status 0 "explain" "$FEDTRACE" explain db-no-backconn
grep -q "^DB-NO-BACKCONN (stage: dialback)" "$work/stdout" && grep -q "What to do:" "$work/stdout" && ok ||
    bad "explain prints the long form"
expect_status 0 "explain lists" "$FEDTRACE" explain
[ "$(wc -l <"$work/stdout")" -gt 50 ] && ok || bad "explain lists the codes"
expect_status 2 "explain unknown" "$FEDTRACE" explain NO-SUCH-CODE

# Output file.
expect_status 0 "-o" "$FEDTRACE" --format json -r "$G/eth-tcp-basic.pcap" -o "$work/out.json"
[ -s "$work/out.json" ] && [ ! -s "$work/stdout" ] && ok || bad "-o writes the file, not stdout"
expect_status 2 "-o unwritable" "$FEDTRACE" --format json -r "$G/eth-tcp-basic.pcap" -o "$work/no/such/dir/x.json"

# stdin.
"$FEDTRACE" --format json -r - <"$G/eth-tcp-basic.pcap" >"$work/stdin.json" 2>"$work/stderr" && ok || bad "-r - exit"
json_true "stdin" "$work/stdin.json" "d['capture']['frames'] == 13 and d['capture']['sources'][0]['name'] == '-'"

# A pipe cannot be rewound after the file type was sniffed: pcap and pcapng.
cat "$G/eth-tcp-basic.pcap" | "$FEDTRACE" --format json -r - >"$work/pipe.json" 2>"$work/stderr" && ok || bad "-r - from a pipe (pcap)"
json_true "pipe pcap" "$work/pipe.json" "d['capture']['frames'] == 13 and len(d['connections']) == 1"
cat "$G/basic.pcapng" | "$FEDTRACE" --format json -r - >"$work/pipe-ng.json" 2>"$work/stderr" && ok || bad "-r - from a pipe (pcapng)"
json_true "pipe pcapng" "$work/pipe-ng.json" "d['capture']['frames'] == 13 and len(d['connections']) == 1"

# Several files merged by time; observers kept.
expect_status 0 "merge" "$FEDTRACE" --format json -r "$G/tcp-syn-unanswered.pcap@outside" -r "$G/eth-tcp-basic.pcap@inside"
cp "$work/stdout" "$work/merge.json"
json_true "merge frames" "$work/merge.json" "d['capture']['frames'] == 17"
json_true "merge observers" "$work/merge.json" \
    "[s['observer'] for s in d['capture']['sources']] == ['outside', 'inside']"
json_true "merge order" "$work/merge.json" \
    "[c['source'] for c in d['connections']] == [0, 1] or [c['source'] for c in d['connections']] == [1, 0]"
json_true "frame numbers per source" "$work/merge.json" \
    "all(c['handshake']['syn']['source_frame'] == 1 for c in d['connections'])"

# BPF filter as trailing arguments, -c.
expect_status 0 "trailing filter" "$FEDTRACE" --format json -r "$G/eth-tcp-basic.pcap" tcp port 9999
cp "$work/stdout" "$work/f.json"
json_true "filter applied" "$work/f.json" "d['capture']['frames'] == 0 and d['connections'] == []"
expect_status 0 "-c" "$FEDTRACE" --format json -r "$G/eth-tcp-basic.pcap" -c 5
cp "$work/stdout" "$work/c.json"
json_true "-c 5" "$work/c.json" "d['capture']['frames'] == 5"
# -c counts the packets that pass the filter, as tcpdump -c does: the
# same packets as tcpdump's (last one's time), not the first N of the file.
S=$SRCDIR/samples/federation-ok-inside.pcap
expect_status 0 "-c with a trailing filter" "$FEDTRACE" --format json -r "$S" -c 3 tcp port 5269
cp "$work/stdout" "$work/cf.json"
want=$(tcpdump -nn -tt -r "$S" -c 3 tcp port 5269 2>/dev/null | tail -n 1 | cut -d' ' -f1)
json_true "-c 3 tcp port 5269: the packets tcpdump shows" "$work/cf.json" \
    "d['capture']['frames'] == 3 and d['capture']['sources'][0]['records'] > 3 and '$want' != '' and abs(__import__('datetime').datetime.fromisoformat(d['capture']['last_ts'].replace('Z', '+00:00')).timestamp() - float('$want' or 0)) < 2e-6 and all(c['resp']['port'] == 5269 or c['orig']['port'] == 5269 for c in d['connections'])"
json_true "-c with a filter keeps the file's frame numbers" "$work/cf.json" \
    "d['connections'][0]['handshake']['syn']['source_frame'] == 7"

# -V: each SYN retransmission a line, with the frame Wireshark shows
# (tshark -Y 'tcp.srcport==51614 && tcp.flags.syn==1' gives 18 20 21 22 23
# 26 27 28 29; the first eight SYNs are kept); nothing elided.
FW="-r $SRCDIR/samples/federation-fw-drop-inside.pcap@inside -r $SRCDIR/samples/federation-fw-drop-outside.pcap@outside"
# shellcheck disable=SC2086
expect_status 0 "-V" "$FEDTRACE" --format text -V $FW
got=$(grep "51614 -> 198.51.100.2:5269 retransmitted" "$work/stdout" | sed -n 's/.*outside#\([0-9]*\) C3 .*/\1/p' | sort -un | tr '\n' ' ')
[ "$got" = "20 21 22 23 26 27 28 " ] && ok || bad "-V lists the SYN retransmissions: got '$got'"
# shellcheck disable=SC2086
expect_status 0 "no -V" "$FEDTRACE" --format text $FW
grep -q "retransmitted" "$work/stdout" && bad "retransmissions listed without -V" || ok
NC=$SRCDIR/samples/federation-tls-required-nocert-inside.pcap
expect_status 0 "retired, elided" "$FEDTRACE" --format text --idle-timeout 1 --timeline-keep 2 -r "$NC"
grep -q "timeline lines elided" "$work/stdout" && ok || bad "--timeline-keep 2 elides lines"
expect_status 0 "retired, -V" "$FEDTRACE" --format text -V --idle-timeout 1 --timeline-keep 2 -r "$NC"
grep -q "elided" "$work/stdout" && bad "-V still elides" || ok

# A truncated file: warned about, analysed up to the damage, exit 3.
expect_status 3 "truncated file" "$FEDTRACE" --format json -r "$G/truncated-file.pcap"
cp "$work/stdout" "$work/trunc.json"
grep -q "^fedtrace: warning: .*damaged after frame 9" "$work/stderr" && ok || bad "truncation warning"
json_true "truncated analysed" "$work/trunc.json" \
    "d['capture']['frames'] == 9 and 'truncated' in d['capture']['sources'][0]['error'] and len(d['connections']) == 1"

# Exit status precedence: a failed federation (--fail-on-broken) outranks
# damage; damage outranks success; -q silences the warning, not the status.
cp "$G/tcp-rst.pcap" "$work/rst-damaged.pcap"
printf '\001\002\003\004\005\006' >>"$work/rst-damaged.pcap"
expect_status 3 "damaged, federation failed" "$FEDTRACE" --format json -r "$work/rst-damaged.pcap"
expect_status 1 "damaged, --fail-on-broken" "$FEDTRACE" --format json --fail-on-broken -r "$work/rst-damaged.pcap"
expect_status 3 "damaged, -q" "$FEDTRACE" --format json -q -r "$G/truncated-file.pcap"
[ ! -s "$work/stderr" ] && ok || bad "-q keeps the damage warning off stderr"
expect_status 3 "damaged among good inputs" "$FEDTRACE" --format json -r "$G/eth-tcp-basic.pcap" -r "$G/truncated-file.pcap"

# Bad checksums are counted, not dropped; -C turns verification off.
expect_status 0 "bad checksums" "$FEDTRACE" --format json -r "$G/bad-csum.pcap"
cp "$work/stdout" "$work/csum.json"
json_true "csum counted" "$work/csum.json" \
    "d['stats']['decode']['tcp_csum_bad'] == 6 and d['connections'][0]['directions']['resp']['delivered_bytes'] == 375"
expect_status 0 "-C" "$FEDTRACE" --format json -C -r "$G/bad-csum.pcap"
cp "$work/stdout" "$work/nocsum.json"
json_true "-C" "$work/nocsum.json" "d['stats']['decode']['tcp_csum_bad'] == 0"

# Two capture points whose clocks differ by 7.3 s: the text report says
# by how much and on how many connections the estimate rests.
expect_status 0 "clock offset" "$FEDTRACE" --format text -r "$SRCDIR/samples/federation-nat-wrong-port-skew-outside.pcap@outside" \
    -r "$SRCDIR/samples/federation-nat-wrong-port-skew-inside.pcap@inside"
if grep -q 'clock -7.300 s against \[0\], from 2 connections both saw' "$work/stdout"; then ok; else bad "clock offset line"; fi

# The bundled samples all decode.
for s in "$SRCDIR"/samples/*.pcap "$SRCDIR"/samples/*.pcapng; do
    [ -f "$s" ] || continue
    expect_status 0 "sample $(basename "$s")" "$FEDTRACE" --format json -r "$s"
done

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
