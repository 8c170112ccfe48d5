/*
 * jws_layer.c - see jws_layer.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "jws_layer.h"

cg_code
jws_layer_verify(const char *jws, size_t len, const struct cg_keyset *ks,
    cg_alg_set allowed, size_t *key_index)
{
	const char *d1, *d2;
	const struct cg_key *k;
	struct cg_token *t = NULL;
	struct cg_error err;
	unsigned char *pbuf = NULL, *sig = NULL;
	size_t hlen, plen, slen, sublen, outlen, bad, siglen = 0, i;
	size_t tried = 0;
	const char *kid;
	char *sub = NULL;
	cg_alg alg;
	cg_code rc;

	if (key_index != NULL)
		*key_index = SIZE_MAX;
	if (len == 0)
		return CG_ERR_EMPTY;
	if (len > CG_DEFAULT_MAX_TOKEN_LEN)
		return CG_ERR_TOO_LARGE;
	d1 = memchr(jws, '.', len);
	d2 = d1 == NULL ? NULL
			: memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws));
	if (d2 == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws)) != NULL)
		return CG_ERR_MALFORMED;
	hlen = (size_t)(d1 - jws);
	plen = (size_t)(d2 - d1 - 1);
	slen = len - (size_t)(d2 + 1 - jws);

	sublen = hlen + 5 + slen;
	sub = malloc(sublen + 1);
	assert_non_null(sub);
	memcpy(sub, jws, hlen);
	memcpy(sub + hlen, ".e30.", 5);
	memcpy(sub + hlen + 5, d2 + 1, slen);
	sub[sublen] = '\0';
	rc = cg_token_parse(sub, sublen, CG_MAX_TOKEN_LEN_CEILING, &t, &err);
	if (rc != CG_OK)
		goto out;

	if (cg__b64url_decoded_len(plen) == SIZE_MAX) {
		rc = CG_ERR_BASE64;
		goto out;
	}
	pbuf = malloc(cg__b64url_decoded_len(plen) + 1);
	assert_non_null(pbuf);
	if (cg__b64url_decode(d1 + 1, plen, pbuf, &outlen, &bad) != CG_OK) {
		rc = CG_ERR_BASE64;
		goto out;
	}

	rc = cg_token_verify(t, ks, allowed, NULL, &err);
	if (rc == CG_OK)
		fail_msg("a signature verified over the substituted payload");
	if (rc != CG_ERR_SIGNATURE)
		goto out;

	sig = malloc(cg__b64url_decoded_len(slen) + 1);
	assert_non_null(sig);
	assert_int_equal(cg__b64url_decode(d2 + 1, slen, sig, &siglen, &bad),
	    CG_OK);
	alg = cg_token_alg(t);
	kid = cg_token_kid(t);
	rc = CG_ERR_SIGNATURE;
	for (i = 0; (k = cg__keyset_key(ks, i)) != NULL; i++) {
		const char *kkid = cg__key_kid(k);
		if (kid != NULL && (kkid == NULL || strcmp(kkid, kid) != 0))
			continue;
		if ((cg__key_fits(k) & CG_ALG_BIT(alg)) == 0)
			continue;
		if (tried++ == CG_LIMIT_KEYS_TRIED)
			break;
		rc = cg__key_verify(k, alg, (const unsigned char *)jws,
		    (size_t)(d2 - jws), sig, siglen);
		if (rc == CG_OK && key_index != NULL)
			*key_index = i;
		if (rc != CG_ERR_SIGNATURE)
			break;
	}
	assert_true(tried > 0); /* cg_token_verify tried a key */
out:
	cg_token_free(t);
	free(sub);
	free(pbuf);
	free(sig);
	return rc;
}
