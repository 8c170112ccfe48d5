/*
 * fuzz_b64url.c - strict base64url (src/b64url.c): every token segment and
 * every JWK member goes through cg__b64url_decode.
 *
 * Input: the text to decode; the same bytes are also encoded as data.
 * Invariants (abort when broken):
 *   - a successful decode writes at most cg__b64url_decoded_len(len)
 *     bytes (into an exactly sized heap buffer) and re-encodes to exactly
 *     the input: one encoding per byte string;
 *   - decode(encode(decode(x))) == decode(x);
 *   - a failed decode points at an offset inside the input;
 *   - a length of 1 mod 4 never decodes;
 *   - encode(x) decodes back to x, for any bytes x, and is
 *     4 * ceil(len / 3) - padding characters long.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static char *
encode(const unsigned char *p, size_t len, size_t *outlen)
{
	char *e = malloc(4 * ((len + 2) / 3) + 1);

	if (e == NULL)
		abort();
	*outlen = cg__b64url_encode(p, len, e);
	if (*outlen != (len * 4 + 2) / 3 || e[*outlen] != '\0')
		cgf_fail("encoded length is not ceil(4 * len / 3)");
	return e;
}

static unsigned char *
decode(const char *s, size_t len, size_t *outlen, size_t *bad, cg_code *rc)
{
	size_t n = cg__b64url_decoded_len(len);
	unsigned char *out;

	if (n == SIZE_MAX) {
		if (len % 4 != 1)
			cgf_fail("decoded_len refused a length that is not "
				 "1 mod 4");
		n = len; /* decode must still refuse it */
	}
	/* An exactly sized buffer (1 byte for an empty result, as malloc(0)
	 * may return NULL). */
	if ((out = malloc(n == 0 ? 1 : n)) == NULL)
		abort();
	*rc = cg__b64url_decode(s, len, out, outlen, bad);
	if (*rc == CG_OK && *outlen > n)
		cgf_fail("decode wrote more than decoded_len");
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	unsigned char *d1, *d2;
	size_t l1, l2, el, bad;
	char *e;
	cg_code rc;

	d1 = decode(s, size, &l1, &bad, &rc);
	if (rc != CG_OK) {
		if (rc != CG_ERR_BASE64)
			cgf_fail("decode returned another code than BASE64");
		if (bad == CG_NO_OFFSET || bad >= size)
			cgf_fail("a decode error points outside the input");
	} else {
		if (size % 4 == 1)
			cgf_fail("a length of 1 mod 4 decoded");
		e = encode(d1, l1, &el);
		if (el != size || memcmp(e, s, size) != 0)
			cgf_fail("a decoded string does not re-encode to the "
				 "input (two encodings of one value)");
		d2 = decode(e, el, &l2, &bad, &rc);
		if (rc != CG_OK || l2 != l1 || memcmp(d1, d2, l1) != 0)
			cgf_fail("decode(encode(decode(x))) != decode(x)");
		free(d2);
		free(e);
	}
	free(d1);

	/* The input as data. */
	e = encode(data, size, &el);
	d2 = decode(e, el, &l2, &bad, &rc);
	if (rc != CG_OK || l2 != size || memcmp(d2, data, size) != 0)
		cgf_fail("decode(encode(x)) != x");
	free(d2);
	free(e);
	return 0;
}
