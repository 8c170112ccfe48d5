/*
 * signer.c - signing with OpenSSL for `mint`, `keygen` and the tests.
 */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "signer.h"

struct cg_signer {
	EVP_PKEY *pkey;
	unsigned char *secret;
	size_t secret_len;
};

void
cg__signer_free(struct cg_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pkey);
	cg__free_secret(s->secret, s->secret_len);
	free(s);
}

cg_code
cg__signer_from_secret(const unsigned char *k, size_t len,
    struct cg_signer **out)
{
	struct cg_signer *s;

	*out = NULL;
	if ((s = cg__calloc(1, sizeof(*s))) == NULL ||
	    (s->secret = cg__malloc(len)) == NULL) {
		free(s);
		return CG_ERR_NOMEM;
	}
	memcpy(s->secret, k, len);
	s->secret_len = len;
	*out = s;
	return CG_OK;
}

cg_code
cg__signer_generate(cg_alg alg, struct cg_signer **out)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	unsigned char k[64];
	struct cg_signer *s;
	cg_code rc;

	*out = NULL;
	if (d == NULL)
		return CG_ERR_ARG;
	if (d->family == CG_FAMILY_HMAC) {
		if (RAND_bytes(k, (int)d->hash_len) != 1)
			return CG_ERR_CRYPTO;
		rc = cg__signer_from_secret(k, d->hash_len, out);
		OPENSSL_cleanse(k, sizeof(k));
		return rc;
	}
	if ((s = cg__calloc(1, sizeof(*s))) == NULL)
		return CG_ERR_NOMEM;
	if (d->family == CG_FAMILY_RSA || d->family == CG_FAMILY_PSS)
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (d->family == CG_FAMILY_EC)
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", d->curve);
	else
		s->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (s->pkey == NULL) {
		free(s);
		return CG_ERR_CRYPTO;
	}
	*out = s;
	return CG_OK;
}

cg_code
cg__signer_load(const char *path, struct cg_signer **out,
    struct cg_error *err)
{
	char buf[8192];
	struct cg_signer *s;
	struct cg_json *doc = NULL;
	size_t len, bad;
	char why[80];
	FILE *f;
	cg_code rc;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return cg__err(err, CG_ERR_IO, CG_NO_OFFSET, "%s: %s", path,
		    strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	if (strstr(buf, "-----BEGIN") != NULL) {
		BIO *b = BIO_new_mem_buf(buf, (int)len);
		if ((s = cg__calloc(1, sizeof(*s))) == NULL || b == NULL) {
			BIO_free(b);
			free(s);
			OPENSSL_cleanse(buf, sizeof(buf));
			return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET,
			    "out of memory");
		}
		s->pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		OPENSSL_cleanse(buf, sizeof(buf));
		if (s->pkey == NULL) {
			free(s);
			return cg__err(err, CG_ERR_KEYSET, CG_NO_OFFSET,
			    "%s: not a PEM private key", path);
		}
		*out = s;
		return CG_OK;
	}
	rc = cg__json_parse_object(buf, len, CG_LIMIT_JSON_DEPTH, &doc, &bad,
	    why, sizeof(why));
	if (rc == CG_OK) {
		const char *kty, *k;
		size_t klen;
		unsigned char sec[CG_LIMIT_OCT_MAX_BYTES];
		if (cg_json_string(cg_json_object_get(doc, "kty"), &kty, NULL) !=
			CG_OK ||
		    strcmp(kty, "oct") != 0 ||
		    cg_json_string(cg_json_object_get(doc, "k"), &k, &klen) !=
			CG_OK ||
		    cg__b64url_decoded_len(klen) > sizeof(sec) ||
		    cg__b64url_decode(k, klen, sec, &len, &bad) != CG_OK ||
		    len == 0) {
			rc = cg__err(err, CG_ERR_KEYSET, CG_NO_OFFSET,
			    "%s: not an oct JWK", path);
		} else {
			rc = cg__signer_from_secret(sec, len, out);
		}
		OPENSSL_cleanse(sec, sizeof(sec));
	} else {
		rc = cg__err(err, CG_ERR_KEYSET, CG_NO_OFFSET,
		    "%s: neither a PEM private key nor an oct JWK", path);
	}
	cg__json_free(doc);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* Appends "name":"b64url(bn)" for a big-endian parameter of length len. */
static int
put_param(char *out, size_t outsz, size_t *o, const char *name,
    const unsigned char *p, size_t len)
{
	char enc[2 * 2048 / 3 + 8];
	int n;

	if (len > 1536)
		return -1;
	cg__b64url_encode(p, len, enc);
	n = snprintf(out + *o, outsz - *o, ",\"%s\":\"%s\"", name, enc);
	if (n < 0 || (size_t)n >= outsz - *o)
		return -1;
	*o += (size_t)n;
	return 0;
}

static int
put_bn(const EVP_PKEY *pkey, const char *param, size_t pad, char *out,
    size_t outsz, size_t *o, const char *name)
{
	unsigned char buf[1024];
	BIGNUM *bn = NULL;
	int len, rc;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		return -1;
	len = BN_num_bytes(bn);
	if ((size_t)len > sizeof(buf) || pad > sizeof(buf)) {
		BN_free(bn);
		return -1;
	}
	if (pad > 0)
		len = BN_bn2binpad(bn, buf, (int)pad);
	else
		len = BN_bn2bin(bn, buf);
	BN_free(bn);
	if (len < 0)
		return -1;
	rc = put_param(out, outsz, o, name, buf, (size_t)len);
	return rc;
}

char *
cg__signer_jwk(const struct cg_signer *s, const char *kid, const char *alg)
{
	size_t outsz = 4096, o = 0;
	char *out = cg__malloc(outsz), name[32];
	int n;

	if (out == NULL)
		return NULL;
	if (s->secret != NULL) {
		n = snprintf(out, outsz, "{\"kty\":\"oct\"");
		o = (size_t)n;
		if (put_param(out, outsz, &o, "k", s->secret, s->secret_len))
			goto fail;
	} else if (EVP_PKEY_is_a(s->pkey, "RSA")) {
		o = (size_t)snprintf(out, outsz, "{\"kty\":\"RSA\"");
		if (put_bn(s->pkey, OSSL_PKEY_PARAM_RSA_N, 0, out, outsz, &o,
			"n") ||
		    put_bn(s->pkey, OSSL_PKEY_PARAM_RSA_E, 0, out, outsz, &o,
			"e"))
			goto fail;
	} else if (EVP_PKEY_is_a(s->pkey, "EC")) {
		size_t len = 0, coord;
		unsigned char pt[1 + 2 * 66];
		const char *crv;
		if (EVP_PKEY_get_utf8_string_param(s->pkey,
			OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
			NULL) != 1)
			goto fail;
		crv = strcmp(name, "prime256v1") == 0 ? "P-256"
		    : strcmp(name, "secp384r1") == 0  ? "P-384"
						      : "P-521";
		coord = crv[2] == '2' ? 32 : crv[2] == '3' ? 48 : 66;
		if (EVP_PKEY_get_octet_string_param(s->pkey,
			OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) != 1 ||
		    len != 1 + 2 * coord)
			goto fail;
		o = (size_t)snprintf(out, outsz,
		    "{\"kty\":\"EC\",\"crv\":\"%s\"", crv);
		if (put_param(out, outsz, &o, "x", pt + 1, coord) ||
		    put_param(out, outsz, &o, "y", pt + 1 + coord, coord))
			goto fail;
	} else {
		unsigned char x[32];
		size_t len = sizeof(x);
		if (EVP_PKEY_get_raw_public_key(s->pkey, x, &len) != 1)
			goto fail;
		o = (size_t)snprintf(out, outsz,
		    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"");
		if (put_param(out, outsz, &o, "x", x, len))
			goto fail;
	}
	if (kid != NULL) {
		char ekid[256];
		cg__escape(ekid, sizeof(ekid), kid, strlen(kid), 64);
		n = snprintf(out + o, outsz - o, ",\"kid\":\"%s\"", ekid);
		if (n < 0 || (size_t)n >= outsz - o)
			goto fail;
		o += (size_t)n;
	}
	if (alg != NULL) {
		n = snprintf(out + o, outsz - o, ",\"alg\":\"%s\"", alg);
		if (n < 0 || (size_t)n >= outsz - o)
			goto fail;
		o += (size_t)n;
	}
	if (outsz - o < 2)
		goto fail;
	out[o++] = '}';
	out[o] = '\0';
	return out;
fail:
	cg__free_secret(out, outsz);
	return NULL;
}

char *
cg__signer_private_pem(const struct cg_signer *s)
{
	BIO *b;
	BUF_MEM *m;
	char *out = NULL;

	if (s->secret != NULL)
		return cg__signer_jwk(s, NULL, NULL);
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(b, s->pkey, NULL, NULL, 0, NULL,
		NULL) == 1) {
		BIO_get_mem_ptr(b, &m);
		out = cg__strndup(m->data, m->length);
	}
	BIO_free(b);
	return out;
}

/* DER ECDSA-Sig-Value -> raw r||s of the coordinate size. */
static size_t
der_to_raw(const unsigned char *der, size_t derlen, size_t coord,
    unsigned char *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	const BIGNUM *r, *s;
	size_t rc = 0;

	if (sig == NULL)
		return 0;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, (int)coord) == (int)coord &&
	    BN_bn2binpad(s, out + coord, (int)coord) == (int)coord)
		rc = 2 * coord;
	ECDSA_SIG_free(sig);
	return rc;
}

size_t
cg__signer_sign_raw(const struct cg_signer *s, cg_alg alg,
    const unsigned char *msg, size_t len, unsigned char *sig)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	unsigned char der[1024];
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *ctx;
	size_t siglen = sizeof(der);
	int ok;

	if (d == NULL)
		return 0;
	if (d->family == CG_FAMILY_HMAC) {
		unsigned int n = 0;
		if (s->secret == NULL)
			return 0;
		return HMAC(EVP_get_digestbyname(d->md), s->secret,
			   (int)s->secret_len, msg, len, sig, &n) != NULL
		    ? n
		    : 0;
	}
	if (s->pkey == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestSignInit_ex(ctx, &pctx, d->md, NULL, NULL, s->pkey,
		 NULL) == 1;
	if (ok && d->family == CG_FAMILY_RSA)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
	if (ok && d->family == CG_FAMILY_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx,
			 RSA_PKCS1_PSS_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, d->md, NULL) == 1 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)d->hash_len) ==
			1;
	ok = ok && EVP_DigestSign(ctx, der, &siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return 0;
	if (d->family == CG_FAMILY_EC)
		return der_to_raw(der, siglen, d->coord_len, sig);
	memcpy(sig, der, siglen);
	return siglen;
}

char *
cg__signer_sign(const struct cg_signer *s, cg_alg alg, const char *header,
    size_t hlen, const char *payload, size_t plen)
{
	size_t hl = (hlen + 2) / 3 * 4 + 1, pl = (plen + 2) / 3 * 4 + 1, o;
	unsigned char sig[1024];
	size_t siglen;
	char *out;

	if (hlen > 65536 || plen > 65536)
		return NULL;
	if ((out = cg__malloc(hl + pl + 1400 + 2)) == NULL)
		return NULL;
	o = cg__b64url_encode((const unsigned char *)header, hlen, out);
	out[o++] = '.';
	o += cg__b64url_encode((const unsigned char *)payload, plen, out + o);
	siglen = cg__signer_sign_raw(s, alg, (const unsigned char *)out, o,
	    sig);
	if (siglen == 0) {
		free(out);
		return NULL;
	}
	out[o++] = '.';
	cg__b64url_encode(sig, siglen, out + o);
	return out;
}
