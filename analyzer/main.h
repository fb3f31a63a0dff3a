/*
 * main.h - the whole fedtrace program as a function.
 *
 * fedtrace_main() is what main() runs: it parses argv, reads the captures,
 * writes the report and returns the exit status (see fedtrace(1)).  It
 * frees everything it allocated before returning, so it can be called again
 * in the same process (the whole-program fuzz harness does).  getopt's
 * state is global: a caller running it more than once sets optind = 0
 * before each call.
 */
#ifndef FT_MAIN_H
#define FT_MAIN_H

int fedtrace_main(int argc, char **argv);

#endif
