/*
 * test_keysource.c - remote key sets (src/keysource.c, src/keys.c) without
 * a key server: the on-disk cache as the source of a set, stale_for at its
 * edge, snapshots that outlive a replacement while held, the kid-miss rate
 * limit, a failed fetch keeping the previous set, adoption across a reload,
 * policy readiness, and the policy errors of the remote-key settings with
 * their file:line:column.
 *
 * The only fetches made here go to 127.0.0.1 port 1, which refuses the
 * connection at once: a failing key server without a network. Real HTTPS
 * (rotation, faults, flood, discovery) is tests/integration/keys_remote.sh.

 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>

#include "cgtest.h"
#include "keysource.h"
#include "policy.h"

#define REFUSED "https://127.0.0.1:1/jwks.json"
#define T0 ((int64_t)1700000000)

static char tmpdir[] = "/tmp/cg-keysource-XXXXXX";
static char *jwks_two;	/* {"keys":[ES256 k1, ES256 k2]} */
static char *jwks_one;	/* {"keys":[ES256 k3]} */
static char *jwks_none; /* {"keys":[weak only]}: no usable key */


static char *
path_in(const char *name)
{
	return cgt_fmt("%s/%s", tmpdir, name);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void
set_mtime(const char *path, int64_t t)
{
	struct utimbuf u;

	u.actime = (time_t)t;
	u.modtime = (time_t)t;
	assert_int_equal(utime(path, &u), 0);
}

static int
group_setup(void **state)
{
	struct cgt_key k1, k2, k3;
	const char *two[2], *one[1];

	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	cgt_key_gen(&k1, CG_ALG_ES256, "k1", 1);
	cgt_key_gen(&k2, CG_ALG_ES256, "k2", 1);
	cgt_key_gen(&k3, CG_ALG_ES256, "k3", 1);
	two[0] = k1.jwk;
	two[1] = k2.jwk;
	one[0] = k3.jwk;
	jwks_two = cgt_jwks(two, 2);
	jwks_one = cgt_jwks(one, 1);
	/* An oct key of 16 bytes serves no algorithm: skipped. */
	jwks_none = cgt_fmt("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"short\","
			    "\"k\":\"AAAAAAAAAAAAAAAAAAAAAA\"}]}");
	cgt_key_free(&k1);
	cgt_key_free(&k2);
	cgt_key_free(&k3);
	return 0;
}

static int
group_teardown(void **state)
{
	char *cmd = cgt_fmt("rm -rf '%s'", tmpdir);

	(void)state;
	if (system(cmd) != 0)
		print_error("could not remove %s\n", tmpdir);
	free(cmd);
	free(jwks_two);
	free(jwks_one);
	free(jwks_none);
	return 0;
}

static void
config(struct cg_keysource_config *kc, const char *uri, const char *cache)
{
	memset(kc, 0, sizeof(*kc));
	kc->issuer_name = "idp";
	kc->issuer = "https://idp.example.com";
	kc->uri = uri;
	kc->refresh = 300;
	kc->stale_for = 600;
	kc->miss_interval = 30;
	kc->cache_file = cache;
	kc->timeout_ms = 2000;
	kc->max_bytes = 1024 * 1024;
	kc->max_keys = 100;
}

/* A source whose cache file holds `jwks`, loaded as fetched at `at`. */
static struct cg_keysource *
cached_source(const char *name, const char *jwks, int64_t at,
    const char *uri)
{
	struct cg_keysource_config kc;
	struct cg_keysource *s = NULL;
	char *path = path_in(name);

	write_file(path, jwks);
	config(&kc, uri, path);
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	free(path); /* the source keeps its own copy */
	assert_int_equal(cg__keysource_load_cache(s, at), CG_OK);
	return s;
}

/* ---- the cache file ---------------------------------------------------- */

static void
test_load_cache(void **state)
{
	struct cg_keysource *s = cached_source("c1.json", jwks_two, T0, REFUSED);
	struct cg_keysource_state st;
	struct cg_keyref *r;

	(void)state;
	r = cg__keysource_acquire(s, T0);
	assert_non_null(r);
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(r)), 2);
	cg__keysource_release(s, r);
	cg__keysource_state(s, &st);
	assert_int_equal(st.has_keys, 1);
	assert_int_equal(st.fetched_at, T0);
	assert_int_equal(st.fetches_failed, 0);
	assert_string_equal(st.source, REFUSED);
	assert_string_equal(st.last_error, "");
	/* A cached set is due for a fetch at once. */
	assert_int_equal(cg__keysource_due_in(s, T0), 0);
	cg__keysource_free(s);
}

static void
test_load_cache_errors(void **state)
{
	struct cg_keysource_config kc;
	struct cg_keysource *s = NULL;
	char *missing = path_in("missing.json"), *garbage = path_in("g.json");
	char *none = path_in("none.json");

	(void)state;
	/* No cache file configured. */
	config(&kc, REFUSED, NULL);
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	assert_int_equal(cg__keysource_load_cache(s, T0), CG_ERR_IO);
	assert_null(cg__keysource_acquire(s, T0));
	cg__keysource_free(s);
	/* A missing file. */
	config(&kc, REFUSED, missing);
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	assert_int_equal(cg__keysource_load_cache(s, T0), CG_ERR_IO);
	assert_null(cg__keysource_acquire(s, T0));
	cg__keysource_free(s);
	/* Not a JWK Set. */
	write_file(garbage, "<html>not json");
	config(&kc, REFUSED, garbage);
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	assert_int_equal(cg__keysource_load_cache(s, T0), CG_ERR_IO);
	assert_null(cg__keysource_acquire(s, T0));
	cg__keysource_free(s);
	/* No usable key. */
	write_file(none, jwks_none);
	config(&kc, REFUSED, none);
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	assert_int_equal(cg__keysource_load_cache(s, T0), CG_ERR_KEYSET);
	assert_null(cg__keysource_acquire(s, T0));
	cg__keysource_free(s);
	free(missing);
	free(garbage);
	free(none);
}

/* ---- acquire / release and stale_for ------------------------------------ */

static void
test_stale_for_edge(void **state)
{
	struct cg_keysource *s = cached_source("c2.json", jwks_two, T0, REFUSED);
	struct cg_keyref *r;

	(void)state;
	/* fetched + stale_for: still usable; one second later: not. */
	r = cg__keysource_acquire(s, T0 + 600);
	assert_non_null(r);
	cg__keysource_release(s, r);
	assert_null(cg__keysource_acquire(s, T0 + 601));
	/* Releasing NULL is harmless. */
	cg__keysource_release(s, NULL);
	assert_null(cg__keyref_keyset(NULL));
	cg__keysource_free(s);
}

static void
test_snapshot_outlives_replacement(void **state)
{
	struct cg_keysource *s = cached_source("c3.json", jwks_two, T0, REFUSED);
	struct cg_keyref *old, *old2, *cur;
	char *path = path_in("c3.json");

	(void)state;
	old = cg__keysource_acquire(s, T0);
	old2 = cg__keysource_acquire(s, T0);
	assert_ptr_equal(old, old2);
	/* A new set is installed while a decision holds the old one. */
	write_file(path, jwks_one);
	assert_int_equal(cg__keysource_load_cache(s, T0 + 5), CG_OK);
	cur = cg__keysource_acquire(s, T0 + 5);
	assert_non_null(cur);
	assert_ptr_not_equal(cur, old);
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(cur)), 1);
	/* The old snapshot is intact until its last holder lets go (ASan). */
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(old)), 2);
	cg__keysource_release(s, old);
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(old2)), 2);
	cg__keysource_release(s, old2);
	cg__keysource_release(s, cur);
	/* A source freed while nothing holds its set frees the set. */
	cg__keysource_free(s);
	free(path);
}

/* ---- fetch failures and the kid-miss rate limit ------------------------ */

static void
test_failed_fetch_keeps_set(void **state)
{
	struct cg_keysource *s = cached_source("c4.json", jwks_two, T0, REFUSED);
	struct cg_keysource_state st;
	struct cg_keyref *r;
	struct cg_error err;

	(void)state;
	memset(&err, 0, sizeof(err));
	/* The key server refuses: the failure is reported, and the cached
	 * set keeps serving. */
	assert_int_equal(cg__keysource_refresh(s, T0 + 10, 1, &err),
	    CG_ERR_KEYSET);
	assert_non_null(strstr(err.msg, "issuer idp: key set not refreshed "
					"(the previous set keeps serving): "));
	cg__keysource_state(s, &st);
	assert_int_equal(st.fetches_failed, 1);
	assert_int_equal(st.last_attempt, T0 + 10);
	assert_int_equal(st.fetched_at, T0); /* not moved by a failure */
	assert_string_not_equal(st.last_error, "");
	r = cg__keysource_acquire(s, T0 + 10);
	assert_non_null(r);
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(r)), 2);
	cg__keysource_release(s, r);
	/* Retried within min(refresh, 30 s), not in a loop. */
	assert_int_equal(cg__keysource_due_in(s, T0 + 10), 30);
	/* Not due: no fetch is made (the failure count stays). */
	assert_int_equal(cg__keysource_refresh(s, T0 + 11, 0, &err), CG_OK);
	cg__keysource_state(s, &st);
	assert_int_equal(st.fetches_failed, 1);
	assert_int_equal(st.last_attempt, T0 + 10);
	/* Past stale_for a failure leaves the issuer without keys. */
	assert_int_equal(cg__keysource_refresh(s, T0 + 601, 1, &err),
	    CG_ERR_KEYSET);
	assert_null(cg__keysource_acquire(s, T0 + 601));
	cg__keysource_free(s);
}

static void
test_no_set_yet(void **state)
{
	struct cg_keysource_config kc;
	struct cg_keysource *s = NULL;
	struct cg_error err;

	(void)state;
	config(&kc, REFUSED, NULL);
	kc.refresh = 7; /* under 30 s: retried after refresh */
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	assert_int_equal(cg__keysource_due_in(s, T0), 0);
	assert_int_equal(cg__keysource_refresh(s, T0, 0, &err), CG_ERR_KEYSET);
	assert_non_null(strstr(err.msg, "issuer idp: key set not refreshed"));
	assert_int_equal(cg__keysource_due_in(s, T0), 7);
	/* Not due and nothing held: "no key set yet", without a fetch. */
	assert_int_equal(cg__keysource_refresh(s, T0 + 1, 0, &err),
	    CG_ERR_KEYSET);
	assert_string_equal(err.msg, "issuer idp: no key set yet");
	cg__keysource_free(s);
}

static void
test_kid_miss_rate_limit(void **state)
{
	struct cg_keysource_config kc;
	struct cg_keysource *s = NULL;
	struct cg_error err;
	char *path = path_in("c5.json");

	(void)state;
	write_file(path, jwks_two);
	config(&kc, REFUSED, path);
	kc.miss_interval = 10; /* shorter than the 30 s retry after a failure */
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	assert_int_equal(cg__keysource_load_cache(s, T0), CG_OK);
	/* A failed fetch at T0 makes the next one due at T0 + 30. */
	(void)cg__keysource_refresh(s, T0, 1, &err);
	assert_int_equal(cg__keysource_due_in(s, T0 + 1), 29);
	/* The first miss makes it due now. */
	cg__keysource_kid_miss(s, T0 + 1);
	assert_int_equal(cg__keysource_due_in(s, T0 + 1), 0);
	(void)cg__keysource_refresh(s, T0 + 1, 0, &err); /* fails again */
	assert_int_equal(cg__keysource_due_in(s, T0 + 2), 29);
	/* A second miss within miss_interval does not make it due ... */
	cg__keysource_kid_miss(s, T0 + 2);
	assert_int_equal(cg__keysource_due_in(s, T0 + 2), 29);
	cg__keysource_kid_miss(s, T0 + 1 + 9);
	assert_int_equal(cg__keysource_due_in(s, T0 + 1 + 9), 21);
	/* ... a miss one miss_interval after the first does. */
	cg__keysource_kid_miss(s, T0 + 1 + 10);
	assert_int_equal(cg__keysource_due_in(s, T0 + 1 + 10), 0);
	/* The set was kept through all of it. */
	{
		struct cg_keyref *r = cg__keysource_acquire(s, T0 + 11);
		assert_non_null(r);
		cg__keysource_release(s, r);
	}
	cg__keysource_free(s);
	free(path);
}

/* The serve default: misses at most once per 30 s. */
static void
test_kid_miss_default_interval(void **state)
{
	struct cg_keysource *s = cached_source("c5b.json", jwks_two, T0,
	    REFUSED);
	struct cg_error err;
	int64_t t;

	(void)state;
	(void)cg__keysource_refresh(s, T0, 1, &err); /* due at T0 + 30 */
	cg__keysource_kid_miss(s, T0 + 1);
	assert_int_equal(cg__keysource_due_in(s, T0 + 1), 0);
	(void)cg__keysource_refresh(s, T0 + 1, 0, &err); /* due at T0 + 31 */
	/* A flood of misses in the following 29 s changes nothing. */
	for (t = T0 + 1; t < T0 + 30; t++) {
		cg__keysource_kid_miss(s, t);
		assert_int_equal(cg__keysource_due_in(s, t), T0 + 31 - t);
	}
	cg__keysource_free(s);
}

/* ---- adoption across a reload ------------------------------------------ */

static struct cg_keysource *
empty_source(const char *uri, const char *issuer)
{
	struct cg_keysource_config kc;
	struct cg_keysource *s = NULL;

	config(&kc, uri, NULL);
	kc.issuer = issuer;
	if (uri == NULL)
		kc.discovery = 1;
	assert_int_equal(cg__keysource_new(&kc, &s), CG_OK);
	return s;
}

static void
test_adopt(void **state)
{
	struct cg_keysource *from = cached_source("c6.json", jwks_two, T0,
	    REFUSED);
	struct cg_keysource *to = empty_source(REFUSED,
	    "https://idp.example.com");
	struct cg_keysource *other_uri = empty_source(
	    "https://127.0.0.1:1/other.json", "https://idp.example.com");
	struct cg_keysource *other_iss = empty_source(REFUSED,
	    "https://other.example.com");
	struct cg_keysource_state st;
	struct cg_keyref *a, *b;

	(void)state;
	cg__keysource_adopt(to, from);
	cg__keysource_adopt(other_uri, from);
	cg__keysource_adopt(other_iss, from);
	cg__keysource_adopt(to, NULL);
	cg__keysource_adopt(NULL, from);
	a = cg__keysource_acquire(from, T0);
	b = cg__keysource_acquire(to, T0);
	assert_non_null(b);
	/* The very same snapshot, shared. */
	assert_ptr_equal(cg__keyref_keyset(a), cg__keyref_keyset(b));
	cg__keysource_state(to, &st);
	assert_int_equal(st.fetched_at, T0);
	assert_int_equal(st.has_keys, 1);
	/* Another URI or another issuer: nothing carried over. */
	assert_null(cg__keysource_acquire(other_uri, T0));
	assert_null(cg__keysource_acquire(other_iss, T0));
	cg__keysource_release(from, a);
	/* The old policy goes away; the new one keeps the set. */
	cg__keysource_free(from);
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(b)), 2);
	cg__keysource_release(to, b);
	/* stale_for still counts from the original fetch. */
	assert_null(cg__keysource_acquire(to, T0 + 601));
	cg__keysource_free(to);
	cg__keysource_free(other_uri);
	cg__keysource_free(other_iss);
}

static void
test_adopt_discovery(void **state)
{
	struct cg_keysource *from = empty_source(NULL,
	    "https://idp.example.com");
	struct cg_keysource *to = empty_source(NULL, "https://idp.example.com");
	struct cg_keysource *c = cached_source("c7.json", jwks_one, T0, NULL);
	struct cg_keyref *r;

	(void)state;
	/* A discovery source (no URI) adopts from one with the same issuer. */
	cg__keysource_adopt(from, c);
	cg__keysource_adopt(to, from);
	r = cg__keysource_acquire(to, T0);
	assert_non_null(r);
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(r)), 1);
	cg__keysource_release(to, r);
	cg__keysource_free(c);
	cg__keysource_free(from);
	cg__keysource_free(to);
}

/* A reload with cache_dir: the new policy's source already holds the
 * cached set when the running one's set is adopted over it. */
static void
test_adopt_over_cached_set(void **state)
{
	struct cg_keysource *from, *to;
	struct cg_keyref *r;

	(void)state;
	from = cached_source("c8.json", jwks_two, T0 + 100, REFUSED);
	to = cached_source("c9.json", jwks_one, T0, REFUSED);
	cg__keysource_adopt(to, from);
	r = cg__keysource_acquire(to, T0 + 100);
	assert_non_null(r);
	assert_int_equal(cg_keyset_count(cg__keyref_keyset(r)), 2);
	cg__keysource_release(to, r);
	cg__keysource_free(from);
	cg__keysource_free(to); /* LeakSanitizer: the cached set is freed */
}

/* ---- the policy: readiness and the cache_dir file ---------------------- */

static struct cg_policy *
parse_ok(const char *yaml)
{
	struct cg_policy *p = NULL;
	struct cg_error err;
	cg_code rc;

	memset(&err, 0, sizeof(err));
	rc = cg__policy_parse(yaml, strlen(yaml), "p.yaml", tmpdir, &p, &err);
	if (rc != CG_OK)
		print_error("unexpected error %s: %s\n", cg_code_name(rc),
		    err.msg);
	assert_int_equal(rc, CG_OK);
	return p;
}

#define REMOTE_ISSUER                                                          \
	"  r:\n"                                                               \
	"    issuer: https://r.example.com\n"                                  \
	"    jwks_uri: " REFUSED "\n"                                          \
	"    algorithms: [ES256]\n"                                            \
	"    stale_for: 1h\n"
#define ZONE_R                                                                 \
	"zones:\n"                                                             \
	"  z:\n"                                                               \
	"    audience: api\n"                                                  \
	"    accept: [r]\n"

static void
test_policy_keys_ready(void **state)
{
	unsigned char h[32];
	char hex[33], *dir = path_in("cache"), *file, *yaml;
	struct cg_policy *p;
	struct cg_issuer_keys k;

	(void)state;
	/* Without a cache: nothing is fetched while loading, not ready. */
	p = parse_ok("version: 1\nissuers:\n" REMOTE_ISSUER ZONE_R);
	assert_int_equal(cg_policy_keys_ready(p, T0), 0);
	assert_int_equal(cg_policy_keys_due_in(p, T0), 0);
	assert_int_equal(cg_policy_issuer_keys(p, 0, T0, &k), CG_OK);
	assert_int_equal(k.remote, 1);
	assert_int_equal(k.usable, 0);
	assert_string_equal(k.source, REFUSED);
	cg_policy_issuer_keys_done(p, 0, &k);
	cg_policy_free(p);

	/* With the cache file of this issuer (named by its iss): ready
	 * until the file's mtime + stale_for, inclusive. */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(cg__sha256("https://r.example.com", 21, h), 0);
	cg__hex(h, 16, hex);
	file = cgt_fmt("%s/%s.jwks.json", dir, hex);
	write_file(file, jwks_two);
	set_mtime(file, T0);
	yaml = cgt_fmt("version: 1\ncache_dir: %s\nissuers:\n" REMOTE_ISSUER
		       ZONE_R, dir);
	p = parse_ok(yaml);
	assert_int_equal(cg_policy_keys_ready(p, T0), 1);
	assert_int_equal(cg_policy_keys_ready(p, T0 + 3600), 1);
	assert_int_equal(cg_policy_keys_ready(p, T0 + 3601), 0);
	assert_int_equal(cg_policy_issuer_keys(p, 0, T0, &k), CG_OK);
	assert_int_equal(k.usable, 1);
	assert_int_equal(cg_keyset_count(k.keys), 2);
	assert_int_equal(k.fetched_at, T0);
	cg_policy_issuer_keys_done(p, 0, &k);
	cg_policy_free(p);
	free(yaml);

	/* A relative cache_dir resolves against the policy's folder. */
	p = parse_ok("version: 1\ncache_dir: cache\nissuers:\n" REMOTE_ISSUER
		     ZONE_R);
	assert_int_equal(cg_policy_keys_ready(p, T0), 1);
	cg_policy_free(p);

	/* With a file issuer too: ready when both have usable keys. */
	{
		char *none = path_in("none-set.json");
		char *two = path_in("two-set.json");
		const char *files[2];
		size_t i;

		write_file(none, jwks_none);
		write_file(two, jwks_two);
		files[0] = none;
		files[1] = two;
		for (i = 0; i < 2; i++) {
			yaml = cgt_fmt("version: 1\ncache_dir: %s\n"
				       "issuers:\n" REMOTE_ISSUER
				       "  f:\n    issuer: https://f.example.com\n"
				       "    jwks_file: %s\n"
				       "    algorithms: [ES256]\n"
				       "zones:\n  z:\n    audience: api\n"
				       "    accept: [r, f]\n", dir, files[i]);
			p = parse_ok(yaml);
			assert_int_equal(cg_policy_keys_ready(p, T0),
			    i == 0 ? 0 : 1);
			/* the remote one past stale_for: not ready */
			assert_int_equal(cg_policy_keys_ready(p, T0 + 3601), 0);
			cg_policy_free(p);
			free(yaml);
		}
		/* File issuers only: ready, never due. */
		yaml = cgt_fmt("version: 1\nissuers:\n"
			       "  f:\n    issuer: https://f.example.com\n"
			       "    jwks_file: %s\n    algorithms: [ES256]\n"
			       "zones:\n  z:\n    audience: api\n"
			       "    accept: [f]\n", two);
		p = parse_ok(yaml);
		assert_int_equal(cg_policy_keys_ready(p, T0), 1);
		assert_int_equal(cg_policy_keys_due_in(p, T0), 3600);
		cg_policy_free(p);
		free(yaml);
		free(none);
		free(two);
	}
	assert_int_equal(cg_policy_keys_ready(NULL, T0), 0);
	free(file);
	free(dir);
}

static void
test_policy_adopt_keys(void **state)
{
	unsigned char h[32];
	char hex[33], *dir = path_in("cache-adopt"), *file, *yaml;
	struct cg_policy *old, *neu;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(cg__sha256("https://r.example.com", 21, h), 0);
	cg__hex(h, 16, hex);
	file = cgt_fmt("%s/%s.jwks.json", dir, hex);
	write_file(file, jwks_two);
	set_mtime(file, T0);
	yaml = cgt_fmt("version: 1\ncache_dir: %s\nissuers:\n" REMOTE_ISSUER
		       ZONE_R, dir);
	old = parse_ok(yaml);
	/* The new policy has no cache (the file is gone): it adopts. */
	assert_int_equal(unlink(file), 0);
	neu = parse_ok("version: 1\nissuers:\n" REMOTE_ISSUER ZONE_R);
	assert_int_equal(cg_policy_keys_ready(neu, T0), 0);
	cg_policy_adopt_keys(neu, old);
	cg_policy_free(old);
	assert_int_equal(cg_policy_keys_ready(neu, T0), 1);
	assert_int_equal(cg_policy_keys_ready(neu, T0 + 3601), 0);
	cg_policy_adopt_keys(neu, NULL);
	cg_policy_adopt_keys(NULL, neu);
	cg_policy_free(neu);
	free(yaml);
	free(file);
	free(dir);
}

/* ---- policy errors for the remote-key settings ------------------------- */

struct perr {
	const char *name;
	const char *yaml;
	const char *msg; /* prefix of the error */
};

#define ISS "version: 1\nissuers:\n  corp:\n    issuer: https://sso.example.com\n"
#define ALGS "    algorithms: [ES256]\n"

static const struct perr perrs[] = {
	{ "discovery-with-jwks-uri",
	    ISS "    discovery: true\n"
		"    jwks_uri: https://sso.example.com/jwks\n" ALGS,
	    "p.yaml:5:5: issuers.corp: discovery: true takes jwks_uri from "
	    "the issuer's discovery document; remove jwks_file/jwks_uri" },
	{ "discovery-with-jwks-file",
	    ISS "    jwks_file: k.json\n    discovery: true\n" ALGS,
	    "p.yaml:6:5: issuers.corp: discovery: true takes jwks_uri" },
	{ "discovery-not-bool", ISS "    discovery: yes please\n" ALGS,
	    "p.yaml:5:16: issuers.corp.discovery: " },
	{ "discovery-http-issuer",
	    "version: 1\nissuers:\n  corp:\n"
	    "    issuer: http://sso.example.com\n"
	    "    discovery: true\n" ALGS,
	    "p.yaml:4:13: issuers.corp.issuer: discovery needs an https:// "
	    "issuer" },
	{ "discovery-local-http-issuer-without-insecure",
	    "version: 1\nissuers:\n  corp:\n"
	    "    issuer: http://127.0.0.1:8080\n"
	    "    discovery: true\n" ALGS,
	    "p.yaml:4:13: issuers.corp.issuer: discovery needs an https:// "
	    "issuer" },
	{ "http-without-insecure",
	    ISS "    jwks_uri: http://127.0.0.1:8080/jwks.json\n" ALGS,
	    "p.yaml:5:15: issuers.corp.jwks_uri: http:// needs insecure_http: "
	    "true (and is only for 127.0.0.1)" },
	{ "http-other-host-with-insecure",
	    ISS "    insecure_http: true\n"
		"    jwks_uri: http://sso.example.com/jwks.json\n" ALGS,
	    "p.yaml:6:15: issuers.corp.jwks_uri: must start with https:// or "
	    "http://127.0.0.1" },
	{ "http-fake-local-with-insecure",
	    ISS "    insecure_http: true\n"
		"    jwks_uri: http://127.0.0.1.evil.example/jwks.json\n" ALGS,
	    "p.yaml:6:15: issuers.corp.jwks_uri: must start with https:// or "
	    "http://127.0.0.1" },
	{ "insecure-http-on-jwks-file",
	    ISS "    jwks_file: k.json\n    insecure_http: true\n" ALGS,
	    "p.yaml:6:5: issuers.corp: insecure_http is for a remote key set" },
	{ "refresh-on-jwks-file",
	    ISS "    jwks_file: k.json\n    refresh: 5m\n" ALGS,
	    "p.yaml:6:5: issuers.corp: refresh, stale_for and ca_file are for "
	    "a remote key set (jwks_uri or discovery)" },
	{ "stale-for-on-jwks-file",
	    ISS "    jwks_file: k.json\n    stale_for: 1h\n" ALGS,
	    "p.yaml:6:5: issuers.corp: refresh, stale_for and ca_file are for "
	    "a remote key set" },
	{ "ca-file-on-jwks-file",
	    ISS "    jwks_file: k.json\n    ca_file: ca.pem\n" ALGS,
	    "p.yaml:6:5: issuers.corp: refresh, stale_for and ca_file are for "
	    "a remote key set" },
	{ "refresh-zero",
	    ISS "    jwks_uri: https://sso.example.com/jwks\n"
		"    refresh: 0\n" ALGS,
	    "p.yaml:6:14: issuers.corp.refresh: must be at least 1s" },
	{ "refresh-not-duration",
	    ISS "    jwks_uri: https://sso.example.com/jwks\n"
		"    refresh: soon\n" ALGS,
	    "p.yaml:6:14: issuers.corp.refresh: " },
	{ "stale-for-negative",
	    ISS "    jwks_uri: https://sso.example.com/jwks\n"
		"    stale_for: -5s\n" ALGS,
	    "p.yaml:6:16: issuers.corp.stale_for: " },
	{ "ca-file-list",
	    ISS "    jwks_uri: https://sso.example.com/jwks\n"
		"    ca_file: [a]\n" ALGS,
	    "p.yaml:6:14: issuers.corp.ca_file: expected a string, not a "
	    "list" },
	{ "cache-dir-list",
	    "version: 1\ncache_dir: [a]\nissuers:\n  corp:\n"
	    "    issuer: https://sso.example.com\n"
	    "    jwks_uri: https://sso.example.com/jwks\n" ALGS
	    "zones:\n  z:\n    audience: api\n    accept: [corp]\n",
	    "p.yaml:2:12: cache_dir: expected a string, not a list" },
};

static void
test_policy_errors(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(perrs) / sizeof(perrs[0]); i++) {
		struct cg_policy *p = NULL;
		struct cg_error err;
		cg_code rc;

		memset(&err, 0, sizeof(err));
		rc = cg__policy_parse(perrs[i].yaml, strlen(perrs[i].yaml),
		    "p.yaml", tmpdir, &p, &err);
		if (getenv("CG_TEST_VERBOSE") != NULL)
			print_message("%-44s %s\n", perrs[i].name, err.msg);
		if (rc != CG_ERR_POLICY || p != NULL ||
		    strncmp(err.msg, perrs[i].msg, strlen(perrs[i].msg)) != 0) {
			print_error("case %s:\n  want \"%s\"\n  got  %s \"%s\"\n",
			    perrs[i].name, perrs[i].msg, cg_code_name(rc),
			    err.msg);
			cg_policy_free(p);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Accepted forms: the defaults, and every key set. */
static void
test_policy_remote_settings(void **state)
{
	struct cg_policy *p;
	char *yaml;

	(void)state;
	p = parse_ok(ISS "    jwks_uri: https://sso.example.com/jwks\n" ALGS
		     "zones:\n  z:\n    audience: api\n    accept: [corp]\n");
	assert_string_equal(p->issuers[0].jwks_uri,
	    "https://sso.example.com/jwks");
	assert_int_equal(p->issuers[0].refresh, 300);
	assert_int_equal(p->issuers[0].stale_for, 86400);
	assert_null(p->issuers[0].ca_file);
	assert_int_equal(p->issuers[0].insecure_http, 0);
	assert_non_null(p->issuers[0].src);
	assert_null(p->issuers[0].keys);
	cg_policy_free(p);

	p = parse_ok(ISS "    discovery: true\n    refresh: 10m\n"
		     "    stale_for: 2h\n    ca_file: ca/private.pem\n" ALGS
		     "zones:\n  z:\n    audience: api\n    accept: [corp]\n");
	assert_int_equal(p->issuers[0].discovery, 1);
	assert_null(p->issuers[0].jwks_uri);
	assert_int_equal(p->issuers[0].refresh, 600);
	assert_int_equal(p->issuers[0].stale_for, 7200);
	yaml = cgt_fmt("%s/ca/private.pem", tmpdir);
	assert_string_equal(p->issuers[0].ca_file, yaml);
	free(yaml);
	cg_policy_free(p);

	p = parse_ok(ISS "    jwks_uri: http://127.0.0.1:8080/jwks.json\n"
		     "    insecure_http: true\n" ALGS
		     "zones:\n  z:\n    audience: api\n    accept: [corp]\n");
	assert_int_equal(p->issuers[0].insecure_http, 1);
	cg_policy_free(p);
}

static void
test_policy_http_scheme_case(void **state)
{
	struct cg_policy *p = NULL;
	struct cg_error err;
	static const char y[] =
	    ISS "    jwks_uri: HTTP://127.0.0.1:8080/jwks.json\n" ALGS
	    "zones:\n  z:\n    audience: api\n    accept: [corp]\n";

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg__policy_parse(y, strlen(y), "p.yaml", tmpdir, &p,
			     &err),
	    CG_ERR_POLICY);
	assert_non_null(strstr(err.msg, "p.yaml:5:15: issuers.corp.jwks_uri: "
					"http:// needs insecure_http"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_cache),
		cmocka_unit_test(test_load_cache_errors),
		cmocka_unit_test(test_stale_for_edge),
		cmocka_unit_test(test_snapshot_outlives_replacement),
		cmocka_unit_test(test_failed_fetch_keeps_set),
		cmocka_unit_test(test_no_set_yet),
		cmocka_unit_test(test_kid_miss_rate_limit),
		cmocka_unit_test(test_kid_miss_default_interval),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_adopt_discovery),
		cmocka_unit_test(test_adopt_over_cached_set),
		cmocka_unit_test(test_policy_keys_ready),
		cmocka_unit_test(test_policy_adopt_keys),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_policy_remote_settings),
		cmocka_unit_test(test_policy_http_scheme_case),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
