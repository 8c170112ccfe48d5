/*
 * json_reader.c - the strict JSON reader for token headers and claims
 * (the hot path). jansson stays the reader for policies and key sets.
 *
 * Accepted grammar: RFC 8259, with these restrictions, each matching what
 * cg__json_parse_object (jansson with JSON_REJECT_DUPLICATES |
 * JSON_DECODE_INT_AS_REAL) accepts, so that the two readers never
 * disagree (tests/unit/test_json_reader.c checks it on a generated
 * corpus):
 *   - the top-level value is an object; whitespace around it only;
 *   - containers nest at most max_depth levels (top level = 1);
 *   - member names are unique within each object after unescaping;
 *   - strings are valid UTF-8 (no overlong forms, no surrogates, nothing
 *     above U+10FFFF), raw bytes below 0x20 are refused, escapes are the
 *     RFC's eight plus \uXXXX, surrogate escapes must pair, and U+0000 is
 *     refused in any form;
 *   - numbers follow the RFC grammar (no leading zeros, no '+', no bare
 *     '.', no hex) and are read as doubles with strtod in the C locale;
 *     one that overflows a double is refused, underflow reads as the
 *     nearest representable value, as jansson does.
 * Nothing is lenient. Nodes go to an arena owned by the caller: one
 * allocation for a typical token.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jnode.h"

/* ---- arena ----------------------------------------------------------- */

struct cg_arena {
	struct cg_arena *next;
	size_t used, cap;
	int borrowed; /* memory of the caller's (cg__arena_in): not freed */
	/* data follows, aligned for doubles and pointers */
	max_align_t data[];
};

struct cg_arena *
cg__arena_in(void *mem, size_t size)
{
	struct cg_arena *a = mem;

	if (size < sizeof(*a))
		return NULL;
	a->next = NULL;
	a->used = 0;
	a->cap = size - sizeof(*a);
	a->borrowed = 1;
	return a;
}

size_t
cg__arena_overhead(void)
{
	return sizeof(struct cg_arena);
}

void *
cg__arena_alloc(struct cg_arena **ap, size_t n, size_t hint)
{
	struct cg_arena *a = *ap;
	size_t align = _Alignof(max_align_t), cap;
	void *p;

	n = (n + align - 1) / align * align;
	if (a == NULL || a->cap - a->used < n) {
		cap = hint > n ? hint : n;
		if (a != NULL && cap < a->cap * 2)
			cap = a->cap * 2;
		if (cap > SIZE_MAX / 2 - sizeof(*a))
			return NULL;
		a = cg__malloc(sizeof(*a) + cap);
		if (a == NULL)
			return NULL;
		a->next = *ap;
		a->used = 0;
		a->cap = cap;
		a->borrowed = 0;
		*ap = a;
	}
	p = (char *)a->data + a->used;
	a->used += n;
	return p;
}

char *
cg__arena_strndup(struct cg_arena **a, const char *s, size_t n, size_t hint)
{
	char *d;

	if (n == SIZE_MAX || (d = cg__arena_alloc(a, n + 1, hint)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

size_t
cg__arena_footprint(const struct cg_arena *a)
{
	size_t n = 0;

	for (; a != NULL; a = a->next)
		if (!a->borrowed)
			n += sizeof(*a) + a->cap;
	return n;
}

void
cg__arena_free(struct cg_arena *a)
{
	while (a != NULL) {
		struct cg_arena *next = a->next;
		if (!a->borrowed)
			free(a);
		a = next;
	}
}

/* ---- the parser -------------------------------------------------------- */

struct rd {
	unsigned char *p, *end, *start; /* the document, parsed in place */
	/* json_index.c's bitmaps of the document as received, or NULL. */
	const uint64_t *quote, *bad;
	size_t words;
	struct cg_arena **arena;
	size_t hint;
	int max_depth;
	const char *why;
	int oom;
};

static int
fail(struct rd *r, const char *why)
{
	if (r->why == NULL)
		r->why = why;
	return -1;
}

static void
skip_ws(struct rd *r)
{
	/* The four whitespace bytes are all <= ' ': a token without
	 * whitespace (the usual kind) costs one compare per call. */
	while (
	    r->p < r->end && *r->p <= ' ' &&
	    (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* Nodes are a whole number of alignment units, so the bump below keeps
 * the arena aligned exactly as cg__arena_alloc would. */
_Static_assert(sizeof(struct cg_jnode) % _Alignof(max_align_t) == 0,
    "cg_jnode size is not a multiple of the arena alignment");

static struct cg_jnode *
new_node(struct rd *r, cg_json_type t)
{
	struct cg_arena *a = *r->arena;
	struct cg_jnode *n;

	/* Most nodes fit the current block: bump in place. */
	if (a != NULL && a->cap - a->used >= sizeof(*n)) {
		n = (struct cg_jnode *)(void *)((char *)a->data + a->used);
		a->used += sizeof(*n);
	} else if ((n = cg__arena_alloc(r->arena, sizeof(*n), r->hint)) ==
	           NULL) {
		r->oom = 1;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->magic = CG_JNODE_MAGIC;
	n->type = (uint32_t)t;
	return n;
}

static int
hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 (RFC 3629). */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static size_t
put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Bytes inside a string: 0 copied as is, 1 '"', 2 '\\', 3 a control
 * character (refused raw), 4 the first byte of a UTF-8 sequence. */
/* clang-format off */
#define C4(x) x, x, x, x
#define C16(x) C4(x), C4(x), C4(x), C4(x)
static const unsigned char str_class[256] = {
	C16(3), C16(3),					/* 0x00-0x1f */
	0, 0, 1, 0, C4(0), C4(0), C4(0),		/* 0x20-0x2f: '"' */
	C16(0), C16(0),					/* 0x30-0x4f */
	C4(0), C4(0), C4(0), 2, 0, 0, 0,		/* 0x50-0x5f: '\\' */
	C16(0), C16(0),					/* 0x60-0x7f */
	C16(4), C16(4), C16(4), C16(4), C16(4), C16(4), C16(4), C16(4),
};
#undef C16
#undef C4
/* clang-format on */

/*
 * A fault inside the string that opened at `open`: reported at `q`, unless
 * the string never closes, which is reported first ("JSON ends early"),
 * whatever it holds.
 */
static int
string_fault(
    struct rd *r, const unsigned char *from, unsigned char *at, const char *why)
{
	const unsigned char *s;

	/* Bytes from `from` on are still as received. */
	for (s = from; s < r->end && *s != '"'; s++)
		if (*s == '\\' && ++s == r->end)
			break;
	if (s >= r->end) {
		r->p = r->end;
		return fail(r, "JSON ends early");
	}
	r->p = at;
	return fail(r, why);
}

/*
 * Bytes from q that str_class marks 0, eight at a time: a byte is flagged
 * when below 0x20, equal to '"' or '\\', or above 0x7f. The lowest flag
 * of each test is exact (a borrow only runs upwards from a true match),
 * so the first flagged byte is the first one the slow loop must see.
 */
const unsigned char *
cg__json_plain_run(const unsigned char *q, const unsigned char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&    \
    (defined(__GNUC__) || defined(__clang__))
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;

	while (end - q >= 8) {
		uint64_t w, qt, bs, m;
		memcpy(&w, q, 8);
		qt = w ^ (ones * '"');
		bs = w ^ (ones * '\\');
		m = ((w - ones * 0x20) & ~w) | ((qt - ones) & ~qt) |
		    ((bs - ones) & ~bs) | w;
		m &= high;
		if (m != 0)
			return q + (__builtin_ctzll(m) >> 3);
		q += 8;
	}
#endif
	while (q < end && str_class[*q] == 0)
		q++;
	return q;
}

/*
 * The index's answer for a string whose content starts at offset s: the
 * offset of the next quote when no byte before it needs the slow path
 * (then the content is s..e as it stands), else 0 (a quote is never at
 * offset 0 after an opening one). The bitmaps describe the document as
 * received; unescaping rewrites only bytes inside strings already read,
 * all before s.
 */
static size_t
indexed_end(const struct rd *r, size_t s)
{
	size_t w = s >> 6, last, e;
	uint64_t m, b;

	if (w >= r->words)
		return 0;
	m = r->quote[w] & (~(uint64_t)0 << (s & 63));
	while (m == 0) {
		if (++w == r->words)
			return 0;
		m = r->quote[w];
	}
	e = (w << 6) + (size_t)__builtin_ctzll(m);
	/* No flagged byte in [s, e). */
	last = w;
	w = s >> 6;
	b = r->bad[w] & (~(uint64_t)0 << (s & 63));
	for (; w < last; b = r->bad[++w])
		if (b != 0)
			return 0;
	return (b & (((uint64_t)1 << (e & 63)) - 1)) == 0 ? e : 0;
}

/*
 * A string at r->p (which is '"') that the index did not settle,
 * unescaped in place: escapes only shrink, so the bytes are rewritten
 * where they stand and the closing quote's position (or an earlier one)
 * takes the terminating NUL.
 */
static int
parse_string_slow(struct rd *r, const char **out, size_t *outlen)
{
	unsigned char *open = r->p, *q = open + 1, *o, *end = r->end;
	unsigned cp, lo;

	/* Most strings are plain: find the quote and terminate there. */
	q = (unsigned char *)(uintptr_t)cg__json_plain_run(q, end);
	if (q < end && *q == '"') {
		*q = '\0';
		*out = (const char *)open + 1;
		*outlen = (size_t)(q - open - 1);
		r->p = q + 1;
		return 0;
	}
	for (o = q;;) {
		if (q >= end)
			return string_fault(r, end, end, "JSON ends early");
		switch (str_class[*q]) {
		case 0: *o++ = *q++; continue;
		case 1:
			*o = '\0';
			*out = (const char *)open + 1;
			*outlen = (size_t)(o - open - 1);
			r->p = q + 1;
			return 0;
		case 3: return string_fault(r, q, q, "invalid JSON");
		case 4: {
			size_t n = utf8_seq(q, end);
			if (n == 0)
				return string_fault(r, q, q, "invalid UTF-8");
			memmove(o, q, n);
			o += n;
			q += n;
			continue;
		}
		default: break; /* '\\' */
		}
		if (++q == end)
			return string_fault(r, end, end, "JSON ends early");
		switch (*q) {
		case '"':
			*o++ = '"';
			q++;
			continue;
		case '\\':
			*o++ = '\\';
			q++;
			continue;
		case '/':
			*o++ = '/';
			q++;
			continue;
		case 'b':
			*o++ = '\b';
			q++;
			continue;
		case 'f':
			*o++ = '\f';
			q++;
			continue;
		case 'n':
			*o++ = '\n';
			q++;
			continue;
		case 'r':
			*o++ = '\r';
			q++;
			continue;
		case 't':
			*o++ = '\t';
			q++;
			continue;
		case 'u': break;
		default: return string_fault(r, q + 1, q, "invalid JSON");
		}
		if (end - q < 5 || hex4(q + 1, &cp) != 0)
			return string_fault(r, q + 1, q, "invalid JSON");
		q += 5;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			/* A high surrogate must pair with a low one. */
			if (end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
			    hex4(q + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
				return string_fault(r, q, q, "invalid JSON");
			q += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			return string_fault(r, q, q, "invalid JSON");
		} else if (cp == 0) {
			return string_fault(
			    r, q, q, "NUL character in a string");
		}
		o += put_utf8(o, cp);
	}
}

/*
 * A string at r->p (which is '"'). A plain one (no escape, control or
 * non-ASCII byte) ends at the next quote, which the index finds without
 * reading the string; the rest go to parse_string_slow.
 */
static inline int
parse_string(struct rd *r, const char **out, size_t *outlen)
{
	size_t s = (size_t)(r->p - r->start) + 1, e;

	if (r->quote != NULL && (e = indexed_end(r, s)) != 0) {
		r->start[e] = '\0';
		*out = (const char *)r->start + s;
		*outlen = e - s;
		r->p = r->start + e + 1;
		return 0;
	}
	return parse_string_slow(r, out, outlen);
}

static int
parse_number(struct rd *r, struct cg_jnode *n)
{
	unsigned char *q = r->p, *b = q;
	char small[64], *copy;
	uint64_t v = 0;
	int integer = 1;
	size_t len;
	double d;

	if (q < r->end && *q == '-')
		q++;
	if (q == r->end)
		return fail(r, "JSON ends early");
	if (*q == '0') {
		q++;
	} else if (*q >= '1' && *q <= '9') {
		/* v wraps on long numbers; it is used up to 15 digits only. */
		while (q < r->end && *q >= '0' && *q <= '9')
			v = v * 10 + (unsigned)(*q++ - '0');
	} else {
		r->p = q;
		return fail(r, "invalid JSON");
	}
	if (q < r->end && *q == '.') {
		integer = 0;
		q++;
		if (q == r->end || *q < '0' || *q > '9') {
			r->p = q;
			return fail(r, "invalid JSON");
		}
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		integer = 0;
		q++;
		if (q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q == r->end || *q < '0' || *q > '9') {
			r->p = q;
			return fail(r, "invalid JSON");
		}
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	len = (size_t)(q - b);
	if (integer && len - (*b == '-') <= 15) {
		/* Below 10^15 < 2^53: exact as a double, the value strtod
		 * reads (and -0 stays negative zero). */
		d = (double)v;
		n->u.num = *b == '-' ? -d : d;
		r->p = q;
		return 0;
	}
	/* strtod needs a terminated copy; a number is short unless an
	 * attacker makes it long. */
	copy = len < sizeof(small) ? small : cg__malloc(len + 1);
	if (copy == NULL) {
		r->oom = 1;
		return -1;
	}
	memcpy(copy, b, len);
	copy[len] = '\0';
	errno = 0;
	d = strtod(copy, NULL);
	if (copy != small)
		free(copy);
	if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
		r->p = b;
		return fail(r, "number out of range");
	}
	n->u.num = d;
	r->p = q;
	return 0;
}

static int parse_value(struct rd *r, struct cg_jnode *n, int depth);

static int
key_cmp(const void *a, const void *b)
{
	const struct cg_jnode *x = *(const struct cg_jnode *const *)a;
	const struct cg_jnode *y = *(const struct cg_jnode *const *)b;

	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	return memcmp(x->key, y->key, x->keylen);
}

/* Duplicate names, compared after unescaping. Small objects pairwise,
 * large ones sorted (a hostile token can hold a thousand members). */
static int
has_duplicates(struct rd *r, const struct cg_jnode **kids, size_t n)
{
	const struct cg_jnode **sorted;
	size_t i, j;

	/* On a duplicate, r->p points at the later of the two members. */
	if (n <= 16) {
		/* A 64-bit filter on (length, first and last byte): a member
		 * is compared with the earlier ones only when its bit is
		 * already set, which typical claim names rarely share. */
		uint64_t seen = 0, bit;
		for (j = 0; j < n; j++) {
			const struct cg_jnode *k = kids[j];
			unsigned h = (unsigned)k->keylen * 7;
			if (k->keylen > 0)
				h += (unsigned char)k->key[0] * 3u +
				     (unsigned char)k->key[k->keylen - 1];
			bit = (uint64_t)1 << (h & 63);
			if (seen & bit)
				for (i = 0; i < j; i++)
					if (key_cmp(&kids[i], &kids[j]) == 0) {
						r->p = r->start + k->off;
						return 1;
					}
			seen |= bit;
		}
		return 0;
	}
	sorted = cg__arena_alloc(r->arena, n * sizeof(*sorted), r->hint);
	if (sorted == NULL) {
		r->oom = 1;
		return -1;
	}
	memcpy(sorted, kids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), key_cmp);
	for (i = 1; i < n; i++)
		if (key_cmp(&sorted[i - 1], &sorted[i]) == 0) {
			size_t a = sorted[i - 1]->off, b = sorted[i]->off;
			r->p = r->start + (a > b ? a : b);
			return 1;
		}
	return 0;
}

/*
 * Children are collected in a growing scratch array, then copied to the
 * arena once the container closes, so that lookups are O(1) per index.
 */
static int
parse_container(struct rd *r, struct cg_jnode *n, int depth, int object)
{
	const struct cg_jnode *small[32], **kids = small, **grown;
	size_t cap = 32, count = 0;
	int rc = -1;
	char close = object ? '}' : ']';

	if (depth > r->max_depth)
		return fail(r, "JSON nested deeper than the limit");
	r->p++; /* '{' or '[' */
	skip_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		rc = 0;
		goto done;
	}
	for (;;) {
		struct cg_jnode *child;
		const char *key = NULL;
		size_t keylen = 0, off = (size_t)(r->p - r->start);

		if (object) {
			if (r->p >= r->end) {
				fail(r, "JSON ends early");
				goto out;
			}
			if (*r->p != '"') {
				fail(r, "invalid JSON");
				goto out;
			}
			if (parse_string(r, &key, &keylen) != 0)
				goto out;
			skip_ws(r);
			if (r->p >= r->end) {
				fail(r, "JSON ends early");
				goto out;
			}
			if (*r->p != ':') {
				fail(r, "invalid JSON");
				goto out;
			}
			r->p++;
			skip_ws(r);
		}
		if ((child = new_node(r, CG_JSON_NULL)) == NULL)
			goto out;
		child->key = key;
		child->keylen = keylen;
		child->off = off;
		/* Strings are most values: straight to their reader. */
		if (r->p < r->end && *r->p == '"') {
			child->type = CG_JSON_STRING;
			if (parse_string(r, &child->u.str, &child->n) != 0)
				goto out;
		} else if (parse_value(r, child, depth) != 0) {
			goto out;
		}
		if (count == cap) {
			if (cap > SIZE_MAX / 2 / sizeof(*kids))
				goto out;
			grown = cg__malloc(2 * cap * sizeof(*kids));
			if (grown == NULL) {
				r->oom = 1;
				goto out;
			}
			memcpy(grown, kids, count * sizeof(*kids));
			if (kids != small)
				free(kids);
			kids = grown;
			cap *= 2;
		}
		kids[count++] = child;
		skip_ws(r);
		if (r->p >= r->end) {
			fail(r, "JSON ends early");
			goto out;
		}
		if (*r->p == ',') {
			r->p++;
			skip_ws(r);
			continue;
		}
		if (*r->p == close) {
			r->p++;
			break;
		}
		fail(r, "invalid JSON");
		goto out;
	}
	rc = 0;
done:
	n->n = count;
	if (count > 0) {
		const struct cg_jnode **dst =
		    cg__arena_alloc(r->arena, count * sizeof(*dst), r->hint);
		if (dst == NULL) {
			r->oom = 1;
			rc = -1;
			goto out;
		}
		memcpy(dst, kids, count * sizeof(*dst));
		n->u.kids = dst;
		if (object) {
			int dup = has_duplicates(r, dst, count);
			if (dup != 0) {
				if (dup > 0)
					fail(r, "duplicate member name");
				rc = -1;
			}
		}
	}
out:
	if (kids != small)
		free(kids);
	return rc;
}

static int
literal(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(
		    r, (size_t)(r->end - r->p) < n &&
		               memcmp(r->p, word, (size_t)(r->end - r->p)) == 0
		           ? "JSON ends early"
		           : "invalid JSON");
	r->p += n;
	return 0;
}

static int
parse_value(struct rd *r, struct cg_jnode *n, int depth)
{
	if (r->p >= r->end)
		return fail(r, "JSON ends early");
	switch (*r->p) {
	case '{':
		n->type = CG_JSON_OBJECT;
		return parse_container(r, n, depth + 1, 1);
	case '[':
		n->type = CG_JSON_ARRAY;
		return parse_container(r, n, depth + 1, 0);
	case '"':
		n->type = CG_JSON_STRING;
		return parse_string(r, &n->u.str, &n->n);
	case 't':
		n->type = CG_JSON_BOOL;
		n->u.boolean = 1;
		return literal(r, "true");
	case 'f':
		n->type = CG_JSON_BOOL;
		n->u.boolean = 0;
		return literal(r, "false");
	case 'n': n->type = CG_JSON_NULL; return literal(r, "null");
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
			n->type = CG_JSON_NUMBER;
			return parse_number(r, n);
		}
		return fail(
		    r, *r->p >= 0x80 ? "invalid UTF-8" : "invalid JSON");
	}
}

cg_code
cg__jnode_parse_inplace(char *p, size_t len, int max_depth,
    struct cg_arena **arena, const struct cg_jnode **out, size_t *bad_offset,
    char *why, size_t whysz)
{
	/* An index for documents up to INDEX_WORDS * 64 bytes (claims sets
	 * are far smaller); longer ones are read without it. */
	enum { INDEX_WORDS = 64 };
	uint64_t quote[INDEX_WORDS], bad[INDEX_WORDS];
	struct cg_jnode *root;
	struct rd r;

	*out = NULL;
	*bad_offset = CG_NO_OFFSET;
	memset(&r, 0, sizeof(r));
	r.p = r.start = (unsigned char *)p;
	r.end = r.p + len;
	r.arena = arena;
	/* One block holds a typical token: nodes are ~48 bytes for every
	 * few bytes of JSON. */
	r.hint = len * 8 + 512;
	r.max_depth = max_depth;
	if (cg__json_index(r.start, len, quote, bad, INDEX_WORDS)) {
		r.quote = quote;
		r.bad = bad;
		r.words = (len + 63) / 64;
	}
	skip_ws(&r);
	if (r.p >= r.end || *r.p != '{') {
		*bad_offset = (size_t)(r.p - r.start);
		snprintf(why, whysz, "%s",
		    r.p >= r.end ? "JSON ends early"
		    : *r.p == '[' || *r.p == '"' || *r.p == '-' ||
		            (*r.p >= '0' && *r.p <= '9') || *r.p == 't' ||
		            *r.p == 'f' || *r.p == 'n'
		        ? "JSON value is not an object"
		        : "invalid JSON");
		return CG_ERR_JSON;
	}
	if ((root = new_node(&r, CG_JSON_OBJECT)) == NULL)
		return CG_ERR_NOMEM;
	if (parse_value(&r, root, 0) != 0) {
		if (r.oom)
			return CG_ERR_NOMEM;
		*bad_offset = (size_t)(r.p - r.start);
		snprintf(
		    why, whysz, "%s", r.why != NULL ? r.why : "invalid JSON");
		return CG_ERR_JSON;
	}
	skip_ws(&r);
	if (r.p != r.end) {
		*bad_offset = (size_t)(r.p - r.start);
		snprintf(why, whysz, "data after the JSON value");
		return CG_ERR_JSON;
	}
	*out = root;
	return CG_OK;
}

cg_code
cg__jnode_parse(const char *p, size_t len, int max_depth,
    struct cg_arena **arena, const struct cg_jnode **out, size_t *bad_offset,
    char *why, size_t whysz)
{
	char *copy;

	*out = NULL;
	*bad_offset = CG_NO_OFFSET;
	if (len == SIZE_MAX ||
	    (copy = cg__arena_alloc(arena, len + 1, len * 9 + 512)) == NULL)
		return CG_ERR_NOMEM;
	memcpy(copy, p, len);
	return cg__jnode_parse_inplace(
	    copy, len, max_depth, arena, out, bad_offset, why, whysz);
}
