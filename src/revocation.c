/*
 * revocation.c - revocations as data: their keys, their lifetime, their
 * JSON-lines form (the memory store's revocations_file and the values of
 * the Redis store's keys), and the store functions of the public API that
 * dispatch to a backend.
 *
 * Accepted grammar of a revocations file (docs/policy.md, "Revocation"):
 *   file  = *( line LF ) [ line ]
 *   line  = blank / comment / entry           (a trailing CR is removed)
 *   blank = *( SP / HTAB )
 *   comment = *( SP / HTAB ) "#" *any
 *   entry = one JSON object (RFC 8259, UTF-8, no duplicate members) with
 *           "issuer" (string, required), exactly one of "jti", "sub",
 *           "kid", "jkt" (non-empty strings) or "issued_before" (an
 *           integer NumericDate), and optionally "reason" (string), "at"
 *           and "expires" (integer NumericDates; expires 0 or absent:
 *           never). Any other member is an error, so that a typo such as
 *           "subject" can never be read as "revokes nothing".
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define NUMERIC_DATE_MAX 253402300799.0

static const char *const kind_names[] = {NULL, "jti", "sub", "kid", "jkt",
    "issued_before"};

/* see claimgate.h */
const char *
cg_revoke_kind_name(cg_revoke_kind k)
{
	if ((unsigned)k < 1 || (unsigned)k > CG_REVOKE_ISSUED_BEFORE)
		return NULL;
	return kind_names[k];
}

int64_t
cg__mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
put_field(unsigned char *buf, size_t *o, const void *p, size_t len)
{
	uint64_t n = len;
	size_t i;

	for (i = 0; i < 8; i++)
		buf[(*o)++] = (unsigned char)(n >> (56 - 8 * i));
	if (len > 0)
		memcpy(buf + *o, p, len);
	*o += len;
}

int
cg__revocation_key(cg_revoke_kind kind, const char *issuer,
    const char *value, size_t value_len, unsigned char out[CG_STORE_KEY_LEN])
{
	size_t il = strlen(issuer), o = 0, total;
	unsigned char *buf;
	int rc;

	if (value == NULL)
		value_len = 0;
	total = 1 + 16 + il + value_len;
	if ((buf = cg__malloc(total)) == NULL)
		return -1;
	buf[o++] = (unsigned char)kind;
	put_field(buf, &o, issuer, il);
	put_field(buf, &o, value, value_len);
	rc = cg__sha256(buf, o, out);
	free(buf);
	return rc;
}

int
cg__policy_revocation(const struct cg_policy *p)
{
	return p != NULL && (p->store.type == CG_STORE_REDIS ||
	    p->store.revocations_file != NULL);
}

/* see claimgate.h */
cg_code
cg_revocation_expires(const struct cg_policy *pol,
    const struct cg_revocation *r, int64_t now, int64_t *expires)
{
	const struct cg_issuer *is = NULL;
	int64_t life, leeway = -1, base;
	size_t i, j;

	if (expires != NULL)
		*expires = 0;
	if (pol == NULL || r == NULL || r->issuer == NULL || expires == NULL)
		return CG_ERR_ARG;
	for (i = 0; i < pol->nissuers; i++)
		if (strcmp(pol->issuers[i].name, r->issuer) == 0) {
			is = &pol->issuers[i];
			break;
		}
	if (is == NULL)
		return CG_ERR_NOT_FOUND;
	for (j = 0; j < pol->nzones; j++) {
		const struct cg_zone *z = &pol->zones[j];
		size_t k;
		for (k = 0; k < z->naccept; k++)
			if (z->accept[k] == i && z->leeway > leeway)
				leeway = z->leeway;
	}
	if (leeway < 0)
		leeway = 30; /* no zone accepts it: the default leeway */
	life = is->max_lifetime >= 0 ? is->max_lifetime
				     : CG_REVOKE_DEFAULT_LIFETIME;
	base = now;
	if (r->kind == CG_REVOKE_ISSUED_BEFORE && r->issued_before > base)
		base = r->issued_before;
	*expires = base + life + 2 * leeway;
	return CG_OK;
}

/* ---- strings ------------------------------------------------------- */

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, at most
 * U+10FFFF, no NUL. */
static int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i], n, k;
		uint32_t cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

static cg_code
check_str(const char *what, const char *s, int required,
    struct cg_error *err)
{
	size_t len;

	if (s == NULL)
		return required ? cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
				      "revocation: %s is missing", what)
				: CG_OK;
	len = strlen(s);
	if (required && len == 0)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "revocation: %s is empty", what);
	if (len > CG_REVOKE_MAX_VALUE)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "revocation: %s is longer than %u bytes", what,
		    CG_REVOKE_MAX_VALUE);
	if (!utf8_valid(s, len))
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "revocation: %s is not UTF-8", what);
	return CG_OK;
}

cg_code
cg__revocation_valid(const struct cg_revocation *r, struct cg_error *err)
{
	cg_code rc;

	if (r == NULL || cg_revoke_kind_name(r->kind) == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "revocation: unknown kind");
	if ((rc = check_str("issuer", r->issuer, 1, err)) != CG_OK ||
	    (rc = check_str("reason", r->reason, 0, err)) != CG_OK)
		return rc;
	if (r->kind == CG_REVOKE_ISSUED_BEFORE) {
		if (r->issued_before < 0 ||
		    (double)r->issued_before > NUMERIC_DATE_MAX)
			return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
			    "revocation: issued_before out of range");
	} else if ((rc = check_str(kind_names[r->kind], r->value, 1, err)) !=
	    CG_OK) {
		return rc;
	}
	if (r->at < 0 || (double)r->at > NUMERIC_DATE_MAX || r->expires < 0 ||
	    (double)r->expires > NUMERIC_DATE_MAX)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "revocation: time out of range");
	return CG_OK;
}

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len <= n) {
		size_t nc = (b->cap == 0 ? 128 : b->cap);
		char *np;
		while (nc - b->len <= n)
			nc *= 2;
		if ((np = cg__realloc(b->p, nc)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* A JSON string (RFC 8259 section 7); the input is valid UTF-8. */
static void
sb_json_str(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	sb_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		sb_add(b, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			sb_add(b, esc, 6);
		}
	}
	sb_add(b, run, (size_t)(s - run));
	sb_add(b, "\"", 1);
}

static void
sb_num(struct sbuf *b, int64_t v)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", (long long)v);
	sb_str(b, n);
}

int
cg__rev_list_one(void *ctx, const struct cg_revocation *r, unsigned line)
{
	struct cg__rev_list *l = ctx;

	(void)line;
	if (!l->stopped && (r->expires == 0 || r->expires > l->now) &&
	    l->fn(l->ctx, r) != 0)
		l->stopped = 1;
	return 0;
}

char *
cg__revocation_json(const struct cg_revocation *r)
{
	struct sbuf b = {NULL, 0, 0, 0};

	sb_str(&b, "{\"issuer\":");
	sb_json_str(&b, r->issuer);
	sb_str(&b, ",\"");
	sb_str(&b, kind_names[r->kind]);
	sb_str(&b, "\":");
	if (r->kind == CG_REVOKE_ISSUED_BEFORE)
		sb_num(&b, r->issued_before);
	else
		sb_json_str(&b, r->value);
	if (r->reason != NULL) {
		sb_str(&b, ",\"reason\":");
		sb_json_str(&b, r->reason);
	}
	sb_str(&b, ",\"at\":");
	sb_num(&b, r->at);
	sb_str(&b, ",\"expires\":");
	sb_num(&b, r->expires);
	sb_str(&b, "}");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- parsing ---------------------------------------------------------- */

struct entry_parse {
	struct cg_revocation r;
	int nkinds;
	const char *bad; /* first problem */
	char badbuf[128];
};

static int
read_date(const struct cg_json *v, int64_t *out)
{
	double d;

	if (cg_json_number(v, &d) != CG_OK || d < 0 ||
	    d > NUMERIC_DATE_MAX || d != floor(d))
		return -1;
	*out = (int64_t)d;
	return 0;
}

static int
read_string(const struct cg_json *v, const char **out, int nonempty)
{
	size_t len;

	if (cg_json_string(v, out, &len) != CG_OK || len > CG_REVOKE_MAX_VALUE)
		return -1;
	return nonempty && len == 0 ? -1 : 0;
}

static int
on_member(void *ctx, const char *name, const struct cg_json *v)
{
	struct entry_parse *e = ctx;
	int k;

	for (k = 1; k <= CG_REVOKE_ISSUED_BEFORE; k++)
		if (strcmp(name, kind_names[k]) == 0)
			break;
	if (k <= CG_REVOKE_ISSUED_BEFORE) {
		e->nkinds++;
		e->r.kind = (cg_revoke_kind)k;
		if (k == CG_REVOKE_ISSUED_BEFORE) {
			if (read_date(v, &e->r.issued_before) != 0)
				e->bad = "\"issued_before\" must be an integer "
					 "NumericDate";
		} else if (read_string(v, &e->r.value, 1) != 0) {
			snprintf(e->badbuf, sizeof(e->badbuf),
			    "\"%s\" must be a non-empty string", name);
			e->bad = e->badbuf;
		}
	} else if (strcmp(name, "issuer") == 0) {
		if (read_string(v, &e->r.issuer, 1) != 0)
			e->bad = "\"issuer\" must be a non-empty string";
	} else if (strcmp(name, "reason") == 0) {
		if (read_string(v, &e->r.reason, 0) != 0)
			e->bad = "\"reason\" must be a string";
	} else if (strcmp(name, "at") == 0) {
		if (read_date(v, &e->r.at) != 0)
			e->bad = "\"at\" must be an integer NumericDate";
	} else if (strcmp(name, "expires") == 0) {
		if (read_date(v, &e->r.expires) != 0)
			e->bad = "\"expires\" must be an integer NumericDate";
	} else {
		char esc[80];
		cg__escape(esc, sizeof(esc), name, strlen(name), 32);
		snprintf(e->badbuf, sizeof(e->badbuf), "unknown member \"%s\"",
		    esc);
		e->bad = e->badbuf;
	}
	return e->bad != NULL;
}

int
cg__revocation_parse(const char *p, size_t len, cg__rev_fn fn, void *ctx,
    unsigned line, char *why, size_t whysz, size_t *col)
{
	struct entry_parse e;
	struct cg_json *o = NULL;
	size_t bad = 0;
	char jwhy[120];
	int rc = -1;

	*col = 0;
	memset(&e, 0, sizeof(e));
	jwhy[0] = '\0';
	if (cg__json_parse_object(p, len, 2, &o, &bad, jwhy, sizeof(jwhy)) !=
	    CG_OK) {
		*col = bad <= len ? bad : 0;
		snprintf(why, whysz, "not a JSON object%s%s",
		    jwhy[0] != '\0' ? ": " : "", jwhy);
		return -1;
	}
	cg__json_object_foreach(o, on_member, &e);
	if (e.bad != NULL)
		snprintf(why, whysz, "%s", e.bad);
	else if (e.r.issuer == NULL)
		snprintf(why, whysz, "\"issuer\" is missing");
	else if (e.nkinds != 1)
		snprintf(why, whysz, "exactly one of \"jti\", \"sub\", "
				     "\"kid\", \"jkt\", \"issued_before\" is "
				     "needed");
	else if (fn(ctx, &e.r, line) != 0)
		snprintf(why, whysz, "out of memory");
	else
		rc = 0;
	cg__json_free(o);
	return rc;
}

cg_code
cg__revfile_parse(const char *text, size_t len, const char *name,
    cg__rev_fn fn, void *ctx, struct cg_error *err)
{
	size_t start = 0, end, ll, i, col;
	unsigned line = 0;
	char shown[112], why[160];

	cg__escape(shown, sizeof(shown), name, strlen(name), 96);
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		end = nl != NULL ? (size_t)(nl - text) : len;
		line++;
		ll = end - start;
		if (ll > 0 && text[start + ll - 1] == '\r')
			ll--;
		for (i = 0; i < ll && (text[start + i] == ' ' ||
				       text[start + i] == '\t');
		     i++)
			;
		if (i < ll && text[start + i] != '#') {
			if (ll > CG_REVFILE_MAX_LINE)
				return cg__err(err, CG_ERR_POLICY,
				    CG_NO_OFFSET,
				    "%s:%u:1: line longer than %u bytes", shown,
				    line, CG_REVFILE_MAX_LINE);
			if (cg__revocation_parse(text + start, ll, fn, ctx, line,
				why, sizeof(why), &col) != 0)
				return cg__err(err,
				    strcmp(why, "out of memory") == 0
					? CG_ERR_NOMEM
					: CG_ERR_POLICY,
				    start + col, "%s:%u:%zu: %s", shown, line,
				    col + 1, why);
		}
		start = end + 1;
	}
	return CG_OK;
}

cg_code
cg__revfile_read(const char *path, char **text, size_t *len, struct stat *st,
    struct cg_error *err)
{
	char shown[112], why[128], *buf = NULL;
	size_t n = 0;
	ssize_t got;
	int fd, e;

	*text = NULL;
	*len = 0;
	cg__escape(shown, sizeof(shown), path, strlen(path), 96);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto ioerr;
	if (fstat(fd, st) != 0)
		goto ioerr;
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return cg__err(err, CG_ERR_IO, CG_NO_OFFSET,
		    "%s: not a regular file", shown);
	}
	if ((uint64_t)st->st_size > CG_REVFILE_MAX_BYTES) {
		close(fd);
		return cg__err(err, CG_ERR_POLICY, CG_NO_OFFSET,
		    "%s: larger than %u bytes", shown, CG_REVFILE_MAX_BYTES);
	}
	/* One byte more than the size: a file growing while read is read
	 * again at the next check. */
	if ((buf = cg__malloc((size_t)st->st_size + 1)) == NULL) {
		close(fd);
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET,
		    "%s: out of memory", shown);
	}
	while (n < (size_t)st->st_size) {
		got = read(fd, buf + n, (size_t)st->st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto ioerr;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return CG_OK;
ioerr:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	if (strerror_r(e, why, sizeof(why)) != 0)
		snprintf(why, sizeof(why), "error %d", e);
	return cg__err(err, CG_ERR_IO, CG_NO_OFFSET, "%s: %s", shown, why);
}

static int
count_entry(void *ctx, const struct cg_revocation *r, unsigned line)
{
	(void)r;
	(void)line;
	(*(size_t *)ctx)++;
	return 0;
}

cg_code
cg__revfile_check(const char *path, struct cg_error *err)
{
	struct stat st;
	size_t len, n = 0;
	char *text;
	cg_code rc;

	if ((rc = cg__revfile_read(path, &text, &len, &st, err)) != CG_OK)
		return rc;
	rc = cg__revfile_parse(text, len, path, count_entry, &n, err);
	free(text);
	return rc;
}

/* ---- the public store functions ------------------------------------------ */

const struct cg_store_ext *
cg__store_ext(const struct cg_store *s)
{
	if (s == NULL)
		return NULL;
	if (s->ops == &cg__store_mem_ext.ops)
		return &cg__store_mem_ext;
	if (s->ops == &cg__store_mem_bare.ops)
		return &cg__store_mem_bare;
	if (s->ops == &cg__store_redis_ext.ops)
		return &cg__store_redis_ext;
	return NULL;
}

int
cg__store_revocations(const struct cg_store *s)
{
	const struct cg_store_ext *x = cg__store_ext(s);

	return x != NULL && x->is_revoked != NULL;
}

/* see claimgate.h */
cg_code
cg_store_new(const struct cg_policy *pol, struct cg_store **out,
    struct cg_error *err)
{
	if (out != NULL)
		*out = NULL;
	if (pol == NULL || out == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "store: NULL argument");
	if (pol->store.type == CG_STORE_REDIS)
		return cg__store_redis_open(&pol->store, out, err);
	return cg__store_memory_open(&pol->store, out, err);
}

/* see claimgate.h */
cg_code
cg_store_revoke(struct cg_store *s, const struct cg_revocation *r,
    struct cg_error *err)
{
	cg_code rc;

	if (s == NULL || r == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "store: NULL argument");
	if ((rc = cg__revocation_valid(r, err)) != CG_OK)
		return rc;
	if (cg__store_ext(s) == NULL || cg__store_ext(s)->revoke == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "this store keeps no revocations (make it with "
		    "cg_store_new)");
	return cg__store_ext(s)->revoke(s, r, err);
}

/* see claimgate.h */
cg_code
cg_store_list(struct cg_store *s, int64_t now,
    int (*fn)(void *ctx, const struct cg_revocation *r), void *ctx,
    struct cg_error *err)
{
	if (s == NULL || fn == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "store: NULL argument");
	if (cg__store_ext(s) == NULL || cg__store_ext(s)->list == NULL)
		return CG_OK; /* nothing is revoked here */
	return cg__store_ext(s)->list(s, now, fn, ctx, err);
}

/* see claimgate.h */
int
cg_store_ready(struct cg_store *s)
{
	const struct cg_store_ext *x = cg__store_ext(s);

	if (s == NULL)
		return 0;
	return x == NULL || x->ready == NULL || x->ready(s);
}
