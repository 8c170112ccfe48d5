/*
 * test_store_fixture.h - the fixture shared by test_store_memory.c and
 * test_store_redis.c (included by each; static functions only): a
 * mkdtemp() folder with one ES256 key set, policies built from a template
 * whose `store` section each test supplies, tokens and decisions.
 * Include after cmocka.h.
 */
#ifndef TEST_STORE_FIXTURE_H
#define TEST_STORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgtest.h"
#include "internal.h"
#include "policy.h"
#include "store.h"

#define NOW 1700000000LL
#define ISS "https://sso.example.com"
#define ISS2 "https://other.example.com"

/* Payloads: allowed in zones z and plain at NOW (exp NOW + 600, iat NOW -
 * 10), plus `extra` members. */
#define TOK(iss, extra)                                                     \
	"{\"iss\":\"" iss "\",\"aud\":\"api\",\"exp\":1700000600,"          \
	"\"iat\":1699999990" extra "}"

static char fx_dir[64];
static struct cgt_key fx_key;

/* %STORE% is replaced by the store section (may be empty), @D@ by the
 * folder. Zone z: replay, a required trusted claim and a require rule
 * (for the order of steps); plain: nothing but the basics. */
static const char fx_policy[] =
    "version: 1\n"
    "%STORE%"
    "issuers:\n"
    "  sso:\n"
    "    issuer: " ISS "\n"
    "    jwks_file: @D@/sso.jwks.json\n"
    "    algorithms: [ES256]\n"
    "    max_lifetime: 1h\n"
    "  other:\n"
    "    issuer: " ISS2 "\n"
    "    jwks_file: @D@/sso.jwks.json\n"
    "    algorithms: [ES256]\n"
    "zones:\n"
    "  z:\n"
    "    audience: api\n"
    "    accept: [sso, other]\n"
    "    replay: reject\n"
    "    leeway: 10s\n"
    "    claims:\n"
    "      grp: { required: true }\n"
    "    require:\n"
    "      grp: { any_of: [ok] }\n"
    "  plain:\n"
    "    audience: api\n"
    "    accept: [sso]\n"
    "    leeway: 5s\n";

/* Replaces every `pat` in `s` by `rep`; free(). */
static char *
fx_replace(const char *s, const char *pat, const char *rep)
{
	size_t pl = strlen(pat), rl = strlen(rep), n = 0, o = 0;
	const char *p;
	char *out;

	for (p = s; (p = strstr(p, pat)) != NULL; p += pl)
		n++;
	out = malloc(strlen(s) + n * rl + 1);
	assert_non_null(out);
	for (p = s; *p != '\0';) {
		if (strncmp(p, pat, pl) == 0) {
			memcpy(out + o, rep, rl);
			o += rl;
			p += pl;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

static char *
fx_path(const char *name)
{
	return cgt_fmt("%s/%s", fx_dir, name);
}

static void
fx_write(const char *name, const char *text)
{
	char *p = fx_path(name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	free(p);
}

static void
fx_setup(void)
{
	const char *jwk;
	char *jwks;

	snprintf(fx_dir, sizeof(fx_dir), "/tmp/cg-store-XXXXXX");
	assert_non_null(mkdtemp(fx_dir));
	cgt_key_gen(&fx_key, CG_ALG_ES256, "k1", 0);
	jwk = fx_key.jwk;
	jwks = cgt_jwks(&jwk, 1);
	fx_write("sso.jwks.json", jwks);
	free(jwks);
}

static void
fx_teardown(void)
{
	DIR *d = opendir(fx_dir);
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char *p;
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			p = fx_path(e->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(fx_dir);
	cgt_key_free(&fx_key);
}

/* Parses the template with `store` (YAML lines, or ""). Returns the
 * code; *out is the policy on CG_OK. */
static cg_code
fx_policy_try(const char *store, struct cg_policy **out,
    struct cg_error *err)
{
	char *a = fx_replace(fx_policy, "%STORE%", store);
	char *b = fx_replace(a, "@D@", fx_dir);
	cg_code rc;

	memset(err, 0, sizeof(*err));
	rc = cg__policy_parse(b, strlen(b), "p.yaml", fx_dir, out, err);
	free(a);
	free(b);
	return rc;
}

static struct cg_policy *
fx_policy_load(const char *store)
{
	struct cg_policy *p = NULL;
	struct cg_error err;

	if (fx_policy_try(store, &p, &err) != CG_OK)
		fail_msg("policy: %s", err.msg);
	return p;
}

static char *
fx_mint(const char *payload)
{
	return cgt_mint_simple(&fx_key, "k1", payload);
}

/* Decides `payload` (signed now) in `zone`; returns the reason. */
static cg_reason
fx_decide(const struct cg_policy *p, const char *zone, const char *payload,
    int64_t now, struct cg_store *st)
{
	struct cg_decision *d = NULL;
	struct cg_error err;
	char *t = fx_mint(payload);
	cg_reason r;

	if (cg_decide(p, zone, t, strlen(t), now, st, &d, &err) != CG_OK)
		fail_msg("cg_decide: %s", err.msg);
	r = cg_decision_reason(d);
	cg_decision_free(d);
	free(t);
	return r;
}

#define expect_reason(p, zone, payload, now, st, want)                      \
	do {                                                                \
		cg_reason got_ = fx_decide(p, zone, payload, now, st);      \
		if (got_ != (want))                                         \
			fail_msg("%s:%d: got %s, expected %s", __FILE__,    \
			    __LINE__, cg_reason_name(got_),                 \
			    cg_reason_name(want));                          \
	} while (0)

/* The revocation query of a token from `issuer` with the fixture key. */
static struct cg_revoke_query
fx_query(const char *issuer, const char *jti, const char *sub, int has_iat,
    double iat, int64_t now)
{
	struct cg_revoke_query q;

	memset(&q, 0, sizeof(q));
	q.issuer = issuer;
	q.jti = jti;
	q.jti_len = jti != NULL ? strlen(jti) : 0;
	q.sub = sub;
	q.sub_len = sub != NULL ? strlen(sub) : 0;
	q.kid = "k1";
	q.jkt = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	q.has_iat = has_iat;
	q.iat = iat;
	q.now = now;
	return q;
}

/* is_revoked: -1 store error, 0 not revoked, else the kind. */
static int
fx_revoked(struct cg_store *st, const struct cg_revoke_query *q)
{
	cg_revoke_kind kind = CG_REVOKE_JTI;
	int revoked = 0;

	if (cg__store_ext(st)->is_revoked(st, q, &revoked, &kind) != CG_OK)
		return -1;
	return revoked ? (int)kind : 0;
}

static void
fx_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

#endif
