#!/bin/sh
# verdict_codes.sh - the DETECTED flags of analyzer/verdict_codes.h match
# what the analyzer can emit: every VERDICT_* code named in analyzer/*.c
# (the catalogue aside) is flagged DETECTED, every DETECTED code is named
# there (the RFC 6120 stream error family STR-<CONDITION> counts as named:
# the correlator maps each condition to its code), and `fedtrace explain`
# says the same.  A broken list makes the check fail (negative control).
set -u
: "${SRCDIR:?}" "${FEDTRACE:?}"
work="${BUILDDIR:-.}/tests/out/verdict_codes"
rm -rf "$work"
mkdir -p "$work"

# STR-<condition> for the 25 conditions of RFC 6120 §4.9.3.
stream_family='BAD-FORMAT BAD-NAMESPACE-PREFIX CONFLICT CONNECTION-TIMEOUT HOST-GONE
HOST-UNKNOWN IMPROPER-ADDRESSING INTERNAL-SERVER-ERROR INVALID-FROM INVALID-NAMESPACE
INVALID-XML NOT-AUTHORIZED NOT-WELL-FORMED POLICY-VIOLATION REMOTE-CONNECTION-FAILED RESET
RESOURCE-CONSTRAINT RESTRICTED-XML SEE-OTHER-HOST SYSTEM-SHUTDOWN UNDEFINED-CONDITION
UNSUPPORTED-ENCODING UNSUPPORTED-FEATURE UNSUPPORTED-STANZA-TYPE UNSUPPORTED-VERSION'

# compare LIST_HEADER SOURCES...: 0 when the flags match the sources.
compare() {
    list=$1
    shift
    sed -n 's/^ *X(\([A-Z0-9_]*\), *"\([A-Z0-9-]*\)", *DETECTED).*/\2/p' "$list" | sort -u >"$work/flagged"
    sed -n 's/^ *X(\([A-Z0-9_]*\), *"\([A-Z0-9-]*\)", *\([A-Z_]*\)).*/\1 \2/p' "$list" >"$work/ids"
    {
        grep -ho 'VERDICT_[A-Z0-9_]*' "$@" | sed 's/^VERDICT_//' | sort -u |
            while read -r id; do
                awk -v id="$id" '$1 == id { print $2 }' "$work/ids"
            done
        if grep -q 'verdict_code_from_name' "$@"; then
            for c in $stream_family; do echo "STR-$c"; done
        fi
    } | sort -u >"$work/emitted"
    diff "$work/flagged" "$work/emitted" >"$work/diff"
}

sources=$(ls "$SRCDIR"/analyzer/*.c | grep -v '/verdict\.c$' | grep -v '/main\.c$')
if ! compare "$SRCDIR/analyzer/verdict_codes.h" $sources; then
    echo "verdict_codes.h flags and the analyzer disagree (< flagged only, > emitted only):"
    cat "$work/diff"
    exit 1
fi
n=$(wc -l <"$work/flagged")
[ "$n" -gt 20 ] || { echo "only $n codes flagged DETECTED"; exit 1; }

# fedtrace explain lists the same set as detected.
"$FEDTRACE" explain | awk 'NF >= 3 && $3 == "detected" { print $1 }' | sort -u >"$work/explain"
if ! diff "$work/flagged" "$work/explain" >/dev/null; then
    echo "fedtrace explain disagrees with verdict_codes.h:"
    diff "$work/flagged" "$work/explain"
    exit 1
fi
"$FEDTRACE" explain | grep -q "cannot yet detect" || { echo "explain does not say what is not detected"; exit 1; }

# Negative control: a code flagged DETECTED that nothing emits is caught.
sed 's/"DNS-NO-QUERY", *NOT_YET/"DNS-NO-QUERY", DETECTED/' "$SRCDIR/analyzer/verdict_codes.h" >"$work/broken.h"
if compare "$work/broken.h" $sources; then
    echo "a wrongly flagged code went unnoticed"
    exit 1
fi
echo "verdict codes: $n detected, flags match the analyzer"
exit 0
