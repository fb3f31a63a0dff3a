/*
 * xml_scan.h - a bounded, non-recursive scanner of XML markup: where tags,
 * CDATA sections, comments and processing instructions begin and end, and
 * how many elements are open, in any chunking of the bytes.  It does not
 * check well-formedness (names, entities, encoding, matching end-tag
 * names: expat's job) and allocates nothing.
 *
 * The XMPP dissector runs it beside expat to find the content of elements
 * it does not read, which then bypasses expat (xmpp_xml.c).  The state is
 * a plain struct owned by the caller; every call scans forward only.
 */
#ifndef FT_XML_SCAN_H
#define FT_XML_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xml_scan {
    uint64_t pos;      /* bytes scanned since xml_scan_reset (plus its start) */
    uint64_t tag_pos;  /* position of the last '<' */
    uint64_t tok_end;  /* position after the last markup or text that ended */
    unsigned depth;    /* open elements */
    uint8_t state;     /* enum in xml_scan.c */
    uint8_t quote;     /* inside an attribute value: its quote */
    uint8_t matched;   /* bytes of a delimiter ("[CDATA[", "--", "]]>"...) matched */
    bool slash;        /* start tag: the last byte outside quotes was '/' */
    bool lost;         /* markup it does not know was met: stop using it */
};

enum xml_scan_stop {
    XSS_END,      /* every byte scanned */
    XSS_OPENED,   /* a start tag that is not self-closing opened element number
                     watch + 1: stopped just after its '>' */
    XSS_CLOSING,  /* the end tag of element number watch + 1 begins: stopped
                     at its '<' (or at 0 when the '<' ended an earlier chunk:
                     tag_pos < the position of this chunk) */
    XSS_TOO_DEEP, /* a start tag would open more than max_depth elements:
                     stopped just after its '>' (its '<' is at tag_pos) */
    XSS_LOST,     /* a byte after '<' or "<!" that starts no markup it knows
                     ('<' at tag_pos); lost is set */
};

/* Which stops a call makes (XSS_END, XSS_TOO_DEEP and XSS_LOST always). */
enum {
    XS_STOP_OPENED = 1,
    XS_STOP_CLOSING = 2,
};

/* Start between tokens with depth elements open, at position pos. */
void xml_scan_reset(struct xml_scan *s, unsigned depth, uint64_t pos);

/*
 * Scan p[0..n) from where s is; returns the bytes scanned and sets *stop.
 * watch: the number of open elements whose children are watched (see
 * enum xml_scan_stop); stops: XS_STOP_* bits.  Borrows p for the call.
 */
size_t xml_scan_run(struct xml_scan *s, const uint8_t *p, size_t n, unsigned watch, int stops,
                    unsigned max_depth, enum xml_scan_stop *stop);

/* Between markup (text or nothing pending): bytes scanned so far were all
 * reported as tokens a parser would have handed out. */
bool xml_scan_in_text(const struct xml_scan *s);

#endif
