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
    got=$("$FEDTRACE" -q $args | "$PY" -c "
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
EOF_TABLE
echo "check-lab: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
