#!/bin/sh
# advice.sh - every advice line of every bundled sample (alone, and each
# -outside file merged with its -inside file) can be pasted: no unfilled
# "?" placeholder, no "address:port port" pair.  A value the capture does
# not show is written as what to substitute ("<public address of ...>").
set -u
: "${SRCDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
exec "$PY" - "$FEDTRACE" "$SRCDIR" <<'PYEOF'
import glob, json, os, re, subprocess, sys
fedtrace, src = sys.argv[1], sys.argv[2]
placeholder = re.compile(r"(^|[\s`(=])\?([\s`,.:;)]|$)")
addr_port_port = re.compile(r"(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):\d+ \d+")
def bad_line(line):
    return placeholder.search(line) or addr_port_port.search(line)
# negative control: the checks catch what they are meant to
assert bad_line("telnet ? 5269") and bad_line("telnet 198.51.100.2:5269 5269")
assert not bad_line("telnet 198.51.100.2 5269") and not bad_line("why? because")
cases = []
for p in sorted(glob.glob(os.path.join(src, "samples", "*.pcap"))):
    cases.append([p])
    if p.endswith("-outside.pcap") and os.path.exists(p[:-len("-outside.pcap")] + "-inside.pcap"):
        cases.append([p + "@outside", p[:-len("-outside.pcap")] + "-inside.pcap@inside"])
ok = bad = lines = 0
for files in cases:
    args = []
    for f in files:
        args += ["-r", f]
    d = json.loads(subprocess.run([fedtrace, "-q", "--format", "json"] + args, capture_output=True, text=True).stdout)
    for f in d["federations"]:
        for x in f["directions"]:
            for a in x["verdict"]["advice"]:
                lines += 1
                if bad_line(a):
                    bad += 1
                    print("FAIL %s %s -> %s %s: %s" % (",".join(os.path.basename(v) for v in files), x["from"], x["to"],
                                                      x["verdict"]["code"], a))
    ok += 1
print("advice: %d cases, %d advice lines, %d unfilled" % (ok, lines, bad))
sys.exit(1 if bad or not lines else 0)
PYEOF
