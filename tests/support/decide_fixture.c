/*
 * decide_fixture.c - see decide_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "decide_fixture.h"
#include "internal.h"
#include "policy.h"
#include "store.h"

static const struct keydef {
	cg_alg alg;
	const char *kid;
	int with_alg;
} keydefs[K_N] = {
    [K_RSA1] = {CG_ALG_RS256, "rsa1", 0},
    [K_RSA2] = {CG_ALG_RS256, "rsa2", 0},
    [K_EC1] = {CG_ALG_ES256, "ec1", 0},
    [K_RSAALG] = {CG_ALG_RS256, "rsaalg", 1},
    [K_ED1] = {CG_ALG_EDDSA, "ed1", 0},
    [K_HS1] = {CG_ALG_HS256, "hs1", 0},
    [K_P1] = {CG_ALG_RS256, "p1", 0},
    [K_STRAY] = {CG_ALG_RS256, "rsa1", 0},
    [K_STRAY_HS] = {CG_ALG_HS256, "hs1", 0},
};

static const struct setdef {
	const char *file;
	enum key_ix keys[4];
	size_t n;
} setdefs[] = {
    {"corp.jwks.json", {K_RSA1, K_RSA2, K_EC1, K_RSAALG}, 4},
    {"ed.jwks.json", {K_ED1}, 1},
    {"hs.jwks.json", {K_HS1}, 1},
    {"partner.jwks.json", {K_P1}, 1},
};
#define NSETS (sizeof(setdefs) / sizeof(setdefs[0]))

/* @D@ is replaced by the fixture folder. */
static const char policy_text[] =
    "version: 1\n"
    "issuers:\n"
    "  corp:\n"
    "    issuer: " ISS_CORP "\n"
    "    jwks_file: @D@/corp.jwks.json\n"
    "    algorithms: [RS256, RS384, ES256, ES384, HS256]\n"
    "  typed:\n"
    "    issuer: " ISS_TYPED "\n"
    "    jwks_file: @D@/corp.jwks.json\n"
    "    algorithms: [RS256]\n"
    "    types: [at+jwt, Application/Example+JWT]\n"
    "  short:\n"
    "    issuer: " ISS_SHORT "\n"
    "    jwks_file: @D@/corp.jwks.json\n"
    "    algorithms: [RS256]\n"
    "    max_lifetime: 1h\n"
    "  ed:\n"
    "    issuer: " ISS_ED "\n"
    "    jwks_file: @D@/ed.jwks.json\n"
    "    algorithms: [EdDSA]\n"
    "  hs:\n"
    "    issuer: " ISS_HS "\n"
    "    jwks_file: @D@/hs.jwks.json\n"
    "    algorithms: [HS256]\n"
    "  remote:\n"
    "    issuer: " ISS_REMOTE "\n"
    "    jwks_uri: " ISS_REMOTE "/jwks\n"
    "    algorithms: [RS256]\n"
    "  partner:\n"
    "    issuer: " ISS_PARTNER "\n"
    "    jwks_file: @D@/partner.jwks.json\n"
    "    algorithms: [RS256]\n"
    "  outsider:\n"
    "    issuer: " ISS_OUTSIDER "\n"
    "    jwks_file: @D@/partner.jwks.json\n"
    "    algorithms: [RS256]\n"
    "zones:\n"
    "  main:\n"
    "    audience: " AUD "\n"
    "    accept: [corp, typed, short, ed, hs, remote, partner]\n"
    "  nolee:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    leeway: 0\n"
    "  lee5m:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    leeway: 5m\n"
    "  exact:\n"
    "    audience: " AUD "\n"
    "    audience_exact: true\n"
    "    accept: [corp]\n"
    "  fresh:\n"
    "    audience: " AUD "\n"
    "    accept: [corp, short]\n"
    "    leeway: 30s\n"
    "    max_age: 5m\n"
    "  req:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    require_claims: [sub, jti, tid]\n"
    "  deleg1:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    max_delegation: 1\n"
    "  deleg2:\n"
    "    audience: " AUD "\n"
    "    accept: [corp, ed]\n"
    "    max_delegation: 2\n"
    "    claims:\n"
    "      sub: {}\n"
    "  replay:\n"
    "    audience: " AUD "\n"
    "    accept: [corp, partner]\n"
    "    replay: reject\n"
    "    claims:\n"
    "      grp: {}\n"
    "    require:\n"
    "      grp: { any_of: [ok] }\n"
    "  replay2:\n"
    "    audience: " AUD "\n"
    "    accept: [corp]\n"
    "    replay: reject\n";

struct decide_fixture fx;

/* `tmpl` with every @D@ replaced by the fixture folder; free(). */
static char *
subst_dir(const char *tmpl)
{
	size_t n = 0, dl = strlen(fx.dir), o = 0;
	const char *p;
	char *out;

	for (p = tmpl; (p = strstr(p, "@D@")) != NULL; p += 3)
		n++;
	out = malloc(strlen(tmpl) + n * dl + 1);
	assert_non_null(out);
	for (p = tmpl; *p != '\0';) {
		if (strncmp(p, "@D@", 3) == 0) {
			memcpy(out + o, fx.dir, dl);
			o += dl;
			p += 3;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

struct cg_policy *
parse_policy(const char *tmpl)
{
	struct cg_policy *p = NULL;
	struct cg_error err;
	char *text = subst_dir(tmpl);

	memset(&err, 0, sizeof(err));
	if (cg__policy_parse(
	        text, strlen(text), "test.yaml", fx.dir, &p, &err) != CG_OK)
		fail_msg("policy: %s (%s)", err.msg, cg_code_name(err.code));
	free(text);
	return p;
}

static void
write_file(const char *name, const char *text)
{
	char *path = cgt_fmt("%s/%s", fx.dir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	free(path);
}

int
decide_fixture_setup(const char *more_zones)
{
	size_t i, j;
	char *text;

	memset(&fx, 0, sizeof(fx));
	strcpy(fx.dir, "/tmp/cg-decide-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	for (i = 0; i < K_N; i++)
		cgt_key_gen(&fx.keys[i], keydefs[i].alg, keydefs[i].kid,
		    keydefs[i].with_alg);
	for (i = 0; i < NSETS; i++) {
		const char *jwks[4];
		char *doc;

		for (j = 0; j < setdefs[i].n; j++)
			jwks[j] = fx.keys[setdefs[i].keys[j]].jwk;
		doc = cgt_jwks(jwks, setdefs[i].n);
		write_file(setdefs[i].file, doc);
		free(doc);
	}
	text =
	    cgt_fmt("%s%s", policy_text, more_zones != NULL ? more_zones : "");
	fx.pol = parse_policy(text);
	free(text);
	return 0;
}

int
decide_fixture_teardown(void **state)
{
	size_t i;

	(void)state;
	cg_policy_free(fx.pol);
	for (i = 0; i < K_N; i++)
		cgt_key_free(&fx.keys[i]);
	for (i = 0; i < NSETS; i++) {
		char *path = cgt_fmt("%s/%s", fx.dir, setdefs[i].file);
		unlink(path);
		free(path);
	}
	return rmdir(fx.dir) == 0 ? 0 : -1;
}

/* ---- tokens ----------------------------------------------------------- */

/* Signs header and payload bytes with key k; header NULL means
 * {"alg":<k's alg>,"kid":<k's kid>}. free(). */
char *
mint(enum key_ix k, const char *header, const char *payload)
{
	char *h = NULL, *t;

	if (header == NULL)
		header = h = cgt_fmt("{\"alg\":\"%s\",\"kid\":\"%s\"}",
		    cg_alg_name(keydefs[k].alg), keydefs[k].kid);
	t = cgt_mint(&fx.keys[k], header, payload);
	free(h);
	return t;
}

/* An unsigned token: B64(header).B64(payload).sig. free(). */
char *
assemble(const char *header, const char *payload, const char *sig)
{
	char *h = cgt_b64(header, strlen(header));
	char *p = cgt_b64(payload, strlen(payload));
	char *t = cgt_fmt("%s.%s.%s", h, p, sig);

	free(h);
	free(p);
	return t;
}

/* ---- deciding ------------------------------------------------------- */

struct cg_json *
parse_json(const char *s)
{
	struct cg_json *v = NULL;
	size_t bad;
	char why[80];

	if (cg__json_parse_object(
	        s, strlen(s), 64, &v, &bad, why, sizeof(why)) != CG_OK)
		fail_msg("not a JSON object (%s): %s", why, s);
	return v;
}

const char *
jstr(const struct cg_json *o, const char *name)
{
	const char *s = NULL;

	if (cg_json_string(cg_json_object_get(o, name), &s, NULL) != CG_OK)
		fail_msg("member %s is not a string", name);
	return s;
}

/* What holds for every decision, whatever its reason. */
static void
set_string(struct cg_json *o, const char *name, const char *v)
{
	assert_int_equal(
	    cg__json_object_set(o, name, cg__json_new_string(v, strlen(v))), 0);
}

/* cg_decision_to_json() writes its text directly; it must be the text
 * jansson makes of the same members (claims and provenance as their own
 * accessors build them), byte for byte. */
static void
same_as_jansson(const struct cg_decision *d, const char *json)
{
	struct cg_json *o = cg__json_new_object();
	int ok = cg_decision_allowed(d);
	char *want;

	assert_non_null(o);
	set_string(o, "decision", ok ? "allow" : "deny");
	set_string(o, "reason", cg_reason_name(cg_decision_reason(d)));
	set_string(o, "zone", cg_decision_zone(d));
	if (ok) {
		assert_int_equal(cg__json_object_set(o, "claims",
		                     cg__json_incref(cg_decision_claims(d))),
		    0);
		assert_int_equal(
		    cg__json_object_set(o, "provenance",
		        cg__json_incref(cg__decision_provenance(d))),
		    0);
	} else {
		set_string(o, "detail", cg_decision_detail(d));
	}
	want = cg__json_dump_compact(o);
	assert_non_null(want);
	assert_string_equal(json, want);
	free(want);
	cg__json_free(o);
}

void
check_invariants(const struct cg_decision *d, const char *zone)
{
	cg_reason r = cg_decision_reason(d);
	const char *s = cg_decision_detail(d);
	struct cg_json *j;
	char *json;

	assert_true(r >= CG_REASON_OK && r < CG_REASON_COUNT_);
	assert_int_equal(cg_decision_allowed(d), r == CG_REASON_OK);
	assert_true(*s != '\0');
	for (; *s != '\0'; s++)
		assert_true(*s >= 0x20 && *s <= 0x7e);
	if (zone != NULL)
		assert_string_equal(cg_decision_zone(d), zone);
	assert_int_equal(cg_json_typeof(cg_decision_claims(d)), CG_JSON_OBJECT);
	json = cg_decision_to_json(d);
	assert_non_null(json);
	assert_null(strchr(json, '\n'));
	same_as_jansson(d, json);
	j = parse_json(json);
	assert_string_equal(
	    jstr(j, "decision"), r == CG_REASON_OK ? "allow" : "deny");
	assert_string_equal(jstr(j, "reason"), cg_reason_name(r));
	assert_string_equal(jstr(j, "zone"), cg_decision_zone(d));
	if (r == CG_REASON_OK) {
		assert_int_equal(cg__json_object_size(j), 5);
		assert_int_equal(
		    cg_json_typeof(cg_json_object_get(j, "claims")),
		    CG_JSON_OBJECT);
		assert_int_equal(
		    cg_json_typeof(cg_json_object_get(j, "provenance")),
		    CG_JSON_OBJECT);
		assert_non_null(cg__decision_provenance(d));
	} else {
		/* decision, reason, zone, detail: no claims, no provenance. */
		assert_int_equal(cg__json_object_size(j), 4);
		assert_string_equal(jstr(j, "detail"), cg_decision_detail(d));
		assert_int_equal(
		    cg__json_object_size(cg_decision_claims(d)), 0);
		assert_null(cg__decision_provenance(d));
	}
	cg__json_free(j);
	cg_free(json);
}

struct cg_decision *
decide_p(const struct cg_policy *p, const char *zone, const char *tok,
    size_t len, int64_t now, struct cg_store *st)
{
	struct cg_decision *d = NULL;
	struct cg_error err;
	cg_code rc;

	memset(&err, 0, sizeof(err));
	rc = cg_decide(p, zone, tok, len, now, st, &d, &err);
	if (rc != CG_OK)
		fail_msg("cg_decide: %s: %s", cg_code_name(rc), err.msg);
	assert_non_null(d);
	check_invariants(d, zone);
	return d;
}

void
expect_p(const struct cg_policy *p, const char *what, const char *zone,
    const char *tok, size_t len, int64_t now, struct cg_store *st,
    cg_reason want)
{
	struct cg_decision *d = decide_p(p, zone, tok, len, now, st);

	if (cg_decision_reason(d) != want)
		fail_msg("%s: zone %s: got %s (%s), want %s", what,
		    zone != NULL ? zone : "(null)",
		    cg_reason_name(cg_decision_reason(d)),
		    cg_decision_detail(d), cg_reason_name(want));
	cg_decision_free(d);
}

void
expect_st(const char *what, const char *zone, const char *tok, int64_t now,
    struct cg_store *st, cg_reason want)
{
	expect_p(fx.pol, what, zone, tok, strlen(tok), now, st, want);
}

void
expect(const char *what, const char *zone, const char *tok, cg_reason want)
{
	expect_st(what, zone, tok, NOW, NULL, want);
}

void
run_rows(const struct row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char *tok = r->unsigned_tok
		                ? assemble(r->header, r->payload, "")
		                : mint(r->key, r->header, r->payload);

		expect(r->what, r->zone, tok, r->want);
		free(tok);
	}
}

struct cg_store *
new_store(void)
{
	struct cg_store *st = NULL;

	assert_int_equal(cg_store_memory_new(&st), CG_OK);
	assert_non_null(st);
	return st;
}
