/*
 * test_ecdsa_der.c - cg__ecdsa_raw_to_der (src/sig_openssl.c): the one
 * audited conversion of a JWS ECDSA signature (raw r||s, RFC 7518
 * section 3.4) into the DER ECDSA-Sig-Value OpenSSL verifies.
 *
 * r and s must be in [1, n-1] (r = s = 0 is CVE-2022-21449), the input
 * exactly twice the coordinate size, and the output minimal DER: the
 * same bytes OpenSSL's own encoder writes for the same (r, s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "cgtest.h"
#include "ec_orders.h"
#include "key.h"

/* Group orders (SEC 2): tests/support/ec_orders.c, written out there
 * rather than shared with the code under test. */
struct curve {
	cg_alg alg;
	size_t n; /* coordinate bytes */
	const unsigned char *order;
};

static const struct curve curves[] = {
	{CG_ALG_ES256, 32, cgt_n256},
	{CG_ALG_ES384, 48, cgt_n384},
	{CG_ALG_ES512, 66, cgt_n521},
};

#define DER_MAX 256

/* Big-endian v - 1 (v > 0). */
static void
minus_one(unsigned char *v, size_t len)
{
	size_t i = len;

	while (i-- > 0)
		if (v[i]-- != 0)
			break;
}

/* Big-endian v + 1 (no overflow for the values used here). */
static void
plus_one(unsigned char *v, size_t len)
{
	size_t i = len;

	while (i-- > 0)
		if (++v[i] != 0)
			break;
}

/* What OpenSSL's encoder writes for (r, s): the reference. */
static size_t
openssl_der(const unsigned char *sig, size_t n, unsigned char *out)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)n, NULL);
	BIGNUM *s = BN_bin2bn(sig + n, (int)n, NULL);
	unsigned char *p = out;
	int len;

	assert_non_null(es);
	assert_non_null(r);
	assert_non_null(s);
	assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
	len = i2d_ECDSA_SIG(es, NULL);
	assert_true(len > 0 && len <= DER_MAX);
	assert_int_equal(i2d_ECDSA_SIG(es, &p), len);
	ECDSA_SIG_free(es);
	return (size_t)len;
}

/* Converts and checks the result byte for byte against OpenSSL. */
static size_t
expect_der(const struct curve *c, const unsigned char *sig)
{
	unsigned char der[DER_MAX], ref[DER_MAX];
	size_t len = cg__ecdsa_raw_to_der(c->alg, sig, 2 * c->n, der,
	    sizeof(der));
	size_t rlen = openssl_der(sig, c->n, ref);

	if (len == 0)
		fail_msg("%s: valid (r, s) rejected", cg_alg_name(c->alg));
	assert_int_equal(len, rlen);
	assert_memory_equal(der, ref, len);
	return len;
}

static void
expect_reject(const struct curve *c, const unsigned char *sig, size_t siglen,
    const char *what)
{
	unsigned char der[DER_MAX];

	memset(der, 0xaa, sizeof(der));
	if (cg__ecdsa_raw_to_der(c->alg, sig, siglen, der, sizeof(der)) != 0)
		fail_msg("%s: %s accepted", cg_alg_name(c->alg), what);
}

/* r = 0, s = 0, r = n, s = n, r > n, s = n + 1, all-ones: rejected. */
static void
test_out_of_range(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct curve *c = &curves[i];
		unsigned char sig[132], one[66];
		size_t n = c->n;

		memset(one, 0, n);
		one[n - 1] = 1;
		/* r = s = 0: the "psychic signature" (CVE-2022-21449). */
		memset(sig, 0, 2 * n);
		expect_reject(c, sig, 2 * n, "r = s = 0");
		memcpy(sig + n, one, n);
		expect_reject(c, sig, 2 * n, "r = 0");
		memcpy(sig, one, n);
		memset(sig + n, 0, n);
		expect_reject(c, sig, 2 * n, "s = 0");
		/* r = n, s = n */
		memcpy(sig, c->order, n);
		memcpy(sig + n, one, n);
		expect_reject(c, sig, 2 * n, "r = n");
		memcpy(sig, one, n);
		memcpy(sig + n, c->order, n);
		expect_reject(c, sig, 2 * n, "s = n");
		memcpy(sig, c->order, n);
		memcpy(sig + n, c->order, n);
		expect_reject(c, sig, 2 * n, "r = s = n");
		/* n + 1 */
		memcpy(sig, one, n);
		memcpy(sig + n, c->order, n);
		plus_one(sig + n, n);
		expect_reject(c, sig, 2 * n, "s = n + 1");
		/* all ones: above n for every curve */
		memset(sig, 0xff, 2 * n);
		expect_reject(c, sig, 2 * n, "r = s = 2^k - 1");
		memcpy(sig, one, n);
		expect_reject(c, sig, 2 * n, "s = 2^k - 1");
	}
}

/* r = n - 1 and s = n - 1 are the largest valid values. */
static void
test_n_minus_one(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct curve *c = &curves[i];
		unsigned char sig[132], der[DER_MAX];
		size_t n = c->n, len;

		memcpy(sig, c->order, n);
		minus_one(sig, n);
		memcpy(sig + n, sig, n);
		len = expect_der(c, sig);
		(void)cg__ecdsa_raw_to_der(c->alg, sig, 2 * n, der, sizeof(der));
		if (c->alg == CG_ALG_ES512) {
			/* 2 * (2 + 66) = 136 content bytes: long form 0x81. */
			assert_int_equal(len, 3 + 136);
			assert_int_equal(der[0], 0x30);
			assert_int_equal(der[1], 0x81);
			assert_int_equal(der[2], 136);
			assert_int_equal(der[3], 0x02);
			assert_int_equal(der[4], 66);
			assert_int_equal(der[5], 0x01); /* no 0x00: high bit clear */
		} else {
			/* The high bit is set: each INTEGER gets a 0x00. */
			assert_int_equal(len, 2 + 2 * (3 + n));
			assert_int_equal(der[0], 0x30);
			assert_int_equal(der[1], 2 * (3 + n));
			assert_int_equal(der[2], 0x02);
			assert_int_equal(der[3], n + 1);
			assert_int_equal(der[4], 0x00);
			assert_int_equal(der[5], 0xff);
			assert_int_equal(der[4 + n + 1], 0x02);
			assert_int_equal(der[4 + n + 2], n + 1);
			assert_int_equal(der[4 + n + 3], 0x00);
		}
		/* n - 1 for r only, 1 for s. */
		memset(sig + n, 0, n);
		sig[2 * n - 1] = 1;
		(void)expect_der(c, sig);
	}
}

/* Minimal INTEGERs: leading zero bytes are dropped, a 0x00 is added only
 * before a byte with its high bit set. */
static void
test_minimal_integers(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct curve *c = &curves[i];
		unsigned char sig[132], der[DER_MAX];
		size_t n = c->n, len;

		/* r = s = 1: 30 06 02 01 01 02 01 01 */
		memset(sig, 0, 2 * n);
		sig[n - 1] = 1;
		sig[2 * n - 1] = 1;
		len = cg__ecdsa_raw_to_der(c->alg, sig, 2 * n, der, sizeof(der));
		assert_int_equal(len, 8);
		assert_memory_equal(der, "\x30\x06\x02\x01\x01\x02\x01\x01", 8);
		(void)expect_der(c, sig);

		/* r = 0x7f: one byte, no prefix; s = 0x80: 0x00 prefix. */
		sig[n - 1] = 0x7f;
		sig[2 * n - 1] = 0x80;
		len = cg__ecdsa_raw_to_der(c->alg, sig, 2 * n, der, sizeof(der));
		assert_int_equal(len, 9);
		assert_memory_equal(der, "\x30\x07\x02\x01\x7f\x02\x02\x00\x80",
		    9);
		(void)expect_der(c, sig);

		/* r = 00 00 80 00 ... 00 (two leading zero bytes), s = 0x0100 */
		memset(sig, 0, 2 * n);
		sig[2] = 0x80;
		sig[2 * n - 2] = 0x01;
		len = expect_der(c, sig);
		cg__ecdsa_raw_to_der(c->alg, sig, 2 * n, der, sizeof(der));
		assert_int_equal(der[2], 0x02);
		assert_int_equal(der[3], n - 2 + 1); /* n - 2 bytes + 0x00 */
		assert_int_equal(der[4], 0x00);
		assert_int_equal(der[5], 0x80);
		assert_int_equal(der[len - 4], 0x02);
		assert_int_equal(der[len - 3], 2);
		assert_memory_equal(der + len - 2, "\x01\x00", 2);

		/* r with high bit set in the first byte (P-256/384 only: for
		 * P-521 the first byte is at most 0x01). */
		if (n != 66) {
			memset(sig, 0, 2 * n);
			sig[0] = 0x80;
			sig[2 * n - 1] = 0x05;
			len = expect_der(c, sig);
			cg__ecdsa_raw_to_der(c->alg, sig, 2 * n, der, sizeof(der));
			assert_int_equal(der[3], n + 1);
			assert_int_equal(der[4], 0x00);
			assert_int_equal(der[5], 0x80);
		}
	}
}

/* P-521: the DER length needs the long form exactly when the content is
 * 128 bytes or more. */
static void
test_p521_length_forms(void **state)
{
	const struct curve *c = &curves[2];
	unsigned char sig[132], der[DER_MAX];
	size_t len;

	(void)state;
	/* Full-size r and s (first byte 0x01): 136 content bytes. */
	memset(sig, 0x5a, sizeof(sig));
	sig[0] = 0x01;
	sig[66] = 0x01;
	len = expect_der(c, sig);
	assert_int_equal(len, 139);
	cg__ecdsa_raw_to_der(c->alg, sig, 132, der, sizeof(der));
	assert_memory_equal(der, "\x30\x81\x88", 3);
	/* r of 62 bytes and s of 61: 2 + 62 + 2 + 61 = 127, short form. */
	memset(sig, 0, sizeof(sig));
	memset(sig + 4, 0x11, 62);
	memset(sig + 66 + 5, 0x22, 61);
	len = expect_der(c, sig);
	assert_int_equal(len, 129);
	cg__ecdsa_raw_to_der(c->alg, sig, 132, der, sizeof(der));
	assert_int_equal(der[1], 127);
	/* One byte more: 128, long form. */
	sig[66 + 4] = 0x22;
	len = expect_der(c, sig);
	assert_int_equal(len, 131);
	cg__ecdsa_raw_to_der(c->alg, sig, 132, der, sizeof(der));
	assert_memory_equal(der, "\x30\x81\x80", 3);
}

/* Pseudo-random (r, s) in range: byte-identical to OpenSSL's encoder. */
static void
test_matches_openssl(void **state)
{
	uint32_t x = 0x12345678u;
	size_t i, k, iter;

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct curve *c = &curves[i];
		size_t n = c->n;
		for (iter = 0; iter < 400; iter++) {
			unsigned char sig[132];
			for (k = 0; k < 2 * n; k++) {
				x = x * 1103515245u + 12345u;
				sig[k] = (unsigned char)(x >> 16);
			}
			/* Vary the leading zero bytes and top bits. */
			memset(sig, 0, iter % 5);
			memset(sig + n, 0, (iter / 5) % 4);
			if (n == 66) {
				sig[0] &= 0x01;
				sig[n] &= 0x01;
			}
			sig[n - 1] |= 1; /* keep r and s non-zero */
			sig[2 * n - 1] |= 1;
			if (memcmp(sig, c->order, n) >= 0 ||
			    memcmp(sig + n, c->order, n) >= 0)
				continue;
			(void)expect_der(c, sig);
		}
	}
}

/* Only exactly 2n bytes, only the ES algorithms, only a large enough
 * output buffer. */
static void
test_wrong_lengths_and_algs(void **state)
{
	static const cg_alg not_ec[] = {CG_ALG_UNKNOWN, CG_ALG_RS256,
	    CG_ALG_PS256, CG_ALG_EDDSA, CG_ALG_HS256, CG_ALG_HS512,
	    (cg_alg)99};
	unsigned char sig[200], der[DER_MAX];
	size_t i, k;

	(void)state;
	memset(sig, 0x11, sizeof(sig));
	for (i = 0; i < 3; i++) {
		const struct curve *c = &curves[i];
		size_t n = c->n;
		static const int deltas[] = {-1, 1, -2, 2, 6};
		for (k = 0; k < sizeof(deltas) / sizeof(deltas[0]); k++)
			expect_reject(c, sig, (size_t)((int)(2 * n) + deltas[k]),
			    "wrong length");
		expect_reject(c, sig, 0, "empty signature");
		expect_reject(c, sig, n, "half a signature");
		/* DER handed in where raw is expected: 2n+6..2n+8 bytes. */
		expect_reject(c, sig, 2 * n + 8, "DER-sized input");
		/* Another curve's length. */
		expect_reject(c, sig, 2 * curves[(i + 1) % 3].n, "other curve");
		/* An output buffer too small for the result. */
		assert_int_equal(cg__ecdsa_raw_to_der(c->alg, sig, 2 * n, der,
				     8),
		    0);
		assert_int_equal(cg__ecdsa_raw_to_der(c->alg, sig, 2 * n, der,
				     0),
		    0);
	}
	for (i = 0; i < sizeof(not_ec) / sizeof(not_ec[0]); i++)
		assert_int_equal(cg__ecdsa_raw_to_der(not_ec[i], sig, 64, der,
				     sizeof(der)),
		    0);
}

/* An output buffer of exactly the DER length must be enough. */
static void
test_exact_output_buffer(void **state)
{
	unsigned char sig[64], der[DER_MAX], ref[DER_MAX];
	size_t rlen;

	(void)state;
	memset(sig, 0, sizeof(sig));
	sig[31] = 1;
	sig[63] = 1;
	rlen = openssl_der(sig, 32, ref);
	assert_int_equal(rlen, 8);
	/* One byte short of the result: refused. */
	assert_int_equal(cg__ecdsa_raw_to_der(CG_ALG_ES256, sig, 64, der,
			     rlen - 1),
	    0);
	/* With one spare byte it works today. */
	assert_int_equal(cg__ecdsa_raw_to_der(CG_ALG_ES256, sig, 64, der,
			     rlen + 1),
	    rlen);
	/* The size check reserves room for the long length form even when
	 * the short form is used, so a buffer of exactly 8 bytes is
	 * refused (src/sig_openssl.c, `if (dersz < blen + 3)`). */
	assert_int_equal(cg__ecdsa_raw_to_der(CG_ALG_ES256, sig, 64, der,
			     rlen),
	    rlen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_n_minus_one),
		cmocka_unit_test(test_minimal_integers),
		cmocka_unit_test(test_p521_length_forms),
		cmocka_unit_test(test_matches_openssl),
		cmocka_unit_test(test_wrong_lengths_and_algs),
		cmocka_unit_test(test_exact_output_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
