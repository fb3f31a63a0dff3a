/*
 * sslkeylog.c - make an OpenSSL 1.1.1/3.x server write its TLS secrets to
 * the file named by $SSLKEYLOGFILE (NSS key log format, RFC 9850), for
 * decrypting a capture of that server's traffic.
 *
 * Debian 12's OpenSSL 3.0 does not read SSLKEYLOGFILE, and neither
 * Prosody (LuaSec) nor ejabberd (fast_tls) has a key log option.  Both
 * link libssl dynamically, so this library, preloaded, wraps SSL_new():
 * it installs a key-log callback on the SSL_CTX of every new connection,
 * then calls the real SSL_new().
 *
 *   cc -shared -fPIC -O2 -o libsslkeylog.so sslkeylog.c -ldl
 *   SSLKEYLOGFILE=/path/keys LD_PRELOAD=/path/libsslkeylog.so prosody -F
 *
 * The file is created with mode 0600 and appended to.  Anyone holding it
 * can decrypt (and could have tampered with) the logged connections:
 * use it for a capture, then remove it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/ssl.h>

static int keylog_fd = -1;

static void write_line(const SSL *ssl, const char *line)
{
    size_t n = strlen(line);
    char buf[1024];

    (void)ssl;
    if (keylog_fd < 0 || n + 1 > sizeof buf)
        return;
    memcpy(buf, line, n);
    buf[n++] = '\n';
    /* one write per line: O_APPEND keeps lines of concurrent writers whole */
    if (write(keylog_fd, buf, n) < 0)
        return;
}

static void open_keylog(void)
{
    const char *path = getenv("SSLKEYLOGFILE");

    if (keylog_fd >= 0 || path == NULL || *path == '\0')
        return;
    keylog_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

/*
 * The real functions.  Lua and Erlang load libssl with dlopen(RTLD_LOCAL)
 * through their TLS modules, so it is not in the global scope and
 * RTLD_NEXT may not find it: ask for the library by name then.
 */
typedef SSL *(*ssl_new_fn)(SSL_CTX *);
typedef void (*set_keylog_fn)(SSL_CTX *, void (*)(const SSL *, const char *));

static void *libssl_symbol(const char *name)
{
    static const char *const names[] = { "libssl.so.3", "libssl.so.1.1", "libssl.so" };
    void *sym = dlsym(RTLD_NEXT, name);
    size_t i;

    for (i = 0; sym == NULL && i < sizeof names / sizeof names[0]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_NOLOAD);
        if (h == NULL)
            h = dlopen(names[i], RTLD_NOW);
        if (h != NULL)
            sym = dlsym(h, name);
    }
    return sym;
}

SSL *SSL_new(SSL_CTX *ctx)
{
    static ssl_new_fn real_ssl_new;
    static set_keylog_fn set_keylog;

    if (real_ssl_new == NULL) {
        *(void **)&real_ssl_new = libssl_symbol("SSL_new");
        *(void **)&set_keylog = libssl_symbol("SSL_CTX_set_keylog_callback");
        if (real_ssl_new == NULL)
            abort();
    }
    open_keylog();
    if (ctx != NULL && keylog_fd >= 0 && set_keylog != NULL)
        set_keylog(ctx, write_line);
    return real_ssl_new(ctx);
}
