/*
 * hmac_sha2.c - HMAC-SHA-256/384/512 verification (RFC 2104, RFC 7518
 * section 3.2) on plain digest states: the key's inner and outer pad
 * blocks are absorbed once, and each verification copies the two states
 * as structs and finishes them with OpenSSL's SHA-2 functions (the same
 * SHA-NI / AVX2 block code EVP reaches).
 *
 * EVP would duplicate a provider context per copy, with an allocation
 * and a wipe each time: about 0.25 us of a 0.75 us HS256 check here
 * (docs/decisions.md). The SHA-2 functions are deprecated since OpenSSL
 * 3.0 and bypass providers, so sig_openssl.c uses this file only when
 * OpenSSL is not in FIPS mode and the functions exist; otherwise the EVP
 * path verifies.
 */
/* Before any OpenSSL header: using the SHA-2 functions is this file's
 * purpose (see above). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "key.h"

#ifndef OPENSSL_NO_DEPRECATED_3_0

struct cg__hmac2 {
	int bits; /* 256, 384 or 512 */
	size_t tag_len;
	union {
		SHA256_CTX s256;
		SHA512_CTX s512; /* SHA-384 too */
	} in, out;
};

static void
absorb(struct cg__hmac2 *h, int outer, const unsigned char *block, size_t len)
{
	if (h->bits == 256) {
		SHA256_CTX *s = outer ? &h->out.s256 : &h->in.s256;
		SHA256_Init(s);
		SHA256_Update(s, block, len);
	} else {
		SHA512_CTX *s = outer ? &h->out.s512 : &h->in.s512;
		if (h->bits == 384)
			SHA384_Init(s);
		else
			SHA512_Init(s);
		SHA512_Update(s, block, len);
	}
}

struct cg__hmac2 *
cg__hmac2_new(int bits, const unsigned char *key, size_t keylen)
{
	unsigned char pad[128];
	size_t block = bits == 256 ? 64 : 128, i;
	struct cg__hmac2 *h;

	/* The caller hashes keys longer than the block (RFC 2104 section 2). */
	if ((bits != 256 && bits != 384 && bits != 512) || keylen > block ||
	    (key == NULL && keylen > 0))
		return NULL;
	if ((h = cg__calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->bits = bits;
	h->tag_len = (size_t)bits / 8;
	memset(pad, 0x36, block);
	for (i = 0; i < keylen; i++)
		pad[i] ^= key[i];
	absorb(h, 0, pad, block);
	memset(pad, 0x5c, block);
	for (i = 0; i < keylen; i++)
		pad[i] ^= key[i];
	absorb(h, 1, pad, block);
	OPENSSL_cleanse(pad, sizeof(pad));
	return h;
}

int
cg__hmac2_verify(const struct cg__hmac2 *h, const unsigned char *msg,
    size_t msglen, const unsigned char *tag, size_t taglen)
{
	unsigned char inner[64], mine[64];
	int ok;

	if (h == NULL || taglen != h->tag_len)
		return 0;
	if (h->bits == 256) {
		SHA256_CTX s = h->in.s256;
		SHA256_Update(&s, msg, msglen);
		SHA256_Final(inner, &s);
		s = h->out.s256;
		SHA256_Update(&s, inner, 32);
		SHA256_Final(mine, &s);
		cg__wipe(&s, sizeof(s));
	} else {
		SHA512_CTX s = h->in.s512;
		SHA512_Update(&s, msg, msglen);
		if (h->bits == 384)
			SHA384_Final(inner, &s);
		else
			SHA512_Final(inner, &s);
		s = h->out.s512;
		SHA512_Update(&s, inner, h->tag_len);
		if (h->bits == 384)
			SHA384_Final(mine, &s);
		else
			SHA512_Final(mine, &s);
		cg__wipe(&s, sizeof(s));
	}
	ok = CRYPTO_memcmp(mine, tag, taglen) == 0;
	cg__wipe(inner, sizeof(inner));
	cg__wipe(mine, sizeof(mine));
	return ok;
}

void
cg__hmac2_free(struct cg__hmac2 *h)
{
	if (h == NULL)
		return;
	OPENSSL_cleanse(h, sizeof(*h)); /* the pad states derive from the key */
	free(h);
}

#else /* OpenSSL built without the deprecated SHA-2 functions: EVP only */

struct cg__hmac2 *
cg__hmac2_new(int bits, const unsigned char *key, size_t keylen)
{
	(void)bits;
	(void)key;
	(void)keylen;
	return NULL;
}

int
cg__hmac2_verify(const struct cg__hmac2 *h, const unsigned char *msg,
    size_t msglen, const unsigned char *tag, size_t taglen)
{
	(void)h;
	(void)msg;
	(void)msglen;
	(void)tag;
	(void)taglen;
	return 0;
}

void
cg__hmac2_free(struct cg__hmac2 *h)
{
	(void)h;
}

#endif
