/*
 * test_jws.c - compact JWS parsing and verification, per algorithm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"

static const char *const payload =
    "{\"iss\":\"https://sso.example.com\",\"sub\":\"alice\",\"exp\":2000000000}";

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
		assert_int_equal(cg_token_verify(t, ks, CG_ALG_ALL, &idx, &err),
		    CG_OK);
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
				rc = cg_token_verify(t, ks, CG_ALG_ALL, NULL,
				    &err);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_algs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
