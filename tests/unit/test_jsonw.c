/*
 * test_jsonw.c - the direct JSON writer (src/jsonw.c) against jansson:
 * every string it writes must be the bytes json_dumps() writes for the
 * same string, so that cg_decision_to_json() is exactly the text it was
 * when it was built with jansson (tests/support/decide_fixture.c compares
 * whole decisions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cgtest.h"
#include "internal.h"

static void
expect_like_jansson(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	struct cg_buf b = {0};
	char *want, *got;

	assert_non_null(j);
	want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(want);
	cg__buf_json_string(&b, s, len);
	got = cg__buf_finish(&b);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(want);
	json_decref(j);
}

static void
test_edges(void **state)
{
	static const char *const cases[] = {"", "plain", "\"", "\\", "a\"b\\c",
	    "/slash/", "\x7f", "tab\there", "\b\f\n\r\t", "\x01\x1f\x10",
	    "caf\xc3\xa9", "\xe2\x80\xa8 \xe2\x80\xa9", "\xf0\x9f\x94\x91",
	    "<script>&'"};
	char all[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_like_jansson(cases[i], strlen(cases[i]));
	/* every control byte but NUL (strings never hold one) */
	for (i = 1; i < 32; i++)
		all[i - 1] = (char)i;
	expect_like_jansson(all, 31);
}

/* Appends one random code point as UTF-8 (never NUL, never a surrogate). */
static size_t
put_cp(char *o, uint32_t r)
{
	uint32_t cp;

	switch (r % 5) {
	case 0: /* control bytes and the escaped ones, often */
		cp = 1 + (r >> 3) % 0x22;
		if (cp == 0x21)
			cp = '\\';
		else if (cp == 0x20)
			cp = '"';
		break;
	case 1:
	case 2: cp = 0x20 + (r >> 3) % 0x60; break;
	case 3:
		cp = 0x80 + (r >> 3) % 0x780; /* two bytes */
		break;
	default:
		cp = 0x800 + (r >> 3) % 0xF000;
		if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0x2028;
		break;
	}
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	o[0] = (char)(0xE0 | cp >> 12);
	o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* Mostly plain ASCII, with the bytes that need care now and then: the
 * writer copies plain runs eight bytes at a time and must stop at each
 * of these exactly. */
static size_t
put_ascii_or_odd(char *o, uint32_t r)
{
	static const char *const odd[] = {"\"", "\\", "\n", "\x01", "\x1f",
	    "\x7f", "\xc3\xa9", "\xe2\x82\xac", "/"};
	size_t n;

	if (r % 11 != 0) {
		o[0] = (char)(' ' + (r >> 8) % 95);
		return 1;
	}
	n = strlen(odd[(r >> 8) % 9]);
	memcpy(o, odd[(r >> 8) % 9], n);
	return n;
}

/* Strings of fewer than `most` pieces (put writes at most 3 bytes each),
 * from a xorshift sequence started at x, each compared with jansson. */
static void
each_random_text(uint32_t x, size_t most, size_t (*put)(char *, uint32_t))
{
	size_t i, step = cgt_sample_step();

	for (i = 0; i < 20000; i += step) {
		char s[400];
		size_t n = 0, want = (x >> 7) % most, k;
		for (k = 0; k < want; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			n += put(s + n, x);
		}
		expect_like_jansson(s, n);
		x = x * 1103515245u + 12345u;
	}
}

static void
test_random_strings(void **state)
{
	(void)state;
	each_random_text(0x9e3779b9u, 120, put_cp);
}

static void
test_ascii_runs(void **state)
{
	(void)state;
	each_random_text(0x2545f491u, 120, put_ascii_or_odd);
}

/* Growth across the initial capacity, and the buffer's own pieces. */
static void
test_buffer(void **state)
{
	struct cg_buf b = {0};
	char *s, big[3000];
	size_t i;

	(void)state;
	memset(big, 'x', sizeof(big));
	cg__buf_puts(&b, "{");
	for (i = 0; i < 10; i++)
		cg__buf_put(&b, big, sizeof(big));
	cg__buf_puts(&b, "}");
	s = cg__buf_finish(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 2 + 10 * sizeof(big));
	assert_int_equal(s[0], '{');
	assert_int_equal(s[strlen(s) - 1], '}');
	free(s);
	assert_null(b.p);
	/* a failed allocation makes the whole text NULL, not a prefix */
	cg__buf_puts(&b, "abc");
	cg__alloc_fail_after(1);
	cg__buf_put(&b, big, sizeof(big));
	cg__alloc_fail_after(0);
	cg__buf_puts(&b, "def");
	assert_null(cg__buf_finish(&b));
	assert_null(b.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_random_strings),
	    cmocka_unit_test(test_ascii_runs),
	    cmocka_unit_test(test_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
