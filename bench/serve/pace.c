/*
 * pace.c - bench_pace: an open-loop HTTP/1.1 load at a constant rate, for
 * loopback benchmarks (the paced cells of bench/bench_serve.sh). C11 and
 * Linux only; it does not link claimgate.
 *
 * What it measures: the response time a client sees when requests arrive
 * at a steady RATE whatever the server does. Request i is due at
 * t0 + i / RATE (CLOCK_MONOTONIC nanoseconds, computed from i, never
 * accumulated). When a request comes due it is written on an idle
 * keep-alive connection; when none is idle it is queued and written as soon
 * as one frees (it is then counted as late) - the schedule never slows
 * down. Its latency runs from its due time to the last byte of its
 * response, so a late write or the generator's own wake-up delay counts
 * against the result (coordinated omission corrected). Beside it the
 * service time (from the write to the last byte of the response) and the
 * send lag (from the due time to the write: the generator's own precision)
 * are kept. Every sample of the measured window is kept and sorted: the
 * percentiles are exact (nearest rank). The achieved rate is the number of
 * responses completed inside the measured window over its length.
 *
 * How it waits: one thread and one epoll set holding the connections and a
 * timerfd armed at the next due time with TFD_TIMER_ABSTIME (an hrtimer
 * without slack), so a request leaves within the machine's wake-up latency
 * of its due time (5-10 us at the median on an idle 2-core VM, more when
 * the CPU is shared); the send lag shows it. There is no busy-spinning:
 * between due times and responses the thread sleeps in epoll_wait. Its
 * CPU use is reported, with a warning above 90 %: past that (about 50,000
 * requests/s against nginx on a 2-core VM) its own limit shows in the
 * latencies.
 *
 * The warm-up (--warmup, default 1 s) runs the same schedule first and its
 * samples are discarded. After the last due time the generator waits at
 * most 2 s for the responses still owed; a measured request unanswered by
 * then is counted as unfinished, with the time it waited as its latency (a
 * lower bound). A request lost with its connection (reset, or closed
 * before the whole response) is counted as an error and has no sample; so
 * is each failed attempt to connect (tried again every 10 ms).
 *
 * Responses: a status line `HTTP/1.x NNN`, headers up to 16 KiB, a body of
 * Content-Length bytes (none for 1xx, 204 and 304); a 1xx is an interim
 * response and the final one is awaited. A response without
 * Content-Length, or chunked, stops the run with an error: such bodies are
 * not read. `Connection: close` (or HTTP/1.0 without keep-alive) closes
 * that connection and opens another.
 *
 * Output: the figures on stdout, then a last line for scripts:
 *   RESULT <req/s> <p50> <p90> <p99> <p99.9> <max> <service-p99> <late>
 *          <non-2xx> <errors>
 * with times written as wrk writes them (212.00us, 1.15ms, 2.01s).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PROG "bench_pace"
#define NS_PER_S 1000000000LL

#define MAX_CONNS 1024
#define MAX_HEADERS 16      /* -H options */
#define MAX_HEADER_LEN 8192 /* one -H header */
#define MAX_TARGET 8192     /* the URL's path?query */
#define MAX_TOKEN_LEN 16384 /* one line of --tokens */
#define MAX_TOKENS 1000000  /* lines of --tokens */
#define MAX_TOKENS_FILE (256L << 20)
#define MAX_RESP_HEAD 16384  /* a response's status line and headers */
#define MAX_BODY (1LL << 40) /* Content-Length */
#define MAX_SAMPLES 10000000 /* rate x seconds */
#define MAX_SECONDS 3600.0
#define MAX_RATE 10000000.0
#define RETRY_NS 10000000LL   /* a failed connect is tried again 10 ms on */
#define DRAIN_NS 2000000000LL /* the wait for responses after the last due */
#define MAX_LOGGED 5          /* connection errors told on stderr */
#define MAX_STATUS_SHOWN 5    /* distinct non-2xx statuses printed */
#define TIMER_TAG UINT64_MAX  /* the timerfd's epoll data */

struct opts {
	double rate, seconds, warmup;
	int conns;
	const char *headers[MAX_HEADERS];
	int nheaders;
	const char *tokens_file;
	const char *url;
	struct sockaddr_in addr;
	char hostport[32]; /* "A.B.C.D:PORT", for Host and the messages */
	const char *target;
};

enum conn_state { C_DOWN, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
	int fd;
	uint32_t gen; /* bumped per socket: stale epoll events are dropped */
	enum conn_state state;
	int64_t retry_at; /* C_DOWN: when to connect again */
	uint64_t req;     /* C_BUSY: the request's index */
	int64_t sent;     /* C_BUSY: when it was written */
	const char *out;  /* C_BUSY: the request's bytes */
	size_t outlen, outoff;
	int want_out;   /* EPOLLOUT is in the set */
	char *buf;      /* the request built with a token (--tokens) */
	size_t headlen; /* bytes of the response head so far */
	int in_body;    /* the head is parsed, body_left to come */
	uint64_t body_left;
	int status, close_after;
	char head[MAX_RESP_HEAD];
};

struct run {
	const struct opts *o;
	int ep, tfd;
	struct conn *c;
	int *idle; /* ring of idle connections, FIFO */
	int idle_head, idle_n, ndown, busy;
	char *prefix; /* request line, Host, -H headers */
	size_t prefixlen;
	char *fixed; /* the whole request without --tokens */
	size_t fixedlen;
	char *tokdata; /* the --tokens file, split in place */
	char **tok;
	size_t ntok, maxtok;
	int64_t t0, t_start, t_end, deadline, armed;
	uint64_t nwarm, total, next_due, next_send, late_from;
	int64_t *lat, *svc, *lag;
	size_t nlat, nsvc, cap;
	uint64_t in_window, ok2xx, non2xx, late, errors, reconnects;
	uint64_t unfinished;
	double cpu; /* the generator's CPU time over the run's wall time */
	uint64_t status[600];
	int logged, fatal;
};

static char rbuf[1 << 16];

/* ---- small helpers ---------------------------------------------------- */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t
due(const struct run *r, uint64_t i)
{
	return r->t0 + (int64_t)llround((double)i * 1e9 / r->o->rate);
}

/* Writes NS as wrk does: 212.00us, 1.15ms, 2.01s; "-" when negative. */
static const char *
fmt_time(int64_t ns, char *buf, size_t n)
{
	double us = (double)ns / 1e3;

	if (ns < 0)
		snprintf(buf, n, "-");
	else if (us < 1e3)
		snprintf(buf, n, "%.2fus", us);
	else if (us < 1e6)
		snprintf(buf, n, "%.2fms", us / 1e3);
	else
		snprintf(buf, n, "%.2fs", us / 1e6);
	return buf;
}

/* User and system CPU time of this process, in seconds. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile PERMILLE/1000 of sorted V, or -1. */
static int64_t
pct(const int64_t *v, size_t n, unsigned permille)
{
	size_t k;

	if (n == 0)
		return -1;
	k = (n * permille + 999) / 1000;
	return v[k > 0 ? k - 1 : 0];
}

static int
is_tchar(int ch)
{
	return ch != '\0' &&
	       ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	           (ch >= 'A' && ch <= 'Z') ||
	           strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Whether the comma-separated header value V (N bytes) has token WORD. */
static int
has_token(const char *v, size_t n, const char *word)
{
	size_t wl = strlen(word), i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == wl && strncasecmp(v + s, word, wl) == 0)
			return 1;
	}
	return 0;
}

/* ---- options ------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " --rate R --seconds S [--warmup S] [--conns N]\n"
	    "           [-H 'Name: value']... [--tokens FILE] "
	    "http://A.B.C.D:PORT/path?query\n"
	    "An open-loop HTTP/1.1 load at a constant rate: request i is due "
	    "at start + i/R,\n"
	    "and its latency runs from that due time to the end of its "
	    "response.\n"
	    "  --rate R       requests per second (up to %.0f)\n"
	    "  --seconds S    the measured window (up to %.0f)\n"
	    "  --warmup S     the same schedule first, not measured "
	    "(default 1)\n"
	    "  --conns N      keep-alive connections, opened before the "
	    "clock starts\n"
	    "                 (1..%d, default 32)\n"
	    "  -H 'N: v'      a request header (up to %d)\n"
	    "  --tokens FILE  one token a line: request k carries "
	    "'Authorization: Bearer'\n"
	    "                 and token k mod n\n"
	    "Last line: RESULT <req/s> <p50> <p90> <p99> <p99.9> <max> "
	    "<service-p99> <late>\n"
	    "           <non-2xx> <errors>\n",
	    MAX_RATE, MAX_SECONDS, MAX_CONNS, MAX_HEADERS);
}

static int
parse_num(const char *name, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo ||
	    v > hi) {
		fprintf(stderr, PROG ": %s: '%s' is not a number in [%g, %g]\n",
		    name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
check_header(const char *h)
{
	const char *colon = strchr(h, ':');
	size_t i;

	if (strlen(h) > MAX_HEADER_LEN) {
		fprintf(stderr, PROG ": -H: a header is over %d bytes\n",
		    MAX_HEADER_LEN);
		return -1;
	}
	if (colon == NULL || colon == h) {
		fprintf(stderr, PROG ": -H '%s': not 'Name: value'\n", h);
		return -1;
	}
	for (i = 0; h + i < colon; i++)
		if (!is_tchar((unsigned char)h[i])) {
			fprintf(stderr, PROG ": -H '%s': bad name\n", h);
			return -1;
		}
	for (i = (size_t)(colon - h) + 1; h[i] != '\0'; i++)
		if ((unsigned char)h[i] < 0x20 && h[i] != '\t') {
			fprintf(stderr,
			    PROG ": -H: a control character in the value of "
			         "'%.*s'\n",
			    (int)(colon - h), h);
			return -1;
		}
	return 0;
}

/* http://A.B.C.D:PORT[/path?query] */
static int
parse_url(struct opts *o, const char *url)
{
	const char *host = url + 7, *colon, *slash;
	char ip[16], *end;
	unsigned long port;
	size_t i;

	if (strncmp(url, "http://", 7) != 0) {
		fprintf(stderr,
		    PROG ": %s: only http://A.B.C.D:PORT/path URLs (a numeric "
		         "IPv4 host) are supported\n",
		    url);
		return -1;
	}
	colon = strchr(host, ':');
	slash = strchr(host, '/');
	if (colon == NULL || (slash != NULL && slash < colon)) {
		fprintf(stderr, PROG ": %s: the URL needs a port\n", url);
		return -1;
	}
	if ((size_t)(colon - host) >= sizeof(ip)) {
		fprintf(stderr,
		    PROG ": %s: the host is not a numeric IPv4 "
		         "address\n",
		    url);
		return -1;
	}
	memcpy(ip, host, (size_t)(colon - host));
	ip[colon - host] = '\0';
	memset(&o->addr, 0, sizeof(o->addr));
	o->addr.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &o->addr.sin_addr) != 1) {
		fprintf(stderr,
		    PROG ": %s: the host '%s' is not a numeric IPv4 address\n",
		    url, ip);
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || (*end != '\0' && *end != '/') || errno != 0 ||
	    port == 0 || port > 65535 || colon[1] == '+' || colon[1] == '-') {
		fprintf(stderr,
		    PROG ": %s: the port is not a number in "
		         "[1, 65535]\n",
		    url);
		return -1;
	}
	o->addr.sin_port = htons((uint16_t)port);
	snprintf(o->hostport, sizeof(o->hostport), "%s:%lu", ip, port);
	o->target = *end == '/' ? end : "/";
	if (strlen(o->target) > MAX_TARGET) {
		fprintf(stderr, PROG ": the URL's path is over %d bytes\n",
		    MAX_TARGET);
		return -1;
	}
	for (i = 0; o->target[i] != '\0'; i++)
		if ((unsigned char)o->target[i] <= 0x20 ||
		    (unsigned char)o->target[i] >= 0x7f ||
		    o->target[i] == '#') {
			fprintf(stderr,
			    PROG ": %s: the path has a byte a request line "
			         "cannot carry (0x%02x)\n",
			    url, (unsigned char)o->target[i]);
			return -1;
		}
	return 0;
}

/* Returns 0, 1 after --help, or -1 on a usage error (told on stderr). */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	double conns = 32;
	int i, have_rate = 0, have_secs = 0;

	memset(o, 0, sizeof(*o));
	o->warmup = 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (a[0] != '-') {
			if (o->url != NULL) {
				fprintf(
				    stderr, PROG ": one URL only ('%s')\n", a);
				return -1;
			}
			o->url = a;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, PROG ": %s needs a value\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--rate") == 0) {
			if (parse_num(a, v, 1e-3, MAX_RATE, &o->rate) != 0)
				return -1;
			have_rate = 1;
		} else if (strcmp(a, "--seconds") == 0) {
			if (parse_num(a, v, 1e-3, MAX_SECONDS, &o->seconds) !=
			    0)
				return -1;
			have_secs = 1;
		} else if (strcmp(a, "--warmup") == 0) {
			if (parse_num(a, v, 0, MAX_SECONDS, &o->warmup) != 0)
				return -1;
		} else if (strcmp(a, "--conns") == 0) {
			if (parse_num(a, v, 1, MAX_CONNS, &conns) != 0)
				return -1;
			if (conns != floor(conns)) {
				fprintf(stderr,
				    PROG ": --conns: a whole number in [1, "
				         "%d]\n",
				    MAX_CONNS);
				return -1;
			}
		} else if (strcmp(a, "-H") == 0) {
			if (o->nheaders == MAX_HEADERS) {
				fprintf(stderr, PROG ": over %d -H headers\n",
				    MAX_HEADERS);
				return -1;
			}
			if (check_header(v) != 0)
				return -1;
			o->headers[o->nheaders++] = v;
		} else if (strcmp(a, "--tokens") == 0) {
			o->tokens_file = v;
		} else {
			fprintf(
			    stderr, PROG ": unknown option %s (--help)\n", a);
			return -1;
		}
	}
	o->conns = (int)conns;
	if (!have_rate || !have_secs || o->url == NULL) {
		fprintf(stderr, PROG ": --rate, --seconds and a URL are needed "
		                     "(--help)\n");
		return -1;
	}
	if (o->rate * o->seconds > MAX_SAMPLES) {
		fprintf(stderr,
		    PROG ": rate x seconds is over %d samples; shorten the "
		         "run\n",
		    MAX_SAMPLES);
		return -1;
	}
	if (o->rate * o->seconds < 1) {
		fprintf(stderr, PROG ": rate x seconds is under one request\n");
		return -1;
	}
	for (i = 0; i < o->nheaders && o->tokens_file != NULL; i++)
		if (strncasecmp(o->headers[i], "authorization:", 14) == 0) {
			fprintf(stderr, PROG ": -H Authorization and --tokens "
			                     "together: the tokens set it\n");
			return -1;
		}
	return parse_url(o, o->url);
}

/* ---- the requests ------------------------------------------------------ */

/* Reads FILE whole (bounded) into r->tokdata; returns its length or -1. */
static long
read_whole(struct run *r, const char *file)
{
	FILE *f = fopen(file, "rb");
	struct stat st;
	size_t n = 0, got, cap;

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(
		    stderr, PROG ": --tokens %s: %s\n", file, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_TOKENS_FILE) {
		fprintf(stderr, PROG ": --tokens %s: %s\n", file,
		    S_ISREG(st.st_mode) ? "over 256 MiB" : "not a file");
		fclose(f);
		return -1;
	}
	cap = (size_t)st.st_size + 2; /* one more to see it grow, one '\n' */
	if ((r->tokdata = malloc(cap)) == NULL) {
		fprintf(stderr, PROG ": --tokens: out of memory\n");
		fclose(f);
		return -1;
	}
	while (
	    n < cap - 1 && (got = fread(r->tokdata + n, 1, cap - 1 - n, f)) > 0)
		n += got;
	if (ferror(f) || n > (size_t)st.st_size) {
		fprintf(stderr, PROG ": --tokens %s: %s\n", file,
		    ferror(f) ? "read error" : "changed while read");
		fclose(f);
		return -1;
	}
	fclose(f);
	if (n > 0 && r->tokdata[n - 1] != '\n')
		r->tokdata[n++] = '\n';
	return (long)n;
}

/* One token a line of FILE into r->tok. */
static int
load_tokens(struct run *r, const char *file)
{
	long n = read_whole(r, file);
	size_t line = 1, cap = 1024;
	char *p, *end;

	if (n < 0)
		return -1;
	if ((r->tok = malloc(cap * sizeof(*r->tok))) == NULL) {
		fprintf(stderr, PROG ": --tokens: out of memory\n");
		return -1;
	}
	for (p = r->tokdata; p < r->tokdata + n; p = end + 1, line++) {
		size_t len;

		end = memchr(p, '\n', (size_t)(r->tokdata + n - p));
		len = (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			fprintf(stderr, PROG ": --tokens %s:%zu: empty line\n",
			    file, line);
			return -1;
		}
		if (len > MAX_TOKEN_LEN) {
			fprintf(stderr,
			    PROG ": --tokens %s:%zu: a token over %d bytes\n",
			    file, line, MAX_TOKEN_LEN);
			return -1;
		}
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)p[k] <= 0x20 ||
			    (unsigned char)p[k] >= 0x7f) {
				fprintf(stderr,
				    PROG ": --tokens %s:%zu: byte 0x%02x is "
				         "not a token character\n",
				    file, line, (unsigned char)p[k]);
				return -1;
			}
		if (r->ntok == MAX_TOKENS) {
			fprintf(stderr, PROG ": --tokens %s: over %d tokens\n",
			    file, MAX_TOKENS);
			return -1;
		}
		if (r->ntok == cap) {
			char **t = realloc(r->tok, 2 * cap * sizeof(*t));

			if (t == NULL) {
				fprintf(stderr, PROG ": --tokens: out of "
				                     "memory\n");
				return -1;
			}
			r->tok = t;
			cap *= 2;
		}
		p[len] = '\0';
		r->tok[r->ntok++] = p;
		if (len > r->maxtok)
			r->maxtok = len;
	}
	if (r->ntok == 0) {
		fprintf(stderr, PROG ": --tokens %s: no tokens\n", file);
		return -1;
	}
	return 0;
}

/* The request line, Host and the -H headers; the whole request when no
 * tokens are given. */
static int
build_requests(struct run *r)
{
	const struct opts *o = r->o;
	size_t cap = 64 + MAX_TARGET + sizeof(o->hostport) +
	             (size_t)MAX_HEADERS * (MAX_HEADER_LEN + 2) + 2;
	char *p = malloc(cap);
	size_t n;
	int i, host = 0;

	if (p == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	for (i = 0; i < o->nheaders; i++)
		if (strncasecmp(o->headers[i], "host:", 5) == 0)
			host = 1;
	n = (size_t)snprintf(p, cap, "GET %s HTTP/1.1\r\n", o->target);
	if (!host)
		n += (size_t)snprintf(
		    p + n, cap - n, "Host: %s\r\n", o->hostport);
	for (i = 0; i < o->nheaders; i++)
		n += (size_t)snprintf(p + n, cap - n, "%s\r\n", o->headers[i]);
	r->prefix = p;
	r->prefixlen = n;
	if (r->ntok == 0) {
		n += (size_t)snprintf(p + n, cap - n, "\r\n");
		r->fixed = p;
		r->fixedlen = n;
	}
	return 0;
}

/* Points C at request I's bytes. */
static void
request_bytes(struct run *r, struct conn *c, uint64_t i)
{
	const char *t;
	size_t tl, n = r->prefixlen;

	if (r->ntok == 0) {
		c->out = r->fixed;
		c->outlen = r->fixedlen;
		return;
	}
	t = r->tok[i % r->ntok];
	tl = strlen(t);
	memcpy(c->buf, r->prefix, n);
	memcpy(c->buf + n, "Authorization: Bearer ", 22);
	n += 22;
	memcpy(c->buf + n, t, tl);
	n += tl;
	memcpy(c->buf + n, "\r\n\r\n", 4);
	c->out = c->buf;
	c->outlen = n + 4;
}

/* ---- connections ------------------------------------------------------ */

static void
push_idle(struct run *r, struct conn *c)
{
	int n = r->o->conns;

	r->idle[(r->idle_head + r->idle_n) % n] = (int)(c - r->c);
	r->idle_n++;
	c->state = C_IDLE;
}

static struct conn *
pop_idle(struct run *r)
{
	int k = r->idle[r->idle_head];

	r->idle_head = (r->idle_head + 1) % r->o->conns;
	r->idle_n--;
	return &r->c[k];
}

/* Idle connections that are no longer idle (closed) leave the ring. */
static void
drop_idle(struct run *r, struct conn *c)
{
	int n = r->o->conns, k = (int)(c - r->c), i, j = 0;

	for (i = 0; i < r->idle_n; i++) {
		int v = r->idle[(r->idle_head + i) % n];

		if (v != k)
			r->idle[(r->idle_head + j++) % n] = v;
	}
	r->idle_n = j;
}

static int
watch(struct run *r, struct conn *c, int op, int out)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - r->c);
	if (epoll_ctl(r->ep, op, c->fd, &ev) != 0) {
		fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
		r->fatal = 1;
		return -1;
	}
	c->want_out = out;
	return 0;
}

static void
close_conn(struct run *r, struct conn *c)
{
	if (c->state == C_IDLE)
		drop_idle(r, c);
	if (c->state == C_BUSY)
		r->busy--;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = C_DOWN;
	c->headlen = 0;
	c->in_body = 0;
	c->body_left = 0;
}

static void
count_error(struct run *r, const struct conn *c, const char *what, int err)
{
	int measured =
	    c->state == C_BUSY ? c->req >= r->nwarm : now_ns() >= r->t_start;

	if (measured)
		r->errors++;
	if (r->logged++ < MAX_LOGGED)
		fprintf(stderr,
		    PROG ": %s: connection %d: %s: %s (%s; reconnecting)\n",
		    r->o->hostport, (int)(c - r->c), what,
		    err ? strerror(err) : "closed by the server",
		    measured ? "counted as an error" : "in the warm-up");
}

static void conn_fail(struct run *r, struct conn *c, const char *what, int err);

/* Opens C's socket without blocking; a failure leaves it down, to be
 * tried again RETRY_NS later. */
static void
connect_start(struct run *r, struct conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->gen++;
	if (c->fd < 0) {
		conn_fail(r, c, "socket", errno);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&r->o->addr,
	        sizeof(r->o->addr)) == 0) {
		if (watch(r, c, EPOLL_CTL_ADD, 0) == 0)
			push_idle(r, c);
		return;
	}
	if (errno != EINPROGRESS) {
		conn_fail(r, c, "connect", errno);
		return;
	}
	c->state = C_CONNECTING;
	watch(r, c, EPOLL_CTL_ADD, 1);
}

/* A connection error: counted, the connection closed and opened again
 * (at once after a working connection broke, RETRY_NS later when
 * connecting failed). */
static void
conn_fail(struct run *r, struct conn *c, const char *what, int err)
{
	int was_open = c->state == C_BUSY || c->state == C_IDLE;

	count_error(r, c, what, err);
	close_conn(r, c);
	if (was_open) {
		r->reconnects++;
		connect_start(r, c);
		return;
	}
	c->retry_at = now_ns() + RETRY_NS;
	r->ndown++;
}

static void
retry_down(struct run *r, int64_t now)
{
	int i;

	for (i = 0; i < r->o->conns && r->ndown > 0; i++)
		if (r->c[i].state == C_DOWN && r->c[i].retry_at <= now) {
			r->ndown--;
			connect_start(r, &r->c[i]);
		}
}

/* Before the clock starts: every connection open, or a clear error. */
static int
open_all(struct run *r)
{
	int i;

	for (i = 0; i < r->o->conns; i++) {
		struct conn *c = &r->c[i];
		int one = 1;

		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
			return -1;
		}
		if (connect(c->fd, (const struct sockaddr *)&r->o->addr,
		        sizeof(r->o->addr)) != 0) {
			fprintf(stderr, PROG ": connect to %s: %s\n",
			    r->o->hostport, strerror(errno));
			return -1;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) !=
		    0) {
			fprintf(stderr, PROG ": fcntl: %s\n", strerror(errno));
			return -1;
		}
		if (watch(r, c, EPOLL_CTL_ADD, 0) != 0)
			return -1;
		push_idle(r, c);
	}
	return 0;
}

/* ---- requests out ------------------------------------------------------ */

static void
flush(struct run *r, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->want_out)
				watch(r, c, EPOLL_CTL_MOD, 1);
			return;
		}
		if (n < 0) {
			conn_fail(r, c, "write", errno);
			return;
		}
		c->outoff += (size_t)n;
	}
	if (c->want_out)
		watch(r, c, EPOLL_CTL_MOD, 0);
}

static void
send_request(struct run *r, struct conn *c, uint64_t i)
{
	request_bytes(r, c, i);
	c->outoff = 0;
	c->req = i;
	c->headlen = 0;
	c->in_body = 0;
	c->body_left = 0;
	c->state = C_BUSY;
	r->busy++;
	c->sent = now_ns();
	flush(r, c);
}

/* The requests due by NOW go out on idle connections, in order; those
 * that find none wait (late) and leave as connections free. */
static void
advance(struct run *r, int64_t now)
{
	uint64_t from;

	while (r->next_due < r->total && due(r, r->next_due) <= now)
		r->next_due++;
	while (r->next_send < r->next_due && r->idle_n > 0 && !r->fatal)
		send_request(r, pop_idle(r), r->next_send++);
	from = r->late_from;
	if (from < r->next_send)
		from = r->next_send;
	if (from < r->nwarm)
		from = r->nwarm;
	if (r->next_due > from)
		r->late += r->next_due - from;
	r->late_from = r->next_due;
}

/* ---- responses in ------------------------------------------------------ */

static void
proto_error(struct run *r, const struct conn *c, const char *msg)
{
	fprintf(stderr, PROG ": %s: connection %d: %s\n", r->o->hostport,
	    (int)(c - r->c), msg);
	r->fatal = 1;
}

/* Content-Length's value: digits, bounded. */
static int
parse_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (uint64_t)MAX_BODY / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > (uint64_t)MAX_BODY)
		return -1;
	*out = x;
	return 0;
}

/* Parses the head c->head[0, len) (ending with an empty line): the
 * status, the body's length, whether the connection closes after. */
static int
parse_head(struct run *r, struct conn *c, size_t len)
{
	const char *h = c->head, *p, *end = h + len - 2;
	uint64_t cl = 0;
	int have_cl = 0, te = 0, chunked = 0, minor, s;

	if (len < 14 || memcmp(h, "HTTP/1.", 7) != 0 || h[7] < '0' ||
	    h[7] > '9' || h[8] != ' ' || h[9] < '1' || h[9] > '5' ||
	    h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9' ||
	    (h[12] != ' ' && h[12] != '\r')) {
		proto_error(r, c,
		    "the response does not start with "
		    "'HTTP/1.x NNN'");
		return -1;
	}
	minor = h[7] - '0';
	s = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	c->status = s;
	c->close_after = minor == 0;
	p = (const char *)memchr(h, '\n', len) + 1;
	while (p < end) {
		const char *eol = p, *colon, *v, *ve;
		size_t nl;

		while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (eol + 1 >= end)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL) {
			proto_error(r, c, "a response header without ':'");
			return -1;
		}
		nl = (size_t)(colon - p);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		     ve--)
			;
		if (nl == 14 && strncasecmp(p, "content-length", 14) == 0) {
			uint64_t x;

			if (parse_length(v, (size_t)(ve - v), &x) != 0 ||
			    (have_cl && x != cl)) {
				proto_error(r, c, "a bad Content-Length");
				return -1;
			}
			cl = x;
			have_cl = 1;
		} else if (nl == 17 &&
		           strncasecmp(p, "transfer-encoding", 17) == 0) {
			te = 1;
			chunked |= has_token(v, (size_t)(ve - v), "chunked");
		} else if (nl == 10 && strncasecmp(p, "connection", 10) == 0) {
			if (has_token(v, (size_t)(ve - v), "close"))
				c->close_after = 1;
			else if (minor == 0 &&
			         has_token(v, (size_t)(ve - v), "keep-alive"))
				c->close_after = 0;
		}
		p = eol + 2;
	}
	if (s < 200 || s == 204 || s == 304) {
		c->body_left = 0;
		return 0;
	}
	if (chunked) {
		proto_error(r, c, "chunked responses are not supported");
		return -1;
	}
	if (te) {
		proto_error(r, c, "a Transfer-Encoding is not supported");
		return -1;
	}
	if (!have_cl) {
		char msg[96];

		snprintf(msg, sizeof(msg),
		    "a %d response without Content-Length (a body read to the "
		    "close is not supported)",
		    s);
		proto_error(r, c, msg);
		return -1;
	}
	c->body_left = cl;
	return 0;
}

static void
record(struct run *r, struct conn *c, int64_t now)
{
	int64_t d = due(r, c->req);

	if (now >= r->t_start && now < r->t_end)
		r->in_window++;
	if (c->req < r->nwarm)
		return;
	if (c->status >= 200 && c->status < 300)
		r->ok2xx++;
	else {
		r->non2xx++;
		r->status[c->status]++;
	}
	r->lat[r->nlat++] = now - d;
	r->svc[r->nsvc] = now - c->sent;
	r->lag[r->nsvc++] = c->sent - d;
}

/* The response on C is complete. */
static void
complete(struct run *r, struct conn *c)
{
	record(r, c, now_ns());
	c->state = C_IDLE;
	r->busy--;
	if (c->close_after) {
		close_conn(r, c);
		r->reconnects++;
		connect_start(r, c);
		return;
	}
	push_idle(r, c);
}

/* Finds the empty line ending a head in c->head[0, c->headlen), looking
 * from FROM; returns the head's length or 0. */
static size_t
head_end(const struct conn *c, size_t from)
{
	size_t i;

	for (i = from; i + 4 <= c->headlen; i++)
		if (memcmp(c->head + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/* Feeds N bytes read on busy C into its response. */
static void
feed(struct run *r, struct conn *c, const char *p, size_t n)
{
	while (!c->in_body) { /* the head: status line and headers */
		size_t room = MAX_RESP_HEAD - c->headlen;
		size_t from = c->headlen >= 3 ? c->headlen - 3 : 0;
		size_t before = c->headlen, take = n < room ? n : room, hl;

		if (n == 0)
			return;
		memcpy(c->head + c->headlen, p, take);
		c->headlen += take;
		if ((hl = head_end(c, from)) == 0) {
			if (c->headlen == MAX_RESP_HEAD)
				proto_error(
				    r, c, "a response head over 16 KiB");
			return;
		}
		p += hl - before;
		n -= hl - before;
		c->headlen = 0;
		if (parse_head(r, c, hl) != 0)
			return;
		c->in_body = c->status >= 200; /* a 1xx is interim */
	}
	if (n > c->body_left) {
		proto_error(r, c, "bytes after the end of the response");
		return;
	}
	c->body_left -= n;
	if (c->body_left == 0)
		complete(r, c);
}

static void
on_readable(struct run *r, struct conn *c)
{
	ssize_t n;

	do
		n = read(c->fd, rbuf, sizeof(rbuf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		conn_fail(r, c, "read", errno);
		return;
	}
	if (n == 0) {
		if (c->state == C_IDLE) { /* keep-alive closed: not an error */
			close_conn(r, c);
			r->reconnects++;
			connect_start(r, c);
			return;
		}
		/* closed before the whole response */
		conn_fail(r, c, "read", 0);
		return;
	}
	if (c->state != C_BUSY) {
		conn_fail(r, c, "data on an idle connection", EPROTO);
		return;
	}
	feed(r, c, rbuf, (size_t)n);
}

static void
on_event(struct run *r, uint64_t data, uint32_t events)
{
	struct conn *c;
	uint32_t k = (uint32_t)data;
	int err = 0;
	socklen_t el = sizeof(err);

	if (k >= (uint32_t)r->o->conns)
		return;
	c = &r->c[k];
	if ((uint32_t)(data >> 32) != c->gen || c->fd < 0)
		return; /* an event of a socket closed since */
	switch (c->state) {
	case C_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
		if (err != 0) {
			conn_fail(r, c, "connect", err);
			return;
		}
		if (events & EPOLLOUT) {
			watch(r, c, EPOLL_CTL_MOD, 0);
			push_idle(r, c);
		}
		return;
	case C_BUSY:
		if ((events & EPOLLOUT) && c->outoff < c->outlen) {
			flush(r, c);
			if (c->state != C_BUSY ||
			    c->gen != (uint32_t)(data >> 32))
				return;
		}
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			on_readable(r, c);
		return;
	case C_IDLE: on_readable(r, c); return;
	case C_DOWN: return;
	}
}

/* ---- the run ------------------------------------------------------------ */

static int
arm(struct run *r, int64_t at)
{
	struct itimerspec its;

	if (at == r->armed)
		return 0;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(at / NS_PER_S);
	its.it_value.tv_nsec = (long)(at % NS_PER_S);
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
		fprintf(
		    stderr, PROG ": timerfd_settime: %s\n", strerror(errno));
		return -1;
	}
	r->armed = at;
	return 0;
}

/* The next moment something is owed: a due time, a reconnection, or the
 * end of the wait for the last responses. */
static int64_t
next_wake(const struct run *r)
{
	int64_t at = r->next_due < r->total ? due(r, r->next_due) : r->deadline;
	int i;

	for (i = 0; i < r->o->conns && r->ndown > 0; i++)
		if (r->c[i].state == C_DOWN && r->c[i].retry_at < at)
			at = r->c[i].retry_at;
	return at;
}

/* Measured requests still owed at the end: their wait so far is their
 * latency, a lower bound. */
static void
count_unfinished(struct run *r, int64_t now)
{
	uint64_t i;
	int k;

	for (k = 0; k < r->o->conns; k++)
		if (r->c[k].state == C_BUSY && r->c[k].req >= r->nwarm) {
			r->lat[r->nlat++] = now - due(r, r->c[k].req);
			r->unfinished++;
		}
	for (i = r->next_send > r->nwarm ? r->next_send : r->nwarm;
	     i < r->total; i++) {
		r->lat[r->nlat++] = now - due(r, i);
		r->unfinished++;
	}
}

static int
run_loop(struct run *r)
{
	struct epoll_event ev[64];
	int64_t now;

	for (;;) {
		now = now_ns();
		advance(r, now);
		if (r->ndown > 0)
			retry_down(r, now);
		if (r->fatal)
			return -1;
		if ((r->next_send == r->total && r->busy == 0) ||
		    now >= r->deadline)
			break;
		if (arm(r, next_wake(r)) != 0)
			return -1;
		int n = epoll_wait(r->ep, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			fprintf(
			    stderr, PROG ": epoll_wait: %s\n", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n && !r->fatal; i++)
			if (ev[i].data.u64 != TIMER_TAG)
				on_event(r, ev[i].data.u64, ev[i].events);
	}
	count_unfinished(r, now);
	return 0;
}

static int
setup(struct run *r, const struct opts *o)
{
	struct epoll_event ev;
	size_t bufsize;
	int i;

	r->o = o;
	r->ep = r->tfd = -1;
	r->nwarm = (uint64_t)ceil(o->warmup * o->rate);
	r->total = (uint64_t)ceil((o->warmup + o->seconds) * o->rate);
	r->cap = (size_t)(r->total - r->nwarm);
	if (o->tokens_file != NULL && load_tokens(r, o->tokens_file) != 0)
		return -1;
	if (build_requests(r) != 0)
		return -1;
	r->c = calloc((size_t)o->conns, sizeof(*r->c));
	r->idle = calloc((size_t)o->conns, sizeof(*r->idle));
	r->lat = malloc((r->cap + 1) * sizeof(*r->lat));
	r->svc = malloc((r->cap + 1) * sizeof(*r->svc));
	r->lag = malloc((r->cap + 1) * sizeof(*r->lag));
	if (r->c == NULL || r->idle == NULL || r->lat == NULL ||
	    r->svc == NULL || r->lag == NULL) {
		fprintf(
		    stderr, PROG ": out of memory for %zu samples\n", r->cap);
		return -1;
	}
	bufsize = r->prefixlen + 22 + r->maxtok + 4;
	for (i = 0; i < o->conns; i++) {
		r->c[i].fd = -1;
		if (r->ntok > 0 && (r->c[i].buf = malloc(bufsize)) == NULL) {
			fprintf(stderr, PROG ": out of memory\n");
			return -1;
		}
	}
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->ep < 0 || r->tfd < 0) {
		fprintf(stderr, PROG ": epoll/timerfd: %s\n", strerror(errno));
		return -1;
	}
	/* Edge-triggered: each expiry wakes the loop once, and re-arming
	 * clears it, so the timerfd is never read. */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = TIMER_TAG;
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->tfd, &ev) != 0) {
		fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
		return -1;
	}
	return open_all(r);
}

static void
teardown(struct run *r)
{
	int i;

	for (i = 0; r->c != NULL && i < r->o->conns; i++) {
		if (r->c[i].fd >= 0)
			close(r->c[i].fd);
		free(r->c[i].buf);
	}
	if (r->ep >= 0)
		close(r->ep);
	if (r->tfd >= 0)
		close(r->tfd);
	free(r->c);
	free(r->idle);
	free(r->lat);
	free(r->svc);
	free(r->lag);
	free(r->prefix);
	free(r->tokdata);
	free(r->tok);
}

static void
print_statuses(const struct run *r)
{
	int s, shown = 0, more = 0;

	for (s = 100; s < 600; s++) {
		if (r->status[s] == 0)
			continue;
		if (shown == MAX_STATUS_SHOWN) {
			more++;
			continue;
		}
		printf("%s%d: %" PRIu64,
		    shown ? ", " : "  non-2xx statuses: ", s, r->status[s]);
		shown++;
	}
	if (more)
		printf(" and %d more statuses", more);
	if (shown)
		printf("\n");
}

/* One line of a sorted sample: p50 (p90), p99, p99.9 and max. */
static void
print_spread(const char *what, const int64_t *v, size_t n, int with_p90)
{
	char t[5][32];

	printf("  %s: p50 %s", what, fmt_time(pct(v, n, 500), t[0], 32));
	if (with_p90)
		printf("  p90 %s", fmt_time(pct(v, n, 900), t[1], 32));
	printf("  p99 %s  p99.9 %s  max %s\n",
	    fmt_time(pct(v, n, 990), t[2], 32),
	    fmt_time(pct(v, n, 999), t[3], 32),
	    fmt_time(n ? v[n - 1] : -1, t[4], 32));
}

static void
report(struct run *r)
{
	const struct opts *o = r->o;
	double rate = (double)r->in_window / o->seconds;
	char t[8][32];

	qsort(r->lat, r->nlat, sizeof(*r->lat), cmp_i64);
	qsort(r->svc, r->nsvc, sizeof(*r->svc), cmp_i64);
	qsort(r->lag, r->nsvc, sizeof(*r->lag), cmp_i64);
	printf(PROG ": %s at %.2f req/s for %.2f s after %.2f s of warm-up, "
	            "%d connections\n",
	    o->url, o->rate, o->seconds, o->warmup, o->conns);
	printf("  achieved %.2f req/s (%" PRIu64
	       " responses in the window); measured: %" PRIu64 " 2xx, %" PRIu64
	       " non-2xx, %" PRIu64 " errors, %" PRIu64 " late, %" PRIu64
	       " unfinished; %" PRIu64 " reconnects\n",
	    rate, r->in_window, r->ok2xx, r->non2xx, r->errors, r->late,
	    r->unfinished, r->reconnects);
	print_statuses(r);
	print_spread("latency from the due time", r->lat, r->nlat, 1);
	print_spread("service time (write to response)", r->svc, r->nsvc, 0);
	printf("  generator CPU: %.0f%% of one core\n", 100 * r->cpu);
	print_spread("send lag (due time to write)", r->lag, r->nsvc, 0);
	if (r->unfinished > 0)
		fprintf(stderr,
		    PROG ": %" PRIu64 " requests unanswered %.1f s after the "
		         "last due time; their wait counts as their latency (a "
		         "lower bound)\n",
		    r->unfinished, (double)DRAIN_NS / 1e9);
	if (r->cpu > 0.9)
		fprintf(stderr,
		    PROG
		    ": warning: the generator was busy %.0f%% of the time: "
		    "its own limit may show in the latencies (see the send "
		    "lag)\n",
		    100 * r->cpu);
	if (rate < 0.95 * o->rate)
		fprintf(stderr,
		    PROG ": warning: achieved %.2f req/s, under 95%% of the "
		         "target %.2f\n",
		    rate, o->rate);
	printf("RESULT %.2f %s %s %s %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64
	       "\n",
	    rate, fmt_time(pct(r->lat, r->nlat, 500), t[0], 32),
	    fmt_time(pct(r->lat, r->nlat, 900), t[1], 32),
	    fmt_time(pct(r->lat, r->nlat, 990), t[2], 32),
	    fmt_time(pct(r->lat, r->nlat, 999), t[3], 32),
	    fmt_time(r->nlat ? r->lat[r->nlat - 1] : -1, t[4], 32),
	    fmt_time(pct(r->svc, r->nsvc, 990), t[5], 32), r->late, r->non2xx,
	    r->errors);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct run r;
	int rc = 1;

	switch (parse_opts(argc, argv, &o)) {
	case 0: break;
	case 1: return 0;
	default: return 2;
	}
	memset(&r, 0, sizeof(r));
	if (setup(&r, &o) == 0) {
		double cpu0 = cpu_seconds();

		r.t0 = now_ns();
		r.t_start = r.t0 + llround(o.warmup * 1e9);
		r.t_end = r.t0 + llround((o.warmup + o.seconds) * 1e9);
		r.deadline = r.t_end + DRAIN_NS;
		if (run_loop(&r) == 0) {
			r.cpu = (cpu_seconds() - cpu0) /
			        ((double)(now_ns() - r.t0) / 1e9);
			report(&r);
			rc = 0;
		}
	}
	teardown(&r);
	return rc;
}
