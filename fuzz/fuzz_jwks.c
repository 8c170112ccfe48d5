/*
 * fuzz_jwks.c - JWK Set loading: cg_keyset_load_jwks on arbitrary bytes,
 * every key's description and every warning, then the tokens we signed
 * (LLVMFuzzerInitialize) verified against the fuzzed set, so that odd
 * keys reach the crypto library's import and verify paths.
 *
 * Invariants (abort when broken):
 *   - a failing load fills struct cg_error and leaves no key set;
 *   - every usable key is described consistently: a known kty and its
 *     name, a curve only for EC/OKP, a 43-character thumbprint, algorithms
 *     it fits that match its type and size (RSA 2048-16384 bits, HMAC
 *     secrets at least the hash length), its own `alg` among them;
 *   - warnings are printable ASCII;
 *   - a token signed with one of our keys verifies only under a key of the
 *     same type whose thumbprint is ours; see same_key() for the two
 *     encodings of one key that have another thumbprint;
 *   - a token nobody signed (all-zero signatures, ECDSA r = s = 1, the
 *     Ed25519 identity point with S = 0) verifies under no key set: a
 *     degenerate key (small-order point, weak modulus) must be refused.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"

#define RSA_ALGS                                                               \
	(CG_ALG_BIT(CG_ALG_RS256) | CG_ALG_BIT(CG_ALG_RS384) |                 \
	    CG_ALG_BIT(CG_ALG_RS512) | CG_ALG_BIT(CG_ALG_PS256) |              \
	    CG_ALG_BIT(CG_ALG_PS384) | CG_ALG_BIT(CG_ALG_PS512))
#define HMAC_ALGS                                                              \
	(CG_ALG_BIT(CG_ALG_HS256) | CG_ALG_BIT(CG_ALG_HS384) |                 \
	    CG_ALG_BIT(CG_ALG_HS512))

/* The tokens verified against each fuzzed set: the ones signed in
 * LLVMFuzzerInitialize, with and without kid. */
static struct cg_token *toks[16];
static struct cg_key_info signer_info[16];
static size_t ntoks;

/* Tokens nobody signed: degenerate signatures (all zero, r = s = 1, the
 * Ed25519 identity point with S = 0). No key set may verify them. */
static struct cg_token *forged[8];
static size_t nforged;

static void
add_forged(const char *alg, const unsigned char *sig, size_t siglen)
{
	static const char payload[] = "{\"sub\":\"nobody\",\"exp\":1700000300}";
	char hdr[64], tok[1024];
	size_t o;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", alg);
	o = cg__b64url_encode((const unsigned char *)hdr, strlen(hdr), tok);
	tok[o++] = '.';
	o += cg__b64url_encode((const unsigned char *)payload,
	    sizeof(payload) - 1, tok + o);
	tok[o++] = '.';
	o += cg__b64url_encode(sig, siglen, tok + o);
	if (cg_token_parse(tok, o, 0, &forged[nforged], NULL) != CG_OK)
		cgf_fail("a forged token does not parse");
	nforged++;
}

static void
init_forged(void)
{
	unsigned char sig[512];

	memset(sig, 0, sizeof(sig));
	add_forged("RS256", sig, 256);
	add_forged("PS256", sig, 256);
	add_forged("ES256", sig, 64);
	add_forged("HS256", sig, 32);
	sig[0] = 1; /* Ed25519: R = identity (y = 1), S = 0 */
	add_forged("EdDSA", sig, 64);
	memset(sig, 0, sizeof(sig));
	sig[31] = 1; /* ECDSA: r = s = 1 */
	sig[63] = 1;
	add_forged("ES256", sig, 64);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i, k;

	(void)argc;
	(void)argv;
	cgf_init_tokens();
	for (i = 0; i < cgf_minted_count() && ntoks < 16; i++) {
		const char *name, *tok;
		size_t len, idx;
		tok = cgf_minted(i, &len, &name);
		if (strncmp(name, "self", 4) != 0)
			continue;
		if (cg_token_parse(tok, len, 0, &toks[ntoks], NULL) != CG_OK ||
		    cg_token_verify(toks[ntoks], cgf_keys(), CG_ALG_ALL, &idx,
			NULL) != CG_OK ||
		    cg_keyset_key_info(cgf_keys(), idx, &signer_info[ntoks]) !=
			CG_OK)
			cgf_fail("a self-signed token does not verify");
		ntoks++;
	}
	for (k = 0; k < ntoks; k++)
		if (signer_info[k].jkt == NULL)
			cgf_fail("a fixed key has no thumbprint");
	init_forged();
	return 0;
}

static void
check_info(const struct cg_key_info *ki)
{
	cg_alg_set want;

	if (ki->kty_name == NULL || ki->jkt == NULL || strlen(ki->jkt) != 43)
		cgf_fail("a key has no kty name or a bad thumbprint");
	if (ki->kid != NULL)
		(void)strlen(ki->kid);
	if ((ki->fits & ~CG_ALG_ALL) != 0 || ki->fits == 0)
		cgf_fail("a key fits no algorithm, or an unknown one");
	if (ki->alg != CG_ALG_UNKNOWN && ki->fits != CG_ALG_BIT(ki->alg))
		cgf_fail("a key with its own alg fits other algorithms");
	switch (ki->kty) {
	case CG_KTY_RSA:
		want = RSA_ALGS;
		if (strcmp(ki->kty_name, "RSA") != 0 || ki->crv != NULL ||
		    ki->bits < CG_LIMIT_RSA_MIN_BITS ||
		    ki->bits > CG_LIMIT_RSA_MAX_BITS)
			cgf_fail("an RSA key is described wrongly");
		break;
	case CG_KTY_EC:
		if (strcmp(ki->kty_name, "EC") != 0 || ki->crv == NULL)
			cgf_fail("an EC key is described wrongly");
		want = strcmp(ki->crv, "P-256") == 0 ? CG_ALG_BIT(CG_ALG_ES256)
		    : strcmp(ki->crv, "P-384") == 0  ? CG_ALG_BIT(CG_ALG_ES384)
		    : strcmp(ki->crv, "P-521") == 0  ? CG_ALG_BIT(CG_ALG_ES512)
						     : 0;
		if (want == 0)
			cgf_fail("an EC key on an unknown curve");
		break;
	case CG_KTY_OKP:
		want = CG_ALG_BIT(CG_ALG_EDDSA);
		if (strcmp(ki->kty_name, "OKP") != 0 || ki->crv == NULL ||
		    strcmp(ki->crv, "Ed25519") != 0 || ki->bits != 256)
			cgf_fail("an OKP key is described wrongly");
		break;
	case CG_KTY_OCT:
		want = 0;
		if (ki->bits >= 256)
			want |= CG_ALG_BIT(CG_ALG_HS256);
		if (ki->bits >= 384)
			want |= CG_ALG_BIT(CG_ALG_HS384);
		if (ki->bits >= 512)
			want |= CG_ALG_BIT(CG_ALG_HS512);
		if (strcmp(ki->kty_name, "oct") != 0 || ki->crv != NULL ||
		    ki->bits > CG_LIMIT_OCT_MAX_BYTES * 8 || want == 0)
			cgf_fail("an oct key is described wrongly");
		break;
	default:
		cgf_fail("a key of unknown kty");
	}
	if ((ki->fits & ~want) != 0)
		cgf_fail("a key fits an algorithm of another key type or a "
			 "longer hash");
}

/*
 * Is `ki` (which verified a token signed with `ours`) the same key? EC and
 * OKP members are fixed-length, so one key has one thumbprint. Two cases
 * are weaker on purpose:
 *   - RSA: jwk.c accepts a non-minimal n or e (leading zero bytes), which
 *     changes the RFC 7638 input but not the key: compare the size;
 *   - oct: HMAC pads its key with zero bytes to the block size (RFC 2104),
 *     so k and k||00 are the same HMAC key with different thumbprints.
 */
static int
same_key(const struct cg_key_info *ki, const struct cg_key_info *ours)
{
	switch (ki->kty) {
	case CG_KTY_RSA:
		return ki->bits == ours->bits;
	case CG_KTY_OCT:
		return ki->bits >= ours->bits;
	default:
		return strcmp(ki->jkt, ours->jkt) == 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_keyset *ks = NULL;
	struct cg_key_info ki;
	struct cg_error err;
	size_t i, n;
	cg_code rc;

	memset(&err, 0, sizeof(err));
	rc = cg_keyset_load_jwks((const char *)data, size, &ks, &err);
	cgf_check_error(&err, rc);
	if (rc != CG_OK) {
		if (ks != NULL)
			cgf_fail("a failed load left a key set");
		if (rc != CG_ERR_KEYSET && rc != CG_ERR_NOMEM)
			cgf_fail("cg_keyset_load_jwks returned an "
				 "undocumented code");
		return 0;
	}
	n = cg_keyset_count(ks);
	if (n > CG_LIMIT_KEYS_PER_SET)
		cgf_fail("more keys kept than CG_LIMIT_KEYS_PER_SET");
	for (i = 0; i < n; i++) {
		if (cg_keyset_key_info(ks, i, &ki) != CG_OK)
			cgf_fail("cg_keyset_key_info failed in range");
		check_info(&ki);
	}
	if (cg_keyset_key_info(ks, n, &ki) != CG_ERR_ARG)
		cgf_fail("cg_keyset_key_info succeeded out of range");
	for (i = 0; i < cg_keyset_warning_count(ks); i++)
		cgf_check_printable(cg_keyset_warning(ks, i),
		    "a key set warning is not printable ASCII");
	if (cg_keyset_warning(ks, i) != NULL)
		cgf_fail("a warning exists out of range");
	if (n == 0 && cg_keyset_warning_count(ks) == 0)
		cgf_fail("a set with no usable key has no warning");

	for (i = 0; i < ntoks; i++) {
		size_t idx = 0;
		memset(&err, 0, sizeof(err));
		rc = cg_token_verify(toks[i], ks, CG_ALG_ALL, &idx, &err);
		cgf_check_error(&err, rc);
		if (rc != CG_OK)
			continue;
		if (cg_keyset_key_info(ks, idx, &ki) != CG_OK)
			cgf_fail("key_index out of range");
		if (ki.kty != signer_info[i].kty ||
		    !same_key(&ki, &signer_info[i]))
			cgf_fail("a token verified under a key that is not "
				 "the one that signed it");
	}
	for (i = 0; i < nforged; i++) {
		memset(&err, 0, sizeof(err));
		rc = cg_token_verify(forged[i], ks, CG_ALG_ALL, NULL, &err);
		cgf_check_error(&err, rc);
		if (rc == CG_OK)
			cgf_fail("a token nobody signed verifies (degenerate "
				 "key)");
	}
	cg_keyset_free(ks);
	return 0;
}
