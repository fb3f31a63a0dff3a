/*
 * keylog.h - TLS key logs (NSS SSLKEYLOGFILE format, RFC 9850) in memory.
 *
 * A key log maps a ClientHello.random to the secrets of that connection:
 *
 *   # comment
 *   CLIENT_RANDOM <64 hex: client random> <96 hex: TLS <= 1.2 master secret>
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET <64 hex> <64 or 96 hex>   (TLS 1.3)
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET ...
 *   CLIENT_TRAFFIC_SECRET_0 ...
 *   SERVER_TRAFFIC_SECRET_0 ...
 *
 * EXPORTER_SECRET, the 0-RTT labels, ECH labels and any other upper-case
 * label are accepted and ignored; a line that is not `LABEL HEX HEX` with
 * the right lengths is counted as malformed and dropped.  Lines end in LF,
 * CRLF or CR; hex is either case.  Key logs come from files (several; a
 * file may grow during a live capture: a lookup that misses re-reads the
 * new tail of every file, at most once per refresh interval) and from
 * pcapng Decryption Secrets Blocks of type "TLSK".
 *
 * The contents are secret: nothing here prints or returns them except
 * keylog_get() into a caller buffer; memory that held them is wiped with
 * OPENSSL_cleanse before it is freed.  Entries are found through a hash
 * table keyed with a random SipHash key, so crafted client randoms (a
 * hostile pcapng can carry its own key log) cannot pile into one chain.
 * Part of the TLS decryption module: the only other user of libcrypto is
 * dissectors/tls*_decrypt.c.  Not thread-safe.
 */
#ifndef FT_KEYLOG_H
#define FT_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYLOG_RANDOM_LEN 32       /* ClientHello.random */
#define KEYLOG_SECRET_MAX 48       /* longest secret kept (SHA-384, master secret) */
#define KEYLOG_LINE_MAX 512        /* longer lines are malformed */
#define KEYLOG_DSB_TLS 0x544c534bu /* pcapng DSB secrets type "TLSK" */

enum keylog_label {
    KEYLOG_CLIENT_RANDOM = 0,     /* TLS <= 1.2 master secret, 48 bytes */
    KEYLOG_CLIENT_HANDSHAKE,      /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    KEYLOG_SERVER_HANDSHAKE,      /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    KEYLOG_CLIENT_TRAFFIC_0,      /* CLIENT_TRAFFIC_SECRET_0 */
    KEYLOG_SERVER_TRAFFIC_0,      /* SERVER_TRAFFIC_SECRET_0 */
    KEYLOG_LABELS
};

struct keylog_config {
    size_t max_entries;   /* client randoms kept (default 65536); more are dropped */
    unsigned refresh_ms;  /* minimum time between re-reads on a miss (default 100; 0 = every miss) */
};

struct keylog_stats {
    uint64_t lines;       /* non-empty, non-comment lines read */
    uint64_t secrets;     /* secrets stored (a repeated identical line counts once) */
    uint64_t entries;     /* distinct client randoms */
    uint64_t ignored;     /* well-formed lines with a label fedtrace does not use */
    uint64_t malformed;   /* dropped lines */
    uint64_t conflicts;   /* a label given again with a different secret: the newer wins */
    uint64_t dropped;     /* secrets not stored: max_entries or a full hash chain */
    uint64_t refreshes;   /* files re-read after a lookup miss */
    unsigned files;       /* files added */
};

struct keylog;

/* Fill cfg with the defaults. */
void keylog_config_default(struct keylog_config *cfg);

/* An empty key log; cfg may be NULL (defaults) and is copied.  NULL on
 * allocation failure or when libcrypto cannot provide SipHash or random
 * bytes.  Free with keylog_free(). */
struct keylog *keylog_new(const struct keylog_config *cfg);

/*
 * Read the key log file `path` (borrowed; a copy is kept to re-read it)
 * and remember it for refreshes.  Returns 0, or -1 with a one-line reason
 * in err (never file content).  When the file can be read by group or
 * others, warn receives a one-line warning (else it is set to ""); warn
 * may be NULL.  A file that is not regular (a pipe) is read once.
 */
int keylog_add_file(struct keylog *kl, const char *path, char *err, size_t errlen, char *warn,
                    size_t warnlen);

/* Parse key-log text (borrowed), e.g. the payload of a pcapng DSB; the
 * last line needs no terminator.  Returns the number of secrets stored. */
size_t keylog_add_text(struct keylog *kl, const uint8_t *text, size_t len);

/* A pcapng Decryption Secrets Block: parsed when type is KEYLOG_DSB_TLS.
 * Returns true when it was a TLS key log. */
bool keylog_add_secrets_block(struct keylog *kl, uint32_t type, const uint8_t *data, size_t len);

/*
 * Copy the secret `label` of the connection whose ClientHello.random is
 * `client_random` into out (outlen >= KEYLOG_SECRET_MAX) and return its
 * length, or 0 when the key log has none.  A miss re-reads grown files
 * first (rate-limited).  The caller wipes out when done.
 */
size_t keylog_get(struct keylog *kl, const uint8_t client_random[KEYLOG_RANDOM_LEN],
                  enum keylog_label label, uint8_t *out, size_t outlen);

/*
 * Where else secrets may appear during a run (pcapng Decryption Secrets
 * Blocks of the captures being read): `pull` is called with `user` and
 * this key log before a lookup gives up and by keylog_has_secrets(), and
 * adds what is new with keylog_add_secrets_block().  pull may be NULL.
 */
typedef void (*keylog_pull_fn)(void *user, struct keylog *kl);
void keylog_set_pull(struct keylog *kl, keylog_pull_fn pull, void *user);

/* True when there is anything to decrypt with: a file was added (it may
 * still grow) or a secret is stored (after asking pull for news). */
bool keylog_has_secrets(struct keylog *kl);

/* Re-read the new tail of every file now (ignores the rate limit). */
void keylog_refresh(struct keylog *kl);

void keylog_get_stats(const struct keylog *kl, struct keylog_stats *st);

/* The label's name as written in key logs. */
const char *keylog_label_name(enum keylog_label label);

/* Wipe and free everything; NULL is fine. */
void keylog_free(struct keylog *kl);

#endif
