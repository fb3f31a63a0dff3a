/*
 * keystore.h - the run's TLS key store: the key log files given with
 * --tls-keylog and the key logs the captures carry (pcapng Decryption
 * Secrets Blocks), behind the one decryption context the XMPP dissector
 * is handed.
 *
 * Owned by main: keystore_new() before the pipeline starts, keystore_free()
 * after it is destroyed (every connection's decryptor is freed by then).
 * The captures are borrowed: Decryption Secrets Blocks are pulled from them
 * when a connection starts TLS and when a lookup misses, so a block read
 * just before the packets it serves is there in time.  The secrets never
 * leave the key log (analyzer/keylog.h); the store reports counts only.
 */
#ifndef FT_KEYSTORE_H
#define FT_KEYSTORE_H

#include <stddef.h>

#include "capture.h"
#include "facts.h"
#include "dissectors/tls_decrypt.h"

struct keystore;

/* An empty store reading secrets blocks from `cap` (borrowed, may be
 * NULL; it must outlive the store).  NULL on allocation failure or when
 * libcrypto lacks an algorithm. */
struct keystore *keystore_new(const struct capture *cap);

/* Adds a key log file (re-read when it grows).  0, or -1 with a one-line
 * reason in err.  warn gets a one-line warning when the file can be read
 * by group or others, else "". */
int keystore_add_file(struct keystore *ks, const char *path, char *err, size_t errlen, char *warn,
                      size_t warnlen);

/* The decryption context for the dissectors: borrowed, valid until
 * keystore_free(). */
struct tls_decrypt_ctx *keystore_decrypt_ctx(struct keystore *ks);

/* Fills snap->decrypt. */
void keystore_snapshot(const struct keystore *ks, struct stats_snapshot *snap);

/* Wipes and frees everything; NULL is fine. */
void keystore_free(struct keystore *ks);

#endif
