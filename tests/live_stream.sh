#!/bin/sh
# live_stream.sh - a live NDJSON run as a log shipper sees it: fedtrace
# -i any inside a network namespace this test creates (a unique name,
# removed on exit), real sockets inside it.  Checked: -i any compiles its
# default filter; -o appends; a refused connection's event appears with no
# further traffic (the wall-clock tick runs the close delay); the file only
# ever holds whole lines; SIGHUP after a move reopens the path and the
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
ip netns exec "$ns" "$FEDTRACE" -i any@probe --format ndjson -o "$out" 2>"$work/err" &
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
for f in "$out" "$out.1"; do
    got=$(lines "$f" any)
    [ "$got" != partial ] && ok || bad "$f ends in half a line"
done

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
