/*
 * sig_openssl.c - verification with OpenSSL: key material, prepared
 * verification contexts, ECDSA raw-to-DER, HMAC (hmac_sha2.c holds the
 * plain-state HMAC path).
 *
 * Every key is turned into one prepared context per algorithm it can
 * verify, at load time. A verification copies the prepared context
 * (EVP_MD_CTX_copy_ex, a fraction of a microsecond) instead of fetching
 * and initialising (several microseconds), and the shared template is
 * only read, so threads need no lock.
 *
 * Ed25519 is the exception: libsodium verifies it (several times faster
 * than OpenSSL 3.0 here, see docs/performance.md) and is strict: it
 * rejects non-canonical S, small-order R, and small-order or
 * non-canonical public keys, which are also refused at load.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "key.h"

struct cg__pk {
	EVP_PKEY *pkey;			     /* RSA, EC, Ed25519 */
	EVP_MD_CTX *tmpl[CG_ALG_HS512 + 1];  /* per alg, RSA/PSS/EC/EdDSA */
	/* HMAC (RFC 2104): digest states after the key's inner and outer
	 * pad blocks, copied per call. */
	EVP_MD_CTX *hin[CG_ALG_HS512 + 1], *hout[CG_ALG_HS512 + 1];
	/* The same states as plain structs (hmac_sha2.c), made instead of the
	 * EVP ones when allowed: not in FIPS mode, and OpenSSL has the SHA-2
	 * functions. */
	struct cg__hmac2 *hlow[CG_ALG_HS512 + 1];
	unsigned char *secret;
	size_t secret_len;
	unsigned char ed25519[32];	     /* libsodium public key */
};

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
cg__sha256(const void *p, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	/* Fetched once for the process: every token is hashed, and a fetch
	 * per call costs a third of the hash. */
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md != NULL &&
		EVP_Digest(p, len, out, &n, sha256_md, NULL) == 1 && n == 32
	    ? 0
	    : -1;
}

void
cg__hex(const unsigned char *p, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static struct cg__pk *
pk_new(void)
{
	return cg__calloc(1, sizeof(struct cg__pk));
}

void
cg__pk_free(struct cg__pk *pk)
{
	size_t i;

	if (pk == NULL)
		return;
	for (i = 0; i <= CG_ALG_HS512; i++) {
		EVP_MD_CTX_free(pk->tmpl[i]);
		EVP_MD_CTX_free(pk->hin[i]);
		EVP_MD_CTX_free(pk->hout[i]);
		cg__hmac2_free(pk->hlow[i]);
	}
	EVP_PKEY_free(pk->pkey);
	cg__free_secret(pk->secret, pk->secret_len);
	free(pk);
}

/* Builds an EVP_PKEY from OSSL_PARAMs; `type` is "RSA", "EC". */
static EVP_PKEY *
from_params(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (ctx == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* OpenSSL checks the public part: for EC that the point is on the curve
 * and not infinity; for RSA that n is odd and e sane. */
static int
public_check(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok;

	if (ctx == NULL)
		return 0;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

cg_code
cg__pk_rsa(const unsigned char *n, size_t nlen, const unsigned char *e,
    size_t elen, struct cg__pk **out, unsigned *bits, char *why, size_t whysz)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	struct cg__pk *pk = NULL;
	cg_code rc = CG_ERR_NOMEM;
	int b;

	*out = NULL;
	*bits = 0;
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL)
		goto out;
	b = BN_num_bits(bn);
	*bits = (unsigned)b;
	if ((unsigned)b < CG_LIMIT_RSA_MIN_BITS) {
		snprintf(why, whysz, "RSA key of %d bits (minimum %u)", b,
		    CG_LIMIT_RSA_MIN_BITS);
		rc = CG_ERR_KEYSET;
		goto out;
	}
	if ((unsigned)b > CG_LIMIT_RSA_MAX_BITS) {
		snprintf(why, whysz, "RSA key of %d bits (maximum %u)", b,
		    CG_LIMIT_RSA_MAX_BITS);
		rc = CG_ERR_KEYSET;
		goto out;
	}
	/* e: odd, at least 3, at most 64 bits (RFC 8017 section 3.1). */
	if (!BN_is_odd(be) || BN_num_bits(be) < 2 || BN_num_bits(be) > 64) {
		snprintf(why, whysz, "RSA public exponent out of range");
		rc = CG_ERR_KEYSET;
		goto out;
	}
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pk = pk_new()) == NULL)
		goto out;
	pk->pkey = from_params("RSA", params);
	if (pk->pkey == NULL || !public_check(pk->pkey)) {
		snprintf(why, whysz, "RSA key rejected by the crypto library");
		rc = CG_ERR_KEYSET;
		goto out;
	}
	*out = pk;
	pk = NULL;
	rc = CG_OK;
out:
	cg__pk_free(pk);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

cg_code
cg__pk_ec(const char *crv, const unsigned char *x, const unsigned char *y,
    size_t coord_len, struct cg__pk **out, char *why, size_t whysz)
{
	unsigned char point[1 + 2 * 66];
	OSSL_PARAM params[3];
	struct cg__pk *pk;

	*out = NULL;
	if (coord_len > 66)
		return CG_ERR_ARG;
	/* SEC 1 uncompressed point: 0x04 || x || y. */
	point[0] = 0x04;
	memcpy(point + 1, x, coord_len);
	memcpy(point + 1 + coord_len, y, coord_len);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)crv, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * coord_len);
	params[2] = OSSL_PARAM_construct_end();
	if ((pk = pk_new()) == NULL)
		return CG_ERR_NOMEM;
	pk->pkey = from_params("EC", params);
	if (pk->pkey == NULL || !public_check(pk->pkey)) {
		snprintf(why, whysz, "EC point is not on curve %s", crv);
		cg__pk_free(pk);
		return CG_ERR_KEYSET;
	}
	*out = pk;
	return CG_OK;
}

cg_code
cg__pk_ed25519(const unsigned char *x, size_t len, struct cg__pk **out,
    char *why, size_t whysz)
{
	struct cg__pk *pk;

	*out = NULL;
	if (len != 32) {
		snprintf(why, whysz, "Ed25519 public key of %zu bytes (not 32)",
		    len);
		return CG_ERR_KEYSET;
	}
	if (sodium_init() < 0)
		return CG_ERR_CRYPTO;
	/* RFC 8032 5.1.3 decoding, plus: not of small order, in the main
	 * subgroup. A small-order key lets anyone forge (R = identity, S = 0
	 * verifies for every message). */
	if (crypto_core_ed25519_is_valid_point(x) != 1) {
		snprintf(why, whysz, "Ed25519 public key is not a valid point "
				     "of the main subgroup");
		return CG_ERR_KEYSET;
	}
	if ((pk = pk_new()) == NULL)
		return CG_ERR_NOMEM;
	memcpy(pk->ed25519, x, 32);
	*out = pk;
	return CG_OK;
}

cg_code
cg__pk_oct(const unsigned char *k, size_t len, struct cg__pk **out)
{
	struct cg__pk *pk;

	*out = NULL;
	if ((pk = pk_new()) == NULL)
		return CG_ERR_NOMEM;
	pk->secret = cg__malloc(len);
	if (pk->secret == NULL) {
		free(pk);
		return CG_ERR_NOMEM;
	}
	memcpy(pk->secret, k, len);
	pk->secret_len = len;
	*out = pk;
	return CG_OK;
}

static cg_code
prepare_md(struct cg__pk *pk, const struct cg_alg_desc *d)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL)
		return CG_ERR_NOMEM;
	if (EVP_DigestVerifyInit_ex(ctx, &pctx, d->md, NULL, NULL, pk->pkey,
		NULL) != 1)
		goto fail;
	if (d->family == CG_FAMILY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto fail;
	/* RFC 7518 section 3.5: MGF1 with the same hash, salt length equal to
	 * the hash length. Set explicitly: OpenSSL's default would accept
	 * any salt length when verifying. */
	if (d->family == CG_FAMILY_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, d->md, NULL) != 1 ||
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)d->hash_len) != 1))
		goto fail;
	pk->tmpl[d->alg] = ctx;
	return CG_OK;
fail:
	EVP_MD_CTX_free(ctx);
	return CG_ERR_CRYPTO;
}

/* One HMAC pad state: the digest after absorbing (key XOR pad). */
static EVP_MD_CTX *
pad_state(EVP_MD *md, const unsigned char *key, size_t keylen, size_t block,
    unsigned char pad)
{
	unsigned char buf[144]; /* the largest block, SHA-512: 128 */
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;
	int ok;

	if (ctx == NULL)
		return NULL;
	memset(buf, pad, block);
	for (i = 0; i < keylen; i++)
		buf[i] ^= key[i];
	ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, buf, block) == 1;
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!ok) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* cg__pk_evp_hmac_only (key.h): prepare HMAC keys the EVP way only. */
static int evp_hmac_only;

void
cg__pk_evp_hmac_only(int on)
{
	evp_hmac_only = on != 0;
}

/*
 * HMAC with the key's pad blocks absorbed once: a verification copies two
 * prepared digest states instead of duplicating an EVP_MAC context, which
 * costs half as much for a token-sized message (docs/decisions.md).
 */
static cg_code
prepare_mac(struct cg__pk *pk, const struct cg_alg_desc *d)
{
	unsigned char hashed[EVP_MAX_MD_SIZE];
	const unsigned char *key = pk->secret;
	size_t keylen = pk->secret_len, block;
	unsigned int n = 0;
	cg_code rc = CG_ERR_CRYPTO;
	EVP_MD *md;

	if ((md = EVP_MD_fetch(NULL, d->md, NULL)) == NULL)
		return CG_ERR_CRYPTO;
	block = (size_t)EVP_MD_get_block_size(md);
	if (block == 0 || block > 144)
		goto out;
	if (keylen > block) { /* RFC 2104 section 2: hash long keys */
		if (EVP_Digest(key, keylen, hashed, &n, md, NULL) != 1)
			goto out;
		key = hashed;
		keylen = n;
	}
	/* Plain states when allowed (a FIPS configuration keeps every digest
	 * inside the provider), else, or when they cannot be made, EVP's. */
	if (!evp_hmac_only && !EVP_default_properties_is_fips_enabled(NULL) &&
	    (pk->hlow[d->alg] =
	            cg__hmac2_new((int)d->hash_len * 8, key, keylen)) != NULL) {
		rc = CG_OK;
		goto out;
	}
	pk->hin[d->alg] = pad_state(md, key, keylen, block, 0x36);
	pk->hout[d->alg] = pad_state(md, key, keylen, block, 0x5c);
	rc = pk->hin[d->alg] != NULL && pk->hout[d->alg] != NULL
	         ? CG_OK
	         : CG_ERR_CRYPTO;
out:
	OPENSSL_cleanse(hashed, sizeof(hashed));
	EVP_MD_free(md);
	return rc;
}

cg_code
cg__pk_prepare(struct cg__pk *pk, cg_alg_set fits)
{
	cg_code rc;
	int a;

	for (a = CG_ALG_RS256; a <= CG_ALG_HS512; a++) {
		const struct cg_alg_desc *d = cg__alg_desc((cg_alg)a);
		if ((fits & CG_ALG_BIT(a)) == 0)
			continue;
		if (d->family == CG_FAMILY_HMAC)
			rc = prepare_mac(pk, d);
		else if (d->family == CG_FAMILY_ED)
			rc = CG_OK; /* one-shot; initialised per call */
		else
			rc = prepare_md(pk, d);
		if (rc != CG_OK)
			return rc;
	}
	return CG_OK;
}

/* Group orders (SEC 2 / FIPS 186-4 D.1.2), big-endian, coordinate size. */
static const unsigned char order_p256[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
	0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const unsigned char order_p384[48] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58,
	0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a,
	0xcc, 0xc5, 0x29, 0x73};
static const unsigned char order_p521[66] = {
	0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b, 0x7f, 0xcc,
	0x01, 0x48, 0xf7, 0x09, 0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89,
	0x9c, 0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38, 0x64, 0x09};

/* 1 when 1 <= v <= n - 1, for big-endian v and n of the same length. */
static int
in_range(const unsigned char *v, const unsigned char *n, size_t len)
{
	size_t i;
	int nonzero = 0;

	for (i = 0; i < len; i++)
		nonzero |= v[i];
	if (!nonzero)
		return 0;
	return memcmp(v, n, len) < 0;
}

/* Appends a DER INTEGER for the big-endian unsigned v. */
static size_t
der_int(unsigned char *p, const unsigned char *v, size_t len)
{
	size_t o = 0;

	while (len > 1 && v[0] == 0) {
		v++;
		len--;
	}
	p[o++] = 0x02;
	p[o++] = (unsigned char)(len + (v[0] & 0x80 ? 1 : 0));
	if (v[0] & 0x80)
		p[o++] = 0x00;
	memcpy(p + o, v, len);
	return o + len;
}

size_t
cg__ecdsa_raw_to_der(cg_alg alg, const unsigned char *sig, size_t siglen,
    unsigned char *der, size_t dersz)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	const unsigned char *order;
	unsigned char body[2 * (3 + 66)];
	size_t n, blen;

	if (d == NULL || d->family != CG_FAMILY_EC)
		return 0;
	n = d->coord_len;
	order = n == 32 ? order_p256 : n == 48 ? order_p384 : order_p521;
	/* Exactly r || s, each the coordinate size (RFC 7518 3.4); both in
	 * [1, n-1] (r = s = 0 is CVE-2022-21449). */
	if (siglen != 2 * n || !in_range(sig, order, n) ||
	    !in_range(sig + n, order, n))
		return 0;
	blen = der_int(body, sig, n);
	blen += der_int(body + blen, sig + n, n);
	if (dersz < blen + (blen < 0x80 ? 2 : 3))
		return 0;
	der[0] = 0x30;
	if (blen < 0x80) {
		der[1] = (unsigned char)blen;
		memcpy(der + 2, body, blen);
		return blen + 2;
	}
	der[1] = 0x81;
	der[2] = (unsigned char)blen;
	memcpy(der + 3, body, blen);
	return blen + 3;
}

static cg_code
verify_md(const struct cg__pk *pk, cg_alg alg, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	int r;

	if (pk->tmpl[alg] == NULL)
		return CG_ERR_SIGNATURE;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return CG_ERR_NOMEM;
	if (EVP_MD_CTX_copy_ex(ctx, pk->tmpl[alg]) != 1) {
		EVP_MD_CTX_free(ctx);
		return CG_ERR_CRYPTO;
	}
	/* The copy is finished once: without this flag the final step
	 * duplicates the provider context again so that it could go on. */
	EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
	r = EVP_DigestVerifyUpdate(ctx, msg, msglen) == 1 &&
	    EVP_DigestVerifyFinal(ctx, sig, siglen) == 1;
	EVP_MD_CTX_free(ctx);
	return r ? CG_OK : CG_ERR_SIGNATURE;
}

static cg_code
verify_ed25519(const struct cg__pk *pk, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	if (siglen != crypto_sign_BYTES)
		return CG_ERR_SIGNATURE;
	return crypto_sign_verify_detached(sig, msg, msglen, pk->ed25519) == 0
	    ? CG_OK
	    : CG_ERR_SIGNATURE;
}

static cg_code
verify_hmac(const struct cg__pk *pk, cg_alg alg, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	unsigned char inner[EVP_MAX_MD_SIZE], tag[EVP_MAX_MD_SIZE];
	unsigned int ilen = 0, tlen = 0;
	EVP_MD_CTX *ctx;
	int r;

	/* JOSE never truncates HMAC tags (RFC 7518 section 3.2). */
	if (siglen != d->hash_len)
		return CG_ERR_SIGNATURE;
	if (pk->hlow[alg] != NULL)
		return cg__hmac2_verify(pk->hlow[alg], msg, msglen, sig, siglen)
		           ? CG_OK
		           : CG_ERR_SIGNATURE;
	if (pk->hin[alg] == NULL)
		return CG_ERR_SIGNATURE;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return CG_ERR_NOMEM;
	r = EVP_MD_CTX_copy_ex(ctx, pk->hin[alg]) == 1 &&
	    EVP_DigestUpdate(ctx, msg, msglen) == 1 &&
	    EVP_DigestFinal_ex(ctx, inner, &ilen) == 1 &&
	    EVP_MD_CTX_copy_ex(ctx, pk->hout[alg]) == 1 &&
	    EVP_DigestUpdate(ctx, inner, ilen) == 1 &&
	    EVP_DigestFinal_ex(ctx, tag, &tlen) == 1 && tlen == siglen &&
	    CRYPTO_memcmp(tag, sig, siglen) == 0;
	EVP_MD_CTX_free(ctx);
	cg__wipe(inner, sizeof(inner));
	cg__wipe(tag, sizeof(tag));
	return r ? CG_OK : CG_ERR_SIGNATURE;
}

cg_code
cg__pk_verify(const struct cg__pk *pk, cg_alg alg, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	unsigned char der[3 + 2 * (3 + 66)];
	size_t derlen;

	if (d == NULL || pk == NULL)
		return CG_ERR_SIGNATURE;
	switch (d->family) {
	case CG_FAMILY_HMAC:
		return verify_hmac(pk, alg, msg, msglen, sig, siglen);
	case CG_FAMILY_ED:
		return verify_ed25519(pk, msg, msglen, sig, siglen);
	case CG_FAMILY_EC:
		derlen = cg__ecdsa_raw_to_der(alg, sig, siglen, der,
		    sizeof(der));
		if (derlen == 0)
			return CG_ERR_SIGNATURE;
		return verify_md(pk, alg, msg, msglen, der, derlen);
	default:
		/* RSASSA-PKCS1-v1_5 and -PSS verification both begin with "if
		 * the length of the signature is not k octets, it is invalid"
		 * (RFC 8017 sections 8.1.2 and 8.2.2). OpenSSL also accepts a
		 * shorter one (its leading zero octets dropped): a second
		 * encoding of the same signature, so another token. */
		if (pk->pkey == NULL ||
		    siglen != (size_t)EVP_PKEY_get_size(pk->pkey))
			return CG_ERR_SIGNATURE;
		return verify_md(pk, alg, msg, msglen, sig, siglen);
	}
}
