/*
 * test_hmac_sha2.c - the plain-state HMAC (src/hmac_sha2.c) and the HMAC
 * path of cg__pk_verify, with plain states and with the EVP states of a
 * FIPS configuration, against OpenSSL's EVP_Q_mac on the same key and
 * message: every key length up to the block (and longer ones through
 * cg__pk_oct, which hashes them first), message lengths around the
 * digest's block boundaries, every single-bit change of the tag, and
 * tags of the wrong length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cgtest.h"
#include "key.h"

struct hs {
	int bits;
	cg_alg alg;
	const char *md;
	size_t block;
};

static const struct hs algs[] = {
    {256, CG_ALG_HS256, "SHA256", 64},
    {384, CG_ALG_HS384, "SHA384", 128},
    {512, CG_ALG_HS512, "SHA512", 128},
};

/* Lengths on both sides of the padding and block boundaries of SHA-256
 * (55/56, 64) and SHA-384/512 (111/112, 128), and a token-sized one. */
static const size_t msg_lens[] = {0, 1, 31, 55, 56, 57, 63, 64, 65, 111, 112,
    113, 127, 128, 129, 191, 192, 255, 256, 531, 1000};

static void
reference(const struct hs *h, const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t len, unsigned char *tag, size_t *taglen)
{
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, h->md, NULL, key, keylen,
	    msg, len, tag, 64, taglen));
	assert_int_equal(*taglen, (size_t)h->bits / 8);
}

/* Every single-bit change of the tag, and shorter and longer tags. */
static void
assert_only_exact(const struct hs *h, const unsigned char *msg, size_t len,
    const unsigned char *tag, size_t taglen,
    int (*check)(const void *, const unsigned char *, size_t,
        const unsigned char *, size_t),
    const void *ctx)
{
	unsigned char bad[80];
	size_t i;
	int b;

	assert_int_equal(check(ctx, msg, len, tag, taglen), 1);
	for (i = 0; i < taglen; i++)
		for (b = 0; b < 8; b++) {
			memcpy(bad, tag, taglen);
			bad[i] ^= (unsigned char)(1u << b);
			assert_int_equal(check(ctx, msg, len, bad, taglen), 0);
		}
	memcpy(bad, tag, taglen);
	bad[taglen] = 0;
	assert_int_equal(check(ctx, msg, len, bad, taglen - 1), 0);
	assert_int_equal(check(ctx, msg, len, bad, taglen + 1), 0);
	(void)h;
}

static int
check_plain(const void *ctx, const unsigned char *msg, size_t len,
    const unsigned char *tag, size_t taglen)
{
	return cg__hmac2_verify(ctx, msg, len, tag, taglen);
}

static int
check_pk(const void *ctx, const unsigned char *msg, size_t len,
    const unsigned char *tag, size_t taglen)
{
	const struct {
		const struct cg__pk *pk;
		cg_alg alg;
	} *c = ctx;

	return cg__pk_verify(c->pk, c->alg, msg, len, tag, taglen) == CG_OK;
}

static void
test_plain_states_match_openssl(void **state)
{
	unsigned char key[128], msg[1000], tag[64];
	size_t a, k, m, taglen;

	(void)state;
	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		const struct hs *h = &algs[a];
		for (k = 0; k <= h->block; k += cgt_sample_step()) {
			struct cg__hmac2 *s;
			assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
			s = cg__hmac2_new(h->bits, key, k);
			assert_non_null(s);
			for (m = 0; m < sizeof(msg_lens) / sizeof(msg_lens[0]);
			     m++) {
				reference(
				    h, key, k, msg, msg_lens[m], tag, &taglen);
				assert_only_exact(h, msg, msg_lens[m], tag,
				    taglen, check_plain, s);
			}
			cg__hmac2_free(s);
		}
	}
}

static void
test_refused_arguments(void **state)
{
	unsigned char key[129] = {0};

	(void)state;
	/* Longer than the block: the caller hashes it first. */
	assert_null(cg__hmac2_new(256, key, 65));
	assert_null(cg__hmac2_new(384, key, 129));
	assert_null(cg__hmac2_new(512, key, 129));
	/* Digest sizes JOSE does not use. */
	assert_null(cg__hmac2_new(224, key, 16));
	assert_null(cg__hmac2_new(0, key, 16));
	assert_null(cg__hmac2_new(256, NULL, 16));
	assert_int_equal(cg__hmac2_verify(NULL, key, 1, key, 32), 0);
	cg__hmac2_free(NULL);
}

/* The whole key path: cg__pk_oct + cg__pk_prepare + cg__pk_verify, with
 * keys shorter than, equal to and longer than the block (RFC 2104 hashes
 * those), against EVP_Q_mac. */
static void
pk_verify_matches_openssl(void)
{
	static const size_t key_lens[] = {
	    32, 48, 63, 64, 65, 127, 128, 129, 200, 1000};
	unsigned char key[1000], msg[600], tag[64];
	size_t a, k, taglen;

	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		const struct hs *h = &algs[a];
		for (k = 0; k < sizeof(key_lens) / sizeof(key_lens[0]); k++) {
			struct cg__pk *pk = NULL;
			struct {
				const struct cg__pk *pk;
				cg_alg alg;
			} ctx;
			assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
			assert_int_equal(
			    cg__pk_oct(key, key_lens[k], &pk), CG_OK);
			assert_int_equal(
			    cg__pk_prepare(pk, CG_ALG_BIT(h->alg)), CG_OK);
			ctx.pk = pk;
			ctx.alg = h->alg;
			reference(h, key, key_lens[k], msg, sizeof(msg), tag,
			    &taglen);
			assert_only_exact(
			    h, msg, sizeof(msg), tag, taglen, check_pk, &ctx);
			cg__pk_free(pk);
		}
	}
}

/* With the plain states (this machine is not in FIPS mode). */
static void
test_pk_verify_matches_openssl(void **state)
{
	(void)state;
	pk_verify_matches_openssl();
}

/* With the EVP states only, the path of a FIPS configuration. */
static void
test_pk_verify_evp_path_matches_openssl(void **state)
{
	(void)state;
	cg__pk_evp_hmac_only(1);
	pk_verify_matches_openssl();
	cg__pk_evp_hmac_only(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_states_match_openssl),
	    cmocka_unit_test(test_refused_arguments),
	    cmocka_unit_test(test_pk_verify_matches_openssl),
	    cmocka_unit_test(test_pk_verify_evp_path_matches_openssl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
