#!/bin/sh
# tests/tls_decrypt.sh - the decryption engine on real TLS sessions.
#
# tests/fixtures/tls/ holds loopback sessions between openssl s_client and
# s_server (tools/tls-fixtures): TLS 1.3 with AES-128-GCM, AES-256-GCM and
# ChaCha20-Poly1305 (KeyUpdate both ways), TLS 1.2 with
# ECDHE-RSA-AES128-GCM-SHA256, -AES256-GCM-SHA384, -CHACHA20-POLY1305,
# -AES128-SHA (CBC, encrypt-then-MAC) and -AES256-SHA384 (CBC, MAC-then-encrypt),
# each with the key log s_client wrote and the bytes each side sent.  For
# each: the decrypted bytes equal what was sent, both ways; the same from
# the key log embedded in a pcapng DSB; a wrong key gives an
# authentication failure and no bytes; no key gives no_key and no bytes;
# a damaged capture does not crash; the key log's secrets never reach the
# output; and, when tshark is there, its decryption agrees with ours.
set -u
: "${BUILDDIR:=.}" "${SRCDIR:=.}"
REPLAY="$BUILDDIR/tests/tls_replay"
FIX="$SRCDIR/tests/fixtures/tls"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

replay() { # outdir keys capture -> stdout in $1/log
    rm -rf "$1"
    mkdir -p "$1"
    "$REPLAY" "$1" "$2" "$3" >"$1/log" 2>&1
}

for pcap in "$FIX"/*.pcap; do
    name=$(basename "$pcap" .pcap)
    o="$tmp/$name"
    replay "$o" "$FIX/$name.keys" "$pcap"
    check "$name: replay ran" "[ \$? -eq 0 ]"
    check "$name: client bytes" "cmp -s '$o/1.c2s' '$FIX/$name.c2s'"
    check "$name: server bytes" "cmp -s '$o/1.s2c' '$FIX/$name.s2c'"
    check "$name: not stopped" "grep -q 'end stopped=0 decrypted_c2s=1 decrypted_s2c=1' '$o/log'"
    check "$name: no failure" "grep -q 'auth_failures=0 no_key=0 unsupported=0 errors=0' '$o/log'"
    case "$name" in
    tls13-*)
        check "$name: KeyUpdate both ways" \
            "[ \$(grep -c 'ev=key_update' '$o/log') -eq 2 ] && grep -q 'key_updates=2' '$o/log'"
        check "$name: handshake then application keys" \
            "[ \$(grep -c 'ev=keys dir=1 .*epoch=1' '$o/log') -eq 1 ] && [ \$(grep -c 'ev=keys dir=1 .*epoch=2' '$o/log') -eq 1 ]"
        ;;
    esac
    check "$name: close_notify both ways" "[ \$(grep -c 'ev=alert .*alert=1.0' '$o/log') -eq 2 ]"

    # the key log's secrets never appear in what fedtrace prints
    leaked=0
    for s in $(awk '!/^#/ && NF == 3 { print $3 }' "$FIX/$name.keys"); do
        grep -qi "$s" "$o/log" && leaked=1
    done
    check "$name: no secret in the output" "[ $leaked -eq 0 ]"

    # a wrong key: every secret's last digit changed
    awk '!/^#/ && NF == 3 { l = substr($3, length($3), 1); r = (l == "0") ? "1" : "0";
         $3 = substr($3, 1, length($3) - 1) r } { print }' "$FIX/$name.keys" >"$tmp/wrong.keys"
    replay "$o.wrong" "$tmp/wrong.keys" "$pcap"
    check "$name: wrong key fails to authenticate" \
        "grep -q 'ev=auth_failed' '$o.wrong/log' && grep -q 'auth_failures=1' '$o.wrong/log' && grep -q 'end stopped=1' '$o.wrong/log'"
    check "$name: wrong key delivers nothing" "[ ! -s '$o.wrong/1.c2s' ] && [ ! -s '$o.wrong/1.s2c' ]"

    # no key at all
    : >"$tmp/empty.keys"
    replay "$o.none" "$tmp/empty.keys" "$pcap"
    check "$name: no key" "grep -q 'ev=no_key' '$o.none/log' && grep -q 'no_key=1' '$o.none/log'"
    check "$name: no key delivers nothing" "[ ! -s '$o.none/1.c2s' ] && [ ! -s '$o.none/1.s2c' ]"

    # a damaged capture: cut in the middle of the encrypted records
    size=$(wc -c <"$pcap")
    head -c $((size * 2 / 3)) "$pcap" >"$tmp/cut.pcap"
    replay "$o.cut" "$FIX/$name.keys" "$tmp/cut.pcap"
    check "$name: cut capture does not crash" "[ \$? -eq 0 ] && grep -q '^stats ' '$o.cut/log'"

    if command -v tshark >/dev/null 2>&1; then
        tshark -r "$pcap" -o "tls.keylog_file:$FIX/$name.keys" -q -z follow,tls,raw,0 \
            >"$tmp/follow" 2>/dev/null
        sed -n 's/^\t\([0-9a-f][0-9a-f]*\)$/\1/p' "$tmp/follow" | xxd -r -p >"$tmp/node1"
        sed -n 's/^\([0-9a-f][0-9a-f]*\)$/\1/p' "$tmp/follow" | xxd -r -p >"$tmp/node0"
        if grep -q '^Node 0: .*:5270$' "$tmp/follow"; then
            check "$name: tshark agrees" "cmp -s '$tmp/node1' '$o/1.c2s' && cmp -s '$tmp/node0' '$o/1.s2c'"
        else
            check "$name: tshark agrees" "cmp -s '$tmp/node0' '$o/1.c2s' && cmp -s '$tmp/node1' '$o/1.s2c'"
        fi
    fi
done

# key logs embedded in the capture (Decryption Secrets Block), no key file
for pcapng in "$FIX"/*-dsb.pcapng; do
    name=$(basename "$pcapng" -dsb.pcapng)
    o="$tmp/$name.dsb"
    replay "$o" - "$pcapng"
    check "$name: DSB read" "grep -q '^dsb .*type=TLSK' '$o/log'"
    check "$name: DSB client bytes" "cmp -s '$o/1.c2s' '$FIX/$name.c2s'"
    check "$name: DSB server bytes" "cmp -s '$o/1.s2c' '$FIX/$name.s2c'"
done

# a key log readable by others is named in a warning, its content is not
cp "$FIX/tls13-aes128gcm.keys" "$tmp/open.keys"
chmod 0644 "$tmp/open.keys"
replay "$tmp/warn" "$tmp/open.keys" "$FIX/tls13-aes128gcm.pcap"
check "warning for a world-readable key log" "grep -q '^warning: key log .*readable by everyone' '$tmp/warn/log'"
chmod 0600 "$tmp/open.keys"
replay "$tmp/nowarn" "$tmp/open.keys" "$FIX/tls13-aes128gcm.pcap"
check "no warning at mode 0600" "! grep -q '^warning' '$tmp/nowarn/log'"

echo "tls_decrypt.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
