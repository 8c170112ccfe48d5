/*
 * test_decide_claims.c - cg_decide() after the signature (contract
 * section 3): the rows claim_invalid .. replayed with their exact edges,
 * trusted claims (claim, from, pattern, split, map, required), `require`,
 * and what leaves the boundary: provenance and the JSON form. The rows up
 * to the signature, the order of failures, error returns and allocation
 * failure are in test_decide.c, whose fixture this file shares
 * (tests/support/decide_fixture.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cgtest.h"
#include "decide_fixture.h"
#include "internal.h"
#include "policy.h"
#include "store.h"

/* ---- fixture ---------------------------------------------------------- */

/* Appended to the fixture policy (decide_fixture.c): the zones of trusted
 * claims and `require`. */
static const char claim_zones[] =
    "  claims:\n"
    "    audience: " AUD "\n"
    "    accept: [corp, partner]\n"
    "    claims:\n"
    "      sub: {}\n"
    "      user: { claim: sub }\n"
    "      tenant: { claim: tid, from: [corp],\n"
    "                pattern: \"^[a-z0-9-]{1,64}$\" }\n"
    "      word: { claim: w, pattern: \"[a-z]+\" }\n"
    "      alt: { claim: alt, pattern: \"a|bc\" }\n"
    "      groups: { claim: grp, pattern: \"[a-z]+\" }\n"
    "      roles:\n"
    "        claim: scope\n"
    "        split: space\n"
    "        pattern: \"[a-z:]+\"\n"
    "        map: { \"payments:write\": PW, \"payments:read\": PR,\n"
    "               \"orders:read\": PR, \"Orders:Write\": OW }\n"
    "      level: { claim: lvl, map: { gold: GOLD, silver: SILVER } }\n"
    "      pid: { from: [partner] }\n"
    "  spl:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      scopes: { claim: scope, split: space }\n"
    "  csv:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      csv: { split: comma }\n"
    "  raw:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      raw: {}\n"
    "  plain:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      sub: {}\n"
    "      raw: {}\n"
    "      scopes: { claim: scope, split: space }\n"
    "  plainreq:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      grp: { required: true }\n"
    "  plainauthz:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      grp: {}\n"
    "    require:\n"
    "      grp: { all_of: [admins] }\n"
    "  required:\n"
    "    audience: " AUD "\n"
    "    accept: [corp, partner]\n"
    "    claims:\n"
    "      tenant: { claim: tid, from: [corp], pattern: \"[a-z]+\","
    " required: true }\n"
    "      roles:\n"
    "        claim: scope\n"
    "        split: space\n"
    "        map: { \"payments:write\": PW, \"payments:read\": PR }\n"
    "        required: true\n"
    "      note: { claim: note, pattern: \"[a-z]+\" }\n"
    "    require:\n"
    "      roles: { any_of: [PW] }\n"
    "  authz:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      roles: { claim: scope, split: space, pattern: \"[a-z]+\" }\n"
    "      tier: { pattern: \"[a-z]+\" }\n"
    "    require:\n"
    "      roles: { all_of: [read, write] }\n"
    "      tier: { any_of: [gold, silver] }\n"
    "  authz1:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    claims:\n"
    "      grp: { pattern: \"[A-Za-z0-9 ]+\" }\n"
    "    require:\n"
    "      grp: { all_of: [admins] }\n";

static int
group_setup(void **state)
{
	(void)state;
	return decide_fixture_setup(claim_zones);
}

static void
test_claim_invalid(void **state)
{
#define INV(what, payload)                                                  \
	{ what, "main", K_RSA1, NULL, payload, CG_REASON_CLAIM_INVALID, 0 }
#define FINE(what, payload)                                                 \
	{ what, "main", K_RSA1, NULL, payload, CG_REASON_OK, 0 }
	static const struct row rows[] = {
		INV("exp a string", CORP_NOEXP(",\"exp\":\"1700000600\"")),
		INV("exp negative", CORP_NOEXP(",\"exp\":-1")),
		INV("exp past 9999", CORP_NOEXP(",\"exp\":253402300800")),
		INV("exp past 9999, fraction",
		    CORP_NOEXP(",\"exp\":253402300799.5")),
		INV("exp past 9999, exponent",
		    CORP_NOEXP(",\"exp\":2.534023008e11")),
		INV("exp 1e300", CORP_NOEXP(",\"exp\":1e300")),
		INV("exp beyond 64 bits",
		    CORP_NOEXP(",\"exp\":100000000000000000000000")),
		INV("exp true", CORP_NOEXP(",\"exp\":true")),
		INV("exp null", CORP_NOEXP(",\"exp\":null")),
		INV("exp an array", CORP_NOEXP(",\"exp\":[1700000600]")),
		INV("exp an object", CORP_NOEXP(",\"exp\":{}")),
		FINE("exp 253402300799", CORP_NOEXP(",\"exp\":253402300799")),
		FINE("exp 2.53402300799e11",
		    CORP_NOEXP(",\"exp\":2.53402300799e11")),
		FINE("exp with a fraction",
		    CORP_NOEXP(",\"exp\":1700000600.5")),
		INV("nbf a string", CORP(",\"nbf\":\"0\"")),
		INV("nbf negative", CORP(",\"nbf\":-1")),
		INV("nbf negative fraction", CORP(",\"nbf\":-0.5")),
		INV("nbf past 9999", CORP(",\"nbf\":253402300800")),
		INV("nbf 1e300", CORP(",\"nbf\":1e300")),
		INV("nbf null", CORP(",\"nbf\":null")),
		INV("nbf false", CORP(",\"nbf\":false")),
		FINE("nbf 0", CORP(",\"nbf\":0")),
		INV("iat a string", CORP(",\"iat\":\"1699999990\"")),
		INV("iat negative", CORP(",\"iat\":-1")),
		INV("iat past 9999", CORP(",\"iat\":253402300800")),
		INV("iat 1e300", CORP(",\"iat\":1e300")),
		INV("iat null", CORP(",\"iat\":null")),
		INV("iat an array", CORP(",\"iat\":[]")),
		FINE("iat 0", CORP(",\"iat\":0")),
		INV("aud a number", CORP_NOAUD(",\"aud\":1")),
		INV("aud an empty array", CORP_NOAUD(",\"aud\":[]")),
		INV("aud an array with a number",
		    CORP_NOAUD(",\"aud\":[\"" AUD "\",1]")),
		INV("aud an array with null",
		    CORP_NOAUD(",\"aud\":[\"" AUD "\",null]")),
		INV("aud an array of arrays",
		    CORP_NOAUD(",\"aud\":[[\"" AUD "\"]]")),
		INV("aud an object", CORP_NOAUD(",\"aud\":{\"" AUD "\":1}")),
		INV("aud null", CORP_NOAUD(",\"aud\":null")),
		INV("aud true", CORP_NOAUD(",\"aud\":true")),
		INV("sub a number", CORP_NOSUB(",\"sub\":1")),
		INV("sub an array", CORP_NOSUB(",\"sub\":[\"alice\"]")),
		INV("sub an object", CORP_NOSUB(",\"sub\":{}")),
		INV("sub null", CORP_NOSUB(",\"sub\":null")),
		INV("sub false", CORP_NOSUB(",\"sub\":false")),
		INV("jti a number", CORP(",\"jti\":1")),
		INV("jti an array", CORP(",\"jti\":[\"j\"]")),
		INV("jti null", CORP(",\"jti\":null")),
		INV("act a string", CORP(",\"act\":\"svc\"")),
		INV("act an array", CORP(",\"act\":[{\"sub\":\"svc\"}]")),
		INV("act without sub", CORP(",\"act\":{}")),
		INV("act sub a number", CORP(",\"act\":{\"sub\":1}")),
		INV("act sub null", CORP(",\"act\":{\"sub\":null}")),
		INV("act null", CORP(",\"act\":null")),
		INV("nested act a string",
		    CORP(",\"act\":{\"sub\":\"a\",\"act\":\"b\"}")),
		INV("nested act without sub",
		    CORP(",\"act\":{\"sub\":\"a\",\"act\":{\"x\":1}}")),
		INV("nested act null",
		    CORP(",\"act\":{\"sub\":\"a\",\"act\":null}")),
		INV("third act level invalid",
		    CORP(",\"act\":{\"sub\":\"a\",\"act\":{\"sub\":\"b\","
			 "\"act\":{\"sub\":[]}}}")),
		/* Registered claims only: others may have any type. */
		FINE("private claim null", CORP(",\"tid\":null")),
		FINE("private claim number", CORP(",\"scope\":5")),
	};
#undef INV
#undef FINE

	(void)state;
	RUN_ROWS(rows);
}

static void
test_claim_missing(void **state)
{
#define MISS(what, zone, payload)                                           \
	{ what, zone, K_RSA1, NULL, payload, CG_REASON_CLAIM_MISSING, 0 }
	static const struct row rows[] = {
		MISS("exp absent", "main", CORP_NOEXP("")),
		MISS("exp absent, nbf and iat present", "main",
		    CORP_NOEXP(",\"nbf\":1699999000,\"iat\":1699999000")),
		{ "require_claims all present", "req", K_RSA1, NULL,
		    CORP(",\"jti\":\"j\",\"tid\":\"t\""), CG_REASON_OK, 0 },
		MISS("require_claims: sub absent", "req",
		    CORP_NOSUB(",\"jti\":\"j\",\"tid\":\"t\"")),
		MISS("require_claims: jti absent", "req",
		    CORP(",\"tid\":\"t\"")),
		MISS("require_claims: tid absent", "req",
		    CORP(",\"jti\":\"j\"")),
		/* Decision: a null private claim counts as absent. */
		MISS("require_claims: tid null", "req",
		    CORP(",\"jti\":\"j\",\"tid\":null")),
		{ "require_claims: tid empty string is present", "req",
		    K_RSA1, NULL, CORP(",\"jti\":\"j\",\"tid\":\"\""),
		    CG_REASON_OK, 0 },
		{ "max_age with iat", "fresh", K_RSA1, NULL,
		    CORP(",\"iat\":1699999990"), CG_REASON_OK, 0 },
		MISS("max_age without iat", "fresh", CORP("")),
		{ "max_lifetime with iat", "main", K_RSA1, NULL,
		    BODY(ISS_SHORT, ",\"iat\":1699999990"), CG_REASON_OK, 0 },
		MISS("max_lifetime without iat", "main", BODY(ISS_SHORT, "")),
		/* Without max_age or max_lifetime iat is optional. */
		{ "no max_age, no iat", "main", K_RSA1, NULL, CORP(""),
		    CG_REASON_OK, 0 },
		MISS("replay: reject without jti", "replay",
		    CORP(",\"grp\":\"ok\"")),
		MISS("replay: reject without jti (other zone)", "replay2",
		    CORP("")),
	};
#undef MISS

	(void)state;
	RUN_ROWS(rows);
}

/* Exact edges of every time rule, at several leeways. */
static void
test_times(void **state)
{
	static const struct {
		const char *zone;
		int64_t leeway;
	} zones[] = { { "main", 30 }, { "nolee", 0 }, { "lee5m", 300 } };
	const int64_t t0 = NOW;
	size_t i;
	char *p, *t;

	(void)state;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		const char *z = zones[i].zone;
		const int64_t L = zones[i].leeway;

		/* exp: denied from exp + leeway on. */
		p = cgt_fmt(CORP_NOEXP(",\"exp\":%lld"), (long long)t0);
		t = mint(K_RSA1, NULL, p);
		expect_st("now = exp + leeway - 1", z, t, t0 + L - 1, NULL,
		    CG_REASON_OK);
		expect_st("now = exp + leeway", z, t, t0 + L, NULL,
		    CG_REASON_TOKEN_EXPIRED);
		expect_st("now = exp + leeway + 1", z, t, t0 + L + 1, NULL,
		    CG_REASON_TOKEN_EXPIRED);
		free(t);
		free(p);

		/* nbf: allowed from nbf - leeway on. */
		p = cgt_fmt(CORP_NOEXP(",\"exp\":%lld,\"nbf\":%lld"),
		    (long long)(t0 + 10000), (long long)t0);
		t = mint(K_RSA1, NULL, p);
		expect_st("now = nbf - leeway", z, t, t0 - L, NULL,
		    CG_REASON_OK);
		expect_st("now = nbf - leeway - 1", z, t, t0 - L - 1, NULL,
		    CG_REASON_TOKEN_NOT_YET_VALID);
		expect_st("now = nbf", z, t, t0, NULL, CG_REASON_OK);
		free(t);
		free(p);

		/* iat: at most now + leeway. */
		p = cgt_fmt(CORP_NOEXP(",\"exp\":%lld,\"iat\":%lld"),
		    (long long)(t0 + 10000), (long long)t0);
		t = mint(K_RSA1, NULL, p);
		expect_st("iat = now + leeway", z, t, t0 - L, NULL,
		    CG_REASON_OK);
		expect_st("iat = now + leeway + 1", z, t, t0 - L - 1, NULL,
		    CG_REASON_TOKEN_ISSUED_IN_FUTURE);
		free(t);
		free(p);
	}

	/* Fractional NumericDates are compared as they are. */
	t = mint(K_RSA1, NULL, CORP_NOEXP(",\"exp\":1700000000.5"));
	expect_st("now = exp - 0.5, no leeway", "nolee", t, NOW, NULL,
	    CG_REASON_OK);
	expect_st("now = exp + 0.5, no leeway", "nolee", t, NOW + 1, NULL,
	    CG_REASON_TOKEN_EXPIRED);
	free(t);
	t = mint(K_RSA1, NULL, CORP(",\"nbf\":1700000000.5"));
	expect_st("now = nbf - 0.5, no leeway", "nolee", t, NOW, NULL,
	    CG_REASON_TOKEN_NOT_YET_VALID);
	expect_st("now = nbf + 0.5, no leeway", "nolee", t, NOW + 1, NULL,
	    CG_REASON_OK);
	free(t);
	/* exp 0 is a valid NumericDate, long expired. */
	t = mint(K_RSA1, NULL, CORP_NOEXP(",\"exp\":0"));
	expect("exp 0", "main", t, CG_REASON_TOKEN_EXPIRED);
	free(t);

	/* max_lifetime (issuer short: 1h): exp - iat <= 3600. It is not
	 * widened by leeway. */
	p = cgt_fmt(BODY(ISS_SHORT, ",\"iat\":%lld"), 1700000600LL - 3600);
	t = mint(K_RSA1, NULL, p);
	expect("exp - iat = max_lifetime", "main", t, CG_REASON_OK);
	free(t);
	free(p);
	p = cgt_fmt(BODY(ISS_SHORT, ",\"iat\":%lld"), 1700000600LL - 3601);
	t = mint(K_RSA1, NULL, p);
	expect("exp - iat = max_lifetime + 1", "main", t,
	    CG_REASON_LIFETIME_TOO_LONG);
	free(t);
	free(p);
	/* Issuers without max_lifetime take any lifetime. */
	t = mint(K_RSA1, NULL, CORP(",\"iat\":0"));
	expect("no max_lifetime", "main", t, CG_REASON_OK);
	free(t);

	/* max_age (zone fresh: 5m, leeway 30s): now <= iat + 330. */
	p = cgt_fmt(CORP_NOEXP(",\"exp\":%lld,\"iat\":%lld"),
	    (long long)(t0 + 10000), (long long)t0);
	t = mint(K_RSA1, NULL, p);
	expect_st("now = iat + max_age + leeway", "fresh", t, t0 + 330, NULL,
	    CG_REASON_OK);
	expect_st("now = iat + max_age + leeway + 1", "fresh", t, t0 + 331,
	    NULL, CG_REASON_TOKEN_TOO_OLD);
	expect_st("iat = now + leeway under max_age", "fresh", t, t0 - 30,
	    NULL, CG_REASON_OK);
	/* Without max_age an old iat is fine. */
	expect_st("no max_age", "main", t, t0 + 5000, NULL, CG_REASON_OK);
	free(t);
	free(p);
}

static void
test_audience(void **state)
{
#define AUDROW(what, zone, aud, want)                                       \
	{ what, zone, K_RSA1, NULL, CORP_NOAUD(aud), want, 0 }
	static const struct row rows[] = {
		AUDROW("absent", "main", "", CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("other value", "main", ",\"aud\":\"https://other\"",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("other case", "main",
		    ",\"aud\":\"https://API.example.com\"",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("trailing slash", "main", ",\"aud\":\"" AUD "/\"",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("prefix", "main", ",\"aud\":\"https://api.example.co\"",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("empty string", "main", ",\"aud\":\"\"",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("array without it", "main",
		    ",\"aud\":[\"https://a\",\"https://b\"]",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("1-element array", "main", ",\"aud\":[\"" AUD "\"]",
		    CG_REASON_OK),
		AUDROW("array containing it, last", "main",
		    ",\"aud\":[\"https://a\",\"" AUD "\"]", CG_REASON_OK),
		AUDROW("array containing it, first", "main",
		    ",\"aud\":[\"" AUD "\",\"https://a\"]", CG_REASON_OK),
		AUDROW("exact: string", "exact", ",\"aud\":\"" AUD "\"",
		    CG_REASON_OK),
		AUDROW("exact: 1-element array", "exact",
		    ",\"aud\":[\"" AUD "\"]", CG_REASON_OK),
		AUDROW("exact: 2-element array containing it", "exact",
		    ",\"aud\":[\"" AUD "\",\"https://a\"]",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("exact: it twice", "exact",
		    ",\"aud\":[\"" AUD "\",\"" AUD "\"]",
		    CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("exact: 1-element array of another", "exact",
		    ",\"aud\":[\"https://a\"]", CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("exact: other string", "exact",
		    ",\"aud\":\"https://a\"", CG_REASON_AUDIENCE_MISMATCH),
		AUDROW("exact: absent", "exact", "",
		    CG_REASON_AUDIENCE_MISMATCH),
	};
#undef AUDROW

	(void)state;
	RUN_ROWS(rows);
}


static void
test_delegation(void **state)
{
	static const struct row rows[] = {
		{ "max 0, no act", "main", K_RSA1, NULL, CORP(""),
		    CG_REASON_OK, 0 },
		{ "max 0, one act", "main", K_RSA1, NULL, CORP(ACT1),
		    CG_REASON_DELEGATION_TOO_DEEP, 0 },
		{ "max 1, one act", "deleg1", K_RSA1, NULL, CORP(ACT1),
		    CG_REASON_OK, 0 },
		{ "max 1, two acts", "deleg1", K_RSA1, NULL, CORP(ACT2),
		    CG_REASON_DELEGATION_TOO_DEEP, 0 },
		{ "max 2, two acts", "deleg2", K_RSA1, NULL, CORP(ACT2),
		    CG_REASON_OK, 0 },
		{ "max 2, three acts", "deleg2", K_RSA1, NULL, CORP(ACT3),
		    CG_REASON_DELEGATION_TOO_DEEP, 0 },
		/* Extra members of an act level do not count as levels. */
		{ "max 1, act with extra members", "deleg1", K_RSA1, NULL,
		    CORP(",\"act\":{\"sub\":\"a\",\"iss\":\"x\","
			 "\"x\":{\"y\":{}}}"),
		    CG_REASON_OK, 0 },
	};

	(void)state;
	RUN_ROWS(rows);
}

/* A store that never answers. */
static cg_code
dead_insert(struct cg_store *s, const unsigned char key[CG_STORE_KEY_LEN],
    int64_t expires, int64_t now, int *inserted)
{
	(void)s;
	(void)key;
	(void)expires;
	(void)now;
	*inserted = 0;
	return CG_ERR_STORE;
}

static void
dead_free(struct cg_store *s)
{
	(void)s;
}

static const struct cg_store_ops dead_ops = { dead_insert, dead_free };

static void
test_store_unavailable(void **state)
{
	struct cg_store dead = { &dead_ops };
	char *t = mint(K_RSA1, NULL, CORP(",\"jti\":\"j1\",\"grp\":\"ok\""));

	(void)state;
	expect_st("replay: reject, no store", "replay", t, NOW, NULL,
	    CG_REASON_STORE_UNAVAILABLE);
	expect_st("replay: reject, a store that cannot answer", "replay", t,
	    NOW, &dead, CG_REASON_STORE_UNAVAILABLE);
	expect_st("replay: reject, no store (other zone)", "replay2", t, NOW,
	    NULL, CG_REASON_STORE_UNAVAILABLE);
	/* Zones without replay never need one. */
	expect_st("replay: off, no store", "main", t, NOW, NULL,
	    CG_REASON_OK);
	expect_st("replay: off, dead store", "main", t, NOW, &dead,
	    CG_REASON_OK);
	free(t);
}

static void
test_replay(void **state)
{
	struct cg_store *st = new_store(), *st2 = new_store();
	char *t, *t2, *tp, *bad;

	(void)state;
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"j1\",\"grp\":\"ok\""));
	expect_st("first use", "replay", t, NOW, st, CG_REASON_OK);
	expect_st("second use", "replay", t, NOW, st, CG_REASON_REPLAYED);
	expect_st("third use, later", "replay", t, NOW + 60, st,
	    CG_REASON_REPLAYED);
	/* Another token (other bytes) with the same iss and jti. */
	t2 = mint(K_RSA2, NULL, CORP(",\"jti\":\"j1\",\"grp\":\"ok\",\"x\":1"));
	expect_st("same jti, other token", "replay", t2, NOW, st,
	    CG_REASON_REPLAYED);
	/* Scoped per zone and per issuer. */
	expect_st("same jti, other zone", "replay2", t, NOW, st,
	    CG_REASON_OK);
	expect_st("same jti, other zone, again", "replay2", t, NOW, st,
	    CG_REASON_REPLAYED);
	tp = mint(K_P1, NULL,
	    BODY(ISS_PARTNER, ",\"jti\":\"j1\",\"grp\":\"ok\""));
	expect_st("same jti, other issuer", "replay", tp, NOW, st,
	    CG_REASON_OK);
	expect_st("same jti, other issuer, again", "replay", tp, NOW, st,
	    CG_REASON_REPLAYED);
	/* Another store knows nothing of the first. */
	expect_st("other store", "replay", t, NOW, st2, CG_REASON_OK);
	/* Replay is never checked where it is off. */
	expect_st("replay: off", "main", t, NOW, st, CG_REASON_OK);
	expect_st("replay: off, again", "main", t, NOW, st, CG_REASON_OK);
	/* Similar jti values are different. */
	free(t);
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"j10\",\"grp\":\"ok\""));
	expect_st("jti j10", "replay", t, NOW, st, CG_REASON_OK);
	free(t);
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"J1\",\"grp\":\"ok\""));
	expect_st("jti J1", "replay", t, NOW, st, CG_REASON_OK);
	free(t);

	/* A token denied by an earlier step never uses up its jti. */
	bad = mint(K_RSA1, NULL, CORP(",\"jti\":\"j2\",\"grp\":\"no\""));
	expect_st("forbidden", "replay", bad, NOW, st, CG_REASON_FORBIDDEN);
	expect_st("forbidden, again", "replay", bad, NOW, st,
	    CG_REASON_FORBIDDEN);
	free(bad);
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"j2\",\"grp\":\"ok\""));
	expect_st("after forbidden", "replay", t, NOW, st, CG_REASON_OK);
	/* A replayed jti with another fault reports the earlier fault. */
	bad = mint(K_RSA1, NULL, CORP(",\"jti\":\"j2\",\"grp\":\"no\""));
	expect_st("used jti, forbidden", "replay", bad, NOW, st,
	    CG_REASON_FORBIDDEN);
	free(bad);
	free(t);
	t = mint(K_RSA1, NULL,
	    CORP_NOEXP(",\"exp\":1699999000,\"jti\":\"j3\",\"grp\":\"ok\""));
	expect_st("expired", "replay", t, NOW, st, CG_REASON_TOKEN_EXPIRED);
	free(t);
	t = mint(K_STRAY, NULL, CORP(",\"jti\":\"j3\",\"grp\":\"ok\""));
	expect_st("bad signature", "replay", t, NOW, st,
	    CG_REASON_SIGNATURE_INVALID);
	free(t);
	t = mint(K_RSA1, NULL, CORP_NOAUD(",\"jti\":\"j3\",\"grp\":\"ok\""));
	expect_st("no audience", "replay", t, NOW, st,
	    CG_REASON_AUDIENCE_MISMATCH);
	free(t);
	t = mint(K_RSA1, NULL, CORP(ACT1 ",\"jti\":\"j3\",\"grp\":\"ok\""));
	expect_st("too deep", "replay", t, NOW, st,
	    CG_REASON_DELEGATION_TOO_DEEP);
	free(t);
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"j3\",\"grp\":\"ok\""));
	expect_st("no store", "replay", t, NOW, NULL,
	    CG_REASON_STORE_UNAVAILABLE);
	expect_st("after all those", "replay", t, NOW, st, CG_REASON_OK);
	free(t);

	/* An entry lives until exp + leeway (30s). */
	t = mint(K_RSA1, NULL,
	    CORP_NOEXP(",\"exp\":1700000100,\"jti\":\"life\"")); /* NOW+100 */
	expect_st("first use", "replay2", t, NOW, st, CG_REASON_OK);
	free(t);
	t = mint(K_RSA1, NULL,
	    CORP_NOEXP(",\"exp\":1700010000,\"jti\":\"life\""));
	expect_st("same jti at exp + leeway - 1", "replay2", t, NOW + 129, st,
	    CG_REASON_REPLAYED);
	expect_st("same jti at exp + leeway", "replay2", t, NOW + 130, st,
	    CG_REASON_OK);
	expect_st("and that use is recorded", "replay2", t, NOW + 131, st,
	    CG_REASON_REPLAYED);
	free(t);
	free(t2);
	free(tp);
	cg_store_free(st);
	cg_store_free(st2);
}

/* A token failing two steps reports the earlier one. */
/* ---- provenance and JSON ------------------------------------------- */

static void
sha256_hex(const char *s, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	assert_int_equal(EVP_Digest(s, len, md, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The RFC 7638 thumbprint of the key with `kid` in issuer `name`'s set. */
static const char *
jkt_of(const char *name, const char *kid)
{
	const struct cg_keyset *ks = NULL;
	struct cg_key_info ki;
	size_t i;

	for (i = 0; i < fx.pol->nissuers; i++)
		if (strcmp(fx.pol->issuers[i].name, name) == 0)
			ks = fx.pol->issuers[i].keys;
	assert_non_null(ks);
	for (i = 0; i < cg_keyset_count(ks); i++) {
		assert_int_equal(cg_keyset_key_info(ks, i, &ki), CG_OK);
		if (ki.kid != NULL && strcmp(ki.kid, kid) == 0) {
			assert_non_null(ki.jkt);
			assert_int_equal(strlen(ki.jkt), 43);
			return ki.jkt;
		}
	}
	fail_msg("no key %s in %s", kid, name);
	return NULL;
}

/* Decides an allowed token and compares its whole JSON form. */
static void
expect_allow_json(const char *zone, const char *tok, const char *claims,
    const char *issuer, const char *iss, const char *alg, const char *kid,
    const char *jkt_key, const char *jti, const char *delegation)
{
	struct cg_decision *d = decide_p(fx.pol, zone, tok, strlen(tok), NOW,
	    NULL);
	char hex[65], *want, *kidm, *jtim, *got, *c;

	assert_int_equal(cg_decision_reason(d), CG_REASON_OK);
	assert_string_equal(cg_decision_detail(d), "allowed");
	sha256_hex(tok, strlen(tok), hex);
	kidm = kid != NULL ? cgt_fmt("\"kid\":\"%s\",", kid)
			   : cgt_fmt("%s", "");
	jtim = jti != NULL ? cgt_fmt("\"jti\":\"%s\",", jti)
			   : cgt_fmt("%s", "");
	want = cgt_fmt("{\"decision\":\"allow\",\"reason\":\"ok\","
		       "\"zone\":\"%s\",\"claims\":%s,\"provenance\":{"
		       "\"issuer\":\"%s\",\"iss\":\"%s\",\"alg\":\"%s\",%s"
		       "\"jkt\":\"%s\",%s\"token_sha256\":\"%s\","
		       "\"delegation\":%s}}",
	    zone, claims, issuer, iss, alg, kidm, jkt_of(issuer, jkt_key), jtim,
	    hex, delegation);
	got = cg_decision_to_json(d);
	assert_non_null(got);
	assert_string_equal(got, want);
	c = cg_json_dump(cg_decision_claims(d), 0);
	assert_non_null(c);
	assert_string_equal(c, claims);
	cg_free(c);
	cg_free(got);
	free(want);
	free(kidm);
	free(jtim);
	cg_decision_free(d);
}

static void
test_provenance(void **state)
{
	char *t;

	(void)state;
	/* No kid: rsa1 is tried first and fails, rsa2 verifies. kid is
	 * omitted, jkt is rsa2's, delegation outermost first. */
	t = mint(K_RSA2, "{\"alg\":\"RS256\"}",
	    CORP(",\"jti\":\"jti-1\"" ACT2));
	expect_allow_json("deleg2", t, "{\"sub\":\"alice\"}", "corp",
	    ISS_CORP, "RS256", NULL, "rsa2", "jti-1",
	    "[\"svc-a\",\"svc-b\"]");
	free(t);
	/* kid given; no jti; no act: delegation []. */
	t = mint(K_EC1, NULL, CORP(""));
	expect_allow_json("main", t, "{}", "corp", ISS_CORP, "ES256", "ec1",
	    "ec1", NULL, "[]");
	free(t);
	t = mint(K_ED1, NULL, BODY(ISS_ED, ",\"jti\":\"e\"" ACT1));
	expect_allow_json("deleg2", t, "{\"sub\":\"alice\"}", "ed", ISS_ED,
	    "EdDSA", "ed1", "ed1", "e", "[\"svc-a\"]");
	free(t);
	/* The JSON escapes what it quotes. */
	t = mint(K_RSA1, NULL, CORP_NOSUB(",\"sub\":\"a\\\"b\\\\c\\u00e9\""));
	expect_allow_json("deleg2", t, "{\"sub\":\"a\\\"b\\\\c\xc3\xa9\"}",
	    "corp", ISS_CORP, "RS256", "rsa1", "rsa1", NULL, "[]");
	free(t);
	/* The token hash is over the bytes received, not a re-encoding. */
	t = mint(K_RSA1, "{\"kid\":\"rsa1\", \"alg\":\"RS256\"}", CORP(""));
	expect_allow_json("main", t, "{}", "corp", ISS_CORP, "RS256", "rsa1",
	    "rsa1", NULL, "[]");
	free(t);
}

static void
test_deny_json(void **state)
{
	char *t = mint(K_RSA1, NULL, CORP_NOEXP(",\"exp\":1699999000"));
	struct cg_decision *d = decide_p(fx.pol, "main", t, strlen(t), NOW,
	    NULL);
	struct cg_json *j;
	char *json, *c;

	(void)state;
	assert_int_equal(cg_decision_reason(d), CG_REASON_TOKEN_EXPIRED);
	assert_false(cg_decision_allowed(d));
	json = cg_decision_to_json(d);
	assert_non_null(json);
	assert_memory_equal(json,
	    "{\"decision\":\"deny\",\"reason\":\"token_expired\","
	    "\"zone\":\"main\",\"detail\":\"",
	    strlen("{\"decision\":\"deny\",\"reason\":\"token_expired\","
		   "\"zone\":\"main\",\"detail\":\""));
	j = parse_json(json);
	assert_int_equal(cg__json_object_size(j), 4);
	assert_string_equal(jstr(j, "detail"), cg_decision_detail(d));
	assert_null(cg_json_object_get(j, "claims"));
	assert_null(cg_json_object_get(j, "provenance"));
	c = cg_json_dump(cg_decision_claims(d), 0);
	assert_string_equal(c, "{}");
	cg_free(c);
	cg__json_free(j);
	cg_free(json);
	cg_decision_free(d);
	free(t);
	/* A denied token that had trusted claims shows none. */
	t = mint(K_RSA1, NULL, CORP(",\"jti\":\"dj\",\"grp\":\"no\""));
	{
		struct cg_store *st = new_store();

		d = decide_p(fx.pol, "replay", t, strlen(t), NOW, st);
		assert_int_equal(cg_decision_reason(d), CG_REASON_FORBIDDEN);
		c = cg_json_dump(cg_decision_claims(d), 0);
		assert_string_equal(c, "{}");
		cg_free(c);
		cg_decision_free(d);
		cg_store_free(st);
	}
	free(t);
}

/* ---- trusted claims --------------------------------------------------- */

/* One token decided at NOW; on allow its trusted claims must dump to
 * `claims`, on deny they must be {}. */
struct crow {
	const char *what;
	const char *zone;
	enum key_ix key;
	const char *payload;
	cg_reason want;
	const char *claims; /* NULL: "{}" */
};

static void
run_crows(const struct crow *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct crow *r = &rows[i];
		const char *want = r->claims != NULL ? r->claims : "{}";
		char *tok = mint(r->key, NULL, r->payload), *got;
		struct cg_decision *d = decide_p(fx.pol, r->zone, tok,
		    strlen(tok), NOW, NULL);

		if (cg_decision_reason(d) != r->want)
			fail_msg("%s: zone %s: got %s (%s), want %s", r->what,
			    r->zone, cg_reason_name(cg_decision_reason(d)),
			    cg_decision_detail(d), cg_reason_name(r->want));
		got = cg_json_dump(cg_decision_claims(d), 0);
		assert_non_null(got);
		if (strcmp(got, want) != 0)
			fail_msg("%s: zone %s: claims %s, want %s", r->what,
			    r->zone, got, want);
		cg_free(got);
		cg_decision_free(d);
		free(tok);
	}
}

#define RUN_CROWS(rows) run_crows(rows, sizeof(rows) / sizeof(rows[0]))

/* Zone `claims`: every allowed token gets sub and user (sub renamed). */
#define CL(what, extra, out)                                                \
	{ what, "claims", K_RSA1, CORP(extra), CG_REASON_OK,                \
	    "{\"sub\":\"alice\",\"user\":\"alice\"" out "}" }
#define A16 "aaaaaaaaaaaaaaaa"
#define A64 A16 A16 A16 A16

#define RAW(what, value, out)                                               \
	{ what, "raw", K_RSA1, CORP(",\"raw\":" value), CG_REASON_OK, out }

static void
test_claims_copy_rename_from(void **state)
{
	static const struct crow rows[] = {
	    CL("sub copied, claim renamed", "", ""),
	    /* Token claims that share a trusted claim's name are not its
	     * source; claims not listed never leave. */
	    CL("advisory claims dropped",
	        ",\"email\":\"a@example.com\",\"roles\":[\"admin\"],"
	        "\"tenant\":\"evil\",\"scopes\":\"x\",\"level\":\"GOLD\","
	        "\"user\":\"root\",\"jti\":\"j\",\"nbf\":1,\"iat\":1",
	        ""),
	    CL("from: corp listed", ",\"tid\":\"acme-1\"",
	        ",\"tenant\":\"acme-1\""),
	    /* pid is from partner only (and has no pattern or map). */
	    CL("from: corp not listed", ",\"pid\":\"p\"", ""),
	    {"from: partner listed, tenant's from is not", "claims", K_P1,
	        BODY(ISS_PARTNER, ",\"pid\":\"p\",\"tid\":\"acme\""),
	        CG_REASON_OK,
	        "{\"sub\":\"alice\",\"user\":\"alice\",\"pid\":\"p\"}"},
	    /* Values without pattern or map are copied as they are. */
	    RAW("raw string", "\"s\"", "{\"raw\":\"s\"}"),
	    RAW("raw number", "7", "{\"raw\":7}"),
	    RAW("raw fraction", "0.5", "{\"raw\":0.5}"),
	    RAW("raw true", "true", "{\"raw\":true}"),
	    RAW("raw object", "{\"a\":[1,\"b\"]}",
	        "{\"raw\":{\"a\":[1,\"b\"]}}"),
	    RAW("raw empty string", "\"\"", "{\"raw\":\"\"}"),
	    RAW("raw mixed list", "[\"a\",2]", "{\"raw\":[\"a\",2]}"),
	    /* Written without jansson on the request path, as jansson
	     * writes them: integers up to 2^53, literals, escapes. */
	    RAW("raw false", "false", "{\"raw\":false}"),
	    RAW("raw negative", "-12", "{\"raw\":-12}"),
	    RAW("raw exponent", "1e3", "{\"raw\":1000}"),
	    RAW("raw -0", "-0", "{\"raw\":0}"),
	    RAW("raw 2^53", "9007199254740992", "{\"raw\":9007199254740992}"),
	    RAW("raw -2^53", "-9007199254740992",
	        "{\"raw\":-9007199254740992}"),
	    RAW("raw escapes", "\"q\\\"b\\\\n\\n\\u0001\\u00e9/\"",
	        "{\"raw\":\"q\\\"b\\\\n\\n\\u0001\xc3\xa9/\"}"),
	    /* Decision: null is never a trusted value. */
	    RAW("raw null", "null", "{}"),
	    RAW("raw [null]", "[null]", "{}"),
	    /* A list left empty counts as absent. */
	    RAW("raw []", "[]", "{}"),
	    /* Nothing leaves on deny. */
	    {"expired", "claims", K_RSA1,
	        CORP_NOEXP(",\"exp\":1,\"tid\":\"acme\""),
	        CG_REASON_TOKEN_EXPIRED, NULL},
	    {"expired, raw", "raw", K_RSA1, CORP_NOEXP(",\"exp\":1,\"raw\":1"),
	        CG_REASON_TOKEN_EXPIRED, NULL},
	};

	(void)state;
	RUN_CROWS(rows);
}

/*
 * A rule without pattern or map whose token claim is absent: the trusted
 * claim is absent (claim_untrusted when required; forbidden when a
 * `require` rule reads it). Regression: apply_rule() used to reach
 * cg__json_incref(NULL), and cg_decide() returned CG_ERR_NOMEM with no
 * decision for `sub: {}` and a token without `sub`.
 */
static void
test_claims_absent_plain(void **state)
{
	static const struct crow rows[] = {
		{ "sub: {}, no sub", "claims", K_RSA1, CORP_NOSUB(""),
		    CG_REASON_OK, "{}" },
		{ "plain rules, all absent", "plain", K_RSA1, CORP_NOSUB(""),
		    CG_REASON_OK, "{}" },
		{ "plain rules, one present", "plain", K_RSA1,
		    CORP_NOSUB(",\"scope\":\"a\""), CG_REASON_OK,
		    "{\"scopes\":[\"a\"]}" },
		{ "plain rules, all present", "plain", K_RSA1,
		    CORP(",\"raw\":1,\"scope\":\"a\""), CG_REASON_OK,
		    "{\"sub\":\"alice\",\"raw\":1,\"scopes\":[\"a\"]}" },
		{ "split only, absent", "spl", K_RSA1, CORP(""), CG_REASON_OK,
		    "{}" },
		{ "required, present", "plainreq", K_RSA1,
		    CORP(",\"grp\":\"g\""), CG_REASON_OK, "{\"grp\":\"g\"}" },
		{ "required, absent", "plainreq", K_RSA1, CORP(""),
		    CG_REASON_CLAIM_UNTRUSTED, NULL },
		{ "required, null", "plainreq", K_RSA1,
		    CORP(",\"grp\":null"), CG_REASON_CLAIM_UNTRUSTED, NULL },
		{ "required, empty list", "plainreq", K_RSA1,
		    CORP(",\"grp\":[]"), CG_REASON_CLAIM_UNTRUSTED, NULL },
		{ "require met", "plainauthz", K_RSA1,
		    CORP(",\"grp\":\"admins\""), CG_REASON_OK,
		    "{\"grp\":\"admins\"}" },
		{ "require reads an absent claim", "plainauthz", K_RSA1,
		    CORP(""), CG_REASON_FORBIDDEN, NULL },
		{ "require, null", "plainauthz", K_RSA1,
		    CORP(",\"grp\":null"), CG_REASON_FORBIDDEN, NULL },
	};

	(void)state;
	RUN_CROWS(rows);
}

static void
test_claims_pattern(void **state)
{
	static const struct crow rows[] = {
		/* tenant: "^[a-z0-9-]{1,64}$", from corp. */
		CL("anchored pattern, match", ",\"tid\":\"acme-1\"",
		    ",\"tenant\":\"acme-1\""),
		CL("anchored pattern, upper case", ",\"tid\":\"Acme\"", ""),
		CL("anchored pattern, underscore", ",\"tid\":\"acme_1\"", ""),
		CL("anchored pattern, empty", ",\"tid\":\"\"", ""),
		CL("anchored pattern, 64", ",\"tid\":\"" A64 "\"",
		    ",\"tenant\":\"" A64 "\""),
		CL("anchored pattern, 65", ",\"tid\":\"" A64 "a\"", ""),
		CL("pattern on a number", ",\"tid\":5", ""),
		CL("pattern on an object", ",\"tid\":{\"a\":\"b\"}", ""),
		CL("pattern on a list", ",\"tid\":[\"acme\",\"Bad\",\"x-1\"]",
		    ",\"tenant\":[\"acme\",\"x-1\"]"),
		/* word: "[a-z]+" without anchors matches the whole value. */
		CL("unanchored, match", ",\"w\":\"abc\"", ",\"word\":\"abc\""),
		CL("unanchored, trailing digit", ",\"w\":\"abc1\"", ""),
		CL("unanchored, leading digit", ",\"w\":\"1abc\"", ""),
		CL("unanchored, inner space", ",\"w\":\"ab c\"", ""),
		CL("unanchored, newline", ",\"w\":\"abc\\ndef\"", ""),
		CL("unanchored, trailing newline", ",\"w\":\"abc\\n\"", ""),
		CL("unanchored, empty", ",\"w\":\"\"", ""),
		CL("unanchored, list", ",\"w\":[\"abc\",\"abc1\",\"xyz\"]",
		    ",\"word\":[\"abc\",\"xyz\"]"),
		/* alt: "a|bc" is ^(a|bc)$, not ^a|bc$. */
		CL("alternation, a", ",\"alt\":\"a\"", ",\"alt\":\"a\""),
		CL("alternation, bc", ",\"alt\":\"bc\"", ",\"alt\":\"bc\""),
		CL("alternation, ax", ",\"alt\":\"ax\"", ""),
		CL("alternation, xbc", ",\"alt\":\"xbc\"", ""),
		CL("alternation, abc", ",\"alt\":\"abc\"", ""),
		/* groups: "[a-z]+" over lists. */
		CL("list filtered", ",\"grp\":[\"abc\",\"ABC\",\"x1\",\"def\"]",
		    ",\"groups\":[\"abc\",\"def\"]"),
		CL("list filtered to empty", ",\"grp\":[\"ABC\",\"1\"]", ""),
		CL("list empty", ",\"grp\":[]", ""),
		CL("list with non-strings", ",\"grp\":[\"abc\",1,null,true,{}]",
		    ",\"groups\":[\"abc\"]"),
	};

	(void)state;
	RUN_CROWS(rows);
}

#define SPL(what, value, out)                                               \
	{ what, "spl", K_RSA1, CORP(",\"scope\":" value), CG_REASON_OK,      \
	    "{" out "}" }
#define CSV(what, value, out)                                               \
	{ what, "csv", K_RSA1, CORP(",\"csv\":" value), CG_REASON_OK,        \
	    "{" out "}" }

/* Split one part of `n` bytes out of "a <part> b" in zone spl. */
static void
expect_long_part(size_t n)
{
	char *xs = malloc(n + 1), *p, *t, *got, *want;
	struct cg_decision *d;

	assert_non_null(xs);
	memset(xs, 'q', n);
	xs[n] = '\0';
	p = cgt_fmt(CORP(",\"scope\":\"a %s b\""), xs);
	t = mint(K_RSA1, NULL, p);
	d = decide_p(fx.pol, "spl", t, strlen(t), NOW, NULL);
	assert_int_equal(cg_decision_reason(d), CG_REASON_OK);
	got = cg_json_dump(cg_decision_claims(d), 0);
	want = cgt_fmt("{\"scopes\":[\"a\",\"%s\",\"b\"]}", xs);
	if (strcmp(got, want) != 0)
		fail_msg("part of %zu bytes: claims %.80s...", n, got);
	cg_free(got);
	free(want);
	cg_decision_free(d);
	free(t);
	free(p);
	free(xs);
}

static void
test_claims_split_map(void **state)
{
	static const struct crow rows[] = {
		SPL("order of first appearance, duplicates and empty parts "
		    "dropped",
		    "\"a b  a c\"", "\"scopes\":[\"a\",\"b\",\"c\"]"),
		SPL("leading and trailing spaces", "\" a \"",
		    "\"scopes\":[\"a\"]"),
		SPL("one part is still a list", "\"a\"", "\"scopes\":[\"a\"]"),
		SPL("only spaces", "\"   \"", ""),
		SPL("empty", "\"\"", ""),
		SPL("a list is taken as it is", "[\"b\",\"a\"]",
		    "\"scopes\":[\"b\",\"a\"]"),
		CSV("split comma", "\"x,y,,x\"", "\"csv\":[\"x\",\"y\"]"),
		CSV("commas only", "\",,\"", ""),
		/* roles: split, pattern "[a-z:]+", map. */
		CL("split, pattern and map",
		    ",\"scope\":\"payments:write orders:read payments:read x\"",
		    ",\"roles\":[\"PW\",\"PR\"]"),
		CL("map keeps the order of first appearance",
		    ",\"scope\":\"orders:read payments:write payments:read\"",
		    ",\"roles\":[\"PR\",\"PW\"]"),
		/* PW does not match [a-z:]+: map runs after pattern. */
		CL("map after pattern", ",\"scope\":\"payments:write\"",
		    ",\"roles\":[\"PW\"]"),
		/* Orders:Write is in the map but fails the pattern first. */
		CL("pattern before map", ",\"scope\":\"Orders:Write\"", ""),
		CL("all unmapped", ",\"scope\":\"a b\"", ""),
		CL("split to nothing", ",\"scope\":\"  \"", ""),
		/* level: map only. */
		CL("scalar mapped", ",\"lvl\":\"gold\"", ",\"level\":\"GOLD\""),
		CL("scalar unmapped", ",\"lvl\":\"bronze\"", ""),
		CL("map keys are case-sensitive", ",\"lvl\":\"Gold\"", ""),
		CL("a mapped value is not a key", ",\"lvl\":\"GOLD\"", ""),
		CL("list mapped",
		    ",\"lvl\":[\"gold\",\"bronze\",\"silver\",\"gold\"]",
		    ",\"level\":[\"GOLD\",\"SILVER\"]"),
		CL("list mapped, order", ",\"lvl\":[\"silver\",\"gold\"]",
		    ",\"level\":[\"SILVER\",\"GOLD\"]"),
		CL("list mapped to empty", ",\"lvl\":[\"bronze\"]", ""),
		CL("map on a number", ",\"lvl\":1", ""),
	};

	(void)state;
	RUN_CROWS(rows);
	/* A long part is kept whole. */
	expect_long_part(1023);
	/* The contract sets no length on a split part, and the token limit
	 * lets one reach ~6000 bytes. apply_rule() in src/decide.c copies
	 * each part into `char part[1024]` and silently drops a part of
	 * 1024 bytes or more (`plen > 0 && plen < sizeof(part)`). */
	expect_long_part(1024);
	expect_long_part(5000);
}

static void
test_claims_required(void **state)
{
#define PW ",\"scope\":\"payments:write\""
#define RQ(what, key, iss, extra, want, out)                                \
	{ what, "required", key, BODY(iss, extra), want, out }
#define RQC(what, extra, want, out)                                         \
	RQ(what, K_RSA1, ISS_CORP, extra, want, out)
	static const struct crow rows[] = {
		RQC("all there", ",\"tid\":\"acme\"" PW,
		    CG_REASON_OK, "{\"tenant\":\"acme\",\"roles\":[\"PW\"]}"),
		RQC("optional one too",
		    ",\"note\":\"n\",\"tid\":\"acme\"" PW,
		    CG_REASON_OK,
		    "{\"tenant\":\"acme\",\"roles\":[\"PW\"],\"note\":\"n\"}"),
		RQ("required, from another issuer", K_P1, ISS_PARTNER,
		    ",\"tid\":\"acme\",\"scope\":\"payments:write\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required, absent", ",\"scope\":\"payments:write\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required, null", ",\"tid\":null" PW,
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required, not matching",
		    ",\"tid\":\"acme1\",\"scope\":\"payments:write\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required, a number", ",\"tid\":1" PW,
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required, empty list",
		    ",\"tid\":[],\"scope\":\"payments:write\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required, list filtered to empty",
		    ",\"tid\":[\"ACME\"],\"scope\":\"payments:write\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		/* tenant was built before roles failed: still nothing. */
		RQC("required list, all unmapped",
		    ",\"tid\":\"acme\",\"scope\":\"a b\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required list, empty string",
		    ",\"tid\":\"acme\",\"scope\":\"\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("required list, absent", ",\"tid\":\"acme\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		RQC("trusted, but forbidden",
		    ",\"tid\":\"acme\",\"scope\":\"payments:read\"",
		    CG_REASON_FORBIDDEN, NULL),
		RQC("untrusted and forbidden", ",\"scope\":\"payments:read\"",
		    CG_REASON_CLAIM_UNTRUSTED, NULL),
		{ "expired and untrusted", "required", K_RSA1,
		    CORP_NOEXP(",\"exp\":1"), CG_REASON_TOKEN_EXPIRED, NULL },
	};
#undef PW
#undef RQ
#undef RQC

	(void)state;
	RUN_CROWS(rows);
}

static void
test_require(void **state)
{
#define AZ(what, extra, want, out)                                          \
	{ what, "authz", K_RSA1, CORP(extra), want, out }
#define A1(what, extra, want, out)                                          \
	{ what, "authz1", K_RSA1, CORP(extra), want, out }
	static const struct crow rows[] = {
		AZ("all_of and any_of met",
		    ",\"scope\":\"read write\",\"tier\":\"gold\"", CG_REASON_OK,
		    "{\"roles\":[\"read\",\"write\"],\"tier\":\"gold\"}"),
		AZ("all_of met in another order, with more",
		    ",\"scope\":\"write x read\",\"tier\":\"silver\"",
		    CG_REASON_OK,
		    "{\"roles\":[\"write\",\"x\",\"read\"],"
		    "\"tier\":\"silver\"}"),
		AZ("any_of over a list",
		    ",\"scope\":\"read write\","
		    "\"tier\":[\"bronze\",\"silver\"]",
		    CG_REASON_OK,
		    "{\"roles\":[\"read\",\"write\"],\"tier\":[\"bronze\","
		    "\"silver\"]}"),
		AZ("all_of half met", ",\"scope\":\"read\",\"tier\":\"gold\"",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("all_of, a longer value",
		    ",\"scope\":\"read writer\",\"tier\":\"gold\"",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("all_of claim missing", ",\"tier\":\"gold\"",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("any_of not met",
		    ",\"scope\":\"read write\",\"tier\":\"bronze\"",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("any_of, case differs",
		    ",\"scope\":\"read write\",\"tier\":\"Gold\"",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("any_of, empty list",
		    ",\"scope\":\"read write\",\"tier\":[]",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("any_of, a number", ",\"scope\":\"read write\",\"tier\":1",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("any_of claim missing", ",\"scope\":\"read write\"",
		    CG_REASON_FORBIDDEN, NULL),
		AZ("any_of, value inside an object",
		    ",\"scope\":\"read write\",\"tier\":{\"gold\":true}",
		    CG_REASON_FORBIDDEN, NULL),
		/* A scalar is a one-element list for all_of too. */
		A1("all_of, scalar", ",\"grp\":\"admins\"", CG_REASON_OK,
		    "{\"grp\":\"admins\"}"),
		A1("all_of, list", ",\"grp\":[\"x\",\"admins\"]", CG_REASON_OK,
		    "{\"grp\":[\"x\",\"admins\"]}"),
		A1("all_of, other scalar", ",\"grp\":\"x\"",
		    CG_REASON_FORBIDDEN, NULL),
		A1("all_of, longer value", ",\"grp\":[\"admins2\"]",
		    CG_REASON_FORBIDDEN, NULL),
		A1("all_of, trailing space", ",\"grp\":\"admins \"",
		    CG_REASON_FORBIDDEN, NULL),
		A1("all_of, case differs", ",\"grp\":\"Admins\"",
		    CG_REASON_FORBIDDEN, NULL),
		A1("all_of, missing", "", CG_REASON_FORBIDDEN, NULL),
		A1("all_of, null", ",\"grp\":null", CG_REASON_FORBIDDEN, NULL),
		/* The rule reads the trusted claim, not the token claim of the
		 * same name. */
		{ "require reads trusted claims", "authz", K_RSA1,
		    CORP(",\"roles\":[\"read\",\"write\"],\"tier\":\"gold\""),
		    CG_REASON_FORBIDDEN, NULL },
	};
#undef AZ
#undef A1

	(void)state;
	RUN_CROWS(rows);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_invalid),
		cmocka_unit_test(test_claim_missing),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_delegation),
		cmocka_unit_test(test_store_unavailable),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_claims_copy_rename_from),
		cmocka_unit_test(test_claims_absent_plain),
		cmocka_unit_test(test_claims_pattern),
		cmocka_unit_test(test_claims_split_map),
		cmocka_unit_test(test_claims_required),
		cmocka_unit_test(test_require),
		cmocka_unit_test(test_provenance),
		cmocka_unit_test(test_deny_json),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    decide_fixture_teardown);
}
