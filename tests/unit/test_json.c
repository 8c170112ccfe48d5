/*
 * test_json.c - the strict JSON reader (src/json.c) and the public typed
 * accessors.
 *
 * Contract section 3 "Precise rules": containers count levels, the top
 * object being level 1, 17 or deeper rejected, scalars add no level;
 * duplicates rejected at every depth after unescaping; UTF-8 validated;
 * every number a double, overflow rejected; U+0000 rejected.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"

/* A literal with its exact length (it may contain NUL bytes). */
#define LIT(s) s, sizeof(s) - 1

/* Offset that the table does not check. */
#define ANY_OFFSET ((size_t)-2)

struct row {
	const char *in;
	size_t len;
	cg_code want;
	size_t offset; /* CG_NO_OFFSET on success, ANY_OFFSET unchecked */
};

static cg_code
parse(const char *p, size_t len, struct cg_json **out, size_t *bad)
{
	char why[120];
	char *copy = malloc(len == 0 ? 1 : len); /* exact size for ASan */
	cg_code rc;

	assert_non_null(copy);
	memcpy(copy, p, len);
	why[0] = '\0';
	rc = cg__json_parse_object(copy, len, CG_MAX_JSON_DEPTH, out, bad,
	    why, sizeof(why));
	free(copy);
	if (rc != CG_OK) {
		const char *c;
		assert_null(*out);
		/* The reason is printable ASCII, never input bytes. */
		assert_true(why[0] != '\0');
		for (c = why; *c != '\0'; c++)
			assert_true(*c >= 0x20 && *c < 0x7f);
	} else {
		assert_non_null(*out);
	}
	return rc;
}

static void
run_rows(const struct row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct cg_json *v = NULL;
		size_t bad = 12345;
		cg_code rc = parse(rows[i].in, rows[i].len, &v, &bad);

		if (rc != rows[i].want)
			fail_msg("row %zu: got %s, want %s", i, cg_code_name(rc),
			    cg_code_name(rows[i].want));
		if (rows[i].offset != ANY_OFFSET && bad != rows[i].offset)
			fail_msg("row %zu: offset %zu, want %zu", i, bad,
			    rows[i].offset);
		if (rc != CG_OK && rows[i].offset == ANY_OFFSET)
			assert_true(bad <= rows[i].len);
		cg__json_free(v);
	}
}

/* {"a": nested `depth - 1` more times ... }: `depth` containers in all.
 * kind 'o' nests objects, 'a' arrays, 'm' alternates; `inner` is the
 * innermost scalar (for arrays and objects "" gives an empty one). */
static char *
nest(int depth, char kind, const char *inner)
{
	size_t cap = (size_t)depth * 8 + strlen(inner) + 16, o = 0;
	char *s = malloc(cap), close[64];
	int i, nc = 0;

	assert_non_null(s);
	assert_true(depth >= 1 && depth < 60);
	s[o++] = '{';
	close[nc++] = '}';
	for (i = 1; i < depth; i++) {
		int obj = kind == 'o' || (kind == 'm' && i % 2 == 0);
		if (close[nc - 1] == '}') {
			memcpy(s + o, "\"a\":", 4);
			o += 4;
		}
		s[o++] = obj ? '{' : '[';
		close[nc++] = obj ? '}' : ']';
	}
	if (*inner != '\0') {
		if (close[nc - 1] == '}') {
			memcpy(s + o, "\"a\":", 4);
			o += 4;
		}
		memcpy(s + o, inner, strlen(inner));
		o += strlen(inner);
	}
	while (nc > 0)
		s[o++] = close[--nc];
	s[o] = '\0';
	assert_true(o < cap);
	return s;
}

/* Byte offset of the n-th (1-based) '{' or '[' outside strings: where
 * the reader must stop for depth n. */
static size_t
nth_open(const char *s, int n)
{
	size_t i;
	int seen = 0, in_str = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if ((s[i] == '{' || s[i] == '[') && ++seen == n) {
			return i;
		}
	}
	fail_msg("no %d-th container", n);
	return 0;
}

/* `depth` counts every container, the innermost `inner` included. */
static void
expect_depth(int depth, char kind, const char *inner)
{
	int extra = inner[0] == '{' || inner[0] == '[';
	char *s = nest(depth - extra, kind, inner);
	struct cg_json *v = NULL;
	size_t bad = 0;
	cg_code rc = parse(s, strlen(s), &v, &bad);

	if (depth <= CG_MAX_JSON_DEPTH) {
		if (rc != CG_OK) {
			fail_msg("depth %d kind %c rejected: %s", depth, kind, s);
		}
	} else {
		if (rc != CG_ERR_JSON)
			fail_msg("depth %d kind %c accepted: %s", depth, kind, s);
		assert_int_equal(bad, nth_open(s, CG_MAX_JSON_DEPTH + 1));
	}
	cg__json_free(v);
	free(s);
}

static void
test_depth_limit(void **state)
{
	static const char kinds[] = {'o', 'a', 'm'};
	static const char *const inner[] = {"", "1", "\"x\"", "true", "null",
	    "{}", "[]", "-1.5e3"};
	size_t k, j;
	int d;

	(void)state;
	for (k = 0; k < sizeof(kinds); k++) {
		for (d = 1; d <= 20; d++)
			expect_depth(d, kinds[k], "");
		/* A scalar innermost adds no level; an empty container does. */
		for (j = 0; j < sizeof(inner) / sizeof(inner[0]); j++) {
			expect_depth(16, kinds[k], inner[j]);
			expect_depth(17, kinds[k], inner[j]);
		}
	}
}

/* Brackets inside strings (values and names, after escaped quotes and
 * escaped backslashes) are text, not containers. */
static void
test_depth_ignores_strings(void **state)
{
	char buf[512];
	struct cg_json *v;
	size_t bad;
	char *deep16, *deep17;

	(void)state;
	/* 40 brackets inside a value and a name: one level in all. */
	snprintf(buf, sizeof(buf),
	    "{\"a\":\"%s\",\"[[[[[[[[[[[[[[[[[[[[\":1}",
	    "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{");
	assert_int_equal(parse(buf, strlen(buf), &v, &bad), CG_OK);
	cg__json_free(v);
	/* An escaped quote does not end the string. */
	snprintf(buf, sizeof(buf), "{\"a\":\"\\\"%s\"}",
	    "[[[[[[[[[[[[[[[[[[[[[[[[");
	assert_int_equal(parse(buf, strlen(buf), &v, &bad), CG_OK);
	cg__json_free(v);

	/* An escaped backslash does end before the quote: the 16 brackets
	 * after "\\" are real, with the top object 17 levels. */
	deep16 = nest(16, 'a', "");
	deep17 = nest(17, 'a', "");
	snprintf(buf, sizeof(buf), "{\"s\":\"\\\\\",\"t\":%s}", deep16);
	assert_int_equal(parse(buf, strlen(buf), &v, &bad), CG_ERR_JSON);
	assert_int_equal(bad, nth_open(buf, 17));
	/* Closing brackets inside a string must not lower the count. */
	snprintf(buf, sizeof(buf), "{\"s\":\"]]]]]]]]]]]]]]]]]]]]\",\"t\":%s}",
	    deep16);
	assert_int_equal(parse(buf, strlen(buf), &v, &bad), CG_ERR_JSON);
	assert_int_equal(bad, nth_open(buf, 17));
	snprintf(buf, sizeof(buf), "{\"]]]]]]]]]]]]]]]]]]]]]]\":%s}", deep16);
	assert_int_equal(parse(buf, strlen(buf), &v, &bad), CG_ERR_JSON);
	/* Siblings do not add up: depth-16 branches side by side. */
	free(deep16);
	free(deep17);
	deep16 = nest(15, 'a', "");
	snprintf(buf, sizeof(buf), "{\"a\":%s,\"b\":%s,\"c\":%s}", deep16,
	    deep16, deep16);
	assert_int_equal(parse(buf, strlen(buf), &v, &bad), CG_OK);
	cg__json_free(v);
	free(deep16);
}

static void
test_duplicates(void **state)
{
	static const struct row rows[] = {
		{LIT("{\"a\":1,\"a\":2}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":1,\"a\":1}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"alg\":\"RS256\",\"alg\":\"none\"}"), CG_ERR_JSON,
		    ANY_OFFSET},
		{LIT("{\"x\":{\"a\":1,\"a\":2}}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"x\":[{\"a\":1},{\"b\":1,\"b\":2}]}"), CG_ERR_JSON,
		    ANY_OFFSET},
		{LIT("{\"x\":{\"y\":{\"z\":{\"a\":null,\"a\":null}}}}"),
		    CG_ERR_JSON, ANY_OFFSET},
		/* Compared after unescaping. */
		{LIT("{\"a\":1,\"\\u0061\":2}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"\\u0061\":1,\"a\":2}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"exp\":1,\"\\u0065xp\":2}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"\\u00e9\":1,\"\xc3\xa9\":2}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a/b\":1,\"a\\/b\":2}"), CG_ERR_JSON, ANY_OFFSET},
		/* Not duplicates. */
		{LIT("{\"a\":1,\"A\":2}"), CG_OK, CG_NO_OFFSET},
		{LIT("{\"a\":{\"a\":{\"a\":1}}}"), CG_OK, CG_NO_OFFSET},
		{LIT("{\"a\":[{\"b\":1},{\"b\":2}]}"), CG_OK, CG_NO_OFFSET},
		{LIT("{\"e\\u0301\":1,\"\xc3\xa9\":2}"), CG_OK, CG_NO_OFFSET},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void
test_utf8_and_escapes(void **state)
{
	static const struct row rows[] = {
		/* valid */
		{LIT("{\"a\":\"\xe2\x82\xac\"}"), CG_OK, CG_NO_OFFSET},
		{LIT("{\"a\":\"\xf0\x9f\x98\x80\"}"), CG_OK, CG_NO_OFFSET},
		{LIT("{\"\xc3\xa9\":\"\xf4\x8f\xbf\xbf\"}"), CG_OK,
		    CG_NO_OFFSET},
		{LIT("{\"a\":\"\\ud83d\\ude00\"}"), CG_OK, CG_NO_OFFSET},
		{LIT("{\"a\":\"\\u0001\\u001f\"}"), CG_OK, CG_NO_OFFSET},
		/* overlong encodings */
		{LIT("{\"a\":\"\xc0\x80\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xc1\xbf\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xe0\x80\xaf\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xf0\x80\x80\xaf\"}"), CG_ERR_JSON, ANY_OFFSET},
		/* UTF-16 surrogates encoded as UTF-8 (CESU) */
		{LIT("{\"a\":\"\xed\xa0\x80\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xed\xbf\xbf\"}"), CG_ERR_JSON, ANY_OFFSET},
		/* truncated sequences, stray continuation, invalid lead */
		{LIT("{\"a\":\"\xe2\x82\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xc3\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xf0\x9f\x98\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\x80\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xff\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\xfe\"}"), CG_ERR_JSON, ANY_OFFSET},
		/* beyond U+10FFFF */
		{LIT("{\"a\":\"\xf4\x90\x80\x80\"}"), CG_ERR_JSON, ANY_OFFSET},
		/* in a member name */
		{LIT("{\"\xed\xa0\x80\":1}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"\xc0\xaf\":1}"), CG_ERR_JSON, ANY_OFFSET},
		/* outside strings */
		{LIT("{\"a\":1}\xff"), CG_ERR_JSON, ANY_OFFSET},
		/* unpaired surrogate escapes */
		{LIT("{\"a\":\"\\ud800\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\\udc00\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\\ud800\\u0041\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\\ude00\\ud83d\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"\\ud800\":1}"), CG_ERR_JSON, ANY_OFFSET},
		/* U+0000, escaped and raw, in a value and in a name */
		{LIT("{\"a\":\"\\u0000\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"x\\u0000y\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"\\u0000\":1}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\\u0000\":1}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\0\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":1}\0"), CG_ERR_JSON, ANY_OFFSET},
		/* raw control characters and bad escapes */
		{LIT("{\"a\":\"\x01\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\n\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\\x41\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\\u00g1\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":\"\\'\"}"), CG_ERR_JSON, ANY_OFFSET},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void
expect_number(const char *json, double want, int negzero)
{
	struct cg_json *v = NULL;
	size_t bad;
	double d = 0;

	if (parse(json, strlen(json), &v, &bad) != CG_OK)
		fail_msg("rejected: %s", json);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "n")),
	    CG_JSON_NUMBER);
	assert_int_equal(cg_json_number(cg_json_object_get(v, "n"), &d), CG_OK);
	if (d != want)
		fail_msg("%s: got %.17g want %.17g", json, d, want);
	if (negzero)
		assert_true(signbit(d));
	cg__json_free(v);
}

static void
test_numbers(void **state)
{
	static const struct row rows[] = {
		{LIT("{\"n\":1e999}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":-1e999}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":[1,2,1E400]}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":01}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":1.}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":.5}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":+1}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":1e}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":NaN}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":Infinity}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":-Infinity}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":0x10}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"n\":1_000}"), CG_ERR_JSON, ANY_OFFSET},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
	/* Beyond 64 bits, still a number (as a double). */
	expect_number("{\"n\":123456789012345678901234567890}",
	    123456789012345678901234567890.0, 0);
	expect_number("{\"n\":-123456789012345678901234567890}",
	    -123456789012345678901234567890.0, 0);
	expect_number("{\"n\":18446744073709551616}", 18446744073709551616.0,
	    0);
	expect_number("{\"n\":-0}", 0.0, 1);
	expect_number("{\"n\":1.5e3}", 1500.0, 0);
	expect_number("{\"n\":1.5E+3}", 1500.0, 0);
	expect_number("{\"n\":0}", 0.0, 0);
	expect_number("{\"n\":253402300799}", 253402300799.0, 0);
	expect_number("{\"n\":1e308}", 1e308, 0);
	expect_number("{\"n\":-2.5e-3}", -0.0025, 0);
}

static void
test_top_level_and_trailing(void **state)
{
	static const struct row rows[] = {
		{LIT("{}"), CG_OK, CG_NO_OFFSET},
		{LIT(" \t\r\n{ } \n"), CG_OK, CG_NO_OFFSET},
		/* not an object: the offset is the start */
		{LIT("[]"), CG_ERR_JSON, 0},
		{LIT("[{\"a\":1}]"), CG_ERR_JSON, 0},
		{LIT("\"a\""), CG_ERR_JSON, ANY_OFFSET},
		{LIT("1"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("true"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("null"), CG_ERR_JSON, ANY_OFFSET},
		{LIT(""), CG_ERR_JSON, ANY_OFFSET},
		{LIT("   "), CG_ERR_JSON, ANY_OFFSET},
		/* trailing garbage */
		{LIT("{}x"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{}{}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{},"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":1}}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":1} 1"), CG_ERR_JSON, ANY_OFFSET},
		/* unfinished or malformed objects */
		{LIT("{"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":1"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":1,}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\"}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{a:1}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{'a':1}"), CG_ERR_JSON, ANY_OFFSET},
		{LIT("{\"a\":1 /* c */}"), CG_ERR_JSON, ANY_OFFSET},
		/* a UTF-8 byte order mark is not JSON text (RFC 8259 8.1) */
		{LIT("\xef\xbb\xbf{}"), CG_ERR_JSON, ANY_OFFSET},
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void
test_accessors(void **state)
{
	static const char doc[] =
	    "{\"s\":\"a\\u00e9\\ud83d\\ude00\",\"n\":1.5,\"i\":42,\"t\":true,"
	    "\"f\":false,\"z\":null,\"a\":[1,\"x\",{\"k\":\"v\"}],"
	    "\"o\":{\"k\":\"v\"},\"e\":\"\"}";
	struct cg_json *v = NULL;
	const struct cg_json *m;
	const char *s = "unset";
	size_t bad, len = 99;
	double d = 7;
	int b = 7;

	(void)state;
	assert_int_equal(parse(doc, strlen(doc), &v, &bad), CG_OK);
	assert_int_equal(cg_json_typeof(v), CG_JSON_OBJECT);
	assert_int_equal(cg_json_typeof(NULL), CG_JSON_ABSENT);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "s")),
	    CG_JSON_STRING);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "n")),
	    CG_JSON_NUMBER);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "i")),
	    CG_JSON_NUMBER);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "t")),
	    CG_JSON_BOOL);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "f")),
	    CG_JSON_BOOL);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "z")),
	    CG_JSON_NULL);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "a")),
	    CG_JSON_ARRAY);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "o")),
	    CG_JSON_OBJECT);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "missing")),
	    CG_JSON_ABSENT);

	/* Strings: unescaped UTF-8 bytes and the byte length. */
	assert_int_equal(cg_json_string(cg_json_object_get(v, "s"), &s, &len),
	    CG_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(s, "a\xc3\xa9\xf0\x9f\x98\x80", 8);
	assert_int_equal(cg_json_string(cg_json_object_get(v, "e"), &s, NULL),
	    CG_OK);
	assert_string_equal(s, "");
	/* Wrong type: CG_ERR_TYPE, outputs cleared. */
	s = "unset";
	len = 99;
	assert_int_equal(cg_json_string(cg_json_object_get(v, "n"), &s, &len),
	    CG_ERR_TYPE);
	assert_null(s);
	assert_int_equal(len, 0);
	assert_int_equal(cg_json_string(cg_json_object_get(v, "z"), &s, NULL),
	    CG_ERR_TYPE);
	assert_int_equal(cg_json_string(cg_json_object_get(v, "a"), &s, NULL),
	    CG_ERR_TYPE);
	assert_int_equal(cg_json_string(v, &s, NULL), CG_ERR_TYPE);
	/* An absent value (NULL) is not a string either: never CG_OK. The
	 * implementation answers CG_ERR_NOT_FOUND, which tells "absent"
	 * apart from "wrong type". */
	s = "unset";
	assert_int_equal(cg_json_string(NULL, &s, &len), CG_ERR_NOT_FOUND);
	assert_null(s);
	assert_int_equal(cg_json_string(cg_json_object_get(v, "s"), NULL, &len),
	    CG_ERR_ARG);

	/* Numbers. */
	assert_int_equal(cg_json_number(cg_json_object_get(v, "n"), &d), CG_OK);
	assert_true(d == 1.5);
	assert_int_equal(cg_json_number(cg_json_object_get(v, "i"), &d), CG_OK);
	assert_true(d == 42.0);
	d = 7;
	assert_int_equal(cg_json_number(cg_json_object_get(v, "s"), &d),
	    CG_ERR_TYPE);
	assert_true(d == 0);
	assert_int_equal(cg_json_number(cg_json_object_get(v, "t"), &d),
	    CG_ERR_TYPE);
	assert_int_equal(cg_json_number(cg_json_object_get(v, "z"), &d),
	    CG_ERR_TYPE);
	assert_int_equal(cg_json_number(NULL, &d), CG_ERR_NOT_FOUND);
	assert_int_equal(cg_json_number(cg_json_object_get(v, "n"), NULL),
	    CG_ERR_ARG);

	/* Booleans. */
	assert_int_equal(cg_json_bool(cg_json_object_get(v, "t"), &b), CG_OK);
	assert_int_equal(b, 1);
	assert_int_equal(cg_json_bool(cg_json_object_get(v, "f"), &b), CG_OK);
	assert_int_equal(b, 0);
	b = 7;
	assert_int_equal(cg_json_bool(cg_json_object_get(v, "i"), &b),
	    CG_ERR_TYPE);
	assert_int_equal(b, 0);
	assert_int_equal(cg_json_bool(cg_json_object_get(v, "s"), &b),
	    CG_ERR_TYPE);
	assert_int_equal(cg_json_bool(NULL, &b), CG_ERR_NOT_FOUND);
	assert_int_equal(cg_json_bool(cg_json_object_get(v, "t"), NULL),
	    CG_ERR_ARG);

	/* Arrays. */
	m = cg_json_object_get(v, "a");
	assert_int_equal(cg_json_array_size(m), 3);
	assert_int_equal(cg_json_typeof(cg_json_array_get(m, 0)),
	    CG_JSON_NUMBER);
	assert_int_equal(cg_json_typeof(cg_json_array_get(m, 1)),
	    CG_JSON_STRING);
	assert_int_equal(cg_json_string(cg_json_object_get(
					    cg_json_array_get(m, 2), "k"),
			     &s, NULL),
	    CG_OK);
	assert_string_equal(s, "v");
	assert_null(cg_json_array_get(m, 3));
	assert_null(cg_json_array_get(m, (size_t)-1));
	assert_int_equal(cg_json_array_size(NULL), 0);
	assert_int_equal(cg_json_array_size(v), 0);
	assert_int_equal(cg_json_array_size(cg_json_object_get(v, "s")), 0);
	assert_null(cg_json_array_get(NULL, 0));
	assert_null(cg_json_array_get(v, 0));

	/* Objects. */
	assert_null(cg_json_object_get(NULL, "s"));
	assert_null(cg_json_object_get(v, NULL));
	assert_null(cg_json_object_get(m, "k"));
	assert_null(cg_json_object_get(cg_json_object_get(v, "s"), "s"));
	assert_non_null(cg_json_object_get(cg_json_object_get(v, "o"), "k"));

	cg__json_free(v);
	cg__json_free(NULL);
}

static void
expect_dump(const char *in, int pretty, const char *want)
{
	struct cg_json *v = NULL;
	size_t bad;
	char *out;

	assert_int_equal(parse(in, strlen(in), &v, &bad), CG_OK);
	out = cg_json_dump(v, pretty);
	assert_non_null(out);
	if (strcmp(out, want) != 0)
		fail_msg("dump of %s:\n got  %s\n want %s", in, out, want);
	cg_free(out);
	cg__json_free(v);
}

static void
test_dump(void **state)
{
	(void)state;
	/* Integral values (all numbers are doubles inside) come out as
	 * integers; members keep document order. */
	expect_dump("{\"exp\":1700000000,\"iat\":1.7e9,\"n\":-3,\"z\":0}", 0,
	    "{\"exp\":1700000000,\"iat\":1700000000,\"n\":-3,\"z\":0}");
	expect_dump("{\"b\":[1,2.0,3e0,{\"c\":4.000}],\"a\":1}", 0,
	    "{\"b\":[1,2,3,{\"c\":4}],\"a\":1}");
	expect_dump("{\"max\":253402300799,\"p53\":9007199254740992}", 0,
	    "{\"max\":253402300799,\"p53\":9007199254740992}");
	expect_dump("{\"f\":1.5,\"g\":-0.25}", 0, "{\"f\":1.5,\"g\":-0.25}");
	expect_dump("{\"s\":\"x\",\"t\":true,\"u\":null,\"o\":{}}", 0,
	    "{\"s\":\"x\",\"t\":true,\"u\":null,\"o\":{}}");
	expect_dump("{\"a\":1,\"b\":[2]}", 1,
	    "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}");
	assert_null(cg_json_dump(NULL, 0));
	assert_null(cg_json_dump(NULL, 1));
	cg_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_depth_ignores_strings),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_utf8_and_escapes),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_top_level_and_trailing),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
