/*
 * fuzz_token.c - the compact token: cg_token_parse, every accessor,
 * cg_token_verify against the fixed key set, and cg_decide in every zone of
 * the fixed policy at a fixed time (fuzz_common.c).
 *
 * Input: the token bytes, as they would follow "Bearer ". The same bytes
 * are then used as the claims of a token the target signs itself with the
 * fixed HS256 key (issuer hmac), so that fuzzed claims also reach every
 * step of the decision table after the signature.
 * Invariants (abort when broken):
 *   - a token whose signature verifies, or that is allowed in any zone,
 *     is byte-identical to one we signed (fuzz/keys/minted.txt and the
 *     tokens signed in LLVMFuzzerInitialize): nothing else is a forgery;
 *   - a failing call fills struct cg_error with its code and a printable
 *     ASCII message; a parsed token's strings are NUL-terminated and its
 *     signature fits the algorithm;
 *   - the same token allowed twice in a `replay: reject` zone with one
 *     store is denied `replayed` the second time;
 *   - a denied decision carries no claims; decisions render on one line;
 *   - a token we signed from fuzzed claims is allowed only when its claims
 *     meet every rule of the fixed policy (check_allowed_claims(), the
 *     policy restated from the contract): iss, exp/nbf/iat with leeway,
 *     max_age, aud, act depth, required claims, tid's pattern, and a
 *     scope that maps to a required role;
 *   - no forward header value holds a byte below 0x20 or 0x7f.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "policy.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	(void)cgf_keys();
	(void)cgf_policy();
	cgf_init_tokens();
	return 0;
}

static void
check_token(const struct cg_token *t, const char *data, size_t size)
{
	const char *s;
	char *dump;
	size_t raw_len, i;

	if (cg_json_typeof(cg_token_header(t)) != CG_JSON_OBJECT ||
	    cg_json_typeof(cg_token_claims(t)) != CG_JSON_OBJECT)
		cgf_fail("a parsed token's header or claims are not objects");
	if (cg_token_alg_name(t) == NULL)
		cgf_fail("a parsed token has no alg name");
	if (cg_token_alg(t) != CG_ALG_UNKNOWN &&
	    strcmp(cg_alg_name(cg_token_alg(t)), cg_token_alg_name(t)) != 0)
		cgf_fail("alg and alg name disagree");
	if ((s = cg_token_kid(t)) != NULL)
		(void)strlen(s);
	s = cg_token_sha256_hex(t);
	if (s == NULL || strlen(s) != 64)
		cgf_fail("token_sha256 is not 64 hex digits");
	s = cg__token_bytes(t, &raw_len);
	if (raw_len != size || memcmp(s, data, size) != 0)
		cgf_fail("the token's bytes are not the input");
	/* Exactly two dots in what parsed. */
	for (i = 0, raw_len = 0; i < size; i++)
		raw_len += data[i] == '.';
	if (raw_len != 2)
		cgf_fail("a token without exactly two dots parsed");
	if ((dump = cg_json_dump(cg_token_claims(t), 0)) != NULL)
		cg_free(dump);
	if ((dump = cg_json_dump(cg_token_header(t), 1)) != NULL)
		cg_free(dump);
	(void)cg_token_claim(t, "exp");
	(void)cg_token_signature_len(t);
}

static void
verify(const struct cg_token *t, const char *data, size_t size)
{
	struct cg_key_info ki;
	struct cg_error err;
	size_t idx = (size_t)-1;
	cg_alg_set sets[3];
	cg_code rc;
	size_t i;

	sets[0] = CG_ALG_ALL;
	sets[1] = CG_ALG_BIT(CG_ALG_HS256);
	sets[2] = CG_ALG_BIT(cg_token_alg(t));
	for (i = 0; i < 3; i++) {
		memset(&err, 0, sizeof(err));
		rc = cg_token_verify(t, cgf_keys(), sets[i], &idx, &err);
		cgf_check_error(&err, rc);
		if (rc != CG_OK)
			continue;
		if (!cgf_is_minted(data, size))
			cgf_fail("a token we did not sign VERIFIES (forgery)");
		if (cg_keyset_key_info(cgf_keys(), idx, &ki) != CG_OK)
			cgf_fail("key_index is out of range");
		if ((ki.fits & CG_ALG_BIT(cg_token_alg(t))) == 0 ||
		    (sets[i] & CG_ALG_BIT(cg_token_alg(t))) == 0)
			cgf_fail("a key verified an alg it does not fit or "
				 "that was not allowed");
		if (cg_token_kid(t) != NULL &&
		    (ki.kid == NULL || strcmp(ki.kid, cg_token_kid(t)) != 0))
			cgf_fail("a key with another kid verified");
	}
}

static void check_allowed_claims(const char *zone, const char *tok,
    size_t len);

static void
check_forward(void *ctx, const char *name, const char *value)
{
	const unsigned char *v = (const unsigned char *)value;

	(void)ctx;
	if (name == NULL || value == NULL || value[0] == '\0')
		cgf_fail("a forward header without name or value");
	for (; *v != '\0'; v++)
		if (*v < 0x20 || *v == 0x7f)
			cgf_fail("a forward header value holds a control byte "
				 "(header injection)");
}

/* Decides the token in every zone with one store. `ours`: the target
 * signed it for this input, so an allow is possible and is checked
 * against the policy instead (check_allowed_claims). */
static void
decide(const char *data, size_t size, int ours)
{
	static const char *const zones[] = {"api", "exact", "open"};
	const struct cg_policy *pol = cgf_policy();
	struct cg_store *st = NULL;
	struct cg_error err;
	size_t i;

	if (cg_store_memory_new(&st) != CG_OK)
		cgf_fail("cg_store_memory_new failed");
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct cg_decision *d = NULL, *again = NULL;
		cg_code rc;

		memset(&err, 0, sizeof(err));
		rc = cg_decide(pol, zones[i], data, size, CGF_NOW, st, &d,
		    &err);
		cgf_check_error(&err, rc);
		if (rc != CG_OK)
			cgf_fail("cg_decide failed on a valid zone");
		cgf_check_decision(d, data, size, ours);
		if (cg_decision_allowed(d) && ours)
			check_allowed_claims(zones[i], data, size);
		(void)cg__forward_headers(pol, d, check_forward, NULL);
		if (cg_decision_allowed(d) &&
		    pol->zones[cg__policy_zone_index(pol, zones[i])].replay) {
			rc = cg_decide(pol, zones[i], data, size, CGF_NOW, st,
			    &again, &err);
			if (rc != CG_OK ||
			    cg_decision_reason(again) != CG_REASON_REPLAYED)
				cgf_fail("a token allowed twice in a replay "
					 "zone");
			cgf_check_decision(again, data, size, ours);
			cg_decision_free(again);
		}
		if (cg_decision_allowed(d)) {
			char *line;
			struct cg_audit_req r;
			memset(&r, 0, sizeof(r));
			r.time_ms = (uint64_t)CGF_NOW * 1000;
			r.method = "GET";
			r.path = "/";
			r.client = "127.0.0.1";
			if ((line = cg__audit_line(d, &r)) != NULL)
				cg_free(line);
		}
		cg_decision_free(d);
	}
	cg_store_free(st);
}

/* ---- the policy, restated: what an allowed token must carry ------------ */

#define NUMERIC_DATE_MAX 253402300799.0

static int
num(const struct cg_token *t, const char *name, double *d)
{
	const struct cg_json *v = cg_token_claim(t, name);

	return cg_json_number(v, d) == CG_OK && *d >= 0 &&
	    *d <= NUMERIC_DATE_MAX;
}

static int
str_is(const struct cg_json *v, const char *want)
{
	const char *s;
	size_t len;

	return cg_json_string(v, &s, &len) == CG_OK && len == strlen(want) &&
	    memcmp(s, want, len) == 0;
}

static int
aud_has(const struct cg_json *aud, const char *want)
{
	size_t i, n = cg_json_array_size(aud);

	if (str_is(aud, want))
		return 1;
	for (i = 0; i < n; i++)
		if (cg_json_typeof(cg_json_array_get(aud, i)) != CG_JSON_STRING)
			return 0;
	for (i = 0; i < n; i++)
		if (str_is(cg_json_array_get(aud, i), want))
			return 1;
	return 0;
}

/* Depth of a valid `act` chain, -1 when a level is not an object with a
 * string sub. */
static int
act_depth(const struct cg_json *act)
{
	int depth = 0;

	for (; act != NULL; act = cg_json_object_get(act, "act")) {
		if (cg_json_typeof(act) != CG_JSON_OBJECT ||
		    cg_json_typeof(cg_json_object_get(act, "sub")) !=
			CG_JSON_STRING)
			return -1;
		depth++;
	}
	return depth;
}

/* [a-z0-9-]{1,32}, the whole value. */
static int
tenant_ok(const struct cg_json *v)
{
	const char *s;
	size_t len, i;

	if (cg_json_string(v, &s, &len) != CG_OK || len < 1 || len > 32)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* scope maps to reader or writer: a space-separated part (string) or an
 * element (list) equal to r:read or r:write. */
static int
scope_ok(const struct cg_json *v)
{
	const char *s;
	size_t len, i, start = 0;

	if (cg_json_string(v, &s, &len) == CG_OK) {
		for (i = 0; i <= len; i++) {
			if (i < len && s[i] != ' ')
				continue;
			if ((i - start == 6 && memcmp(s + start, "r:read", 6) ==
				0) ||
			    (i - start == 7 &&
				memcmp(s + start, "r:write", 7) == 0))
				return 1;
			start = i + 1;
		}
		return 0;
	}
	for (i = 0; i < cg_json_array_size(v); i++)
		if (str_is(cg_json_array_get(v, i), "r:read") ||
		    str_is(cg_json_array_get(v, i), "r:write"))
			return 1;
	return 0;
}

/*
 * An allow in `zone` of a token we signed with hs1 (issuer hmac): the
 * claims must meet every rule of the fixed policy, restated here from the
 * contract (section 3) rather than from decide.c.
 */
static void
check_allowed_claims(const char *zone, const char *tok, size_t len)
{
	const double now = (double)CGF_NOW, leeway = 30;
	int api = strcmp(zone, "api") == 0;
	struct cg_token *t = NULL;
	const struct cg_json *v;
	double exp, nbf, iat;

	if (strcmp(zone, "exact") == 0)
		cgf_fail("zone exact (issuer idp only) allowed an HS256 token");
	if (cg_token_parse(tok, len, 0, &t, NULL) != CG_OK)
		cgf_fail("an allowed token does not parse");
	if (!str_is(cg_token_claim(t, "iss"), "https://hmac.fuzz.example"))
		cgf_fail("allowed: iss is not the issuer whose key signed");
	if (!num(t, "exp", &exp) || !(now < exp + leeway))
		cgf_fail("allowed: exp absent, invalid or past");
	if ((v = cg_token_claim(t, "nbf")) != NULL &&
	    (!num(t, "nbf", &nbf) || now < nbf - leeway))
		cgf_fail("allowed: nbf invalid or in the future");
	if ((v = cg_token_claim(t, "iat")) != NULL &&
	    (!num(t, "iat", &iat) || iat > now + leeway))
		cgf_fail("allowed: iat invalid or in the future");
	if (((v = cg_token_claim(t, "sub")) != NULL &&
		cg_json_typeof(v) != CG_JSON_STRING) ||
	    ((v = cg_token_claim(t, "jti")) != NULL &&
		cg_json_typeof(v) != CG_JSON_STRING))
		cgf_fail("allowed: sub or jti is not a string");
	if (!aud_has(cg_token_claim(t, "aud"),
		api ? "https://api.fuzz.example" : "open"))
		cgf_fail("allowed: aud does not hold the zone's audience");
	v = cg_token_claim(t, "act");
	if (act_depth(v) < 0 || act_depth(v) > (api ? 2 : 0))
		cgf_fail("allowed: act invalid or deeper than max_delegation");
	if (api) {
		if (cg_token_claim(t, "sub") == NULL ||
		    cg_token_claim(t, "jti") == NULL)
			cgf_fail("allowed in api: sub or jti absent");
		if (!num(t, "iat", &iat) || now > iat + 600 + leeway)
			cgf_fail("allowed in api: iat absent or older than "
				 "max_age");
		if (!tenant_ok(cg_token_claim(t, "tid")))
			cgf_fail("allowed in api: tid does not match its "
				 "pattern");
		if (!scope_ok(cg_token_claim(t, "scope")))
			cgf_fail("allowed in api: no scope maps to reader or "
				 "writer");
	}
	cg_token_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tok = (const char *)data;
	struct cg_token *t = NULL;
	struct cg_error err;
	cg_code rc;

	memset(&err, 0, sizeof(err));
	rc = cg_token_parse(tok, size, 0, &t, &err);
	cgf_check_error(&err, rc);
	if (rc != CG_OK && err.offset != CG_NO_OFFSET && err.offset > size)
		cgf_fail("a parse error's offset is past the input");
	if (rc == CG_OK) {
		check_token(t, tok, size);
		verify(t, tok, size);
		cg_token_free(t);
	} else if (t != NULL) {
		cgf_fail("a failed parse left a token");
	} else if (rc != CG_ERR_EMPTY && rc != CG_ERR_TOO_LARGE &&
	    rc != CG_ERR_MALFORMED && rc != CG_ERR_BASE64 &&
	    rc != CG_ERR_JSON && rc != CG_ERR_NOMEM) {
		cgf_fail("cg_token_parse returned an undocumented code");
	}
	decide(tok, size, 0);

	/* The input as the claims of a token we sign: the decision table
	 * past the signature, with fuzzed claims. */
	{
		char *own = cgf_sign_hs256(tok, size);
		decide(own, strlen(own), 1);
		free(own);
	}
	return 0;
}
