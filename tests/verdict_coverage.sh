#!/bin/sh
# verdict_coverage.sh - every verdict code the correlator can emit is
# produced by at least one test: a unit sequence in tests/test_correlate.c
# (which asserts it with code_is/expect_code) or a bundled sample in
# tests/sample-verdicts.txt.  The codes the correlator can emit are the
# VERDICT_* names its judges and engine use (analyzer/judge_*.c,
# analyzer/correlate.c); a new code without a test fails here.
set -eu
top=${srcdir:-.}
tmp=${TMPDIR:-/tmp}/verdict_coverage.$$
trap 'rm -f "$tmp".*' EXIT INT TERM

grep -ho 'VERDICT_[A-Z0-9_]*' "$top"/analyzer/judge_*.c "$top"/analyzer/correlate.c |
    grep -v '^VERDICT_CODE_NONE$' | sort -u > "$tmp.emit"
{
    grep -o 'VERDICT_[A-Z0-9_]*' "$top"/tests/test_correlate.c
    awk '!/^#/ && NF >= 5 { print $NF }' "$top"/tests/sample-verdicts.txt |
        tr 'a-z-' 'A-Z_' | sed 's/^/VERDICT_/'
} | sort -u > "$tmp.cov"
n=$(wc -l < "$tmp.emit")
if [ "$n" -lt 40 ]; then
    echo "verdict_coverage: only $n codes found in the judges: the pattern is broken" >&2
    exit 1
fi
missing=$(comm -23 "$tmp.emit" "$tmp.cov")
if [ -n "$missing" ]; then
    echo "verdict_coverage: codes the correlator can emit that no test produces:" >&2
    echo "$missing" | sed 's/^/  /' >&2
    exit 1
fi
echo "verdict_coverage: all $n codes the correlator can emit are produced by a test"
