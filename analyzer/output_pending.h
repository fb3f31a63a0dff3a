/*
 * output_pending.h - the XMPP events of connections that are still open,
 * waiting for their connection's record (the JSON document nests a
 * connection's events inside it; the text report lists them under it).
 *
 * Per open connection only a small record stays in memory (a hash table
 * keyed by flow id: stanza counts and where its newest event is); the
 * events themselves are records in a spool file, each pointing back at
 * the connection's previous one.  pending_take() reads a connection's
 * events back in order and forgets the connection.
 */
#ifndef FT_OUTPUT_PENDING_H
#define FT_OUTPUT_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output_spool.h"

struct pending_conn {
    uint64_t flow_id;     /* 0: an empty slot */
    uint64_t stanzas[3];  /* message, presence, iq (enum xmpp_stanza order) */
    int64_t newest;       /* spool offset of the newest event record; -1: none */
    uint32_t events;      /* event records kept */
};

struct pending_store {
    struct pending_conn *slot; /* owned; open addressing, linear probing */
    uint32_t cap, used;        /* cap: 0 or a power of two */
    uint64_t seed;
    struct spool spool;
    char *buf;                 /* owned: read-back buffer */
    size_t buf_cap;
    uint32_t longest;          /* longest event stored */
    int64_t *offs;             /* owned: read-back offsets */
    uint32_t offs_cap;
};

/* An empty store with its spool.  0, or -1 (ps->spool.err says why when
 * the spool failed; otherwise memory). */
int pending_init(struct pending_store *ps);

/* The record of a connection, made (zeroed) when new and `create`; NULL
 * when absent (or memory ran out).  Valid until the next call. */
struct pending_conn *pending_get(struct pending_store *ps, uint64_t flow_id, bool create);

/* Appends one event (n bytes) to the connection's list.  0, or -1 when
 * the spool failed. */
int pending_add(struct pending_store *ps, struct pending_conn *pc, const void *data, size_t n);

/* Called for each event of a connection, oldest first; `data` is
 * NUL-terminated after n bytes and lives for the call. */
typedef void (*pending_event_fn)(void *user, const char *data, size_t n);

/* Takes a connection out of the store: copies its record to *out and
 * hands its events to fn in order.  false when the connection had no
 * record (nothing is called).  Events that cannot be read back (spool or
 * memory failure) are skipped; the spool's err says so. */
bool pending_take(struct pending_store *ps, uint64_t flow_id, struct pending_conn *out,
                  pending_event_fn fn, void *user);

/* Frees the table and closes the spool. */
void pending_free(struct pending_store *ps);

#endif
