/*
 * metrics_http.c - the /metrics endpoint (see metrics_http.h).  Each
 * connection is a small state machine: reading the request head, then
 * writing the answer, then closed.
 */
#include <config.h>

#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum client_state { CLIENT_FREE, CLIENT_READING, CLIENT_WRITING };

struct client {
    enum client_state state;
    int fd;
    int64_t deadline_ns;
    char req[METRICS_HTTP_REQUEST];
    size_t req_len;
    char *out;          /* owned: the whole answer */
    size_t out_len, out_off;
};

struct metrics_http {
    int fd;
    uint64_t served;
    struct client client[METRICS_HTTP_CLIENTS];
};

static int nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into a socket address. */
static int parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon, *port;
    unsigned long p;
    char *end;

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof(host))
            return -1;
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        port = close + 2;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof(host))
            return -1;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    errno = 0;
    p = strtoul(port, &end, 10);
    if (!*port || *end || errno || p == 0 || p > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
        *len = sizeof(struct sockaddr_in);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
        *len = sizeof(struct sockaddr_in6);
        return 0;
    }
    return -1;
}

struct metrics_http *metrics_http_listen(const char *spec, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct metrics_http *h;
    int one = 1;

    if (parse_spec(spec, &ss, &len) != 0) {
        snprintf(err, errlen, "invalid --metrics-listen '%s' (ADDRESS:PORT, e.g. 127.0.0.1:9469)", spec);
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(h->fd, (struct sockaddr *)&ss, len) != 0 || listen(h->fd, 16) != 0 || nonblocking(h->fd) != 0) {
        snprintf(err, errlen, "cannot listen on '%s': %s", spec, strerror(errno));
        if (h->fd >= 0)
            close(h->fd);
        free(h);
        return NULL;
    }
    return h;
}

static void client_close(struct client *c)
{
    if (c->state != CLIENT_FREE)
        close(c->fd);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

static void accept_new(struct metrics_http *h, int64_t now_ns)
{
    for (unsigned i = 0; i < METRICS_HTTP_CLIENTS; i++) {
        struct client *c = &h->client[i];
        int fd;
        if (c->state != CLIENT_FREE)
            continue;
        fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* nothing waiting (or an error: the next poll retries) */
        memset(c, 0, sizeof(*c));
        c->fd = fd;
        c->state = CLIENT_READING;
        c->deadline_ns = now_ns + METRICS_HTTP_TIMEOUT_NS;
    }
}

/* Makes the answer for a complete request head. */
static void answer(struct metrics_http *h, struct client *c, metrics_body_fn body, void *user,
                   const char **cached, size_t *cached_len)
{
    const char *status = "200 OK", *text;
    size_t tlen, cap;
    bool get = strncmp(c->req, "GET ", 4) == 0;

    if (!get) {
        status = "405 Method Not Allowed";
        text = "only GET\n";
    } else if (strncmp(c->req + 4, "/metrics ", 9) != 0 && strncmp(c->req + 4, "/metrics?", 9) != 0 &&
               strncmp(c->req + 4, "/metrics\r", 9) != 0) {
        status = "404 Not Found";
        text = "try /metrics\n";
    } else {
        if (!*cached)
            *cached = body(user, cached_len);
        text = *cached ? *cached : "";
        if (!*cached)
            status = "500 Internal Server Error";
    }
    tlen = text == *cached && *cached ? *cached_len : strlen(text);
    cap = tlen + 256;
    c->out = malloc(cap);
    if (!c->out) {
        client_close(c);
        return;
    }
    c->out_len = (size_t)snprintf(c->out, cap,
                                  "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                                  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                  status, tlen);
    memcpy(c->out + c->out_len, text, tlen);
    c->out_len += tlen;
    c->out_off = 0;
    c->state = CLIENT_WRITING;
    if (get && status[0] == '2')
        h->served++;
}

void metrics_http_poll(struct metrics_http *h, int64_t now_ns, metrics_body_fn body, void *user)
{
    const char *cached = NULL;
    size_t cached_len = 0;

    if (!h)
        return;
    accept_new(h, now_ns);
    for (unsigned i = 0; i < METRICS_HTTP_CLIENTS; i++) {
        struct client *c = &h->client[i];
        if (c->state == CLIENT_FREE)
            continue;
        if (now_ns > c->deadline_ns) {
            client_close(c);
            continue;
        }
        if (c->state == CLIENT_READING) {
            ssize_t n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n <= 0) {
                client_close(c);
                continue;
            }
            c->req_len += (size_t)n;
            c->req[c->req_len] = '\0';
            if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
                answer(h, c, body, user, &cached, &cached_len);
            else if (c->req_len == sizeof(c->req) - 1)
                client_close(c); /* a head that long is not a scrape */
        }
        if (c->state == CLIENT_WRITING) {
            bool broken = false;
            while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    broken = n == 0 || errno != EAGAIN; /* EAGAIN: the rest at the next poll */
                    break;
                }
                c->out_off += (size_t)n;
            }
            if (c->out_off == c->out_len || broken)
                client_close(c);
        }
    }
}

uint64_t metrics_http_served(const struct metrics_http *h)
{
    return h ? h->served : 0;
}

void metrics_http_free(struct metrics_http *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < METRICS_HTTP_CLIENTS; i++)
        if (h->client[i].state != CLIENT_FREE)
            client_close(&h->client[i]);
    close(h->fd);
    free(h);
}
