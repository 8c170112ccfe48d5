/*
 * policy_parse.c - policy text (YAML 1.1, or JSON) -> struct cg_policy
 * (contract section 2).
 *
 * The text is read in two passes. libyaml's event stream is first turned
 * into a small tree that keeps every node's position; the schema walk then
 * reads that tree and builds the policy. Reading events (rather than
 * yaml_parser_load) lets us see anchors, aliases and explicit tags, which
 * the document API resolves away.
 *
 * Accepted grammar, and where it is stricter or looser than YAML:
 *   - exactly one document; no anchors, aliases or explicit tags: a policy
 *     is a security document read in reviews and diffs, so every value
 *     must be written where it is used;
 *   - mapping keys are scalars and unique (compared as text, so `1` and
 *     "1" are the same key);
 *   - scalars are typed by the field that reads them, not by YAML 1.1
 *     implicit typing: a string field takes any scalar except a plain null
 *     (so `replay: off` is the string "off", not false), a boolean is a
 *     plain true/false (True, TRUE; never yes/no/on/off), an integer is
 *     plain decimal digits, a duration any scalar of the duration grammar;
 *   - a list that would mean "anything" when empty (`types`, `from`,
 *     `accept`, `match` lists) must not be empty, so that a typo can never
 *     widen what a zone lets in.
 *
 * Every error fails the whole load; nothing of a failed load escapes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>

#include <yaml.h>

#include "internal.h"
#include "cg_limits.h"
#include "policy.h"
#include "fetch.h"
#include "keysource.h"
#include "store.h"

/* ---- the node tree ---------------------------------------------------- */

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
	enum ynode_kind kind;
	int plain;		/* scalar written without quotes */
	unsigned line, col;	/* 1-based */
	size_t offset;		/* byte offset (libyaml's mark index) */
	char *s;		/* scalar text, NUL-terminated */
	size_t len;
	struct ynode **kids;	/* seq: items; map: key0, value0, key1, ... */
	size_t nkids;
	size_t cap;
};

#define YKEY(m, i) ((m)->kids[2 * (i)])
#define YVAL(m, i) ((m)->kids[2 * (i) + 1])

static size_t
ymap_size(const struct ynode *m)
{
	return m->nkids / 2;
}

static void
ynode_free(struct ynode *n)
{
	size_t i;

	/* Recursion is bounded by CG_LIMIT_POLICY_DEPTH. */
	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->s);
	free(n);
}

/* ---- parse context and errors ------------------------------------------ */

struct pctx {
	char file[112];		/* the file name as given, escaped */
	const char *base_dir;
	struct cg_error *err;
	struct cg_policy *p;
	char path[160];		/* dotted path of the value being read */
	size_t pathlen;
};

static cg_code
vfail(struct pctx *c, cg_code code, unsigned line, unsigned col,
    size_t offset, const char *field, const char *fmt, va_list ap)
{
	char msg[200];
	const char *sep = (c->pathlen > 0 && field != NULL) ? "." : "";

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c->pathlen > 0 || field != NULL)
		return cg__err(c->err, code, offset, "%s:%u:%u: %s%s%s: %s",
		    c->file, line, col, c->path, sep,
		    field != NULL ? field : "", msg);
	return cg__err(c->err, code, offset, "%s:%u:%u: %s", c->file, line,
	    col, msg);
}

/* A policy error at node `at` (NULL: 1:1), about `field` of the current
 * path (NULL: the path itself). */
static cg_code
fail(struct pctx *c, const struct ynode *at, const char *field,
    const char *fmt, ...) CG_PRINTF(4, 5);

static cg_code
fail(struct pctx *c, const struct ynode *at, const char *field,
    const char *fmt, ...)
{
	va_list ap;
	cg_code rc;

	va_start(ap, fmt);
	rc = vfail(c, CG_ERR_POLICY, at != NULL ? at->line : 1,
	    at != NULL ? at->col : 1, at != NULL ? at->offset : 0, field, fmt,
	    ap);
	va_end(ap);
	return rc;
}

/* As fail(), at a libyaml mark, without a path (the tree is not built). */
static cg_code
fail_mark(struct pctx *c, yaml_mark_t m, const char *fmt, ...)
    CG_PRINTF(3, 4);

static cg_code
fail_mark(struct pctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	cg_code rc;

	va_start(ap, fmt);
	rc = vfail(c, CG_ERR_POLICY, (unsigned)m.line + 1,
	    (unsigned)m.column + 1, m.index, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

static cg_code
nomem(struct pctx *c)
{
	return cg__err(c->err, CG_ERR_NOMEM, CG_NO_OFFSET, "%s: out of memory",
	    c->file);
}

/* Configuration strings in messages are escaped and cut. */
#define ESC_MAX 40
#define ESC_SIZE (ESC_MAX * 4 + 4)

static const char *
esc(char *buf, const char *s, size_t len)
{
	cg__escape(buf, ESC_SIZE, s, len, ESC_MAX);
	return buf;
}

static const char *
esc_node(char *buf, const struct ynode *n)
{
	return esc(buf, n->s != NULL ? n->s : "", n->len);
}

static size_t
path_push(struct pctx *c, const char *name, size_t len)
{
	char e[ESC_SIZE];
	size_t old = c->pathlen;

	cg__escape(e, sizeof(e), name, len, 32);
	snprintf(c->path + old, sizeof(c->path) - old, "%s%s",
	    old > 0 ? "." : "", e);
	c->pathlen = strlen(c->path);
	return old;
}

static void
path_pop(struct pctx *c, size_t old)
{
	c->pathlen = old;
	c->path[old] = '\0';
}

static void
set_pos(struct cg_pos *pos, const struct ynode *n)
{
	pos->line = n->line;
	pos->col = n->col;
}

/* ---- YAML events -> tree ----------------------------------------------- */

struct ybuild {
	struct ynode *root;
	struct ynode *stack[CG_LIMIT_POLICY_DEPTH];
	size_t depth;
	unsigned ndocs;
};

static struct ynode *
ynode_new(enum ynode_kind kind, yaml_mark_t m)
{
	struct ynode *n = cg__calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->line = (unsigned)m.line + 1;
	n->col = (unsigned)m.column + 1;
	n->offset = m.index;
	return n;
}

static int
same_text(const struct ynode *a, const struct ynode *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* Hangs `n` under the open container (or makes it the root). Takes
 * ownership of `n` whatever happens. */
static cg_code
attach(struct pctx *c, struct ybuild *b, struct ynode *n)
{
	struct ynode *parent;

	if (b->depth == 0) {
		/* One document (checked at DOCUMENT-START) has one root. */
		if (b->root != NULL) {
			cg_code rc = fail(c, n, NULL, "more than one document");

			ynode_free(n);
			return rc;
		}
		b->root = n;
		return CG_OK;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == YN_SEQ) {
		if (parent->nkids >= CG_LIMIT_POLICY_LIST) {
			cg_code rc = fail(c, n, NULL,
			    "more than %u list entries",
			    CG_LIMIT_POLICY_LIST);
			ynode_free(n);
			return rc;
		}
	} else if (parent->nkids % 2 == 0) {
		cg_code rc = CG_OK;

		if (n->kind != YN_SCALAR)
			rc = fail(c, n, NULL, "mapping keys must be strings");
		else if (ymap_size(parent) >= CG_LIMIT_POLICY_MAP)
			rc = fail(c, n, NULL, "more than %u mapping entries",
			    CG_LIMIT_POLICY_MAP);
		if (rc != CG_OK) {
			ynode_free(n);
			return rc;
		}
	}
	if (parent->nkids == parent->cap) {
		size_t ncap = parent->cap == 0 ? 8 : parent->cap * 2;
		struct ynode **k = cg__realloc(parent->kids,
		    ncap * sizeof(*k));

		if (k == NULL) {
			ynode_free(n);
			return nomem(c);
		}
		parent->kids = k;
		parent->cap = ncap;
	}
	parent->kids[parent->nkids++] = n;
	return CG_OK;
}

/* Orders keys by text, then by position. */
static int
key_cmp(const void *a, const void *b)
{
	const struct ynode *x = *(const struct ynode *const *)a;
	const struct ynode *y = *(const struct ynode *const *)b;
	int r = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (r != 0)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Duplicate keys, found once the mapping is complete: sorting keeps a
 * mapping of CG_LIMIT_POLICY_MAP keys at n log n (comparing each new key
 * with all earlier ones made a 1 MiB file of such mappings take seconds).
 * Reports the first key, in document order, that repeats an earlier one. */
static cg_code
check_dup_keys(struct pctx *c, const struct ynode *m)
{
	const struct ynode **keys, *dup = NULL;
	size_t i, n = ymap_size(m);
	char e[ESC_SIZE];

	if (n < 2)
		return CG_OK;
	keys = cg__calloc(n, sizeof(*keys));
	if (keys == NULL)
		return nomem(c);
	for (i = 0; i < n; i++)
		keys[i] = YKEY(m, i);
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n; i++)
		if (same_text(keys[i - 1], keys[i]) &&
		    (dup == NULL || keys[i]->offset < dup->offset))
			dup = keys[i];
	free(keys);
	if (dup != NULL)
		return fail(c, dup, NULL, "duplicate key \"%s\"",
		    esc_node(e, dup));
	return CG_OK;
}

static cg_code
no_anchor_tag(struct pctx *c, const yaml_event_t *ev,
    const yaml_char_t *anchor, const yaml_char_t *tag)
{
	if (anchor != NULL)
		return fail_mark(c, ev->start_mark,
		    "YAML anchors are not allowed");
	if (tag != NULL)
		return fail_mark(c, ev->start_mark,
		    "YAML tags are not allowed");
	return CG_OK;
}

static cg_code
on_event(struct pctx *c, struct ybuild *b, const yaml_event_t *ev,
    int *done)
{
	struct ynode *n;
	cg_code rc;

	switch (ev->type) {
	case YAML_NO_EVENT:
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
		return CG_OK;
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return CG_OK;
	case YAML_DOCUMENT_START_EVENT:
		if (b->ndocs++ > 0)
			return fail_mark(c, ev->start_mark,
			    "only one YAML document is allowed");
		return CG_OK;
	case YAML_ALIAS_EVENT:
		return fail_mark(c, ev->start_mark,
		    "YAML aliases are not allowed");
	case YAML_SCALAR_EVENT:
		rc = no_anchor_tag(c, ev, ev->data.scalar.anchor,
		    ev->data.scalar.tag);
		if (rc != CG_OK)
			return rc;
		n = ynode_new(YN_SCALAR, ev->start_mark);
		if (n == NULL)
			return nomem(c);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		n->s = cg__strndup((const char *)ev->data.scalar.value,
		    n->len);
		if (n->s == NULL) {
			ynode_free(n);
			return nomem(c);
		}
		return attach(c, b, n);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT)
			rc = no_anchor_tag(c, ev,
			    ev->data.sequence_start.anchor,
			    ev->data.sequence_start.tag);
		else
			rc = no_anchor_tag(c, ev,
			    ev->data.mapping_start.anchor,
			    ev->data.mapping_start.tag);
		if (rc != CG_OK)
			return rc;
		if (b->depth >= CG_LIMIT_POLICY_DEPTH)
			return fail_mark(c, ev->start_mark,
			    "nested deeper than %u levels",
			    CG_LIMIT_POLICY_DEPTH);
		n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ :
		    YN_MAP, ev->start_mark);
		if (n == NULL)
			return nomem(c);
		rc = attach(c, b, n);
		if (rc != CG_OK)
			return rc;
		b->stack[b->depth++] = n;
		return CG_OK;
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0) {
			rc = check_dup_keys(c, b->stack[b->depth - 1]);
			if (rc != CG_OK)
				return rc;
		}
		if (b->depth > 0)
			b->depth--;
		return CG_OK;
	case YAML_SEQUENCE_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return CG_OK;
	}
	return CG_OK;
}

/* libyaml's reader reports a byte offset, not a mark: find line and
 * column (in bytes) by counting. */
static yaml_mark_t
mark_at(const char *text, size_t len, size_t off)
{
	yaml_mark_t m;
	size_t i;

	memset(&m, 0, sizeof(m));
	if (off > len)
		off = len;
	m.index = off;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	return m;
}

static cg_code
syntax_error(struct pctx *c, const yaml_parser_t *yp, const char *text,
    size_t len)
{
	yaml_mark_t m;
	const char *problem = yp->problem != NULL ? yp->problem : "unknown";

	if (yp->error == YAML_MEMORY_ERROR)
		return nomem(c);
	if (yp->error == YAML_READER_ERROR)
		m = mark_at(text, len, yp->problem_offset);
	else
		m = yp->problem_mark;
	if (yp->context != NULL)
		return fail_mark(c, m, "YAML syntax error: %s (%s)", problem,
		    yp->context);
	return fail_mark(c, m, "YAML syntax error: %s", problem);
}

static cg_code
yaml_to_tree(struct pctx *c, const char *text, size_t len,
    struct ynode **out)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	struct ybuild b;
	cg_code rc = CG_OK;
	int done = 0;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if (!yaml_parser_initialize(&yp))
		return nomem(c);
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&yp, &ev)) {
			rc = syntax_error(c, &yp, text, len);
			break;
		}
		rc = on_event(c, &b, &ev, &done);
		yaml_event_delete(&ev);
		if (rc != CG_OK)
			break;
	}
	yaml_parser_delete(&yp);
	if (rc != CG_OK) {
		ynode_free(b.root);
		return rc;
	}
	*out = b.root;
	return CG_OK;
}

/* ---- typed reads of scalars ------------------------------------------- */

static int
key_is(const struct ynode *k, const char *name)
{
	size_t n = strlen(name);

	return k->len == n && memcmp(k->s, name, n) == 0;
}

/* YAML 1.1 null, written plain: empty, ~, null, Null, NULL. */
static int
ynull(const struct ynode *n)
{
	return n->kind == YN_SCALAR && n->plain &&
	    (n->len == 0 || strcmp(n->s, "~") == 0 ||
	    strcmp(n->s, "null") == 0 || strcmp(n->s, "Null") == 0 ||
	    strcmp(n->s, "NULL") == 0);
}

static char
ascii_lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

static char
ascii_upper(char ch)
{
	return (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
}

static int
ascii_casecmp(const char *a, size_t alen, const char *b)
{
	size_t i, blen = strlen(b);

	if (alen != blen)
		return 1;
	for (i = 0; i < alen; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return 1;
	return 0;
}

static const char *
type_name(const struct ynode *v)
{
	switch (v->kind) {
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a mapping";
	case YN_SCALAR:
		break;
	}
	return ynull(v) ? "null" : "a scalar";
}

/* A string scalar; *out is borrowed from the node. */
static cg_code
get_str(struct pctx *c, const struct ynode *v, const char *field,
    int nonempty, const char **out)
{
	if (v->kind != YN_SCALAR || ynull(v))
		return fail(c, v, field, "expected a string, not %s",
		    type_name(v));
	if (memchr(v->s, '\0', v->len) != NULL)
		return fail(c, v, field, "contains a NUL character");
	if (nonempty && v->len == 0)
		return fail(c, v, field, "must not be empty");
	*out = v->s;
	return CG_OK;
}

static cg_code
dup_str(struct pctx *c, const struct ynode *v, const char *field,
    char **out)
{
	const char *s = NULL;
	cg_code rc = get_str(c, v, field, 1, &s);

	if (rc != CG_OK)
		return rc;
	*out = cg__strdup(s);
	return *out == NULL ? nomem(c) : CG_OK;
}

static cg_code
get_bool(struct pctx *c, const struct ynode *v, const char *field, int *out)
{
	if (v->kind == YN_SCALAR && v->plain) {
		if (strcmp(v->s, "true") == 0 || strcmp(v->s, "True") == 0 ||
		    strcmp(v->s, "TRUE") == 0) {
			*out = 1;
			return CG_OK;
		}
		if (strcmp(v->s, "false") == 0 || strcmp(v->s, "False") == 0 ||
		    strcmp(v->s, "FALSE") == 0) {
			*out = 0;
			return CG_OK;
		}
	}
	return fail(c, v, field, "expected true or false");
}

/* A plain decimal integer, optionally negative. Magnitudes past 10^9 are
 * clamped to +-(10^9 + 1), so range checks still reject them. */
static cg_code
get_int(struct pctx *c, const struct ynode *v, const char *field,
    long *out)
{
	const long cap = 1000000000L;
	long n = 0;
	size_t i = 0;
	int neg = 0;

	if (v->kind != YN_SCALAR || !v->plain)
		return fail(c, v, field, "expected an integer");
	if (v->len > 0 && v->s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == v->len)
		return fail(c, v, field, "expected an integer");
	for (; i < v->len; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			return fail(c, v, field, "expected an integer");
		if (n <= cap)
			n = n * 10 + (v->s[i] - '0');
	}
	if (n > cap)
		n = cap + 1;
	*out = neg ? -n : n;
	return CG_OK;
}

static cg_code
get_duration(struct pctx *c, const struct ynode *v, const char *field,
    int64_t *out)
{
	if (v->kind != YN_SCALAR || ynull(v) ||
	    memchr(v->s, '\0', v->len) != NULL ||
	    cg__duration_parse(v->s, out) != 0)
		return fail(c, v, field, "expected a duration");
	return CG_OK;
}

static cg_code
expect_map(struct pctx *c, const struct ynode *v, const char *field)
{
	if (v->kind != YN_MAP)
		return fail(c, v, field, "expected a mapping, not %s",
		    type_name(v));
	return CG_OK;
}

static cg_code
expect_seq(struct pctx *c, const struct ynode *v, const char *field,
    int nonempty)
{
	if (v->kind != YN_SEQ)
		return fail(c, v, field, "expected a list, not %s",
		    type_name(v));
	if (nonempty && v->nkids == 0)
		return fail(c, v, field, "must not be empty");
	return CG_OK;
}

/* A list of non-empty strings, copied. */
static cg_code
get_strlist(struct pctx *c, const struct ynode *v, const char *field,
    int nonempty, struct cg_strlist *out)
{
	cg_code rc;
	size_t i;

	rc = expect_seq(c, v, field, nonempty);
	if (rc != CG_OK)
		return rc;
	out->v = cg__calloc(v->nkids, sizeof(*out->v));
	if (out->v == NULL)
		return nomem(c);
	out->n = v->nkids;
	for (i = 0; i < v->nkids; i++) {
		rc = dup_str(c, v->kids[i], field, &out->v[i]);
		if (rc != CG_OK)
			return rc;
	}
	return CG_OK;
}

/* Looks up the known keys of mapping `m` into `f`; any other key is an
 * error. Keys are unique (checked while building the tree). */
struct field {
	const char *name;
	const struct ynode *key;
	const struct ynode *val;
};

static cg_code
pick(struct pctx *c, const struct ynode *m, struct field *f, size_t nf)
{
	char e[ESC_SIZE];
	size_t i, j;

	for (i = 0; i < ymap_size(m); i++) {
		for (j = 0; j < nf; j++)
			if (key_is(YKEY(m, i), f[j].name))
				break;
		if (j == nf)
			return fail(c, YKEY(m, i), NULL, "unknown key \"%s\"",
			    esc_node(e, YKEY(m, i)));
		f[j].key = YKEY(m, i);
		f[j].val = YVAL(m, i);
	}
	return CG_OK;
}

/* Zone and issuer names: non-empty, no control characters (C0, DEL, and
 * the C1 range U+0080..U+009F, UTF-8 C2 80..C2 9F). libyaml has already
 * checked that the text is UTF-8. */
static int
valid_name(const struct ynode *k)
{
	size_t i;

	if (k->kind != YN_SCALAR || ynull(k) || k->len == 0)
		return 0;
	for (i = 0; i < k->len; i++) {
		unsigned char ch = (unsigned char)k->s[i];

		if (ch < 0x20 || ch == 0x7f)
			return 0;
		if (ch == 0xc2 && i + 1 < k->len &&
		    (unsigned char)k->s[i + 1] >= 0x80 &&
		    (unsigned char)k->s[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

/* RFC 9110 section 5.6.2: tchar. */
static int
is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int
is_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* No byte that could break a header, a log line or a URL comparison. */
static int
no_space_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

/* ---- durations, typ ------------------------------------------------------ */

/* 1*DIGIT at s, at most `max` (the loop stops before any overflow);
 * *end is the index after the digits. */
static int
parse_digits(const char *s, int64_t max, int64_t *v, size_t *end)
{
	size_t i = 0;

	*v = 0;
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		*v = *v * 10 + (s[i] - '0');
		if (*v > max)
			return -1;
	}
	*end = i;
	return 0;
}

/*
 * Grammar: 1*DIGIT [ "s" / "m" / "h" / "d" ]. No sign, no fraction, no
 * space, no upper-case unit; at most CG_LIMIT_DURATION_MAX seconds (the
 * digit loop stops before anything can overflow).
 */
int
cg__duration_parse(const char *s, int64_t *secs)
{
	int64_t v, unit;
	size_t i;

	if (secs == NULL || parse_digits(s, CG_LIMIT_DURATION_MAX, &v, &i) != 0)
		return -1;
	switch (s[i]) {
	case '\0':
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (s[i] != '\0' && s[i + 1] != '\0')
		return -1;
	if (v > CG_LIMIT_DURATION_MAX / unit)
		return -1;
	*secs = v * unit;
	return 0;
}

/*
 * Grammar: a duration as above, or 1*DIGIT "ms". At most
 * CG_LIMIT_DURATION_MAX seconds either way.
 */
int
cg__duration_ms_parse(const char *s, int64_t *ms)
{
	int64_t v, secs;
	size_t i;

	if (ms == NULL ||
	    parse_digits(s, (int64_t)CG_LIMIT_DURATION_MAX * 1000, &v, &i) != 0)
		return -1;
	if (s[i] == 'm' && s[i + 1] == 's' && s[i + 2] == '\0') {
		*ms = v;
		return 0;
	}
	if (cg__duration_parse(s, &secs) != 0)
		return -1;
	*ms = secs * 1000;
	return 0;
}

/* Media types compare case-insensitively (RFC 9110 section 8.3.1), and
 * RFC 7515 section 4.1.9 lets `typ` omit "application/". */
int
cg__typ_normalise(const char *s, size_t len, char *out, size_t outsz)
{
	static const char app[] = "application/";
	const size_t applen = sizeof(app) - 1;
	size_t i, skip = 0;

	if (s == NULL || out == NULL || outsz == 0)
		return -1;
	if (len >= applen && ascii_casecmp(s, applen, app) == 0)
		skip = applen;
	if (len - skip > outsz - 1)
		return -1;
	for (i = skip; i < len; i++)
		out[i - skip] = ascii_lower(s[i]);
	out[len - skip] = '\0';
	return 0;
}

/* ---- issuers --------------------------------------------------------------- */

static long
issuer_index(const struct cg_policy *p, const struct ynode *name)
{
	size_t i;

	for (i = 0; i < p->nissuers; i++)
		if (p->issuers[i].name != NULL &&
		    strlen(p->issuers[i].name) == name->len &&
		    memcmp(p->issuers[i].name, name->s, name->len) == 0)
			return (long)i;
	return -1;
}

static cg_code
parse_algorithms(struct pctx *c, const struct ynode *v, cg_alg_set *out)
{
	char e[ESC_SIZE];
	const char *s;
	cg_code rc;
	size_t i;
	cg_alg a;

	rc = expect_seq(c, v, "algorithms", 1);
	if (rc != CG_OK)
		return rc;
	*out = 0;
	for (i = 0; i < v->nkids; i++) {
		const struct ynode *it = v->kids[i];

		rc = get_str(c, it, "algorithms", 1, &s);
		if (rc != CG_OK)
			return rc;
		/* RFC 8725 section 3.1: never `none`, however written. */
		if (ascii_casecmp(s, it->len, "none") == 0)
			return fail(c, it, "algorithms",
			    "algorithm none is never allowed");
		a = cg_alg_from_name(s, it->len);
		if (a == CG_ALG_UNKNOWN)
			return fail(c, it, "algorithms",
			    "unknown algorithm \"%s\"", esc_node(e, it));
		*out |= CG_ALG_BIT(a);
	}
	return CG_OK;
}

static cg_code
parse_types(struct pctx *c, const struct ynode *v, struct cg_strlist *out)
{
	cg_code rc;
	size_t i;

	rc = get_strlist(c, v, "types", 1, out);
	if (rc != CG_OK)
		return rc;
	for (i = 0; i < out->n; i++) {
		/* Normalising only shortens: it fits in place. */
		size_t len = strlen(out->v[i]);

		if (cg__typ_normalise(out->v[i], len, out->v[i], len + 1) !=
		    0 || out->v[i][0] == '\0')
			return fail(c, v->kids[i], "types", "invalid type");
	}
	return CG_OK;
}

/* Remote key sets may only be fetched over TLS, or from this machine
 * (the http form is accepted here and refused below without
 * insecure_http, so the message can say why). */
static int
valid_jwks_uri(const char *s, size_t len)
{
	return cg__uri_allowed(s, len, 1);
}

static int
is_http(const char *s)
{
	return strncasecmp(s, "http:", 5) == 0;
}

static cg_code
resolve_path(struct pctx *c, const char *file, char **out)
{
	size_t blen, flen = strlen(file);
	int slash;

	if (file[0] == '/' || c->base_dir == NULL || c->base_dir[0] == '\0') {
		*out = cg__strdup(file);
		return *out == NULL ? nomem(c) : CG_OK;
	}
	blen = strlen(c->base_dir);
	slash = c->base_dir[blen - 1] != '/';
	*out = cg__malloc(blen + (size_t)slash + flen + 1);
	if (*out == NULL)
		return nomem(c);
	memcpy(*out, c->base_dir, blen);
	if (slash)
		(*out)[blen] = '/';
	memcpy(*out + blen + (size_t)slash, file, flen + 1);
	return CG_OK;
}

enum { IF_ISSUER, IF_JWKS_FILE, IF_JWKS_URI, IF_ALGORITHMS, IF_TYPES,
	IF_MAX_LIFETIME, IF_DISCOVERY, IF_REFRESH, IF_STALE_FOR, IF_CA_FILE,
	IF_INSECURE_HTTP, IF_N_ };

static cg_code
parse_issuer(struct pctx *c, const struct ynode *k, const struct ynode *v,
    struct cg_issuer *is)
{
	struct field f[IF_N_] = { { "issuer", NULL, NULL },
		{ "jwks_file", NULL, NULL }, { "jwks_uri", NULL, NULL },
		{ "algorithms", NULL, NULL }, { "types", NULL, NULL },
		{ "max_lifetime", NULL, NULL }, { "discovery", NULL, NULL },
		{ "refresh", NULL, NULL }, { "stale_for", NULL, NULL },
		{ "ca_file", NULL, NULL }, { "insecure_http", NULL, NULL } };
	const char *s;
	cg_code rc;

	is->max_lifetime = -1;
	is->refresh = 300;
	is->stale_for = 86400;
	set_pos(&is->pos, k);
	is->name = cg__strndup(k->s, k->len);
	if (is->name == NULL)
		return nomem(c);
	rc = expect_map(c, v, NULL);
	if (rc == CG_OK)
		rc = pick(c, v, f, IF_N_);
	if (rc != CG_OK)
		return rc;

	if (f[IF_ISSUER].val == NULL)
		return fail(c, k, NULL, "missing \"issuer\"");
	rc = dup_str(c, f[IF_ISSUER].val, "issuer", &is->iss);
	if (rc != CG_OK)
		return rc;
	is->iss_len = strlen(is->iss);

	if (f[IF_DISCOVERY].val != NULL) {
		rc = get_bool(c, f[IF_DISCOVERY].val, "discovery",
		    &is->discovery);
		if (rc != CG_OK)
			return rc;
	}
	if (f[IF_INSECURE_HTTP].val != NULL) {
		rc = get_bool(c, f[IF_INSECURE_HTTP].val, "insecure_http",
		    &is->insecure_http);
		if (rc != CG_OK)
			return rc;
	}
	if (is->discovery) {
		if (f[IF_JWKS_FILE].val != NULL || f[IF_JWKS_URI].val != NULL)
			return fail(c, f[IF_DISCOVERY].key, NULL,
			    "discovery: true takes jwks_uri from the issuer's "
			    "discovery document; remove jwks_file/jwks_uri");
		if (!valid_jwks_uri(is->iss, is->iss_len) ||
		    (is_http(is->iss) && !is->insecure_http))
			return fail(c, f[IF_ISSUER].val, "issuer",
			    "discovery needs an https:// issuer");
		set_pos(&is->keys_pos, f[IF_DISCOVERY].val);
	} else if (f[IF_JWKS_FILE].val == NULL && f[IF_JWKS_URI].val == NULL)
		return fail(c, k, NULL,
		    "missing \"jwks_file\", \"jwks_uri\" or \"discovery\"");
	if (f[IF_JWKS_FILE].val != NULL && f[IF_JWKS_URI].val != NULL) {
		const struct ynode *later = f[IF_JWKS_URI].key;

		if (f[IF_JWKS_FILE].key->offset > later->offset)
			later = f[IF_JWKS_FILE].key;
		return fail(c, later, NULL,
		    "jwks_file and jwks_uri are mutually exclusive");
	}
	if (f[IF_JWKS_FILE].val != NULL) {
		rc = get_str(c, f[IF_JWKS_FILE].val, "jwks_file", 1, &s);
		if (rc == CG_OK)
			rc = resolve_path(c, s, &is->jwks_file);
		if (rc != CG_OK)
			return rc;
		set_pos(&is->keys_pos, f[IF_JWKS_FILE].val);
	} else if (f[IF_JWKS_URI].val != NULL) {
		rc = get_str(c, f[IF_JWKS_URI].val, "jwks_uri", 1, &s);
		if (rc != CG_OK)
			return rc;
		if (!valid_jwks_uri(s, f[IF_JWKS_URI].val->len))
			return fail(c, f[IF_JWKS_URI].val, "jwks_uri",
			    "must start with https:// or http://127.0.0.1");
		/* Plain http only for this machine, and only when asked. */
		if (is_http(s) && !is->insecure_http)
			return fail(c, f[IF_JWKS_URI].val, "jwks_uri",
			    "http:// needs insecure_http: true (and is only "
			    "for 127.0.0.1)");
		is->jwks_uri = cg__strdup(s);
		if (is->jwks_uri == NULL)
			return nomem(c);
		set_pos(&is->keys_pos, f[IF_JWKS_URI].val);
	}

	if (is->insecure_http && f[IF_JWKS_URI].val == NULL && !is->discovery)
		return fail(c, f[IF_INSECURE_HTTP].key, NULL,
		    "insecure_http is for a remote key set");
	if (f[IF_REFRESH].val != NULL || f[IF_STALE_FOR].val != NULL ||
	    f[IF_CA_FILE].val != NULL) {
		const struct ynode *first = f[IF_REFRESH].key != NULL
		    ? f[IF_REFRESH].key
		    : f[IF_STALE_FOR].key != NULL ? f[IF_STALE_FOR].key
						  : f[IF_CA_FILE].key;
		if (is->jwks_file != NULL)
			return fail(c, first, NULL,
			    "refresh, stale_for and ca_file are for a remote "
			    "key set (jwks_uri or discovery)");
	}
	if (f[IF_REFRESH].val != NULL) {
		rc = get_duration(c, f[IF_REFRESH].val, "refresh",
		    &is->refresh);
		if (rc != CG_OK)
			return rc;
		if (is->refresh < 1)
			return fail(c, f[IF_REFRESH].val, "refresh",
			    "must be at least 1s");
	}
	if (f[IF_STALE_FOR].val != NULL) {
		rc = get_duration(c, f[IF_STALE_FOR].val, "stale_for",
		    &is->stale_for);
		if (rc != CG_OK)
			return rc;
	}
	if (f[IF_CA_FILE].val != NULL) {
		rc = get_str(c, f[IF_CA_FILE].val, "ca_file", 1, &s);
		if (rc == CG_OK)
			rc = resolve_path(c, s, &is->ca_file);
		if (rc != CG_OK)
			return rc;
	}
	if (f[IF_ALGORITHMS].val == NULL)
		return fail(c, k, NULL, "missing \"algorithms\"");
	rc = parse_algorithms(c, f[IF_ALGORITHMS].val, &is->algs);
	if (rc != CG_OK)
		return rc;
	if (f[IF_TYPES].val != NULL) {
		rc = parse_types(c, f[IF_TYPES].val, &is->types);
		if (rc != CG_OK)
			return rc;
	}
	if (f[IF_MAX_LIFETIME].val != NULL) {
		rc = get_duration(c, f[IF_MAX_LIFETIME].val, "max_lifetime",
		    &is->max_lifetime);
		if (rc != CG_OK)
			return rc;
	}
	return CG_OK;
}

static cg_code
parse_issuers(struct pctx *c, const struct ynode *v)
{
	struct cg_policy *p = c->p;
	char e[ESC_SIZE];
	size_t i, old;
	cg_code rc;

	rc = expect_map(c, v, NULL);
	if (rc != CG_OK)
		return rc;
	if (ymap_size(v) > CG_LIMIT_POLICY_ISSUERS)
		return fail(c, v, NULL, "more than %u issuers",
		    CG_LIMIT_POLICY_ISSUERS);
	p->issuers = cg__calloc(ymap_size(v), sizeof(*p->issuers));
	if (p->issuers == NULL)
		return nomem(c);
	p->nissuers = ymap_size(v);
	for (i = 0; i < p->nissuers; i++)
		p->issuers[i].max_lifetime = -1;
	for (i = 0; i < p->nissuers; i++) {
		const struct ynode *k = YKEY(v, i);

		if (!valid_name(k))
			return fail(c, k, NULL, "invalid issuer name \"%s\"",
			    esc_node(e, k));
		old = path_push(c, k->s, k->len);
		rc = parse_issuer(c, k, YVAL(v, i), &p->issuers[i]);
		path_pop(c, old);
		if (rc != CG_OK)
			return rc;
	}
	return CG_OK;
}

/* ---- zones -------------------------------------------------------------------- */

static long
claim_index(const struct cg_zone *z, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < z->nclaims; i++)
		if (z->claims[i].name != NULL &&
		    strlen(z->claims[i].name) == len &&
		    memcmp(z->claims[i].name, name, len) == 0)
			return (long)i;
	return -1;
}

static int
zone_accepts(const struct cg_zone *z, size_t issuer)
{
	size_t i;

	for (i = 0; i < z->naccept; i++)
		if (z->accept[i] == issuer)
			return 1;
	return 0;
}

static cg_code
parse_accept(struct pctx *c, const struct ynode *v, struct cg_zone *z)
{
	const struct cg_policy *p = c->p;
	char e[ESC_SIZE], e2[ESC_SIZE];
	cg_code rc;
	size_t i, j;
	long ix;

	rc = expect_seq(c, v, "accept", 1);
	if (rc != CG_OK)
		return rc;
	z->accept = cg__calloc(v->nkids, sizeof(*z->accept));
	if (z->accept == NULL)
		return nomem(c);
	for (i = 0; i < v->nkids; i++) {
		const struct ynode *it = v->kids[i];
		const char *s;

		rc = get_str(c, it, "accept", 1, &s);
		if (rc != CG_OK)
			return rc;
		ix = issuer_index(p, it);
		if (ix < 0)
			return fail(c, it, "accept", "unknown issuer \"%s\"",
			    esc_node(e, it));
		for (j = 0; j < z->naccept; j++) {
			const struct cg_issuer *a = &p->issuers[z->accept[j]];
			const struct cg_issuer *b = &p->issuers[ix];

			if (z->accept[j] == (size_t)ix)
				return fail(c, it, "accept",
				    "duplicate issuer \"%s\"", esc_node(e, it));
			/* `iss` selects the issuer: two with one value make
			 * the choice ambiguous. */
			if (a->iss_len == b->iss_len &&
			    memcmp(a->iss, b->iss, a->iss_len) == 0)
				return fail(c, it, "accept",
				    "issuers \"%s\" and \"%s\" have the same "
				    "issuer value", esc(e2, a->name,
				    strlen(a->name)), esc_node(e, it));
		}
		z->accept[z->naccept++] = (size_t)ix;
	}
	return CG_OK;
}

static cg_code
parse_from(struct pctx *c, const struct ynode *v, const struct cg_zone *z,
    struct cg_claim_rule *r)
{
	char e[ESC_SIZE];
	cg_code rc;
	size_t i, j;
	long ix;

	rc = expect_seq(c, v, "from", 1);
	if (rc != CG_OK)
		return rc;
	r->from = cg__calloc(v->nkids, sizeof(*r->from));
	if (r->from == NULL)
		return nomem(c);
	for (i = 0; i < v->nkids; i++) {
		const struct ynode *it = v->kids[i];
		const char *s;

		rc = get_str(c, it, "from", 1, &s);
		if (rc != CG_OK)
			return rc;
		ix = issuer_index(c->p, it);
		if (ix < 0)
			return fail(c, it, "from", "unknown issuer \"%s\"",
			    esc_node(e, it));
		if (!zone_accepts(z, (size_t)ix))
			return fail(c, it, "from",
			    "issuer \"%s\" is not in this zone's accept",
			    esc_node(e, it));
		for (j = 0; j < r->nfrom; j++)
			if (r->from[j] == (size_t)ix)
				return fail(c, it, "from",
				    "duplicate issuer \"%s\"", esc_node(e, it));
		r->from[r->nfrom++] = (size_t)ix;
	}
	return CG_OK;
}

/*
 * The pattern is compiled as ^(pattern)$ so that it matches the whole
 * value. That wrapping is only sound when the pattern's own parentheses
 * balance: glibc reads an unmatched ')' as a literal, so "a)|(b)" compiles
 * alone, yet wrapped becomes "^(a)|(b))$", which matches any value that
 * starts with "a". Scans ERE syntax (POSIX XBD 9.4): backslash escapes,
 * and bracket expressions, where ')' and '\' are literals.
 */
static int
parens_balanced(const char *s)
{
	size_t i = 0, depth = 0;

	while (s[i] != '\0') {
		if (s[i] == '\\') {
			if (s[i + 1] == '\0')
				return 0;
			i += 2;
		} else if (s[i] == '[') {
			i++;
			if (s[i] == '^')
				i++;
			if (s[i] == ']')
				i++;
			while (s[i] != '\0' && s[i] != ']') {
				if (s[i] == '[' && (s[i + 1] == ':' ||
				    s[i + 1] == '.' || s[i + 1] == '=')) {
					char d = s[i + 1];

					i += 2;
					while (s[i] != '\0' &&
					    !(s[i] == d && s[i + 1] == ']'))
						i++;
					if (s[i] == '\0')
						return 0;
					i += 2;
				} else {
					i++;
				}
			}
			if (s[i] == '\0')
				return 0;
			i++;
		} else {
			if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && depth-- == 0)
				return 0;
			i++;
		}
	}
	return depth == 0;
}

/*
 * An estimate of the size of the tree glibc's regcomp builds: it copies a
 * subexpression once per repetition of an interval ({m,n}: n copies) and
 * once more for '+', so stacked or nested repetitions grow exponentially
 * ("a+++...", "(a{0,255}){0,255}" exhaust memory in a few dozen bytes).
 * The estimate multiplies along nesting and adds along sequences; the
 * policy refuses a pattern above PATTERN_COST_MAX. Bracket expressions
 * and escapes count as one atom.
 */
#define PATTERN_COST_MAX 4096.0

static double pattern_cost_seq(const char **p, int depth);

static double
pattern_quantifiers(const char **p, double cost)
{
	for (;;) {
		const char *q = *p;
		if (*q == '*' || *q == '?') {
			(*p)++;
		} else if (*q == '+') {
			cost *= 2;
			(*p)++;
		} else if (*q == '{') {
			double lo = 0, hi = -1;
			q++;
			while (*q >= '0' && *q <= '9' && lo < 1e6)
				lo = lo * 10 + (*q++ - '0');
			if (*q == ',') {
				q++;
				if (*q >= '0' && *q <= '9') {
					hi = 0;
					while (*q >= '0' && *q <= '9' && hi < 1e6)
						hi = hi * 10 + (*q++ - '0');
				}
			} else {
				hi = lo;
			}
			while (*q != '\0' && *q != '}')
				q++;
			if (*q == '}')
				q++;
			*p = q;
			cost *= (hi > lo ? hi : lo) + 1;
		} else {
			return cost;
		}
	}
}

static double
pattern_atom(const char **p, int depth)
{
	const char *q = *p;
	double cost = 1;

	if (*q == '(') {
		q++;
		cost = depth > 32 ? PATTERN_COST_MAX * 2
				  : pattern_cost_seq(&q, depth + 1) + 1;
		if (*q == ')')
			q++;
	} else if (*q == '[') {
		q++;
		if (*q == '^')
			q++;
		if (*q == ']')
			q++;
		while (*q != '\0' && *q != ']') {
			if (*q == '[' && (q[1] == ':' || q[1] == '.' ||
					     q[1] == '=')) {
				char end = q[1];
				q += 2;
				while (*q != '\0' && !(*q == end && q[1] == ']'))
					q++;
				if (*q != '\0')
					q += 2;
				continue;
			}
			q++;
		}
		if (*q == ']')
			q++;
	} else if (*q == '\\' && q[1] != '\0') {
		q += 2;
	} else {
		q++;
	}
	*p = q;
	return pattern_quantifiers(p, cost);
}

static double
pattern_cost_seq(const char **p, int depth)
{
	double total = 0;

	while (**p != '\0' && **p != ')') {
		if (**p == '|') {
			(*p)++;
			continue;
		}
		total += pattern_atom(p, depth);
		if (total > PATTERN_COST_MAX)
			return total;
	}
	return total;
}

static cg_code
parse_pattern(struct pctx *c, const struct ynode *v,
    struct cg_claim_rule *r)
{
	char why[96], *wrapped;
	const char *s;
	regex_t re;
	cg_code rc;
	int e;

	rc = get_str(c, v, "pattern", 1, &s);
	if (rc != CG_OK)
		return rc;
	if (v->len > CG_LIMIT_PATTERN_BYTES)
		return fail(c, v, "pattern", "longer than %u bytes",
		    CG_LIMIT_PATTERN_BYTES);
	if (!parens_balanced(s))
		return fail(c, v, "pattern",
		    "invalid pattern: unbalanced parentheses");
	{
		const char *q = s;
		if (pattern_cost_seq(&q, 0) > PATTERN_COST_MAX)
			return fail(c, v, "pattern",
			    "too many repetitions (stacked or nested "
			    "quantifiers, or large {m,n}): compiling it could "
			    "exhaust memory");
	}
	e = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
	if (e != 0) {
		regerror(e, &re, why, sizeof(why));
		return fail(c, v, "pattern", "invalid pattern: %s", why);
	}
	regfree(&re);
	if (!parens_balanced(s))
		return fail(c, v, "pattern",
		    "invalid pattern: unbalanced parentheses");
	r->pattern = cg__strdup(s);
	wrapped = cg__malloc(v->len + 5);
	if (r->pattern == NULL || wrapped == NULL) {
		free(wrapped);
		return nomem(c);
	}
	memcpy(wrapped, "^(", 2);
	memcpy(wrapped + 2, s, v->len);
	memcpy(wrapped + 2 + v->len, ")$", 3);
	e = regcomp(&r->re, wrapped, REG_EXTENDED | REG_NOSUB);
	free(wrapped);
	if (e != 0) {
		regerror(e, &r->re, why, sizeof(why));
		return fail(c, v, "pattern", "invalid pattern: %s", why);
	}
	r->has_pattern = 1;
	r->fast = cg__fastpat_compile(s); /* NULL: regexec does it all */
	return CG_OK;
}

static cg_code
parse_value_map(struct pctx *c, const struct ynode *v,
    struct cg_claim_rule *r)
{
	cg_code rc;
	size_t i;

	rc = expect_map(c, v, "map");
	if (rc != CG_OK)
		return rc;
	r->has_map = 1;
	r->map = cg__calloc(ymap_size(v), sizeof(*r->map));
	if (r->map == NULL)
		return nomem(c);
	r->nmap = ymap_size(v);
	for (i = 0; i < r->nmap; i++) {
		rc = dup_str(c, YKEY(v, i), "map", &r->map[i].from);
		if (rc == CG_OK)
			rc = dup_str(c, YVAL(v, i), "map", &r->map[i].to);
		if (rc != CG_OK)
			return rc;
		r->map[i].from_len = strlen(r->map[i].from);
		r->map[i].to_len = strlen(r->map[i].to);
	}
	return CG_OK;
}

enum { CF_CLAIM, CF_FROM, CF_PATTERN, CF_REQUIRED, CF_SPLIT, CF_MAP, CF_N_ };

static cg_code
parse_claim_rule(struct pctx *c, const struct ynode *k, const struct ynode *v,
    const struct cg_zone *z, struct cg_claim_rule *r)
{
	struct field f[CF_N_] = { { "claim", NULL, NULL },
		{ "from", NULL, NULL }, { "pattern", NULL, NULL },
		{ "required", NULL, NULL }, { "split", NULL, NULL },
		{ "map", NULL, NULL } };
	const char *s;
	cg_code rc;

	set_pos(&r->pos, k);
	rc = dup_str(c, k, NULL, &r->name);
	if (rc != CG_OK)
		return rc;
	r->name_len = strlen(r->name);
	if (v->kind != YN_MAP)
		return fail(c, v, NULL, "expected a mapping (use {} for the "
		    "defaults), not %s", type_name(v));
	rc = pick(c, v, f, CF_N_);
	if (rc != CG_OK)
		return rc;
	if (f[CF_CLAIM].val != NULL) {
		rc = dup_str(c, f[CF_CLAIM].val, "claim", &r->claim);
		if (rc != CG_OK)
			return rc;
	} else if ((r->claim = cg__strdup(r->name)) == NULL) {
		return nomem(c);
	}
	r->claim_len = strlen(r->claim);
	if (f[CF_FROM].val != NULL) {
		rc = parse_from(c, f[CF_FROM].val, z, r);
		if (rc != CG_OK)
			return rc;
	}
	if (f[CF_PATTERN].val != NULL) {
		rc = parse_pattern(c, f[CF_PATTERN].val, r);
		if (rc != CG_OK)
			return rc;
	}
	if (f[CF_REQUIRED].val != NULL) {
		rc = get_bool(c, f[CF_REQUIRED].val, "required", &r->required);
		if (rc != CG_OK)
			return rc;
	}
	if (f[CF_SPLIT].val != NULL) {
		const struct ynode *sv = f[CF_SPLIT].val;

		rc = get_str(c, sv, "split", 1, &s);
		if (rc != CG_OK)
			return rc;
		if (strcmp(s, "space") == 0)
			r->split = CG_SPLIT_SPACE;
		else if (strcmp(s, "comma") == 0)
			r->split = CG_SPLIT_COMMA;
		else
			return fail(c, sv, "split",
			    "expected space or comma");
	}
	if (f[CF_MAP].val != NULL)
		return parse_value_map(c, f[CF_MAP].val, r);
	return CG_OK;
}

static cg_code
parse_claims(struct pctx *c, const struct ynode *v, struct cg_zone *z)
{
	size_t i, old;
	cg_code rc;

	rc = expect_map(c, v, "claims");
	if (rc != CG_OK)
		return rc;
	if (ymap_size(v) > CG_LIMIT_ZONE_CLAIMS)
		return fail(c, v, "claims", "more than %u claims",
		    CG_LIMIT_ZONE_CLAIMS);
	z->claims = cg__calloc(ymap_size(v), sizeof(*z->claims));
	if (z->claims == NULL)
		return nomem(c);
	z->nclaims = ymap_size(v);
	old = path_push(c, "claims", 6);
	for (i = 0; i < z->nclaims; i++) {
		const struct ynode *k = YKEY(v, i);
		char e[ESC_SIZE];
		size_t o2;

		/* The name is an output key (JSON member, require, forward). */
		if (ynull(k) || k->len == 0 ||
		    memchr(k->s, '\0', k->len) != NULL) {
			rc = fail(c, k, NULL, "invalid claim name \"%s\"",
			    esc_node(e, k));
			break;
		}
		o2 = path_push(c, k->s, k->len);
		rc = parse_claim_rule(c, k, YVAL(v, i), z, &z->claims[i]);
		path_pop(c, o2);
		if (rc != CG_OK)
			break;
	}
	path_pop(c, old);
	return rc;
}

static cg_code
parse_require_rule(struct pctx *c, const struct ynode *k,
    const struct ynode *v, struct cg_require_rule *r)
{
	struct field f[2] = { { "all_of", NULL, NULL },
		{ "any_of", NULL, NULL } };
	cg_code rc;
	int which;

	set_pos(&r->pos, k);
	rc = dup_str(c, k, NULL, &r->claim);
	if (rc == CG_OK)
		rc = expect_map(c, v, NULL);
	if (rc == CG_OK)
		rc = pick(c, v, f, 2);
	if (rc != CG_OK)
		return rc;
	if ((f[0].val == NULL) == (f[1].val == NULL))
		return fail(c, k, NULL, "needs exactly one of all_of, any_of");
	which = f[0].val != NULL ? 0 : 1;
	r->kind = which == 0 ? CG_REQUIRE_ALL_OF : CG_REQUIRE_ANY_OF;
	return get_strlist(c, f[which].val, f[which].name, 1, &r->values);
}

static cg_code
parse_require(struct pctx *c, const struct ynode *v, struct cg_zone *z)
{
	char e[ESC_SIZE];
	size_t i, old;
	cg_code rc;

	rc = expect_map(c, v, "require");
	if (rc != CG_OK)
		return rc;
	z->require = cg__calloc(ymap_size(v), sizeof(*z->require));
	if (z->require == NULL)
		return nomem(c);
	z->nrequire = ymap_size(v);
	old = path_push(c, "require", 7);
	for (i = 0; i < z->nrequire; i++) {
		const struct ynode *k = YKEY(v, i);
		size_t o2;

		if (claim_index(z, k->s, k->len) < 0) {
			rc = fail(c, k, NULL, "unknown trusted claim \"%s\" "
			    "(not under claims)", esc_node(e, k));
			break;
		}
		o2 = path_push(c, k->s, k->len);
		rc = parse_require_rule(c, k, YVAL(v, i), &z->require[i]);
		path_pop(c, o2);
		if (rc != CG_OK)
			break;
	}
	path_pop(c, old);
	return rc;
}

/* Headers a 200 answer of `serve` must control itself: message framing
 * and connection handling (a claim value there could desynchronise the
 * proxy), and the ones claimgate sets. */
static const char *const reserved_headers[] = {
	"connection", "content-length", "content-type", "keep-alive",
	"proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
	"www-authenticate", "retry-after",
};

static int
header_reserved(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(reserved_headers) / sizeof(*reserved_headers);
	    i++)
		if (ascii_casecmp(s, len, reserved_headers[i]) == 0)
			return 1;
	return 0;
}

static cg_code
parse_forward(struct pctx *c, const struct ynode *v, struct cg_zone *z)
{
	char e[ESC_SIZE];
	size_t i, j, old;
	cg_code rc;

	rc = expect_map(c, v, "forward");
	if (rc != CG_OK)
		return rc;
	z->forward = cg__calloc(ymap_size(v), sizeof(*z->forward));
	if (z->forward == NULL)
		return nomem(c);
	z->nforward = ymap_size(v);
	old = path_push(c, "forward", 7);
	for (i = 0; i < z->nforward; i++) {
		const struct ynode *k = YKEY(v, i), *cv = YVAL(v, i);
		struct cg_forward *fw = &z->forward[i];
		const char *s;
		size_t o2;

		if (!is_token(k->s, k->len)) {
			rc = fail(c, k, NULL, "invalid header name \"%s\"",
			    esc_node(e, k));
			break;
		}
		if (header_reserved(k->s, k->len)) {
			rc = fail(c, k, NULL, "header \"%s\" is reserved",
			    esc_node(e, k));
			break;
		}
		/* Field names are case-insensitive (RFC 9110 5.1). */
		for (j = 0; j < i; j++)
			if (ascii_casecmp(k->s, k->len, z->forward[j].header)
			    == 0)
				break;
		if (j < i) {
			rc = fail(c, k, NULL, "duplicate header \"%s\"",
			    esc_node(e, k));
			break;
		}
		fw->header = cg__strndup(k->s, k->len);
		if (fw->header == NULL) {
			rc = nomem(c);
			break;
		}
		o2 = path_push(c, k->s, k->len);
		rc = get_str(c, cv, NULL, 1, &s);
		if (rc == CG_OK && claim_index(z, s, cv->len) < 0)
			rc = fail(c, cv, NULL, "unknown trusted claim \"%s\" "
			    "(not under claims)", esc_node(e, cv));
		if (rc == CG_OK && (fw->claim = cg__strdup(s)) == NULL)
			rc = nomem(c);
		path_pop(c, o2);
		if (rc != CG_OK)
			break;
	}
	path_pop(c, old);
	return rc;
}

enum { MF_HOSTS, MF_PATHS, MF_METHODS, MF_N_ };

static cg_code
parse_match(struct pctx *c, const struct ynode *v, struct cg_zone *z)
{
	struct field f[MF_N_] = { { "hosts", NULL, NULL },
		{ "paths", NULL, NULL }, { "methods", NULL, NULL } };
	size_t i, j, old;
	cg_code rc;

	rc = expect_map(c, v, "match");
	if (rc != CG_OK)
		return rc;
	old = path_push(c, "match", 5);
	rc = pick(c, v, f, MF_N_);
	if (rc == CG_OK && f[MF_HOSTS].val != NULL) {
		rc = get_strlist(c, f[MF_HOSTS].val, "hosts", 1,
		    &z->match_hosts);
		for (i = 0; rc == CG_OK && i < z->match_hosts.n; i++) {
			char *h = z->match_hosts.v[i];

			if (!no_space_ctl(h, strlen(h)) ||
			    strchr(h, '/') != NULL)
				rc = fail(c, f[MF_HOSTS].val->kids[i], "hosts",
				    "invalid host");
			for (j = 0; h[j] != '\0'; j++)
				h[j] = ascii_lower(h[j]);
		}
	}
	if (rc == CG_OK && f[MF_PATHS].val != NULL) {
		rc = get_strlist(c, f[MF_PATHS].val, "paths", 1,
		    &z->match_paths);
		for (i = 0; rc == CG_OK && i < z->match_paths.n; i++) {
			const char *pth = z->match_paths.v[i];

			if (pth[0] != '/')
				rc = fail(c, f[MF_PATHS].val->kids[i], "paths",
				    "a path must start with /");
			else if (!no_space_ctl(pth, strlen(pth)))
				rc = fail(c, f[MF_PATHS].val->kids[i], "paths",
				    "invalid path");
		}
	}
	if (rc == CG_OK && f[MF_METHODS].val != NULL) {
		rc = get_strlist(c, f[MF_METHODS].val, "methods", 1,
		    &z->match_methods);
		for (i = 0; rc == CG_OK && i < z->match_methods.n; i++) {
			char *m = z->match_methods.v[i];

			if (!is_token(m, strlen(m)))
				rc = fail(c, f[MF_METHODS].val->kids[i],
				    "methods", "invalid method");
			for (j = 0; m[j] != '\0'; j++)
				m[j] = ascii_upper(m[j]);
		}
	}
	path_pop(c, old);
	if (rc == CG_OK)
		z->has_match = 1;
	return rc;
}

enum { ZF_AUDIENCE, ZF_AUDIENCE_EXACT, ZF_ACCEPT, ZF_LEEWAY, ZF_MAX_AGE,
	ZF_REQUIRE_CLAIMS, ZF_REPLAY, ZF_MAX_DELEGATION, ZF_CLAIMS,
	ZF_REQUIRE, ZF_FORWARD, ZF_MATCH, ZF_N_ };

/* The zone's name and its trusted claims' names in one block, which a
 * decision copies in one step (see struct cg_zone). */
static int
zone_names(struct cg_zone *z)
{
	size_t i, len = strlen(z->name) + 1, at;

	for (i = 0; i < z->nclaims; i++)
		len += z->claims[i].name_len + 1;
	if ((z->names = cg__malloc(len)) == NULL)
		return -1;
	z->names_len = len;
	at = strlen(z->name) + 1;
	memcpy(z->names, z->name, at);
	for (i = 0; i < z->nclaims; i++) {
		struct cg_claim_rule *r = &z->claims[i];
		memcpy(z->names + at, r->name, r->name_len + 1);
		r->name_off = at;
		at += r->name_len + 1;
	}
	return 0;
}

static cg_code
parse_zone(struct pctx *c, const struct ynode *k, const struct ynode *v,
    struct cg_zone *z)
{
	struct field f[ZF_N_] = { { "audience", NULL, NULL },
		{ "audience_exact", NULL, NULL }, { "accept", NULL, NULL },
		{ "leeway", NULL, NULL }, { "max_age", NULL, NULL },
		{ "require_claims", NULL, NULL }, { "replay", NULL, NULL },
		{ "max_delegation", NULL, NULL }, { "claims", NULL, NULL },
		{ "require", NULL, NULL }, { "forward", NULL, NULL },
		{ "match", NULL, NULL } };
	const char *s;
	cg_code rc;
	long n;

	z->leeway = 30;
	z->max_age = -1;
	set_pos(&z->pos, k);
	z->name = cg__strndup(k->s, k->len);
	if (z->name == NULL)
		return nomem(c);
	rc = expect_map(c, v, NULL);
	if (rc == CG_OK)
		rc = pick(c, v, f, ZF_N_);
	if (rc != CG_OK)
		return rc;

	if (f[ZF_AUDIENCE].val == NULL)
		return fail(c, k, NULL, "missing \"audience\"");
	rc = dup_str(c, f[ZF_AUDIENCE].val, "audience", &z->audience);
	if (rc != CG_OK)
		return rc;
	if (f[ZF_AUDIENCE_EXACT].val != NULL) {
		rc = get_bool(c, f[ZF_AUDIENCE_EXACT].val, "audience_exact",
		    &z->audience_exact);
		if (rc != CG_OK)
			return rc;
	}
	if (f[ZF_ACCEPT].val == NULL)
		return fail(c, k, NULL, "missing \"accept\"");
	rc = parse_accept(c, f[ZF_ACCEPT].val, z);
	if (rc != CG_OK)
		return rc;
	if (f[ZF_LEEWAY].val != NULL) {
		const struct ynode *lv = f[ZF_LEEWAY].val;

		rc = get_duration(c, lv, "leeway", &z->leeway);
		if (rc != CG_OK)
			return rc;
		if (z->leeway > CG_LIMIT_LEEWAY_MAX)
			return fail(c, lv, "leeway", "must be at most 5m");
		set_pos(&z->leeway_pos, lv);
	}
	if (f[ZF_MAX_AGE].val != NULL) {
		rc = get_duration(c, f[ZF_MAX_AGE].val, "max_age",
		    &z->max_age);
		if (rc != CG_OK)
			return rc;
	}
	if (f[ZF_REQUIRE_CLAIMS].val != NULL) {
		rc = get_strlist(c, f[ZF_REQUIRE_CLAIMS].val, "require_claims",
		    0, &z->require_claims);
		if (rc != CG_OK)
			return rc;
	}
	if (f[ZF_REPLAY].val != NULL) {
		const struct ynode *rv = f[ZF_REPLAY].val;

		rc = get_str(c, rv, "replay", 1, &s);
		if (rc != CG_OK)
			return rc;
		if (strcmp(s, "off") == 0)
			z->replay = 0;
		else if (strcmp(s, "reject") == 0)
			z->replay = 1;
		else
			return fail(c, rv, "replay", "expected off or reject");
	}
	if (f[ZF_MAX_DELEGATION].val != NULL) {
		const struct ynode *dv = f[ZF_MAX_DELEGATION].val;

		rc = get_int(c, dv, "max_delegation", &n);
		if (rc != CG_OK)
			return rc;
		if (n < 0 || n > CG_LIMIT_MAX_DELEGATION)
			return fail(c, dv, "max_delegation",
			    "must be between 0 and %d",
			    CG_LIMIT_MAX_DELEGATION);
		z->max_delegation = (int)n;
	}
	/* claims before require and forward, which name them. */
	if (f[ZF_CLAIMS].val != NULL) {
		rc = parse_claims(c, f[ZF_CLAIMS].val, z);
		if (rc != CG_OK)
			return rc;
	}
	if (zone_names(z) != 0)
		return nomem(c);
	if (f[ZF_REQUIRE].val != NULL) {
		rc = parse_require(c, f[ZF_REQUIRE].val, z);
		if (rc != CG_OK)
			return rc;
	}
	if (f[ZF_FORWARD].val != NULL) {
		rc = parse_forward(c, f[ZF_FORWARD].val, z);
		if (rc != CG_OK)
			return rc;
	}
	if (f[ZF_MATCH].val != NULL)
		return parse_match(c, f[ZF_MATCH].val, z);
	return CG_OK;
}

static cg_code
parse_zones(struct pctx *c, const struct ynode *v)
{
	struct cg_policy *p = c->p;
	char e[ESC_SIZE];
	size_t i, old;
	cg_code rc;

	rc = expect_map(c, v, NULL);
	if (rc != CG_OK)
		return rc;
	if (ymap_size(v) == 0)
		return fail(c, v, NULL, "at least one zone is needed");
	if (ymap_size(v) > CG_LIMIT_POLICY_ZONES)
		return fail(c, v, NULL, "more than %u zones",
		    CG_LIMIT_POLICY_ZONES);
	p->zones = cg__calloc(ymap_size(v), sizeof(*p->zones));
	if (p->zones == NULL)
		return nomem(c);
	p->nzones = ymap_size(v);
	for (i = 0; i < p->nzones; i++) {
		const struct ynode *k = YKEY(v, i);

		if (!valid_name(k))
			return fail(c, k, NULL, "invalid zone name \"%s\"",
			    esc_node(e, k));
		old = path_push(c, k->s, k->len);
		rc = parse_zone(c, k, YVAL(v, i), &p->zones[i]);
		path_pop(c, old);
		if (rc != CG_OK)
			return rc;
	}
	return CG_OK;
}

/* ---- store ------------------------------------------------------------------ */

/* Store timeouts: at least 1 ms; at most 10 s, since every decision that
 * needs the store may wait this long. */
#define STORE_TIMEOUT_MAX_MS 10000
#define STORE_PREFIX_MAX 64
#define STORE_DB_MAX 1000000L

/* key_prefix: it becomes the Cluster hash tag "{prefix}" of every key,
 * so it is not empty (an empty tag hashes the whole key) and has no
 * braces; and it needs no quoting in redis-cli or a SCAN pattern. */
static int
valid_prefix(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > STORE_PREFIX_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == ':' || ch == '.' ||
			ch == '_' || ch == '-' || ch == '/'))
			return 0;
	}
	return 1;
}

/* An environment variable name (POSIX portable): [A-Za-z_][A-Za-z0-9_]*. */
static int
valid_env_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 128 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Digits of at most `max`; -1 otherwise. */
static long
url_number(const char *s, size_t len, long max)
{
	long n = 0;
	size_t i;

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n <= max ? n : -1;
}

/*
 * The store URL. Accepted forms:
 *   redis://[USER@]HOST[:PORT][/DB]     HOST a name, an IPv4 address, or
 *                                       [IPv6]; PORT default 6379; DB 0
 *   unix:/PATH[?db=DB]  unix:///PATH[?db=DB]
 * A password in the URL is refused (it belongs in password_env), and so
 * is rediss:// (the hiredis of Debian 12 has no TLS).
 */
static cg_code
parse_store_url(struct pctx *c, const struct ynode *v,
    struct cg_store_config *sc)
{
	static const char redis[] = "redis://", unixs[] = "unix:";
	const char *s = v->s, *p, *end, *at, *hs, *he, *colon;
	size_t len = v->len;
	long n;

	if (!no_space_ctl(s, len))
		return fail(c, v, "url", "invalid url");
	if (strncmp(s, "rediss://", 9) == 0)
		return fail(c, v, "url",
		    "rediss:// (TLS) is not supported by this build of hiredis; "
		    "reach Redis over a TLS tunnel on loopback");
	if (strncmp(s, unixs, sizeof(unixs) - 1) == 0) {
		p = s + sizeof(unixs) - 1;
		if (strncmp(p, "//", 2) == 0)
			p += 2;
		if (*p != '/')
			return fail(c, v, "url",
			    "expected unix:/PATH (an absolute path)");
		end = strchr(p, '?');
		if (end != NULL) {
			if (strncmp(end, "?db=", 4) != 0 ||
			    (n = url_number(end + 4, strlen(end + 4),
				 STORE_DB_MAX)) < 0)
				return fail(c, v, "url",
				    "expected unix:/PATH[?db=N]");
			sc->db = n;
		} else {
			end = s + len;
		}
		if ((size_t)(end - p) >= 108) /* sun_path */
			return fail(c, v, "url", "socket path too long");
		if ((sc->unix_path = cg__strndup(p, (size_t)(end - p))) ==
		    NULL)
			return nomem(c);
		return CG_OK;
	}
	if (strncmp(s, redis, sizeof(redis) - 1) != 0)
		return fail(c, v, "url",
		    "expected redis://HOST[:PORT][/DB] or unix:/PATH");
	p = s + sizeof(redis) - 1;
	end = s + len;
	/* authority: up to the first '/' */
	{
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *aend = slash != NULL ? slash : end;

		if (memchr(p, '?', (size_t)(end - p)) != NULL ||
		    memchr(p, '#', (size_t)(end - p)) != NULL)
			return fail(c, v, "url",
			    "no query or fragment is allowed");
		at = memchr(p, '@', (size_t)(aend - p));
		if (at != NULL) {
			if (memchr(p, ':', (size_t)(at - p)) != NULL)
				return fail(c, v, "url",
				    "a password must not be written in the "
				    "policy: name an environment variable in "
				    "password_env");
			if (at == p)
				return fail(c, v, "url", "empty user name");
			if ((sc->user = cg__strndup(p,
				 (size_t)(at - p))) == NULL)
				return nomem(c);
			p = at + 1;
		}
		if (p < aend && *p == '[') {
			hs = p + 1;
			he = memchr(hs, ']', (size_t)(aend - hs));
			if (he == NULL || he == hs)
				return fail(c, v, "url", "invalid IPv6 host");
			colon = he + 1 < aend ? he + 1 : NULL;
			if (colon != NULL && *colon != ':')
				return fail(c, v, "url", "invalid host");
		} else {
			size_t hl = p <= aend ? (size_t)(aend - p) : 0;

			hs = p;
			colon = hl > 0 ? memchr(p, ':', hl) : NULL;
			he = colon != NULL ? colon : aend;
		}
		if (he == hs)
			return fail(c, v, "url", "missing host");
		if ((sc->host = cg__strndup(hs, (size_t)(he - hs))) == NULL)
			return nomem(c);
		sc->port = 6379;
		if (colon != NULL) {
			n = url_number(colon + 1, (size_t)(aend - colon - 1),
			    65535);
			if (n < 1)
				return fail(c, v, "url",
				    "port must be 1 to 65535");
			sc->port = (int)n;
		}
		if (slash != NULL && slash + 1 < end) {
			n = url_number(slash + 1, (size_t)(end - slash - 1),
			    STORE_DB_MAX);
			if (n < 0)
				return fail(c, v, "url",
				    "database must be a number");
			sc->db = n;
		}
	}
	return CG_OK;
}

enum { SF_TYPE, SF_URL, SF_KEY_PREFIX, SF_TIMEOUT, SF_PASSWORD_ENV,
	SF_REVOCATIONS_FILE, SF_N_ };

static cg_code
parse_store(struct pctx *c, const struct ynode *k, const struct ynode *v)
{
	struct field f[SF_N_] = { { "type", NULL, NULL }, { "url", NULL, NULL },
		{ "key_prefix", NULL, NULL }, { "timeout", NULL, NULL },
		{ "password_env", NULL, NULL },
		{ "revocations_file", NULL, NULL } };
	struct cg_store_config *sc = &c->p->store;
	static const int redis_only[] = { SF_URL, SF_KEY_PREFIX, SF_TIMEOUT,
		SF_PASSWORD_ENV };
	const struct ynode *tv;
	const char *s;
	cg_code rc;
	size_t i;

	set_pos(&sc->pos, k);
	sc->timeout_ms = 50;
	rc = expect_map(c, v, NULL);
	if (rc == CG_OK)
		rc = pick(c, v, f, SF_N_);
	if (rc != CG_OK)
		return rc;
	if ((tv = f[SF_TYPE].val) != NULL) {
		rc = get_str(c, tv, "type", 1, &s);
		if (rc != CG_OK)
			return rc;
		if (strcmp(s, "memory") == 0)
			sc->type = CG_STORE_MEMORY;
		else if (strcmp(s, "redis") == 0)
			sc->type = CG_STORE_REDIS;
		else
			return fail(c, tv, "type", "expected memory or redis");
	}
	if (sc->type == CG_STORE_MEMORY) {
		for (i = 0; i < sizeof(redis_only) / sizeof(redis_only[0]); i++)
			if (f[redis_only[i]].key != NULL)
				return fail(c, f[redis_only[i]].key, NULL,
				    "%s is only for type: redis",
				    f[redis_only[i]].name);
		if (f[SF_REVOCATIONS_FILE].val != NULL) {
			rc = get_str(c, f[SF_REVOCATIONS_FILE].val,
			    "revocations_file", 1, &s);
			if (rc == CG_OK)
				rc = resolve_path(c, s, &sc->revocations_file);
			set_pos(&sc->revocations_pos,
			    f[SF_REVOCATIONS_FILE].val);
			return rc;
		}
		return CG_OK;
	}
	if (f[SF_REVOCATIONS_FILE].key != NULL)
		return fail(c, f[SF_REVOCATIONS_FILE].key, NULL,
		    "revocations_file is for type: memory; the redis store "
		    "keeps revocations in Redis (claimgate revoke)");
	if (f[SF_URL].val == NULL)
		return fail(c, k, NULL, "missing \"url\" (type: redis)");
	rc = dup_str(c, f[SF_URL].val, "url", &sc->url);
	if (rc == CG_OK)
		rc = parse_store_url(c, f[SF_URL].val, sc);
	if (rc != CG_OK)
		return rc;
	if (f[SF_KEY_PREFIX].val != NULL) {
		rc = get_str(c, f[SF_KEY_PREFIX].val, "key_prefix", 1, &s);
		if (rc != CG_OK)
			return rc;
		if (!valid_prefix(s, f[SF_KEY_PREFIX].val->len))
			return fail(c, f[SF_KEY_PREFIX].val, "key_prefix",
			    "1 to %d of A-Z a-z 0-9 : . _ - /",
			    STORE_PREFIX_MAX);
		sc->key_prefix = cg__strdup(s);
	} else {
		sc->key_prefix = cg__strdup("cg:");
	}
	if (sc->key_prefix == NULL)
		return nomem(c);
	if ((tv = f[SF_TIMEOUT].val) != NULL) {
		if (tv->kind != YN_SCALAR || ynull(tv) ||
		    memchr(tv->s, '\0', tv->len) != NULL ||
		    cg__duration_ms_parse(tv->s, &sc->timeout_ms) != 0)
			return fail(c, tv, "timeout",
			    "expected a duration (50ms, 1s)");
		if (sc->timeout_ms < 1 ||
		    sc->timeout_ms > STORE_TIMEOUT_MAX_MS)
			return fail(c, tv, "timeout",
			    "must be between 1ms and 10s");
	}
	if (f[SF_PASSWORD_ENV].val != NULL) {
		rc = get_str(c, f[SF_PASSWORD_ENV].val, "password_env", 1, &s);
		if (rc != CG_OK)
			return rc;
		if (!valid_env_name(s, f[SF_PASSWORD_ENV].val->len))
			return fail(c, f[SF_PASSWORD_ENV].val, "password_env",
			    "expected an environment variable name");
		if ((sc->password_env = cg__strdup(s)) == NULL)
			return nomem(c);
	}
	if (sc->user != NULL && sc->password_env == NULL)
		return fail(c, f[SF_URL].val, "url",
		    "a user needs password_env");
	return CG_OK;
}

/* ---- key sets ------------------------------------------------------------------ */

static cg_code
add_warning(struct pctx *c, const char *fmt, ...) CG_PRINTF(2, 3);

static cg_code
add_warning(struct pctx *c, const char *fmt, ...)
{
	struct cg_strlist *w = &c->p->warnings;
	va_list ap;
	char **nv, *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return nomem(c);
	s = cg__malloc((size_t)n + 1);
	if (s == NULL)
		return nomem(c);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	nv = cg__realloc(w->v, (w->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(s);
		return nomem(c);
	}
	w->v = nv;
	w->v[w->n++] = s;
	return CG_OK;
}

static cg_code
load_keys(struct pctx *c, struct cg_issuer *is)
{
	struct cg_error kerr;
	char e[ESC_SIZE];
	size_t i, n;
	cg_code rc;

	memset(&kerr, 0, sizeof(kerr));
	rc = cg_keyset_load_file(is->jwks_file, &is->keys, &kerr);
	if (rc != CG_OK) {
		is->keys = NULL;
		/* The key loader's message names the file and why; say
		 * where in the policy that file was named. */
		if (c->err != NULL) {
			*c->err = kerr;
			cg__err_prefix(c->err, "%s:%u:%u", c->file,
			    is->keys_pos.line, is->keys_pos.col);
		}
		return rc;
	}
	n = cg_keyset_warning_count(is->keys);
	esc(e, is->name, strlen(is->name));
	for (i = 0; i < n; i++) {
		const char *w = cg_keyset_warning(is->keys, i);

		rc = add_warning(c, "%s:%u:%u: issuer %s: %s", c->file,
		    is->keys_pos.line, is->keys_pos.col, e,
		    w != NULL ? w : "");
		if (rc != CG_OK)
			return rc;
	}
	return CG_OK;
}

/*
 * A remote key set: nothing is fetched while loading (serve's fetcher
 * and `claimgate verify` do it, see cg_policy_fetch_keys). With cache_dir,
 * the last good set saved there serves until a fetch succeeds, for at
 * most stale_for after it was saved.
 */
static cg_code
new_keysource(struct pctx *c, struct cg_issuer *is)
{
	struct cg_keysource_config kc;
	char *cache = NULL;
	struct stat st;
	cg_code rc;

	memset(&kc, 0, sizeof(kc));
	kc.issuer_name = is->name;
	kc.issuer = is->iss;
	kc.uri = is->jwks_uri;
	kc.discovery = is->discovery;
	kc.ca_file = is->ca_file;
	kc.insecure_http = is->insecure_http;
	kc.refresh = is->refresh;
	kc.stale_for = is->stale_for;
	kc.miss_interval = 30;
	kc.timeout_ms = 5000;
	kc.max_bytes = CG_LIMIT_JWKS_BYTES;
	kc.max_keys = 100;
	if (c->p->cache_dir != NULL) {
		/* One file per issuer, named by a hash of its iss: issuer
		 * names may hold any printable character, '/' included. */
		unsigned char h[32];
		char hex[65];
		size_t dl = strlen(c->p->cache_dir);
		if (cg__sha256(is->iss, is->iss_len, h) != 0)
			return nomem(c);
		cg__hex(h, 16, hex);
		if ((cache = cg__malloc(dl + 48)) == NULL)
			return nomem(c);
		snprintf(cache, dl + 48, "%s/%s.jwks.json", c->p->cache_dir,
		    hex);
		kc.cache_file = cache;
	}
	rc = cg__keysource_new(&kc, &is->src);
	if (rc == CG_OK && cache != NULL && stat(cache, &st) == 0)
		(void)cg__keysource_load_cache(is->src, (int64_t)st.st_mtime);
	free(cache);
	return rc == CG_OK ? CG_OK : nomem(c);
}

/* The revocations file must exist and parse: its errors name the file
 * itself ("revoked.jsonl:3:12: ..."); a missing file names the policy
 * line that points to it. */
static cg_code
load_revocations(struct pctx *c)
{
	const struct cg_store_config *sc = &c->p->store;
	cg_code rc;

	rc = cg__revfile_check(sc->revocations_file, c->err);
	if (rc == CG_ERR_IO && c->err != NULL)
		cg__err_prefix(c->err, "%s:%u:%u: store.revocations_file",
		    c->file, sc->revocations_pos.line,
		    sc->revocations_pos.col);
	return rc;
}

/* ---- the document ------------------------------------------------------------------ */

enum { TF_VERSION, TF_ISSUERS, TF_ZONES, TF_STORE, TF_CACHE_DIR, TF_N_ };

static cg_code
parse_root(struct pctx *c, const struct ynode *root)
{
	struct field f[TF_N_] = { { "version", NULL, NULL },
		{ "issuers", NULL, NULL }, { "zones", NULL, NULL },
		{ "store", NULL, NULL }, { "cache_dir", NULL, NULL } };
	size_t i, old;
	cg_code rc;
	long v;

	if (root == NULL)
		return fail(c, NULL, NULL, "empty policy: missing \"version\"");
	if (root->kind != YN_MAP)
		return fail(c, root, NULL, "expected a mapping, not %s",
		    type_name(root));
	rc = pick(c, root, f, TF_N_);
	if (rc != CG_OK)
		return rc;
	if (f[TF_VERSION].val == NULL)
		return fail(c, root, NULL, "missing \"version\"");
	rc = get_int(c, f[TF_VERSION].val, "version", &v);
	if (rc != CG_OK)
		return rc;
	if (v != 1)
		return fail(c, f[TF_VERSION].val, "version",
		    "unsupported version %ld (expected 1)", v);
	if (f[TF_ISSUERS].val == NULL)
		return fail(c, root, NULL, "missing \"issuers\"");
	old = path_push(c, "issuers", 7);
	rc = parse_issuers(c, f[TF_ISSUERS].val);
	path_pop(c, old);
	if (rc != CG_OK)
		return rc;
	if (f[TF_ZONES].val == NULL)
		return fail(c, root, NULL, "missing \"zones\"");
	old = path_push(c, "zones", 5);
	rc = parse_zones(c, f[TF_ZONES].val);
	path_pop(c, old);
	if (rc != CG_OK)
		return rc;
	if (f[TF_STORE].val != NULL) {
		old = path_push(c, "store", 5);
		rc = parse_store(c, f[TF_STORE].key, f[TF_STORE].val);
		path_pop(c, old);
		if (rc != CG_OK)
			return rc;
	}
	if (f[TF_CACHE_DIR].val != NULL) {
		const char *s;
		rc = get_str(c, f[TF_CACHE_DIR].val, "cache_dir", 1, &s);
		if (rc == CG_OK)
			rc = resolve_path(c, s, &c->p->cache_dir);
		if (rc != CG_OK)
			return rc;
	}
	/* Files last: a policy with a typo fails without touching them. */
	for (i = 0; i < c->p->nissuers; i++) {
		rc = c->p->issuers[i].jwks_file != NULL
		    ? load_keys(c, &c->p->issuers[i])
		    : new_keysource(c, &c->p->issuers[i]);
		if (rc != CG_OK)
			return rc;
	}
	if (c->p->store.revocations_file != NULL)
		return load_revocations(c);
	return CG_OK;
}

/* see policy.h */
cg_code
cg__policy_parse(const char *text, size_t len, const char *name,
    const char *base_dir, struct cg_policy **out, struct cg_error *err)
{
	struct ynode *root = NULL;
	struct pctx c;
	cg_code rc;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (text == NULL && len > 0))
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "policy: NULL argument");
	if (name == NULL)
		name = "policy";
	memset(&c, 0, sizeof(c));
	cg__escape(c.file, sizeof(c.file), name, strlen(name), 96);
	c.base_dir = base_dir;
	c.err = err;
	if (len > CG_LIMIT_POLICY_BYTES)
		return cg__err(err, CG_ERR_POLICY, CG_NO_OFFSET,
		    "%s: larger than %u bytes", c.file, CG_LIMIT_POLICY_BYTES);
	c.p = cg__calloc(1, sizeof(*c.p));
	if (c.p == NULL)
		return nomem(&c);
	c.p->path = cg__strdup(name);
	if (c.p->path == NULL) {
		rc = nomem(&c);
		goto out;
	}
	rc = yaml_to_tree(&c, text != NULL ? text : "", len, &root);
	if (rc != CG_OK)
		goto out;
	rc = parse_root(&c, root);
out:
	ynode_free(root);
	if (rc != CG_OK) {
		cg_policy_free(c.p);
		return rc;
	}
	*out = c.p;
	return CG_OK;
}

/* ---- files ------------------------------------------------------------------------ */

static cg_code
read_file(const char *path, const char *shown, char **text, size_t *len,
    struct cg_error *err)
{
	char why[128], *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;
	cg_code rc;
	FILE *fp;

	*text = NULL;
	*len = 0;
	fp = fopen(path, "rb");
	if (fp == NULL) {
		if (strerror_r(errno, why, sizeof(why)) != 0)
			snprintf(why, sizeof(why), "error %d", errno);
		return cg__err(err, CG_ERR_IO, CG_NO_OFFSET, "%s: %s", shown,
		    why);
	}
	for (;;) {
		if (n == cap) {
			/* One byte past the cap tells "too large" from
			 * "exactly the cap". */
			if (cap > CG_LIMIT_POLICY_BYTES) {
				rc = cg__err(err, CG_ERR_POLICY, CG_NO_OFFSET,
				    "%s: larger than %u bytes", shown,
				    CG_LIMIT_POLICY_BYTES);
				goto fail;
			}
			cap = cap == 0 ? 16384 : cap * 2;
			if (cap > CG_LIMIT_POLICY_BYTES + 1)
				cap = CG_LIMIT_POLICY_BYTES + 1;
			nb = cg__realloc(buf, cap);
			if (nb == NULL) {
				rc = cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET,
				    "%s: out of memory", shown);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		int e = errno;

		if (strerror_r(e, why, sizeof(why)) != 0)
			snprintf(why, sizeof(why), "error %d", e);
		rc = cg__err(err, CG_ERR_IO, CG_NO_OFFSET, "%s: %s", shown, why);
		goto fail;
	}
	if (n > CG_LIMIT_POLICY_BYTES) {
		rc = cg__err(err, CG_ERR_POLICY, CG_NO_OFFSET,
		    "%s: larger than %u bytes", shown, CG_LIMIT_POLICY_BYTES);
		goto fail;
	}
	fclose(fp);
	*text = buf;
	*len = n;
	return CG_OK;
fail:
	fclose(fp);
	free(buf);
	return rc;
}

/* see claimgate.h */
cg_code
cg_policy_load(const char *path, struct cg_policy **out, struct cg_error *err)
{
	char shown[112], *text = NULL, *base = NULL;
	const char *slash;
	size_t len;
	cg_code rc;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "policy: NULL argument");
	cg__escape(shown, sizeof(shown), path, strlen(path), 96);
	rc = read_file(path, shown, &text, &len, err);
	if (rc != CG_OK)
		return rc;
	/* Relative key paths resolve against the policy file's folder; a
	 * bare file name leaves them relative to the working directory,
	 * which is that folder. */
	slash = strrchr(path, '/');
	if (slash != NULL) {
		base = cg__strndup(path, slash == path ? 1 :
		    (size_t)(slash - path));
		if (base == NULL) {
			free(text);
			return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET,
			    "%s: out of memory", shown);
		}
	}
	rc = cg__policy_parse(text, len, path, base, out, err);
	free(text);
	free(base);
	return rc;
}

/* ---- freeing and accessors ----------------------------------------------------------- */

static void
strlist_free(struct cg_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* see claimgate.h */
void
cg_policy_free(struct cg_policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nissuers; i++) {
		struct cg_issuer *is = &p->issuers[i];

		free(is->name);
		free(is->iss);
		free(is->jwks_file);
		free(is->jwks_uri);
		free(is->ca_file);
		cg_keyset_free(is->keys);
		cg__keysource_free(is->src);
		strlist_free(&is->types);
	}
	free(p->issuers);
	for (i = 0; i < p->nzones; i++) {
		struct cg_zone *z = &p->zones[i];

		free(z->name);
		free(z->names);
		free(z->audience);
		free(z->accept);
		strlist_free(&z->require_claims);
		for (j = 0; j < z->nclaims; j++) {
			struct cg_claim_rule *r = &z->claims[j];
			size_t m;

			free(r->name);
			free(r->claim);
			free(r->from);
			free(r->pattern);
			if (r->has_pattern)
				regfree(&r->re);
			cg__fastpat_free(r->fast);
			for (m = 0; m < r->nmap; m++) {
				free(r->map[m].from);
				free(r->map[m].to);
			}
			free(r->map);
		}
		free(z->claims);
		for (j = 0; j < z->nrequire; j++) {
			free(z->require[j].claim);
			strlist_free(&z->require[j].values);
		}
		free(z->require);
		for (j = 0; j < z->nforward; j++) {
			free(z->forward[j].header);
			free(z->forward[j].claim);
		}
		free(z->forward);
		strlist_free(&z->match_hosts);
		strlist_free(&z->match_paths);
		strlist_free(&z->match_methods);
	}
	free(p->zones);
	free(p->cache_dir);
	free(p->store.url);
	free(p->store.host);
	free(p->store.unix_path);
	free(p->store.user);
	free(p->store.key_prefix);
	free(p->store.password_env);
	free(p->store.revocations_file);
	strlist_free(&p->warnings);
	free(p->path);
	free(p);
}

/* see policy.h */
long
cg__policy_zone_index(const struct cg_policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return -1;
	for (i = 0; i < p->nzones; i++)
		if (cg__streq(p->zones[i].name, name))
			return (long)i;
	return -1;
}

/* see claimgate.h */
size_t
cg_policy_zone_count(const struct cg_policy *p)
{
	return p == NULL ? 0 : p->nzones;
}

/* see claimgate.h */
const char *
cg_policy_zone_name(const struct cg_policy *p, size_t i)
{
	if (p == NULL || i >= p->nzones)
		return NULL;
	return p->zones[i].name;
}

/* see claimgate.h */
size_t
cg_policy_warning_count(const struct cg_policy *p)
{
	return p == NULL ? 0 : p->warnings.n;
}

/* see claimgate.h */
const char *
cg_policy_warning(const struct cg_policy *p, size_t i)
{
	if (p == NULL || i >= p->warnings.n)
		return NULL;
	return p->warnings.v[i];
}
