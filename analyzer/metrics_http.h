/*
 * metrics_http.h - a minimal HTTP/1.0 endpoint for Prometheus scrapes:
 * GET /metrics answers the exposition text, anything else 404 (405 for
 * other methods).  Polled, never blocking: the capture loop calls
 * metrics_http_poll() on its clock.  Bounded: at most METRICS_HTTP_CLIENTS
 * connections at once (more wait in the listen backlog), a request head
 * of at most METRICS_HTTP_REQUEST bytes, METRICS_HTTP_TIMEOUT_NS to send
 * it and take the answer; a connection that breaks a bound is closed.
 */
#ifndef FT_METRICS_HTTP_H
#define FT_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_HTTP_CLIENTS 8
#define METRICS_HTTP_REQUEST 4096
#define METRICS_HTTP_TIMEOUT_NS (5 * INT64_C(1000000000))

struct metrics_http;

/* The text to answer with: *text (NUL-terminated, len bytes) stays valid
 * until the next call; NULL when none can be made. */
typedef const char *(*metrics_body_fn)(void *user, size_t *len);

/* Listens on ADDR:PORT ("127.0.0.1:9469", "[::1]:9469", "0.0.0.0:9469").
 * NULL with a one-line reason in err. */
struct metrics_http *metrics_http_listen(const char *spec, char *err, size_t errlen);

/* Accepts, reads requests and sends answers as far as possible without
 * blocking; body() is called once per poll that has a scrape to answer. */
void metrics_http_poll(struct metrics_http *h, int64_t now_ns, metrics_body_fn body, void *user);

/* Scrapes answered so far. */
uint64_t metrics_http_served(const struct metrics_http *h);

/* Closes every connection and the listening socket.  NULL is fine. */
void metrics_http_free(struct metrics_http *h);

#endif
