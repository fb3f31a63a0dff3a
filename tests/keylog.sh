#!/bin/sh
# keylog.sh - fedtrace with TLS key logs, end to end, on the encrypted lab
# samples (samples/NAME.keys with NAME-outside.pcap, and NAME-dsb.pcapng
# carrying the same key log in a Decryption Secrets Block):
#   - without keys, every direction's status (inferred) equals the status
#     the decrypted run gives, on the outside and the inside capture;
#   - with the key log every direction is judged on the decrypted stream
#     (verdict.decrypted) and the verdicts equal those of the same scenario
#     in cleartext where the lab has one;
#   - the elements inside TLS (SASL, the restarted stream, the subscription)
#     are in the timeline;
#   - no secret of the key log appears in any output format or on stderr;
#   - a wrong key (every secret changed) fails to authenticate: counted, and
#     the verdicts are those of the run without keys; a key log without the
#     connection's secrets: counted as no_key, same verdicts;
#   - a key log readable by others is warned about in one stderr line that
#     names the file, not at mode 0600, not with -q;
#   - a key log that cannot be read is a usage error (status 2, one line);
#   - dialback inside TLS (tls-dialback, tls-dialback-invalid): with the key
#     log the db:result/db:verify, the stream error and the subscription
#     are timeline lines marked decrypted, and the verdicts equal the
#     cleartext ok / dialback-invalid scenarios'; without it, what the
#     records give (OK inferred; UNKNOWN CAP-ENCRYPTED for the invalid key);
#   - a growing key log: the capture arrives through a pipe and the key
#     lines are written only after the handshakes and the first encrypted
#     records were read (tests/keylog_slow_writer.py): the records are held
#     and decrypted once the lines are there (the verdicts of the full key
#     log, keys_late counted); the periodic stats event and the Prometheus
#     metrics carry the decryption counters.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
S="$SRCDIR/samples"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

# "from to status code decrypted" per direction, sorted
verdicts() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["federations"]:
    for x in f["directions"]:
        v = x["verdict"]
        print(x["from"], x["to"], v["status"], v["code"], v.get("decrypted", False))
' "$1" | sort
}
# "from to status" per direction, sorted (the status only: a keyless
# verdict is inferred at the last stage the capture shows)
statuses() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["federations"]:
    for x in f["directions"]:
        print(x["from"], x["to"], x["verdict"]["status"])
' "$1" | sort
}
# a counter of stats.dissectors.tls_decryption (0 when the block is absent)
dstat() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["stats"]["dissectors"].get("tls_decryption", {}).get(sys.argv[2], 0))
' "$1" "$2"
}
secrets() { awk '!/^#/ && NF == 3 { print $3 }' "$1"; }
leaks() { # keys file, output files...: prints the number of secrets found
    k=$1
    shift
    n=0
    for s in $(secrets "$k"); do
        for f in "$@"; do
            grep -qi "$s" "$f" && n=$((n + 1))
        done
    done
    echo "$n"
}

for keys in "$S"/*.keys; do
    name=$(basename "$keys" .keys)
    pcap="$S/$name-outside.pcap"
    [ -f "$pcap" ] || continue
    o="$tmp/$name"
    mkdir -p "$o"
    cp "$keys" "$o/keys"
    chmod 600 "$o/keys"

    "$FEDTRACE" --tls-keylog "$o/keys" -r "$pcap" --format json -o "$o/keyed.json" 2>"$o/err1"
    check "$name: keyed run" "[ \$? -eq 0 ]"
    "$FEDTRACE" -v --tls-keylog "$o/keys" -r "$pcap" --format ndjson -o "$o/keyed.ndjson" 2>"$o/err2"
    "$FEDTRACE" -v --tls-keylog "$o/keys" -r "$pcap" --format text -o "$o/keyed.txt" 2>"$o/err3"
    "$FEDTRACE" -q -r "$pcap" --format json -o "$o/plain.json"
    verdicts "$o/keyed.json" >"$o/keyed.v"
    verdicts "$o/plain.json" >"$o/plain.v"
    check "$name: every direction decrypted" "[ -s '$o/keyed.v' ] && ! grep -q ' False\$' '$o/keyed.v'"
    check "$name: without keys nothing is decrypted" "! grep -q ' True\$' '$o/plain.v'"
    check "$name: records decrypted, none failed" \
        "[ \$(dstat '$o/keyed.json' records) -gt 0 ] && [ \$(dstat '$o/keyed.json' auth_failures) -eq 0 ] && [ \$(dstat '$o/keyed.json' no_key) -eq 0 ]"
    check "$name: decrypted events in NDJSON" "grep -q '\"decrypted\":true' '$o/keyed.ndjson'"
    "$FEDTRACE" -q -v -r "$pcap" --format text -o "$o/plain.txt"
    check "$name: the stream inside TLS in the timeline" \
        "[ \$(grep -c 'stream header from=' '$o/keyed.txt') -gt \$(grep -c 'stream header from=' '$o/plain.txt') ]"
    check "$name: no secret in any output" \
        "[ \$(leaks '$o/keys' '$o/keyed.json' '$o/keyed.ndjson' '$o/keyed.txt' '$o/err1' '$o/err2' '$o/err3') -eq 0 ]"
    check "$name: no warning at mode 0600" "[ ! -s '$o/err1' ]"

    # without keys the verdicts are inferred from record sizes, timing and
    # the client leg; they must agree with the decrypted truth (status of
    # every direction, outside and inside)
    for side in outside inside; do
        cap="$S/$name-$side.pcap"
        [ -f "$cap" ] || continue
        "$FEDTRACE" -q --tls-keylog "$o/keys" -r "$cap" --format json -o "$o/truth-$side.json"
        "$FEDTRACE" -q -r "$cap" --format json -o "$o/keyless-$side.json"
        statuses "$o/truth-$side.json" >"$o/truth-$side.s"
        statuses "$o/keyless-$side.json" >"$o/keyless-$side.s"
        check "$name-$side: keyless verdicts agree with the decrypted ones ($(tr '\n' ' ' <"$o/keyless-$side.s"))" \
            "[ -s '$o/truth-$side.s' ] && cmp -s '$o/truth-$side.s' '$o/keyless-$side.s' && ! grep -q ' unknown\$' '$o/truth-$side.s'"
    done

    # the same key log embedded in the capture
    if [ -f "$S/$name-dsb.pcapng" ]; then
        "$FEDTRACE" --format json -q -r "$S/$name-dsb.pcapng" -o "$o/dsb.json"
        "$FEDTRACE" -q -v -r "$S/$name-dsb.pcapng" --format ndjson -o "$o/dsb.ndjson"
        "$FEDTRACE" -q -v -r "$S/$name-dsb.pcapng" --format text -o "$o/dsb.txt"
        verdicts "$o/dsb.json" >"$o/dsb.v"
        check "$name: DSB gives the key-log verdicts" "cmp -s '$o/dsb.v' '$o/keyed.v'"
        check "$name: DSB counted" "[ \$(dstat '$o/dsb.json' secrets_blocks) -ge 1 ] && [ \$(dstat '$o/dsb.json' keylog_files) -eq 0 ]"
        check "$name: no secret of the DSB in any output" \
            "[ \$(leaks '$o/keys' '$o/dsb.json' '$o/dsb.ndjson' '$o/dsb.txt') -eq 0 ]"
    fi

    # a wrong key: the last digit of every secret changed
    awk '!/^#/ && NF == 3 { l = substr($3, length($3), 1); r = (l == "0") ? "1" : "0";
         $3 = substr($3, 1, length($3) - 1) r } { print }' "$o/keys" >"$o/wrong"
    chmod 600 "$o/wrong"
    "$FEDTRACE" --format json -q --tls-keylog "$o/wrong" -r "$pcap" -o "$o/wrong.json"
    "$FEDTRACE" -q --tls-keylog "$o/wrong" -r "$pcap" --format ndjson -o "$o/wrong.ndjson"
    verdicts "$o/wrong.json" >"$o/wrong.v"
    check "$name: wrong key falls back to the verdicts without keys" "cmp -s '$o/wrong.v' '$o/plain.v'"
    check "$name: wrong key counted" "[ \$(dstat '$o/wrong.json' auth_failures) -ge 1 ]"
    check "$name: wrong key stops decryption" "grep -q 'xmpp.decrypt_stopped' '$o/wrong.ndjson'"
    check "$name: nothing decrypted with a wrong key" "! grep -q '\"decrypted\":true' '$o/wrong.ndjson'"

    # a key log that lacks this capture's connections
    printf '# nothing for these connections\nCLIENT_RANDOM %064d %096d\n' 1 2 >"$o/other"
    chmod 600 "$o/other"
    "$FEDTRACE" --format json -q --tls-keylog "$o/other" -r "$pcap" -o "$o/other.json"
    verdicts "$o/other.json" >"$o/other.v"
    check "$name: missing key falls back" "cmp -s '$o/other.v' '$o/plain.v'"
    check "$name: missing key counted" "[ \$(dstat '$o/other.json' no_key) -ge 1 ]"
done

# decrypted verdicts equal the cleartext lab scenario's
for pair in "tls-ok ok" "ejabberd-tls-ok ejabberd-ok" "tls-dialback ok" "tls-dialback-invalid dialback-invalid"; do
    set -- $pair
    "$FEDTRACE" --format json -q -r "$S/federation-$2-outside.pcap" -o "$tmp/clear-$2.json"
    verdicts "$tmp/clear-$2.json" | awk '{ print $1, $2, $3, $4 }' >"$tmp/clear-$2.v"
    awk '{ print $1, $2, $3, $4 }' "$tmp/federation-$1/keyed.v" >"$tmp/keyed-$1.v"
    check "$1: decrypted verdicts equal cleartext $2" "cmp -s '$tmp/keyed-$1.v' '$tmp/clear-$2.v'"
done
check "tls-ok: the subscription inside TLS is in the timeline" \
    "grep -q \"presence type='subscribe'\" '$tmp/federation-tls-ok/keyed.txt'"
check "tls-ok: SASL EXTERNAL inside TLS is in the timeline" \
    "grep -q 'SASL auth EXTERNAL' '$tmp/federation-tls-ok/keyed.txt'"
check "tls-untrusted: the stream error inside TLS decides" \
    "grep -q 'STR-NOT-AUTHORIZED' '$tmp/federation-tls-untrusted/keyed.v'"

# dialback inside TLS: the timeline lines of the elements read from inside
# TLS say so (JSON "decrypted": true; text " [decrypted]")
tl() { # json, pattern: decrypted timeline lines matching the pattern
    "$PY" -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for f in d["federations"] for x in f["directions"] for t in x["timeline"]
          if t.get("decrypted") and re.search(sys.argv[2], t["what"])))
' "$1" "$2"
}
tlplain() { # json, pattern: lines matching the pattern NOT marked decrypted
    "$PY" -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for f in d["federations"] for x in f["directions"] for t in x["timeline"]
          if not t.get("decrypted") and re.search(sys.argv[2], t["what"])))
' "$1" "$2"
}
db="$tmp/federation-tls-dialback"
check "tls-dialback: db:result inside TLS in the timeline, decrypted" "[ \$(tl '$db/keyed.json' 'db:result .* valid') -ge 2 ]"
check "tls-dialback: db:verify inside TLS in the timeline, decrypted" "[ \$(tl '$db/keyed.json' 'db:verify .* valid') -ge 2 ]"
check "tls-dialback: the subscription inside TLS, decrypted" \
    "[ \$(tl '$db/keyed.json' \"presence type='subscribe'\") -ge 1 ] && [ \$(tl '$db/keyed.json' \"presence type='subscribed'\") -ge 1 ]"
check "tls-dialback: the cleartext part is not marked" "[ \$(tlplain '$db/keyed.json' 'starttls|proceed|ClientHello') -ge 2 ] && [ \$(tl '$db/keyed.json' 'starttls|proceed|ClientHello') -eq 0 ]"
check "tls-dialback: text marks the decrypted lines" "grep -q \"db:verify .* valid \\[decrypted\\]\" '$db/keyed.txt'"
check "tls-dialback: without keys nothing is marked" "[ \$(tl '$db/plain.json' '.') -eq 0 ]"
check "tls-dialback: without keys OK both ways, inferred" \
    "[ \$(grep -c ' ok OK False' '$db/plain.v') -eq 2 ] && grep -q '\"inferred\": true' '$db/plain.json'"
dbi="$tmp/federation-tls-dialback-invalid"
check "tls-dialback-invalid: db:verify type=invalid inside TLS, decrypted" "[ \$(tl '$dbi/keyed.json' 'db:verify .* invalid') -ge 1 ]"
check "tls-dialback-invalid: db:result type=invalid inside TLS, decrypted" "[ \$(tl '$dbi/keyed.json' 'db:result .* invalid') -ge 1 ]"
check "tls-dialback-invalid: the stream error inside TLS, decrypted" "[ \$(tl '$dbi/keyed.json' 'stream error <not-authorized/>') -ge 1 ]"
check "tls-dialback-invalid: without keys FAILED DB-INVALID, inferred from the record sizes" \
    "grep -q 'a.example.test b.example.test failed DB-INVALID False' '$dbi/plain.v'"

# a growing key log: the key lines are written after the handshakes and the
# first encrypted records were read from the pipe
g="$tmp/grow"
mkdir -p "$g"
install -m 600 /dev/null "$g/keys"
"$PY" "$SRCDIR/tests/keylog_slow_writer.py" "$S/federation-tls-ok-outside.pcap" 24 \
    "$S/federation-tls-ok.keys" "$g/keys" |
    "$FEDTRACE" -q --tls-keylog "$g/keys" -r - --format ndjson --stats-interval 1 \
        --metrics-file "$g/fedtrace.prom" -o "$g/grow.ndjson"
check "growing key log: run ok" "[ \$? -eq 0 ]"
"$PY" -c '
import json, sys
stats = []
for line in open(sys.argv[1]):
    ft = json.loads(line).get("fedtrace", {})
    if ft.get("event_type") == "capture.stats":
        stats.append((ft["final"], ft["stats"]["dissectors"].get("tls_decryption", {})))
final = [s for f, s in stats if f]
periodic = [s for f, s in stats if not f]
with open(sys.argv[2], "w") as out:
    f = final[-1] if final else {}
    out.write("final %d %d %d %d %d\n" % (f.get("records", 0), f.get("key_waits", 0), f.get("keys_late", 0),
                                         f.get("no_key", 0), f.get("connections_decrypted", 0)))
    out.write("periodic %d\n" % sum(1 for s in periodic if "connections_decrypted" in s and "records" in s))
' "$g/grow.ndjson" "$g/stats"
"$FEDTRACE" -q --tls-keylog "$S/federation-tls-ok.keys" -r "$S/federation-tls-ok-outside.pcap" --format json -o "$g/full.json" 2>/dev/null
verdicts "$g/full.json" >"$g/full.v"
check "growing key log: the records waited for their keys and were decrypted" \
    "grep -q '^final 35 1 1 0 2\$' '$g/stats'"
check "growing key log: the periodic stats event carries the decryption counters" "! grep -q '^periodic 0\$' '$g/stats'"
install -m 600 /dev/null "$g/keys3"
"$PY" "$SRCDIR/tests/keylog_slow_writer.py" "$S/federation-tls-ok-outside.pcap" 24 \
    "$S/federation-tls-ok.keys" "$g/keys3" |
    "$FEDTRACE" -q --tls-keylog "$g/keys3" -r - --format json -o "$g/grow.json"
verdicts "$g/grow.json" >"$g/grow.v"
check "growing key log: the verdicts of the whole key log, both decrypted" \
    "cmp -s '$g/grow.v' '$g/full.v' && [ \$(grep -c ' True\$' '$g/grow.v') -eq 2 ]"
check "growing key log: Prometheus has the decryption counters" \
    "grep -q '^fedtrace_tls_records_decrypted_total 35\$' '$g/fedtrace.prom' && grep -q '^fedtrace_tls_connections_decrypted_total 2\$' '$g/fedtrace.prom' && grep -q '^fedtrace_tls_keys_late_total 1\$' '$g/fedtrace.prom' && grep -q '^fedtrace_tls_decrypt_failures_total{reason=\"no_key\"} 0\$' '$g/fedtrace.prom' && grep -q '^fedtrace_tls_connections_fallen_back_total 0\$' '$g/fedtrace.prom'"
if command -v promtool >/dev/null 2>&1; then
    check "growing key log: promtool accepts the metrics" "promtool check metrics <'$g/fedtrace.prom' >/dev/null 2>&1"
fi
# the same counters when keys are missing: fallen back, no_key
"$FEDTRACE" -q --tls-keylog "$tmp/federation-tls-ok/other" -r "$S/federation-tls-ok-outside.pcap" \
    --format ndjson --metrics-file "$g/other.prom" -o "$g/other.ndjson"
check "missing key: Prometheus counts the fallback" \
    "grep -q '^fedtrace_tls_connections_fallen_back_total 2\$' '$g/other.prom' && grep -q '^fedtrace_tls_decrypt_failures_total{reason=\"no_key\"} 2\$' '$g/other.prom' && grep -q '^fedtrace_tls_records_decrypted_total 0\$' '$g/other.prom'"

# permissions
k="$tmp/open.keys"
cp "$S/federation-tls-ok.keys" "$k"
chmod 644 "$k"
"$FEDTRACE" --format json --tls-keylog "$k" -r "$S/federation-tls-ok-outside.pcap" -o "$tmp/open.json" 2>"$tmp/open.err"
check "readable key log: one warning line naming it" \
    "[ \$(wc -l <'$tmp/open.err') -eq 1 ] && grep -q 'warning: key log .*open.keys is readable by everyone' '$tmp/open.err'"
check "readable key log: the warning holds no secret" "[ \$(leaks '$k' '$tmp/open.err') -eq 0 ]"
chmod 640 "$k"
"$FEDTRACE" --format json --tls-keylog "$k" -r "$S/federation-tls-ok-outside.pcap" -o "$tmp/open.json" 2>"$tmp/group.err"
check "group-readable key log: warned" "grep -q 'readable by its group' '$tmp/group.err'"
"$FEDTRACE" --format json -q --tls-keylog "$k" -r "$S/federation-tls-ok-outside.pcap" -o "$tmp/open.json" 2>"$tmp/quiet.err"
check "-q: no warning" "[ ! -s '$tmp/quiet.err' ]"

# a key log that cannot be read: usage error, one line
"$FEDTRACE" --format json -q --tls-keylog "$tmp/does-not-exist" -r "$S/federation-tls-ok-outside.pcap" \
    -o "$tmp/x.json" 2>"$tmp/missing.err"
rc=$?
check "missing key log: status 2, one line" "[ $rc -eq 2 ] && [ \$(wc -l <'$tmp/missing.err') -eq 1 ]"

# two key logs, each with one side's connections: both are used
k1="$tmp/half1.keys" k2="$tmp/half2.keys"
awk 'NR % 2 == 1' "$S/federation-tls-ok.keys" >"$k1"
awk 'NR % 2 == 0' "$S/federation-tls-ok.keys" >"$k2"
chmod 600 "$k1" "$k2"
"$FEDTRACE" --format json -q --tls-keylog "$k1" --tls-keylog "$k2" -r "$S/federation-tls-ok-outside.pcap" -o "$tmp/two.json"
verdicts "$tmp/two.json" >"$tmp/two.v"
check "two key logs together decrypt" "cmp -s '$tmp/two.v' '$tmp/federation-tls-ok/keyed.v' && [ \$(dstat '$tmp/two.json' keylog_files) -eq 2 ]"

echo "keylog.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
