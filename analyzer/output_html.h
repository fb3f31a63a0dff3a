/*
 * output_html.h - the report for people: one self-contained HTML page
 * (inline CSS and SVG, no script, nothing fetched) made from a fedtrace
 * JSON document, so --format html and `fedtrace report saved.json` share
 * one code path.  Per federation direction: the verdict in colour and
 * plain words, a ladder diagram of the steps, the failing step in red with
 * its summary and advice; an overview table, the DNS lookups, the
 * connections and the capture's quality figures.
 *
 * The document is hostile input like any wire byte (a saved file may have
 * been edited): its size and depth are capped, every string is escaped
 * and cleaned to UTF-8 on the way out, and a missing or mistyped field is
 * shown as absent, never trusted.
 */
#ifndef FT_OUTPUT_HTML_H
#define FT_OUTPUT_HTML_H

#include <stddef.h>
#include <stdio.h>

/* The largest JSON document read (bytes). */
#define HTML_MAX_DOCUMENT (512u * 1024 * 1024)

/* Reads a fedtrace JSON document from `in` (read to its end; not closed)
 * and writes the HTML report to `out` (not closed, flushed).  0, or -1
 * with a one-line reason in err: the document could not be read or
 * parsed, or writing failed. */
int html_report_write(FILE *in, FILE *out, char *err, size_t errlen);

#endif
