/*
 * key.h - one usable verification key, shared by jwk.c (JWK parsing,
 * selection rules) and sig_openssl.c (the crypto material). The crypto
 * part is opaque outside sig_openssl.c, the only file that includes
 * OpenSSL headers.
 */
#ifndef CG_KEY_H
#define CG_KEY_H

#include "internal.h"

struct cg__pk; /* prepared crypto material; see sig_openssl.c */

struct cg_key {
	char *kid;	     /* NULL when absent */
	cg_kty kty;
	const char *crv;     /* static string or NULL */
	cg_alg alg;	     /* the key's own alg, or CG_ALG_UNKNOWN */
	unsigned bits;
	char jkt[44];	     /* RFC 7638 SHA-256 thumbprint, base64url */
	cg_alg_set fits;
	struct cg__pk *pk;
};

/* Builders. Each returns CG_OK, or CG_ERR_KEYSET with a reason in `why`
 * (the key is then skipped), or CG_ERR_NOMEM. */
cg_code cg__pk_rsa(const unsigned char *n, size_t nlen,
    const unsigned char *e, size_t elen, struct cg__pk **out, unsigned *bits,
    char *why, size_t whysz);
cg_code cg__pk_ec(const char *crv, const unsigned char *x,
    const unsigned char *y, size_t coord_len, struct cg__pk **out,
    char *why, size_t whysz);
cg_code cg__pk_ed25519(const unsigned char *x, size_t len,
    struct cg__pk **out, char *why, size_t whysz);
/* Copies the secret; the copy is wiped when freed. */
cg_code cg__pk_oct(const unsigned char *k, size_t len, struct cg__pk **out);

/* Prepares one verification context per algorithm in `fits`, once, so no
 * token pays for OpenSSL's fetch and init. */
cg_code cg__pk_prepare(struct cg__pk *pk, cg_alg_set fits);

/* With on != 0, HMAC keys prepared from then on get EVP digest states
 * only, as in FIPS mode, instead of hmac_sha2.c's plain ones: the tests
 * reach the FIPS path with it. Not for concurrent use with
 * cg__pk_prepare. */
void cg__pk_evp_hmac_only(int on);

void cg__pk_free(struct cg__pk *pk);

cg_code cg__pk_verify(const struct cg__pk *pk, cg_alg alg,
    const unsigned char *msg, size_t msglen, const unsigned char *sig,
    size_t siglen);

/* HMAC-SHA-2 on plain digest states copied per call (hmac_sha2.c).
 * cg__hmac2_new returns NULL when bits is not 256, 384 or 512, the key is
 * longer than the digest's block (hash it first, RFC 2104 section 2),
 * OpenSSL lacks its deprecated SHA-2 functions, or memory runs out.
 * cg__hmac2_verify returns 1 when tag is the full HMAC of msg (compared
 * in constant time), else 0. cg__hmac2_free wipes the states. */
struct cg__hmac2;
struct cg__hmac2 *cg__hmac2_new(
    int bits, const unsigned char *key, size_t keylen);
int cg__hmac2_verify(const struct cg__hmac2 *h, const unsigned char *msg,
    size_t msglen, const unsigned char *tag, size_t taglen);
void cg__hmac2_free(struct cg__hmac2 *h);

/* The raw-to-DER conversion for ECDSA (RFC 7518 section 3.4), exposed for
 * tests: returns the DER length, or 0 when r or s is outside [1, n-1]. */
size_t cg__ecdsa_raw_to_der(cg_alg alg, const unsigned char *sig,
    size_t siglen, unsigned char *der, size_t dersz);

#endif
