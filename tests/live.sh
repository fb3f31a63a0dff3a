#!/bin/sh
# live.sh - live capture end to end: fedtrace -i lo inside a network
# namespace this test creates, real sockets talking XMPP on 5269 and DNS on
# 53 inside it, then SIGINT: exit 0 (a live run ends that way), and the
# report must have the connection, its XMPP events, the DNS lookup and
# capture.interrupted.  Skipped unless root with iproute2.  Traffic
# never leaves the namespace, which is removed on exit.
set -u
: "${SRCDIR:?}" "${BUILDDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
[ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 || { echo "needs root and ip: skipped"; exit 77; }
ns="ftlive$$"
work="$BUILDDIR/tests/out/live"
rm -rf "$work"
mkdir -p "$work"
cleanup() {
    [ -n "${ftpid:-}" ] && kill "$ftpid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT INT TERM
ip netns add "$ns" || { echo "cannot create a network namespace: skipped"; exit 77; }
ip -n "$ns" link set lo up

ip netns exec "$ns" "$FEDTRACE" -i lo@loop --format json -o "$work/live.json" 2>"$work/err" &
ftpid=$!
sleep 1
ip netns exec "$ns" "$PY" - <<'PYEOF'
import socket, struct, threading, time
# A DNS server that answers NXDOMAIN, and one query to it.
dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dns.bind(("127.0.0.1", 53))
def answer():
    q, addr = dns.recvfrom(512)
    dns.sendto(q[:2] + b"\x81\x83" + q[4:6] + b"\0\0\0\0\0\0" + q[12:], addr)
threading.Thread(target=answer).start()
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
qname = b"".join(bytes([len(l)]) + l for l in b"_xmpp-server._tcp.missing.test".split(b".")) + b"\0"
c.sendto(struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + b"\0\x21\0\x01", ("127.0.0.1", 53))
c.recv(512)
# An s2s stream open and close on 5269.
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5269))
srv.listen(1)
def serve():
    s, _ = srv.accept()
    s.recv(4096)
    s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
              b"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
              b"from='b.test' to='a.test' id='live1' version='1.0'><stream:features/>")
    s.recv(4096)
    s.sendall(b"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
              b"</stream:error></stream:stream>")
    s.close()
t = threading.Thread(target=serve)
t.start()
s = socket.create_connection(("127.0.0.1", 5269))
s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
          b"xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' "
          b"from='a.test' to='b.test' version='1.0'>")
time.sleep(0.2)
s.sendall(b"<db:result from='a.test' to='b.test'>abcdef</db:result>")
time.sleep(0.2)
s.close()
t.join()
PYEOF
sleep 1
kill -INT "$ftpid"
wait "$ftpid"
rc=$?
ftpid=""
[ "$rc" -eq 0 ] || { echo "FAIL: fedtrace exited $rc"; cat "$work/err"; exit 1; }
"$PY" - "$work/live.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
ok = fail = 0
def check(cond, what):
    global ok, fail
    if cond: ok += 1
    else: fail += 1; print("FAIL " + what)
src = d["capture"]["sources"][0]
check(src["kind"] == "interface" and src["name"] == "lo" and src["observer"] == "loop", "source %r" % src)
check(src.get("kernel_dropped", -1) == 0, "kernel drops %r" % src)
# SIGINT is how a live run ends: status 0 (checked above), yet the document
# records that a signal stopped the capture.
check(d["capture"].get("interrupted") is True and d["capture"].get("interrupted_by") == "SIGINT",
      "capture.interrupted %r" % {k: d["capture"].get(k) for k in ("interrupted", "interrupted_by")})
conns = [c for c in d["connections"] if c["resp"]["port"] == 5269]
check(len(conns) == 1, "one 5269 connection, got %d" % len(conns))
if conns:
    c = conns[0]
    check(c["conn_state"] == "SF" or c["conn_state"].startswith("RST"), "state %s" % c["conn_state"])
    types = [e["type"] for e in c.get("xmpp", [])]
    check(types[:4] == ["stream_open", "stream_open", "features", "db_result"], "events %s" % types)
    errs = [e for e in c.get("xmpp", []) if e["type"] == "stream_error"]
    check(len(errs) == 1 and errs[0]["condition"] == "host-unknown", "stream error %r" % errs)
lk = [l for l in d["dns"] if l["qname"] == "_xmpp-server._tcp.missing.test"]
check(len(lk) == 1 and lk[0]["outcome"] == "nxdomain" and lk[0]["qtype"] == "SRV", "lookup %r" % lk)
print("live: %d passed, %d failed" % (ok, fail))
sys.exit(1 if fail else 0)
PYEOF
rc=$?
cleanup
trap - EXIT
exit $rc
