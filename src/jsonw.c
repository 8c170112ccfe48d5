/*
 * jsonw.c - compact JSON written straight into a growing buffer, for the
 * decision on the request path (cg_decision_to_json), where building a
 * jansson tree only to print it cost more than the rest of a cached
 * decision.
 *
 * Strings are escaped exactly as jansson's json_dumps() escapes them with
 * the flags claimgate uses (no JSON_ENSURE_ASCII, no JSON_ESCAPE_SLASH):
 * `"` and `\` escaped, \b \f \n \r \t by name, the other bytes below 0x20
 * as \u00XX (upper-case hex), everything else (valid UTF-8, checked when
 * the value was read) as it is. tests/unit/test_jsonw.c holds the two
 * writers to the same output.
 */
#include <string.h>

#include "internal.h"

static int
grow(struct cg_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->cap - b->len > more)
		return 0;
	cap = b->cap == 0 ? 1024 : b->cap;
	while (cap - b->len <= more) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	if ((p = cg__realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
cg__buf_put(struct cg_buf *b, const char *s, size_t n)
{
	if (grow(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void
cg__buf_puts(struct cg_buf *b, const char *s)
{
	cg__buf_put(b, s, strlen(s));
}

void
cg__buf_json_string(struct cg_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, run = 0;

	/* At most 6 output bytes per input byte, plus the quotes. */
	if (n > (SIZE_MAX - 3) / 6) {
		b->oom = 1;
		return;
	}
	if (grow(b, n * 6 + 2) != 0)
		return;
	b->p[b->len++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char *o;
		if (run == 0 && i + 8 <= n) {
			/* Plain bytes eight at a time, up to the first that may
			 * need an escape (json_reader.c). */
			const unsigned char *u = (const unsigned char *)s;
			size_t j =
			    (size_t)(cg__json_plain_run(u + i, u + n) - u);
			if (j > i) {
				run = j - i;
				i = j - 1;
				continue;
			}
		}
		if (ch >= 0x20 && ch != '"' && ch != '\\') {
			run++;
			continue;
		}
		memcpy(b->p + b->len, s + i - run, run);
		b->len += run;
		run = 0;
		o = b->p + b->len;
		o[0] = '\\';
		switch (ch) {
		case '"':
		case '\\': o[1] = (char)ch; break;
		case '\b': o[1] = 'b'; break;
		case '\f': o[1] = 'f'; break;
		case '\n': o[1] = 'n'; break;
		case '\r': o[1] = 'r'; break;
		case '\t': o[1] = 't'; break;
		default:
			memcpy(o + 1, "u00", 3);
			o[4] = hex[ch >> 4];
			o[5] = hex[ch & 15];
			b->len += 4;
			break;
		}
		b->len += 2;
	}
	memcpy(b->p + b->len, s + n - run, run);
	b->len += run;
	b->p[b->len++] = '"';
}

char *
cg__buf_finish(struct cg_buf *b)
{
	char *s;

	if (grow(b, 1) != 0) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	b->p[b->len] = '\0';
	s = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}
