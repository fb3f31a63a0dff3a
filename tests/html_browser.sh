#!/bin/sh
# html_browser.sh - the HTML report in a real browser: headless Chromium
# loads the report of several samples (a working federation, a connect
# failure seen on both sides of a NAT, a dialback failure), the page must
# load with no console message (a blocked script or fetch, a parse error),
# and the DOM the browser built must hold the expected ladder lanes and
# the red failing arrow.  A screenshot of each page is kept under
# tests/out/browser/ (PNG; not committed).  A page with a script and an
# external image must be caught, so the check can fail.
# Chromium is optional (tools/deps installs Debian's chromium): without it
# the test is skipped, saying so.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
S="$SRCDIR/samples"
work="$BUILDDIR/tests/out/browser"
rm -rf "$work"
mkdir -p "$work"

browser=""
for b in chromium chromium-browser; do
    command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
[ -n "$browser" ] || { echo "chromium is not installed (tools/deps installs it): skipped"; exit 77; }

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# browse NAME MODE...: runs the browser on $work/NAME.html with a profile
# of its own; stderr (the console log) to $work/NAME.MODE.log.
browse() {
    name=$1; mode=$2; shift 2
    timeout 120 "$browser" --headless --disable-gpu --no-sandbox --no-first-run --enable-logging=stderr --v=0 \
        --user-data-dir="$work/profile-$name-$mode" --window-size=1400,1800 "$@" \
        "file://$work/$name.html" 2>"$work/$name.$mode.log"
}

# The console messages of a run: Chromium logs each as INFO:CONSOLE.
console() { grep -a 'CONSOLE' "$1"; }

# check_dom NAME EXPECT: the DOM the browser built, per federation
# direction "CODE lanes=ROLE,ROLE,... failing-arrow=0|1", must be EXPECT
# (one line per direction, ';' between lines).
check_dom() {
    "$PY" - "$work/$1.dom" "$2" <<'PYEOF'
import html.parser, sys

class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.dirs, self.cur, self.step, self.in_code = [], None, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "div" and cls == "dir":
            self.cur = {"code": "", "lanes": [], "arrow": 0}
            self.dirs.append(self.cur)
        if self.cur is None:
            return
        if tag == "code" and not self.cur["code"]:
            self.in_code = True
        if tag == "g" and cls == "lane":
            self.cur["lanes"].append(a.get("data-role", "?"))
        if tag == "g" and cls.startswith("step"):
            self.step = "failing" in cls.split()
        # the failing arrow: a red line with its red head, in a failing step
        if self.step and tag == "line" and a.get("stroke") == "#c62828":
            self.cur["arrow"] = 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "code":
            self.in_code = False
        if tag == "g":
            self.step = None

    def handle_data(self, data):
        if self.in_code and self.cur is not None and not self.cur["code"]:
            self.cur["code"] = data.strip()

d = Dom()
d.feed(open(sys.argv[1], encoding="utf-8", errors="replace").read())
got = ";".join("%s lanes=%s failing-arrow=%d" % (x["code"], ",".join(x["lanes"]), x["arrow"]) for x in d.dirs)
if got != sys.argv[2]:
    print("DOM:      " + got)
    print("expected: " + sys.argv[2])
    sys.exit(1)
PYEOF
}

# A PNG of the size asked for, not blank (a white page compresses to a few KB).
check_png() {
    "$PY" - "$1" <<'PYEOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
ok = b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR"
w, h = struct.unpack(">II", b[16:24]) if ok else (0, 0)
sys.exit(0 if ok and w == 1400 and h == 1800 and len(b) > 30000 else 1)
PYEOF
}

NAT_FW="-r $S/federation-fw-drop-inside.pcap@inside -r $S/federation-fw-drop-outside.pcap@outside"
for spec in \
    "ok-inside|-r $S/federation-ok-inside.pcap|OK lanes=local server,DNS resolver,remote server failing-arrow=0;OK lanes=local server,remote server failing-arrow=0" \
    "remote-down-nat|-r $S/federation-remote-down-inside.pcap@inside -r $S/federation-remote-down-outside.pcap@outside|TCP-RST lanes=local server,DNS resolver,firewall/NAT,remote server failing-arrow=1" \
    "fw-drop-nat|$NAT_FW|DB-NO-BACKCONN lanes=local server,DNS resolver,firewall/NAT,remote server failing-arrow=1;TCP-NO-SYNACK lanes=firewall/NAT,remote server failing-arrow=1" \
    "dialback-invalid-nat|-r $S/federation-dialback-invalid-inside.pcap@inside -r $S/federation-dialback-invalid-outside.pcap@outside|DB-WRONG-AUTH lanes=local server,local server,DNS resolver,firewall/NAT,remote server failing-arrow=1;OK lanes=local server,DNS resolver,remote server failing-arrow=0"; do
    name=${spec%%|*}
    rest=${spec#*|}
    args=${rest%%|*}
    expect=${rest#*|}
    # shellcheck disable=SC2086
    "$FEDTRACE" -q $args --format html -o "$work/$name.html" || bad "$name: --format html exit $?"
    if browse "$name" dom --dump-dom >"$work/$name.dom" && grep -q '</html>' "$work/$name.dom"; then ok; else
        bad "$name: the page did not load (see $work/$name.dom.log)"; fi
    if console "$work/$name.dom.log" >"$work/$name.console"; then
        bad "$name: console messages:"; cat "$work/$name.console"
    else ok; fi
    if check_dom "$name" "$expect"; then ok; else bad "$name: ladder in the browser's DOM"; fi
    browse "$name" shot --screenshot="$work/$name.png" >/dev/null
    if check_png "$work/$name.png"; then ok; else bad "$name: no readable screenshot $work/$name.png"; fi
done

# The checks can fail: a page with an inline script and an external image
# draws console messages (the Content-Security-Policy blocks both), and a
# page whose failing arrow is not red does not pass the DOM check.
sed 's|<body>|<body><script>document.title="x"</script><img src="http://192.0.2.1/x.png" alt="">|' \
    "$work/fw-drop-nat.html" >"$work/hostile.html"
browse hostile dom --dump-dom >"$work/hostile.dom"
n=$(console "$work/hostile.dom.log" | grep -c 'Content Security Policy')
[ "$n" -ge 2 ] && ok || bad "a blocked script and image were not reported ($n console lines)"
sed 's|stroke="#c62828"|stroke="#333"|g' "$work/fw-drop-nat.dom" >"$work/grey.dom"
if check_dom grey "DB-NO-BACKCONN lanes=local server,DNS resolver,firewall/NAT,remote server failing-arrow=1;TCP-NO-SYNACK lanes=firewall/NAT,remote server failing-arrow=1" >/dev/null; then
    bad "a ladder without a red arrow passed the DOM check"
else ok; fi
rm -rf "$work"/profile-*

echo "html_browser: $pass passed, $fail failed; screenshots in $work"
[ "$fail" -eq 0 ]
