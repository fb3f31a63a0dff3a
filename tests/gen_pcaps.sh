#!/bin/sh
# gen_pcaps.sh - crafted edge-case captures through the real capture and
# reassembly code: every byte each dissector receives is compared with what
# tools/gen-pcap says it put on the wire.
set -eu
: "${SRCDIR:?}" "${BUILDDIR:?}"
PY=${PYTHON3:-python3}
gen="$BUILDDIR/tests/gen"
dump="$BUILDDIR/tests/out/gen"
rm -rf "$gen" "$dump"
mkdir -p "$gen" "$dump"
"$PY" "$SRCDIR/tools/gen-pcap" "$gen" >/dev/null
for f in "$gen"/*.pcap "$gen"/*.pcapng; do
    base=$(basename "$f"); base=${base%.*}
    mkdir -p "$dump/$base"
    "$BUILDDIR/tests/streamdump" "$dump/$base" "$f" >"$dump/$base.out"
done
exec "$PY" "$SRCDIR/tests/check_gen.py" "$gen" "$dump"
