/*
 * test_rfc.c - the published JOSE examples, verified by claimgate:
 * RFC 7515 appendix A.1 (HS256), A.2 (RS256), A.3 (ES256), A.4 (ES512);
 * RFC 8037 appendix A.4 (Ed25519, key of A.1/A.2); RFC 7638 section 3.1
 * (thumbprint); RFC 7520 sections 4.1-4.4 (ietf-jose/cookbook files).
 *
 * Tokens and keys are typed in exactly as the RFCs print them (base64url
 * lines joined). A wrong character would make the signature, or the
 * thumbprint, fail to verify, so the tests below are also the check that
 * the constants are right.
 *
 * For each vector: the key loads (private members are ignored with a
 * warning), the signature verifies with only the vector's algorithm
 * allowed, is refused with CG_ERR_ALG when that algorithm is not allowed,
 * and a one-byte change of the signature (first and last byte) fails with
 * CG_ERR_SIGNATURE.
 *
 * Where the payload is a JSON object (RFC 7515 A.1-A.3, a JWT claims set
 * with "\r\n" line breaks) the token path runs: cg_token_parse +
 * cg_token_verify. RFC 7515 A.4 ("Payload"), RFC 8037 A.4 ("Example of
 * Ed25519 signing") and RFC 7520 (a Tolkien quote) sign text, which the
 * token parser refuses as not a JWT (CG_ERR_JSON, asserted); they run
 * through the JWS layer (jws_layer_verify, tests/support/jws_layer.h),
 * the token path's own checks with the payload treated as opaque bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cgtest.h"
#include "internal.h"
#include "jws_layer.h"

/* ---------------------------------------------------------------------
 * RFC 7515 appendix A.1: HMAC SHA-256. Header {"typ":"JWT",\r\n
 * "alg":"HS256"}, payload {"iss":"joe",\r\n "exp":1300819380,\r\n
 * "http://example.com/is_root":true}.
 */
#define RFC7515_A1_K                                                   \
	"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4h" \
	"cgUuTwjAzZr1Z9CAow"

static const char rfc7515_a1_jwk[] =
    "{\"kty\":\"oct\",\"k\":\"" RFC7515_A1_K "\"}";

static const char rfc7515_a1_jws[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/* RFC 7515 appendix A.2: RSASSA-PKCS1-v1_5 SHA-256. The RFC gives the
 * private key; its public members n and e are used. */
static const char rfc7515_a2_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\""
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
    "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
    "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
    "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
    "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
    "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
    "\",\"e\":\"AQAB\"}";

static const char rfc7515_a2_jws[] =
    "eyJhbGciOiJSUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

/* RFC 7515 appendix A.3: ECDSA P-256 SHA-256, the private JWK as printed
 * (with d). */
static const char rfc7515_a3_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
    "\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}";

static const char rfc7515_a3_jws[] =
    "eyJhbGciOiJFUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

/* RFC 7515 appendix A.4: ECDSA P-521 SHA-512, payload "Payload". */
static const char rfc7515_a4_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-521\","
    "\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_"
    "NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk\","
    "\"y\":\"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDl"
    "y79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2\","
    "\"d\":\"AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPA"
    "xerEzgdRhajnu0ferB0d53vM9mE15j2C\"}";

static const char rfc7515_a4_jws[] =
    "eyJhbGciOiJFUzUxMiJ9"
    "."
    "UGF5bG9hZA"
    "."
    "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZq"
    "wqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8Kp"
    "EHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

/* RFC 8037 appendix A.1 (private key, with d) / A.2 (public x), and the
 * JWS of A.4: {"alg":"EdDSA"}, payload "Example of Ed25519 signing". */
static const char rfc8037_jwk[] =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";

static const char rfc8037_a4_jws[] =
    "eyJhbGciOiJFZERTQSJ9"
    "."
    "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    "."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
    "hVsPt9g7sVvpAr_MuM0KAg";

/* RFC 7638 section 3.1: the key and its SHA-256 thumbprint. */
static const char rfc7638_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\""
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbf"
    "AAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj"
    "hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65"
    "YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ"
    "vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lF"
    "d2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzK"
    "nqDKgw"
    "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";

static const char rfc7638_thumbprint[] =
    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* The token path: parse, then verify. */
static cg_code
token_verify(const char *jws, const struct cg_keyset *ks, cg_alg_set allowed,
    size_t *key_index)
{
	struct cg_token *t = NULL;
	struct cg_error err;
	cg_code rc;

	rc = cg_token_parse(jws, strlen(jws), 0, &t, &err);
	if (rc != CG_OK)
		return rc;
	rc = cg_token_verify(t, ks, allowed, key_index, &err);
	cg_token_free(t);
	return rc;
}

/* `jws` with byte `at` of its decoded signature xor-ed with 0x01. */
static char *
flip_signature_byte(const char *jws, size_t at)
{
	const char *dot = strrchr(jws, '.');
	size_t slen = strlen(dot + 1), siglen, bad, prefix;
	unsigned char *sig;
	char *enc, *out;

	assert_non_null(dot);
	sig = malloc(cg__b64url_decoded_len(slen) + 1);
	assert_non_null(sig);
	assert_int_equal(cg__b64url_decode(dot + 1, slen, sig, &siglen, &bad),
	    CG_OK);
	assert_true(at < siglen);
	sig[at] ^= 0x01;
	enc = cgt_b64(sig, siglen);
	prefix = (size_t)(dot - jws);
	out = cgt_fmt("%.*s.%s", (int)prefix, jws, enc);
	free(enc);
	free(sig);
	return out;
}

/* Size of the decoded signature of `jws`. */
static size_t
signature_len(const char *jws)
{
	const char *dot = strrchr(jws, '.');

	assert_non_null(dot);
	return cg__b64url_decoded_len(strlen(dot + 1));
}

/* Verifies with the token path (jwt) or the JWS layer (!jwt). */
static cg_code
verify_any(int jwt, const char *jws, const struct cg_keyset *ks,
    cg_alg_set allowed, size_t *key_index)
{
	return jwt ? token_verify(jws, ks, allowed, key_index)
		   : jws_layer_verify(jws, strlen(jws), ks, allowed,
			 key_index);
}

/*
 * The checks every vector gets. `jwk` is one JWK; `jwt` says whether the
 * payload is a JSON object (token path) or not (JWS layer); `private_jwk`
 * whether the JWK carries private members the loader must warn about.
 */
static void
check_vector(const char *name, const char *jwk, const char *jws, cg_alg alg,
    int jwt, int private_jwk)
{
	const char *const jwks[] = {jwk};
	struct cg_keyset *ks = cgt_keyset(jwks, 1);
	struct cg_token *t = NULL;
	struct cg_error err;
	size_t idx = 99, n, at;
	char *bad;

	print_message("%s (%s, %s)\n", name, cg_alg_name(alg),
	    jwt ? "token path" : "JWS layer");
	assert_int_equal(cg_keyset_count(ks), 1);
	if (private_jwk) {
		/* The loader ignores d, p, q, ... and says so. */
		assert_true(cg_keyset_warning_count(ks) >= 1);
		assert_non_null(strstr(cg_keyset_warning(ks, 0), "private"));
	} else {
		assert_int_equal(cg_keyset_warning_count(ks), 0);
	}

	if (jwt) {
		assert_int_equal(cg_token_parse(jws, strlen(jws), 0, &t, &err),
		    CG_OK);
		assert_int_equal(cg_token_alg(t), alg);
		cg_token_free(t);
	} else {
		/* Not a JWT: the token parser refuses the payload. */
		assert_int_equal(cg_token_parse(jws, strlen(jws), 0, &t, &err),
		    CG_ERR_JSON);
		assert_null(t);
	}

	/* Verifies with exactly its algorithm allowed, and with all. */
	assert_int_equal(verify_any(jwt, jws, ks, CG_ALG_BIT(alg), &idx),
	    CG_OK);
	assert_int_equal(idx, 0);
	assert_int_equal(verify_any(jwt, jws, ks, CG_ALG_ALL, NULL), CG_OK);
	/* Refused when its algorithm is not allowed. */
	assert_int_equal(verify_any(jwt, jws, ks, CG_ALG_ALL & ~CG_ALG_BIT(alg),
			     NULL),
	    CG_ERR_ALG);
	/* The JWS layer agrees with the token path on a JWT. */
	if (jwt)
		assert_int_equal(jws_layer_verify(jws, strlen(jws), ks,
				     CG_ALG_BIT(alg), NULL),
		    CG_OK);

	/* A one-byte change of the signature, first and last byte. */
	n = signature_len(jws);
	for (at = 0; at < n; at += n - 1) {
		bad = flip_signature_byte(jws, at);
		assert_int_equal(verify_any(jwt, bad, ks, CG_ALG_BIT(alg),
				     NULL),
		    CG_ERR_SIGNATURE);
		if (jwt)
			assert_int_equal(jws_layer_verify(bad, strlen(bad), ks,
					     CG_ALG_BIT(alg), NULL),
			    CG_ERR_SIGNATURE);
		free(bad);
	}
	cg_keyset_free(ks);
}

/* ---------------------------------------------------------------------
 * RFC 7515, RFC 8037, RFC 7638
 */
static void
test_rfc7515_a1_hs256(void **state)
{
	(void)state;
	check_vector("RFC 7515 A.1", rfc7515_a1_jwk, rfc7515_a1_jws,
	    CG_ALG_HS256, 1, 0);
}

static void
test_rfc7515_a2_rs256(void **state)
{
	(void)state;
	check_vector("RFC 7515 A.2", rfc7515_a2_jwk, rfc7515_a2_jws,
	    CG_ALG_RS256, 1, 0);
}

static void
test_rfc7515_a3_es256(void **state)
{
	(void)state;
	check_vector("RFC 7515 A.3", rfc7515_a3_jwk, rfc7515_a3_jws,
	    CG_ALG_ES256, 1, 1);
}

static void
test_rfc7515_a4_es512(void **state)
{
	(void)state;
	check_vector("RFC 7515 A.4", rfc7515_a4_jwk, rfc7515_a4_jws,
	    CG_ALG_ES512, 0, 1);
}

static void
test_rfc8037_a4_ed25519(void **state)
{
	(void)state;
	check_vector("RFC 8037 A.4", rfc8037_jwk, rfc8037_a4_jws,
	    CG_ALG_EDDSA, 0, 1);
}

/* The RFC 7515 A.1 HMAC key is 64 bytes: without an `alg` member it fits
 * HS256, HS384 and HS512 (RFC 7518 3.2: a key at least the hash size);
 * with "alg":"HS256" it fits HS256 only. */
static void
test_rfc7515_a1_key_fits(void **state)
{
	const char *const jwks[] = {rfc7515_a1_jwk,
	    "{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"" RFC7515_A1_K "\"}"};
	struct cg_keyset *ks = cgt_keyset(jwks, 2);
	struct cg_key_info info;

	(void)state;
	assert_int_equal(cg_keyset_count(ks), 2);
	assert_int_equal(cg_keyset_key_info(ks, 0, &info), CG_OK);
	assert_int_equal(info.kty, CG_KTY_OCT);
	assert_int_equal(info.bits, 512);
	assert_int_equal(info.fits,
	    CG_ALG_BIT(CG_ALG_HS256) | CG_ALG_BIT(CG_ALG_HS384) |
		CG_ALG_BIT(CG_ALG_HS512));
	assert_int_equal(cg_keyset_key_info(ks, 1, &info), CG_OK);
	assert_int_equal(info.alg, CG_ALG_HS256);
	assert_int_equal(info.fits, CG_ALG_BIT(CG_ALG_HS256));
	cg_keyset_free(ks);
}

static void
test_rfc7638_thumbprint(void **state)
{
	const char *const jwks[] = {rfc7638_jwk};
	struct cg_keyset *ks = cgt_keyset(jwks, 1);
	struct cg_key_info info;

	(void)state;
	assert_int_equal(cg_keyset_count(ks), 1);
	assert_int_equal(cg_keyset_key_info(ks, 0, &info), CG_OK);
	assert_int_equal(info.kty, CG_KTY_RSA);
	assert_int_equal(info.bits, 2048);
	assert_int_equal(info.alg, CG_ALG_RS256);
	assert_string_equal(info.kid, "2011-04-29");
	/* Only e, kty, n enter the thumbprint (RFC 7638 3.2). */
	assert_string_equal(info.jkt, rfc7638_thumbprint);
	cg_keyset_free(ks);
}

/* ---------------------------------------------------------------------
 * RFC 7520 sections 4.1-4.4 from the ietf-jose cookbook: the compact
 * serialization output, verified with the public key from jwk/ and again
 * with the private key file (whose private members are ignored).
 */
struct cookbook {
	const char *jws_file;
	const char *public_jwk;
	const char *private_jwk; /* NULL: no private variant (oct) */
	cg_alg alg;
};

static const struct cookbook cookbooks[] = {
	{"4_1.rsa_v15_signature.json", "3_3.rsa_public_key.json",
	    "3_4.rsa_private_key.json", CG_ALG_RS256},
	{"4_2.rsa-pss_signature.json", "3_3.rsa_public_key.json",
	    "3_4.rsa_private_key.json", CG_ALG_PS384},
	{"4_3.ecdsa_signature.json", "3_1.ec_public_key.json",
	    "3_2.ec_private_key.json", CG_ALG_ES512},
	{"4_4.hmac-sha2_integrity_protection.json",
	    "3_5.symmetric_key_mac_computation.json", NULL, CG_ALG_HS256},
};

static json_t *
load_cookbook(const char *dir, const char *file)
{
	char *rel = cgt_fmt("vectors/jose-cookbook/%s/%s", dir, file);
	char *path = cgt_shared_path(rel);
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
	free(rel);
	free(path);
	return root;
}

static void
test_rfc7520(void **state)
{
	const struct cookbook *cb = *state;
	json_t *doc = load_cookbook("jws", cb->jws_file);
	json_t *input = json_object_get(doc, "input");
	const char *jws = json_string_value(
	    json_object_get(json_object_get(doc, "output"), "compact"));
	const char *alg = json_string_value(json_object_get(input, "alg"));
	const char *kid = json_string_value(
	    json_object_get(json_object_get(input, "key"), "kid"));
	json_t *key = load_cookbook("jwk", cb->public_jwk);
	char *jwk = json_dumps(key, JSON_COMPACT);

	assert_non_null(jws);
	assert_non_null(jwk);
	/* The table names the right algorithm and key file. */
	assert_string_equal(alg, cg_alg_name(cb->alg));
	assert_string_equal(json_string_value(json_object_get(key, "kid")),
	    kid);
	check_vector(cb->jws_file, jwk, jws, cb->alg, 0, 0);
	free(jwk);
	json_decref(key);
	if (cb->private_jwk != NULL) {
		key = load_cookbook("jwk", cb->private_jwk);
		jwk = json_dumps(key, JSON_COMPACT);
		assert_non_null(jwk);
		check_vector(cb->private_jwk, jwk, jws, cb->alg, 0, 1);
		free(jwk);
		json_decref(key);
	}
	json_decref(doc);
}

#define COOKBOOK(i)                                                    \
	{.name = cookbooks[i].jws_file,                                \
	    .test_func = test_rfc7520,                                 \
	    .initial_state = (void *)&cookbooks[i]}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7515_a1_hs256),
		cmocka_unit_test(test_rfc7515_a1_key_fits),
		cmocka_unit_test(test_rfc7515_a2_rs256),
		cmocka_unit_test(test_rfc7515_a3_es256),
		cmocka_unit_test(test_rfc7515_a4_es512),
		cmocka_unit_test(test_rfc8037_a4_ed25519),
		cmocka_unit_test(test_rfc7638_thumbprint),
		COOKBOOK(0),
		COOKBOOK(1),
		COOKBOOK(2),
		COOKBOOK(3),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
