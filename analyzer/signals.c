/*
 * signals.c - the stop and reopen flags and their handlers (see signals.h).
 */
#include <config.h>

#include "signals.h"

#include <string.h>

#define STOP_BY_PROGRAM (-1)

/* The signal that asked for a stop (or STOP_BY_PROGRAM), 0 while none. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t hup_pending;

static void on_stop(int sig)
{
    if (stop_requested > 0) {
        signal(sig, SIG_DFL); /* second request: let it end the process */
        raise(sig);
        return;
    }
    stop_requested = sig;
}

static void on_hup(int sig)
{
    (void)sig;
    hup_pending = 1;
}

void signals_install(void)
{
    struct sigaction sa;
    /* A run starts clear of what an earlier one in the process left (a
     * write error's stop request; fedtrace_main() can be called again). */
    stop_requested = 0;
    hup_pending = 0;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A SIGHUP must not cut a read short: a capture read from a pipe
     * would end there.  The reopen waits for the next event anyway. */
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

const volatile sig_atomic_t *signals_stop_flag(void)
{
    return &stop_requested;
}

void signals_request_stop(void)
{
    if (!stop_requested)
        stop_requested = STOP_BY_PROGRAM;
}

int signals_stop_signal(void)
{
    return stop_requested > 0 ? (int)stop_requested : 0;
}

bool signals_take_hup(void)
{
    if (!hup_pending)
        return false;
    hup_pending = 0;
    return true;
}

const char *signals_name(int sig)
{
    switch (sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "signal";
    }
}
