/*
 * util.c - small helpers for the command-line verbs.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void
cli_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "claimgate: %s%s", verb != NULL ? verb : "",
	    verb != NULL ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_bad_option(const char *verb, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	if (optopt != 0 && strchr(arg, '=') == NULL && arg[1] != '-')
		cli_err(verb, "unknown option or missing argument: -%c", optopt);
	else
		cli_err(verb, "unknown option or missing argument: %.64s", arg);
}

int
cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d;
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

long
cli_read_line(FILE *f, char **buf, size_t *bufsz, size_t cap,
    int *truncated)
{
	size_t n = 0;
	int c, any = 0;

	*truncated = 0;
	while ((c = getc(f)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (n >= cap) {
			*truncated = 1;
			continue;
		}
		if (n + 1 >= *bufsz) {
			size_t nsz = *bufsz == 0 ? 4096 : *bufsz * 2;
			char *nb = realloc(*buf, nsz);
			if (nb == NULL)
				return -1;
			*buf = nb;
			*bufsz = nsz;
		}
		(*buf)[n++] = (char)c;
	}
	if (!any)
		return -1;
	if (*bufsz == 0) {
		if ((*buf = malloc(1)) == NULL)
			return -1;
		*bufsz = 1;
	}
	if (n > 0 && (*buf)[n - 1] == '\r' && !*truncated)
		n--;
	(*buf)[n] = '\0';
	return (long)n;
}

int64_t
cli_now(void)
{
	return (int64_t)time(NULL);
}
