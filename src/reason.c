/*
 * reason.c - the contract's decision reasons (contract section 3), one
 * table: name, HTTP status as `serve` answers, and whether the reason is
 * about the token (401) or the request's authority (403).
 */
#include <string.h>

#include "internal.h"

#define CG_REASON_MAP(XX)                                                      \
	XX(CG_REASON_OK, "ok", 200)                                            \
	XX(CG_REASON_TOKEN_MISSING, "token_missing", 401)                      \
	XX(CG_REASON_TOKEN_TOO_LARGE, "token_too_large", 401)                  \
	XX(CG_REASON_TOKEN_MALFORMED, "token_malformed", 401)                  \
	XX(CG_REASON_CRIT_UNSUPPORTED, "crit_unsupported", 401)                \
	XX(CG_REASON_ISSUER_UNTRUSTED, "issuer_untrusted", 401)                \
	XX(CG_REASON_ALG_NOT_ALLOWED, "alg_not_allowed", 401)                  \
	XX(CG_REASON_TYP_NOT_ALLOWED, "typ_not_allowed", 401)                  \
	XX(CG_REASON_KEYS_UNAVAILABLE, "keys_unavailable", 503)                \
	XX(CG_REASON_KEY_NOT_FOUND, "key_not_found", 401)                      \
	XX(CG_REASON_SIGNATURE_INVALID, "signature_invalid", 401)              \
	XX(CG_REASON_CLAIM_INVALID, "claim_invalid", 401)                      \
	XX(CG_REASON_CLAIM_MISSING, "claim_missing", 401)                      \
	XX(CG_REASON_TOKEN_EXPIRED, "token_expired", 401)                      \
	XX(CG_REASON_TOKEN_NOT_YET_VALID, "token_not_yet_valid", 401)          \
	XX(CG_REASON_TOKEN_ISSUED_IN_FUTURE, "token_issued_in_future", 401)    \
	XX(CG_REASON_LIFETIME_TOO_LONG, "lifetime_too_long", 401)              \
	XX(CG_REASON_TOKEN_TOO_OLD, "token_too_old", 401)                      \
	XX(CG_REASON_AUDIENCE_MISMATCH, "audience_mismatch", 401)              \
	XX(CG_REASON_DELEGATION_TOO_DEEP, "delegation_too_deep", 401)          \
	XX(CG_REASON_STORE_UNAVAILABLE, "store_unavailable", 503)              \
	XX(CG_REASON_REVOKED, "revoked", 401)                                  \
	XX(CG_REASON_CLAIM_UNTRUSTED, "claim_untrusted", 401)                  \
	XX(CG_REASON_FORBIDDEN, "forbidden", 403)                              \
	XX(CG_REASON_REPLAYED, "replayed", 401)                                \
	XX(CG_REASON_NO_ZONE, "no_zone", 403)

/* see claimgate.h */
const char *
cg_reason_name(cg_reason r)
{
	switch (r) {
#define XX(e, n, s)                                                            \
	case e:                                                                \
		return n;
		CG_REASON_MAP(XX)
#undef XX
	case CG_REASON_COUNT_:
		break;
	}
	return NULL;
}

/* see claimgate.h */
int
cg_reason_from_name(const char *name)
{
	if (name == NULL)
		return -1;
#define XX(e, n, s)                                                            \
	if (strcmp(name, n) == 0)                                              \
		return (int)e;
	CG_REASON_MAP(XX)
#undef XX
	return -1;
}

/* see claimgate.h */
int
cg_reason_http_status(cg_reason r)
{
	switch (r) {
#define XX(e, n, s)                                                            \
	case e:                                                                \
		return s;
		CG_REASON_MAP(XX)
#undef XX
	case CG_REASON_COUNT_:
		break;
	}
	return 500;
}
