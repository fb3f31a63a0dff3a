/*
 * signals.h - what signals do to a run.
 *
 * SIGINT and SIGTERM ask the run to stop: the capture loop polls the flag
 * and the output is finished as usual.  A second one while the first is
 * being honoured takes its default action (the way out of a stuck write).
 * SIGHUP asks the output to reopen its file; it never ends the process.
 * The two flags are the program's only global state: a handler cannot be
 * handed a context.
 */
#ifndef FT_SIGNALS_H
#define FT_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* Clears both flags and installs the handlers: SIGINT and SIGTERM without
 * SA_RESTART (a blocked read returns and the loop sees the flag), SIGHUP
 * with it. */
void signals_install(void);

/* The flag the capture loop polls: non-zero once a stop was asked for. */
const volatile sig_atomic_t *signals_stop_flag(void);

/* Asks the run to stop for a reason of the program's own (a write
 * error); signals_stop_signal() stays 0 for it. */
void signals_request_stop(void);

/* SIGINT or SIGTERM when one of them stopped the run, else 0. */
int signals_stop_signal(void);

/* True once for every SIGHUP received since the last call. */
bool signals_take_hup(void);

/* "SIGINT", "SIGTERM", "SIGHUP" or "signal". */
const char *signals_name(int sig);

#endif
