#!/bin/sh
# golden.sh - fedtrace's JSON for every sample equals tests/golden/ (minus
# the volatile fields); `tools/golden update analyzer/fedtrace .` re-blesses.
set -u
: "${SRCDIR:?}" "${FEDTRACE:?}"
exec "${PYTHON3:-python3}" "$SRCDIR/tools/golden" check "$FEDTRACE" "$SRCDIR"
