/*
 * cli.h - shared pieces of the claimgate command: verb entry points and
 * small helpers. Only the CLI prints and exits.
 */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "claimgate.h"

/* Exit statuses (claimgate(1) EXIT STATUS). */
#define CLI_ALLOW 0
#define CLI_DENY 1
#define CLI_USAGE 2

int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_mint(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_revoke(int argc, char **argv);

/* Prints "claimgate: VERB: message" to stderr. */
void cli_err(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports the option getopt refused (unknown, or missing its argument). */
void cli_bad_option(const char *verb, char **argv);

/* Parses a non-negative decimal integer of at most `max`; 0 on success. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Reads one line from f into a growing buffer, without the newline and a
 * trailing '\r'. At most `cap` bytes are kept; a longer line sets
 * *truncated and the rest is discarded. Returns the length, or -1 at end
 * of input. */
long cli_read_line(FILE *f, char **buf, size_t *bufsz, size_t cap,
    int *truncated);

/* The current time in seconds since the epoch. */
int64_t cli_now(void);

#endif
