/*
 * test_json_reader.c - the token JSON reader (src/json_reader.c) against
 * jansson as configured in src/json.c: on hand-written edge cases and on
 * a generated corpus (random documents, then byte-level mutations), both
 * readers must accept and reject the same inputs, and read the same
 * values. Also: the reader's nodes behave like jansson values through
 * every cg_json accessor. The one documented difference: jansson skips a
 * raw NUL byte between tokens; the reader refuses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"
#include "jnode.h"

/* Parses with both readers; asserts agreement. Returns 1 if accepted. */
static int
both(const char *p, size_t len)
{
	struct cg_json *jv = NULL;
	const struct cg_jnode *nv = NULL;
	struct cg_arena *arena = NULL;
	size_t b1, b2;
	char w1[80], w2[80];
	cg_code r1, r2;
	int accepted;

	r1 = cg__json_parse_object(p, len, CG_MAX_JSON_DEPTH, &jv, &b1, w1,
	    sizeof(w1));
	r2 = cg__jnode_parse(p, len, CG_MAX_JSON_DEPTH, &arena, &nv, &b2, w2,
	    sizeof(w2));
	/* The one known difference: jansson's stream uses NUL as its buffer
	 * sentinel and skips a raw NUL byte between tokens ("[null\0,1]"
	 * loads). RFC 8259 has no such whitespace; the reader refuses it. */
	if (r1 == CG_OK && r2 != CG_OK && memchr(p, '\0', len) != NULL) {
		cg__json_free(jv);
		cg__arena_free(arena);
		return 0;
	}
	if ((r1 == CG_OK) != (r2 == CG_OK)) {
		char *hex = cgt_b64(p, len);
		fail_msg("readers disagree on %zu bytes (base64url %s): "
			 "jansson %s (%s), reader %s (%s)",
		    len, hex, cg_code_name(r1), r1 == CG_OK ? "" : w1,
		    cg_code_name(r2), r2 == CG_OK ? "" : w2);
	}
	accepted = r1 == CG_OK;
	if (accepted) {
		char *d1 = cg_json_dump(jv, 0);
		char *d2 = cg_json_dump((const struct cg_json *)(const void *)nv,
		    0);
		assert_non_null(d1);
		assert_non_null(d2);
		if (strcmp(d1, d2) != 0)
			fail_msg("values differ:\n jansson %s\n reader  %s", d1,
			    d2);
		cg_free(d1);
		cg_free(d2);
	}
	cg__json_free(jv);
	cg__arena_free(arena);
	return accepted;
}

static void
test_edge_cases(void **state)
{
	static const char *const accept[] = {
		"{}", " {} ", "\t\r\n{}\n", "{\"a\":1}", "{\"\":0}",
		"{\"a\":[1,2,3],\"b\":{\"c\":null}}", "{\"a\":-0}",
		"{\"a\":1.5e3}", "{\"a\":1E-400}", "{\"a\":123456789012345678901234567890}",
		"{\"a\":\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", "{\"a\":true,\"b\":false}",
		"{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}",
		"{\"a\":\"\x7f\"}", "{\"a\":[],\"b\":{}}", "{\"a\":0.0e0}",
	};
	static const char *const reject[] = {
		"", " ", "[]", "\"x\"", "1", "null", "{", "}", "{\"a\"}",
		"{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":1 \"b\":2}",
		"{\"a\":1}x", "{\"a\":1}{}", "{'a':1}", "{a:1}",
		"{\"a\":01}", "{\"a\":+1}", "{\"a\":.5}", "{\"a\":1.}",
		"{\"a\":1e}", "{\"a\":1e+}", "{\"a\":-}", "{\"a\":0x10}",
		"{\"a\":1e999}", "{\"a\":-1e999}", "{\"a\":NaN}",
		"{\"a\":Infinity}", "{\"a\":tru}", "{\"a\":nul}",
		"{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}",
		"{\"x\":{\"a\":1,\"a\":1}}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\x41\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\n\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xe2\x82\"}",
		"{\"a\":\"\xff\"}", "\xef\xbb\xbf{}", "{\"a\":\"x}",
		"{\"a\":[1,2}", "{\"a\":[1,2,]}",
		"{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(accept) / sizeof(accept[0]); i++)
		if (!both(accept[i], strlen(accept[i])))
			fail_msg("should accept: %s", accept[i]);
	for (i = 0; i < sizeof(reject) / sizeof(reject[0]); i++)
		if (both(reject[i], strlen(reject[i])))
			fail_msg("should reject: %s", reject[i]);
	/* An embedded NUL byte. */
	assert_int_equal(both("{\"a\":\"x\0\"}", 10), 0);
	assert_int_equal(both("{}\0", 3), 0);
}

/* ---- a generated corpus ------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void
put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
gen_string(struct sbuf *b)
{
	static const char *const parts[] = {"a", "b", "iss", "sub", "\\n",
	    "\\u0041", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9", "\\\"", " ",
	    "\\/", "x", "\xe2\x82\xac", "\\t", "payments:write"};
	int n = (int)rnd(4), i;

	puts_(b, "\"");
	for (i = 0; i < n; i++)
		puts_(b, parts[rnd(sizeof(parts) / sizeof(parts[0]))]);
	puts_(b, "\"");
}

static void
gen_value(struct sbuf *b, int depth)
{
	static const char *const nums[] = {"0", "-0", "1", "1700000000",
	    "1.5", "-2.25e10", "1e-5", "123456789012345678901", "3.0E2",
	    "253402300799", "0.1"};
	uint32_t k = rnd(depth > 5 ? 5 : 7);
	int i, n;

	switch (k) {
	case 0:
		puts_(b, nums[rnd(sizeof(nums) / sizeof(nums[0]))]);
		break;
	case 1:
		gen_string(b);
		break;
	case 2:
		puts_(b, rnd(2) ? "true" : "false");
		break;
	case 3:
		puts_(b, "null");
		break;
	case 4:
		gen_string(b);
		break;
	case 5:
		puts_(b, "[");
		n = (int)rnd(4);
		for (i = 0; i < n; i++) {
			if (i)
				puts_(b, rnd(8) ? "," : " , ");
			gen_value(b, depth + 1);
		}
		puts_(b, "]");
		break;
	default:
		puts_(b, "{");
		n = (int)rnd(5);
		for (i = 0; i < n; i++) {
			if (i)
				puts_(b, ",");
			gen_string(b);
			puts_(b, rnd(8) ? ":" : " : ");
			gen_value(b, depth + 1);
		}
		puts_(b, "}");
		break;
	}
}

static void
mutate(struct sbuf *b)
{
	static const char bytes[] = "{}[]\",:\\ 0-+.eEu\x00\x01\x7f\x80\xc3\xed"
				    "\xff\ntfn";
	size_t pos;

	if (b->len == 0)
		return;
	pos = rnd((uint32_t)b->len);
	switch (rnd(4)) {
	case 0: /* replace a byte */
		b->p[pos] = bytes[rnd(sizeof(bytes) - 1)];
		break;
	case 1: /* delete a byte */
		memmove(b->p + pos, b->p + pos + 1, b->len - pos);
		b->len--;
		break;
	case 2: /* insert a byte */
		put(b, " ", 1);
		memmove(b->p + pos + 1, b->p + pos, b->len - pos - 1);
		b->p[pos] = bytes[rnd(sizeof(bytes) - 1)];
		break;
	default: /* truncate */
		b->len = pos;
		b->p[pos] = '\0';
		break;
	}
}

/* The reader's result for p[0..len) as text: the value's JSON, or the
 * error with its offset. Caller frees. */
static char *
reader_result(const char *p, size_t len)
{
	const struct cg_jnode *nv = NULL;
	struct cg_arena *arena = NULL;
	char why[80], *out, *d;
	size_t bad;
	cg_code rc;

	rc = cg__jnode_parse(
	    p, len, CG_MAX_JSON_DEPTH, &arena, &nv, &bad, why, sizeof(why));
	if (rc == CG_OK) {
		d = cg_json_dump((const struct cg_json *)(const void *)nv, 0);
		assert_non_null(d);
		out = strdup(d);
		cg_free(d);
	} else {
		out = cgt_fmt("%s at %zu: %s", cg_code_name(rc), bad, why);
	}
	assert_non_null(out);
	cg__arena_free(arena);
	return out;
}

/*
 * The index (src/json_index.c) settles plain strings with bit scans over
 * 64-byte words; documents longer than its 4 KiB are read without it.
 * Every kind of byte that needs the slow path, in strings of every length
 * up to 130 bytes, at their ends and on both sides of each word boundary
 * (the document shifted so that boundaries fall everywhere), followed by a
 * plain string that the index must still find: the same result with the index
 * and without (the same document padded past 4 KiB with trailing whitespace),
 * and the same as jansson.
 */
static void
test_index_boundaries(void **state)
{
	static const char *const kinds[] = {"\\n", "\\\"", "\xc3\xa9", "\x01",
	    "\x7f", "\x80", "\\u00e9", "\x1f"};
	static const size_t shifts[] = {0, 1, 5, 31, 32, 33, 62, 63};
	size_t pad = 4200, step = cgt_sample_step(), k, j, len, at, checked = 0;
	char *doc = malloc(8192), *s = malloc(256);

	(void)state;
	assert_non_null(doc);
	assert_non_null(s);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (j = 0; j < sizeof(shifts) / sizeof(shifts[0]); j++)
			for (len = 0; len <= 130; len += step)
				for (at = 0; at <= len; at += step) {
					/* The string's content starts at
					 * shifts[j] + 6: positions next to a
					 * word boundary, and the ends. */
					size_t col = (shifts[j] + 6 + at) % 64;
					char *a, *b;
					size_t n;
					if (at > 2 && at + 2 < len && col > 1 &&
					    col < 62)
						continue;
					memset(s, 'x', len);
					s[len] = '\0';
					/* at == len: no special byte at all */
					n = (size_t)snprintf(doc, 8192,
					    "%*s{\"k\":\"%.*s%s%s\",\"m\":"
					    "\"plain-after\"}",
					    (int)shifts[j], "", (int)at, s,
					    at < len ? kinds[k] : "",
					    at < len ? s + at : "");
					a = reader_result(doc, n);
					memset(doc + n, ' ', pad);
					b = reader_result(doc, n + pad);
					if (strcmp(a, b) != 0)
						fail_msg(
						    "kind %zu shift %zu len "
						    "%zu at %zu: indexed "
						    "%s, not %s",
						    k, shifts[j], len, at, a,
						    b);
					(void)both(doc, n);
					free(a);
					free(b);
					checked++;
				}
	assert_true(checked > 10000 / step);
	free(doc);
	free(s);
}

static void
test_generated_corpus(void **state)
{
	size_t n = cgt_under_valgrind() ? 5000 : 200000, i, accepted = 0;

	(void)state;
	for (i = 0; i < n; i++) {
		struct sbuf b = {NULL, 0, 0};
		int m;
		puts_(&b, "{");
		gen_string(&b);
		puts_(&b, ":");
		gen_value(&b, 1);
		if (rnd(2)) {
			puts_(&b, ",");
			gen_string(&b);
			puts_(&b, ":");
			gen_value(&b, 1);
		}
		puts_(&b, "}");
		for (m = (int)rnd(3); m > 0; m--)
			mutate(&b);
		accepted += (size_t)both(b.p, b.len);
		free(b.p);
	}
	/* The corpus must exercise both sides. */
	assert_true(accepted > n / 10);
	assert_true(accepted < n - n / 10);
	printf("json reader: %zu inputs, %zu accepted by both, %zu rejected "
	       "by both\n",
	    n, accepted, n - accepted);
}

static void
test_accessors(void **state)
{
	static const char doc[] =
	    "{\"s\":\"x\\u0000y\",\"n\":2.5,\"b\":true,\"z\":null,"
	    "\"a\":[\"p\",1],\"o\":{\"k\":\"v\"}}";
	static const char ok[] = "{\"s\":\"xy\",\"n\":2.5,\"b\":true,\"z\":null,"
				 "\"a\":[\"p\",1],\"o\":{\"k\":\"v\"}}";
	const struct cg_jnode *root;
	const struct cg_json *v;
	struct cg_arena *arena = NULL;
	const char *s;
	size_t bad, len;
	char why[80];
	double d;
	int bl;

	(void)state;
	assert_int_equal(cg__jnode_parse(doc, strlen(doc), 16, &arena, &root,
			     &bad, why, sizeof(why)),
	    CG_ERR_JSON);
	assert_string_equal(why, "NUL character in a string");
	cg__arena_free(arena);
	arena = NULL;
	assert_int_equal(cg__jnode_parse(ok, strlen(ok), 16, &arena, &root,
			     &bad, why, sizeof(why)),
	    CG_OK);
	v = (const struct cg_json *)(const void *)root;
	assert_int_equal(cg_json_typeof(v), CG_JSON_OBJECT);
	assert_int_equal(cg__json_object_size(v), 6);
	assert_int_equal(cg_json_string(cg_json_object_get(v, "s"), &s, &len),
	    CG_OK);
	assert_string_equal(s, "xy");
	assert_int_equal(len, 2);
	assert_int_equal(cg_json_number(cg_json_object_get(v, "n"), &d), CG_OK);
	assert_true(d == 2.5);
	assert_int_equal(cg_json_bool(cg_json_object_get(v, "b"), &bl), CG_OK);
	assert_int_equal(bl, 1);
	assert_int_equal(cg_json_typeof(cg_json_object_get(v, "z")),
	    CG_JSON_NULL);
	assert_int_equal(cg_json_array_size(cg_json_object_get(v, "a")), 2);
	assert_null(cg_json_array_get(cg_json_object_get(v, "a"), 2));
	assert_int_equal(cg_json_string(cg_json_object_get(v, "n"), &s, &len),
	    CG_ERR_TYPE);
	assert_null(cg_json_object_get(v, "missing"));
	assert_null(cg_json_object_get(cg_json_object_get(v, "a"), "k"));
	{
		/* A converted copy is a jansson value that outlives the arena. */
		struct cg_json *c = cg__json_incref(cg_json_object_get(v, "o"));
		char *dump;
		cg__arena_free(arena);
		dump = cg__json_dump_compact(c);
		assert_string_equal(dump, "{\"k\":\"v\"}");
		cg_free(dump);
		cg__json_free(c);
	}
}

/* A thousand members: duplicates found by sorting, at the later one. */
static void
test_many_members(void **state)
{
	struct sbuf b = {NULL, 0, 0};
	const struct cg_jnode *root;
	struct cg_arena *arena = NULL;
	size_t bad, i, dup_at;
	char why[80], key[32];

	(void)state;
	puts_(&b, "{");
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "%s\"k%zu\":1", i ? "," : "", i);
		puts_(&b, key);
	}
	puts_(&b, "}");
	assert_int_equal(both(b.p, b.len), 1);
	b.len--;
	dup_at = b.len + 1;
	puts_(&b, ",\"k500\":2}");
	assert_int_equal(both(b.p, b.len), 0);
	assert_int_equal(cg__jnode_parse(b.p, b.len, 16, &arena, &root, &bad,
			     why, sizeof(why)),
	    CG_ERR_JSON);
	assert_string_equal(why, "duplicate member name");
	assert_int_equal(bad, dup_at);
	cg__arena_free(arena);
	free(b.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_edge_cases),
	    cmocka_unit_test(test_generated_corpus),
	    cmocka_unit_test(test_index_boundaries),
	    cmocka_unit_test(test_accessors),
	    cmocka_unit_test(test_many_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
