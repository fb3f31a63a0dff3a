#!/bin/sh
# summaries.sh - no summary, stage detail, note or timeline line is cut in
# the middle of a word, in any output format, for every bundled sample
# (alone, each -outside merged with its -inside, each with its key log).
# A text that did not fit ends with a whole word and "…" (U+2026).
#   JSON/NDJSON: a text exactly as long as one of the correlator's buffers
#   (minus the NUL) was cut without the ellipsis; the word before every "…"
#   must be a whole word, i.e. one the same run prints uncut elsewhere.
#   text/html: the word before every "…" is a whole word of that run.
set -u
: "${SRCDIR:?}" "${FEDTRACE:?}"
PY=${PYTHON3:-python3}
exec "$PY" - "$FEDTRACE" "$SRCDIR" <<'PYEOF'
import glob, html, json, os, re, subprocess, sys
fedtrace, src = sys.argv[1], sys.argv[2]
ELL = "\u2026"
# buffer sizes of the correlator's texts minus the NUL (correlate.h
# struct corr_dir_text, corr_timeline.c, corr_util.h STR_CAP)
CUT_LENGTHS = {199, 255, 319, 1023}
TEXT_KEYS = {"summary", "detail", "what", "notes", "note", "title", "text", "stage_detail"}

def words_of(s):
    return set(w.strip("()[],;:'\"`") for w in s.split())

def cut_word(s):
    """The word that ends right before the first ellipsis, or None."""
    i = s.find(ELL)
    if i < 0:
        return None
    head = s[:i]
    if not head or head[-1].isspace():
        return ""
    return head.split()[-1].strip("()[],;:'\"`")

def strings(o, key=None):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from strings(v, k)
    elif isinstance(o, list):
        for v in o:
            yield from strings(v, key)
    elif isinstance(o, str):
        yield key, o

def check_texts(texts, whole, where):
    bad = []
    for key, s in texts:
        if key in TEXT_KEYS and len(s.encode()) in CUT_LENGTHS and not s.endswith(ELL):
            bad.append("%s: %s is %d bytes, cut without an ellipsis: ...%s" % (where, key, len(s.encode()), s[-40:]))
        w = cut_word(s)
        if w is not None and (not w or w not in whole):
            bad.append("%s: cut inside a word (%r): ...%s" % (where, w, s[max(0, s.find(ELL) - 60):s.find(ELL) + 1]))
    return bad

def check_doc(texts, where):
    whole = set()
    for _, s in texts:
        if ELL not in s:
            whole |= words_of(s)
        else:
            whole |= words_of(s[:s.find(ELL)].rsplit(" ", 1)[0]) if " " in s[:s.find(ELL)] else set()
    return check_texts(texts, whole, where)

def check_lines(lines, where):
    return check_doc([(None, l) for l in lines], where)

# negative controls: a mid-word cut is caught, a word cut is not
assert check_doc([("summary", "it points to another server"), ("summary", "it points to anot" + ELL)], "t")
assert check_doc([("summary", "x" * 199)], "t")
assert not check_doc([("summary", "it points to another server"), ("summary", "it points to" + ELL)], "t")

cases = []
for p in sorted(glob.glob(os.path.join(src, "samples", "*.pcap")) + glob.glob(os.path.join(src, "samples", "*.pcapng"))):
    cases.append(["-r", p])
    base, ext = os.path.splitext(p)
    if base.endswith("-outside") and os.path.exists(base[:-len("-outside")] + "-inside" + ext):
        cases.append(["-r", p + "@outside", "-r", base[:-len("-outside")] + "-inside" + ext + "@inside"])
for k in sorted(glob.glob(os.path.join(src, "samples", "*.keys"))):
    outside = os.path.splitext(k)[0] + "-outside.pcap"
    if os.path.exists(outside):
        cases.append(["--tls-keylog", k, "-r", outside])

bad, runs, ellipses = [], 0, 0
for args in cases:
    name = " ".join(os.path.basename(a) for a in args)
    for fmt in ("json", "ndjson", "text", "html"):
        r = subprocess.run([fedtrace, "-q", "--format", fmt] + args, capture_output=True)
        out = r.stdout.decode("utf-8", "replace")
        runs += 1
        ellipses += out.count(ELL)
        where = "%s --format %s" % (name, fmt)
        if fmt == "json":
            bad += check_doc(list(strings(json.loads(out))), where)
        elif fmt == "ndjson":
            texts = []
            for line in out.splitlines():
                if line.strip():
                    texts += list(strings(json.loads(line)))
            bad += check_doc(texts, where)
        elif fmt == "html":
            bad += check_lines([html.unescape(l) for l in re.sub(r"<[^>]*>", "\n", out).splitlines()], where)
        else:
            bad += check_lines(out.splitlines(), where)
for b in bad:
    print("FAIL " + b)
print("summaries: %d runs, %d ellipses, %d cut inside a word" % (runs, ellipses, len(bad)))
sys.exit(1 if bad or not runs else 0)
PYEOF
