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
exec "$PY" "$SRCDIR/tools/crosscheck-tshark" "$FEDTRACE" "$SRCDIR"/samples/*.pcap "$gen"/*.pcap
