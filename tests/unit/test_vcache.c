/*
 * test_vcache.c - the verified-token cache (src/vcache.c) and the
 * re-checks on every hit (src/decide.c cache_hit): a hit skips only the
 * signature, and only while the verifying key is still in the issuer's
 * current key set; time, audience, alg, replay and claims are decided
 * again each time.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgtest.h"
#include "policy.h"

#define NOW 1700000000

static char dir[] = "/tmp/cg-vcache-XXXXXX";
static struct cgt_key ka, kb;

static void
write_file(const char *name, const char *text)
{
	char *path = cgt_fmt("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* A policy whose issuer trusts the key set in `jwks` with `algs`. */
static struct cg_policy *
policy(const char *jwks, const char *algs)
{
	struct cg_policy *p = NULL;
	struct cg_error err;
	char *text = cgt_fmt("version: 1\n"
	                     "issuers:\n"
	                     "  sso:\n"
	                     "    issuer: https://sso.example.com\n"
	                     "    jwks_file: %s\n"
	                     "    algorithms: [%s]\n"
	                     "zones:\n"
	                     "  api:\n"
	                     "    audience: https://api.example.com\n"
	                     "    accept: [sso]\n"
	                     "    claims: { sub: {} }\n"
	                     "  other:\n"
	                     "    audience: https://other.example.com\n"
	                     "    accept: [sso]\n"
	                     "  once:\n"
	                     "    audience: https://api.example.com\n"
	                     "    accept: [sso]\n"
	                     "    replay: reject\n",
	    jwks, algs);

	if (cg__policy_parse(text, strlen(text), "p.yaml", dir, &p, &err) !=
	    CG_OK)
		fail_msg("%s", err.msg);
	free(text);
	return p;
}

static cg_reason
decide(const struct cg_policy *p, const char *zone, const char *tok,
    int64_t now, struct cg_store *st, struct cg_vcache *c)
{
	struct cg_decision *d = NULL;
	cg_reason r;

	assert_int_equal(
	    cg_decide_cached(p, zone, tok, strlen(tok), now, st, c, &d, NULL),
	    CG_OK);
	r = cg_decision_reason(d);
	cg_decision_free(d);
	return r;
}

static char *
token(const struct cgt_key *k, const char *kid, const char *jti)
{
	char *p = cgt_fmt("{\"iss\":\"https://sso.example.com\",\"sub\":\"a\","
	                  "\"aud\":\"https://api.example.com\",\"exp\":%d,"
	                  "\"jti\":\"%s\"}",
	    NOW + 600, jti);
	char *t = cgt_mint_simple(k, kid, p);

	free(p);
	return t;
}

static int
setup(void **state)
{
	const char *a[1], *b[1];
	char *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	cgt_key_gen(&ka, CG_ALG_ES256, "ka", 0);
	cgt_key_gen(&kb, CG_ALG_ES256, "kb", 0);
	a[0] = ka.jwk;
	b[0] = kb.jwk;
	s = cgt_jwks(a, 1);
	write_file("a.json", s);
	free(s);
	s = cgt_jwks(b, 1);
	write_file("b.json", s);
	free(s);
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = cgt_fmt("rm -rf '%s'", dir);

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	cgt_key_free(&ka);
	cgt_key_free(&kb);
	return 0;
}

static void
test_hit_skips_only_the_signature(void **state)
{
	struct cg_policy *p = policy("a.json", "ES256");
	struct cg_vcache *c = NULL;
	uint64_t hits, misses;
	char *t = token(&ka, "ka", "j1");

	(void)state;
	assert_int_equal(cg_vcache_new(1000, 1 << 20, &c), CG_OK);
	assert_int_equal(decide(p, "api", t, NOW, NULL, c), CG_REASON_OK);
	assert_int_equal(decide(p, "api", t, NOW, NULL, c), CG_REASON_OK);
	cg_vcache_stats(c, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	/* Time is decided again on a hit. */
	assert_int_equal(
	    decide(p, "api", t, NOW + 631, NULL, c), CG_REASON_TOKEN_EXPIRED);
	/* So is the audience (another zone of the same policy). */
	assert_int_equal(
	    decide(p, "other", t, NOW, NULL, c), CG_REASON_AUDIENCE_MISMATCH);
	cg_vcache_stats(c, &hits, &misses);
	assert_int_equal(hits, 3);
	free(t);
	cg_vcache_free(c);
	cg_policy_free(p);
}

static void
test_rotated_out_key_stops_at_once(void **state)
{
	struct cg_policy *p1 = policy("a.json", "ES256");
	struct cg_policy *p2 = policy("b.json", "ES256");
	struct cg_vcache *c = NULL;
	char *t = token(&ka, NULL, "j2"), *forged;

	(void)state;
	assert_int_equal(cg_vcache_new(1000, 1 << 20, &c), CG_OK);
	assert_int_equal(decide(p1, "api", t, NOW, NULL, c), CG_REASON_OK);
	/* Same iss, key set rotated to kb only: the cached fact names ka,
	 * which is gone, so the signature is checked again and fails. */
	assert_int_equal(
	    decide(p2, "api", t, NOW, NULL, c), CG_REASON_SIGNATURE_INVALID);
	/* And the same bytes are still allowed where ka is trusted. */
	assert_int_equal(decide(p1, "api", t, NOW, NULL, c), CG_REASON_OK);
	/* A token signed by kb is not helped by ka's entries. */
	forged = token(&kb, NULL, "j2");
	assert_int_equal(decide(p1, "api", forged, NOW, NULL, c),
	    CG_REASON_SIGNATURE_INVALID);
	assert_int_equal(decide(p2, "api", forged, NOW, NULL, c), CG_REASON_OK);
	free(forged);
	free(t);
	cg_vcache_free(c);
	cg_policy_free(p1);
	cg_policy_free(p2);
}

static void
test_policy_changes_apply_on_hits(void **state)
{
	struct cg_policy *p1 = policy("a.json", "ES256");
	struct cg_policy *p2 = policy("a.json", "RS256");
	struct cg_vcache *c = NULL;
	struct cg_store *st = NULL;
	char *t = token(&ka, "ka", "j3");

	(void)state;
	assert_int_equal(cg_vcache_new(1000, 1 << 20, &c), CG_OK);
	assert_int_equal(cg_store_memory_new(&st), CG_OK);
	assert_int_equal(decide(p1, "api", t, NOW, NULL, c), CG_REASON_OK);
	/* The policy no longer allows ES256: denied before any cache use. */
	assert_int_equal(
	    decide(p2, "api", t, NOW, NULL, c), CG_REASON_ALG_NOT_ALLOWED);
	/* Replay is decided on every use, cached or not. */
	assert_int_equal(decide(p1, "once", t, NOW, st, c), CG_REASON_OK);
	assert_int_equal(decide(p1, "once", t, NOW, st, c), CG_REASON_REPLAYED);
	free(t);
	cg_store_free(st);
	cg_vcache_free(c);
	cg_policy_free(p1);
	cg_policy_free(p2);
}

static void
test_denies_are_not_cached(void **state)
{
	struct cg_policy *p = policy("a.json", "ES256");
	struct cg_vcache *c = NULL;
	uint64_t hits, misses;
	char *t = token(&ka, "ka", "j4");
	size_t len = strlen(t);

	(void)state;
	assert_int_equal(cg_vcache_new(1000, 1 << 20, &c), CG_OK);
	t[len - 2] = t[len - 2] == 'A' ? 'B' : 'A'; /* break the signature */
	assert_int_equal(
	    decide(p, "api", t, NOW, NULL, c), CG_REASON_SIGNATURE_INVALID);
	assert_int_equal(
	    decide(p, "api", t, NOW, NULL, c), CG_REASON_SIGNATURE_INVALID);
	cg_vcache_stats(c, &hits, &misses);
	assert_int_equal(hits, 0);
	free(t);
	cg_vcache_free(c);
	cg_policy_free(p);
}

static void
test_bounds(void **state)
{
	struct cg_policy *p = policy("a.json", "ES256");
	struct cg_vcache *c = NULL;
	uint64_t hits, misses;
	char jti[32];
	int i;

	(void)state;
	/* 256 entries (64 shards x 4 ways): 2000 distinct tokens evict, and
	 * every decision is still right; the last one is still there. */
	assert_int_equal(cg_vcache_new(1, 16u << 20, &c), CG_OK);
	for (i = 0; i < 2000; i += (int)cgt_sample_step()) {
		char *t;
		snprintf(jti, sizeof(jti), "b%d", i);
		t = token(&ka, "ka", jti);
		assert_int_equal(
		    decide(p, "api", t, NOW, NULL, c), CG_REASON_OK);
		if (i + (int)cgt_sample_step() >= 2000) {
			assert_int_equal(
			    decide(p, "api", t, NOW, NULL, c), CG_REASON_OK);
			cg_vcache_stats(c, &hits, &misses);
			assert_int_equal(hits, 1);
		}
		free(t);
	}
	cg_vcache_stats(c, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_true(misses > 0);
	/* A token larger than a shard's byte budget is simply not kept. */
	cg_vcache_free(c);
	c = NULL;
	assert_int_equal(cg_vcache_new(256, 64, &c), CG_OK);
	{
		char *t = token(&ka, "ka", "big");
		assert_int_equal(
		    decide(p, "api", t, NOW, NULL, c), CG_REASON_OK);
		assert_int_equal(
		    decide(p, "api", t, NOW, NULL, c), CG_REASON_OK);
		cg_vcache_stats(c, &hits, &misses);
		assert_int_equal(hits, 0);
		free(t);
	}
	cg_vcache_free(c);
	cg_vcache_free(NULL);
	cg_policy_free(p);
}

struct racer {
	const struct cg_policy *p;
	struct cg_vcache *c;
	char **toks;
	size_t ntoks;
	unsigned seed;
	int bad;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	size_t i;

	for (i = 0; i < 400; i++) {
		struct cg_decision *d = NULL;
		const char *t;
		r->seed = r->seed * 1103515245u + 12345u;
		t = r->toks[(r->seed >> 8) % r->ntoks];
		char *json = NULL;
		if (cg_decide_cached(r->p, "api", t, strlen(t), NOW, NULL, r->c,
		        &d, NULL) != CG_OK ||
		    !cg_decision_allowed(d) ||
		    (json = cg_decision_to_json(d)) == NULL ||
		    strstr(json, "\"token_sha256\"") == NULL)
			r->bad++;
		cg_free(json);
		cg_decision_free(d);
	}
	return NULL;
}

/* Threads deciding on one small cache at once: hits, inserts and
 * evictions interleave, and a token that one thread is using while
 * another evicts it stays alive until its last holder lets go (run under
 * ASan, TSan or valgrind for the proof). */
static void
test_threads_share_tokens(void **state)
{
	struct cg_policy *p = policy("a.json", "ES256");
	struct cg_vcache *c = NULL;
	struct racer r[4];
	pthread_t th[4];
	char *toks[600];
	uint64_t hits, misses;
	size_t i, n = cgt_under_valgrind() ? 40 : 600;

	(void)state;
	assert_int_equal(cg_vcache_new(1, 16u << 20, &c), CG_OK);
	for (i = 0; i < n; i++) {
		char jti[32];
		snprintf(jti, sizeof(jti), "t%zu", i);
		toks[i] = token(&ka, "ka", jti);
	}
	for (i = 0; i < 4; i++) {
		r[i] =
		    (struct racer){p, c, toks, n, (unsigned)i * 7919u + 1u, 0};
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(r[i].bad, 0);
	}
	cg_vcache_stats(c, &hits, &misses);
	assert_int_equal(hits + misses, 4 * 400);
	assert_true(hits > 0);
	assert_true(misses >= (n < 256 ? n : 256) / 2);
	for (i = 0; i < n; i++)
		free(toks[i]);
	cg_vcache_free(c);
	cg_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_skips_only_the_signature),
	    cmocka_unit_test(test_rotated_out_key_stops_at_once),
	    cmocka_unit_test(test_policy_changes_apply_on_hits),
	    cmocka_unit_test(test_denies_are_not_cached),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_threads_share_tokens),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
