/*
 * test_jws.c - compact JWS parsing and verification, per algorithm.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cgtest.h"
#include "internal.h"

static const char *const payload =
    "{\"iss\":\"https://"
    "sso.example.com\",\"sub\":\"alice\",\"exp\":2000000000}";

/* Every algorithm: a fresh key signs, claimgate verifies; flipping any
 * byte of the signing input or signature never verifies. */
static void
test_roundtrip_all_algs(void **state)
{
	int a;

	(void)state;
	for (a = CG_ALG_RS256; a <= CG_ALG_HS512; a++) {
		struct cgt_key k;
		struct cg_keyset *ks;
		struct cg_token *t;
		struct cg_error err;
		size_t idx = 99, len, i;
		char *tok;

		cgt_key_gen(&k, (cg_alg)a, "k1", 0);
		ks = cgt_keyset((const char *const *)&k.jwk, 1);
		assert_int_equal(cg_keyset_count(ks), 1);
		tok = cgt_mint_simple(&k, "k1", payload);
		len = strlen(tok);
		assert_int_equal(cg_token_parse(tok, len, 0, &t, &err), CG_OK);
		assert_int_equal(cg_token_alg(t), a);
		assert_int_equal(
		    cg_token_verify(t, ks, CG_ALG_ALL, &idx, &err), CG_OK);
		assert_int_equal(idx, 0);
		/* Not in the allow-list. */
		assert_int_equal(cg_token_verify(t, ks,
		                     CG_ALG_ALL & ~CG_ALG_BIT(a), NULL, &err),
		    CG_ERR_ALG);
		cg_token_free(t);
		/* Flip one bit in every byte position (skipping the dots); the
		 * result must never verify. */
		for (i = 0; i < len; i += cgt_sample_step()) {
			char saved = tok[i];
			cg_code rc;
			if (saved == '.')
				continue;
			tok[i] = saved == 'A' ? 'B' : 'A';
			rc = cg_token_parse(tok, len, 0, &t, &err);
			if (rc == CG_OK) {
				rc = cg_token_verify(
				    t, ks, CG_ALG_ALL, NULL, &err);
				cg_token_free(t);
			}
			assert_int_not_equal(rc, CG_OK);
			tok[i] = saved;
		}
		free(tok);
		cg_keyset_free(ks);
		cgt_key_free(&k);
	}
}

static void *
hash_of_shared(void *arg)
{
	return (void *)(uintptr_t)cg_token_sha256_hex(arg);
}

/* The token's SHA-256 is computed on first use; threads that ask at once
 * get the one result, equal to the hash of the token's bytes. */
static void
test_sha256_lazy_and_shared(void **state)
{
	struct cgt_key k;
	struct cg_token *t;
	struct cg_error err;
	pthread_t th[8];
	unsigned char want[32];
	char hex[65];
	void *got[8];
	char *tok;
	size_t i;

	(void)state;
	cgt_key_gen(&k, CG_ALG_HS256, "k1", 0);
	tok = cgt_mint_simple(&k, "k1", payload);
	assert_int_equal(cg__sha256(tok, strlen(tok), want), 0);
	cg__hex(want, sizeof(want), hex);
	for (int round = 0; round < 20; round++) {
		assert_int_equal(
		    cg_token_parse(tok, strlen(tok), 0, &t, &err), CG_OK);
		for (i = 0; i < 8; i++)
			assert_int_equal(
			    pthread_create(&th[i], NULL, hash_of_shared, t), 0);
		for (i = 0; i < 8; i++)
			assert_int_equal(pthread_join(th[i], &got[i]), 0);
		for (i = 0; i < 8; i++) {
			assert_ptr_equal(got[i], got[0]);
			assert_string_equal(got[i], hex);
		}
		assert_ptr_equal(cg_token_sha256_hex(t), got[0]);
		cg_token_free(t);
	}
	free(tok);
	cgt_key_free(&k);
}

/* HMAC with every key length class of RFC 2104 (shorter than, equal to
 * and longer than the digest's block, which is hashed first) agrees with
 * OpenSSL's own HMAC, and a tag from a key one byte different fails. */
static void
test_hmac_key_lengths(void **state)
{
	static const char *const mds[] = {"SHA256", "SHA384", "SHA512"};
	static const size_t lens[] = {64, 65, 127, 128, 129, 200, 1024};
	size_t a, l;

	(void)state;
	for (a = 0; a < 3; a++) {
		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			unsigned char key[1024], tag[64];
			size_t taglen = 0, i;
			char *hdr, *body, *input, *k64, *jwk, *tok, *sig;
			struct cg_keyset *ks;
			struct cg_token *t;
			struct cg_error err;
			cg_code want;
			int bad;

			for (i = 0; i < lens[l]; i++)
				key[i] = (unsigned char)(i * 7 + a + l);
			hdr = cgt_fmt(
			    "{\"alg\":\"HS%zu\",\"kid\":\"k\"}", 256 + 128 * a);
			body = cgt_b64(payload, strlen(payload));
			k64 = cgt_b64(hdr, strlen(hdr));
			input = cgt_fmt("%s.%s", k64, body);
			free(k64);
			for (bad = 0; bad < 2; bad++) {
				key[0] ^= (unsigned char)bad;
				assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL,
				    mds[a], NULL, key, lens[l],
				    (const unsigned char *)input, strlen(input),
				    tag, sizeof(tag), &taglen));
				key[0] ^= (unsigned char)bad;
				sig = cgt_b64(tag, taglen);
				tok = cgt_fmt("%s.%s", input, sig);
				k64 = cgt_b64(key, lens[l]);
				jwk = cgt_fmt("{\"kty\":\"oct\",\"kid\":\"k\","
				              "\"k\":\"%s\"}",
				    k64);
				ks = cgt_keyset((const char *const *)&jwk, 1);
				assert_int_equal(cg_keyset_count(ks), 1);
				assert_int_equal(cg_token_parse(tok,
				                     strlen(tok), 0, &t, &err),
				    CG_OK);
				want = bad ? CG_ERR_SIGNATURE : CG_OK;
				assert_int_equal(cg_token_verify(t, ks,
				                     CG_ALG_ALL, NULL, &err),
				    want);
				cg_token_free(t);
				cg_keyset_free(ks);
				free(jwk);
				free(k64);
				free(tok);
				free(sig);
			}
			free(input);
			free(body);
			free(hdr);
		}
	}
}

/* A typical access token (the benchmark's: typ at+jwt, kid, ten claims
 * with an audience array and a scope) fits the first arena block that
 * comes with the token's one allocation: its footprint (what the
 * verified-token cache charges) stays near the token's own size. A
 * token of a thousand tiny values still parses, with more blocks. */
static void
test_token_one_block(void **state)
{
	static const char claims[] =
	    "{\"iss\":\"https://sso.example.com\",\"sub\":\"user-1234\","
	    "\"aud\":[\"https://api.example.com/payments\","
	    "\"https://api.example.com/orders\"],\"exp\":2000000840,"
	    "\"nbf\":1999999940,\"iat\":1999999940,"
	    "\"jti\":\"8d3b2c2e-4f1a-4b7e-9a6c-5e2f1d0c3b4a\","
	    "\"scope\":\"openid profile email payments:read payments:write "
	    "orders:read\",\"tid\":\"acme-eu-1\","
	    "\"client_id\":\"web-checkout-7d2c\"}";
	struct cgt_key k;
	struct cg_token *t;
	struct cg_error err;
	char *tok, *many;
	size_t len, sl, i, o;

	(void)state;
	cgt_key_gen(&k, CG_ALG_RS256, "k1", 0);
	tok = cgt_mint(&k,
	    "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}", claims);
	len = strlen(tok);
	assert_int_equal(cg_token_parse(tok, len, 0, &t, &err), CG_OK);
	/* One block: struct (< 512) + block (3 per signing byte + 512 and
	 * a header under 48) + the token + the signature (256). A second
	 * block would add at least 3 per signing byte again. */
	sl = (size_t)(strrchr(tok, '.') - tok);
	assert_true(
	    cg__token_footprint(t) <= 512 + 3 * sl + 560 + len + 1 + 256);
	cg_token_free(t);
	free(tok);
	/* {"a":[0,0,0,...]}: 48-byte nodes for every 2 bytes. */
	many = malloc(2 * 1000 + 16);
	assert_non_null(many);
	o = (size_t)sprintf(many, "{\"a\":[0");
	for (i = 1; i < 1000; i++)
		o += (size_t)sprintf(many + o, ",0");
	sprintf(many + o, "]}");
	tok = cgt_mint(&k, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", many);
	assert_int_equal(cg_token_parse(tok, strlen(tok), 0, &t, &err), CG_OK);
	assert_int_equal(cg_json_array_size(cg_token_claim(t, "a")), 1000);
	assert_true(cg__token_footprint(t) > 48 * 1000);
	cg_token_free(t);
	free(tok);
	free(many);
	cgt_key_free(&k);
}

/* Claims by name: registered names come from the lookup made at parse
 * time, others are compared length first; both give what a scan of the
 * object would, for present, absent and look-alike names. */
static void
test_claim_lookup(void **state)
{
	static const char claims[] =
	    "{\"iss\":\"i\",\"tid\":\"x\",\"ti\":\"y\",\"tidd\":\"z\","
	    "\"\":\"e\",\"Sub\":\"S\",\"act\":{\"sub\":\"a\"},"
	    "\"exp\":5,\"scope\":\"s\",\"scopf\":\"t\"}";
	static const struct {
		const char *name, *want; /* want NULL: absent */
	} rows[] = {{"iss", "i"}, {"tid", "x"}, {"ti", "y"}, {"tidd", "z"},
	    {"", "e"}, {"Sub", "S"}, {"sub", NULL}, {"jti", NULL},
	    {"aud", NULL}, {"scope", "s"}, {"scopf", "t"}, {"scopg", NULL},
	    {"t", NULL}, {"tiddd", NULL}, {"xyz", NULL}};
	struct cgt_key k;
	struct cg_token *t;
	struct cg_error err;
	const char *s;
	size_t i, len;
	double d;
	char *tok;

	(void)state;
	cgt_key_gen(&k, CG_ALG_HS256, "k1", 0);
	tok = cgt_mint(&k, "{\"alg\":\"HS256\"}", claims);
	assert_int_equal(cg_token_parse(tok, strlen(tok), 0, &t, &err), CG_OK);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct cg_json *v = cg_token_claim(t, rows[i].name);
		if (rows[i].want == NULL) {
			assert_null(v);
			continue;
		}
		assert_int_equal(cg_json_string(v, &s, &len), CG_OK);
		assert_string_equal(s, rows[i].want);
	}
	assert_int_equal(
	    cg_json_typeof(cg_token_claim(t, "act")), CG_JSON_OBJECT);
	assert_int_equal(cg_json_number(cg_token_claim(t, "exp"), &d), CG_OK);
	assert_true(d == 5);
	/* A name given by length need not end there. */
	assert_int_equal(
	    cg_json_string(cg__token_claim_n(t, "tidd!", 3), &s, &len), CG_OK);
	assert_string_equal(s, "x");
	assert_int_equal(
	    cg_json_string(cg__token_claim_n(t, "issue", 3), &s, &len), CG_OK);
	assert_string_equal(s, "i");
	assert_int_equal(
	    cg_json_string(cg__token_claim_n(t, "x", 0), &s, &len), CG_OK);
	assert_string_equal(s, "e");
	assert_null(cg_token_claim(t, NULL));
	assert_null(cg_token_claim(NULL, "iss"));
	cg_token_free(t);
	free(tok);
	cgt_key_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_all_algs),
	    cmocka_unit_test(test_sha256_lazy_and_shared),
	    cmocka_unit_test(test_hmac_key_lengths),
	    cmocka_unit_test(test_token_one_block),
	    cmocka_unit_test(test_claim_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
