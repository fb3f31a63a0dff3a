/*
 * evidence.h - --evidence-dir: for each failed federation direction, a
 * small capture file holding only the packets behind it (its DNS lookups,
 * its connections, the dialback connect-back included), frames as in the
 * input, for a support case or Wireshark.
 *
 * Three steps, all offline:
 *   1. during the run, as a fact sink, remember where each connection and
 *      DNS lookup was on the wire: transport, both endpoints, time range
 *      (and the DNS transaction id) - never flow internals;
 *   2. at the end (evidence_plan), for each failed direction the
 *      correlator keeps, collect the connections and lookups its timeline
 *      and verdict cite (with the NAT twins of those connections: the same
 *      connection at the other capture point), and name its file after the domains and the code
 *      (sanitised: letters, digits, '.', '-' and '_' only, so wire data
 *      cannot make a path).  A direction seen only as connection
 *      attempts (an unanswered connect-back) also gets what the other
 *      direction cites: nothing else names its domains;
 *   3. evidence_write: a second pass over the same inputs (a fresh
 *      capture of the same files, same filter and count) writes every
 *      frame matching a cited connection (5-tuple, either way, within its
 *      time range) or lookup (5-tuple, transaction id, time range) to
 *      that direction's file, through capture.h's dumps.
 * Limits (counted in evidence_stats): connections and lookups remembered
 * (EVIDENCE_MAX_FACTS each), files per run (EVIDENCE_MAX_FILES).  A
 * retired direction's shortened timeline cites only the connections of
 * the lines it kept.  IP fragments after the first carry no ports and are
 * not matched.
 *
 * Ownership: the caller owns the evidence object (evidence_free); paths
 * returned are owned by it and live until evidence_free().
 */
#ifndef FT_EVIDENCE_H
#define FT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "correlate.h"
#include "facts.h"

#define EVIDENCE_MAX_FACTS (1u << 20) /* connections, and lookups, remembered */
#define EVIDENCE_MAX_FILES 256        /* failed directions given a file */
#define EVIDENCE_MAX_NAME 256         /* bytes of a file name */

struct evidence_stats {
    uint64_t conns_dropped, lookups_dropped; /* not remembered (cap) */
    uint64_t files, frames;                  /* written */
    uint64_t directions_without_file;        /* failed, beyond EVIDENCE_MAX_FILES */
};

struct evidence;

/* dir: where the files go (made when missing).  NULL with a one-line
 * reason in err. */
struct evidence *evidence_new(const char *dir, char *err, size_t errlen);
void evidence_free(struct evidence *ev);

/* Step 1: the fact sink (connection records and DNS lookups). */
struct fact_sink evidence_fact_sink(struct evidence *ev);

/* Step 2: every failed direction of corr gets a file name; `pcapng` picks
 * the extension (capture_dump_is_pcapng of the inputs).  0, or -1 when
 * memory ran out. */
int evidence_plan(struct evidence *ev, const struct correlator *corr, bool pcapng);

/* Step 3: reads `inputs` (the same files as the run, not yet run) through
 * to the end and writes the files.  0, or -1 with a one-line reason in err
 * (a file that cannot be written). */
int evidence_write(struct evidence *ev, struct capture *inputs, const struct capture_options *o, char *err,
                   size_t errlen);

/* The file of a direction (dir/name), or NULL when it has none. */
const char *evidence_file_for(const struct evidence *ev, const struct corr_direction *d);

const struct evidence_stats *evidence_stats(const struct evidence *ev);

#endif
