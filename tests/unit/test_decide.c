/*
 * test_decide.c - the decision engine, cg_decide() (contract section 3).
 *
 * The decision table's rows up to the signature (token_missing ..
 * signature_invalid), each with its exact reason; which reason wins when a
 * token fails two steps (the whole table); that a detail never carries
 * token bytes; cg_decide's error returns; allocation failure. The rows
 * after the signature (claim_invalid .. replayed), trusted claims,
 * `require`, provenance and the JSON form are in test_decide_claims.c.
 *
 * One fixture for the program, shared with test_decide_claims.c
 * (tests/support/decide_fixture.c): keys are generated once, written as
 * JWK Sets into a mkdtemp() folder and named by absolute path from one
 * policy parsed with cg__policy_parse(). The clock is fixed at NOW.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cgtest.h"
#include "decide_fixture.h"
#include "internal.h"
#include "policy.h"
#include "store.h"

/* ---- fixture ---------------------------------------------------------- */

static int
group_setup(void **state)
{
	(void)state;
	return decide_fixture_setup(NULL);
}

/* ---- tokens ----------------------------------------------------------- */

/* `tok` with segment i (0, 1 or 2) replaced by `seg`. free(). */
static char *
replace_segment(const char *tok, int i, const char *seg)
{
	const char *d1 = strchr(tok, '.'), *d2;
	char *t;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	if (i == 0)
		t = cgt_fmt("%s%s", seg, d1);
	else if (i == 1)
		t = cgt_fmt("%.*s.%s%s", (int)(d1 - tok), tok, seg, d2);
	else
		t = cgt_fmt("%.*s.%s", (int)(d2 - tok), tok, seg);
	return t;
}

/* ---- the table, row by row ------------------------------------------- */

/* Every issuer, key type and algorithm of the fixture allows. */
static void
test_ok(void **state)
{
	static const struct row rows[] = {
		{ "RS256 kid", "main", K_RSA1, NULL, CORP(""), CG_REASON_OK,
		    0 },
		{ "RS256 no kid", "main", K_RSA2, "{\"alg\":\"RS256\"}",
		    CORP(""), CG_REASON_OK, 0 },
		{ "RS256 key with alg", "main", K_RSAALG, NULL, CORP(""),
		    CG_REASON_OK, 0 },
		{ "ES256", "main", K_EC1, NULL, CORP(""), CG_REASON_OK, 0 },
		{ "ES256 no kid", "main", K_EC1, "{\"alg\":\"ES256\"}",
		    CORP(""), CG_REASON_OK, 0 },
		{ "EdDSA", "main", K_ED1, NULL, BODY(ISS_ED, ""),
		    CG_REASON_OK, 0 },
		{ "HS256", "main", K_HS1, NULL, BODY(ISS_HS, ""),
		    CG_REASON_OK, 0 },
		{ "partner", "main", K_P1, NULL, BODY(ISS_PARTNER, ""),
		    CG_REASON_OK, 0 },
		{ "jku and x5u are ignored", "main", K_RSA1,
		    H_RSA1_WITH(",\"jku\":\"https://evil.example/jwks\","
				"\"x5u\":\"https://evil.example/x5u\""),
		    CORP(""), CG_REASON_OK, 0 },
		{ "unknown claims are fine", "main", K_RSA1, NULL,
		    CORP(",\"x\":{\"y\":[1,2,{\"z\":null}]},\"n\":null"),
		    CG_REASON_OK, 0 },
		{ "integer beyond 64 bits in an unread claim", "main", K_RSA1,
		    NULL, CORP(",\"big\":123456789012345678901234567890"),
		    CG_REASON_OK, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

static void
test_token_missing(void **state)
{
	(void)state;
	expect_p(fx.pol, "empty", "main", "", 0, NOW, NULL,
	    CG_REASON_TOKEN_MISSING);
	expect_p(fx.pol, "NULL, 0", "main", NULL, 0, NOW, NULL,
	    CG_REASON_TOKEN_MISSING);
	/* len 0 wins over whatever the pointer holds. */
	expect_p(fx.pol, "len 0", "main", "not a token", 0, NOW, NULL,
	    CG_REASON_TOKEN_MISSING);
	/* Whitespace is present, so not missing: malformed. */
	expect("space", "main", " ", CG_REASON_TOKEN_MALFORMED);
	expect("spaces", "main", "   ", CG_REASON_TOKEN_MALFORMED);
	expect("tab newline", "main", "\t\n", CG_REASON_TOKEN_MALFORMED);
	expect("CRLF", "main", "\r\n", CG_REASON_TOKEN_MALFORMED);
}

static size_t
b64len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

/* A corp token, allowed by main, of exactly `target` bytes. */
static char *
token_of_length(size_t target)
{
	const size_t siglen = b64len(256); /* RS256, 2048-bit key */
	const size_t base = strlen(CORP(",\"pad\":\"\""));
	size_t sp, pad;

	for (sp = 0; sp < 3; sp++) {
		char *h = cgt_fmt("{\"alg\":\"RS256\",\"kid\":\"rsa1\"%*s}",
		    (int)sp, "");
		size_t hl = b64len(strlen(h));

		for (pad = 0; hl + b64len(base + pad) + siglen + 2 <= target;
		    pad++) {
			char *xs, *p, *t;

			if (hl + b64len(base + pad) + siglen + 2 != target)
				continue;
			xs = malloc(pad + 1);
			assert_non_null(xs);
			memset(xs, 'x', pad);
			xs[pad] = '\0';
			p = cgt_fmt(CORP(",\"pad\":\"%s\""), xs);
			t = mint(K_RSA1, h, p);
			assert_int_equal(strlen(t), target);
			free(xs);
			free(p);
			free(h);
			return t;
		}
		free(h);
	}
	fail_msg("no token of %zu bytes", target);
	return NULL;
}

static void
test_token_too_large(void **state)
{
	char *t8192 = token_of_length(8192), *t8193 = token_of_length(8193);
	char *junk = malloc(100001);

	(void)state;
	assert_non_null(junk);
	expect("valid token of 8192 bytes", "main", t8192, CG_REASON_OK);
	expect("valid token of 8193 bytes", "main", t8193,
	    CG_REASON_TOKEN_TOO_LARGE);
	/* The size is checked before the structure. */
	memset(junk, 'A', 100000);
	junk[100000] = '\0';
	expect("100000 x A", "main", junk, CG_REASON_TOKEN_TOO_LARGE);
	junk[8193] = '\0';
	expect("8193 x A", "main", junk, CG_REASON_TOKEN_TOO_LARGE);
	junk[8192] = '\0';
	expect("8192 x A", "main", junk, CG_REASON_TOKEN_MALFORMED);
	free(junk);
	free(t8192);
	free(t8193);
}

/* The structure of the compact serialisation. */
static void
test_malformed_structure(void **state)
{
	char *t = mint(K_RSA1, NULL, CORP("")), *h, *p, *s, *x;
	const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');

	(void)state;
	h = cgt_fmt("%.*s", (int)(d1 - t), t);
	p = cgt_fmt("%.*s", (int)(d2 - d1 - 1), d1 + 1);
	s = cgt_fmt("%s", d2 + 1);
	expect("the valid token", "main", t, CG_REASON_OK);

#define MAL(what, fmt, ...)                                                 \
	do {                                                                \
		x = cgt_fmt(fmt, __VA_ARGS__);                              \
		expect(what, "main", x, CG_REASON_TOKEN_MALFORMED);         \
		free(x);                                                    \
	} while (0)
	MAL("one segment", "%s", h);
	MAL("two segments", "%s.%s", h, p);
	MAL("four segments", "%s.%s.%s.%s", h, p, s, s);
	MAL("five segments (JWE)", "%s.%s.%s.%s.%s", h, p, s, s, s);
	MAL("trailing dot", "%s.%s.%s.", h, p, s);
	MAL("leading dot", ".%s.%s.%s", h, p, s);
	MAL("empty header", ".%s.%s", p, s);
	MAL("empty payload", "%s..%s", h, s);
	MAL("two dots only", "%s", "..");
	MAL("leading space", " %s", t);
	MAL("trailing newline", "%s\n", t);
	MAL("trailing CRLF", "%s\r\n", t);
	MAL("trailing space", "%s ", t);
	MAL("space inside the payload", "%s.%.4s %s.%s", h, p, p + 4, s);
	MAL("Bearer prefix", "Bearer %s", t);
	MAL("padding on the header", "%s=.%s.%s", h, p, s);
	MAL("padding on the signature", "%s.%s.%s==", h, p, s);
	MAL("'+' (base64, not base64url)", "+%s.%s.%s", h + 1, p, s);
	MAL("'/' (base64, not base64url)", "%s./%s.%s", h, p + 1, s);
	MAL("'%' in the signature", "%s.%s.%%%s", h, p, s + 1);
	MAL("header of 1 mod 4 characters", "%s.%s.%s", "eyJhb", p, s);
	/* 256 bytes -> 342 characters: the last holds 4 unused bits. */
	assert_int_equal(strlen(s), 342);
	MAL("non-canonical last signature character", "%s.%s.%.341sB", h,
	    p, s);
	MAL("NUL-free garbage", "%s", "SECRET.MARKER.x!");
#undef MAL
	/* A NUL byte inside the counted length. */
	x = cgt_fmt("%s", t);
	x[5] = '\0';
	expect_p(fx.pol, "NUL byte in the header", "main", x, strlen(t), NOW,
	    NULL, CG_REASON_TOKEN_MALFORMED);
	free(x);
	free(h);
	free(p);
	free(s);
	free(t);
}

/* The JSON of header and payload (signed, so only the JSON is wrong). */
static void
test_malformed_json(void **state)
{
	static const struct row rows[] = {
		{ "header alg missing", "main", K_RSA1, "{\"kid\":\"rsa1\"}",
		    CORP(""), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header alg a number", "main", K_RSA1,
		    "{\"alg\":256,\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header alg an array", "main", K_RSA1,
		    "{\"alg\":[\"RS256\"],\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header alg null", "main", K_RSA1,
		    "{\"alg\":null,\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header kid a number", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":7}", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header kid null", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":null}", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header typ a number", "main", K_RSA1,
		    H_RSA1_WITH(",\"typ\":1"), CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header cty an object", "main", K_RSA1,
		    H_RSA1_WITH(",\"cty\":{}"), CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header parameter x5u null", "main", K_RSA1,
		    H_RSA1_WITH(",\"x5u\":null"), CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header private parameter null", "main", K_RSA1,
		    H_RSA1_WITH(",\"foo\":null"), CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header duplicate alg", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
		    CORP(""), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header an array", "main", K_RSA1, "[\"RS256\"]", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header a string", "main", K_RSA1, "\"RS256\"", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "header truncated", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":\"rsa1\"", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload an array", "main", K_RSA1, NULL, "[]",
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload a string", "main", K_RSA1, NULL, "\"x\"",
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload a number", "main", K_RSA1, NULL, "1",
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload null", "main", K_RSA1, NULL, "null",
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload data after the object", "main", K_RSA1, NULL,
		    CORP("") " {}", CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload duplicate sub", "main", K_RSA1, NULL,
		    CORP(",\"sub\":\"bob\""), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload duplicate iss", "main", K_RSA1, NULL,
		    CORP(",\"iss\":\"" ISS_CORP "\""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload duplicate after unescaping", "main", K_RSA1, NULL,
		    CORP(",\"s\\u0075b\":\"bob\""), CG_REASON_TOKEN_MALFORMED,
		    0 },
		{ "payload duplicate nested", "main", K_RSA1, NULL,
		    CORP(",\"x\":[{\"a\":1,\"a\":2}]"),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload 1e999", "main", K_RSA1, NULL,
		    CORP(",\"big\":1e999"), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload -1e999", "main", K_RSA1, NULL,
		    CORP(",\"big\":-1e999"), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "exp 1e999", "main", K_RSA1, NULL,
		    CORP_NOEXP(",\"exp\":1e999"), CG_REASON_TOKEN_MALFORMED,
		    0 },
		{ "payload invalid UTF-8", "main", K_RSA1, NULL,
		    CORP(",\"x\":\"\xff\""), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload overlong UTF-8", "main", K_RSA1, NULL,
		    CORP(",\"x\":\"\xc0\xaf\""), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload unpaired surrogate", "main", K_RSA1, NULL,
		    CORP(",\"x\":\"\\ud800\""), CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload U+0000", "main", K_RSA1, NULL,
		    CORP(",\"x\":\"a\\u0000b\""), CG_REASON_TOKEN_MALFORMED,
		    0 },
		{ "payload single quotes", "main", K_RSA1, NULL,
		    "{'iss':'" ISS_CORP "'}", CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload trailing comma", "main", K_RSA1, NULL, CORP(","),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "payload empty", "main", K_RSA1, NULL, "",
		    CG_REASON_TOKEN_MALFORMED, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

/* Containers nested `levels` deep inside member x of the top object, as
 * arrays or objects. free(). */
static char *
nested(int levels, int objects)
{
	size_t n = (size_t)levels;
	char *open = malloc(n * 5 + 1), *close = malloc(n + 1), *s;
	size_t i;

	assert_non_null(open);
	assert_non_null(close);
	open[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(open, objects ? "{\"y\":" : "[");
		close[i] = objects ? '}' : ']';
	}
	close[n] = '\0';
	s = cgt_fmt("%s1%s", open, close);
	free(open);
	free(close);
	return s;
}

/* The top-level object is level 1; level 17 is malformed. */
static void
test_malformed_depth(void **state)
{
	int objects;

	(void)state;
	for (objects = 0; objects < 2; objects++) {
		char *n15 = nested(15, objects), *n16 = nested(16, objects);
		char *p16 = cgt_fmt(CORP(",\"x\":%s"), n15);
		char *p17 = cgt_fmt(CORP(",\"x\":%s"), n16);
		char *h16 = cgt_fmt(H_RSA1_WITH(",\"x\":%s"), n15);
		char *h17 = cgt_fmt(H_RSA1_WITH(",\"x\":%s"), n16);
		char *t;

		t = mint(K_RSA1, NULL, p16);
		expect("payload depth 16", "main", t, CG_REASON_OK);
		free(t);
		t = mint(K_RSA1, NULL, p17);
		expect("payload depth 17", "main", t,
		    CG_REASON_TOKEN_MALFORMED);
		free(t);
		t = mint(K_RSA1, h16, CORP(""));
		expect("header depth 16", "main", t, CG_REASON_OK);
		free(t);
		t = mint(K_RSA1, h17, CORP(""));
		expect("header depth 17", "main", t,
		    CG_REASON_TOKEN_MALFORMED);
		free(t);
		free(n15);
		free(n16);
		free(p16);
		free(p17);
		free(h16);
		free(h17);
	}
}

static void
test_crit(void **state)
{
	static const struct row rows[] = {
		{ "crit [exp]", "main", K_RSA1,
		    H_RSA1_WITH(",\"crit\":[\"exp\"],\"exp\":1"), CORP(""),
		    CG_REASON_CRIT_UNSUPPORTED, 0 },
		{ "crit []", "main", K_RSA1, H_RSA1_WITH(",\"crit\":[]"),
		    CORP(""), CG_REASON_CRIT_UNSUPPORTED, 0 },
		{ "crit a string", "main", K_RSA1,
		    H_RSA1_WITH(",\"crit\":\"b64\""), CORP(""),
		    CG_REASON_CRIT_UNSUPPORTED, 0 },
		{ "crit b64 false", "main", K_RSA1,
		    H_RSA1_WITH(",\"b64\":false,\"crit\":[\"b64\"]"), CORP(""),
		    CG_REASON_CRIT_UNSUPPORTED, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

static void
test_issuer_untrusted(void **state)
{
	static const struct row rows[] = {
		{ "iss absent", "main", K_RSA1, NULL, CORP_NOISS(""),
		    CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss a number", "main", K_RSA1, NULL,
		    CORP_NOISS(",\"iss\":1"), CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss an array", "main", K_RSA1, NULL,
		    CORP_NOISS(",\"iss\":[\"" ISS_CORP "\"]"),
		    CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss an object", "main", K_RSA1, NULL,
		    CORP_NOISS(",\"iss\":{}"), CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss null", "main", K_RSA1, NULL,
		    CORP_NOISS(",\"iss\":null"), CG_REASON_ISSUER_UNTRUSTED,
		    0 },
		{ "iss true", "main", K_RSA1, NULL,
		    CORP_NOISS(",\"iss\":true"), CG_REASON_ISSUER_UNTRUSTED,
		    0 },
		{ "iss empty", "main", K_RSA1, NULL, BODY("", ""),
		    CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss unknown", "main", K_RSA1, NULL,
		    BODY("https://evil.example.com", ""),
		    CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss in another case", "main", K_RSA1, NULL,
		    BODY("https://SSO.example.com", ""),
		    CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss with a trailing slash", "main", K_RSA1, NULL,
		    BODY(ISS_CORP "/", ""), CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss a prefix", "main", K_RSA1, NULL,
		    BODY("https://sso.example.co", ""),
		    CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss the local name", "main", K_RSA1, NULL,
		    BODY("corp", ""), CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "issuer in the policy, not in accept", "main", K_P1, NULL,
		    BODY(ISS_OUTSIDER, ""), CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "issuer accepted elsewhere, not here", "exact", K_P1, NULL,
		    BODY(ISS_PARTNER, ""), CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss with escaped slashes is the same value", "main", K_RSA1,
		    NULL,
		    BODY("https:\\/\\/sso.example.com", ""), CG_REASON_OK, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

static void
test_alg_not_allowed(void **state)
{
	static const struct row rows[] = {
		{ "alg none", "main", K_RSA1, "{\"alg\":\"none\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 1 },
		{ "alg NONE", "main", K_RSA1, "{\"alg\":\"NONE\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 1 },
		{ "alg None with kid", "main", K_RSA1,
		    "{\"alg\":\"None\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 1 },
		{ "alg none, signed", "main", K_RSA1,
		    "{\"alg\":\"none\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "RS512 not in the issuer's algorithms", "main", K_RSA1,
		    "{\"alg\":\"RS512\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "PS256 not in the issuer's algorithms", "main", K_RSA1,
		    "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "EdDSA for an RSA/EC issuer", "main", K_ED1,
		    "{\"alg\":\"EdDSA\"}", CORP(""), CG_REASON_ALG_NOT_ALLOWED,
		    0 },
		{ "RS256 for the EdDSA issuer", "main", K_RSA1, NULL,
		    BODY(ISS_ED, ""), CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "RS256 for the HS256 issuer", "main", K_RSA1, NULL,
		    BODY(ISS_HS, ""), CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "unknown alg", "main", K_RSA1,
		    "{\"alg\":\"XX256\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "alg in lower case", "main", K_RSA1,
		    "{\"alg\":\"rs256\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "alg empty", "main", K_RSA1,
		    "{\"alg\":\"\",\"kid\":\"rsa1\"}",
		    CORP(""), CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "alg with a trailing space", "main", K_RSA1,
		    "{\"alg\":\"RS256 \",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_ALG_NOT_ALLOWED, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

#define TYPED(typ_member)                                                   \
	{ "typ " typ_member, "main", K_RSA1,                                \
	    H_RSA1_WITH(typ_member), BODY(ISS_TYPED, ""), CG_REASON_OK, 0 }
#define UNTYPED(typ_member)                                                 \
	{ "typ " typ_member, "main", K_RSA1,                                \
	    H_RSA1_WITH(typ_member), BODY(ISS_TYPED, ""),                   \
	    CG_REASON_TYP_NOT_ALLOWED, 0 }

static void
test_typ_not_allowed(void **state)
{
	/* clang-format off */
	static const struct row rows[] = {
		TYPED(",\"typ\":\"at+jwt\""),
		TYPED(",\"typ\":\"AT+JWT\""),
		TYPED(",\"typ\":\"application/at+jwt\""),
		TYPED(",\"typ\":\"Application/At+Jwt\""),
		/* The policy wrote Application/Example+JWT. */
		TYPED(",\"typ\":\"example+jwt\""),
		TYPED(",\"typ\":\"APPLICATION/EXAMPLE+JWT\""),
		TYPED(",\"typ\":\"At+jwT\""),
		UNTYPED(""),
		UNTYPED(",\"typ\":\"JWT\""),
		UNTYPED(",\"typ\":\"jwt\""),
		UNTYPED(",\"typ\":\"\""),
		UNTYPED(",\"typ\":\"at+jwt \""),
		UNTYPED(",\"typ\":\" at+jwt\""),
		UNTYPED(",\"typ\":\"application/\""),
		UNTYPED(",\"typ\":\"application/application/at+jwt\""),
		UNTYPED(",\"typ\":\"xapplication/at+jwt\""),
		UNTYPED(",\"typ\":\"at+jwt+jwt\""),
		UNTYPED(",\"typ\":\"at\""),
		UNTYPED(",\"typ\":\"at+jw\""),
		UNTYPED(",\"typ\":\"at+jwtx\""),
		UNTYPED(",\"typ\":\"at-jwt\""),
		/* An issuer without `types` takes any typ, or none. */
		{ "no types: JWT", "main", K_RSA1,
		    H_RSA1_WITH(",\"typ\":\"JWT\""),
		    CORP(""), CG_REASON_OK, 0 },
		{ "no types: odd", "main", K_RSA1,
		    H_RSA1_WITH(",\"typ\":\"whatever\""), CORP(""),
		    CG_REASON_OK, 0 },
	};
	/* clang-format on */

	(void)state;
	RUN_ROWS(rows);
}

static void
test_keys_unavailable(void **state)
{
	static const struct row rows[] = {
		{ "jwks_uri only, kid", "main", K_RSA1, NULL,
		    BODY(ISS_REMOTE, ""), CG_REASON_KEYS_UNAVAILABLE, 0 },
		{ "jwks_uri only, no kid", "main", K_RSA1,
		    "{\"alg\":\"RS256\"}", BODY(ISS_REMOTE, ""),
		    CG_REASON_KEYS_UNAVAILABLE, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

static void
test_key_not_found(void **state)
{
	static const struct row rows[] = {
		{ "unknown kid", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":\"nope\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		{ "empty kid", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":\"\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		{ "kid of another case", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":\"RSA1\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		{ "kid of another issuer's key", "main", K_P1,
		    "{\"alg\":\"RS256\",\"kid\":\"p1\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		{ "kid of an RSA key, alg ES256", "main", K_EC1,
		    "{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		{ "kid of an EC key, alg RS256", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":\"ec1\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		{ "no kid, ES384 with no P-384 key", "main", K_EC1,
		    "{\"alg\":\"ES384\"}", CORP(""), CG_REASON_KEY_NOT_FOUND,
		    0 },
		/* HS256 is allowed, but an RSA key never serves HMAC. */
		{ "no kid, HS256 with RSA/EC keys only", "main", K_HS1,
		    "{\"alg\":\"HS256\"}", CORP(""), CG_REASON_KEY_NOT_FOUND,
		    0 },
		{ "kid of an RSA key, HS256", "main", K_HS1,
		    "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		/* rsaalg's JWK says RS256. */
		{ "key's own alg differs", "main", K_RSAALG,
		    "{\"alg\":\"RS384\",\"kid\":\"rsaalg\"}", CORP(""),
		    CG_REASON_KEY_NOT_FOUND, 0 },
		{ "key's own alg matches", "main", K_RSAALG,
		    "{\"alg\":\"RS256\",\"kid\":\"rsaalg\"}", CORP(""),
		    CG_REASON_OK, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

static void
test_signature_invalid(void **state)
{
	static const struct row rows[] = {
		{ "another key with the same kid", "main", K_STRAY, NULL,
		    CORP(""), CG_REASON_SIGNATURE_INVALID, 0 },
		{ "no kid, no key verifies", "main", K_STRAY,
		    "{\"alg\":\"RS256\"}", CORP(""),
		    CG_REASON_SIGNATURE_INVALID, 0 },
		{ "HMAC with another secret", "main", K_STRAY_HS, NULL,
		    BODY(ISS_HS, ""), CG_REASON_SIGNATURE_INVALID, 0 },
		{ "empty signature segment", "main", K_RSA1, H_RSA1, CORP(""),
		    CG_REASON_SIGNATURE_INVALID, 1 },
		{ "empty signature, no kid", "main", K_RSA1,
		    "{\"alg\":\"RS256\"}", CORP(""),
		    CG_REASON_SIGNATURE_INVALID, 1 },
		{ "empty signature, HS256", "main", K_HS1,
		    "{\"alg\":\"HS256\",\"kid\":\"hs1\"}", BODY(ISS_HS, ""),
		    CG_REASON_SIGNATURE_INVALID, 1 },
		{ "empty signature, ES256", "main", K_EC1,
		    "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", CORP(""),
		    CG_REASON_SIGNATURE_INVALID, 1 },
		/* A key URL in the header is never followed. */
		{ "jku header, stray key", "main", K_STRAY,
		    "{\"alg\":\"RS256\",\"jku\":\"https://evil.example\"}",
		    CORP(""), CG_REASON_SIGNATURE_INVALID, 0 },
	};
	char *t, *x, *other, *sig;

	(void)state;
	RUN_ROWS(rows);

	/* A key embedded in the header is never used. */
	other = cgt_fmt("{\"alg\":\"RS256\",\"jwk\":%s}", fx.keys[K_STRAY].jwk);
	t = mint(K_STRAY, other, CORP(""));
	expect("jwk header, stray key", "main", t, CG_REASON_SIGNATURE_INVALID);
	free(t);
	free(other);

	/* Tampered payload, original signature. */
	t = mint(K_RSA1, NULL, CORP(""));
	other = cgt_b64(CORP_NOSUB(",\"sub\":\"admin\""),
	    strlen(CORP_NOSUB(",\"sub\":\"admin\"")));
	x = replace_segment(t, 1, other);
	expect("tampered payload", "main", x, CG_REASON_SIGNATURE_INVALID);
	free(x);
	free(other);
	/* Tampered header (kid kept, so key choice is unchanged). */
	other = cgt_b64(H_RSA1_WITH(",\"typ\":\"JWT\""),
	    strlen(H_RSA1_WITH(",\"typ\":\"JWT\"")));
	x = replace_segment(t, 0, other);
	expect("tampered header", "main", x, CG_REASON_SIGNATURE_INVALID);
	free(x);
	free(other);
	/* The signature of another token. */
	other = mint(K_RSA1, NULL, CORP(",\"x\":1"));
	sig = strrchr(other, '.') + 1;
	x = replace_segment(t, 2, sig);
	expect("another token's signature", "main", x,
	    CG_REASON_SIGNATURE_INVALID);
	free(x);
	/* A truncated signature (340 characters: still canonical). */
	sig = cgt_fmt("%.340s", strrchr(t, '.') + 1);
	x = replace_segment(t, 2, sig);
	expect("truncated signature", "main", x,
	    CG_REASON_SIGNATURE_INVALID);
	free(x);
	free(sig);
	free(other);
	free(t);
}

static void
test_order(void **state)
{
	static const struct row rows[] = {
		{ "crit + malformed kid", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":1,\"crit\":[\"x\"]}", CORP(""),
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "crit + untrusted issuer", "main", K_RSA1,
		    H_RSA1_WITH(",\"crit\":[\"x\"]"), BODY("https://evil", ""),
		    CG_REASON_CRIT_UNSUPPORTED, 0 },
		{ "crit + alg none", "main", K_RSA1,
		    "{\"alg\":\"none\",\"crit\":[\"x\"]}", CORP(""),
		    CG_REASON_CRIT_UNSUPPORTED, 1 },
		{ "untrusted issuer + alg none", "main", K_RSA1,
		    "{\"alg\":\"none\"}", BODY("https://evil", ""),
		    CG_REASON_ISSUER_UNTRUSTED, 1 },
		{ "iss absent + alg none + exp absent", "main", K_RSA1,
		    "{\"alg\":\"none\"}", "{\"sub\":\"x\"}",
		    CG_REASON_ISSUER_UNTRUSTED, 1 },
		{ "alg none + typ not allowed", "main", K_RSA1,
		    "{\"alg\":\"none\",\"typ\":\"JWT\"}", BODY(ISS_TYPED, ""),
		    CG_REASON_ALG_NOT_ALLOWED, 1 },
		{ "alg not allowed + no keys", "main", K_RSA1,
		    "{\"alg\":\"RS384\",\"kid\":\"rsa1\"}",
		    BODY(ISS_REMOTE, ""), CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "typ not allowed + unknown kid", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":\"nope\",\"typ\":\"JWT\"}",
		    BODY(ISS_TYPED, ""), CG_REASON_TYP_NOT_ALLOWED, 0 },
		{ "unknown kid + bad signature + exp a string", "main",
		    K_STRAY, "{\"alg\":\"RS256\",\"kid\":\"nope\"}",
		    CORP_NOEXP(",\"exp\":\"x\""), CG_REASON_KEY_NOT_FOUND, 0 },
		/* No claim but iss is read before the signature verifies. */
		{ "bad signature + exp a string", "main", K_STRAY, NULL,
		    CORP_NOEXP(",\"exp\":\"x\""), CG_REASON_SIGNATURE_INVALID,
		    0 },
		{ "bad signature + expired", "main", K_STRAY, NULL,
		    CORP_NOEXP(",\"exp\":1699999000"),
		    CG_REASON_SIGNATURE_INVALID, 0 },
		{ "empty signature + exp absent", "main", K_RSA1, H_RSA1,
		    CORP_NOEXP(""), CG_REASON_SIGNATURE_INVALID, 1 },
		{ "sub a number + exp absent", "main", K_RSA1, NULL,
		    "{\"iss\":\"" ISS_CORP "\",\"sub\":1}",
		    CG_REASON_CLAIM_INVALID, 0 },
		{ "act invalid + expired + no aud", "main", K_RSA1, NULL,
		    "{\"iss\":\"" ISS_CORP "\",\"exp\":1,\"act\":{}}",
		    CG_REASON_CLAIM_INVALID, 0 },
		{ "jti absent (require_claims) + expired", "req", K_RSA1,
		    NULL, CORP_NOEXP(",\"exp\":1,\"tid\":\"t\""),
		    CG_REASON_CLAIM_MISSING, 0 },
		{ "expired + wrong audience", "main", K_RSA1, NULL,
		    "{\"iss\":\"" ISS_CORP "\",\"aud\":\"x\","
		    "\"exp\":1699999000}",
		    CG_REASON_TOKEN_EXPIRED, 0 },
		{ "expired + not yet valid", "main", K_RSA1, NULL,
		    CORP_NOEXP(",\"exp\":1699999000,\"nbf\":1700009000"),
		    CG_REASON_TOKEN_EXPIRED, 0 },
		{ "not yet valid + issued in future", "main", K_RSA1, NULL,
		    CORP(",\"nbf\":1700000100,\"iat\":1700000100"),
		    CG_REASON_TOKEN_NOT_YET_VALID, 0 },
		{ "issued in future + lifetime too long", "main", K_RSA1,
		    NULL, "{\"iss\":\"" ISS_SHORT "\"," C_AUD ",\"iat\":"
			  "1700000100,\"exp\":1700100000}",
		    CG_REASON_TOKEN_ISSUED_IN_FUTURE, 0 },
		{ "lifetime too long + too old", "fresh", K_RSA1, NULL,
		    "{\"iss\":\"" ISS_SHORT "\"," C_AUD ",\"iat\":1699990000,"
		    "\"exp\":1700010000}",
		    CG_REASON_LIFETIME_TOO_LONG, 0 },
		{ "too old + wrong audience", "fresh", K_RSA1, NULL,
		    CORP_NOAUD(",\"aud\":\"x\",\"iat\":1699990000"),
		    CG_REASON_TOKEN_TOO_OLD, 0 },
		{ "wrong audience + too deep", "main", K_RSA1, NULL,
		    CORP_NOAUD(ACT1), CG_REASON_AUDIENCE_MISMATCH, 0 },
		{ "too deep + no store", "replay", K_RSA1, NULL,
		    CORP(ACT1 ",\"jti\":\"o1\",\"grp\":\"ok\""),
		    CG_REASON_DELEGATION_TOO_DEEP, 0 },
		{ "no store + forbidden", "replay", K_RSA1, NULL,
		    CORP(",\"jti\":\"o1\",\"grp\":\"no\""),
		    CG_REASON_STORE_UNAVAILABLE, 0 },
		{ "no keys + empty signature", "main", K_RSA1, H_RSA1,
		    BODY(ISS_REMOTE, ""), CG_REASON_KEYS_UNAVAILABLE, 1 },
	};

	(void)state;
	RUN_ROWS(rows);
}

/* ---- details never carry token bytes ------------------------------ */

static void
test_detail_no_token_bytes(void **state)
{
#define M "SECRETMARKER"
	static const struct row rows[] = {
		{ "iss", "main", K_RSA1, NULL, BODY(M, ""),
		    CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "iss prefix of a trusted one", "main", K_RSA1, NULL,
		    BODY(ISS_CORP M, ""), CG_REASON_ISSUER_UNTRUSTED, 0 },
		{ "alg", "main", K_RSA1, "{\"alg\":\"" M "\",\"kid\":\"rsa1\"}",
		    CORP(""), CG_REASON_ALG_NOT_ALLOWED, 0 },
		{ "typ", "main", K_RSA1, H_RSA1_WITH(",\"typ\":\"" M "\""),
		    BODY(ISS_TYPED, ""), CG_REASON_TYP_NOT_ALLOWED, 0 },
		{ "kid", "main", K_RSA1,
		    "{\"alg\":\"RS256\",\"kid\":\"" M "\"}",
		    CORP(""), CG_REASON_KEY_NOT_FOUND, 0 },
		{ "kid, bad signature", "main", K_STRAY,
		    "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x\":\"" M "\"}",
		    CORP_NOSUB(",\"sub\":\"" M "\""),
		    CG_REASON_SIGNATURE_INVALID, 0 },
		{ "crit", "main", K_RSA1, H_RSA1_WITH(",\"crit\":[\"" M "\"]"),
		    CORP(""), CG_REASON_CRIT_UNSUPPORTED, 0 },
		{ "sub an object", "main", K_RSA1, NULL,
		    CORP_NOSUB(",\"sub\":{\"" M "\":1}"),
		    CG_REASON_CLAIM_INVALID, 0 },
		{ "exp a string", "main", K_RSA1, NULL,
		    CORP_NOEXP(",\"exp\":\"" M "\""), CG_REASON_CLAIM_INVALID,
		    0 },
		{ "sub, expired", "main", K_RSA1, NULL,
		    "{\"iss\":\"" ISS_CORP "\",\"sub\":\"" M "\",\"exp\":1}",
		    CG_REASON_TOKEN_EXPIRED, 0 },
		{ "aud", "main", K_RSA1, NULL, CORP_NOAUD(",\"aud\":\"" M "\""),
		    CG_REASON_AUDIENCE_MISMATCH, 0 },
		{ "aud list", "exact", K_RSA1, NULL,
		    CORP_NOAUD(",\"aud\":[\"" AUD "\",\"" M "\"]"),
		    CG_REASON_AUDIENCE_MISMATCH, 0 },
		{ "act", "main", K_RSA1, NULL,
		    CORP(",\"act\":{\"sub\":\"" M "\"}"),
		    CG_REASON_DELEGATION_TOO_DEEP, 0 },
		{ "tid", "req", K_RSA1, NULL, CORP(",\"x\":\"" M "\""),
		    CG_REASON_CLAIM_MISSING, 0 },
		{ "grp", "replay", K_RSA1, NULL,
		    CORP(",\"jti\":\"" M "\",\"grp\":\"" M "\""),
		    CG_REASON_STORE_UNAVAILABLE, 0 },
		{ "duplicate", "main", K_RSA1, NULL,
		    CORP(",\"" M "\":1,\"" M "\":2"), CG_REASON_TOKEN_MALFORMED,
		    0 },
		{ "bad JSON", "main", K_RSA1, NULL, "{\"" M "\" " M "}",
		    CG_REASON_TOKEN_MALFORMED, 0 },
		{ "not an object", "main", K_RSA1, NULL, "[\"" M "\"]",
		    CG_REASON_TOKEN_MALFORMED, 0 },
	};
	struct cg_store *st = new_store();
	char *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cg_decision *d;
		char *json;

		t = mint(rows[i].key, rows[i].header, rows[i].payload);
		d = decide_p(fx.pol, rows[i].zone, t, strlen(t), NOW, NULL);
		if (cg_decision_reason(d) != rows[i].want)
			fail_msg("%s: got %s, want %s", rows[i].what,
			    cg_reason_name(cg_decision_reason(d)),
			    cg_reason_name(rows[i].want));
		json = cg_decision_to_json(d);
		if (strstr(cg_decision_detail(d), M) != NULL ||
		    strstr(json, M) != NULL)
			fail_msg("%s: token bytes in %s", rows[i].what, json);
		cg_free(json);
		cg_decision_free(d);
		free(t);
	}
	/* Replayed and forbidden, with a store. */
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"" M "\",\"grp\":\"ok\""));
	for (i = 0; i < 2; i++) {
		struct cg_decision *d = decide_p(fx.pol, "replay", t,
		    strlen(t), NOW, st);
		char *json = cg_decision_to_json(d);

		assert_int_equal(cg_decision_reason(d),
		    i == 0 ? CG_REASON_OK : CG_REASON_REPLAYED);
		if (i == 1 && (strstr(cg_decision_detail(d), M) != NULL ||
				  strstr(json, M) != NULL))
			fail_msg("replayed: token bytes in %s", json);
		cg_free(json);
		cg_decision_free(d);
	}
	free(t);
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"f\",\"grp\":\"" M "\""));
	{
		struct cg_decision *d = decide_p(fx.pol, "replay", t,
		    strlen(t), NOW, st);
		char *json = cg_decision_to_json(d);

		assert_int_equal(cg_decision_reason(d), CG_REASON_FORBIDDEN);
		assert_null(strstr(cg_decision_detail(d), M));
		assert_null(strstr(json, M));
		cg_free(json);
		cg_decision_free(d);
	}
	free(t);
	/* Raw segments that are not base64url of JSON. */
	expect("marker as a token", "main", M "." M "." M,
	    CG_REASON_TOKEN_MALFORMED);
	{
		static const char *const raw[] = { M, M "." M, M ".." M,
			"eyJ" M ".e30.", "e30." M ".x" };
		for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
			struct cg_decision *d = decide_p(fx.pol, "main", raw[i],
			    strlen(raw[i]), NOW, NULL);
			char *json = cg_decision_to_json(d);

			assert_false(cg_decision_allowed(d));
			assert_null(strstr(cg_decision_detail(d), M));
			assert_null(strstr(json, M));
			cg_free(json);
			cg_decision_free(d);
		}
	}
	cg_store_free(st);
#undef M
}

/* ---- cg_decide's own errors ---------------------------------------- */

static void
test_errors(void **state)
{
	static const char one_zone[] =
	    "version: 1\n"
	    "issuers:\n"
	    "  corp: { issuer: \"" ISS_CORP "\", jwks_file: @D@/corp.jwks.json,"
	    " algorithms: [RS256] }\n"
	    "zones:\n"
	    "  only: { audience: \"" AUD "\", accept: [corp] }\n";
	static const char two_zones[] =
	    "version: 1\n"
	    "issuers:\n"
	    "  corp: { issuer: \"" ISS_CORP "\", jwks_file: @D@/corp.jwks.json,"
	    " algorithms: [RS256] }\n"
	    "zones:\n"
	    "  a: { audience: \"" AUD "\", accept: [corp] }\n"
	    "  b: { audience: \"" AUD "\", accept: [corp] }\n";
	struct cg_policy *p1 = parse_policy(one_zone);
	struct cg_policy *p2 = parse_policy(two_zones);
	struct cg_decision *d, *sentinel = (struct cg_decision *)&d;
	struct cg_error err;
	char *t = mint(K_RSA1, NULL, CORP(""));
	size_t len = strlen(t);

	(void)state;
	/* Unknown zone. */
	d = sentinel;
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_decide(fx.pol, "nosuchzone", t, len, NOW, NULL, &d,
			     &err),
	    CG_ERR_NOT_FOUND);
	assert_null(d);
	assert_int_equal(err.code, CG_ERR_NOT_FOUND);
	d = sentinel;
	assert_int_equal(cg_decide(fx.pol, "", t, len, NOW, NULL, &d, NULL),
	    CG_ERR_NOT_FOUND);
	assert_null(d);
	d = sentinel;
	assert_int_equal(cg_decide(fx.pol, "MAIN", t, len, NOW, NULL, &d,
			     NULL),
	    CG_ERR_NOT_FOUND);
	assert_null(d);
	/* Even for a token that would be denied anyway. */
	d = sentinel;
	assert_int_equal(cg_decide(p1, "nosuchzone", "", 0, NOW, NULL, &d,
			     NULL),
	    CG_ERR_NOT_FOUND);
	assert_null(d);

	/* NULL zone: fine with one zone, an error with two. */
	d = decide_p(p1, NULL, t, len, NOW, NULL);
	assert_int_equal(cg_decision_reason(d), CG_REASON_OK);
	assert_string_equal(cg_decision_zone(d), "only");
	cg_decision_free(d);
	d = decide_p(p1, "only", t, len, NOW, NULL);
	assert_int_equal(cg_decision_reason(d), CG_REASON_OK);
	cg_decision_free(d);
	d = sentinel;
	assert_int_equal(cg_decide(p2, NULL, t, len, NOW, NULL, &d, &err),
	    CG_ERR_NOT_FOUND);
	assert_null(d);
	d = sentinel;
	assert_int_equal(cg_decide(fx.pol, NULL, t, len, NOW, NULL, &d, NULL),
	    CG_ERR_NOT_FOUND);
	assert_null(d);
	d = decide_p(p2, "b", t, len, NOW, NULL);
	assert_int_equal(cg_decision_reason(d), CG_REASON_OK);
	assert_string_equal(cg_decision_zone(d), "b");
	cg_decision_free(d);

	/* Caller bugs. */
	d = sentinel;
	assert_int_equal(cg_decide(NULL, "main", t, len, NOW, NULL, &d, NULL),
	    CG_ERR_ARG);
	assert_true(d == NULL || d == sentinel);
	assert_int_equal(cg_decide(fx.pol, "main", t, len, NOW, NULL, NULL,
			     NULL),
	    CG_ERR_ARG);
	d = sentinel;
	assert_int_equal(cg_decide(fx.pol, "main", NULL, 5, NOW, NULL, &d,
			     NULL),
	    CG_ERR_ARG);
	assert_true(d == NULL || d == sentinel);
	/* claimgate.h: "Out-parameters are set to NULL (or zero) on
	 * failure". cg_decide returns CG_ERR_ARG before `*out = NULL`
	 * (src/decide.c, the first check in cg_decide), so *out keeps
	 * whatever the caller had there. */
	d = sentinel;
	assert_int_equal(cg_decide(NULL, "main", t, len, NOW, NULL, &d, NULL),
	    CG_ERR_ARG);
	assert_null(d);
	d = sentinel;
	assert_int_equal(cg_decide(fx.pol, "main", NULL, 5, NOW, NULL, &d,
			     NULL),
	    CG_ERR_ARG);
	assert_null(d);

	/* The accessors take NULL. */
	cg_decision_free(NULL);
	assert_false(cg_decision_allowed(NULL));
	assert_null(cg_decision_to_json(NULL));
	assert_null(cg_decision_claims(NULL));

	free(t);
	cg_policy_free(p1);
	cg_policy_free(p2);
}

/* ---- allocation failure --------------------------------------------- */

static void
test_alloc_failure(void **state)
{
	char *t = mint(K_RSA1, NULL,
	    CORP(",\"jti\":\"alloc\",\"grp\":\"ok\"" ",\"x\":[1,2,3]"));
	size_t len = strlen(t);
	unsigned long n;
	int nomem = 0, allowed = 0, last_allowed = 0;

	(void)state;
	for (n = 1; n <= 300; n++) {
		struct cg_store *st = new_store();
		struct cg_decision *d = (struct cg_decision *)&n;
		cg_code rc;

		cg__alloc_fail_after(n);
		rc = cg_decide(fx.pol, "replay", t, len, NOW, st, &d, NULL);
		cg__alloc_fail_after(0);
		last_allowed = 0;
		if (rc == CG_ERR_NOMEM) {
			assert_null(d);
			nomem++;
		} else {
			char *c, *json;

			if (rc != CG_OK)
				fail_msg("N=%lu: %s", n, cg_code_name(rc));
			assert_non_null(d);
			check_invariants(d, "replay");
			/* An allow is complete: every trusted claim and the
			 * provenance are there. */
			if (cg_decision_allowed(d)) {
				c = cg_json_dump(cg_decision_claims(d), 0);
				assert_non_null(c);
				assert_string_equal(c, "{\"grp\":\"ok\"}");
				cg_free(c);
				json = cg_decision_to_json(d);
				assert_non_null(json);
				assert_non_null(strstr(json,
				    "\"jti\":\"alloc\",\"token_sha256\":"));
				cg_free(json);
				allowed++;
				last_allowed = 1;
			}
			cg_decision_free(d);
		}
		cg_store_free(st);
	}
	/* The hook did fail allocations, and 300 reaches past the last
	 * one (raise it if cg_decide ever needs more). */
	assert_true(nomem > 0);
	assert_true(allowed > 0);
	assert_true(last_allowed);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_token_missing),
		cmocka_unit_test(test_token_too_large),
		cmocka_unit_test(test_malformed_structure),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_malformed_depth),
		cmocka_unit_test(test_crit),
		cmocka_unit_test(test_issuer_untrusted),
		cmocka_unit_test(test_alg_not_allowed),
		cmocka_unit_test(test_typ_not_allowed),
		cmocka_unit_test(test_keys_unavailable),
		cmocka_unit_test(test_key_not_found),
		cmocka_unit_test(test_signature_invalid),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_detail_no_token_bytes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    decide_fixture_teardown);
}
