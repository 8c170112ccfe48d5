/*
 * test_fetch.c - reading remote key set responses (src/fetch.c) without a
 * network: the Cache-Control max-age of the response headers
 * (cg__fetch_parse_header_line), the OIDC discovery document
 * (cg__discovery_parse: the issuer must match exactly, the jwks_uri must
 * be https or the allowed local http) and the JWK Set body as a refresh
 * accepts it (cg__jwks_response_parse), and cg__uri_allowed.
 *
 * The same functions run on HTTPS responses in
 * tests/integration/keys_remote.sh and on random ones in fuzz_fetch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"
#include "fetch.h"

#define ISS "https://idp.example.com"
#define NOT_ISSUER "discovery: the document's issuer is not the configured one"
#define NO_JWKS_URI "discovery: no https jwks_uri"

/* ---- Cache-Control max-age ---------------------------------------------- */

/* Reads `line` (without its NUL: an exactly sized copy, so that a read
 * past `len` is caught under ASan) into a result whose max_age is
 * `start`; returns the new max_age. */
static long
header_max_age(const char *line, long start)
{
	struct cg_fetch_result res;
	size_t len = strlen(line);
	char *copy = malloc(len > 0 ? len : 1);

	assert_non_null(copy);
	memcpy(copy, line, len);
	memset(&res, 0, sizeof(res));
	res.max_age = start;
	cg__fetch_parse_header_line(copy, len, &res);
	free(copy);
	return res.max_age;
}

static void
test_max_age_values(void **state)
{
	static const struct {
		const char *line;
		long want; /* -1: no max-age read */
	} rows[] = {
	    {"Cache-Control: max-age=300\r\n", 300},
	    {"Cache-Control: public, max-age=300\r\n", 300},
	    {"Cache-Control: max-age=300", 300},
	    {"cache-control: no-cache, max-age=0\r\n", 0},
	    {"Cache-Control: max-age=86400, must-revalidate\r\n", 86400},
	    {"Cache-Control:max-age=5\r\n", 5},
	    {"Cache-Control: max-age=60abc\r\n", 60},
	    {"Cache-Control: max-age=000000000000042\r\n", 42},
	    {"Cache-Control: s-maxage=600, max-age=120\r\n", 120},
	    /* the first max-age= of a line decides */
	    {"Cache-Control: max-age=10, max-age=20\r\n", 10},
	    {"Cache-Control: max-age=\"60\", max-age=120\r\n", -1},
	    /* not a number: ignored */
	    {"Cache-Control: max-age=\"60\"\r\n", -1},
	    {"Cache-Control: max-age=-300\r\n", -1},
	    {"Cache-Control: max-age=+300\r\n", -1},
	    {"Cache-Control: max-age = 60\r\n", -1},
	    {"Cache-Control: max-age=\r\n", -1},
	    {"Cache-Control: max-age=", -1},
	    {"Cache-Control: s-maxage=600\r\n", -1},
	    {"Cache-Control: no-store\r\n", -1},
	    {"Cache-Control:\r\n", -1},
	    /* other headers, however close */
	    {"X-Cache-Control: max-age=5\r\n", -1},
	    {"Surrogate-Control: max-age=5\r\n", -1},
	    {"Cache-Control : max-age=5\r\n", -1},
	    {"Cache-Controls: max-age=5\r\n", -1},
	    {" Cache-Control: max-age=5\r\n", -1},
	    {"Age: 100\r\n", -1},
	    {"HTTP/1.1 200 OK\r\n", -1},
	    {"\r\n", -1},
	    {"", -1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long got = header_max_age(rows[i].line, -1);
		if (got != rows[i].want)
			fail_msg("\"%s\": max_age %ld, want %ld", rows[i].line,
			    got, rows[i].want);
	}
}

static void
test_max_age_header_name_case(void **state)
{
	(void)state;
	assert_int_equal(
	    header_max_age("CACHE-CONTROL: MAX-AGE=86400\r\n", -1), 86400);
	assert_int_equal(header_max_age("cache-control: max-age=1\r\n", -1), 1);
	assert_int_equal(
	    header_max_age("cAcHe-CoNtRoL: Max-Age=7200\r\n", -1), 7200);
	/* HTTP/2 header names arrive in lower case */
	assert_int_equal(
	    header_max_age("cache-control: max-age=3600, public\r\n", -1),
	    3600);
}

/* Digits are read while the value is below 10^8: a large max-age stays
 * large (past the 24 h clamp), whatever its length; it never wraps to a
 * short interval. */
static void
test_max_age_large(void **state)
{
	static const char *huge[] = {
	    "Cache-Control: max-age=2147483648\r\n",
	    "Cache-Control: max-age=4294967296\r\n",
	    "Cache-Control: max-age=9223372036854775808\r\n",
	    "Cache-Control: max-age=18446744073709551617\r\n",
	    "Cache-Control: max-age=99999999999999999999999999999999\r\n",
	};
	size_t i;

	(void)state;
	assert_int_equal(
	    header_max_age("Cache-Control: max-age=99999999\r\n", -1),
	    99999999L);
	assert_int_equal(
	    header_max_age("Cache-Control: max-age=100000000\r\n", -1),
	    100000000L);
	assert_int_equal(
	    header_max_age("Cache-Control: max-age=999999999\r\n", -1),
	    CG_FETCH_MAX_AGE_MAX);
	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		long got = header_max_age(huge[i], -1);
		if (got < 100000000L || got > CG_FETCH_MAX_AGE_MAX)
			fail_msg("\"%s\": max_age %ld", huge[i], got);
	}
}

/* Only Cache-Control lines change max_age; a later one overrides. */
static void
test_max_age_across_lines(void **state)
{
	/* A redirect's Cache-Control is forgotten at the next status line:
	 * only the final response's counts. */
	static const char *lines[] = {
	    "HTTP/1.1 301 Moved Permanently\r\n",
	    "Cache-Control: max-age=86400\r\n",
	    "Location: https://keys.example.com/jwks\r\n",
	    "\r\n",
	    "HTTP/1.1 200 OK\r\n",
	    "Cache-Control: max-age=60\r\n",
	    "Content-Type: application/json\r\n",
	    "Age: 30\r\n",
	    "Cache-Control: max-age=3600\r\n",
	    "Cache-Control: no-transform\r\n",
	    "\r\n",
	    "HTTP/2 200\r\n",
	    "content-type: application/json\r\n",
	};
	static const long after[] = {
	    -1, 86400, 86400, 86400, -1, 60, 60, 60, 3600, 3600, 3600, -1, -1};
	struct cg_fetch_result res;
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.max_age = -1;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cg__fetch_parse_header_line(lines[i], strlen(lines[i]), &res);
		if (res.max_age != after[i])
			fail_msg("after \"%s\": max_age %ld, want %ld",
			    lines[i], res.max_age, after[i]);
	}
	assert_int_equal(header_max_age("Content-Length: 10\r\n", 77), 77);
	assert_int_equal(header_max_age("Cache-Control: max-age=1\r\n", 77), 1);
}

/* `len` bounds the line: bytes past it are not read. */
static void
test_max_age_len(void **state)
{
	static const char line[] = "Cache-Control: max-age=123456\r\n";
	struct cg_fetch_result res;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.max_age = -1;
	cg__fetch_parse_header_line(
	    line, strlen("Cache-Control: max-age=12"), &res);
	assert_int_equal(res.max_age, 12);
	res.max_age = -1;
	cg__fetch_parse_header_line(
	    line, strlen("Cache-Control: max-age="), &res);
	assert_int_equal(res.max_age, -1);
	cg__fetch_parse_header_line(
	    line, strlen("Cache-Control: max-ag"), &res);
	assert_int_equal(res.max_age, -1);
	cg__fetch_parse_header_line(line, strlen("Cache-Contro"), &res);
	assert_int_equal(res.max_age, -1);
	cg__fetch_parse_header_line(line, 0, &res);
	assert_int_equal(res.max_age, -1);
}

/* Nothing but max_age is ever written. */
static void
test_max_age_writes_nothing_else(void **state)
{
	struct cg_fetch_result res, want;
	static const char line[] = "Cache-Control: max-age=42\r\n";

	(void)state;
	memset(&res, 0xa5, sizeof(res));
	res.max_age = -1;
	memcpy(&want, &res, sizeof(res));
	cg__fetch_parse_header_line(line, strlen(line), &res);
	assert_int_equal(res.max_age, 42);
	want.max_age = 42;
	assert_memory_equal(&res, &want, sizeof(res));
}

/* ---- OIDC discovery ----------------------------------------------------- */

/* Runs cg__discovery_parse on `doc` for issuer ISS. On CG_OK returns the
 * jwks_uri (caller frees); otherwise checks that no jwks_uri is left and
 * copies the reason to `why`. */
static char *
discover(
    const char *doc, int insecure_http, cg_code want, char *why, size_t whysz)
{
	char *uri = (char *)why; /* must be overwritten */
	cg_code rc;

	why[0] = '\0';
	rc = cg__discovery_parse(
	    doc, strlen(doc), ISS, insecure_http, &uri, why, whysz);
	if (rc != want)
		fail_msg("%s: %s (%s), want %s", doc, cg_code_name(rc), why,
		    cg_code_name(want));
	if (rc != CG_OK) {
		assert_null(uri);
		return NULL;
	}
	assert_non_null(uri);
	return uri;
}

static char *
doc_with(const char *issuer_json, const char *jwks_uri_json)
{
	return cgt_fmt("{\"authorization_endpoint\":\"" ISS "/authorize\","
	               "\"issuer\":%s,\"jwks_uri\":%s,"
	               "\"id_token_signing_alg_values_supported\":"
	               "[\"RS256\",\"ES256\"]}",
	    issuer_json, jwks_uri_json);
}

static void
test_discovery_ok(void **state)
{
	char why[200], *doc, *uri;

	(void)state;
	doc = doc_with("\"" ISS "\"", "\"" ISS "/.well-known/jwks.json\"");
	uri = discover(doc, 0, CG_OK, why, sizeof(why));
	assert_string_equal(uri, ISS "/.well-known/jwks.json");
	free(uri);
	free(doc);
	/* JSON escapes are read: "\/" is "/". */
	uri = discover("{\"issuer\":\"https:\\/\\/idp.example.com\","
	               "\"jwks_uri\":\"https:\\/\\/keys.example.com\\/k\"}",
	    0, CG_OK, why, sizeof(why));
	assert_string_equal(uri, "https://keys.example.com/k");
	free(uri);
	/* Another host is allowed: the document is the issuer's word. */
	doc = doc_with("\"" ISS "\"", "\"HTTPS://KEYS.EXAMPLE.NET/jwks\"");
	uri = discover(doc, 0, CG_OK, why, sizeof(why));
	assert_string_equal(uri, "HTTPS://KEYS.EXAMPLE.NET/jwks");
	free(uri);
	free(doc);
}

static void
test_discovery_issuer_mismatch(void **state)
{
	static const char *issuers[] = {
	    "\"" ISS "/\"",
	    "\"HTTPS://IDP.EXAMPLE.COM\"",
	    "\"https://idp.example.co\"",
	    "\"" ISS ".evil.example\"",
	    "\"http://idp.example.com\"",
	    "\" " ISS "\"",
	    "\"https://evil.example\"",
	    "\"\"",
	    "null",
	    "1",
	    "[\"" ISS "\"]",
	    "{\"value\":\"" ISS "\"}",
	};
	char why[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(issuers) / sizeof(issuers[0]); i++) {
		char *doc = doc_with(issuers[i], "\"" ISS "/jwks\"");
		assert_null(discover(doc, 1, CG_ERR_KEYSET, why, sizeof(why)));
		assert_string_equal(why, NOT_ISSUER);
		free(doc);
	}
	/* no issuer member at all */
	assert_null(discover("{\"jwks_uri\":\"" ISS "/jwks\"}", 0,
	    CG_ERR_KEYSET, why, sizeof(why)));
	assert_string_equal(why, NOT_ISSUER);
}

static void
test_discovery_jwks_uri(void **state)
{
	static const struct {
		const char *json;
		int strict, local; /* accepted without / with insecure_http */
	} rows[] = {
	    {"\"https://idp.example.com/jwks\"", 1, 1},
	    {"\"HTTPS://idp.example.com/jwks\"", 1, 1},
	    {"\"https://k\"", 1, 1},
	    {"\"http://idp.example.com/jwks\"", 0, 0},
	    {"\"http://127.0.0.1:8443/jwks\"", 0, 1},
	    {"\"http://127.0.0.1/jwks\"", 0, 1},
	    {"\"http://127.0.0.1\"", 0, 1},
	    {"\"HTTP://127.0.0.1:80/\"", 0, 1},
	    {"\"http://127.0.0.1.evil.example/jwks\"", 0, 0},
	    {"\"http://127.0.0.1@evil.example/jwks\"", 0, 0},
	    {"\"http://localhost/jwks\"", 0, 0},
	    {"\"https:///jwks\"", 0, 0},
	    {"\"https://\"", 0, 0},
	    {"\"https://idp.example.com/ jwks\"", 0, 0},
	    {"\"https://idp.example.com/\\u0001\"", 0, 0},
	    {"\"https://idp.example.com/\\r\\nHost: evil\"", 0, 0},
	    {"\"https://idp.example.com/\\u00e9\"", 0, 0},
	    {"\"file:///etc/passwd\"", 0, 0},
	    {"\"ftp://idp.example.com/jwks\"", 0, 0},
	    {"\"//idp.example.com/jwks\"", 0, 0},
	    {"\"/.well-known/jwks.json\"", 0, 0},
	    {"\"\"", 0, 0},
	    {"null", 0, 0},
	    {"[\"https://idp.example.com/jwks\"]", 0, 0},
	    {"1", 0, 0},
	};
	char why[200];
	size_t i;
	int insecure;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *doc = doc_with("\"" ISS "\"", rows[i].json);
		for (insecure = 0; insecure <= 1; insecure++) {
			int ok = insecure ? rows[i].local : rows[i].strict;
			char *uri = discover(doc, insecure,
			    ok ? CG_OK : CG_ERR_KEYSET, why, sizeof(why));
			if (ok) {
				/* the value itself, unquoted */
				assert_int_equal(
				    strlen(uri), strlen(rows[i].json) - 2);
				assert_memory_equal(
				    uri, rows[i].json + 1, strlen(uri));
			} else {
				assert_string_equal(why, NO_JWKS_URI);
			}
			free(uri);
		}
		free(doc);
	}
	/* no jwks_uri member */
	assert_null(discover(
	    "{\"issuer\":\"" ISS "\"}", 1, CG_ERR_KEYSET, why, sizeof(why)));
	assert_string_equal(why, NO_JWKS_URI);
}

/* What the strict JSON reader refuses is no document, even when it would
 * name the issuer: a duplicate member cannot smuggle in a second issuer
 * or jwks_uri, and U+0000 cannot cut a string short. */
static void
test_discovery_not_json(void **state)
{
	static const char *docs[] = {
	    "",
	    "<html><title>404 Not Found</title></html>",
	    "[{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/jwks\"}]",
	    "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/jwks\"}}",
	    "{\"issuer\":\"https://evil.example\",\"issuer\":\"" ISS
	    "\",\"jwks_uri\":\"" ISS "/jwks\"}",
	    "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://evil.example/\","
	    "\"jwks_uri\":\"" ISS "/jwks\"}",
	    "{\"issuer\":\"" ISS "\\u0000.evil\",\"jwks_uri\":\"" ISS
	    "/jwks\"}",
	    "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/jwks\\u0000\"}",
	    "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS
	    "/jwks\",\"n\":1e999}",
	};
	char why[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_null(
		    discover(docs[i], 1, CG_ERR_KEYSET, why, sizeof(why)));
		if (strncmp(why, "discovery: document is not JSON (", 33) != 0)
			fail_msg("%s: reason \"%s\"", docs[i], why);
	}
	/* invalid UTF-8 */
	assert_null(discover("{\"issuer\":\"" ISS "\",\"x\":\"\xff\xfe\","
	                     "\"jwks_uri\":\"" ISS "/jwks\"}",
	    1, CG_ERR_KEYSET, why, sizeof(why)));
	assert_memory_equal(why, "discovery: document is not JSON (", 33);
	/* the message fits any buffer, cut and NUL-terminated */
	{
		char small[12];
		assert_null(
		    discover("{", 0, CG_ERR_KEYSET, small, sizeof(small)));
		assert_string_equal(small, "discovery: ");
	}
}

/* A failing allocation gives CG_ERR_NOMEM and no jwks_uri, never a
 * half-read document; past the last allocation the result is whole. */
static void
test_discovery_alloc_failure(void **state)
{
	char *doc = doc_with("\"" ISS "\"", "\"" ISS "/jwks\"");
	unsigned long n;
	int nomem = 0, ok = 0;

	(void)state;
	for (n = 1; n <= 40 && !ok; n++) {
		char why[200], *uri = why;
		cg_code rc;

		why[0] = '\0';
		cg__alloc_fail_after(n);
		rc = cg__discovery_parse(
		    doc, strlen(doc), ISS, 0, &uri, why, sizeof(why));
		cg__alloc_fail_after(0);
		if (rc == CG_ERR_NOMEM) {
			assert_null(uri);
			assert_string_equal(why, "discovery: out of memory");
			nomem++;
			continue;
		}
		if (rc != CG_OK)
			fail_msg("failing allocation %lu: %s (%s)", n,
			    cg_code_name(rc), why);
		assert_string_equal(uri, ISS "/jwks");
		free(uri);
		ok = 1;
	}
	assert_true(nomem > 0);
	assert_true(ok);
	free(doc);
}

/* ---- the JWK Set body --------------------------------------------------- */

static char *jwks1, *jwks2, *jwks_weak;

static int
group_setup(void **state)
{
	struct cgt_key k1, k2;
	const char *two[2];

	(void)state;
	cgt_key_gen(&k1, CG_ALG_ES256, "k1", 1);
	cgt_key_gen(&k2, CG_ALG_EDDSA, "k2", 1);
	two[0] = k1.jwk;
	two[1] = k2.jwk;
	jwks1 = cgt_jwks(two, 1);
	jwks2 = cgt_jwks(two, 2);
	/* An oct key of 16 bytes serves no algorithm: skipped. */
	jwks_weak = cgt_fmt("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"short\","
	                    "\"k\":\"AAAAAAAAAAAAAAAAAAAAAA\"}]}");
	cgt_key_free(&k1);
	cgt_key_free(&k2);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	free(jwks1);
	free(jwks2);
	free(jwks_weak);
	return 0;
}

/* Returns the code; on CG_OK checks the key count, otherwise that no key
 * set is left and the reason is set. */
static cg_code
jwks_response(const char *body, size_t max_keys, size_t want_keys, char *why,
    size_t whysz)
{
	struct cg_keyset *ks = (struct cg_keyset *)(void *)why;
	cg_code rc;

	why[0] = '\0';
	rc = cg__jwks_response_parse(
	    body, strlen(body), max_keys, &ks, why, whysz);
	if (rc != CG_OK) {
		assert_null(ks);
		assert_true(why[0] != '\0');
		return rc;
	}
	assert_non_null(ks);
	assert_int_equal(cg_keyset_count(ks), want_keys);
	cg_keyset_free(ks);
	return rc;
}

static void
test_jwks_response(void **state)
{
	char why[200];

	(void)state;
	assert_int_equal(jwks_response(jwks1, 100, 1, why, sizeof(why)), CG_OK);
	assert_int_equal(jwks_response(jwks2, 100, 2, why, sizeof(why)), CG_OK);
	/* max_keys at N and N + 1 */
	assert_int_equal(jwks_response(jwks2, 2, 2, why, sizeof(why)), CG_OK);
	assert_int_equal(
	    jwks_response(jwks2, 1, 0, why, sizeof(why)), CG_ERR_KEYSET);
	assert_string_equal(why, "more than 1 keys");
	/* a set that loads but has no usable key replaces nothing */
	assert_int_equal(
	    jwks_response(jwks_weak, 100, 0, why, sizeof(why)), CG_ERR_KEYSET);
	assert_string_equal(why, "no usable key");
	assert_int_equal(
	    jwks_response("{\"keys\":[]}", 100, 0, why, sizeof(why)),
	    CG_ERR_KEYSET);
	assert_string_equal(why, "no usable key");
	/* not a JWK Set: the loader's reason */
	assert_int_equal(jwks_response("<html>502 Bad Gateway</html>", 100, 0,
	                     why, sizeof(why)),
	    CG_ERR_KEYSET);
	assert_int_equal(
	    jwks_response("{\"issuer\":\"" ISS "\"}", 100, 0, why, sizeof(why)),
	    CG_ERR_KEYSET);
	assert_int_equal(
	    jwks_response("", 100, 0, why, sizeof(why)), CG_ERR_KEYSET);
}

/* ---- cg__uri_allowed ---------------------------------------------------- */

static void
test_uri_allowed(void **state)
{
	static const char nul[] = "https://a\0.evil";

	(void)state;
	assert_true(cg__uri_allowed("https://a", 9, 0));
	assert_false(cg__uri_allowed("https://", 8, 0));
	assert_false(cg__uri_allowed("https:///a", 10, 0));
	assert_false(cg__uri_allowed(nul, sizeof(nul) - 1, 1));
	assert_false(cg__uri_allowed("http://127.0.0.1:1/", 19, 0));
	assert_true(cg__uri_allowed("http://127.0.0.1:1/", 19, 1));
	assert_false(cg__uri_allowed("http://127.0.0.10/", 18, 1));
	/* only `len` bytes count */
	assert_true(cg__uri_allowed("https://a b", 9, 0));
	assert_false(cg__uri_allowed("https://a b", 11, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_max_age_values),
	    cmocka_unit_test(test_max_age_header_name_case),
	    cmocka_unit_test(test_max_age_large),
	    cmocka_unit_test(test_max_age_across_lines),
	    cmocka_unit_test(test_max_age_len),
	    cmocka_unit_test(test_max_age_writes_nothing_else),
	    cmocka_unit_test(test_discovery_ok),
	    cmocka_unit_test(test_discovery_issuer_mismatch),
	    cmocka_unit_test(test_discovery_jwks_uri),
	    cmocka_unit_test(test_discovery_not_json),
	    cmocka_unit_test(test_discovery_alloc_failure),
	    cmocka_unit_test(test_jwks_response),
	    cmocka_unit_test(test_uri_allowed),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
