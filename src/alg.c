/*
 * alg.c - the JOSE algorithms claimgate verifies (RFC 7518 section 3,
 * RFC 8037 section 3.1), one table.
 */
#include <string.h>

#include "internal.h"

static const struct cg_alg_desc algs[] = {
	{CG_ALG_UNKNOWN, NULL, CG_FAMILY_RSA, NULL, 0, NULL, 0},
	{CG_ALG_RS256, "RS256", CG_FAMILY_RSA, "SHA256", 32, NULL, 0},
	{CG_ALG_RS384, "RS384", CG_FAMILY_RSA, "SHA384", 48, NULL, 0},
	{CG_ALG_RS512, "RS512", CG_FAMILY_RSA, "SHA512", 64, NULL, 0},
	{CG_ALG_PS256, "PS256", CG_FAMILY_PSS, "SHA256", 32, NULL, 0},
	{CG_ALG_PS384, "PS384", CG_FAMILY_PSS, "SHA384", 48, NULL, 0},
	{CG_ALG_PS512, "PS512", CG_FAMILY_PSS, "SHA512", 64, NULL, 0},
	{CG_ALG_ES256, "ES256", CG_FAMILY_EC, "SHA256", 32, "P-256", 32},
	{CG_ALG_ES384, "ES384", CG_FAMILY_EC, "SHA384", 48, "P-384", 48},
	{CG_ALG_ES512, "ES512", CG_FAMILY_EC, "SHA512", 64, "P-521", 66},
	{CG_ALG_EDDSA, "EdDSA", CG_FAMILY_ED, NULL, 0, "Ed25519", 0},
	{CG_ALG_HS256, "HS256", CG_FAMILY_HMAC, "SHA256", 32, NULL, 0},
	{CG_ALG_HS384, "HS384", CG_FAMILY_HMAC, "SHA384", 48, NULL, 0},
	{CG_ALG_HS512, "HS512", CG_FAMILY_HMAC, "SHA512", 64, NULL, 0},
};

const struct cg_alg_desc *
cg__alg_desc(cg_alg a)
{
	if (a <= CG_ALG_UNKNOWN || a > CG_ALG_HS512)
		return NULL;
	return &algs[a];
}

/* see claimgate.h */
cg_alg
cg_alg_from_name(const char *name, size_t len)
{
	size_t i;

	if (name == NULL)
		return CG_ALG_UNKNOWN;
	/* Byte-exact: "rs256" or "RS256\0" is not RS256 (RFC 7515 4.1.1 is
	 * case-sensitive), and "none" matches nothing here. */
	for (i = 1; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strlen(algs[i].name) == len &&
		    memcmp(algs[i].name, name, len) == 0)
			return algs[i].alg;
	return CG_ALG_UNKNOWN;
}

/* see claimgate.h */
const char *
cg_alg_name(cg_alg a)
{
	const struct cg_alg_desc *d = cg__alg_desc(a);
	return d == NULL ? NULL : d->name;
}
