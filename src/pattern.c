/*
 * pattern.c - a fast matcher for the trusted-claim patterns most policies
 * write ("[a-z0-9-]{1,64}", "[^@ ]+@example\.com", "search:[a-z]+"): a
 * sequence of single-character atoms, each with a quantifier, matched
 * against the whole value. glibc's regexec() costs about a microsecond
 * per call, as much as the rest of a cached decision; this costs tens of
 * nanoseconds.
 *
 * It is an accelerator, never a second definition: the policy compiles
 * every pattern with regcomp() as before, and this matcher takes only
 * what it can match exactly as regexec() does (REG_EXTENDED, the pattern
 * wrapped as ^(...)$):
 *   - atoms: a literal byte (printable ASCII, not an ERE special), `\`
 *     followed by an ERE special, `.`, or a bracket expression of
 *     printable ASCII bytes and ranges (optionally negated; no [:class:],
 *     [=x=] or [.x.]);
 *   - quantifiers: none, `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` (n <= 255),
 *     at most one per atom;
 *   - a leading `^` and a trailing `$` (redundant in ^(...)$);
 *   - at most 32 atoms; anything else (groups, alternation, other
 *     anchors, back-references, other escapes) is left to regexec();
 *   - values: ASCII only (1 to 127) and at most 256 bytes; any other value
 *     goes to regexec(), so character semantics of a multibyte locale
 *     never differ from bytes here.
 * tests/unit/test_pattern.c holds the two to the same answer on random
 * patterns and values.
 *
 * Matching is a set of reachable positions advanced atom by atom: from
 * each position p, an atom with bounds {m,n} reaches p+m .. p+min(n, run)
 * where run counts the bytes from p its class accepts; the value matches
 * when its end is reachable after the last atom. O(atoms x length).
 */
#include <string.h>

#include "internal.h"

#define MAX_ATOMS 32
#define MAX_VALUE 256
#define UNBOUNDED 0xffffu

struct atom {
	unsigned char set[128 / 8]; /* bytes 0-127 the atom accepts */
	unsigned min, max;
};

struct cg_fastpat {
	size_t n;
	struct atom a[MAX_ATOMS];
	/* For one atom, per byte: 0 accepted, 1 refused, 2 NUL or not
	 * ASCII (the value goes to regexec). */
	unsigned char one[256];
};

static int
special(int c)
{
	return strchr(".[]()*+?{}|^$\\", c) != NULL;
}

static void
add(struct atom *a, int c)
{
	a->set[c >> 3] = (unsigned char)(a->set[c >> 3] | 1u << (c & 7));
}

static int
accepts(const struct atom *a, unsigned char c)
{
	return c < 128 && (a->set[c >> 3] >> (c & 7) & 1u);
}

/* A bracket expression after its '['; returns the byte after ']', or
 * NULL when outside the subset. */
static const char *
bracket(const char *p, struct atom *a)
{
	int neg = 0, first = 1, c, d, i;

	if (*p == '^') {
		neg = 1;
		p++;
	}
	for (;; first = 0) {
		c = (unsigned char)*p;
		if (c == ']' && !first)
			break;
		if (c < 0x20 || c > 0x7e)
			return NULL; /* the end of the pattern, or not ASCII */
		if (c == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.'))
			return NULL;
		if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
			d = (unsigned char)p[2];
			if (d < c || d > 0x7e || (d == '[' && p[3] == '.'))
				return NULL;
			for (i = c; i <= d; i++)
				add(a, i);
			p += 3;
			continue;
		}
		add(a, c);
		p++;
	}
	if (neg)
		for (i = 0; i < 128 / 8; i++)
			a->set[i] = (unsigned char)~a->set[i];
	a->set[0] &= 0xfe; /* never NUL */
	return p + 1;
}

/* A decimal bound of at most 3 digits; -1 when there is none. */
static int
bound(const char **pp)
{
	const char *p = *pp;
	int v = 0, n = 0;

	while (*p >= '0' && *p <= '9' && n < 4) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || n > 3)
		return -1;
	*pp = p;
	return v;
}

/* The quantifier at *pp, if any, into a; -1 when outside the subset. */
static int
quantifier(const char **pp, struct atom *a)
{
	const char *p = *pp;
	int m, n;

	a->min = a->max = 1;
	switch (*p) {
	case '*':
		a->min = 0;
		a->max = UNBOUNDED;
		p++;
		break;
	case '+':
		a->max = UNBOUNDED;
		p++;
		break;
	case '?':
		a->min = 0;
		p++;
		break;
	case '{':
		p++;
		if ((m = bound(&p)) < 0)
			return -1;
		n = m;
		if (*p == ',') {
			p++;
			n = *p == '}' ? (int)UNBOUNDED : bound(&p);
			if (n < 0)
				return -1;
		}
		if (*p != '}' || n < m || (n > 255 && n != (int)UNBOUNDED) ||
		    m > 255)
			return -1;
		a->min = (unsigned)m;
		a->max = (unsigned)n;
		p++;
		break;
	default: break;
	}
	if (*p == '*' || *p == '+' || *p == '?' || *p == '{')
		return -1; /* stacked quantifiers: regexec's business */
	*pp = p;
	return 0;
}

struct cg_fastpat *
cg__fastpat_compile(const char *pattern)
{
	struct cg_fastpat *f;
	const char *p = pattern;
	int c;

	if ((f = cg__calloc(1, sizeof(*f))) == NULL)
		return NULL;
	/* Inside ^(...)$, a leading ^ and a trailing $ change nothing. */
	if (*p == '^')
		p++;
	while (*p != '\0') {
		struct atom *a;
		if (f->n == MAX_ATOMS)
			goto unsupported;
		a = &f->a[f->n++];
		c = (unsigned char)*p;
		if (c == '$' && p[1] == '\0') {
			f->n--;
			break;
		}
		if (c == '.') {
			memset(a->set, 0xff, sizeof(a->set));
			a->set[0] &= 0xfe;
			p++;
		} else if (c == '[') {
			if ((p = bracket(p + 1, a)) == NULL)
				goto unsupported;
		} else if (c == '\\') {
			if (p[1] == '\0' || !special((unsigned char)p[1]))
				goto unsupported;
			add(a, (unsigned char)p[1]);
			p += 2;
		} else if (c >= 0x20 && c <= 0x7e && !special(c)) {
			add(a, c);
			p++;
		} else {
			goto unsupported;
		}
		if (quantifier(&p, a) != 0)
			goto unsupported;
	}
	if (f->n == 1) {
		int b;
		for (b = 0; b < 256; b++)
			f->one[b] = b == 0 || b > 127                     ? 2
			            : accepts(&f->a[0], (unsigned char)b) ? 0
			                                                  : 1;
	}
	return f;
unsupported:
	free(f);
	return NULL;
}

void
cg__fastpat_free(struct cg_fastpat *f)
{
	free(f);
}

int
cg__fastpat_match(const struct cg_fastpat *f, const char *s, size_t len)
{
	unsigned char at[MAX_VALUE + 1];
	short next[MAX_VALUE + 2];
	unsigned short run[MAX_VALUE + 1];
	size_t i, k;

	if (len > MAX_VALUE)
		return -1;
	if (f->n == 1) {
		/* One atom ("[a-z0-9-]{1,64}"): the length in bounds and
		 * every byte in the class. */
		const struct atom *a = &f->a[0];
		unsigned m = 0;
		for (i = 0; i < len; i++)
			m |= f->one[(unsigned char)s[i]];
		if (m & 2)
			return -1; /* NUL or not ASCII */
		return m == 0 && len >= a->min && len <= a->max;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] - 1u > 126u)
			return -1; /* NUL or not ASCII */
	memset(at, 0, len + 1);
	at[0] = 1;
	for (k = 0; k < f->n; k++) {
		const struct atom *a = &f->a[k];
		int any = 0, open = 0;
		/* run[p]: bytes from p the atom accepts */
		run[len] = 0;
		for (i = len; i-- > 0;)
			run[i] = accepts(a, (unsigned char)s[i])
			             ? (unsigned short)(run[i + 1] + 1)
			             : 0;
		/* next[] marks interval starts (+1) and ends (-1) as a
		 * difference array; a running count gives the new set. */
		memset(next, 0, (len + 2) * sizeof(next[0]));
		for (i = 0; i <= len; i++) {
			size_t hi;
			if (!at[i] || run[i] < a->min)
				continue;
			hi = run[i] < a->max ? run[i] : a->max;
			next[i + a->min]++;
			next[i + hi + 1]--;
		}
		for (i = 0; i <= len; i++) {
			open += next[i];
			at[i] = open > 0;
			any |= open > 0;
		}
		if (!any)
			return 0;
	}
	return at[len];
}
