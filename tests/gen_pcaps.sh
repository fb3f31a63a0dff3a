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
"$PY" "$SRCDIR/tests/check_gen.py" "$gen" "$dump"

# A connection picked up at an end tag (client) and at a child element
# (server) resynchronises at the next stanza of each direction: both
# messages counted, no XML error.
"$BUILDDIR/analyzer/fedtrace" --format json -r "$gen/tcp-midstream-endtag.pcap" >"$dump/midstream-endtag.json"
"$PY" - "$dump/midstream-endtag.json" <<'PYEOF'
import json, sys
conn = json.load(open(sys.argv[1]))["connections"][0]
types = [e["type"] for e in conn.get("xmpp", [])]
if conn["stanza_counts"]["message"] != 2 or "error" in types or types.count("stream_close") != 2:
    sys.exit("tcp-midstream-endtag: want 2 messages, 2 closes, no error; got %s %s"
             % (conn["stanza_counts"], types))
PYEOF
