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

#include "jnode.h"
#include "keysource.h"
#include "policy.h"
#include "store.h"

/* NumericDate range (contract section 3): 0 to 9999-12-31T23:59:59Z. */
#define NUMERIC_DATE_MAX 253402300799.0

/*
 * One trusted claim of an allowed decision: a value of the token passed
 * through as it is (v), or items (strings from the token or mapped by the
 * policy, or token values kept in a list), written as one string or as a
 * list. Everything borrowed lives in the token the decision holds or in
 * its arena, never in the policy.
 */
struct tclaim {
	const char *name;
	const struct cg_json *v;
	struct cg_titem *it;
	size_t n;
	int list;
};

struct cg_decision {
	cg_reason reason;
	char *zone;             /* arena */
	struct cg_arena *arena; /* names, mapped strings, lists */
	struct cg_token *tok;   /* held by an allowed decision */
	struct tclaim *tc;      /* trusted claims, in the zone's order */
	size_t ntc;
	const char *issuer;         /* arena; allowed decisions */
	struct cg_json *claims;     /* built on first cg_decision_claims() */
	struct cg_json *provenance; /* built on first use */
	struct cg_json *audit;      /* fields for the audit log */
	/* The strings last: a new decision clears the members above and
	 * only the first byte of these. */
	char jkt[44]; /* thumbprint of the verifying key, or "" */
	char detail[200];
};

/* A decision's first arena block, its header included, stays within
 * what glibc's per-thread cache keeps (chunks of up to 1,032 bytes): a
 * typical decision is then one cheap malloc and free. */
#define ARENA_HINT (1024 - 32)

/* see claimgate.h */
void
cg_decision_free(struct cg_decision *d)
{
	if (d == NULL)
		return;
	cg__json_free(d->claims);
	cg__json_free(d->provenance);
	cg__json_free(d->audit);
	cg_token_free(d->tok);
	cg__arena_free(d->arena); /* d itself is in its arena */
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

static const struct tclaim *trusted(
    const struct cg_decision *d, const char *name);

int
cg__decision_claim(const struct cg_decision *d, const char *name,
    const struct cg_json **v, const struct cg_titem **items, size_t *n,
    int *list)
{
	const struct tclaim *t = d != NULL ? trusted(d, name) : NULL;

	if (t == NULL)
		return -1;
	*v = t->v;
	*items = t->it;
	*n = t->n;
	*list = t->list;
	return 0;
}

static struct cg_json *
item_json(const struct cg_titem *it)
{
	return it->v != NULL ? cg__json_incref(it->v)
	                     : cg__json_new_string(it->s, it->len);
}

/* The trusted claims as a jansson object. */
static struct cg_json *
claims_json(const struct cg_decision *d)
{
	struct cg_json *o, *v, *list;
	size_t i, j;
	int bad = 0;

	if ((o = cg__json_new_object()) == NULL)
		return NULL;
	for (i = 0; i < d->ntc && !bad; i++) {
		const struct tclaim *t = &d->tc[i];
		if (t->v != NULL) {
			v = cg__json_incref(t->v);
		} else if (!t->list) {
			v = item_json(&t->it[0]);
		} else if ((v = list = cg__json_new_array()) != NULL) {
			for (j = 0; j < t->n && !bad; j++)
				bad |= cg__json_array_append(
				    list, item_json(&t->it[j]));
		}
		bad |= v == NULL || cg__json_object_set(o, t->name, v) != 0;
	}
	if (bad) {
		cg__json_free(o);
		return NULL;
	}
	return o;
}

/* see claimgate.h */
const struct cg_json *
cg_decision_claims(const struct cg_decision *d)
{
	struct cg_decision *m = (struct cg_decision *)(uintptr_t)d;

	if (d == NULL)
		return NULL;
	/* Built on first request: the request path writes the decision
	 * without it (cg_decision_to_json, forward headers). */
	if (m->claims == NULL)
		m->claims = claims_json(d);
	return m->claims;
}

static int
set_str(struct cg_json *o, const char *name, const char *s, size_t len)
{
	return cg__json_object_set(o, name, cg__json_new_string(s, len));
}

/* The provenance members of an allowed decision, in order: name and
 * string (NULL when absent); the delegation chain is separate. */
struct prov {
	const char *name[7];
	const char *val[7];
	size_t len[7];
	size_t n;
};

/* -1 when the token's hash cannot be computed (out of memory). */
static int
prov_fields(const struct cg_decision *d, struct prov *p)
{
	const char *s;
	size_t len;

	p->n = 0;
#define PUT(nm, str, l)                                                        \
	do {                                                                   \
		p->name[p->n] = (nm);                                          \
		p->val[p->n] = (str);                                          \
		p->len[p->n++] = (l);                                          \
	} while (0)
	PUT("issuer", d->issuer, strlen(d->issuer));
	(void)cg__jstring(cg__token_reg(d->tok, CG_REG_ISS), &s, &len);
	PUT("iss", s, len);
	s = cg_token_alg_name(d->tok);
	PUT("alg", s, strlen(s));
	if ((s = cg_token_kid(d->tok)) != NULL)
		PUT("kid", s, strlen(s));
	if (d->jkt[0] != '\0')
		PUT("jkt", d->jkt, strlen(d->jkt));
	if (cg__jstring(cg__token_reg(d->tok, CG_REG_JTI), &s, &len) == CG_OK)
		PUT("jti", s, len);
	/* Hashed here, when the provenance is first written or read. */
	if ((s = cg_token_sha256_hex(d->tok)) == NULL)
		return -1;
	PUT("token_sha256", s, 64);
#undef PUT
	return 0;
}

/* The delegation chain, outermost first: the current actor, then who it
 * acted for. Calls fn for each actor's sub. */
static void
each_actor(const struct cg_token *t, void (*fn)(void *, const char *, size_t),
    void *ctx)
{
	const struct cg_json *act;
	const char *s;
	size_t len;

	for (act = cg__token_reg(t, CG_REG_ACT); act != NULL;
	     act = cg_json_object_get(act, "act"))
		if (cg__jstring(cg_json_object_get(act, "sub"), &s, &len) ==
		    CG_OK)
			fn(ctx, s, len);
}

struct chain_ctx {
	struct cg_json *arr;
	int bad;
};

static void
chain_append(void *ctx, const char *s, size_t len)
{
	struct chain_ctx *c = ctx;

	c->bad |= cg__json_array_append(c->arr, cg__json_new_string(s, len));
}

static struct cg_json *
provenance_json(const struct cg_decision *d)
{
	struct chain_ctx cc;
	struct cg_json *p;
	struct prov f;
	size_t i;
	int bad = 0;

	if (prov_fields(d, &f) != 0 || (p = cg__json_new_object()) == NULL)
		return NULL;
	for (i = 0; i < f.n; i++)
		bad |= set_str(p, f.name[i], f.val[i], f.len[i]);
	cc.bad = (cc.arr = cg__json_new_array()) == NULL;
	if (!cc.bad)
		each_actor(d->tok, chain_append, &cc);
	bad |= cc.bad || cg__json_object_set(p, "delegation", cc.arr) != 0;
	if (bad) {
		cg__json_free(p);
		return NULL;
	}
	return p;
}

const struct cg_json *
cg__decision_provenance(const struct cg_decision *d)
{
	struct cg_decision *m = (struct cg_decision *)(uintptr_t)d;

	if (d == NULL || d->reason != CG_REASON_OK)
		return NULL;
	if (m->provenance == NULL)
		m->provenance = provenance_json(d);
	return m->provenance;
}

/* ---- the decision as JSON, written directly ---- */

static void
put_member(struct cg_buf *b, int first, const char *name)
{
	if (!first)
		cg__buf_put(b, ",", 1);
	cg__buf_json_string(b, name, strlen(name));
	cg__buf_put(b, ":", 1);
}

/* A token value as cg__json_dump_compact writes it (numbers exactly as
 * the jansson path prints them). Strings, literals and integers are
 * written here; other values go through jansson. */
static void
put_value(struct cg_buf *b, const struct cg_json *v)
{
	const char *str;
	size_t len;
	double d;
	char *s;

	switch (cg__jtype(v)) {
	case CG_JSON_STRING:
		if (cg__jstring(v, &str, &len) == CG_OK) {
			cg__buf_json_string(b, str, len);
			return;
		}
		break;
	case CG_JSON_NULL: cg__buf_puts(b, "null"); return;
	case CG_JSON_BOOL: {
		int t = 0;
		if (cg_json_bool(v, &t) == CG_OK) {
			cg__buf_puts(b, t ? "true" : "false");
			return;
		}
		break;
	}
	case CG_JSON_NUMBER:
		/* Written as an integer as json.c's output does
		 * (cg__json_integral); others keep jansson's format. */
		if (cg__jnumber(v, &d) == CG_OK && cg__json_integral(d)) {
			char num[32];
			int n =
			    snprintf(num, sizeof(num), "%lld", (long long)d);
			if (n > 0 && (size_t)n < sizeof(num)) {
				cg__buf_put(b, num, (size_t)n);
				return;
			}
		}
		break;
	default: break;
	}
	s = cg__json_dump_compact(v);
	if (s == NULL) {
		b->oom = 1;
		return;
	}
	cg__buf_puts(b, s);
	free(s);
}

static void
put_item(struct cg_buf *b, const struct cg_titem *it)
{
	if (it->v != NULL)
		put_value(b, it->v);
	else
		cg__buf_json_string(b, it->s, it->len);
}

static void
chain_put(void *ctx, const char *s, size_t len)
{
	struct cg_buf *b = ctx;

	if (b->len > 0 && b->p[b->len - 1] != '[')
		cg__buf_put(b, ",", 1);
	cg__buf_json_string(b, s, len);
}

/* see claimgate.h */
char *
cg_decision_to_json(const struct cg_decision *d)
{
	struct cg_buf b = {0};
	const char *r;
	size_t i, j;

	if (d == NULL)
		return NULL;
	r = cg_reason_name(d->reason);
	cg__buf_puts(&b, d->reason == CG_REASON_OK
	                     ? "{\"decision\":\"allow\",\"reason\":"
	                     : "{\"decision\":\"deny\",\"reason\":");
	cg__buf_json_string(&b, r, strlen(r));
	put_member(&b, 0, "zone");
	cg__buf_json_string(&b, d->zone, strlen(d->zone));
	if (d->reason != CG_REASON_OK) {
		put_member(&b, 0, "detail");
		cg__buf_json_string(&b, d->detail, strlen(d->detail));
		cg__buf_put(&b, "}", 1);
		return cg__buf_finish(&b);
	}
	cg__buf_puts(&b, ",\"claims\":{");
	for (i = 0; i < d->ntc; i++) {
		const struct tclaim *t = &d->tc[i];
		put_member(&b, i == 0, t->name);
		if (t->v != NULL) {
			put_value(&b, t->v);
		} else if (!t->list) {
			put_item(&b, &t->it[0]);
		} else {
			cg__buf_put(&b, "[", 1);
			for (j = 0; j < t->n; j++) {
				if (j > 0)
					cg__buf_put(&b, ",", 1);
				put_item(&b, &t->it[j]);
			}
			cg__buf_put(&b, "]", 1);
		}
	}
	cg__buf_puts(&b, "},\"provenance\":{");
	{
		struct prov f;
		if (prov_fields(d, &f) != 0)
			b.oom = 1;
		for (i = 0; !b.oom && i < f.n; i++) {
			put_member(&b, i == 0, f.name[i]);
			cg__buf_json_string(&b, f.val[i], f.len[i]);
		}
	}
	cg__buf_puts(&b, ",\"delegation\":[");
	each_actor(d->tok, chain_put, &b);
	cg__buf_puts(&b, "]}}");
	return cg__buf_finish(&b);
}

/* ---- the steps ---------------------------------------------------- */

/* cg__decide sets every member: add one there too. */
struct ctx {
	const struct cg_policy *pol;
	const struct cg_zone *zone;
	const struct cg_issuer *issuer;
	size_t issuer_index;
	struct cg_token *tok;
	int64_t now;
	struct cg_store *store;
	struct cg_decision *d;
	struct cg_vcache *cache;      /* verified-token cache, or NULL */
	int cached;                   /* tok came from the cache, */
	const struct cg_keyset *keys; /* the issuer's set for this decision */
	struct cg_keyref *keyref;     /* held while `keys` is a remote set */
	size_t key_index;
	const char *iss;
	size_t iss_len;
	char cached_jkt[44]; /* verified with this key */
};

static cg_reason deny(struct ctx *c, cg_reason r, const char *fmt, ...)
    CG_PRINTF(3, 4) CG_COLD;

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

	return cg__jnumber(v, &d) == CG_OK && d >= 0 && d <= NUMERIC_DATE_MAX;
}

/* Every level of `act` must be an object with a string `sub`
 * (RFC 8693 section 4.1). Returns the depth, or -1 when invalid. */
static int
act_depth(const struct cg_json *act)
{
	int depth = 0;

	while (act != NULL) {
		if (cg__jtype(act) != CG_JSON_OBJECT ||
		    cg__jtype(cg_json_object_get(act, "sub")) != CG_JSON_STRING)
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
	static const enum cg_reg dreg[] = {CG_REG_EXP, CG_REG_NBF, CG_REG_IAT};
	static const char *const strs[] = {"sub", "jti"};
	static const enum cg_reg sreg[] = {CG_REG_SUB, CG_REG_JTI};
	const struct cg_json *v;
	size_t i;

	for (i = 0; i < 3; i++) {
		v = cg__token_reg(c->tok, dreg[i]);
		if (v != NULL && !is_numeric_date(v))
			return deny(c, CG_REASON_CLAIM_INVALID,
			    "claim %s is not a NumericDate in [0, %.0f]",
			    dates[i], NUMERIC_DATE_MAX);
	}
	v = cg__token_reg(c->tok, CG_REG_AUD);
	if (v != NULL) {
		int ok = cg__jtype(v) == CG_JSON_STRING;
		if (cg__jtype(v) == CG_JSON_ARRAY) {
			ok = cg__jarray_size(v) > 0;
			for (i = 0; ok && i < cg__jarray_size(v); i++)
				ok = cg__jtype(cg__jarray_get(v, i)) ==
				     CG_JSON_STRING;
		}
		if (!ok)
			return deny(c, CG_REASON_CLAIM_INVALID,
			    "claim aud is not a string or a non-empty array "
			    "of strings");
	}
	for (i = 0; i < 2; i++) {
		v = cg__token_reg(c->tok, sreg[i]);
		if (v != NULL && cg__jtype(v) != CG_JSON_STRING)
			return deny(c, CG_REASON_CLAIM_INVALID,
			    "claim %s is not a string", strs[i]);
	}
	v = cg__token_reg(c->tok, CG_REG_ACT);
	if (v != NULL && act_depth(v) < 0)
		return deny(c, CG_REASON_CLAIM_INVALID,
		    "claim act is not an object with a string sub at every "
		    "level");
	return CG_REASON_OK;
}

static int
present_value(const struct cg_json *v)
{
	cg_json_type ty = cg__jtype(v);
	return ty != CG_JSON_ABSENT && ty != CG_JSON_NULL;
}

static int
present(const struct cg_token *t, const char *name)
{
	return present_value(cg_token_claim(t, name));
}

static cg_reason
check_required(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	size_t i;

	if (!present_value(cg__token_reg(c->tok, CG_REG_EXP)))
		return deny(c, CG_REASON_CLAIM_MISSING, "claim exp is absent");
	for (i = 0; i < z->require_claims.n; i++)
		if (!present(c->tok, z->require_claims.v[i]))
			return deny(c, CG_REASON_CLAIM_MISSING,
			    "required claim %.64s is absent",
			    z->require_claims.v[i]);
	if ((z->max_age >= 0 || c->issuer->max_lifetime >= 0) &&
	    !present_value(cg__token_reg(c->tok, CG_REG_IAT)))
		return deny(c, CG_REASON_CLAIM_MISSING,
		    "claim iat is absent (needed for %s)",
		    z->max_age >= 0 ? "max_age" : "max_lifetime");
	if (z->replay && !present_value(cg__token_reg(c->tok, CG_REG_JTI)))
		return deny(c, CG_REASON_CLAIM_MISSING,
		    "claim jti is absent (needed for replay: reject)");
	return CG_REASON_OK;
}

static double
claim_time(const struct cg_token *t, enum cg_reg r, int *has)
{
	double d = 0;

	*has = cg__jnumber(cg__token_reg(t, r), &d) == CG_OK;
	return d;
}

static cg_reason
check_times(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	double now = (double)c->now, leeway = (double)z->leeway;
	int has_exp, has_nbf, has_iat;
	double exp = claim_time(c->tok, CG_REG_EXP, &has_exp);
	double nbf = claim_time(c->tok, CG_REG_NBF, &has_nbf);
	double iat = claim_time(c->tok, CG_REG_IAT, &has_iat);

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
	const struct cg_json *aud = cg__token_reg(c->tok, CG_REG_AUD);
	const char *want = c->zone->audience, *s;
	size_t wlen = strlen(want), len, i, n;

	if (cg__jstring(aud, &s, &len) == CG_OK) {
		if (len == wlen && memcmp(s, want, len) == 0)
			return CG_REASON_OK;
	} else if ((n = cg__jarray_size(aud)) > 0) {
		if (!c->zone->audience_exact || n == 1)
			for (i = 0; i < n; i++)
				if (cg__jstring(cg__jarray_get(aud, i), &s,
				        &len) == CG_OK &&
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

/* 1 when the array of JSON values holds the string s. */
static int
list_has(const struct cg_json *list, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < cg__jarray_size(list); i++) {
		const char *e;
		size_t elen;
		if (cg__jstring(cg__jarray_get(list, i), &e, &elen) == CG_OK &&
		    elen == len && memcmp(e, s, len) == 0)
			return 1;
	}
	return 0;
}

static int
items_have(const struct tclaim *t, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->it[i].v == NULL && t->it[i].len == len &&
		    memcmp(t->it[i].s, s, len) == 0)
			return 1;
	return 0;
}

/* Appends a string item once (first appearance wins). The string lives
 * in the token, or is a policy map value (copied into the arena). */
static int
append_unique(
    struct ctx *c, struct tclaim *t, const char *s, size_t len, int from_policy)
{
	if (items_have(t, s, len))
		return 0;
	if (from_policy &&
	    (s = cg__arena_strndup(&c->d->arena, s, len, ARENA_HINT)) == NULL)
		return -1;
	t->it[t->n].s = s;
	t->it[t->n].len = len;
	t->it[t->n].v = NULL;
	t->n++;
	return 0;
}

/* matches() through regexec, which needs a NUL-terminated value: when s
 * is a part of a longer string, it gets a copy. */
static int
matches_regex(
    const struct cg_claim_rule *r, const char *s, size_t len, int terminated)
{
	char small[256], *copy;
	int m;

	if (terminated)
		return regexec(&r->re, s, 0, NULL, 0) == 0;
	copy = len < sizeof(small) ? small : cg__malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	m = regexec(&r->re, copy, 0, NULL, 0) == 0;
	if (copy != small)
		free(copy);
	return m;
}

/*
 * 1 when s[0..len) matches the rule's pattern (or it has none), 0 when
 * not, -1 when out of memory.
 */
static inline int
matches(
    const struct cg_claim_rule *r, const char *s, size_t len, int terminated)
{
	int m;

	if (!r->has_pattern)
		return 1;
	if (r->fast != NULL && (m = cg__fastpat_match(r->fast, s, len)) >= 0)
		return m;
	return matches_regex(r, s, len, terminated);
}

/* The map entry for s[0..len), or NULL when unmapped. */
static const struct cg_map_entry *
map_entry(const struct cg_claim_rule *r, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < r->nmap; i++)
		if (r->map[i].from_len == len &&
		    memcmp(r->map[i].from, s, len) == 0)
			return &r->map[i];
	return NULL;
}

/* One string value (whole or a split part) through the pattern and the
 * map, appended to *t. 0 done (kept or dropped), -1 out of memory. */
static int
take_string(struct ctx *c, const struct cg_claim_rule *r, struct tclaim *t,
    const char *s, size_t len, int terminated)
{
	const struct cg_map_entry *e;
	int m = matches(r, s, len, terminated);

	if (m <= 0)
		return m;
	if (!r->has_map)
		return append_unique(c, t, s, len, 0);
	if ((e = map_entry(r, s, len)) == NULL)
		return 0;
	return append_unique(c, t, e->to, e->to_len, 1);
}

/* Items for at most n values. */
static int
items_alloc(struct ctx *c, struct tclaim *t, size_t n)
{
	t->it = cg__arena_alloc(&c->d->arena, n * sizeof(*t->it), ARENA_HINT);
	t->n = 0;
	return t->it == NULL ? -1 : 0;
}

/*
 * Applies one rule to the token's value v into *t. Returns 1 when the
 * result is present, 0 when absent, -1 when out of memory.
 */
static int
apply_rule(struct ctx *c, const struct cg_claim_rule *r,
    const struct cg_json *v, struct tclaim *t)
{
	const char *s;
	size_t len, i, n;
	int transform = r->has_pattern || r->has_map;

	memset(t, 0, sizeof(*t));
	t->name = r->name;
	if (v == NULL || cg__jtype(v) == CG_JSON_NULL)
		return 0; /* absent */
	if (cg__jstring(v, &s, &len) == CG_OK && r->split == CG_SPLIT_NONE) {
		/* A scalar string: pattern, then map. */
		if (!r->has_map) {
			int m = matches(r, s, len, 1);
			if (m > 0)
				t->v = v;
			return m;
		}
		if (items_alloc(c, t, 1) != 0 ||
		    take_string(c, r, t, s, len, 1) != 0)
			return -1;
		return t->n > 0;
	}
	if (cg__jtype(v) != CG_JSON_STRING && cg__jtype(v) != CG_JSON_ARRAY) {
		/* Numbers, booleans and objects pass through untouched, but
		 * never through a pattern or a map, which speak of strings. */
		if (transform)
			return 0;
		t->v = v;
		return 1;
	}
	t->list = 1;
	if (cg__jtype(v) == CG_JSON_STRING) {
		/* split: a space- (or comma-) separated list, empty parts
		 * dropped, duplicates dropped. */
		char sep = r->split == CG_SPLIT_COMMA ? ',' : ' ';
		const char *p = s, *stop = s + len, *q;
		/* Items: one per part, or with a map at most one per
		 * entry (each is kept once). */
		if (r->has_map && r->nmap <= 16)
			n = r->nmap;
		else
			for (n = 1, q = memchr(s, sep, len); q != NULL;
			     q = memchr(q + 1, sep, (size_t)(stop - q - 1)))
				n++;
		if (items_alloc(c, t, n) != 0)
			return -1;
		for (; p <= stop; p = q + 1) {
			q = memchr(p, sep, (size_t)(stop - p));
			if (q == NULL)
				q = stop;
			if (q > p && take_string(c, r, t, p, (size_t)(q - p),
			                 q == stop) != 0)
				return -1;
		}
	} else {
		n = cg__jarray_size(v);
		if (items_alloc(c, t, n) != 0)
			return -1;
		for (i = 0; i < n; i++) {
			const struct cg_json *e = cg__jarray_get(v, i);
			if (cg__jstring(e, &s, &len) == CG_OK) {
				if (take_string(c, r, t, s, len, 1) != 0)
					return -1;
			} else if (!transform && cg__jtype(e) != CG_JSON_NULL) {
				t->it[t->n].v = e;
				t->it[t->n].s = NULL;
				t->it[t->n].len = 0;
				t->n++;
			}
		}
	}
	return t->n > 0;
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
	struct cg_decision *d = c->d;
	size_t i;

	*oom = 0;
	d->ntc = 0;
	if (z->nclaims == 0)
		return CG_REASON_OK;
	d->tc =
	    cg__arena_alloc(&d->arena, z->nclaims * sizeof(*d->tc), ARENA_HINT);
	if (d->tc == NULL) {
		*oom = 1;
		return CG_REASON_OK;
	}
	for (i = 0; i < z->nclaims; i++) {
		const struct cg_claim_rule *r = &z->claims[i];
		int got = 0;
		if (rule_accepts_issuer(r, c->issuer_index)) {
			got = apply_rule(c, r,
			    cg__token_claim_n(c->tok, r->claim, r->claim_len),
			    &d->tc[d->ntc]);
			if (got < 0) {
				*oom = 1;
				return CG_REASON_OK;
			}
		}
		if (got == 0) {
			if (r->required)
				return deny(c, CG_REASON_CLAIM_UNTRUSTED,
				    "trusted claim %.64s is required: %s",
				    r->name,
				    !rule_accepts_issuer(r, c->issuer_index)
				        ? "issuer not in its from list"
				        : "absent or not matching its rule");
			continue;
		}
		/* The name is the policy's: the decision's copy of the zone's
		 * names holds it. */
		d->tc[d->ntc].name = d->zone + r->name_off;
		d->ntc++;
	}
	return CG_REASON_OK;
}

static const struct tclaim *
trusted(const struct cg_decision *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->ntc; i++)
		if (cg__streq(d->tc[i].name, name))
			return &d->tc[i];
	return NULL;
}

/* 1 when the trusted claim holds the string want: equal to it (a
 * scalar counts as a one-element list), or one of its strings. */
static int
trusted_has(const struct tclaim *t, const char *want, size_t wl)
{
	const char *s;
	size_t len;

	if (t == NULL)
		return 0;
	if (t->v == NULL)
		return items_have(t, want, wl);
	if (cg__jstring(t->v, &s, &len) == CG_OK)
		return len == wl && memcmp(s, want, wl) == 0;
	return list_has(t->v, want, wl);
}

static cg_reason
check_require(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	size_t i, j;

	for (i = 0; i < z->nrequire; i++) {
		const struct cg_require_rule *r = &z->require[i];
		const struct tclaim *t = trusted(c->d, r->claim);
		size_t hits = 0;
		for (j = 0; j < r->values.n; j++)
			hits += (size_t)trusted_has(
			    t, r->values.v[j], strlen(r->values.v[j]));
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

/* A thumbprint's 44 bytes in two fixed-size moves (one memcpy of 44
 * becomes a `rep movs`, slow to start, on this path). */
static inline void
copy_jkt(char dst[44], const char *src)
{
	memcpy(dst, src, 32);
	memcpy(dst + 32, src + 32, 12);
}

/* What the provenance needs beyond the token, which the allowed decision
 * keeps: the issuer's name and the verifying key's thumbprint. */
static int
build_provenance(struct ctx *c)
{
	struct cg_key_info ki;

	c->d->issuer = cg__arena_strndup(
	    &c->d->arena, c->issuer->name, strlen(c->issuer->name), ARENA_HINT);
	if (c->d->issuer == NULL)
		return -1;
	if (cg_keyset_key_info(c->keys, c->key_index, &ki) == CG_OK)
		copy_jkt(c->d->jkt, ki.jkt);
	c->d->jkt[sizeof(c->d->jkt) - 1] = '\0';
	return 0;
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

	bad |= set_str(
	    c->d->audit, "issuer", c->issuer->name, strlen(c->issuer->name));
	bad |= set_str(c->d->audit, "iss", c->iss, c->iss_len);
	s = cg_token_alg_name(c->tok);
	bad |= set_str(c->d->audit, "alg", s, strlen(s));
	if ((s = cg_token_kid(c->tok)) != NULL)
		bad |= set_str(c->d->audit, "kid", s, strlen(s));
	if (cg_keyset_key_info(c->keys, c->key_index, &ki) == CG_OK)
		bad |= set_str(c->d->audit, "jkt", ki.jkt, strlen(ki.jkt));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((v = cg_token_claim(c->tok, names[i])) != NULL)
			bad |= cg__json_object_set(
			    c->d->audit, names[i], cg__json_incref(v));
	return bad ? -1 : 0;
}

/* ---- the pipeline --------------------------------------------------- */

/* 1 when typ[0..len), in ASCII lower case, is the normalised type. */
static int
typ_is(const char *typ, size_t len, const char *type)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)typ[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (type[i] == '\0' || (unsigned char)type[i] != c)
			return 0;
	}
	return type[len] == '\0';
}

static int
typ_allowed(const struct cg_issuer *is, const struct cg_token *t)
{
	char norm[128];
	const char *typ;
	size_t len, i;

	if (is->types.n == 0)
		return 1;
	if (cg__jstring(cg__token_typ(t), &typ, &len) != CG_OK)
		return 0;
	if (len < 12) {
		/* Too short for "application/": its normal form is the value
		 * in lower case, compared where it is. */
		for (i = 0; i < is->types.n; i++)
			if (typ_is(typ, len, is->types.v[i]))
				return 1;
		return 0;
	}
	if (cg__typ_normalise(typ, len, norm, sizeof(norm)) != 0)
		return 0;
	for (i = 0; i < is->types.n; i++)
		if (cg__streq(norm, is->types.v[i]))
			return 1;
	return 0;
}

static cg_reason
select_issuer(struct ctx *c)
{
	const struct cg_zone *z = c->zone;
	size_t i;

	if (cg__jstring(cg__token_reg(c->tok, CG_REG_ISS), &c->iss,
	        &c->iss_len) != CG_OK)
		return deny(c, CG_REASON_ISSUER_UNTRUSTED,
		    cg__token_reg(c->tok, CG_REG_ISS) == NULL
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
	size_t i;

	if (!c->cached)
		return 0;
	for (i = 0; cg_keyset_key_info(c->keys, i, &ki) == CG_OK; i++) {
		if (memcmp(ki.jkt, c->cached_jkt, 43) != 0 ||
		    (ki.fits & CG_ALG_BIT(cg_token_alg(c->tok))) == 0)
			continue;
		if (kid != NULL && (ki.kid == NULL || !cg__streq(ki.kid, kid)))
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
		    "typ is not in the types of issuer %.64s", c->issuer->name);
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
	rc = cg_token_verify(
	    c->tok, c->keys, c->issuer->algs, &c->key_index, &err);
	switch (rc) {
	case CG_OK:
		if (c->cache != NULL) {
			struct cg_key_info ki;
			if (cg_keyset_key_info(c->keys, c->key_index, &ki) ==
			    CG_OK)
				cg__vcache_put(c->cache, c->tok, ki.jkt);
		}
		return CG_REASON_OK;
	case CG_ERR_KEY_NOT_FOUND:
		/* A kid the set lacks may be a rotation: ask for one refresh
		 * (rate-limited); this request is not kept waiting. */
		if (c->issuer->src != NULL && cg_token_kid(c->tok) != NULL)
			cg__keysource_kid_miss(c->issuer->src, c->now);
		return deny(c, CG_REASON_KEY_NOT_FOUND,
		    "no key of issuer %.64s fits kid and alg", c->issuer->name);
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
replay_key_of(
    struct ctx *c, unsigned char key[CG_STORE_KEY_LEN], int64_t *until)
{
	const char *jti;
	size_t jlen;
	double exp = 0;

	if (cg__jstring(cg__token_reg(c->tok, CG_REG_JTI), &jti, &jlen) !=
	        CG_OK ||
	    cg__jnumber(cg__token_reg(c->tok, CG_REG_EXP), &exp) != CG_OK)
		return deny(c, CG_REASON_CLAIM_MISSING, "claim jti is absent");
	if (cg__replay_key(c->zone->name, c->iss, c->iss_len, jti, jlen, key) !=
	    0)
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
	if (c->store->ops->insert_if_absent(
	        c->store, key, until, c->now, &inserted) != CG_OK)
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
	if (cg__jstring(cg__token_reg(c->tok, CG_REG_JTI), &q->jti,
	        &q->jti_len) != CG_OK)
		q->jti = NULL;
	if (cg__jstring(cg__token_reg(c->tok, CG_REG_SUB), &q->sub,
	        &q->sub_len) != CG_OK)
		q->sub = NULL;
	if (cg_keyset_key_info(c->keys, c->key_index, &ki) == CG_OK) {
		q->kid = ki.kid;
		q->jkt = ki.jkt;
	}
	if (q->kid == NULL)
		q->kid = cg_token_kid(c->tok);
	q->has_iat =
	    cg__jnumber(cg__token_reg(c->tok, CG_REG_IAT), &iat) == CG_OK;
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
	if (cg__store_ext(c->store)->is_revoked(
	        c->store, &q, &revoked_, &kind) != CG_OK)
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
	if (x->check_insert(
	        c->store, &q, key, until, &revoked_, &kind, &inserted) != CG_OK)
		return deny(
		    c, CG_REASON_STORE_UNAVAILABLE, "store cannot answer");
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
	/* Bytes seen and verified before are not parsed again; everything
	 * after the signature is still decided afresh. */
	if (c->cache != NULL && len <= CG_LIMIT_TOKEN_LEN_DEFAULT &&
	    (c->tok = cg__vcache_get(c->cache, token, len, c->cached_jkt)) !=
	        NULL) {
		c->cached = 1;
		rc = CG_OK;
	} else {
		rc = cg_token_parse(token, len, 0, &c->tok, &err);
	}
	switch (rc) {
	case CG_OK: break;
	case CG_ERR_NOMEM: *oom = 1; return CG_REASON_OK;
	case CG_ERR_EMPTY: return deny(c, CG_REASON_TOKEN_MISSING, "no token");
	case CG_ERR_TOO_LARGE:
		return deny(c, CG_REASON_TOKEN_TOO_LARGE, "%s", err.msg);
	default: return deny(c, CG_REASON_TOKEN_MALFORMED, "%s", err.msg);
	}
	if (c->d->audit != NULL &&
	    (cg_token_sha256_hex(c->tok) == NULL ||
	        set_str(c->d->audit, "token_sha256",
	            cg_token_sha256_hex(c->tok), 64) != 0)) {
		*oom = 1;
		return CG_REASON_OK;
	}
	if (cg__token_has_crit(c->tok))
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
	depth = act_depth(cg__token_reg(c->tok, CG_REG_ACT));
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
	return cg_decide_cached(
	    pol, zone, token, len, now, store, NULL, out, err);
}

/* see claimgate.h */
cg_code
cg_decide_cached(const struct cg_policy *pol, const char *zone,
    const char *token, size_t len, int64_t now, struct cg_store *store,
    struct cg_vcache *cache, struct cg_decision **out, struct cg_error *err)
{
	return cg__decide(
	    pol, zone, token, len, now, store, cache, 0, out, err);
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
	/* Member by member: a memset of the struct is a `rep stos`, as
	 * slow here as a tenth of a cached decision. */
	c.pol = pol;
	c.zone = &pol->zones[zi];
	c.issuer = NULL;
	c.issuer_index = 0;
	c.tok = NULL;
	c.now = now;
	c.store = store;
	c.d = NULL;
	c.cache = cache;
	c.cached = 0;
	c.keys = NULL;
	c.keyref = NULL;
	c.key_index = 0;
	c.iss = NULL;
	c.iss_len = 0;
	c.cached_jkt[0] = '\0';
	{
		/* One allocation for a typical decision: the struct, its
		 * names and lists share one arena block. */
		struct cg_arena *a = NULL;
		if ((c.d = cg__arena_alloc(&a, sizeof(*c.d), ARENA_HINT)) ==
		    NULL)
			goto nomem;
		memset(c.d, 0, offsetof(struct cg_decision, jkt));
		c.d->jkt[0] = '\0';
		c.d->detail[0] = '\0';
		c.d->arena = a;
	}
	/* The zone's name and its claims' names (struct cg_zone). */
	if ((c.d->zone = cg__arena_alloc(
	         &c.d->arena, c.zone->names_len, ARENA_HINT)) == NULL ||
	    (want_audit && (c.d->audit = cg__json_new_object()) == NULL))
		goto nomem;
	memcpy(c.d->zone, c.zone->names, c.zone->names_len);
	run(&c, token, len, &oom);
	if (c.keyref != NULL)
		cg__keysource_release(c.issuer->src, c.keyref);
	if (oom || c.d->reason != CG_REASON_OK) {
		/* Nothing from a denied token leaves the boundary. */
		c.d->ntc = 0;
		cg_token_free(c.tok);
		if (oom)
			goto nomem;
	} else {
		c.d->tok = c.tok; /* its values are the decision's claims */
	}
	*out = c.d;
	return CG_OK;
nomem:
	cg_decision_free(c.d);
	return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
}
