/*
 * test_jwk.c - JWK Set loading (src/jwk.c): RFC 7517, RFC 7518 section 6,
 * RFC 8037, RFC 7638 thumbprints, and the skip-with-warning rules of
 * contract section 2 ("Key material") and section 3 ("Keys").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"

/* A 1024-bit RSA public key (too small to be used). */
static const char rsa1024_n[] =
    "23qlIWpKHX1RjkoM9PNP5GcQTDKT7ZyQdTPsH_CzHSj7Q26g8ivMcthlUD2r2XgoxAno8b"
    "YiQtnwStQnEcgqgHWxC9w8LSQcqfNw2Vv6OvHx81VHPZX_hNMjD1qDmbZEP2382F4qNJc"
    "mIrFnZhz_3bicWemX4rU2AtEgPlmt6fE";

/* RFC 7638 section 3.1: the example key and its thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK"
    "7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9y"
    "BXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgn"
    "Yb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZ"
    "u0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKg"
    "w";
static const char rfc7638_jkt[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* RFC 8037 appendix A.2/A.3: Ed25519 public key and its thumbprint. */
static const char rfc8037_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char rfc8037_jkt[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

#define RSA_BITS_ALL                                                           \
	(CG_ALG_BIT(CG_ALG_RS256) | CG_ALG_BIT(CG_ALG_RS384) |                 \
	    CG_ALG_BIT(CG_ALG_RS512) | CG_ALG_BIT(CG_ALG_PS256) |              \
	    CG_ALG_BIT(CG_ALG_PS384) | CG_ALG_BIT(CG_ALG_PS512))

/* Keys made once for the whole file. The RSA key is the RFC 7638
 * example's public key with kid "rsa" (nothing here signs, and RSA
 * generation is slow under valgrind). */
struct rsa_pub {
	char *jwk;
};

struct fixture {
	struct rsa_pub rsa;
	struct cgt_key p256, p384, p521, ed, hs256;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->rsa.jwk = cgt_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\","
			    "\"kid\":\"rsa\"}",
	    rfc7638_n);
	cgt_key_gen(&f->p256, CG_ALG_ES256, "p256", 0);
	cgt_key_gen(&f->p384, CG_ALG_ES384, "p384", 0);
	cgt_key_gen(&f->p521, CG_ALG_ES512, "p521", 0);
	cgt_key_gen(&f->ed, CG_ALG_EDDSA, "ed", 0);
	cgt_key_gen(&f->hs256, CG_ALG_HS256, "hs", 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->rsa.jwk);
	cgt_key_free(&f->p256);
	cgt_key_free(&f->p384);
	cgt_key_free(&f->p521);
	cgt_key_free(&f->ed);
	cgt_key_free(&f->hs256);
	free(f);
	return 0;
}

/* base64url of `n` bytes of value `fill`; free(). */
static char *
b64_fill(size_t n, unsigned char fill)
{
	unsigned char buf[1100];
	assert_true(n <= sizeof(buf));
	memset(buf, fill, n);
	return cgt_b64(buf, n);
}

/* `jwk` with `members` ("\"a\":1,\"b\":2") inserted first; free(). */
static char *
with_members(const char *jwk, const char *members)
{
	assert_int_equal(jwk[0], '{');
	return cgt_fmt("{%s,%s", members, jwk + 1);
}

/* The value of string member `name` in a flat JWK text; free(). */
static char *
member(const char *jwk, const char *name)
{
	char *pat = cgt_fmt("\"%s\":\"", name);
	const char *p = strstr(jwk, pat), *e;
	char *v;

	assert_non_null(p);
	p += strlen(pat);
	e = strchr(p, '"');
	assert_non_null(e);
	v = cgt_fmt("%.*s", (int)(e - p), p);
	free(pat);
	return v;
}

static cg_code
load(const char *doc, size_t len, struct cg_keyset **ks, struct cg_error *err)
{
	char *copy = malloc(len == 0 ? 1 : len); /* exact size for ASan */
	cg_code rc;

	assert_non_null(copy);
	memcpy(copy, doc, len);
	memset(err, 0, sizeof(*err));
	*ks = (struct cg_keyset *)(uintptr_t)1; /* must be overwritten */
	rc = cg_keyset_load_jwks(copy, len, ks, err);
	free(copy);
	if (rc != CG_OK) {
		assert_null(*ks);
		assert_int_equal(err->code, rc);
	} else {
		assert_non_null(*ks);
	}
	return rc;
}

static void
assert_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			fail_msg("unprintable byte 0x%02x", (unsigned char)*s);
}

/* Not JSON, not an object, no `keys` array: CG_ERR_KEYSET. */
static void
test_not_a_jwk_set(void **state)
{
	static const struct {
		const char *doc;
		int has_offset;
	} rows[] = {
		{"not json", 1},
		{"{", 1},
		{"{\"keys\":[}", 1},
		{"{\"keys\":[]} trailing", 1},
		{"", 1},
		{"[]", 1},
		{"[{\"keys\":[]}]", 1},
		{"\"keys\"", 1},
		{"{}", 0},
		{"{\"keys\":{}}", 0},
		{"{\"keys\":\"[]\"}", 0},
		{"{\"keys\":null}", 0},
		{"{\"Keys\":[]}", 0},
		{"{\"keys\":[],\"keys\":[]}", 1},
		{"{\"keys\":[\"\\ud800\"]}", 1},
		{"{\"keys\":[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]}", 1},
	};
	struct cg_keyset *ks;
	struct cg_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = strlen(rows[i].doc);
		if (load(rows[i].doc, len, &ks, &err) != CG_ERR_KEYSET)
			fail_msg("row %zu (%s) not CG_ERR_KEYSET", i,
			    rows[i].doc);
		assert_printable(err.msg);
		assert_non_null(strstr(err.msg, "not a JWK Set"));
		if (rows[i].has_offset)
			assert_true(err.offset <= len);
		else
			assert_int_equal(err.offset, CG_NO_OFFSET);
	}
	/* Exact message for the common case. */
	assert_int_equal(load("{}", 2, &ks, &err), CG_ERR_KEYSET);
	assert_string_equal(err.msg, "not a JWK Set: no \"keys\" array");
	/* Arguments. */
	assert_int_equal(cg_keyset_load_jwks("{}", 2, NULL, &err), CG_ERR_ARG);
	ks = (struct cg_keyset *)(uintptr_t)1;
	assert_int_equal(cg_keyset_load_jwks(NULL, 5, &ks, NULL), CG_ERR_ARG);
	/* err may be NULL. */
	ks = NULL;
	assert_int_equal(cg_keyset_load_jwks("[]", 2, &ks, NULL), CG_ERR_KEYSET);
	assert_null(ks);
	/* Frees and accessors accept NULL. */
	cg_keyset_free(NULL);
	assert_int_equal(cg_keyset_count(NULL), 0);
	assert_int_equal(cg_keyset_warning_count(NULL), 0);
	assert_null(cg_keyset_warning(NULL, 0));
}

/* The document cap: CG_LIMIT_JWKS_BYTES loads, one byte more does not. */
static void
test_size_limit(void **state)
{
	size_t cap = CG_LIMIT_JWKS_BYTES;
	struct cg_keyset *ks;
	struct cg_error err;
	char *doc = malloc(cap + 1);

	(void)state;
	assert_non_null(doc);
	memset(doc, ' ', cap + 1);
	memcpy(doc, "{\"keys\":[]}", 11);
	assert_int_equal(load(doc, cap, &ks, &err), CG_OK);
	cg_keyset_free(ks);
	assert_int_equal(load(doc, cap + 1, &ks, &err), CG_ERR_KEYSET);
	free(doc);
}

/* An empty set loads, with a warning. */
static void
test_empty_set(void **state)
{
	struct cg_keyset *ks;
	struct cg_error err;
	struct cg_key_info info;

	(void)state;
	assert_int_equal(load("{\"keys\":[]}", 11, &ks, &err), CG_OK);
	assert_int_equal(cg_keyset_count(ks), 0);
	assert_int_equal(cg_keyset_warning_count(ks), 1);
	assert_non_null(strstr(cg_keyset_warning(ks, 0), "no usable key"));
	assert_null(cg_keyset_warning(ks, 1));
	assert_int_equal(cg_keyset_key_info(ks, 0, &info), CG_ERR_ARG);
	cg_keyset_free(ks);
	/* Other members beside `keys` are ignored. */
	assert_int_equal(load("{\"x\":1,\"keys\":[]}", 17, &ks, &err), CG_OK);
	cg_keyset_free(ks);
}

struct skip_row {
	const char *name;
	char *jwk;	    /* with kid "bad-<i>" */
	const char *reason; /* substring of the warning */
};

/* Loads {good, bad} and expects bad to be skipped with a warning naming
 * its kid and giving its reason, and good to load. */
static void
expect_skipped(const char *good, const struct skip_row *r, size_t i)
{
	const char *jwks[2];
	struct cg_keyset *ks;
	struct cg_error err;
	struct cg_key_info info;
	char *doc, *want;
	size_t len;

	jwks[0] = r->jwk;
	jwks[1] = good;
	doc = cgt_jwks(jwks, 2);
	len = strlen(doc);
	if (load(doc, len, &ks, &err) != CG_OK)
		fail_msg("%s: set rejected: %s", r->name, err.msg);
	if (cg_keyset_count(ks) != 1)
		fail_msg("%s: %zu keys loaded, want 1", r->name,
		    cg_keyset_count(ks));
	assert_int_equal(cg_keyset_key_info(ks, 0, &info), CG_OK);
	assert_string_equal(info.kid, "good");
	assert_int_equal(cg_keyset_warning_count(ks), 1);
	assert_printable(cg_keyset_warning(ks, 0));
	want = cgt_fmt("key 0 (kid \"bad-%zu\"): skipped: ", i);
	if (strncmp(cg_keyset_warning(ks, 0), want, strlen(want)) != 0 ||
	    strstr(cg_keyset_warning(ks, 0), r->reason) == NULL)
		fail_msg("%s: warning \"%s\", want \"%s...%s\"", r->name,
		    cg_keyset_warning(ks, 0), want, r->reason);
	free(want);
	cg_keyset_free(ks);
	free(doc);
}

static void
test_unusable_keys_skipped(void **state)
{
	struct fixture *f = *state;
	char *x31 = b64_fill(31, 0x42), *y32 = b64_fill(32, 0x42);
	char *k31 = b64_fill(31, 0x07), *k32 = b64_fill(32, 0x07);
	char *k16 = b64_fill(16, 0x07), *k47 = b64_fill(47, 0x07);
	char *ed31 = b64_fill(31, 0x01), *good;
	char *p256_x = member(f->p256.jwk, "x"), *p256_y = member(f->p256.jwk, "y");
	char *rsa_n = member(f->rsa.jwk, "n"), *bad_y;
	struct skip_row rows[40];
	size_t n = 0, i;

	/* Off the curve: one character in the middle of y changed. */
	bad_y = cgt_fmt("%s", p256_y);
	bad_y[20] = bad_y[20] == 'A' ? 'B' : 'A';

#define ROW(nm, why, ...)                                                      \
	do {                                                                   \
		rows[n].name = nm;                                             \
		rows[n].reason = why;                                          \
		rows[n].jwk = cgt_fmt(__VA_ARGS__);                            \
		n++;                                                           \
	} while (0)

	ROW("RSA 1024", "RSA key of 1024 bits (minimum 2048)",
	    "{\"kty\":\"RSA\",\"kid\":\"bad-%zu\",\"n\":\"%s\",\"e\":\"AQAB\"}",
	    n, rsa1024_n);
	ROW("RSA even exponent", "RSA public exponent out of range",
	    "{\"kty\":\"RSA\",\"kid\":\"bad-%zu\",\"n\":\"%s\",\"e\":\"AQAA\"}",
	    n, rsa_n);
	ROW("RSA e = 1", "RSA public exponent out of range",
	    "{\"kty\":\"RSA\",\"kid\":\"bad-%zu\",\"n\":\"%s\",\"e\":\"AQ\"}",
	    n, rsa_n);
	ROW("RSA without n", "member \"n\" missing",
	    "{\"kty\":\"RSA\",\"kid\":\"bad-%zu\",\"e\":\"AQAB\"}", n);
	ROW("RSA n not a string", "member \"n\" is not a string",
	    "{\"kty\":\"RSA\",\"kid\":\"bad-%zu\",\"n\":1,\"e\":\"AQAB\"}", n);
	ROW("RSA n padded", "member \"n\" is not base64url",
	    "{\"kty\":\"RSA\",\"kid\":\"bad-%zu\",\"n\":\"%s==\",\"e\":\"AQAB\"}",
	    n, rsa_n);
	ROW("HMAC 31 bytes", "HMAC key of 31 bytes is shorter than its hash",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"k\":\"%s\"}", n, k31);
	ROW("HMAC 16 bytes", "HMAC key of 16 bytes",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"k\":\"%s\"}", n, k16);
	ROW("HS512 key of 32 bytes", "HMAC key of 32 bytes",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"alg\":\"HS512\",\"k\":\"%s\"}",
	    n, k32);
	ROW("HS384 key of 47 bytes", "HMAC key of 47 bytes",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"alg\":\"HS384\",\"k\":\"%s\"}",
	    n, k47);
	ROW("HMAC empty", "member \"k\" is empty",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"k\":\"\"}", n);
	ROW("unknown kty", "unsupported kty",
	    "{\"kty\":\"DSA\",\"kid\":\"bad-%zu\",\"k\":\"%s\"}", n, k32);
	ROW("kty wrong case", "unsupported kty",
	    "{\"kty\":\"OCT\",\"kid\":\"bad-%zu\",\"k\":\"%s\"}", n, k32);
	ROW("kty missing", "\"kty\" missing or not a string",
	    "{\"kid\":\"bad-%zu\",\"k\":\"%s\"}", n, k32);
	ROW("unknown crv", "unsupported curve for kty EC",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"crv\":\"secp256k1\","
	    "\"x\":\"%s\",\"y\":\"%s\"}",
	    n, p256_x, p256_y);
	ROW("EC with Ed25519", "unsupported curve for kty EC",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"crv\":\"Ed25519\","
	    "\"x\":\"%s\",\"y\":\"%s\"}",
	    n, p256_x, p256_y);
	ROW("OKP with P-256", "unsupported curve for kty OKP",
	    "{\"kty\":\"OKP\",\"kid\":\"bad-%zu\",\"crv\":\"P-256\","
	    "\"x\":\"%s\"}",
	    n, p256_x);
	ROW("OKP X25519", "unsupported curve for kty OKP",
	    "{\"kty\":\"OKP\",\"kid\":\"bad-%zu\",\"crv\":\"X25519\","
	    "\"x\":\"%s\"}",
	    n, p256_x);
	ROW("use enc", "\"use\" is not \"sig\"",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"use\":\"enc\",\"k\":\"%s\"}",
	    n, k32);
	ROW("use not a string", "\"use\" is not \"sig\"",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"use\":[\"sig\"],"
	    "\"k\":\"%s\"}",
	    n, k32);
	ROW("key_ops sign", "\"key_ops\" does not allow \"verify\"",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"key_ops\":[\"sign\"],"
	    "\"k\":\"%s\"}",
	    n, k32);
	ROW("key_ops empty", "\"key_ops\" does not allow \"verify\"",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"key_ops\":[],\"k\":\"%s\"}",
	    n, k32);
	ROW("key_ops a string", "\"key_ops\" does not allow \"verify\"",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"key_ops\":\"verify\","
	    "\"k\":\"%s\"}",
	    n, k32);
	ROW("EC point not on curve", "EC point is not on curve P-256",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"crv\":\"P-256\",\"x\":\"%s\","
	    "\"y\":\"%s\"}",
	    n, p256_x, bad_y);
	ROW("EC x of 31 bytes", "EC coordinates are not 32 bytes",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"crv\":\"P-256\",\"x\":\"%s\","
	    "\"y\":\"%s\"}",
	    n, x31, y32);
	ROW("EC P-256 coordinates on P-384", "EC coordinates are not 48 bytes",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"crv\":\"P-384\",\"x\":\"%s\","
	    "\"y\":\"%s\"}",
	    n, p256_x, p256_y);
	ROW("EC without y", "member \"y\" missing",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"crv\":\"P-256\",\"x\":\"%s\"}",
	    n, p256_x);
	ROW("Ed25519 of 31 bytes", "Ed25519 public key of 31 bytes",
	    "{\"kty\":\"OKP\",\"kid\":\"bad-%zu\",\"crv\":\"Ed25519\","
	    "\"x\":\"%s\"}",
	    n, ed31);
	ROW("RS256 on an EC key", "\"alg\" RS256 does not fit a EC key",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"alg\":\"RS256\","
	    "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
	    n, p256_x, p256_y);
	ROW("ES384 on a P-256 key", "\"alg\" ES384 does not fit",
	    "{\"kty\":\"EC\",\"kid\":\"bad-%zu\",\"alg\":\"ES384\","
	    "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
	    n, p256_x, p256_y);
	ROW("HS256 on an RSA key", "\"alg\" HS256 does not fit a RSA key",
	    "{\"kty\":\"RSA\",\"kid\":\"bad-%zu\",\"alg\":\"HS256\","
	    "\"n\":\"%s\",\"e\":\"AQAB\"}",
	    n, rsa_n);
	ROW("RS256 on an oct key", "\"alg\" RS256 does not fit a oct key",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"alg\":\"RS256\","
	    "\"k\":\"%s\"}",
	    n, k32);
	ROW("alg none", "unsupported \"alg\"",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"alg\":\"none\",\"k\":\"%s\"}",
	    n, k32);
	ROW("alg lower case", "unsupported \"alg\"",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"alg\":\"hs256\","
	    "\"k\":\"%s\"}",
	    n, k32);
	ROW("alg not a string", "\"alg\" is not a string",
	    "{\"kty\":\"oct\",\"kid\":\"bad-%zu\",\"alg\":256,\"k\":\"%s\"}", n,
	    k32);
#undef ROW
	good = cgt_fmt("{\"kty\":\"oct\",\"kid\":\"good\",\"k\":\"%s\"}", k32);
	for (i = 0; i < n; i++)
		expect_skipped(good, &rows[i], i);
	for (i = 0; i < n; i++)
		free(rows[i].jwk);
	free(good);
	free(x31);
	free(y32);
	free(k31);
	free(k32);
	free(k16);
	free(k47);
	free(ed31);
	free(p256_x);
	free(p256_y);
	free(rsa_n);
	free(bad_y);
}

/* Keys without a usable kid, and entries that are not objects. */
static void
test_skipped_without_kid(void **state)
{
	static const char doc[] =
	    "{\"keys\":[\"a string\",42,null,{\"kty\":\"oct\",\"kid\":7,"
	    "\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
	    "{\"kty\":\"oct\",\"k\":\"AAAA\"}]}";
	struct cg_keyset *ks;
	struct cg_error err;

	(void)state;
	assert_int_equal(load(doc, strlen(doc), &ks, &err), CG_OK);
	assert_int_equal(cg_keyset_count(ks), 0);
	/* five skipped keys plus "no usable key" */
	assert_int_equal(cg_keyset_warning_count(ks), 6);
	assert_string_equal(cg_keyset_warning(ks, 0),
	    "key 0 (no kid): skipped: not a JSON object");
	assert_string_equal(cg_keyset_warning(ks, 3),
	    "key 3 (no kid): skipped: \"kid\" is not a string");
	assert_non_null(strstr(cg_keyset_warning(ks, 4), "key 4 (no kid)"));
	assert_non_null(strstr(cg_keyset_warning(ks, 5), "no usable key"));
	cg_keyset_free(ks);
}

/* Private members: a warning, but the (public part of the) key loads. */
static void
test_private_members(void **state)
{
	struct fixture *f = *state;
	const char *jwks[3];
	struct cg_keyset *ks;
	struct cg_key_info info;
	char *rsa_d = with_members(f->rsa.jwk, "\"d\":\"AQAB\",\"p\":\"AQAB\"");
	char *ec_d = with_members(f->p256.jwk, "\"d\":\"AQAB\"");
	char *ed_d = with_members(f->ed.jwk, "\"d\":\"AQAB\"");

	(void)state;
	jwks[0] = rsa_d;
	jwks[1] = ec_d;
	jwks[2] = ed_d;
	ks = cgt_keyset(jwks, 3);
	assert_int_equal(cg_keyset_count(ks), 3);
	assert_int_equal(cg_keyset_warning_count(ks), 3);
	assert_string_equal(cg_keyset_warning(ks, 0),
	    "key 0 (kid \"rsa\"): contains private key members (ignored; "
	    "publish only public keys)");
	assert_non_null(strstr(cg_keyset_warning(ks, 1), "kid \"p256\""));
	assert_non_null(strstr(cg_keyset_warning(ks, 2), "kid \"ed\""));
	assert_int_equal(cg_keyset_key_info(ks, 1, &info), CG_OK);
	assert_string_equal(info.kid, "p256");
	cg_keyset_free(ks);
	free(rsa_d);
	free(ec_d);
	free(ed_d);
}

/* RFC 7638: SHA-256 over the required members in lexicographic order,
 * computed here independently from the JWK text. */
static void
expected_jkt(const char *canon, char out[44])
{
	unsigned char d[32];

	assert_int_equal(cg__sha256(canon, strlen(canon), d), 0);
	cg__b64url_encode(d, sizeof(d), out);
}

static void
test_key_info(void **state)
{
	struct fixture *f = *state;
	char *k32 = b64_fill(32, 0x11), *k48 = b64_fill(48, 0x11);
	char *k64 = b64_fill(64, 0x11);
	char *jwk[12], *canon, *x, *y, want[44];
	struct cg_key_info info;
	struct cg_keyset *ks;
	size_t i;

	jwk[0] = cgt_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\","
			 "\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}",
	    rfc7638_n);
	jwk[1] = cgt_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}",
	    rfc8037_x);
	jwk[2] = cgt_fmt("%s", f->p256.jwk);
	jwk[3] = cgt_fmt("%s", f->p384.jwk);
	jwk[4] = cgt_fmt("%s", f->p521.jwk);
	jwk[5] = cgt_fmt("{\"kty\":\"oct\",\"k\":\"%s\"}", k32);
	jwk[6] = cgt_fmt("{\"kty\":\"oct\",\"k\":\"%s\"}", k48);
	jwk[7] = cgt_fmt("{\"kty\":\"oct\",\"k\":\"%s\",\"kid\":\"o64\"}", k64);
	jwk[8] = cgt_fmt("{\"alg\":\"HS256\",\"k\":\"%s\",\"kty\":\"oct\"}",
	    k64);
	jwk[9] = with_members(f->rsa.jwk, "\"alg\":\"PS384\",\"use\":\"sig\","
					  "\"key_ops\":[\"sign\",\"verify\"]");
	jwk[10] = with_members(f->ed.jwk, "\"alg\":\"EdDSA\"");
	ks = cgt_keyset((const char *const *)jwk, 11);
	assert_int_equal(cg_keyset_count(ks), 11);
	assert_int_equal(cg_keyset_warning_count(ks), 0);

	/* RSA, the RFC 7638 example: its published thumbprint. */
	assert_int_equal(cg_keyset_key_info(ks, 0, &info), CG_OK);
	assert_string_equal(info.kid, "2011-04-29");
	assert_int_equal(info.kty, CG_KTY_RSA);
	assert_string_equal(info.kty_name, "RSA");
	assert_null(info.crv);
	assert_int_equal(info.alg, CG_ALG_RS256);
	assert_int_equal(info.bits, 2048);
	assert_string_equal(info.jkt, rfc7638_jkt);
	assert_int_equal(info.fits, CG_ALG_BIT(CG_ALG_RS256));

	/* Ed25519, the RFC 8037 example. */
	assert_int_equal(cg_keyset_key_info(ks, 1, &info), CG_OK);
	assert_null(info.kid);
	assert_int_equal(info.kty, CG_KTY_OKP);
	assert_string_equal(info.kty_name, "OKP");
	assert_string_equal(info.crv, "Ed25519");
	assert_int_equal(info.alg, CG_ALG_UNKNOWN);
	assert_int_equal(info.bits, 256);
	assert_string_equal(info.jkt, rfc8037_jkt);
	assert_int_equal(info.fits, CG_ALG_BIT(CG_ALG_EDDSA));

	/* EC keys: thumbprint recomputed from x and y. */
	for (i = 2; i <= 4; i++) {
		static const char *const crv[] = {"P-256", "P-384", "P-521"};
		static const unsigned bits[] = {256, 384, 521};
		static const cg_alg alg[] = {CG_ALG_ES256, CG_ALG_ES384,
		    CG_ALG_ES512};
		assert_int_equal(cg_keyset_key_info(ks, i, &info), CG_OK);
		assert_int_equal(info.kty, CG_KTY_EC);
		assert_string_equal(info.kty_name, "EC");
		assert_string_equal(info.crv, crv[i - 2]);
		assert_int_equal(info.bits, bits[i - 2]);
		assert_int_equal(info.fits, CG_ALG_BIT(alg[i - 2]));
		assert_int_equal(info.alg, CG_ALG_UNKNOWN);
		x = member(jwk[i], "x");
		y = member(jwk[i], "y");
		canon = cgt_fmt("{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
				"\"y\":\"%s\"}",
		    crv[i - 2], x, y);
		expected_jkt(canon, want);
		assert_string_equal(info.jkt, want);
		free(canon);
		free(x);
		free(y);
	}

	/* oct: fits by length; the thumbprint covers k and kty. */
	assert_int_equal(cg_keyset_key_info(ks, 5, &info), CG_OK);
	assert_int_equal(info.kty, CG_KTY_OCT);
	assert_string_equal(info.kty_name, "oct");
	assert_null(info.crv);
	assert_int_equal(info.bits, 256);
	assert_int_equal(info.fits, CG_ALG_BIT(CG_ALG_HS256));
	canon = cgt_fmt("{\"k\":\"%s\",\"kty\":\"oct\"}", k32);
	expected_jkt(canon, want);
	assert_string_equal(info.jkt, want);
	free(canon);
	assert_int_equal(cg_keyset_key_info(ks, 6, &info), CG_OK);
	assert_int_equal(info.bits, 384);
	assert_int_equal(info.fits,
	    CG_ALG_BIT(CG_ALG_HS256) | CG_ALG_BIT(CG_ALG_HS384));
	assert_int_equal(cg_keyset_key_info(ks, 7, &info), CG_OK);
	assert_string_equal(info.kid, "o64");
	assert_int_equal(info.bits, 512);
	assert_int_equal(info.fits, CG_ALG_BIT(CG_ALG_HS256) |
		CG_ALG_BIT(CG_ALG_HS384) | CG_ALG_BIT(CG_ALG_HS512));
	/* Its own alg narrows what a key fits; the thumbprint ignores
	 * member order and optional members. */
	assert_int_equal(cg_keyset_key_info(ks, 8, &info), CG_OK);
	assert_int_equal(info.alg, CG_ALG_HS256);
	assert_int_equal(info.fits, CG_ALG_BIT(CG_ALG_HS256));
	{
		struct cg_key_info o64;
		assert_int_equal(cg_keyset_key_info(ks, 7, &o64), CG_OK);
		assert_string_equal(info.jkt, o64.jkt);
	}
	assert_int_equal(cg_keyset_key_info(ks, 9, &info), CG_OK);
	assert_string_equal(info.kid, "rsa");
	assert_int_equal(info.alg, CG_ALG_PS384);
	assert_int_equal(info.fits, CG_ALG_BIT(CG_ALG_PS384));
	assert_int_equal(info.bits, 2048);
	assert_int_equal(cg_keyset_key_info(ks, 10, &info), CG_OK);
	assert_int_equal(info.alg, CG_ALG_EDDSA);

	/* An RSA key without alg fits every RSA algorithm. */
	cg_keyset_free(ks);
	ks = cgt_keyset((const char *const *)&f->rsa.jwk, 1);
	assert_int_equal(cg_keyset_key_info(ks, 0, &info), CG_OK);
	assert_int_equal(info.fits, RSA_BITS_ALL);
	assert_int_equal(info.kty, CG_KTY_RSA);
	/* Out of range and NULL. */
	assert_int_equal(cg_keyset_key_info(ks, 1, &info), CG_ERR_ARG);
	assert_int_equal(cg_keyset_key_info(ks, (size_t)-1, &info), CG_ERR_ARG);
	assert_int_equal(cg_keyset_key_info(NULL, 0, &info), CG_ERR_ARG);
	assert_int_equal(cg_keyset_key_info(ks, 0, NULL), CG_ERR_ARG);
	cg_keyset_free(ks);
	for (i = 0; i <= 10; i++)
		free(jwk[i]);
	free(k32);
	free(k48);
	free(k64);
}

/* A hostile kid in a skipped key: the warning shows it escaped (no raw
 * control bytes, quotes or backslashes) and cut to CG_LIMIT_KID_SHOWN
 * characters. A usable key keeps its kid byte for byte. */
static void
test_hostile_kid(void **state)
{
	char *k16 = b64_fill(16, 0x07), *k32 = b64_fill(32, 0x07);
	char *big = malloc(10 * 1024 + 1), *jwk[3], *doc;
	const char *w, *q;
	struct cg_keyset *ks;
	struct cg_error err;
	struct cg_key_info info;
	size_t as = 0;

	(void)state;
	assert_non_null(big);
	memset(big, 'A', 10 * 1024);
	big[10 * 1024] = '\0';
	jwk[0] = cgt_fmt("{\"kty\":\"oct\",\"kid\":\"a\\u0001b\\u001b[31m\\\"q"
			 "\\\\\\n\xc3\xa9\",\"k\":\"%s\"}",
	    k16);
	jwk[1] = cgt_fmt("{\"kty\":\"oct\",\"kid\":\"%s\",\"k\":\"%s\"}", big,
	    k16);
	jwk[2] = cgt_fmt("{\"kty\":\"oct\",\"kid\":\"%s\\u0007\",\"k\":\"%s\"}",
	    big, k32);
	doc = cgt_jwks((const char *const *)jwk, 3);
	assert_int_equal(load(doc, strlen(doc), &ks, &err), CG_OK);
	assert_int_equal(cg_keyset_count(ks), 1);
	assert_int_equal(cg_keyset_warning_count(ks), 2);

	w = cg_keyset_warning(ks, 0);
	assert_printable(w);
	assert_string_equal(w,
	    "key 0 (kid \"a\\x01b\\x1b[31m\\x22q\\x5c\\x0a\\xc3\\xa9\"): "
	    "skipped: HMAC key of 16 bytes is shorter than its hash");

	w = cg_keyset_warning(ks, 1);
	assert_printable(w);
	assert_true(strlen(w) < 300);
	q = strstr(w, "(kid \"");
	assert_non_null(q);
	for (q += 6; *q == 'A'; q++)
		as++;
	assert_int_equal(as, CG_LIMIT_KID_SHOWN);
	assert_string_equal(q, "...\"): skipped: HMAC key of 16 bytes is "
			       "shorter than its hash");

	/* The usable key keeps the whole kid, control byte included. */
	assert_int_equal(cg_keyset_key_info(ks, 0, &info), CG_OK);
	assert_int_equal(strlen(info.kid), 10 * 1024 + 1);
	assert_int_equal(info.kid[10 * 1024], '\a');
	cg_keyset_free(ks);
	free(doc);
	free(jwk[0]);
	free(jwk[1]);
	free(jwk[2]);
	free(big);
	free(k16);
	free(k32);
}

/* CG_LIMIT_KEYS_PER_SET keys load; the next is skipped with a warning. */
static void
test_key_count_limit(void **state)
{
	size_t n, i;

	(void)state;
	for (n = CG_LIMIT_KEYS_PER_SET; n <= CG_LIMIT_KEYS_PER_SET + 1; n++) {
		char **jwk = calloc(n, sizeof(*jwk)), *doc;
		struct cg_keyset *ks;
		struct cg_error err;
		struct cg_key_info info;

		assert_non_null(jwk);
		for (i = 0; i < n; i++) {
			unsigned char k[32];
			char *kb;
			memset(k, (int)(i & 0xff), sizeof(k));
			k[0] = (unsigned char)(i >> 8);
			kb = cgt_b64(k, sizeof(k));
			jwk[i] = cgt_fmt("{\"kty\":\"oct\",\"kid\":\"k%zu\","
					 "\"k\":\"%s\"}",
			    i, kb);
			free(kb);
		}
		doc = cgt_jwks((const char *const *)jwk, n);
		assert_int_equal(load(doc, strlen(doc), &ks, &err), CG_OK);
		assert_int_equal(cg_keyset_count(ks), CG_LIMIT_KEYS_PER_SET);
		assert_int_equal(cg_keyset_key_info(ks,
				     CG_LIMIT_KEYS_PER_SET - 1, &info),
		    CG_OK);
		assert_string_equal(info.kid, "k999");
		if (n == CG_LIMIT_KEYS_PER_SET) {
			assert_int_equal(cg_keyset_warning_count(ks), 0);
		} else {
			assert_int_equal(cg_keyset_warning_count(ks), 1);
			assert_string_equal(cg_keyset_warning(ks, 0),
			    "key 1000 (no kid): skipped: too many keys");
		}
		cg_keyset_free(ks);
		free(doc);
		for (i = 0; i < n; i++)
			free(jwk[i]);
		free(jwk);
	}
}

/* Allocation failure anywhere while loading a 3-key set (N = 1..200):
 * CG_OK or CG_ERR_NOMEM (with nothing), never a crash or a leak (ASan and
 * valgrind watch). */
static void
test_allocation_failure(void **state)
{
	struct fixture *f = *state;
	const char *jwks[3];
	char *doc;
	/* A 3-key load makes about 15 allocations of its own; under
	 * valgrind 60 is plenty and keeps the run short. */
	unsigned long n, max_n = cgt_under_valgrind() ? 60 : 200;
	int saw_nomem = 0, saw_ok = 0;
	size_t len;

	jwks[0] = f->rsa.jwk;
	jwks[1] = f->p256.jwk;
	jwks[2] = f->hs256.jwk;
	doc = cgt_jwks(jwks, 3);
	len = strlen(doc);
	for (n = 1; n <= max_n; n++) {
		struct cg_keyset *ks = NULL;
		struct cg_error err;
		cg_code rc;

		memset(&err, 0, sizeof(err));
		cg__alloc_fail_after(n);
		rc = cg_keyset_load_jwks(doc, len, &ks, &err);
		cg__alloc_fail_after(0);
		if (rc == CG_ERR_NOMEM) {
			saw_nomem = 1;
			assert_null(ks);
			assert_int_equal(err.code, CG_ERR_NOMEM);
			continue;
		}
		if (rc != CG_OK)
			fail_msg("failing allocation %lu: %s (%s)", n,
			    cg_code_name(rc), err.msg);
		saw_ok = 1;
		assert_non_null(ks);
		/* An allocation failure must not turn into a silently
		 * skipped key: a CG_OK set is the whole set. */
		if (cg_keyset_count(ks) != 3)
			fail_msg("failing allocation %lu: CG_OK with %zu keys "
				 "(%s)",
			    n, cg_keyset_count(ks),
			    cg_keyset_warning_count(ks) > 0
				? cg_keyset_warning(ks, 0)
				: "no warning");
		cg_keyset_free(ks);
	}
	assert_true(saw_nomem);
	assert_true(saw_ok);
	free(doc);
}

/* cg_keyset_load_file: the file's bytes, IO errors naming the file. */
static void
test_load_file(void **state)
{
	struct fixture *f = *state;
	const char *tmp = getenv("TMPDIR");
	char *dir = cgt_fmt("%s/cg-jwk-XXXXXX", tmp != NULL ? tmp : "/tmp");
	char *path, *doc;
	struct cg_keyset *ks;
	struct cg_error err;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	path = cgt_fmt("%s/keys.json", dir);
	doc = cgt_jwks((const char *const *)&f->p256.jwk, 1);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(doc, 1, strlen(doc), fp), strlen(doc));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cg_keyset_load_file(path, &ks, &err), CG_OK);
	assert_int_equal(cg_keyset_count(ks), 1);
	cg_keyset_free(ks);
	/* Not a JWK Set: the message names the file. */
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("{\"nokeys\":1}", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cg_keyset_load_file(path, &ks, &err), CG_ERR_KEYSET);
	assert_null(ks);
	assert_non_null(strstr(err.msg, "keys.json"));
	assert_int_equal(unlink(path), 0);
	/* Missing. */
	assert_int_equal(cg_keyset_load_file(path, &ks, &err), CG_ERR_IO);
	assert_null(ks);
	assert_non_null(strstr(err.msg, "keys.json"));
	assert_int_equal(cg_keyset_load_file(NULL, &ks, &err), CG_ERR_ARG);
	assert_int_equal(rmdir(dir), 0);
	free(path);
	free(dir);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_a_jwk_set),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_unusable_keys_skipped),
		cmocka_unit_test(test_skipped_without_kid),
		cmocka_unit_test(test_private_members),
		cmocka_unit_test(test_key_info),
		cmocka_unit_test(test_hostile_kid),
		cmocka_unit_test(test_key_count_limit),
		cmocka_unit_test(test_allocation_failure),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
