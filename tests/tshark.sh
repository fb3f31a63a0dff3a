#!/bin/sh
# tshark.sh - cross-check the DNS and XMPP dissectors against tshark on the
# bundled samples and the crafted DNS/XMPP captures (skipped without tshark).
set -eu
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
command -v tshark >/dev/null 2>&1 || { echo "tshark not installed: skipped"; exit 77; }
gen="$BUILDDIR/tests/out/tshark-gen"
rm -rf "$gen"
mkdir -p "$gen"
"$PY" "$SRCDIR/tools/gen-pcap" "$gen" ipv4-frag-dns ipv6-frag-dns eth-tcp-basic vlan-qinq >/dev/null
# pcapng as Wireshark and mergecap write it: fedtrace's per-file frame
# numbers must be the ones tshark shows (interfaces of three link types,
# two sections, custom blocks that Wireshark counts as frames, damage).
ng="$BUILDDIR/tests/out/tshark-ng"
rm -rf "$ng"
mkdir -p "$ng"
"$PY" "$SRCDIR/tools/gen-pcap" "$ng" mixed-link pcapng-blocks damaged >/dev/null
for f in "$ng"/*.pcapng; do
    tshark -r "$f" -T fields -e frame.number >"$f.frames" 2>/dev/null || true
    tshark -r "$f" -Y "tcp.flags.syn == 1" -T fields -e frame.number >"$f.syn" 2>/dev/null || true
    "$FEDTRACE" --format json -q -r "$f" >"$f.json" || [ $? -eq 3 ]
    "$PY" - "$f" <<'PYEOF' || { echo "FAIL: frame numbers of $f differ from tshark's"; exit 1; }
import json, sys
f = sys.argv[1]
d = json.load(open(f + ".json"))
src = d["capture"]["sources"][0]
frames = [int(x) for x in open(f + ".frames").read().split()]
syns = [int(x) for x in open(f + ".syn").read().split()]
records = src.get("records", src["frames"])
assert frames == list(range(1, records + 1)), (f, len(frames), records)
hs = d["connections"][0]["handshake"]
assert [hs["syn"]["source_frame"], hs["synack"]["source_frame"]] == syns, (f, hs, syns)
print("pcapng frame numbers as tshark: %s (%d frames)" % (f.rsplit("/", 1)[-1], records))
PYEOF
done
# The -dsb.pcapng samples carry their key logs: tshark decrypts with them as
# fedtrace does, so the stanza counts compare what both read inside TLS
# after STARTTLS (tshark has no port mapping to XMPP inside direct TLS, so
# the direct-TLS sample is left out).
dsb=$(ls "$SRCDIR"/samples/*-dsb.pcapng | grep -v direct-tls)
# shellcheck disable=SC2086
exec "$PY" "$SRCDIR/tools/crosscheck-tshark" --known "$SRCDIR/tests/tshark-known.txt" "$FEDTRACE" "$SRCDIR"/samples/*.pcap "$gen"/*.pcap $dsb
