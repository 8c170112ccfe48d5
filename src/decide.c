/*
 * decide.c - the decision engine: one token, one zone, one clock, and the
 * contract's decision table (contract section 3) in order. The first
 * failing step gives the reason.
 *
 * Untrusted data only selects trusted configuration: `iss` selects an
 * issuer of the zone, `alg` and `kid` select its keys. No claim other than
 * `iss` is read before the signature has verified.
 */
#include <math.h>
#include <string.h>

#include "keysource.h"
#include "policy.h"
#include "store.h"

/* NumericDate range (contract section 3): 0 to 9999-12-31T23:59:59Z. */
#define NUMERIC_DATE_MAX 253402300799.0

struct cg_decision {
	cg_reason reason;
	char detail[200];
	char *zone;
	struct cg_json *claims;	    /* trusted claims, always an object */
	struct cg_json *provenance; /* NULL on deny */
	struct cg_json *audit;	    /* fields for the audit log */
};

/* see claimgate.h */
void
cg_decision_free(struct cg_decision *d)
{
	if (d == NULL)
		return;
	cg__json_free(d->claims);
	cg__json_free(d->provenance);
	cg__json_free(d->audit);
	free(d->zone);
	free(d);
}

const struct cg_json *
cg__decision_audit(const struct cg_decision *d)
{
	return d == NULL ? NULL : d->audit;
}

/* see claimgate.h */
int
cg_decision_allowed(const struct cg_decision *d)
{
	return d != NULL && d->reason == CG_REASON_OK;
}

/* see claimgate.h */
cg_reason
cg_decision_reason(const struct cg_decision *d)
{
	return d == NULL ? CG_REASON_TOKEN_MISSING : d->reason;
}

/* see claimgate.h */
const char *
cg_decision_detail(const struct cg_decision *d)
{
	return d == NULL ? "" : d->detail;
}

/* see claimgate.h */
const char *
cg_decision_zone(const struct cg_decision *d)
{
	return d == NULL ? NULL : d->zone;
}

/* see claimgate.h */
const struct cg_json *
cg_decision_claims(const struct cg_decision *d)
{
	return d == NULL ? NULL : d->claims;
}

const struct cg_json *
cg__decision_provenance(const struct cg_decision *d)
{
	return d == NULL ? NULL : d->provenance;
}

/* see claimgate.h */
char *
cg_decision_to_json(const struct cg_decision *d)
{
	struct cg_json *o;
	char *s = NULL;
	int bad = 0;

	if (d == NULL || (o = cg__json_new_object()) == NULL)
		return NULL;
	bad |= cg__json_object_set(o, "decision",
	    cg__json_new_string(d->reason == CG_REASON_OK ? "allow" : "deny",
		d->reason == CG_REASON_OK ? 5 : 4));
	bad |= cg__json_object_set(o, "reason",
	    cg__json_new_string(cg_reason_name(d->reason),
		strlen(cg_reason_name(d->reason))));
	bad |= cg__json_object_set(o, "zone",
	    cg__json_new_string(d->zone, strlen(d->zone)));
	if (d->reason == CG_REASON_OK) {
		bad |= cg__json_object_set(o, "claims",
		    cg__json_incref(d->claims));
		bad |= cg__json_object_set(o, "provenance",
		    cg__json_incref(d->provenance));
	} else {
		bad |= cg__json_object_set(o, "detail",
		    cg__json_new_string(d->detail, strlen(d->detail)));
	}
	if (!bad)
		s = cg__json_dump_compact(o);
	cg__json_free(o);
	return s;
}

/* ---- the steps ---------------------------------------------------- */

struct ctx {
	const struct cg_policy *pol;
	const struct cg_zone *zone;
	const struct cg_issuer *issuer;
	size_t issuer_index;
	struct cg_token *tok;
	int64_t now;
	struct cg_store *store;
	struct cg_decision *d;
	struct cg_vcache *cache;	/* verified-token cache, or NULL */
	const struct cg_keyset *keys;	/* the issuer's set for this decision */
	struct cg_keyref *keyref;	/* held while `keys` is a remote set */
	size_t key_index;
	const char *iss;
	size_t iss_len;
};

static cg_reason
deny(struct ctx *c, cg_reason r, const char *fmt, ...) CG_PRINTF(3, 4);

static cg_reason
deny(struct ctx *c, cg_reason r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	vsnprintf(c->d->detail, sizeof(c->d->detail), fmt, ap);
	va_end(ap);
	for (s = c->d->detail; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
	c->d->reason = r;
	return r;
}

static int
is_numeric_date(const struct cg_json *v)
{
	double d;

	return cg_json_number(v, &d) == CG_OK && d >= 0 &&
	    d <= NUMERIC_DATE_MAX;
}

/* Every level of `act` must be an object with a string `sub`
 * (RFC 8693 section 4.1). Returns the depth, or -1 when invalid. */
static int
act_depth(const struct cg_json *act)
{
	int depth = 0;

	while (act != NULL) {
		if (cg_json_typeof(act) != CG_JSON_OBJECT ||
		    cg_json_typeof(cg_json_object_get(act, "sub")) !=
			CG_JSON_STRING)
			return -1;
		depth++;
		act = cg_json_object_get(act, "act");
	}
	return depth;
}

static cg_reason
check_registered_types(struct ctx *c)
{
	static const char *const dates[] = {"exp", "nbf", "iat"};
	static const char *const strs[] = {"sub", "jti"};
	const struct cg_json *v;
	size_t i;

	for (i = 0; i < 3; i++) {
		v = cg_token_claim(c->tok, dates[i]);
		if (v != NULL && !is_numeric_date(v))
			return deny(c, CG_REASON_CLAIM_INVALID,
			    "claim %s is not a NumericDate in [0, %.0f]",
			    dates[i], NUMERIC_DATE_MAX);
	}
	v = cg_token_claim(c->tok, "aud");
	if (v != NULL) {
		int ok = cg_json_typeof(v) == CG_JSON_STRING;
		if (cg_json_typeof(v) == CG_JSON_ARRAY) {
			ok = cg_json_array_size(v) > 0;
			for (i = 0; ok && i < cg_json_array_size(v); i++)
				ok = cg_json_typeof(cg_json_array_get(v, i)) ==
				    CG_JSON_STRING;
		}
		if (!ok)
			return deny(c, CG_REASON_CLAIM_INVALID,
			    "claim aud is not a string or a non-empty array "
			    "of strings");
	}
	for (i = 0; i < 2; i++) {
		v = cg_token_claim(c->tok, strs[i]);
		if (v != NULL && cg_json_typeof(v) != CG_JSON_STRING)
			return deny(c, CG_REASON_CLAIM_INVALID,
			    "claim %s is not a string", strs[i]);
	}
	v = cg_token_claim(c->tok, "act");
	if (v != NULL && act_depth(v) < 0)
		return deny(c, CG_REASON_CLAIM_INVALID,
		    "claim act is not an object with a string sub at every "
		    "level");
	return CG_REASON_OK;
}

static int
present(const struct cg_token *t, const char *name)
{
	cg_json_type ty = cg_json_typeof(cg_token_claim(t, name));
	return ty != CG_JSON_ABSENT && ty != CG_JSON_NULL;
}

static cg_reason
check_required(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	size_t i;

	if (!present(c->tok, "exp"))
		return deny(c, CG_REASON_CLAIM_MISSING, "claim exp is absent");
	for (i = 0; i < z->require_claims.n; i++)
		if (!present(c->tok, z->require_claims.v[i]))
			return deny(c, CG_REASON_CLAIM_MISSING,
			    "required claim %.64s is absent",
			    z->require_claims.v[i]);
	if ((z->max_age >= 0 || c->issuer->max_lifetime >= 0) &&
	    !present(c->tok, "iat"))
		return deny(c, CG_REASON_CLAIM_MISSING,
		    "claim iat is absent (needed for %s)",
		    z->max_age >= 0 ? "max_age" : "max_lifetime");
	if (z->replay && !present(c->tok, "jti"))
		return deny(c, CG_REASON_CLAIM_MISSING,
		    "claim jti is absent (needed for replay: reject)");
	return CG_REASON_OK;
}

static double
claim_time(const struct cg_token *t, const char *name, int *has)
{
	double d = 0;

	*has = cg_json_number(cg_token_claim(t, name), &d) == CG_OK;
	return d;
}

static cg_reason
check_times(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	double now = (double)c->now, leeway = (double)z->leeway;
	int has_exp, has_nbf, has_iat;
	double exp = claim_time(c->tok, "exp", &has_exp);
	double nbf = claim_time(c->tok, "nbf", &has_nbf);
	double iat = claim_time(c->tok, "iat", &has_iat);

	if (now >= exp + leeway)
		return deny(c, CG_REASON_TOKEN_EXPIRED,
		    "token expired (now is at or past exp + %llds leeway)",
		    (long long)z->leeway);
	if (has_nbf && now < nbf - leeway)
		return deny(c, CG_REASON_TOKEN_NOT_YET_VALID,
		    "token not valid yet (now is before nbf - %llds leeway)",
		    (long long)z->leeway);
	if (has_iat && iat > now + leeway)
		return deny(c, CG_REASON_TOKEN_ISSUED_IN_FUTURE,
		    "token issued in the future (iat after now + %llds "
		    "leeway)",
		    (long long)z->leeway);
	if (c->issuer->max_lifetime >= 0 &&
	    exp - iat > (double)c->issuer->max_lifetime)
		return deny(c, CG_REASON_LIFETIME_TOO_LONG,
		    "exp - iat exceeds max_lifetime %llds of issuer %.64s",
		    (long long)c->issuer->max_lifetime, c->issuer->name);
	if (z->max_age >= 0 && now > iat + (double)z->max_age + leeway)
		return deny(c, CG_REASON_TOKEN_TOO_OLD,
		    "token older than max_age %llds (+%llds leeway)",
		    (long long)z->max_age, (long long)z->leeway);
	return CG_REASON_OK;
}

static cg_reason
check_audience(struct ctx *c)
{
	const struct cg_json *aud = cg_token_claim(c->tok, "aud");
	const char *want = c->zone->audience, *s;
	size_t wlen = strlen(want), len, i, n;

	if (cg_json_string(aud, &s, &len) == CG_OK) {
		if (len == wlen && memcmp(s, want, len) == 0)
			return CG_REASON_OK;
	} else if ((n = cg_json_array_size(aud)) > 0) {
		if (!c->zone->audience_exact || n == 1)
			for (i = 0; i < n; i++)
				if (cg_json_string(cg_json_array_get(aud, i),
					&s, &len) == CG_OK &&
				    len == wlen && memcmp(s, want, len) == 0)
					return CG_REASON_OK;
		if (c->zone->audience_exact && n > 1)
			return deny(c, CG_REASON_AUDIENCE_MISMATCH,
			    "aud has %zu values; zone %.64s requires exactly "
			    "its audience",
			    n, c->zone->name);
	}
	return deny(c, CG_REASON_AUDIENCE_MISMATCH,
	    aud == NULL ? "aud is absent"
			: "aud does not contain the audience of zone %.64s",
	    c->zone->name);
}

/* ---- trusted claims ------------------------------------------------ */

static int
list_has(const struct cg_json *list, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < cg_json_array_size(list); i++) {
		const char *e;
		size_t elen;
		if (cg_json_string(cg_json_array_get(list, i), &e, &elen) ==
			CG_OK &&
		    elen == len && memcmp(e, s, len) == 0)
			return 1;
	}
	return 0;
}

/* Appends a string once (first appearance wins). 0 ok, -1 no memory. */
static int
append_unique(struct cg_json *list, const char *s, size_t len)
{
	if (list_has(list, s, len))
		return 0;
	return cg__json_array_append(list, cg__json_new_string(s, len));
}

static int
matches(const struct cg_claim_rule *r, const char *s)
{
	return !r->has_pattern || regexec(&r->re, s, 0, NULL, 0) == 0;
}

/* The mapped value of s, or NULL when unmapped. */
static const char *
map_value(const struct cg_claim_rule *r, const char *s)
{
	size_t i;

	for (i = 0; i < r->nmap; i++)
		if (strcmp(r->map[i].from, s) == 0)
			return r->map[i].to;
	return NULL;
}

/*
 * Applies one rule to the token's value. Returns a new value (string,
 * list, or a JSON value passed through), NULL when the result is absent,
 * or sets *oom.
 */
static struct cg_json *
apply_rule(const struct cg_claim_rule *r, const struct cg_json *v, int *oom)
{
	struct cg_json *list;
	const char *s;
	size_t len, i;
	int transform = r->has_pattern || r->has_map;

	*oom = 0;
	if (v == NULL || cg_json_typeof(v) == CG_JSON_NULL)
		return NULL; /* absent */
	if (cg_json_string(v, &s, &len) == CG_OK && r->split == CG_SPLIT_NONE) {
		/* A scalar string: pattern, then map. */
		if (!matches(r, s))
			return NULL;
		if (r->has_map) {
			const char *m = map_value(r, s);
			if (m == NULL)
				return NULL;
			s = m;
			len = strlen(m);
		}
		if ((list = cg__json_new_string(s, len)) == NULL)
			*oom = 1;
		return list;
	}
	if (cg_json_typeof(v) != CG_JSON_STRING &&
	    cg_json_typeof(v) != CG_JSON_ARRAY) {
		/* Numbers, booleans and objects pass through untouched, but
		 * never through a pattern or a map, which speak of strings. */
		if (transform)
			return NULL;
		if ((list = cg__json_incref(v)) == NULL)
			*oom = 1;
		return list;
	}
	if ((list = cg__json_new_array()) == NULL) {
		*oom = 1;
		return NULL;
	}
	if (cg_json_typeof(v) == CG_JSON_STRING) {
		/* split: a space- (or comma-) separated list, empty parts
		 * dropped, duplicates dropped. */
		char sep = r->split == CG_SPLIT_COMMA ? ',' : ' ';
		size_t start = 0;
		for (i = 0; i <= len; i++) {
			char small[256], *part;
			size_t plen;
			int bad = 0;
			if (i < len && s[i] != sep)
				continue;
			plen = i - start;
			/* A part needs its own NUL for regexec and the map;
			 * a long one gets a heap copy. */
			part = plen < sizeof(small) ? small : cg__malloc(plen + 1);
			if (part == NULL)
				goto oom;
			memcpy(part, s + start, plen);
			part[plen] = '\0';
			if (plen > 0 && matches(r, part)) {
				const char *m = r->has_map ? map_value(r, part)
							   : part;
				bad = m != NULL &&
				    append_unique(list, m, strlen(m)) != 0;
			}
			if (part != small)
				free(part);
			if (bad)
				goto oom;
			start = i + 1;
		}
	} else {
		for (i = 0; i < cg_json_array_size(v); i++) {
			const struct cg_json *e = cg_json_array_get(v, i);
			if (cg_json_string(e, &s, &len) == CG_OK) {
				const char *m;
				if (!matches(r, s))
					continue;
				m = r->has_map ? map_value(r, s) : s;
				if (m != NULL &&
				    append_unique(list, m,
					m == s ? len : strlen(m)) != 0)
					goto oom;
			} else if (!transform &&
			    cg_json_typeof(e) != CG_JSON_NULL) {
				if (cg__json_array_append(list,
					cg__json_incref(e)) != 0)
					goto oom;
			}
		}
	}
	if (cg_json_array_size(list) == 0) {
		cg__json_free(list);
		return NULL;
	}
	return list;
oom:
	cg__json_free(list);
	*oom = 1;
	return NULL;
}

static int
rule_accepts_issuer(const struct cg_claim_rule *r, size_t issuer)
{
	size_t i;

	if (r->nfrom == 0)
		return 1;
	for (i = 0; i < r->nfrom; i++)
		if (r->from[i] == issuer)
			return 1;
	return 0;
}

static cg_reason
build_claims(struct ctx *c, int *oom)
{
	const struct cg_zone *z = c->zone;
	size_t i;

	*oom = 0;
	for (i = 0; i < z->nclaims; i++) {
		const struct cg_claim_rule *r = &z->claims[i];
		struct cg_json *v = NULL;
		if (rule_accepts_issuer(r, c->issuer_index)) {
			v = apply_rule(r, cg_token_claim(c->tok, r->claim),
			    oom);
			if (*oom)
				return CG_REASON_OK;
		}
		if (v == NULL) {
			if (r->required)
				return deny(c, CG_REASON_CLAIM_UNTRUSTED,
				    "trusted claim %.64s is required: %s",
				    r->name,
				    !rule_accepts_issuer(r, c->issuer_index)
					? "issuer not in its from list"
					: "absent or not matching its rule");
			continue;
		}
		if (cg__json_object_set(c->d->claims, r->name, v) != 0) {
			*oom = 1;
			return CG_REASON_OK;
		}
	}
	return CG_REASON_OK;
}

static cg_reason
check_require(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	size_t i, j;

	for (i = 0; i < z->nrequire; i++) {
		const struct cg_require_rule *r = &z->require[i];
		const struct cg_json *v = cg_json_object_get(c->d->claims,
		    r->claim);
		size_t hits = 0;
		for (j = 0; j < r->values.n; j++) {
			const char *want = r->values.v[j], *s;
			size_t wl = strlen(want), len;
			/* A scalar counts as a one-element list. */
			if (cg_json_string(v, &s, &len) == CG_OK)
				hits += len == wl && memcmp(s, want, wl) == 0;
			else
				hits += (size_t)list_has(v, want, wl);
		}
		if (r->kind == CG_REQUIRE_ALL_OF && hits != r->values.n)
			return deny(c, CG_REASON_FORBIDDEN,
			    "require %.64s: all_of not met", r->claim);
		if (r->kind == CG_REQUIRE_ANY_OF && hits == 0)
			return deny(c, CG_REASON_FORBIDDEN,
			    "require %.64s: any_of not met", r->claim);
	}
	return CG_REASON_OK;
}

/* ---- provenance ---------------------------------------------------- */

static int
set_str(struct cg_json *o, const char *name, const char *s, size_t len)
{
	return cg__json_object_set(o, name, cg__json_new_string(s, len));
}

static int
build_provenance(struct ctx *c)
{
	struct cg_json *p, *chain;
	const struct cg_json *act;
	struct cg_key_info ki;
	const char *s;
	size_t len;
	int bad = 0;

	if ((p = cg__json_new_object()) == NULL)
		return -1;
	c->d->provenance = p;
	bad |= set_str(p, "issuer", c->issuer->name, strlen(c->issuer->name));
	bad |= set_str(p, "iss", c->iss, c->iss_len);
	s = cg_token_alg_name(c->tok);
	bad |= set_str(p, "alg", s, strlen(s));
	if ((s = cg_token_kid(c->tok)) != NULL)
		bad |= set_str(p, "kid", s, strlen(s));
	if (cg_keyset_key_info(c->keys, c->key_index, &ki) == CG_OK)
		bad |= set_str(p, "jkt", ki.jkt, strlen(ki.jkt));
	if (cg_json_string(cg_token_claim(c->tok, "jti"), &s, &len) == CG_OK)
		bad |= set_str(p, "jti", s, len);
	s = cg_token_sha256_hex(c->tok);
	bad |= set_str(p, "token_sha256", s, strlen(s));
	if ((chain = cg__json_new_array()) == NULL)
		return -1;
	bad |= cg__json_object_set(p, "delegation", chain);
	/* Outermost first: the current actor, then who it acted for. */
	for (act = cg_token_claim(c->tok, "act"); act != NULL;
	    act = cg_json_object_get(act, "act"))
		if (cg_json_string(cg_json_object_get(act, "sub"), &s, &len) ==
		    CG_OK)
			bad |= cg__json_array_append(chain,
			    cg__json_new_string(s, len));
	return bad ? -1 : 0;
}

/* The authentic identity of a verified token, for the audit log (the
 * audit line of a token that did not verify carries only its hash). */
static int
record_verified(struct ctx *c)
{
	static const char *const names[] = {"sub", "aud", "jti"};
	const struct cg_json *v;
	struct cg_key_info ki;
	const char *s;
	size_t i;
	int bad = 0;

	bad |= set_str(c->d->audit, "issuer", c->issuer->name,
	    strlen(c->issuer->name));
	bad |= set_str(c->d->audit, "iss", c->iss, c->iss_len);
	s = cg_token_alg_name(c->tok);
	bad |= set_str(c->d->audit, "alg", s, strlen(s));
	if ((s = cg_token_kid(c->tok)) != NULL)
		bad |= set_str(c->d->audit, "kid", s, strlen(s));
	if (cg_keyset_key_info(c->keys, c->key_index, &ki) == CG_OK)
		bad |= set_str(c->d->audit, "jkt", ki.jkt, strlen(ki.jkt));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((v = cg_token_claim(c->tok, names[i])) != NULL)
			bad |= cg__json_object_set(c->d->audit, names[i],
			    cg__json_incref(v));
	return bad ? -1 : 0;
}

/* ---- the pipeline --------------------------------------------------- */

static int
typ_allowed(const struct cg_issuer *is, const struct cg_token *t)
{
	char norm[128];
	const char *typ;
	size_t len, i;

	if (is->types.n == 0)
		return 1;
	if (cg_json_string(cg_json_object_get(cg_token_header(t), "typ"), &typ,
		&len) != CG_OK)
		return 0;
	if (cg__typ_normalise(typ, len, norm, sizeof(norm)) != 0)
		return 0;
	for (i = 0; i < is->types.n; i++)
		if (strcmp(norm, is->types.v[i]) == 0)
			return 1;
	return 0;
}

static cg_reason
select_issuer(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	size_t i;

	if (cg_json_string(cg_token_claim(c->tok, "iss"), &c->iss,
		&c->iss_len) != CG_OK)
		return deny(c, CG_REASON_ISSUER_UNTRUSTED,
		    cg_token_claim(c->tok, "iss") == NULL
			? "claim iss is absent"
			: "claim iss is not a string");
	for (i = 0; i < z->naccept; i++) {
		const struct cg_issuer *is = &c->pol->issuers[z->accept[i]];
		if (is->iss_len == c->iss_len &&
		    memcmp(is->iss, c->iss, c->iss_len) == 0) {
			c->issuer = is;
			c->issuer_index = z->accept[i];
			return CG_REASON_OK;
		}
	}
	return deny(c, CG_REASON_ISSUER_UNTRUSTED,
	    "iss is not an issuer accepted by zone %.64s", z->name);
}

/*
 * These exact bytes verified before with the key of thumbprint jkt: that
 * stands only while the key is still in the issuer's current set and fits
 * the token's alg and kid exactly as cg_token_verify would choose it.
 */
static int
cache_hit(struct ctx *c)
{
	const char *kid = cg_token_kid(c->tok);
	struct cg_key_info ki;
	char jkt[44];
	size_t i;

	if (c->cache == NULL ||
	    !cg__vcache_lookup(c->cache, c->tok, c->iss, c->iss_len, jkt))
		return 0;
	for (i = 0; cg_keyset_key_info(c->keys, i, &ki) == CG_OK; i++) {
		if (memcmp(ki.jkt, jkt, 43) != 0 ||
		    (ki.fits & CG_ALG_BIT(cg_token_alg(c->tok))) == 0)
			continue;
		if (kid != NULL && (ki.kid == NULL || strcmp(ki.kid, kid) != 0))
			continue;
		c->key_index = i;
		return 1;
	}
	return 0; /* the key has left the set: verify again */
}

static cg_reason
verify_signature(struct ctx *c)
{
	struct cg_error err;
	cg_code rc;

	if (cg_token_alg(c->tok) == CG_ALG_UNKNOWN ||
	    (c->issuer->algs & CG_ALG_BIT(cg_token_alg(c->tok))) == 0)
		return deny(c, CG_REASON_ALG_NOT_ALLOWED,
		    "alg is not allowed for issuer %.64s", c->issuer->name);
	if (!typ_allowed(c->issuer, c->tok))
		return deny(c, CG_REASON_TYP_NOT_ALLOWED,
		    "typ is not in the types of issuer %.64s",
		    c->issuer->name);
	/* A file key set is fixed; a remote one is the current snapshot,
	 * held until the decision is complete. */
	c->keys = c->issuer->keys;
	if (c->issuer->src != NULL) {
		c->keyref = cg__keysource_acquire(c->issuer->src, c->now);
		c->keys = cg__keyref_keyset(c->keyref);
	}
	if (c->keys == NULL)
		return deny(c, CG_REASON_KEYS_UNAVAILABLE,
		    "issuer %.64s has no usable key set", c->issuer->name);
	if (cache_hit(c))
		return CG_REASON_OK;
	rc = cg_token_verify(c->tok, c->keys, c->issuer->algs, &c->key_index,
	    &err);
	switch (rc) {
	case CG_OK:
		if (c->cache != NULL) {
			struct cg_key_info ki;
			if (cg_keyset_key_info(c->keys, c->key_index, &ki) ==
			    CG_OK)
				cg__vcache_insert(c->cache, c->tok, c->iss,
				    c->iss_len, ki.jkt);
		}
		return CG_REASON_OK;
	case CG_ERR_KEY_NOT_FOUND:
		/* A kid the set lacks may be a rotation: ask for one refresh
		 * (rate-limited); this request is not kept waiting. */
		if (c->issuer->src != NULL && cg_token_kid(c->tok) != NULL)
			cg__keysource_kid_miss(c->issuer->src, c->now);
		return deny(c, CG_REASON_KEY_NOT_FOUND,
		    "no key of issuer %.64s fits kid and alg",
		    c->issuer->name);
	case CG_ERR_SIGNATURE:
		return deny(c, CG_REASON_SIGNATURE_INVALID, "%s", err.msg);
	default:
		/* An internal failure is never an allow. */
		return deny(c, CG_REASON_SIGNATURE_INVALID,
		    "verification failed: %s", cg_code_name(rc));
	}
}

/* The replay key (zone, iss, jti) and its expiry, exp + leeway: after
 * that the token is expired anyway. A deny reason when it cannot be
 * made. */
static cg_reason
replay_key_of(struct ctx *c, unsigned char key[CG_STORE_KEY_LEN],
    int64_t *until)
{
	const char *jti;
	size_t jlen;
	double exp = 0;

	if (cg_json_string(cg_token_claim(c->tok, "jti"), &jti, &jlen) !=
		CG_OK ||
	    cg_json_number(cg_token_claim(c->tok, "exp"), &exp) != CG_OK)
		return deny(c, CG_REASON_CLAIM_MISSING, "claim jti is absent");
	if (cg__replay_key(c->zone->name, c->iss, c->iss_len, jti, jlen,
		key) != 0)
		return deny(c, CG_REASON_STORE_UNAVAILABLE,
		    "replay key could not be computed");
	*until = (int64_t)ceil(exp) + c->zone->leeway;
	return CG_REASON_OK;
}

static cg_reason
replayed(struct ctx *c)
{
	return deny(c, CG_REASON_REPLAYED, "jti already used in zone %.64s",
	    c->zone->name);
}

static cg_reason
check_replay(struct ctx *c)
{
	unsigned char key[CG_STORE_KEY_LEN];
	int inserted = 0;
	int64_t until = 0;
	cg_reason r;

	if ((r = replay_key_of(c, key, &until)) != CG_REASON_OK)
		return r;
	if (c->store->ops->insert_if_absent(c->store, key, until, c->now,
		&inserted) != CG_OK)
		return deny(c, CG_REASON_STORE_UNAVAILABLE,
		    "replay store cannot answer");
	if (!inserted)
		return replayed(c);
	return CG_REASON_OK;
}

/*
 * Step 20 without asking the store: a zone with replay, or a policy with a
 * revocation source (store type redis, or a revocations_file), needs the
 * store, and with revocation one that carries it. *need_rev says whether
 * revocation is configured.
 */
static cg_reason
store_needed(struct ctx *c, int *need_rev)
{
	*need_rev = cg__policy_revocation(c->pol);
	if (!c->zone->replay && !*need_rev)
		return CG_REASON_OK;
	if (c->store == NULL) {
		if (c->zone->replay)
			return deny(c, CG_REASON_STORE_UNAVAILABLE,
			    "zone %.64s needs a replay store", c->zone->name);
		return deny(c, CG_REASON_STORE_UNAVAILABLE,
		    "the policy's revocations need a store");
	}
	if (*need_rev && !cg__store_revocations(c->store))
		return deny(c, CG_REASON_STORE_UNAVAILABLE,
		    "the store does not carry the policy's revocations");
	return CG_REASON_OK;
}

/* What the store is asked about the token: jti, sub, the key that
 * verified (its kid, else the header's; its RFC 7638 thumbprint), iat. */
static void
revoke_query(struct ctx *c, struct cg_revoke_query *q)
{
	struct cg_key_info ki;
	double iat = 0;

	memset(q, 0, sizeof(*q));
	q->issuer = c->issuer->name;
	if (cg_json_string(cg_token_claim(c->tok, "jti"), &q->jti,
		&q->jti_len) != CG_OK)
		q->jti = NULL;
	if (cg_json_string(cg_token_claim(c->tok, "sub"), &q->sub,
		&q->sub_len) != CG_OK)
		q->sub = NULL;
	if (cg_keyset_key_info(c->keys, c->key_index, &ki) == CG_OK) {
		q->kid = ki.kid;
		q->jkt = ki.jkt;
	}
	if (q->kid == NULL)
		q->kid = cg_token_kid(c->tok);
	q->has_iat = cg_json_number(cg_token_claim(c->tok, "iat"), &iat) ==
	    CG_OK;
	q->iat = iat;
	q->now = c->now;
}

static cg_reason
revoked(struct ctx *c, cg_revoke_kind kind)
{
	if (kind == CG_REVOKE_ISSUED_BEFORE)
		return deny(c, CG_REASON_REVOKED,
		    "token issued before the revocation cut-off of issuer "
		    "%.64s",
		    c->issuer->name);
	return deny(c, CG_REASON_REVOKED,
	    "the token's %s is revoked for issuer %.64s",
	    cg_revoke_kind_name(kind) != NULL ? cg_revoke_kind_name(kind)
					      : "key",
	    c->issuer->name);
}

/*
 * Steps 20 and 21: the store, when needed, and revocation, asked before
 * the trusted claims whether the token is revoked by jti, sub, key or its
 * issuer's cut-off. No answer in time is a deny.
 */
static cg_reason
check_revoked(struct ctx *c)
{
	struct cg_revoke_query q;
	cg_revoke_kind kind = CG_REVOKE_JTI;
	int revoked_ = 0, need_rev;
	cg_reason r;

	if ((r = store_needed(c, &need_rev)) != CG_REASON_OK || !need_rev)
		return r;
	revoke_query(c, &q);
	if (cg__store_ext(c->store)->is_revoked(c->store, &q, &revoked_,
		&kind) != CG_OK)
		return deny(c, CG_REASON_STORE_UNAVAILABLE,
		    "revocation store cannot answer");
	return revoked_ ? revoked(c, kind) : CG_REASON_OK;
}

/*
 * Steps 20 to 24 for a zone with replay when the policy has revocation
 * and the store can do both in one step (Redis: one round trip instead
 * of two). The trusted claims and `require` (22, 23) need no store, so
 * they run first; when they deny, only the revocation check runs (its
 * reasons come earlier in the table) and no jti is recorded. When they
 * allow, the store checks revocation and, only if the token is not
 * revoked, records the jti: the reasons and the rule "recorded only when
 * every other step allowed" are those of the steps run one by one.
 */
static cg_reason
check_fused(struct ctx *c, int *oom)
{
	const struct cg_store_ext *x = cg__store_ext(c->store);
	unsigned char key[CG_STORE_KEY_LEN];
	struct cg_revoke_query q;
	cg_revoke_kind kind = CG_REVOKE_JTI;
	int revoked_ = 0, inserted = 0;
	int64_t until = 0;
	cg_reason local, r;

	if ((local = build_claims(c, oom)) != CG_REASON_OK || *oom)
		goto local_deny;
	if ((local = check_require(c)) != CG_REASON_OK)
		goto local_deny;
	if ((r = replay_key_of(c, key, &until)) != CG_REASON_OK)
		return r;
	revoke_query(c, &q);
	if (x->check_insert(c->store, &q, key, until, &revoked_, &kind,
		&inserted) != CG_OK)
		return deny(c, CG_REASON_STORE_UNAVAILABLE,
		    "store cannot answer");
	if (revoked_)
		return revoked(c, kind);
	return inserted ? CG_REASON_OK : replayed(c);
local_deny:
	if (*oom)
		return CG_REASON_OK;
	/* The deny above is kept unless revocation outranks it. */
	if ((r = check_revoked(c)) != CG_REASON_OK)
		return r;
	return local;
}

static cg_reason
run(struct ctx *c, const char *token, size_t len, int *oom)
{
	struct cg_error err;
	cg_reason r;
	cg_code rc;
	int depth;

	*oom = 0;
	if (len == 0)
		return deny(c, CG_REASON_TOKEN_MISSING, "no token");
	rc = cg_token_parse(token, len, 0, &c->tok, &err);
	switch (rc) {
	case CG_OK:
		break;
	case CG_ERR_NOMEM:
		*oom = 1;
		return CG_REASON_OK;
	case CG_ERR_EMPTY:
		return deny(c, CG_REASON_TOKEN_MISSING, "no token");
	case CG_ERR_TOO_LARGE:
		return deny(c, CG_REASON_TOKEN_TOO_LARGE, "%s", err.msg);
	default:
		return deny(c, CG_REASON_TOKEN_MALFORMED, "%s", err.msg);
	}
	if (c->d->audit != NULL &&
	    set_str(c->d->audit, "token_sha256", cg_token_sha256_hex(c->tok),
		64) != 0) {
		*oom = 1;
		return CG_REASON_OK;
	}
	if (cg_json_object_get(cg_token_header(c->tok), "crit") != NULL)
		return deny(c, CG_REASON_CRIT_UNSUPPORTED,
		    "header has crit; no extension is supported");
	if ((r = select_issuer(c)) != CG_REASON_OK ||
	    (r = verify_signature(c)) != CG_REASON_OK)
		return r;
	/* From here on the claims are authentic, and worth auditing. */
	if (c->d->audit != NULL && record_verified(c) != 0) {
		*oom = 1;
		return CG_REASON_OK;
	}
	if ((r = check_registered_types(c)) != CG_REASON_OK ||
	    (r = check_required(c)) != CG_REASON_OK ||
	    (r = check_times(c)) != CG_REASON_OK ||
	    (r = check_audience(c)) != CG_REASON_OK)
		return r;
	depth = act_depth(cg_token_claim(c->tok, "act"));
	if (depth > c->zone->max_delegation)
		return deny(c, CG_REASON_DELEGATION_TOO_DEEP,
		    "delegation depth %d exceeds max_delegation %d", depth,
		    c->zone->max_delegation);
	if (c->zone->replay && cg__policy_revocation(c->pol) &&
	    cg__store_revocations(c->store) &&
	    cg__store_ext(c->store)->check_insert != NULL) {
		/* Steps 20-24 with one store call (see check_fused). */
		if ((r = check_fused(c, oom)) != CG_REASON_OK || *oom)
			return r;
	} else {
		if ((r = check_revoked(c)) != CG_REASON_OK)
			return r;
		if ((r = build_claims(c, oom)) != CG_REASON_OK || *oom)
			return r;
		if ((r = check_require(c)) != CG_REASON_OK)
			return r;
		if (c->zone->replay && (r = check_replay(c)) != CG_REASON_OK)
			return r;
	}
	if (build_provenance(c) != 0) {
		*oom = 1;
		return CG_REASON_OK;
	}
	c->d->reason = CG_REASON_OK;
	snprintf(c->d->detail, sizeof(c->d->detail), "allowed");
	return CG_REASON_OK;
}

/* see claimgate.h */
cg_code
cg_decide(const struct cg_policy *pol, const char *zone, const char *token,
    size_t len, int64_t now, struct cg_store *store, struct cg_decision **out,
    struct cg_error *err)
{
	return cg_decide_cached(pol, zone, token, len, now, store, NULL, out,
	    err);
}

/* see claimgate.h */
cg_code
cg_decide_cached(const struct cg_policy *pol, const char *zone,
    const char *token, size_t len, int64_t now, struct cg_store *store,
    struct cg_vcache *cache, struct cg_decision **out, struct cg_error *err)
{
	return cg__decide(pol, zone, token, len, now, store, cache, 0, out,
	    err);
}

/* The audit fields cost a dozen allocations: recorded only for callers
 * that write an audit line (serve with --audit). */
cg_code
cg__decide(const struct cg_policy *pol, const char *zone, const char *token,
    size_t len, int64_t now, struct cg_store *store, struct cg_vcache *cache,
    int want_audit, struct cg_decision **out, struct cg_error *err)
{
	struct ctx c;
	long zi;
	int oom;

	if (out != NULL)
		*out = NULL;
	if (pol == NULL || out == NULL || (token == NULL && len > 0))
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET, "NULL argument");
	if (zone == NULL) {
		if (pol->nzones != 1)
			return cg__err(err, CG_ERR_NOT_FOUND, CG_NO_OFFSET,
			    "the policy has %zu zones: name one", pol->nzones);
		zi = 0;
	} else if ((zi = cg__policy_zone_index(pol, zone)) < 0) {
		char ez[80];
		cg__escape(ez, sizeof(ez), zone, strlen(zone), 64);
		return cg__err(err, CG_ERR_NOT_FOUND, CG_NO_OFFSET,
		    "no zone named \"%s\"", ez);
	}
	memset(&c, 0, sizeof(c));
	c.pol = pol;
	c.zone = &pol->zones[zi];
	c.now = now;
	c.store = store;
	c.cache = cache;
	if ((c.d = cg__calloc(1, sizeof(*c.d))) == NULL ||
	    (c.d->zone = cg__strdup(c.zone->name)) == NULL ||
	    (c.d->claims = cg__json_new_object()) == NULL ||
	    (want_audit && (c.d->audit = cg__json_new_object()) == NULL))
		goto nomem;
	run(&c, token, len, &oom);
	cg_token_free(c.tok);
	if (c.keyref != NULL)
		cg__keysource_release(c.issuer->src, c.keyref);
	if (oom)
		goto nomem;
	if (c.d->reason != CG_REASON_OK) {
		/* Nothing from a denied token leaves the boundary. */
		cg__json_free(c.d->claims);
		cg__json_free(c.d->provenance);
		c.d->provenance = NULL;
		if ((c.d->claims = cg__json_new_object()) == NULL)
			goto nomem;
	}
	*out = c.d;
	return CG_OK;
nomem:
	cg_decision_free(c.d);
	return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
}
