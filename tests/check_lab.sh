#!/bin/sh
# check_lab.sh - fedtrace on traffic made minutes ago: runs real federation
# scenarios in the lab (tools/lab/run: Prosody, dnsmasq, nftables NAT in
# network namespaces), then checks fedtrace's verdicts on the fresh
# captures.  Needs root; the lab installs its own packages and removes
# everything it made.  Run by `make check-lab` (and .ci/run).
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
[ "$(id -u)" -eq 0 ] || { echo "check-lab needs root: skipped"; exit 77; }
out="$BUILDDIR/tests/out/lab"
rm -rf "$out"
mkdir -p "$out"
pass=0
fail=0
# scenario | capture(s) | from | to | status | code
while IFS='|' read -r scenario files from to status code; do
    [ -n "$scenario" ] || continue
    if [ ! -f "$out/$scenario.done" ]; then
        if ! "$SRCDIR/tools/lab/run" "$scenario" "$out" >"$out/$scenario.log" 2>&1; then
            fail=$((fail + 1))
            echo "FAIL: tools/lab/run $scenario"; tail -20 "$out/$scenario.log"
            continue
        fi
        touch "$out/$scenario.done"
    fi
    args=""
    for f in $(echo "$files" | tr ',' ' '); do args="$args -r $out/$f"; done
    # shellcheck disable=SC2086
    got=$("$FEDTRACE" --format json -q $args | "$PY" -c "
import json, sys
d = json.load(sys.stdin)
print(' '.join('%s %s' % (x['verdict']['status'], x['verdict']['code']) for f in d['federations']
               for x in f['directions'] if x['from'] == sys.argv[1] and x['to'] == sys.argv[2]))" "$from" "$to")
    if [ "$got" = "$status $code" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $scenario $files $from -> $to: expected '$status $code', got '$got'"
    fi
done <<'EOF_TABLE'
ok|federation-ok-outside.pcap|a.example.test|b.example.test|ok|OK
ok|federation-ok-outside.pcap,federation-ok-inside.pcap|b.example.test|a.example.test|ok|OK
fw-drop|federation-fw-drop-outside.pcap|a.example.test|b.example.test|failed|DB-NO-BACKCONN
fw-drop|federation-fw-drop-outside.pcap|b.example.test|a.example.test|failed|TCP-NO-SYNACK
dialback-invalid|federation-dialback-invalid-outside.pcap|a.example.test|b.example.test|failed|DB-WRONG-AUTH
dns-missing|federation-dns-missing-inside.pcap|[10.99.1.10]|b.example.test|failed|DNS-SRV-NXDOMAIN
direct-tls|federation-direct-tls-outside.pcap|a.example.test|b.example.test|ok|OK
direct-tls|federation-direct-tls-outside.pcap,federation-direct-tls-inside.pcap|b.example.test|a.example.test|ok|OK
tls-untrusted|federation-tls-untrusted-outside.pcap|a.example.test|b.example.test|failed|TLS-CLOSED-AFTER-HANDSHAKE
remote-down|federation-remote-down-inside.pcap|a.example.test|b.example.test|failed|TCP-RST
EOF_TABLE

# An encrypted federation, live: tls-ok (certificates from a lab CA,
# STARTTLS both ways, SASL EXTERNAL inside TLS; alice's cleartext c2s leg on
# the inside capture).  Checked: the two s2s connections with ClientHello
# ALPN xmpp-server and a TLS 1.3 ServerHello, the TLS stage ok both ways,
# the verdict OK both ways marked inferred (record sizes or the c2s leg),
# and the c2s 'subscribed' parsed after the server's stream restart with an
# XML declaration.
scenario=tls-ok
if "$SRCDIR/tools/lab/run" "$scenario" "$out" >"$out/$scenario.log" 2>&1; then
    res=$("$FEDTRACE" --format json -q -v -r "$out/federation-tls-ok-outside.pcap@outside" \
        -r "$out/federation-tls-ok-inside.pcap@inside" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
def say(kind, what):
    print("%s %s" % (kind, what))
def check(cond, what):
    say("PASS" if cond else "FAIL", what)
s2s = [c for c in d["connections"] if c["resp"]["port"] == 5269]
hellos = [[e["tls"] for e in c.get("xmpp", []) if e["type"] == "tls"] for c in s2s]
ch = [t for h in hellos for t in h if t["event"] == "client_hello"]
sh = [t for h in hellos for t in h if t["event"] == "server_hello"]
check(len(ch) >= 2 and all("xmpp-server" in t.get("alpn", []) for t in ch),
      "tls-ok: ClientHello with ALPN xmpp-server on both s2s connections")
check(len(sh) >= 2 and all(t.get("version") == "TLS 1.3" for t in sh),
      "tls-ok: TLS 1.3 ServerHello on both s2s connections")
dirs = {(x["from"], x["to"]): x for f in d["federations"] for x in f["directions"]}
pairs = [("a.example.test", "b.example.test"), ("b.example.test", "a.example.test")]
for p in pairs:
    x = dirs.get(p)
    check(x is not None and x["stages"]["tls"]["status"] == "ok",
          "tls-ok: %s -> %s named by the stream headers, TLS stage ok" % p)
    got = "%s %s" % (x["verdict"]["status"], x["verdict"]["code"]) if x else "none"
    check(got == "ok OK" and x["verdict"].get("inferred") is True,
          "tls-ok: %s -> %s verdict ok OK (inferred), got %s" % (p + (got,)))
c2s = [c for c in d["connections"] if c["resp"]["port"] == 5222]
sub = any(e.get("type") == "stanza" and e.get("presence") == "subscribed"
          for c in c2s for e in c.get("xmpp", []) if e.get("dir") == "resp")
check(sub, "tls-ok: the c2s leg shows <presence type=subscribed/> from bob")
')
    echo "$res"
    pass=$((pass + $(echo "$res" | grep -c '^PASS')))
    fail=$((fail + $(echo "$res" | grep -c -e '^FAIL' -e '^XPASS')))
    [ -n "$res" ] || { fail=$((fail + 1)); echo "FAIL: fedtrace on the tls-ok captures"; }
else
    fail=$((fail + 1))
    echo "FAIL: tools/lab/run $scenario"; tail -20 "$out/$scenario.log"
fi
echo "check-lab: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
