/*
 * test_attacks.c - the JWS attack suite: one test per attack class, each
 * asserting the exact cg_code (and offset, where the header promises one)
 * and that no forged token is ever accepted.
 *
 * Every token goes through cg_token_parse() then cg_token_verify(), the
 * same two calls the decision engine makes (contract section 3, steps
 * token_missing .. signature_invalid; RFC 8725).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cgtest.h"
#include "ec_orders.h"
#include "internal.h"
#include "key.h"

static const char *const payload =
    "{\"iss\":\"https://"
    "sso.example.com\",\"sub\":\"alice\",\"exp\":2000000000}";

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* One trusted key per family, generated once: RSA (RS* and PS*), one EC
 * key per curve, Ed25519, and a 64-byte HMAC secret (HS256/384/512). */
struct fixture {
	struct cgt_key rsa, p256, p384, p521, ed, hs;
	struct cg_keyset *all; /* all six, in that order */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *jwks[6];

	if (f == NULL)
		return -1;
	cgt_key_gen(&f->rsa, CG_ALG_RS256, "rsa", 0);
	cgt_key_gen(&f->p256, CG_ALG_ES256, "p256", 0);
	cgt_key_gen(&f->p384, CG_ALG_ES384, "p384", 0);
	cgt_key_gen(&f->p521, CG_ALG_ES512, "p521", 0);
	cgt_key_gen(&f->ed, CG_ALG_EDDSA, "ed", 0);
	cgt_key_gen(&f->hs, CG_ALG_HS512, "hs", 0);
	jwks[0] = f->rsa.jwk;
	jwks[1] = f->p256.jwk;
	jwks[2] = f->p384.jwk;
	jwks[3] = f->p521.jwk;
	jwks[4] = f->ed.jwk;
	jwks[5] = f->hs.jwk;
	f->all = cgt_keyset(jwks, 6);
	if (cg_keyset_count(f->all) != 6)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cg_keyset_free(f->all);
	cgt_key_free(&f->rsa);
	cgt_key_free(&f->p256);
	cgt_key_free(&f->p384);
	cgt_key_free(&f->p521);
	cgt_key_free(&f->ed);
	cgt_key_free(&f->hs);
	free(f);
	return 0;
}

/* The trusted key that signs `alg`. */
static const struct cgt_key *
key_for(const struct fixture *f, cg_alg alg)
{
	switch (cg__alg_desc(alg)->family) {
	case CG_FAMILY_RSA:
	case CG_FAMILY_PSS: return &f->rsa;
	case CG_FAMILY_EC:
		return alg == CG_ALG_ES256   ? &f->p256
		       : alg == CG_ALG_ES384 ? &f->p384
		                             : &f->p521;
	case CG_FAMILY_ED: return &f->ed;
	case CG_FAMILY_HMAC: return &f->hs;
	}
	return NULL;
}

/* Signs header.payload (exact bytes) with `k` using `alg`; free(). */
static char *
mint_as(const struct cgt_key *k, cg_alg alg, const char *header, const char *pl)
{
	char *t = cg__signer_sign(
	    k->signer, alg, header, strlen(header), pl, strlen(pl));

	assert_non_null(t);
	return t;
}

/* {"alg":"<alg>"} or {"alg":"<alg>","kid":"<kid>"}; free(). */
static char *
hdr(cg_alg alg, const char *kid)
{
	if (kid == NULL)
		return cgt_fmt("{\"alg\":\"%s\"}", cg_alg_name(alg));
	return cgt_fmt(
	    "{\"alg\":\"%s\",\"kid\":\"%s\"}", cg_alg_name(alg), kid);
}

/* B64(header) '.' B64(payload) '.' B64(sig); free(). */
static char *
make_token(
    const char *header, const char *pl, const unsigned char *sig, size_t siglen)
{
	char *h = cgt_b64(header, strlen(header)), *p = cgt_b64(pl, strlen(pl));
	char *s = cgt_b64(sig, siglen), *t = cgt_fmt("%s.%s.%s", h, p, s);

	free(h);
	free(p);
	free(s);
	return t;
}

/* The decoded signature of a compact token (at most 1024 bytes). */
static size_t
token_sig(const char *tok, unsigned char *sig)
{
	const char *dot = strrchr(tok, '.');
	size_t len, bad;

	assert_non_null(dot);
	assert_true(cg__b64url_decoded_len(strlen(dot + 1)) <= 1024);
	assert_int_equal(
	    cg__b64url_decode(dot + 1, strlen(dot + 1), sig, &len, &bad),
	    CG_OK);
	return len;
}

/* `tok` with its signature replaced; free(). */
static char *
with_sig(const char *tok, const unsigned char *sig, size_t siglen)
{
	const char *dot = strrchr(tok, '.');
	char *s = cgt_b64(sig, siglen);
	char *t = cgt_fmt("%.*s.%s", (int)(dot - tok), tok, s);

	free(s);
	return t;
}

/* `jwk` (as cg__signer_jwk writes it) without its "kid" member; free(). */
static char *
strip_kid(const char *jwk)
{
	char *out = cgt_fmt("%s", jwk), *p = strstr(out, ",\"kid\":\""), *e;

	assert_non_null(p);
	e = strchr(p + 8, '"');
	assert_non_null(e);
	memmove(p, e + 1, strlen(e + 1) + 1);
	return out;
}

/*
 * Parses and verifies `len` bytes at `tok` (copied into an exactly sized
 * buffer, so ASan sees any read past the end). Returns the first failing
 * code, or CG_OK. `err` receives the details; *idx the key index on OK.
 */
static cg_code
run(const char *tok, size_t len, size_t max_len, const struct cg_keyset *ks,
    cg_alg_set allowed, struct cg_error *err, size_t *idx)
{
	struct cg_token *t = (struct cg_token *)(uintptr_t)1;
	char *copy = malloc(len == 0 ? 1 : len);
	cg_code rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, tok, len);
	memset(err, 0, sizeof(*err));
	rc = cg_token_parse(len == 0 ? NULL : copy, len, max_len, &t, err);
	if (rc == CG_OK) {
		assert_non_null(t);
		rc = cg_token_verify(t, ks, allowed, idx, err);
		cg_token_free(t);
	} else {
		assert_null(t);
	}
	free(copy);
	if (rc != CG_OK)
		assert_int_equal(err->code, rc);
	return rc;
}

/* Expects `tok` to fail with `want` (never CG_OK) against `ks`. */
static void
expect_code(
    const char *what, const char *tok, const struct cg_keyset *ks, cg_code want)
{
	struct cg_error err;
	size_t idx;
	cg_code rc = run(tok, strlen(tok), 0, ks, CG_ALG_ALL, &err, &idx);

	if (want != CG_OK && rc == CG_OK)
		fail_msg("%s: FORGERY ACCEPTED (key %zu)", what, idx);
	if (rc != want)
		fail_msg("%s: got %s (%s), want %s", what, cg_code_name(rc),
		    err.msg, cg_code_name(want));
}

/* Expects `want` at byte `offset` of `len` bytes at `tok`. */
static void
expect_at(const char *what, const char *tok, size_t len,
    const struct cg_keyset *ks, cg_code want, size_t offset)
{
	struct cg_error err;
	size_t idx;
	cg_code rc = run(tok, len, 0, ks, CG_ALG_ALL, &err, &idx);

	if (rc == CG_OK)
		fail_msg("%s: FORGERY ACCEPTED", what);
	if (rc != want || err.offset != offset)
		fail_msg("%s: got %s at %zu (%s), want %s at %zu", what,
		    cg_code_name(rc), err.offset, err.msg, cg_code_name(want),
		    offset);
}

/* ---------------------------------------------------------------------
 * alg "none" (RFC 8725 section 2.1)
 */
static void
test_alg_none(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {"none", "None", "NONE", "nOnE",
	    "noNe", "", " none", "none ", "hs256", "HS256 ", "RS-256", "ES256K",
	    "HS1", "RSA-OAEP", "dir"};
	unsigned char mac[64];
	size_t i, k, maclen;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *h = cgt_fmt("{\"alg\":\"%s\"}", names[i]);
		char *h_kid =
		    cgt_fmt("{\"alg\":\"%s\",\"kid\":\"hs\"}", names[i]);
		char *tok[4], *what;
		/* Empty signature, junk, and the MAC a lenient library would
		 * compute for the same input with the trusted HMAC key. */
		tok[0] = make_token(h, payload, NULL, 0);
		tok[1] =
		    make_token(h, payload, (const unsigned char *)"sig", 3);
		{
			char *unsig = make_token(h_kid, payload, NULL, 0);
			size_t ilen = strlen(unsig) - 1;
			maclen = cg__signer_sign_raw(f->hs.signer, CG_ALG_HS256,
			    (const unsigned char *)unsig, ilen, mac);
			assert_int_equal(maclen, 32);
			tok[2] = with_sig(unsig, mac, maclen);
			free(unsig);
		}
		tok[3] = cgt_fmt("%s", tok[0]);
		tok[3][strlen(tok[3]) - 1] = '\0'; /* no trailing dot: 2 segs */
		for (k = 0; k < 3; k++) {
			struct cg_token *t;
			struct cg_error err;
			what = cgt_fmt("alg \"%s\" token %zu", names[i], k);
			expect_code(what, tok[k], f->all, CG_ERR_ALG);
			/* Parsed, but never a known algorithm. */
			assert_int_equal(
			    cg_token_parse(tok[k], strlen(tok[k]), 0, &t, &err),
			    CG_OK);
			assert_int_equal(cg_token_alg(t), CG_ALG_UNKNOWN);
			assert_string_equal(cg_token_alg_name(t), names[i]);
			cg_token_free(t);
			free(what);
		}
		expect_code(
		    "alg none, two segments", tok[3], f->all, CG_ERR_MALFORMED);
		for (k = 0; k < 4; k++)
			free(tok[k]);
		free(h);
		free(h_kid);
	}
	/* `none` is refused even when every algorithm bit is set. */
	{
		char *tok = make_token("{\"alg\":\"none\"}", payload, NULL, 0);
		struct cg_token *t;
		struct cg_error err;
		assert_int_equal(
		    cg_token_parse(tok, strlen(tok), 0, &t, &err), CG_OK);
		assert_int_equal(
		    cg_token_verify(t, f->all, (cg_alg_set)~0u, NULL, &err),
		    CG_ERR_ALG);
		cg_token_free(t);
		free(tok);
	}
	assert_int_equal(cg_alg_from_name("none", 4), CG_ALG_UNKNOWN);
	assert_int_equal(cg_alg_from_name("NONE", 4), CG_ALG_UNKNOWN);
	assert_int_equal(cg_alg_from_name("HS256\0", 6), CG_ALG_UNKNOWN);
}

/* An allowed algorithm outside the caller's list is CG_ERR_ALG too. */
static void
test_alg_not_allowed(void **state)
{
	struct fixture *f = *state;
	char *tok = cgt_mint_simple(&f->p256, "p256", payload);
	struct cg_error err;
	size_t idx;

	assert_int_equal(
	    run(tok, strlen(tok), 0, f->all, CG_ALG_ALL, &err, &idx), CG_OK);
	assert_int_equal(idx, 1);
	assert_int_equal(
	    run(tok, strlen(tok), 0, f->all,
	        CG_ALG_BIT(CG_ALG_RS256) | CG_ALG_BIT(CG_ALG_ES384), &err,
	        &idx),
	    CG_ERR_ALG);
	assert_int_equal(
	    run(tok, strlen(tok), 0, f->all, 0, &err, &idx), CG_ERR_ALG);
	free(tok);
}

/* ---------------------------------------------------------------------
 * RS256 -> HS256 key confusion: the attacker MACs with the public key's
 * bytes as the secret. A set holding only the RSA key has no oct key, so
 * no key fits HS256.
 */
static void
test_rsa_hmac_confusion(void **state)
{
	struct fixture *f = *state;
	char *priv = cg__signer_private_pem(f->rsa.signer);
	BIO *in = BIO_new_mem_buf(priv, -1), *out = BIO_new(BIO_s_mem());
	EVP_PKEY *pk;
	unsigned char *spki = NULL, *pkcs1 = NULL;
	int spki_len, pkcs1_len;
	char *pem_data;
	long pem_len;
	struct {
		const char *name;
		const unsigned char *p;
		size_t len;
	} secrets[6];
	const char *rsa_alg_jwk;
	struct cg_keyset *only_rsa, *only_rsa_alg;
	char *jwk_alg, *n;
	size_t i, s, ns = 0;
	unsigned char nbytes[512];
	size_t nlen, bad;

	assert_non_null(in);
	assert_non_null(out);
	pk = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	assert_non_null(pk);
	assert_int_equal(PEM_write_bio_PUBKEY(out, pk), 1);
	pem_len = BIO_get_mem_data(out, &pem_data);
	assert_true(pem_len > 0);
	spki_len = i2d_PUBKEY(pk, &spki);
	pkcs1_len = i2d_PublicKey(pk, &pkcs1);
	assert_true(spki_len > 0 && pkcs1_len > 0);
	{
		const char *p = strstr(f->rsa.jwk, "\"n\":\"") + 5;
		n = cgt_fmt("%.*s", (int)(strchr(p, '"') - p), p);
		assert_int_equal(
		    cg__b64url_decode(n, strlen(n), nbytes, &nlen, &bad),
		    CG_OK);
	}
	secrets[ns].name = "JWK text";
	secrets[ns].p = (const unsigned char *)f->rsa.jwk;
	secrets[ns++].len = strlen(f->rsa.jwk);
	secrets[ns].name = "SPKI PEM";
	secrets[ns].p = (const unsigned char *)pem_data;
	secrets[ns++].len = (size_t)pem_len;
	secrets[ns].name = "SPKI PEM without final newline";
	secrets[ns].p = (const unsigned char *)pem_data;
	secrets[ns++].len = (size_t)pem_len - 1;
	secrets[ns].name = "SPKI DER";
	secrets[ns].p = spki;
	secrets[ns++].len = (size_t)spki_len;
	secrets[ns].name = "PKCS#1 DER";
	secrets[ns].p = pkcs1;
	secrets[ns++].len = (size_t)pkcs1_len;
	secrets[ns].name = "modulus bytes";
	secrets[ns].p = nbytes;
	secrets[ns++].len = nlen;

	only_rsa = cgt_keyset((const char *const *)&f->rsa.jwk, 1);
	jwk_alg = cgt_fmt("{\"alg\":\"RS256\",%s", f->rsa.jwk + 1);
	rsa_alg_jwk = jwk_alg;
	only_rsa_alg = cgt_keyset(&rsa_alg_jwk, 1);
	for (s = 0; s < ns; s++) {
		struct cgt_key atk;
		memset(&atk, 0, sizeof(atk));
		assert_int_equal(cg__signer_from_secret(
		                     secrets[s].p, secrets[s].len, &atk.signer),
		    CG_OK);
		for (i = CG_ALG_HS256; i <= CG_ALG_HS512; i++) {
			char *h = hdr((cg_alg)i, NULL),
			     *hk = hdr((cg_alg)i, "rsa");
			char *t1 = mint_as(&atk, (cg_alg)i, h, payload);
			char *t2 = mint_as(&atk, (cg_alg)i, hk, payload);
			char *what = cgt_fmt("%s as %s secret", secrets[s].name,
			    cg_alg_name((cg_alg)i));
			expect_code(what, t1, only_rsa, CG_ERR_KEY_NOT_FOUND);
			expect_code(what, t2, only_rsa, CG_ERR_KEY_NOT_FOUND);
			expect_code(
			    what, t1, only_rsa_alg, CG_ERR_KEY_NOT_FOUND);
			expect_code(
			    what, t2, only_rsa_alg, CG_ERR_KEY_NOT_FOUND);
			free(h);
			free(hk);
			free(t1);
			free(t2);
			free(what);
		}
		cg__signer_free(atk.signer);
	}
	/* With the full set, an HMAC key exists, but it is not the RSA
	 * key's bytes: the MAC does not verify. */
	{
		struct cgt_key atk;
		char *h = hdr(CG_ALG_HS256, NULL), *t;
		assert_int_equal(
		    cg__signer_from_secret(spki, (size_t)spki_len, &atk.signer),
		    CG_OK);
		t = mint_as(&atk, CG_ALG_HS256, h, payload);
		expect_code(
		    "SPKI DER vs full set", t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(h);
		/* Pointing kid at the RSA key: it does not fit HS256. */
		h = hdr(CG_ALG_HS256, "rsa");
		t = mint_as(&atk, CG_ALG_HS256, h, payload);
		expect_code("kid rsa, HS256", t, f->all, CG_ERR_KEY_NOT_FOUND);
		free(t);
		free(h);
		cg__signer_free(atk.signer);
	}
	cg_keyset_free(only_rsa);
	cg_keyset_free(only_rsa_alg);
	free(jwk_alg);
	free(n);
	OPENSSL_free(spki);
	OPENSSL_free(pkcs1);
	EVP_PKEY_free(pk);
	BIO_free(in);
	BIO_free(out);
	cg__free_secret(priv, strlen(priv));
}

/* ---------------------------------------------------------------------
 * ECDSA: r = s = 0 (CVE-2022-21449), r or s >= n, DER instead of raw.
 * The group orders n are in tests/support/ec_orders.c.
 */
static void
test_ecdsa_zero_and_out_of_range(void **state)
{
	struct fixture *f = *state;
	static const cg_alg algs[] = {CG_ALG_ES256, CG_ALG_ES384, CG_ALG_ES512};
	static const unsigned char *const orders[] = {
	    cgt_n256, cgt_n384, cgt_n521};
	size_t a;

	for (a = 0; a < 3; a++) {
		const struct cgt_key *k = key_for(f, algs[a]);
		size_t n = cg__alg_desc(algs[a])->coord_len, len;
		unsigned char good[132], sig[132];
		char *h = hdr(algs[a], NULL), *tok = cgt_mint(k, h, payload);
		char *t;

		expect_code("ECDSA control", tok, f->all, CG_OK);
		len = token_sig(tok, good);
		assert_int_equal(len, 2 * n);

#define TRY(what, want)                                                        \
	do {                                                                   \
		t = with_sig(tok, sig, 2 * n);                                 \
		expect_code(what, t, f->all, want);                            \
		free(t);                                                       \
	} while (0)

		memset(sig, 0, sizeof(sig));
		TRY("r = s = 0 (CVE-2022-21449)", CG_ERR_SIGNATURE);
		memcpy(sig, good, 2 * n);
		memset(sig, 0, n);
		TRY("r = 0", CG_ERR_SIGNATURE);
		memcpy(sig, good, 2 * n);
		memset(sig + n, 0, n);
		TRY("s = 0", CG_ERR_SIGNATURE);
		memcpy(sig, orders[a], n);
		memcpy(sig + n, good + n, n);
		TRY("r = n", CG_ERR_SIGNATURE);
		memcpy(sig, good, n);
		memcpy(sig + n, orders[a], n);
		TRY("s = n", CG_ERR_SIGNATURE);
		memcpy(sig, orders[a], n);
		memcpy(sig + n, orders[a], n);
		TRY("r = s = n", CG_ERR_SIGNATURE);
		memset(sig, 0xff, 2 * n);
		TRY("r = s = 2^k - 1", CG_ERR_SIGNATURE);
		memcpy(sig, good, n);
		memset(sig + n, 0xff, n);
		TRY("s = 2^k - 1", CG_ERR_SIGNATURE);
		/* r = 1, s = 1 and r = n - 1: in range but wrong. */
		memset(sig, 0, 2 * n);
		sig[n - 1] = 1;
		sig[2 * n - 1] = 1;
		TRY("r = s = 1", CG_ERR_SIGNATURE);
#undef TRY
		free(tok);
		free(h);
	}
}

/* A DER ECDSA-Sig-Value where RFC 7518 3.4 requires raw r || s. */
static void
test_ecdsa_der_signature(void **state)
{
	struct fixture *f = *state;
	static const cg_alg algs[] = {CG_ALG_ES256, CG_ALG_ES384, CG_ALG_ES512};
	size_t a;

	for (a = 0; a < 3; a++) {
		const struct cgt_key *k = key_for(f, algs[a]);
		char *h = hdr(algs[a], NULL), *tok = cgt_mint(k, h, payload),
		     *t;
		unsigned char raw[132], der[200];
		size_t len = token_sig(tok, raw), dlen;

		dlen =
		    cg__ecdsa_raw_to_der(algs[a], raw, len, der, sizeof(der));
		assert_true(dlen > 0);
		t = with_sig(tok, der, dlen);
		expect_code("DER signature", t, f->all, CG_ERR_SIGNATURE);
		free(t);
		/* DER padded or cut to exactly 2n bytes still is not raw. */
		if (dlen < len) {
			memset(der + dlen, 0, len - dlen);
			t = with_sig(tok, der, len);
			expect_code("DER zero-padded to 2n", t, f->all,
			    CG_ERR_SIGNATURE);
			free(t);
		}
		t = with_sig(tok, der, len);
		expect_code("DER cut to 2n", t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(tok);
		free(h);
	}
}

/*
 * An RSA signature is exactly k octets (the modulus length; RFC 8017
 * 8.1.2 and 8.2.2, step 1). One whose first octet is 0x00 stays the same
 * number without it, and OpenSSL accepts that shorter string: a second
 * encoding of one signature, hence a different token with the same
 * meaning. Signatures starting with 0x00 are searched for (about one in
 * 256; PSS is randomised, PKCS#1 v1.5 gets a varying payload), so the
 * test does not depend on luck.
 */
static void
test_rsa_leading_zero_dropped(void **state)
{
	static const cg_alg algs[] = {CG_ALG_RS256, CG_ALG_PS256};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		char *h = hdr(algs[i], NULL), *tok = NULL, *t, *what;
		unsigned char sig[1100];
		size_t len = 0;
		int n;

		for (n = 0; n < 8192; n++) {
			char *pl = cgt_fmt("{\"iss\":\"x\",\"n\":%d}", n);
			tok = mint_as(&f->rsa, algs[i], h, pl);
			free(pl);
			len = token_sig(tok, sig);
			if (sig[0] == 0)
				break;
			free(tok);
			tok = NULL;
		}
		assert_non_null(tok);
		assert_int_equal(len, 256);
		expect_code("control", tok, f->all, CG_OK);
		what = cgt_fmt("%s leading 0x00 dropped", cg_alg_name(algs[i]));
		t = with_sig(tok, sig + 1, len - 1);
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
		free(tok);
		free(h);
	}
}

/* One byte short, one byte long (at either end), empty: every alg. */
static void
test_wrong_length_signatures(void **state)
{
	struct fixture *f = *state;
	int a;

	for (a = CG_ALG_RS256; a <= CG_ALG_HS512; a++) {
		const struct cgt_key *k = key_for(f, (cg_alg)a);
		char *h = hdr((cg_alg)a, NULL),
		     *tok = mint_as(k, (cg_alg)a, h, payload);
		unsigned char sig[1100];
		size_t len = token_sig(tok, sig + 1);
		char *t, *what;

		expect_code("control", tok, f->all, CG_OK);
		sig[0] = 0;
		sig[len + 1] = 0;
		what = cgt_fmt("%s one byte short", cg_alg_name((cg_alg)a));
		t = with_sig(tok, sig + 1, len - 1);
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
		what = cgt_fmt("%s first byte dropped", cg_alg_name((cg_alg)a));
		t = with_sig(tok, sig + 2, len - 1);
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
		what = cgt_fmt("%s trailing 0x00", cg_alg_name((cg_alg)a));
		t = with_sig(tok, sig + 1, len + 1);
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
		what = cgt_fmt("%s leading 0x00", cg_alg_name((cg_alg)a));
		t = with_sig(tok, sig, len + 1);
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
		what = cgt_fmt("%s doubled", cg_alg_name((cg_alg)a));
		memcpy(sig + 1 + len, sig + 1, len);
		t = with_sig(tok, sig + 1, 2 * len);
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
		/* Empty: zero bytes, decided after key choice. */
		what = cgt_fmt("%s empty", cg_alg_name((cg_alg)a));
		t = with_sig(tok, sig, 0);
		assert_int_equal(t[strlen(t) - 1], '.');
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
		free(tok);
		free(h);
	}
}

/* Ed25519: S + L (and S + kL) is the same scalar mod L, but not the
 * canonical encoding (RFC 8032 section 5.1.7 requires S < L). */
static void
test_ed25519_non_canonical_s(void **state)
{
	struct fixture *f = *state;
	static const unsigned char L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63,
	    0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
	char *h = hdr(CG_ALG_EDDSA, "ed"), *tok = cgt_mint(&f->ed, h, payload);
	unsigned char sig[64];
	size_t len = token_sig(tok, sig), k, i;

	assert_int_equal(len, 64);
	expect_code("Ed25519 control", tok, f->all, CG_OK);
	for (k = 1; k <= 3; k++) {
		unsigned carry = 0;
		char *t, *what;
		/* S += L, little-endian (S < L < 2^253, so no overflow). */
		for (i = 0; i < 32; i++) {
			unsigned v = sig[32 + i] + L[i] + carry;
			sig[32 + i] = (unsigned char)v;
			carry = v >> 8;
		}
		assert_int_equal(carry, 0);
		what = cgt_fmt("S + %zu L", k);
		t = with_sig(tok, sig, 64);
		expect_code(what, t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(what);
	}
	/* R and S swapped, and all zero. */
	assert_int_equal(token_sig(tok, sig), 64);
	{
		unsigned char sw[64];
		char *t;
		memcpy(sw, sig + 32, 32);
		memcpy(sw + 32, sig, 32);
		t = with_sig(tok, sw, 64);
		expect_code("R, S swapped", t, f->all, CG_ERR_SIGNATURE);
		free(t);
		memset(sw, 0, 64);
		t = with_sig(tok, sw, 64);
		expect_code("all-zero Ed25519", t, f->all, CG_ERR_SIGNATURE);
		free(t);
	}
	free(tok);
	free(h);
}

/* A key set holding a small-order Ed25519 public key (here the identity
 * point, x = 01 00 .. 00): with R = identity and S = 0 the verification
 * equation [S]B = R + [k]A holds for every message, so any payload
 * "verifies". libsodium refuses such keys (ge25519_has_small_order); the
 * loader should skip them like an EC point that is not on its curve. */
static void
test_ed25519_small_order_key(void **state)
{
	unsigned char x[32], sig[64];
	char *xb, *jwk, *t;
	const char *jwkp;
	struct cg_keyset *ks;
	struct cg_error err;
	size_t idx;
	cg_code rc;

	(void)state;
	memset(x, 0, sizeof(x));
	x[0] = 1;
	memset(sig, 0, sizeof(sig));
	sig[0] = 1; /* R = identity, S = 0 */
	xb = cgt_b64(x, sizeof(x));
	jwk = cgt_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"weak\","
	              "\"x\":\"%s\"}",
	    xb);
	jwkp = jwk;
	ks = cgt_keyset(&jwkp, 1);
	t = make_token("{\"alg\":\"EdDSA\"}", "{\"sub\":\"admin\"}", sig, 64);
	rc = run(t, strlen(t), 0, ks, CG_ALG_ALL, &err, &idx);
	/* Today the key loads and the forgery verifies (rc == CG_OK). */
	assert_true(rc == CG_OK || rc == CG_ERR_KEY_NOT_FOUND ||
	            rc == CG_ERR_SIGNATURE);
	assert_int_equal(cg_keyset_count(ks), 0);
	assert_int_not_equal(rc, CG_OK);
	cg_keyset_free(ks);
	free(t);
	free(jwk);
	free(xb);
}

/* ---------------------------------------------------------------------
 * Compact serialization: exactly three segments.
 */
static void
test_segments(void **state)
{
	struct fixture *f = *state;
	char *h = hdr(CG_ALG_HS256, "hs");
	char *tok = mint_as(&f->hs, CG_ALG_HS256, h, payload);
	const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
	size_t hl = (size_t)(d1 - tok), pl = (size_t)(d2 - d1 - 1);
	const char *H = tok, *P = d1 + 1, *S = d2 + 1;
	char *jwe_h = cgt_b64("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}", 34);
	struct {
		char *tok;
		cg_code want;
		size_t offset;
	} rows[20];
	size_t n = 0, i;

#define ROW(w, o, ...)                                                         \
	do {                                                                   \
		rows[n].tok = cgt_fmt(__VA_ARGS__);                            \
		rows[n].want = w;                                              \
		rows[n].offset = o;                                            \
		n++;                                                           \
	} while (0)

	/* Too few segments: the offset is the end of the token, where the
	 * missing '.' would be. */
	ROW(CG_ERR_MALFORMED, hl + 1 + pl, "%.*s.%.*s", (int)hl, H, (int)pl, P);
	ROW(CG_ERR_MALFORMED, hl, "%.*s", (int)hl, H);
	ROW(CG_ERR_MALFORMED, hl + pl + 2 + strlen(S), "%s.%s", tok, S);
	ROW(CG_ERR_MALFORMED, hl + pl + 2 + strlen(S), "%s.", tok);
	ROW(CG_ERR_MALFORMED, hl + pl + 2 + strlen(S), "%s.%s.%s", tok, S, S);
	/* A JWE: five segments. */
	ROW(CG_ERR_MALFORMED, strlen(jwe_h) + 1 + 4 + 1 + 4,
	    "%s.AAAA.AAAA.AAAA.AAAA", jwe_h);
	ROW(CG_ERR_MALFORMED, strlen(jwe_h) + 2, "%s...", jwe_h);
	ROW(CG_ERR_MALFORMED, 0, "..");
	ROW(CG_ERR_MALFORMED, 2, "...");
	ROW(CG_ERR_MALFORMED, 1, ".");
	ROW(CG_ERR_MALFORMED, 0, ".%.*s.%s", (int)pl, P, S);
	ROW(CG_ERR_MALFORMED, hl + 1, "%.*s..%s", (int)hl, H, S);
	ROW(CG_ERR_MALFORMED, hl + 1, "%.*s..", (int)hl, H);
	ROW(CG_ERR_MALFORMED, 0, ".b.c");
	ROW(CG_ERR_MALFORMED, 2, "a..c");
	ROW(CG_ERR_MALFORMED, 3, "a.b");
	ROW(CG_ERR_MALFORMED, 5, "a.b.c.d");
	ROW(CG_ERR_MALFORMED, hl + pl + strlen(S), "%.*s%.*s%s", (int)hl, H,
	    (int)pl, P, S);
#undef ROW
	for (i = 0; i < n; i++) {
		char *what = cgt_fmt("segments row %zu", i);
		expect_at(what, rows[i].tok, strlen(rows[i].tok), f->all,
		    rows[i].want, rows[i].offset);
		free(what);
		free(rows[i].tok);
	}
	expect_code("control", tok, f->all, CG_OK);
	free(jwe_h);
	free(tok);
	free(h);
}

/* ---------------------------------------------------------------------
 * Strict base64url in each segment, with the exact offset.
 */

/* `tok` with `ins` (of `inslen` bytes) put in place of `dellen` bytes at
 * `at`; sets *len. free(). */
static char *
splice(const char *tok, size_t at, size_t dellen, const char *ins,
    size_t inslen, size_t *len)
{
	size_t tl = strlen(tok);
	char *t = malloc(tl + inslen + 1);

	assert_non_null(t);
	memcpy(t, tok, at);
	memcpy(t + at, ins, inslen);
	memcpy(t + at + inslen, tok + at + dellen, tl - at - dellen);
	*len = tl - dellen + inslen;
	t[*len] = '\0';
	return t;
}

static void
test_base64_strictness(void **state)
{
	struct fixture *f = *state;
	/* Header 28, payload 13 and signature 64 bytes: every segment is
	 * 2 mod 4 long, so "==" is exactly what padding would look like. */
	static const char h[] = "{\"alg\":\"ES256\",\"kid\":\"k123\"}";
	static const char p[] = "{\"sub\":\"abc\"}";
	static const char bad_bytes[] = {'=', '+', '/', ' ', '\n', '\r', '\t',
	    '?', '"', '\\', '\0', (char)0x80, (char)0xff, '%', '*'};
	char *tok, *t;
	size_t start[3], end[3], s, i, len;
	const char *c;
	struct cg_keyset *ks;
	char *bare = strip_kid(f->p256.jwk);
	char *jwk = cgt_fmt("{\"kid\":\"k123\",%s", bare + 1);
	const char *jwkp = jwk;

	ks = cgt_keyset(&jwkp, 1);
	tok = cgt_mint(&f->p256, h, p);
	assert_int_equal(strlen(tok), 38 + 1 + 18 + 1 + 86);
	expect_code("control", tok, ks, CG_OK);
	start[0] = 0;
	end[0] = 38;
	start[1] = 39;
	end[1] = 57;
	start[2] = 58;
	end[2] = 144;
	for (s = 0; s < 3; s++) {
		char what[96];
		unsigned idx;

		/* Padding: "==" and a lone "=" after the segment. */
		t = splice(tok, end[s], 0, "==", 2, &len);
		snprintf(what, sizeof(what), "segment %zu padded", s);
		expect_at(what, t, len, ks, CG_ERR_BASE64, end[s]);
		free(t);
		t = splice(tok, end[s], 0, "=", 1, &len);
		expect_at(what, t, len, ks, CG_ERR_BASE64, end[s]);
		free(t);
		/* Each bad byte in place of the segment's 6th character. */
		for (i = 0; i < sizeof(bad_bytes); i++) {
			t = splice(
			    tok, start[s] + 5, 1, &bad_bytes[i], 1, &len);
			snprintf(what, sizeof(what),
			    "segment %zu byte 0x%02x in the middle", s,
			    (unsigned char)bad_bytes[i]);
			expect_at(
			    what, t, len, ks, CG_ERR_BASE64, start[s] + 5);
			free(t);
			/* ... and first, and last. */
			t = splice(tok, start[s], 1, &bad_bytes[i], 1, &len);
			expect_at(what, t, len, ks, CG_ERR_BASE64, start[s]);
			free(t);
			t = splice(tok, end[s] - 1, 1, &bad_bytes[i], 1, &len);
			expect_at(what, t, len, ks, CG_ERR_BASE64, end[s] - 1);
			free(t);
		}
		/* Whitespace inserted before and after the segment. */
		t = splice(tok, start[s], 0, " ", 1, &len);
		snprintf(what, sizeof(what), "segment %zu leading space", s);
		expect_at(what, t, len, ks, CG_ERR_BASE64, start[s]);
		free(t);
		t = splice(tok, end[s], 0, "\n", 1, &len);
		snprintf(what, sizeof(what), "segment %zu trailing newline", s);
		expect_at(what, t, len, ks, CG_ERR_BASE64, end[s]);
		free(t);
		t = splice(tok, end[s], 0, "\r\n", 2, &len);
		expect_at(what, t, len, ks, CG_ERR_BASE64, end[s]);
		free(t);
		/* Non-canonical final character: stray low bits set. */
		c = strchr(alphabet, tok[end[s] - 1]);
		assert_non_null(c);
		idx = (unsigned)(c - alphabet);
		assert_int_equal(idx & 0x0f, 0);
		for (i = 1; i < 16; i++) {
			char nc = alphabet[idx | i];
			t = splice(tok, end[s] - 1, 1, &nc, 1, &len);
			snprintf(what, sizeof(what),
			    "segment %zu non-canonical '%c'", s, nc);
			expect_at(what, t, len, ks, CG_ERR_BASE64, end[s] - 1);
			free(t);
		}
		/* The standard alphabet's spelling of the same bytes. */
		for (i = start[s]; i < end[s]; i++) {
			if (tok[i] == '-' || tok[i] == '_') {
				char std = tok[i] == '-' ? '+' : '/';
				t = splice(tok, i, 1, &std, 1, &len);
				snprintf(what, sizeof(what),
				    "segment %zu standard alphabet", s);
				expect_at(what, t, len, ks, CG_ERR_BASE64, i);
				free(t);
				break;
			}
		}
		/* A length of 1 mod 4: one character dropped. The offending
		 * byte is the segment's stray last character. */
		t = splice(tok, end[s] - 1, 1, "", 0, &len);
		{
			struct cg_error err;
			size_t idx2;
			snprintf(what, sizeof(what), "segment %zu 1 mod 4", s);
			if (run(t, len, 0, ks, CG_ALG_ALL, &err, &idx2) !=
			    CG_ERR_BASE64)
				fail_msg(
				    "%s: %s", what, cg_code_name(err.code));
			assert_true(
			    err.offset >= start[s] && err.offset <= end[s] - 1);
			/* jws.c decode_segment reports `end` (the '.' or, for
			 * the signature, one past the token) instead of the
			 * stray character at end - 1. */
			expect_at(what, t, len, ks, CG_ERR_BASE64, end[s] - 2);
		}
		free(t);
	}
	/* Whitespace around the whole token. */
	t = splice(tok, 0, 0, " ", 1, &len);
	expect_at("leading space", t, len, ks, CG_ERR_BASE64, 0);
	free(t);
	t = splice(tok, 144, 0, "\n", 1, &len);
	expect_at("trailing newline", t, len, ks, CG_ERR_BASE64, 144);
	free(t);
	t = splice(tok, 144, 0, "\r\n", 2, &len);
	expect_at("trailing CRLF", t, len, ks, CG_ERR_BASE64, 144);
	free(t);
	t = splice(tok, 0, 0, "Bearer: ", 8, &len);
	expect_at("Bearer: prefix", t, len, ks, CG_ERR_BASE64, 6);
	free(t);
	/* "Bearer " makes the header 45 characters, 1 mod 4: the space at
	 * offset 6 is still the first offending byte. */
	t = splice(tok, 0, 0, "Bearer ", 7, &len);
	{
		struct cg_error err;
		size_t idx;
		assert_int_equal(
		    run(t, len, 0, ks, CG_ALG_ALL, &err, &idx), CG_ERR_BASE64);
		assert_true(err.offset >= 6 && err.offset <= 45);
		/* jws.c decode_segment checks the length before the bytes
		 * and reports offset 45 (the first '.'). */
		expect_at("Bearer prefix", t, len, ks, CG_ERR_BASE64, 6);
	}
	free(t);
	free(tok);
	cg_keyset_free(ks);
	free(jwk);
	free(bare);
}

/* ---------------------------------------------------------------------
 * JSON: duplicates, UTF-8, depth, types (all validly signed).
 */
static void
test_duplicate_members(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *h, *p;
	} rows[] = {
	    {"{\"alg\":\"HS256\",\"alg\":\"none\"}", NULL},
	    {"{\"alg\":\"none\",\"alg\":\"HS256\"}", NULL},
	    {"{\"alg\":\"HS256\",\"alg\":\"HS256\"}", NULL},
	    {"{\"alg\":\"HS256\",\"\\u0061lg\":\"none\"}", NULL},
	    {"{\"alg\":\"HS256\",\"kid\":\"hs\",\"kid\":\"other\"}", NULL},
	    {"{\"alg\":\"HS256\",\"kid\":\"other\",\"kid\":\"hs\"}", NULL},
	    {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"at+jwt\"}", NULL},
	    {"{\"alg\":\"HS256\",\"x\":{\"a\":1,\"a\":2}}", NULL},
	    {NULL, "{\"sub\":\"a\",\"exp\":1,\"exp\":9999999999}"},
	    {NULL, "{\"exp\":9999999999,\"exp\":1}"},
	    {NULL, "{\"sub\":\"alice\",\"sub\":\"admin\"}"},
	    {NULL, "{\"sub\":\"alice\",\"\\u0073ub\":\"admin\"}"},
	    {NULL, "{\"act\":{\"sub\":\"a\",\"sub\":\"b\"}}"},
	    {NULL, "{\"aud\":[{\"x\":1,\"x\":1}]}"},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *h =
		    rows[i].h != NULL ? rows[i].h : "{\"alg\":\"HS256\"}";
		const char *p = rows[i].p != NULL ? rows[i].p : payload;
		char *t = mint_as(&f->hs, CG_ALG_HS256, h, p);
		char *what = cgt_fmt("duplicate row %zu", i);
		struct cg_error err;
		size_t idx;
		/* In the header: the offset points into the header segment;
		 * in the payload: into the payload segment. */
		size_t d1 = (size_t)(strchr(t, '.') - t);
		assert_int_equal(
		    run(t, strlen(t), 0, f->all, CG_ALG_ALL, &err, &idx),
		    CG_ERR_JSON);
		if (rows[i].h != NULL)
			assert_true(err.offset < d1);
		else
			assert_true(err.offset > d1 &&
			            err.offset < (size_t)(strrchr(t, '.') - t));
		expect_code(what, t, f->all, CG_ERR_JSON);
		free(t);
		free(what);
	}
}

static void
test_invalid_utf8(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *h, *p;
	} rows[] = {
	    {"{\"alg\":\"HS256\",\"kid\":\"\xc0\xaf\"}", NULL},
	    {"{\"alg\":\"HS256\",\"kid\":\"\xed\xa0\x80\"}", NULL},
	    {"{\"alg\":\"HS256\",\"kid\":\"\xe2\x82\"}", NULL},
	    {"{\"alg\":\"HS256\",\"kid\":\"\\ud800\"}", NULL},
	    {"{\"alg\":\"HS256\",\"kid\":\"a\\u0000b\"}", NULL},
	    {"{\"alg\":\"HS256\",\"\xff\":1}", NULL},
	    {"{\"alg\":\"HS\xc5\xbf"
	     "256\"}",
	        NULL}, /* long s: valid, unknown */
	    {NULL, "{\"sub\":\"\xed\xa0\x80\"}"},
	    {NULL, "{\"sub\":\"\xc0\x80\"}"},
	    {NULL, "{\"sub\":\"\xf4\x90\x80\x80\"}"},
	    {NULL, "{\"sub\":\"\\udc00\"}"},
	    {NULL, "{\"sub\":\"x\\u0000\"}"},
	    {NULL, "{\"sub\":\"\x80\"}"},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *h =
		    rows[i].h != NULL ? rows[i].h : "{\"alg\":\"HS256\"}";
		const char *p = rows[i].p != NULL ? rows[i].p : payload;
		char *t = mint_as(&f->hs, CG_ALG_HS256, h, p);
		char *what = cgt_fmt("UTF-8 row %zu", i);
		/* Row 6 is valid UTF-8 naming no algorithm. */
		expect_code(what, t, f->all, i == 6 ? CG_ERR_ALG : CG_ERR_JSON);
		free(t);
		free(what);
	}
}

/* {"sub":"x","n":[[...[1]...]]} with d - 1 arrays: d levels in all;
 * 16 is the most allowed, in the payload and in the header. */
static void
test_depth(void **state)
{
	struct fixture *f = *state;
	size_t d;

	for (d = 14; d <= 18; d++) {
		char p[256], hdrbuf[256], *t, *what;
		size_t o, i;
		o = (size_t)snprintf(p, sizeof(p), "{\"sub\":\"x\",\"n\":");
		for (i = 1; i < d; i++)
			p[o++] = '[';
		p[o++] = '1';
		for (i = 1; i < d; i++)
			p[o++] = ']';
		p[o++] = '}';
		p[o] = '\0';
		what = cgt_fmt("payload depth %zu", d);
		t = mint_as(&f->hs, CG_ALG_HS256, "{\"alg\":\"HS256\"}", p);
		expect_code(what, t, f->all, d <= 16 ? CG_OK : CG_ERR_JSON);
		free(t);
		/* The same nesting in the header. */
		o = (size_t)snprintf(
		    hdrbuf, sizeof(hdrbuf), "{\"alg\":\"HS256\",\"x\":");
		for (i = 1; i < d; i++)
			hdrbuf[o++] = '[';
		for (i = 1; i < d; i++)
			hdrbuf[o++] = ']';
		hdrbuf[o++] = '}';
		hdrbuf[o] = '\0';
		t = mint_as(&f->hs, CG_ALG_HS256, hdrbuf, payload);
		expect_code(what, t, f->all, d <= 16 ? CG_OK : CG_ERR_JSON);
		free(t);
		free(what);
	}
}

static void
test_header_types(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *h;
		cg_code want;
	} rows[] = {
	    /* not an object */
	    {"[]", CG_ERR_JSON},
	    {"[{\"alg\":\"HS256\"}]", CG_ERR_JSON},
	    {"\"HS256\"", CG_ERR_JSON},
	    {"null", CG_ERR_JSON},
	    {"1", CG_ERR_JSON},
	    {"", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\"}x", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\"", CG_ERR_JSON},
	    /* alg missing or not a string */
	    {"{}", CG_ERR_JSON},
	    {"{\"typ\":\"JWT\"}", CG_ERR_JSON},
	    {"{\"Alg\":\"HS256\"}", CG_ERR_JSON},
	    {"{\"alg\":256}", CG_ERR_JSON},
	    {"{\"alg\":[\"HS256\"]}", CG_ERR_JSON},
	    {"{\"alg\":{\"name\":\"HS256\"}}", CG_ERR_JSON},
	    {"{\"alg\":true}", CG_ERR_JSON},
	    {"{\"alg\":null}", CG_ERR_JSON},
	    /* kid, typ, cty must be strings */
	    {"{\"alg\":\"HS256\",\"kid\":1}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"kid\":[\"hs\"]}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"kid\":{}}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"kid\":false}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"typ\":1}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"typ\":[\"JWT\"]}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"cty\":{}}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"cty\":7}", CG_ERR_JSON},
	    /* any parameter null */
	    {"{\"alg\":\"HS256\",\"kid\":null}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"typ\":null}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"x5u\":null}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"crit\":null}", CG_ERR_JSON},
	    {"{\"alg\":\"HS256\",\"anything\":null}", CG_ERR_JSON},
	    /* controls: other types for unknown parameters are fine */
	    {"{\"alg\":\"HS256\",\"x\":1,\"y\":[null],\"z\":{\"n\":null}}",
	        CG_OK},
	    {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"cty\":\"JWT\","
	     "\"kid\":\"hs\"}",
	        CG_OK},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *t = mint_as(&f->hs, CG_ALG_HS256, rows[i].h, payload);
		char *what = cgt_fmt("header row %zu: %s", i, rows[i].h);
		struct cg_error err;
		size_t idx;
		cg_code rc;
		if (rows[i].h[0] == '\0') {
			/* An empty header segment is a structural error. */
			expect_at(
			    what, t, strlen(t), f->all, CG_ERR_MALFORMED, 0);
		} else {
			expect_code(what, t, f->all, rows[i].want);
			rc = run(
			    t, strlen(t), 0, f->all, CG_ALG_ALL, &err, &idx);
			if (rc != CG_OK)
				assert_true(
				    err.offset < (size_t)(strchr(t, '.') - t));
		}
		free(t);
		free(what);
	}
	/* The payload too must be an object. */
	{
		static const char *const pls[] = {
		    "[]", "\"alice\"", "null", "{\"sub\":\"a\"} {}", "1"};
		for (i = 0; i < sizeof(pls) / sizeof(pls[0]); i++) {
			char *t = mint_as(&f->hs, CG_ALG_HS256,
			    "{\"alg\":\"HS256\"}", pls[i]);
			expect_code(pls[i], t, f->all, CG_ERR_JSON);
			free(t);
		}
	}
}

/* ---------------------------------------------------------------------
 * Size limits: the default 8192 bytes at N and N + 1; custom limits.
 */

/* A valid HS256 token of exactly `target` bytes; free(). */
static char *
token_of_len(const struct cgt_key *k, size_t target)
{
	size_t kidlen;

	for (kidlen = 1; kidlen <= 4; kidlen++) {
		char *h = cgt_fmt(
		    "{\"alg\":\"HS256\",\"x\":\"%.*s\"}", (int)kidlen, "xxxx");
		size_t hl = (strlen(h) * 4 + 2) / 3, P, L, fixed;
		char *p, *t;

		fixed = hl + 1 + 1 + 43;
		P = target - fixed;
		if (P % 4 == 1) {
			free(h);
			continue;
		}
		L = P / 4 * 3 + (P % 4 == 0 ? 0 : P % 4 - 1);
		fixed = strlen("{\"sub\":\"x\",\"pad\":\"\"}");
		assert_true(L > fixed);
		p = cgt_fmt(
		    "{\"sub\":\"x\",\"pad\":\"%0*d\"}", (int)(L - fixed), 0);
		t = mint_as(k, CG_ALG_HS256, h, p);
		assert_int_equal(strlen(t), target);
		free(h);
		free(p);
		return t;
	}
	fail_msg("no token of %zu bytes", target);
	return NULL;
}

static void
test_size_limits(void **state)
{
	struct fixture *f = *state;
	const char *jwk_hs = f->hs.jwk;
	struct cg_keyset *ks = cgt_keyset(&jwk_hs, 1);
	char *t8192 = token_of_len(&f->hs, CG_DEFAULT_MAX_TOKEN_LEN);
	char *t8193 = token_of_len(&f->hs, CG_DEFAULT_MAX_TOKEN_LEN + 1);
	char *t20000 = token_of_len(&f->hs, 20000);
	struct cg_error err;
	struct cg_token *t;
	size_t idx;

	assert_int_equal(
	    run(t8192, 8192, 0, ks, CG_ALG_ALL, &err, &idx), CG_OK);
	assert_int_equal(
	    run(t8193, 8193, 0, ks, CG_ALG_ALL, &err, &idx), CG_ERR_TOO_LARGE);
	assert_int_equal(err.offset, 8192);
	assert_int_equal(run(t8192, 8192, 8191, ks, CG_ALG_ALL, &err, &idx),
	    CG_ERR_TOO_LARGE);
	/* Explicit limits. */
	assert_int_equal(
	    run(t8193, 8193, 8193, ks, CG_ALG_ALL, &err, &idx), CG_OK);
	assert_int_equal(
	    run(t20000, 20000, 20000, ks, CG_ALG_ALL, &err, &idx), CG_OK);
	assert_int_equal(run(t20000, 20000, 19999, ks, CG_ALG_ALL, &err, &idx),
	    CG_ERR_TOO_LARGE);
	assert_int_equal(err.offset, 19999);
	assert_int_equal(run(t20000, 20000, CG_MAX_TOKEN_LEN_CEILING, ks,
	                     CG_ALG_ALL, &err, &idx),
	    CG_OK);
	assert_int_equal(run(t20000, 20000, 0, ks, CG_ALG_ALL, &err, &idx),
	    CG_ERR_TOO_LARGE);
	/* A limit above the ceiling is a caller error. */
	assert_int_equal(run(t8192, 8192, CG_MAX_TOKEN_LEN_CEILING + 1, ks,
	                     CG_ALG_ALL, &err, &idx),
	    CG_ERR_ARG);
	/* The size check comes before anything else: junk of 8193 bytes. */
	{
		char *junk = malloc(8193);
		assert_non_null(junk);
		memset(junk, '.', 8193);
		assert_int_equal(run(junk, 8193, 0, ks, CG_ALG_ALL, &err, &idx),
		    CG_ERR_TOO_LARGE);
		free(junk);
	}
	/* Empty. */
	assert_int_equal(
	    run("", 0, 0, ks, CG_ALG_ALL, &err, &idx), CG_ERR_EMPTY);
	assert_int_equal(cg_token_parse(NULL, 0, 0, &t, &err), CG_ERR_EMPTY);
	assert_null(t);
	assert_int_equal(cg_token_parse("", 0, 0, &t, NULL), CG_ERR_EMPTY);
	assert_int_equal(cg_token_parse(NULL, 5, 0, &t, &err), CG_ERR_ARG);
	assert_int_equal(cg_token_parse("a.b.c", 5, 0, NULL, &err), CG_ERR_ARG);
	assert_int_equal(
	    cg_token_verify(NULL, ks, CG_ALG_ALL, &idx, &err), CG_ERR_ARG);
	cg_token_free(NULL);
	free(t8192);
	free(t8193);
	free(t20000);
	cg_keyset_free(ks);
}

/* Whitespace-only tokens are never accepted. */
static void
test_whitespace_only(void **state)
{
	struct fixture *f = *state;
	static const char *const rows[] = {" ", "\n", "\t", "\r\n", "    ",
	    " . . ", "\n.\n.\n", "..\n", "\x0b", "\x0c"};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cg_error err;
		size_t idx;
		cg_code rc = run(rows[i], strlen(rows[i]), 0, f->all,
		    CG_ALG_ALL, &err, &idx);
		if (rc != CG_ERR_MALFORMED && rc != CG_ERR_BASE64)
			fail_msg("whitespace row %zu: %s", i, cg_code_name(rc));
	}
}

/* ---------------------------------------------------------------------
 * Header parameters that would supply keys: never used.
 */
static void
test_embedded_keys_ignored(void **state)
{
	struct fixture *f = *state;
	struct cgt_key atk, atk_hs;
	const char *jwk_p256 = f->p256.jwk;
	struct cg_keyset *ks = cgt_keyset(&jwk_p256, 1);
	char *atk_jwk_trusted_kid, *atk_bare;
	/* Header text before and after the embedded JWK. */
	static const char *const fmts[][2] = {
	    {"{\"alg\":\"ES256\",\"jwk\":", "}"},
	    {"{\"alg\":\"ES256\",\"kid\":\"attacker\",\"jwk\":", "}"},
	    {"{\"alg\":\"ES256\",\"kid\":\"p256\",\"jwk\":", "}"},
	    {"{\"alg\":\"ES256\",\"jku\":\"https://evil.example/jwks\","
	     "\"x\":",
	        "}"},
	    {"{\"alg\":\"ES256\",\"x5u\":\"https://evil.example/cert.pem\","
	     "\"x\":",
	        "}"},
	    {"{\"alg\":\"ES256\",\"x5c\":[\"MIIBszCCAVmgAwIBAgIU\"],\"x\":",
	        "}"},
	    {"{\"alg\":\"ES256\",\"kid\":\"p256\",\"jku\":\"file:///etc/jwks\","
	     "\"x5u\":\"http://169.254.169.254/\",\"jwk\":",
	        "}"},
	};
	size_t i;

	cgt_key_gen(&atk, CG_ALG_ES256, "attacker", 0);
	cgt_key_gen(&atk_hs, CG_ALG_HS256, NULL, 0);
	atk_bare = strip_kid(atk.jwk);
	atk_jwk_trusted_kid = cgt_fmt("{\"kid\":\"p256\",%s", atk_bare + 1);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char *h = cgt_fmt("%s%s%s", fmts[i][0],
		    i == 2 ? atk_jwk_trusted_kid : atk.jwk, fmts[i][1]);
		char *forged = cgt_mint(&atk, h, payload);
		char *legit = cgt_mint(&f->p256, h, payload);
		char *what = cgt_fmt("embedded key row %zu", i);
		/* kid "attacker" names no trusted key; otherwise the trusted
		 * key is tried and the attacker's signature fails. */
		expect_code(what, forged, ks,
		    i == 1 ? CG_ERR_KEY_NOT_FOUND : CG_ERR_SIGNATURE);
		expect_code(what, forged, f->all,
		    i == 1 ? CG_ERR_KEY_NOT_FOUND : CG_ERR_SIGNATURE);
		/* Signed by the trusted key, the same header verifies with
		 * the trusted key only (kid "attacker" still selects none). */
		expect_code(
		    what, legit, ks, i == 1 ? CG_ERR_KEY_NOT_FOUND : CG_OK);
		free(h);
		free(forged);
		free(legit);
		free(what);
	}
	/* An embedded oct key with HS256 against a set without oct keys. */
	{
		char *h = cgt_fmt("{\"alg\":\"HS256\",\"jwk\":%s}", atk_hs.jwk);
		char *forged = cgt_mint(&atk_hs, h, payload);
		expect_code(
		    "embedded oct jwk", forged, ks, CG_ERR_KEY_NOT_FOUND);
		expect_code("embedded oct jwk, full set", forged, f->all,
		    CG_ERR_SIGNATURE);
		free(h);
		free(forged);
	}
	free(atk_jwk_trusted_kid);
	free(atk_bare);
	cgt_key_free(&atk);
	cgt_key_free(&atk_hs);
	cg_keyset_free(ks);
}

/* ---------------------------------------------------------------------
 * Hostile kid values: they only select among trusted keys.
 */
static void
test_hostile_kid(void **state)
{
	struct fixture *f = *state;
	/* JSON-escaped kid values. */
	static const char *const kids[] = {
	    "../../etc/passwd",
	    "/dev/null",
	    "' OR 1=1",
	    "' OR '1'='1' --",
	    "p256' OR 'a'='a",
	    "\\u0001\\u001b[2J\\r\\n",
	    "p256\\n",
	    "p256 ",
	    " p256",
	    "P256",
	    "p25",
	    "p2566",
	    "",
	    "$(touch /tmp/pwned)",
	    "http://evil.example/key",
	    "%s%s%s%n",
	    "\\\"}]}",
	};
	char *big = malloc(10 * 1024 + 1);
	size_t i;

	assert_non_null(big);
	memset(big, 'k', 10 * 1024);
	big[10 * 1024] = '\0';
	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		char *h =
		    cgt_fmt("{\"alg\":\"ES256\",\"kid\":\"%s\"}", kids[i]);
		char *t = cgt_mint(&f->p256, h, payload);
		char *what = cgt_fmt("kid row %zu", i);
		struct cg_error err;
		size_t idx;
		expect_code(what, t, f->all, CG_ERR_KEY_NOT_FOUND);
		(void)run(t, strlen(t), 0, f->all, CG_ALG_ALL, &err, &idx);
		/* Messages never carry token bytes. */
		assert_null(strstr(err.msg, "passwd"));
		assert_null(strstr(err.msg, "OR"));
		assert_null(strstr(err.msg, "evil"));
		free(h);
		free(t);
		free(what);
	}
	/* A 10 KB kid, within a raised limit. */
	{
		char *h = cgt_fmt("{\"alg\":\"ES256\",\"kid\":\"%s\"}", big);
		char *t = cgt_mint(&f->p256, h, payload);
		struct cg_error err;
		size_t idx;
		assert_int_equal(
		    run(t, strlen(t), 0, f->all, CG_ALG_ALL, &err, &idx),
		    CG_ERR_TOO_LARGE);
		assert_int_equal(
		    run(t, strlen(t), 32768, f->all, CG_ALG_ALL, &err, &idx),
		    CG_ERR_KEY_NOT_FOUND);
		assert_true(strlen(err.msg) < sizeof(err.msg));
		assert_null(strstr(err.msg, "kkkk"));
		free(h);
		free(t);
	}
	/* An empty kid selects no kid-less key; a key whose kid is empty is
	 * selected by it and nothing else. */
	{
		char *nokid = strip_kid(f->hs.jwk);
		char *emptykid;
		const char *jwks[2];
		struct cg_keyset *ks;
		char *t1, *t2;
		emptykid = cgt_fmt("{\"kid\":\"\",%s", nokid + 1);
		jwks[0] = nokid;
		ks = cgt_keyset(jwks, 1);
		t1 = mint_as(&f->hs, CG_ALG_HS256,
		    "{\"alg\":\"HS256\",\"kid\":\"\"}", payload);
		t2 = mint_as(
		    &f->hs, CG_ALG_HS256, "{\"alg\":\"HS256\"}", payload);
		expect_code(
		    "empty kid vs kid-less key", t1, ks, CG_ERR_KEY_NOT_FOUND);
		expect_code("no kid vs kid-less key", t2, ks, CG_OK);
		cg_keyset_free(ks);
		jwks[0] = emptykid;
		ks = cgt_keyset(jwks, 1);
		expect_code("empty kid vs empty-kid key", t1, ks, CG_OK);
		cg_keyset_free(ks);
		free(t1);
		free(t2);
		free(nokid);
		free(emptykid);
	}
	/* A kid naming another key that does not fit the alg. */
	{
		char *t = mint_as(&f->p256, CG_ALG_ES256,
		    "{\"alg\":\"ES256\",\"kid\":\"rsa\"}", payload);
		expect_code("ES256 with the RSA key's kid", t, f->all,
		    CG_ERR_KEY_NOT_FOUND);
		free(t);
		t = mint_as(&f->rsa, CG_ALG_RS256,
		    "{\"alg\":\"RS256\",\"kid\":\"p256\"}", payload);
		expect_code("RS256 with the EC key's kid", t, f->all,
		    CG_ERR_KEY_NOT_FOUND);
		free(t);
		t = mint_as(&f->p384, CG_ALG_ES384,
		    "{\"alg\":\"ES384\",\"kid\":\"p256\"}", payload);
		expect_code("ES384 with the P-256 key's kid", t, f->all,
		    CG_ERR_KEY_NOT_FOUND);
		free(t);
		/* Right kid, right type, wrong key material. */
		t = mint_as(&f->p384, CG_ALG_ES384,
		    "{\"alg\":\"ES384\",\"kid\":\"p384\"}", payload);
		expect_code("control", t, f->all, CG_OK);
		free(t);
	}
	free(big);
}

/* ---------------------------------------------------------------------
 * Key choice: kid picks exactly one key; without kid the first 8 fitting
 * keys, in set order; a shared kid tries all that fit, in order.
 */
static void
test_kid_selects_one_key(void **state)
{
	struct cgt_key k[3];
	const char *jwks[3];
	struct cg_keyset *ks;
	static const char *const names[] = {"a", "b", "c"};
	size_t i, j;

	(void)state;
	for (i = 0; i < 3; i++) {
		cgt_key_gen(&k[i], CG_ALG_ES256, names[i], 0);
		jwks[i] = k[i].jwk;
	}
	ks = cgt_keyset(jwks, 3);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			char *t = cgt_mint_simple(&k[i], names[j], payload);
			struct cg_error err;
			size_t idx = 99;
			cg_code rc =
			    run(t, strlen(t), 0, ks, CG_ALG_ALL, &err, &idx);
			if (i == j) {
				assert_int_equal(rc, CG_OK);
				assert_int_equal(idx, i);
			} else {
				/* Only the named key is tried. */
				assert_int_equal(rc, CG_ERR_SIGNATURE);
				assert_string_equal(err.msg,
				    "signature does not verify (1 key tried)");
			}
			free(t);
		}
		{
			/* Without kid: found by trying. */
			char *t = cgt_mint_simple(&k[i], NULL, payload);
			struct cg_error err;
			size_t idx = 99;
			assert_int_equal(
			    run(t, strlen(t), 0, ks, CG_ALG_ALL, &err, &idx),
			    CG_OK);
			assert_int_equal(idx, i);
			free(t);
		}
	}
	cg_keyset_free(ks);
	for (i = 0; i < 3; i++)
		cgt_key_free(&k[i]);
}

/* A set of `extra` Ed25519 keys (which do not fit `alg`) followed by 9
 * keys of `alg`, with kids k0..k8 or all "shared". Tokens signed by each
 * of the 9 in turn, without kid or with the shared kid: the first 8
 * fitting keys verify at their own index, the 9th is never tried. */
static void
try_limit(cg_alg alg, int shared_kid, size_t extra)
{
	struct cgt_key k[9], ed[3];
	const char *jwks[12];
	struct cg_keyset *ks;
	size_t i, n = 0, signer;

	assert_true(extra <= 3);
	for (i = 0; i < 3; i++)
		memset(&ed[i], 0, sizeof(ed[i]));
	for (i = 0; i < 9; i++) {
		char kid[16];
		snprintf(kid, sizeof(kid), "k%zu", i);
		cgt_key_gen(&k[i], alg, shared_kid ? "shared" : kid, 0);
	}
	/* Non-fitting keys first: they are not counted. */
	for (i = 0; i < extra; i++) {
		cgt_key_gen(
		    &ed[i], CG_ALG_EDDSA, shared_kid ? "shared" : NULL, 0);
		jwks[n++] = ed[i].jwk;
	}
	for (i = 0; i < 9; i++)
		jwks[n++] = k[i].jwk;
	ks = cgt_keyset(jwks, n);
	assert_int_equal(cg_keyset_count(ks), n);
	for (signer = 0; signer < 9; signer++) {
		char *t = cgt_mint_simple(
		    &k[signer], shared_kid ? "shared" : NULL, payload);
		struct cg_error err;
		size_t idx = 99;
		cg_code rc = run(t, strlen(t), 0, ks, CG_ALG_ALL, &err, &idx);
		if (signer < 8) {
			if (rc != CG_OK)
				fail_msg("%s signer %zu (extra %zu): %s",
				    cg_alg_name(alg), signer, extra,
				    cg_code_name(rc));
			assert_int_equal(idx, extra + signer);
		} else {
			/* The 9th fitting key is never tried. */
			if (rc != CG_ERR_SIGNATURE)
				fail_msg("%s 9th key: %s", cg_alg_name(alg),
				    cg_code_name(rc));
			assert_string_equal(err.msg,
			    "signature does not verify (8 keys tried)");
		}
		free(t);
	}
	cg_keyset_free(ks);
	for (i = 0; i < 9; i++)
		cgt_key_free(&k[i]);
	for (i = 0; i < extra; i++)
		cgt_key_free(&ed[i]);
}

static void
test_no_kid_first_eight(void **state)
{
	(void)state;
	try_limit(CG_ALG_HS256, 0, 0);
	try_limit(CG_ALG_HS256, 0, 3);
	try_limit(CG_ALG_ES256, 0, 1);
}

static void
test_shared_kid_in_order(void **state)
{
	(void)state;
	try_limit(CG_ALG_HS384, 1, 0);
	try_limit(CG_ALG_ES256, 1, 2);
}

/* A key's own alg binds it: RSA key with alg RS256 never verifies PS256
 * (nor RS384), even with a valid signature by the same key. */
static void
test_key_alg_binding(void **state)
{
	struct fixture *f = *state;
	char *rs256 = cgt_fmt("{\"alg\":\"RS256\",%s", f->rsa.jwk + 1);
	char *hs256 = cgt_fmt("{\"alg\":\"HS256\",%s", f->hs.jwk + 1);
	const char *jwks[2] = {rs256, hs256};
	struct cg_keyset *bound = cgt_keyset(jwks, 2);
	static const struct {
		cg_alg alg;
		cg_code want;
	} rows[] = {
	    {CG_ALG_RS256, CG_OK},
	    {CG_ALG_RS384, CG_ERR_KEY_NOT_FOUND},
	    {CG_ALG_RS512, CG_ERR_KEY_NOT_FOUND},
	    {CG_ALG_PS256, CG_ERR_KEY_NOT_FOUND},
	    {CG_ALG_PS384, CG_ERR_KEY_NOT_FOUND},
	    {CG_ALG_PS512, CG_ERR_KEY_NOT_FOUND},
	    {CG_ALG_HS256, CG_OK},
	    {CG_ALG_HS384, CG_ERR_KEY_NOT_FOUND},
	    {CG_ALG_HS512, CG_ERR_KEY_NOT_FOUND},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct cgt_key *k = key_for(f, rows[i].alg);
		char *h = hdr(rows[i].alg, NULL), *hk;
		char *t = mint_as(k, rows[i].alg, h, payload), *tk;
		hk = hdr(rows[i].alg, k == &f->rsa ? "rsa" : "hs");
		tk = mint_as(k, rows[i].alg, hk, payload);
		expect_code(cg_alg_name(rows[i].alg), t, bound, rows[i].want);
		expect_code(cg_alg_name(rows[i].alg), tk, bound, rows[i].want);
		/* Without the binding every one verifies. */
		expect_code(cg_alg_name(rows[i].alg), t, f->all, CG_OK);
		free(h);
		free(hk);
		free(t);
		free(tk);
	}
	cg_keyset_free(bound);
	free(rs256);
	free(hs256);
}

/* PS*: salt length must be the hash length (RFC 7518 3.5). */
static void
test_pss_salt_length(void **state)
{
	struct fixture *f = *state;
	char *priv = cg__signer_private_pem(f->rsa.signer);
	BIO *in = BIO_new_mem_buf(priv, -1);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	static const int salts[] = {0, 20, 31, 33, 64, -2};
	size_t i;

	assert_non_null(pk);
	for (i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
		char *unsig =
		    make_token("{\"alg\":\"PS256\"}", payload, NULL, 0);
		size_t ilen = strlen(unsig) - 1, siglen = 512;
		unsigned char sig[512];
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;
		char *t;
		assert_non_null(ctx);
		assert_int_equal(
		    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pk), 1);
		assert_int_equal(
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING),
		    1);
		assert_int_equal(
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salts[i]), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
		                     (const unsigned char *)unsig, ilen),
		    1);
		EVP_MD_CTX_free(ctx);
		t = with_sig(unsig, sig, siglen);
		/* salt -2 is "maximum": 256 - 32 - 2 = 222 bytes. */
		expect_code("PS256 salt", t, f->all, CG_ERR_SIGNATURE);
		free(t);
		free(unsig);
	}
	EVP_PKEY_free(pk);
	BIO_free(in);
	cg__free_secret(priv, strlen(priv));
}

/* `crit` is never understood: CG_ERR_CRIT, before alg is looked at. */
static void
test_crit(void **state)
{
	struct fixture *f = *state;
	static const char *const rows[] = {
	    "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
	    "{\"alg\":\"HS256\",\"crit\":[]}",
	    "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
	    "{\"alg\":\"HS256\",\"crit\":\"exp\"}",
	    "{\"alg\":\"HS256\",\"crit\":{}}",
	    "{\"alg\":\"none\",\"crit\":[\"x\"]}",
	    "{\"alg\":\"HS256\",\"kid\":\"nosuchkey\",\"crit\":[\"x\"]}",
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *t = mint_as(&f->hs, CG_ALG_HS256, rows[i], payload);
		expect_code(rows[i], t, f->all, CG_ERR_CRIT);
		free(t);
	}
}

/* ---------------------------------------------------------------------
 * Property: flip every bit of a valid token, one at a time; the result
 * never verifies, and fails with one of the token codes.
 */
static void
test_bit_flips(void **state)
{
	struct fixture *f = *state;
	int a;

	for (a = CG_ALG_RS256; a <= CG_ALG_HS512; a++) {
		const struct cgt_key *k = key_for(f, (cg_alg)a);
		char *h = hdr((cg_alg)a, NULL);
		char *tok = mint_as(k, (cg_alg)a, h, payload);
		size_t len = strlen(tok), i, step = cgt_sample_step();
		unsigned bit;
		unsigned long counts[CG_ERR_STORE + 1];

		memset(counts, 0, sizeof(counts));
		expect_code("control", tok, f->all, CG_OK);
		for (i = 0; i < len; i += step) {
			for (bit = 0; bit < 8; bit++) {
				struct cg_error err;
				size_t idx;
				cg_code rc;
				tok[i] =
				    (char)((unsigned char)tok[i] ^ (1u << bit));
				rc = run(tok, len, 0, f->all, CG_ALG_ALL, &err,
				    &idx);
				tok[i] =
				    (char)((unsigned char)tok[i] ^ (1u << bit));
				if (rc == CG_OK)
					fail_msg(
					    "%s: bit %u of byte %zu flipped "
					    "still verifies",
					    cg_alg_name((cg_alg)a), bit, i);
				if (rc != CG_ERR_MALFORMED &&
				    rc != CG_ERR_BASE64 && rc != CG_ERR_JSON &&
				    rc != CG_ERR_ALG &&
				    rc != CG_ERR_KEY_NOT_FOUND &&
				    rc != CG_ERR_SIGNATURE && rc != CG_ERR_CRIT)
					fail_msg("%s: byte %zu bit %u: %s",
					    cg_alg_name((cg_alg)a), i, bit,
					    cg_code_name(rc));
				counts[rc]++;
			}
		}
		/* The signature segment alone gives plenty of the first two;
		 * flipped dots (only certain when every byte is visited) give
		 * the third. */
		assert_true(counts[CG_ERR_SIGNATURE] > 0);
		assert_true(counts[CG_ERR_BASE64] > 0);
		if (step == 1)
			assert_true(counts[CG_ERR_MALFORMED] > 0);
		free(tok);
		free(h);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alg_none),
	    cmocka_unit_test(test_alg_not_allowed),
	    cmocka_unit_test(test_rsa_hmac_confusion),
	    cmocka_unit_test(test_ecdsa_zero_and_out_of_range),
	    cmocka_unit_test(test_ecdsa_der_signature),
	    cmocka_unit_test(test_wrong_length_signatures),
	    cmocka_unit_test(test_rsa_leading_zero_dropped),
	    cmocka_unit_test(test_ed25519_non_canonical_s),
	    cmocka_unit_test(test_ed25519_small_order_key),
	    cmocka_unit_test(test_segments),
	    cmocka_unit_test(test_base64_strictness),
	    cmocka_unit_test(test_duplicate_members),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_header_types),
	    cmocka_unit_test(test_size_limits),
	    cmocka_unit_test(test_whitespace_only),
	    cmocka_unit_test(test_embedded_keys_ignored),
	    cmocka_unit_test(test_hostile_kid),
	    cmocka_unit_test(test_kid_selects_one_key),
	    cmocka_unit_test(test_no_kid_first_eight),
	    cmocka_unit_test(test_shared_kid_in_order),
	    cmocka_unit_test(test_key_alg_binding),
	    cmocka_unit_test(test_pss_salt_length),
	    cmocka_unit_test(test_crit),
	    cmocka_unit_test(test_bit_flips),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
