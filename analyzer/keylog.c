/*
 * keylog.c - TLS key log reader and store (see keylog.h for the contract).
 *
 * Entries live in one array (grown by copy-then-wipe, never realloc, so no
 * stale copy of a secret is left in freed memory) and are chained from a
 * power-of-two bucket array by index.  The bucket of a client random is
 * SipHash-2-4 (libcrypto EVP_MAC "SIPHASH") under a key drawn from
 * RAND_bytes when the key log is created.  Text is parsed line by line
 * through a fixed KEYLOG_LINE_MAX buffer that is wiped after every line;
 * files are read in 4 KiB chunks that are wiped too.
 */
#include "keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define KL_NONE UINT32_MAX
#define KL_CHAIN_MAX 64        /* a longer chain refuses the insert */
#define KL_READ_CHUNK 4096

struct kl_entry {
    uint8_t random[KEYLOG_RANDOM_LEN];
    uint8_t len[KEYLOG_LABELS];
    uint8_t secret[KEYLOG_LABELS][KEYLOG_SECRET_MAX];
    uint32_t next;             /* next entry in the bucket chain */
};

struct kl_file {
    char *path;
    bool regular;              /* can be re-read from `offset` */
    dev_t dev;
    ino_t ino;
    off_t offset;              /* bytes consumed: through the last line end */
};

struct kl_parser {             /* one line being assembled */
    char line[KEYLOG_LINE_MAX];
    size_t have;
    bool too_long;
    bool after_cr;             /* previous byte was CR: a following LF is the same end */
};

struct keylog {
    struct keylog_config cfg;
    struct kl_entry *ent;
    size_t n_ent, cap_ent;
    uint32_t *bucket;
    size_t n_bucket;           /* power of two */
    EVP_MAC_CTX *sip;          /* keyed template, duplicated per hash */
    struct kl_file *files;
    unsigned n_files;
    struct timespec last_refresh;
    bool refreshed_once;
    keylog_pull_fn pull;       /* other sources of secrets (DSBs), may be NULL */
    void *pull_user;
    struct keylog_stats st;
};

static const char *const label_names[KEYLOG_LABELS] = {
    "CLIENT_RANDOM",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
};

const char *keylog_label_name(enum keylog_label label)
{
    if ((unsigned)label >= KEYLOG_LABELS)
        return "?";
    return label_names[label];
}

void keylog_config_default(struct keylog_config *cfg)
{
    cfg->max_entries = 65536;
    cfg->refresh_ms = 100;
}

struct keylog *keylog_new(const struct keylog_config *cfg)
{
    struct keylog *kl = calloc(1, sizeof(*kl));
    EVP_MAC *mac = NULL;
    uint8_t key[16];
    size_t outsize = 8;
    OSSL_PARAM params[2];

    if (kl == NULL)
        return NULL;
    if (cfg != NULL)
        kl->cfg = *cfg;
    else
        keylog_config_default(&kl->cfg);
    if (kl->cfg.max_entries == 0 || kl->cfg.max_entries > (size_t)UINT32_MAX - 1)
        kl->cfg.max_entries = 65536;
    kl->n_bucket = 64;
    kl->bucket = malloc(kl->n_bucket * sizeof(*kl->bucket));
    if (kl->bucket == NULL)
        goto out_free;
    memset(kl->bucket, 0xff, kl->n_bucket * sizeof(*kl->bucket));
    mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    if (mac == NULL)
        goto out_free;
    kl->sip = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (kl->sip == NULL || RAND_bytes(key, sizeof(key)) != 1)
        goto out_free;
    params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outsize);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(kl->sip, key, sizeof(key), params) != 1)
        goto out_wipe_key;
    OPENSSL_cleanse(key, sizeof(key));
    return kl;

out_wipe_key:
    OPENSSL_cleanse(key, sizeof(key));
out_free:
    keylog_free(kl);
    return NULL;
}

void keylog_free(struct keylog *kl)
{
    unsigned i;

    if (kl == NULL)
        return;
    if (kl->ent != NULL) {
        OPENSSL_cleanse(kl->ent, kl->cap_ent * sizeof(*kl->ent));
        free(kl->ent);
    }
    free(kl->bucket);
    EVP_MAC_CTX_free(kl->sip);
    for (i = 0; i < kl->n_files; i++)
        free(kl->files[i].path);
    free(kl->files);
    free(kl);
}

/* SipHash of the random; 0 when libcrypto fails (still a valid bucket). */
static uint64_t kl_hash(const struct keylog *kl, const uint8_t *random)
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(kl->sip);
    uint8_t out[8] = {0};
    size_t outl = 0;
    uint64_t h = 0;
    int i;

    if (c == NULL)
        return 0;
    if (EVP_MAC_update(c, random, KEYLOG_RANDOM_LEN) == 1 &&
        EVP_MAC_final(c, out, &outl, sizeof(out)) == 1 && outl == sizeof(out)) {
        for (i = 0; i < 8; i++)
            h = (h << 8) | out[i];
    }
    EVP_MAC_CTX_free(c);
    return h;
}

static struct kl_entry *kl_find(const struct keylog *kl, const uint8_t *random, size_t *chain)
{
    uint32_t i = kl->bucket[kl_hash(kl, random) & (kl->n_bucket - 1)];
    size_t n = 0;

    while (i != KL_NONE) {
        if (CRYPTO_memcmp(kl->ent[i].random, random, KEYLOG_RANDOM_LEN) == 0)
            return &kl->ent[i];
        i = kl->ent[i].next;
        n++;
    }
    if (chain != NULL)
        *chain = n;
    return NULL;
}

/* Double the bucket array and rehash; false on allocation failure. */
static bool kl_rehash(struct keylog *kl)
{
    size_t nb = kl->n_bucket * 2, i;
    uint32_t *b = malloc(nb * sizeof(*b));

    if (b == NULL)
        return false;
    memset(b, 0xff, nb * sizeof(*b));
    for (i = 0; i < kl->n_ent; i++) {
        size_t h = (size_t)(kl_hash(kl, kl->ent[i].random) & (nb - 1));

        kl->ent[i].next = b[h];
        b[h] = (uint32_t)i;
    }
    free(kl->bucket);
    kl->bucket = b;
    kl->n_bucket = nb;
    return true;
}

/* Grow the entry array by copying and wiping the old one. */
static bool kl_grow(struct keylog *kl)
{
    size_t ncap = kl->cap_ent ? kl->cap_ent * 2 : 64;
    struct kl_entry *n;

    if (ncap > kl->cfg.max_entries)
        ncap = kl->cfg.max_entries;
    if (ncap <= kl->cap_ent)
        return false;
    n = calloc(ncap, sizeof(*n));
    if (n == NULL)
        return false;
    if (kl->ent != NULL) {
        memcpy(n, kl->ent, kl->n_ent * sizeof(*n));
        OPENSSL_cleanse(kl->ent, kl->cap_ent * sizeof(*kl->ent));
        free(kl->ent);
    }
    kl->ent = n;
    kl->cap_ent = ncap;
    return true;
}

/* Store one secret; returns true when it was stored (new or changed). */
static bool kl_store(struct keylog *kl, const uint8_t *random, enum keylog_label label,
                     const uint8_t *secret, size_t len)
{
    size_t chain = 0, h;
    struct kl_entry *e = kl_find(kl, random, &chain);

    if (e != NULL) {
        if (e->len[label] == len && CRYPTO_memcmp(e->secret[label], secret, len) == 0)
            return false; /* the same line again (both endpoints logged it) */
        if (e->len[label] != 0)
            kl->st.conflicts++;
        else
            kl->st.secrets++;
        OPENSSL_cleanse(e->secret[label], KEYLOG_SECRET_MAX);
        memcpy(e->secret[label], secret, len);
        e->len[label] = (uint8_t)len;
        return true;
    }
    if (chain >= KL_CHAIN_MAX || kl->n_ent >= kl->cfg.max_entries) {
        kl->st.dropped++;
        return false;
    }
    if (kl->n_ent == kl->cap_ent && !kl_grow(kl)) {
        kl->st.dropped++;
        return false;
    }
    if (kl->n_ent + 1 > kl->n_bucket / 4 * 3 && kl->n_bucket < ((size_t)1 << 30))
        (void)kl_rehash(kl); /* on failure the chains just get longer */
    e = &kl->ent[kl->n_ent];
    memset(e, 0, sizeof(*e));
    memcpy(e->random, random, KEYLOG_RANDOM_LEN);
    memcpy(e->secret[label], secret, len);
    e->len[label] = (uint8_t)len;
    h = (size_t)(kl_hash(kl, random) & (kl->n_bucket - 1));
    e->next = kl->bucket[h];
    kl->bucket[h] = (uint32_t)kl->n_ent;
    kl->n_ent++;
    kl->st.entries++;
    kl->st.secrets++;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode exactly n hex digits into n/2 bytes; false on a non-hex digit. */
static bool unhex(const char *s, size_t n, uint8_t *out)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool is_label(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Parse one complete line (no terminator); returns true when a secret was stored. */
static bool kl_line(struct keylog *kl, const char *s, size_t n)
{
    const char *f[3];
    size_t flen[3], k = 0, i = 0;
    uint8_t random[KEYLOG_RANDOM_LEN], secret[KEYLOG_SECRET_MAX];
    int label = -1;
    bool stored = false;

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == n || s[i] == '#')
        return false;
    kl->st.lines++;
    while (i < n) {
        size_t start = i;

        if (k == 3)
            goto malformed;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        f[k] = s + start;
        flen[k] = i - start;
        k++;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
    }
    if (k != 3 || !is_label(f[0], flen[0]))
        goto malformed;
    for (i = 0; i < KEYLOG_LABELS; i++) {
        if (flen[0] == strlen(label_names[i]) && memcmp(f[0], label_names[i], flen[0]) == 0)
            label = (int)i;
    }
    if (label < 0) {
        kl->st.ignored++; /* EXPORTER_SECRET, early and ECH labels, RSA, future labels */
        return false;
    }
    if (flen[1] != 2 * KEYLOG_RANDOM_LEN || !unhex(f[1], flen[1], random))
        goto malformed;
    if (label == KEYLOG_CLIENT_RANDOM ? flen[2] != 96 : (flen[2] != 64 && flen[2] != 96))
        goto malformed;
    if (!unhex(f[2], flen[2], secret))
        goto malformed_wipe;
    stored = kl_store(kl, random, (enum keylog_label)label, secret, flen[2] / 2);
    OPENSSL_cleanse(secret, sizeof(secret));
    return stored;

malformed_wipe:
    OPENSSL_cleanse(secret, sizeof(secret));
malformed:
    kl->st.malformed++;
    return false;
}

/* End of the line in p: parse it (unless it overflowed) and reset. */
static size_t parser_end_line(struct keylog *kl, struct kl_parser *p)
{
    size_t stored = 0;

    if (p->too_long) {
        kl->st.lines++;
        kl->st.malformed++;
    } else if (kl_line(kl, p->line, p->have)) {
        stored = 1;
    }
    OPENSSL_cleanse(p->line, p->have);
    p->have = 0;
    p->too_long = false;
    return stored;
}

/*
 * Feed bytes; complete lines are parsed.  *consumed (may be NULL) gets the
 * number of bytes up to and including the last line terminator seen.
 */
static size_t parser_feed(struct keylog *kl, struct kl_parser *p, const uint8_t *b, size_t n,
                          size_t *consumed)
{
    size_t i, stored = 0;

    for (i = 0; i < n; i++) {
        char c = (char)b[i];

        if (c == '\n' || c == '\r') {
            bool lf_after_cr = c == '\n' && p->after_cr;

            p->after_cr = c == '\r';
            if (!lf_after_cr)
                stored += parser_end_line(kl, p);
            if (consumed != NULL)
                *consumed = i + 1;
            continue;
        }
        p->after_cr = false;
        if (p->have < sizeof(p->line))
            p->line[p->have++] = c;
        else
            p->too_long = true;
    }
    return stored;
}

size_t keylog_add_text(struct keylog *kl, const uint8_t *text, size_t len)
{
    struct kl_parser p;
    size_t stored;

    if (kl == NULL || text == NULL)
        return 0;
    memset(&p, 0, sizeof(p));
    stored = parser_feed(kl, &p, text, len, NULL);
    if (p.have > 0 || p.too_long)
        stored += parser_end_line(kl, &p);
    OPENSSL_cleanse(&p, sizeof(p));
    return stored;
}

bool keylog_add_secrets_block(struct keylog *kl, uint32_t type, const uint8_t *data, size_t len)
{
    if (type != KEYLOG_DSB_TLS)
        return false;
    (void)keylog_add_text(kl, data, len);
    return true;
}

/*
 * Read fd from its current position to the end.  `final` parses an
 * unterminated last line too; *consumed gets the bytes through the last
 * line terminator.  Returns false on a read error.
 */
static bool kl_read_fd(struct keylog *kl, int fd, bool final, off_t *consumed)
{
    uint8_t buf[KL_READ_CHUNK];
    struct kl_parser p;
    off_t total = 0;
    bool ok = true;

    memset(&p, 0, sizeof(p));
    *consumed = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        size_t upto = 0;

        if (r < 0) {
            if (errno == EINTR)
                continue;
            ok = false;
            break;
        }
        if (r == 0)
            break;
        parser_feed(kl, &p, buf, (size_t)r, &upto);
        if (upto > 0)
            *consumed = total + (off_t)upto;
        total += r;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (final && (p.have > 0 || p.too_long))
        parser_end_line(kl, &p);
    OPENSSL_cleanse(&p, sizeof(p));
    return ok;
}

int keylog_add_file(struct keylog *kl, const char *path, char *err, size_t errlen, char *warn,
                    size_t warnlen)
{
    struct kl_file *nf, *f;
    struct stat st;
    off_t consumed = 0;
    int fd;

    if (warn != NULL && warnlen > 0)
        warn[0] = '\0';
    if (kl == NULL || path == NULL) {
        snprintf(err, errlen, "no key log");
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open key log %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat key log %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "key log %s is a directory", path);
        close(fd);
        return -1;
    }
    if (warn != NULL && warnlen > 0 && S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)))
        snprintf(warn, warnlen,
                 "key log %s is readable by %s (mode %04o); it holds TLS secrets: chmod 600 it",
                 path, (st.st_mode & S_IROTH) ? "everyone" : "its group",
                 (unsigned)(st.st_mode & 07777));
    nf = realloc(kl->files, (kl->n_files + 1) * sizeof(*nf));
    if (nf == NULL) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return -1;
    }
    kl->files = nf;
    f = &kl->files[kl->n_files];
    memset(f, 0, sizeof(*f));
    f->path = strdup(path);
    if (f->path == NULL) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return -1;
    }
    f->regular = S_ISREG(st.st_mode);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    if (!kl_read_fd(kl, fd, true, &consumed)) {
        snprintf(err, errlen, "cannot read key log %s: %s", path, strerror(errno));
        free(f->path);
        close(fd);
        return -1;
    }
    /* an unterminated last line was parsed, but is read again next time:
     * it may have been half written */
    f->offset = consumed;
    close(fd);
    kl->n_files++;
    kl->st.files = kl->n_files;
    return 0;
}

static void kl_refresh_file(struct keylog *kl, struct kl_file *f)
{
    struct stat st;
    off_t consumed = 0;
    int fd;

    if (!f->regular)
        return;
    fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return;
    }
    if (st.st_dev != f->dev || st.st_ino != f->ino || st.st_size < f->offset) {
        f->dev = st.st_dev; /* replaced or truncated: read it all again */
        f->ino = st.st_ino;
        f->offset = 0;
    }
    if (st.st_size > f->offset && lseek(fd, f->offset, SEEK_SET) == f->offset) {
        kl->st.refreshes++;
        if (kl_read_fd(kl, fd, true, &consumed))
            f->offset += consumed;
    }
    close(fd);
}

void keylog_refresh(struct keylog *kl)
{
    unsigned i;

    if (kl == NULL)
        return;
    for (i = 0; i < kl->n_files; i++)
        kl_refresh_file(kl, &kl->files[i]);
    clock_gettime(CLOCK_MONOTONIC, &kl->last_refresh);
    kl->refreshed_once = true;
}

/* True when the rate limit allows a refresh now. */
static bool kl_may_refresh(const struct keylog *kl)
{
    struct timespec now;
    int64_t ms;

    if (kl->n_files == 0)
        return false;
    if (!kl->refreshed_once || kl->cfg.refresh_ms == 0)
        return true;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (int64_t)(now.tv_sec - kl->last_refresh.tv_sec) * 1000 +
         (now.tv_nsec - kl->last_refresh.tv_nsec) / 1000000;
    return ms < 0 || ms >= (int64_t)kl->cfg.refresh_ms;
}

size_t keylog_get(struct keylog *kl, const uint8_t client_random[KEYLOG_RANDOM_LEN],
                  enum keylog_label label, uint8_t *out, size_t outlen)
{
    struct kl_entry *e;
    int attempt;

    if (kl == NULL || client_random == NULL || (unsigned)label >= KEYLOG_LABELS ||
        outlen < KEYLOG_SECRET_MAX)
        return 0;
    for (attempt = 0; attempt < 2; attempt++) {
        e = kl_find(kl, client_random, NULL);
        if (e != NULL && e->len[label] > 0) {
            memcpy(out, e->secret[label], e->len[label]);
            return e->len[label];
        }
        if (attempt > 0)
            break;
        if (kl->pull != NULL)
            kl->pull(kl->pull_user, kl);
        if (kl_may_refresh(kl))
            keylog_refresh(kl);
    }
    return 0;
}

void keylog_set_pull(struct keylog *kl, keylog_pull_fn pull, void *user)
{
    if (kl == NULL)
        return;
    kl->pull = pull;
    kl->pull_user = user;
}

bool keylog_has_secrets(struct keylog *kl)
{
    if (kl == NULL)
        return false;
    if (kl->n_ent == 0 && kl->pull != NULL)
        kl->pull(kl->pull_user, kl);
    return kl->n_files > 0 || kl->n_ent > 0;
}

void keylog_get_stats(const struct keylog *kl, struct keylog_stats *st)
{
    if (kl == NULL) {
        memset(st, 0, sizeof(*st));
        return;
    }
    *st = kl->st;
}
