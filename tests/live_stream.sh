#!/bin/sh
# live_stream.sh - a live NDJSON run as a log shipper sees it: fedtrace
# -i any inside a network namespace this test creates (a unique name,
# removed on exit), real sockets inside it.  Checked: -i any compiles its
# default filter; -o appends; a refused connection's event appears with no
# further traffic (the wall-clock tick runs the close delay); the file only
# ever holds whole lines; periodic capture.stats lines carry the kernel
# drop counters; /metrics and --metrics-file pass promtool and a real
# Prometheus server scrapes the endpoint; -w keeps every frame analysed;
# SIGHUP after a move reopens the
# path and the
# process lives on; SIGTERM ends a live run with status 0 and a final
# capture.stats line; without CAP_NET_RAW one line names it, status 2.
# Skipped unless root with iproute2.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
[ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 || { echo "needs root and ip: skipped"; exit 77; }
ns="ftstream$$"
work="$BUILDDIR/tests/out/live_stream"
rm -rf "$work"
mkdir -p "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
cleanup() {
    [ -n "${ftpid:-}" ] && kill "$ftpid" 2>/dev/null
    [ -n "${prompid:-}" ] && kill "$prompid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT INT TERM
ip netns add "$ns" || { echo "cannot create a network namespace: skipped"; exit 77; }
ip -n "$ns" link set lo up

# Refused connections to 5269 and one answered DNS query.
traffic() {
    ip netns exec "$ns" "$PY" - "$1" <<'PYEOF'
import socket, struct, sys, threading
n = int(sys.argv[1])
for _ in range(n):
    try:
        socket.create_connection(("127.0.0.1", 5269), timeout=2).close()
    except OSError:
        pass
dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dns.bind(("127.0.0.1", 53))
def answer():
    q, addr = dns.recvfrom(512)
    dns.sendto(q[:2] + b"\x81\x83" + q[4:6] + b"\0\0\0\0\0\0" + q[12:], addr)
threading.Thread(target=answer).start()
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
qname = b"".join(bytes([len(l)]) + l for l in b"_xmpp-server._tcp.missing.test".split(b".")) + b"\0"
c.sendto(struct.pack("!HHHHHH", 0x4321, 0x0100, 1, 0, 0, 0) + qname + b"\0\x21\0\x01", ("127.0.0.1", 53))
c.recv(512)
PYEOF
}

# Lines in a file that are whole JSON objects; "partial" when it does not
# end in a newline.
lines() {
    "$PY" - "$@" <<'PYEOF'
import json, sys
path, kind = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
if data and not data.endswith(b"\n"):
    print("partial"); sys.exit()
n = 0
for l in data.decode().splitlines():
    if l.startswith("#"):
        continue
    e = json.loads(l)
    if kind == "any" or e.get("fedtrace", {}).get("event_type", e.get("event_type")) == kind:
        n += 1
print(n)
PYEOF
}

out="$work/live.ndjson"
echo "# kept: written before the run" >"$out"
mport=$((20000 + $$ % 20000))
ip netns exec "$ns" "$FEDTRACE" -i any@probe --format ndjson -o "$out" --stats-interval 2 -w "$work/live.pcap" \
    --metrics-listen "127.0.0.1:$mport" --metrics-file "$work/fedtrace.prom" 2>"$work/err" &
ftpid=$!
sleep 1
kill -0 "$ftpid" 2>/dev/null && ok || { bad "-i any did not start: $(cat "$work/err")"; exit 1; }
traffic 2
# The refused connections leave the flow table after the 5 s close delay:
# on packet time that needs a later packet; the tick brings it with none.
sleep 8
got=$(lines "$out" connection)
[ "$got" = 2 ] && ok || bad "idle link: $got connection events after 8 s (want 2)"
head -1 "$out" | grep -q '^# kept' && ok || bad "-o truncated the existing file"

# Periodic stats lines while the run goes on, stamped now (not 1970).
"$PY" - "$out" <<'PYEOF' && ok || bad "no periodic capture.stats line with drops and a current @timestamp"
import datetime, json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
st = [e for e in evs if e["fedtrace"]["event_type"] == "capture.stats"]
assert st and all(e["fedtrace"]["final"] is False for e in st), st
src = st[-1]["fedtrace"]["capture"]["sources"][0]
assert "kernel_dropped" in src and "interface_dropped" in src, src
assert st[-1]["@timestamp"][:4] >= "2025", st[-1]["@timestamp"]
PYEOF
# The metrics endpoint and file: Prometheus text that promtool accepts.
ip netns exec "$ns" "$PY" -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$mport/metrics', timeout=5).read().decode())" \
    >"$work/scrape.prom" 2>"$work/scrape.err"
grep -q '^fedtrace_kernel_dropped_packets_total{source="any",observer="probe"} ' "$work/scrape.prom" &&
    grep -q '^fedtrace_flows_created_total [1-9]' "$work/scrape.prom" && ok ||
    bad "/metrics: $(head -c 300 "$work/scrape.prom") $(cat "$work/scrape.err")"
[ -s "$work/fedtrace.prom" ] && ok || bad "--metrics-file not written"
# The endpoint stays bounded: another path is 404, an endless head is cut
# off, eight idle connections do not keep a scrape out for long.
ip netns exec "$ns" "$PY" - "$mport" <<'PYEOF' && ok || bad "/metrics endpoint bounds"
import socket, sys, time, urllib.request, urllib.error
port = int(sys.argv[1])
try:
    urllib.request.urlopen("http://127.0.0.1:%d/nope" % port, timeout=5)
    raise SystemExit("no 404")
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"A" * 5000)
s.settimeout(5)
try:
    got = s.recv(100)
except ConnectionResetError:
    got = b""
assert got == b"", "an endless request head got an answer"
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
t = time.time()
body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=15).read()
assert b"fedtrace_packets_total" in body and time.time() - t < 10, time.time() - t
PYEOF
if command -v promtool >/dev/null 2>&1; then
    promtool check metrics <"$work/scrape.prom" >"$work/promtool.out" 2>&1 && ok || bad "promtool: $(cat "$work/promtool.out")"
    promtool check metrics <"$work/fedtrace.prom" >"$work/promtool.out" 2>&1 && ok || bad "promtool (file): $(cat "$work/promtool.out")"
else
    echo "promtool not installed (Debian prometheus): metrics not linted"
fi
# A real Prometheus server scrapes the endpoint.
if command -v prometheus >/dev/null 2>&1; then
    pport=$((mport + 1))
    printf 'global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: fedtrace\n    static_configs: [ { targets: ["127.0.0.1:%s"] } ]\n' \
        "$mport" >"$work/prometheus.yml"
    ip netns exec "$ns" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
        --web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
    prompid=$!
    got=""
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
        sleep 1
        got=$(ip netns exec "$ns" "$PY" -c "
import json, urllib.request
q = 'http://127.0.0.1:$pport/api/v1/query?query=fedtrace_flows_created_total'
r = json.load(urllib.request.urlopen(q, timeout=2))
print(r['data']['result'][0]['value'][1] if r['data']['result'] else '')" 2>/dev/null)
        [ -n "$got" ] && break
    done
    kill "$prompid" 2>/dev/null
    wait "$prompid" 2>/dev/null
    prompid=""
    [ -n "$got" ] && [ "$got" -ge 2 ] && ok || bad "prometheus did not scrape fedtrace_flows_created_total (got '$got'); $(tail -3 "$work/prometheus.log")"
else
    echo "prometheus not installed: no real scrape"
fi

# logrotate's way: move the file, SIGHUP, the next events go to a new file.
mv "$out" "$out.1"
kill -HUP "$ftpid"
sleep 0.5
traffic 1
sleep 8
kill -0 "$ftpid" 2>/dev/null && ok || bad "SIGHUP ended the process"
[ -f "$out" ] && ok || bad "SIGHUP did not reopen the path"
got=$(lines "$out" connection)
[ "$got" = 1 ] && ok || bad "after SIGHUP: $got connection events in the new file (want 1)"

kill -TERM "$ftpid"
wait "$ftpid"
rc=$?
ftpid=""
[ "$rc" -eq 0 ] && ok || bad "SIGTERM on a live run: status $rc (want 0)"
got=$(tail -n 1 "$out" | "$PY" -c 'import json,sys; e=json.loads(sys.stdin.read()); print(e.get("fedtrace",{}).get("event_type", e.get("event_type")))')
[ "$got" = capture.stats ] && ok || bad "last line after SIGTERM is '$got', not capture.stats"
# -w on a live run: every frame analysed is in the file (as many as the
# final stats line counts), and tshark reads it.
if command -v tshark >/dev/null 2>&1; then
    want=$(tail -n 1 "$out" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read())["fedtrace"]["capture"]["frames"])')
    got=$(tshark -r "$work/live.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
    [ -n "$want" ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ] && ok || bad "-w on a live run: $got frames in the file, $want analysed"
fi
for f in "$out" "$out.1"; do
    got=$(lines "$f" any)
    [ "$got" != partial ] && ok || bad "$f ends in half a line"
done

# Kernel drops: fedtrace is stopped (SIGSTOP) while a federation attempt
# and then a UDP flood to port 53 pass; the small ring overflows.  The
# verdict keeps its code, carries a note naming the drops, and its
# confidence is not high; the final stats line counts the drops.
drop="$work/drop.ndjson"
ip netns exec "$ns" "$FEDTRACE" -i lo -B 512 -s 2000 --format ndjson -o "$drop" 2>"$work/drop.err" &
ftpid=$!
sleep 1
kill -STOP "$ftpid"
ip netns exec "$ns" "$PY" - <<'PYEOF'
import socket, threading, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5269)); srv.listen(1)
def serve():
    s, _ = srv.accept(); s.recv(4096)
    s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
              b"xmlns:db='jabber:server:dialback' from='b.test' to='a.test' id='d1' version='1.0'><stream:features/>")
    s.recv(4096); s.close()
t = threading.Thread(target=serve); t.start()
s = socket.create_connection(("127.0.0.1", 5269))
s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
          b"xmlns:db='jabber:server:dialback' from='a.test' to='b.test' version='1.0'>")
time.sleep(0.1)
s.sendall(b"<db:result from='a.test' to='b.test'>abcdef</db:result>")
time.sleep(0.1)
s.close(); t.join()
time.sleep(0.2)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5000):
    u.sendto(b"\0" * 1400, ("127.0.0.1", 53))
PYEOF
kill -CONT "$ftpid"
sleep 3
kill -TERM "$ftpid"
wait "$ftpid"
ftpid=""
"$PY" - "$drop" <<'PYEOF' && ok || bad "drops did not lower the verdict's confidence: $(tail -c 600 "$drop")"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
v = [e["fedtrace"]["federation"] for e in evs if e["fedtrace"]["event_type"] == "federation.verdict"]
st = evs[-1]["fedtrace"]["capture"]["sources"][0]
assert st["kernel_dropped"] > 1000, st
assert v and all(f["confidence"] != "high" and any("dropped" in n for n in f["notes"]) for f in v), v
PYEOF
# ... and a run with no drop has no such note.
if grep -q "packets while this direction was active" "$out" "$out.1"; then bad "a drop note without drops"; else ok; fi

# Without the capability: one line naming it, status 2.
if command -v setpriv >/dev/null 2>&1; then
    ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        "$FEDTRACE" -i lo --format ndjson >/dev/null 2>"$work/perm"
    rc=$?
    [ "$rc" -eq 2 ] && ok || bad "no privilege: status $rc (want 2)"
    [ "$(wc -l <"$work/perm")" -eq 1 ] && grep -q CAP_NET_RAW "$work/perm" && ok ||
        bad "no privilege: want one line naming CAP_NET_RAW, got: $(cat "$work/perm")"
fi

echo "live_stream: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
