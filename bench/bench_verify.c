/*
 * bench_verify.c - verifications per second, per algorithm, of:
 *   (a) the raw OpenSSL primitive on the same key and signing input (the
 *       physical limit; best, new+copy and naive variants, and libsodium
 *       for Ed25519 when built with it);
 *   (b) cg_token_verify on a token parsed once;
 *   (c) cg_token_parse + cg_token_verify + cg_token_free;
 *   (d) cg_decide under a realistic zone + cg_decision_free;
 *   (e) the same with a verified-token cache (cg_decide_cached), the
 *       token repeated: every call a cache hit, every re-check run;
 * then the ratios to (a), and the pieces of the path alone (the token's
 * JSON reader against jansson, base64url, SHA-256, a pattern). With
 * --threads N, (d) and (e) on N threads sharing one policy instead.
 *
 * One key per algorithm, generated once; no key is parsed per token.
 * Every path is checked once to accept the token and to reject a copy
 * with a changed signature before it is timed.
 */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#ifdef CG_BENCH_SODIUM
#include <sodium.h>
#endif

#include "bench_common.h"
#include "jnode.h"
#include "policy.h"

#define ZONE "api"

/* The cells of a row, in the order bench_rates measures them: (a) best,
 * new+copy, naive, libsodium; (b) verify, (c) parse+verify, (d) decide,
 * (e) cached. */
enum cell {
	C_BEST,
	C_NEWCOPY,
	C_NAIVE,
	C_SODIUM,
	C_VERIFY,
	C_PARSE,
	C_DECIDE,
	C_CACHED,
	NCELLS
};

struct alg_bench {
	struct bench_case c;
	struct bench_raw raw;
	struct cg_token *tok;	/* parsed once, for (b) */
	struct cg_policy *pol;
	struct cg_vcache *cache; /* for (e) */
	unsigned char edpk[32];	/* Ed25519 public key, for libsodium */
	double best, newcopy, naive, sodium;
	double verify, parse_verify, decide, cached;
	/* paired ratios to (a) best, by cell (bench_rates) */
	double pr[NCELLS];
};

/* ---- the operations ------------------------------------------------ */

static int
op_cg_verify(void *arg)
{
	const struct alg_bench *b = arg;

	return cg_token_verify(b->tok, b->c.ks, CG_ALG_BIT(b->c.alg), NULL,
		   NULL) == CG_OK
	    ? 0
	    : -1;
}

static int
op_cg_parse_verify(void *arg)
{
	const struct alg_bench *b = arg;
	struct cg_token *t;
	cg_code rc;

	if (cg_token_parse(b->c.token, b->c.token_len, 0, &t, NULL) != CG_OK)
		return -1;
	rc = cg_token_verify(t, b->c.ks, CG_ALG_BIT(b->c.alg), NULL, NULL);
	cg_token_free(t);
	return rc == CG_OK ? 0 : -1;
}

static int
op_cg_decide(void *arg)
{
	const struct alg_bench *b = arg;
	struct cg_decision *d;
	int ok;

	if (cg_decide(b->pol, ZONE, b->c.token, b->c.token_len, b->c.now,
		NULL, &d, NULL) != CG_OK)
		return -1;
	ok = cg_decision_allowed(d);
	cg_decision_free(d);
	return ok ? 0 : -1;
}

static int
op_cg_decide_cached(void *arg)
{
	const struct alg_bench *b = arg;
	struct cg_decision *d;
	int ok;

	if (cg_decide_cached(b->pol, ZONE, b->c.token, b->c.token_len,
		b->c.now, NULL, b->cache, &d, NULL) != CG_OK)
		return -1;
	ok = cg_decision_allowed(d);
	cg_decision_free(d);
	return ok ? 0 : -1;
}

#ifdef CG_BENCH_SODIUM
static int
op_sodium(void *arg)
{
	const struct alg_bench *b = arg;

	return crypto_sign_verify_detached(b->c.sig,
	    (const unsigned char *)b->c.token, b->c.signing_len, b->edpk);
}
#endif

/* ---- setup ---------------------------------------------------------- */

static int
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	ok = fputs(text, f) >= 0;
	ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

static void
remove_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)remove(path);
}

/*
 * One issuer with the case's key, one zone: audience, max_age,
 * require_claims, three trusted-claim rules (pattern; split + map;
 * pattern) and a require rule; replay off.
 */
static const char policy_fmt[] =
    "version: 1\n"
    "issuers:\n"
    "  sso:\n"
    "    issuer: https://sso.example.com\n"
    "    jwks_file: %s\n"
    "    algorithms: [%s]\n"
    "    types: [at+jwt]\n"
    "    max_lifetime: 1h\n"
    "zones:\n"
    "  " ZONE ":\n"
    "    audience: https://api.example.com/payments\n"
    "    audience_exact: false\n"
    "    accept: [sso]\n"
    "    leeway: 30s\n"
    "    max_age: 10m\n"
    "    require_claims: [sub, jti]\n"
    "    replay: off\n"
    "    claims:\n"
    "      tenant: { claim: tid, pattern: \"^[a-z0-9-]{1,64}$\", "
    "required: true }\n"
    "      roles:\n"
    "        claim: scope\n"
    "        split: space\n"
    "        map: { \"payments:read\": payments-reader, "
    "\"payments:write\": payments-writer }\n"
    "      client: { claim: client_id, pattern: \"^[a-z0-9-]{1,64}$\" }\n"
    "    require:\n"
    "      roles: { all_of: [payments-writer] }\n";

static int
load_policy(struct alg_bench *b, const char *dir)
{
	char jwks[64], pol[64], text[2048], path[512];
	struct cg_error err;
	int rc;

	snprintf(jwks, sizeof(jwks), "jwks-%s.json", b->c.kid);
	snprintf(pol, sizeof(pol), "policy-%s.yaml", b->c.kid);
	snprintf(text, sizeof(text), policy_fmt, jwks, b->c.name);
	snprintf(path, sizeof(path), "%s/%s", dir, pol);
	if (write_file(dir, jwks, b->c.jwks) != 0 ||
	    write_file(dir, pol, text) != 0) {
		fprintf(stderr, "cannot write to %s\n", dir);
		rc = -1;
	} else {
		rc = cg_policy_load(path, &b->pol, &err) == CG_OK ? 0 : -1;
		if (rc != 0)
			fprintf(stderr, "%s: policy: %s\n", b->c.name,
			    err.msg);
	}
	/* The keys are in memory now; the files are not needed. */
	remove_file(dir, jwks);
	remove_file(dir, pol);
	return rc;
}

/* Each path must accept the token and reject a changed signature. */
static int
check_paths(struct alg_bench *b)
{
	char *bad = bench_tampered(&b->c);
	struct cg_decision *d = NULL;
	struct cg_token *t = NULL;
	int ok;

	ok = bad != NULL && op_cg_verify(b) == 0 &&
	    op_cg_parse_verify(b) == 0 && op_cg_decide(b) == 0 &&
	    bench_raw_best(&b->raw) == 0 && bench_raw_naive(&b->raw) == 0 &&
	    (!bench_raw_has_newcopy(&b->c) || bench_raw_newcopy(&b->raw) == 0);
	if (ok && cg_token_parse(bad, b->c.token_len, 0, &t, NULL) == CG_OK)
		ok = cg_token_verify(t, b->c.ks, CG_ALG_BIT(b->c.alg), NULL,
			 NULL) == CG_ERR_SIGNATURE;
	if (ok)
		ok = cg_decide(b->pol, ZONE, bad, b->c.token_len, b->c.now,
			 NULL, &d, NULL) == CG_OK &&
		    cg_decision_reason(d) == CG_REASON_SIGNATURE_INVALID;
	/* The cached path: a miss that fills the cache, then a hit; a
	 * changed signature is never a hit. */
	if (ok)
		ok = op_cg_decide_cached(b) == 0 && op_cg_decide_cached(b) == 0;
	cg_decision_free(d);
	d = NULL;
	if (ok)
		ok = cg_decide_cached(b->pol, ZONE, bad, b->c.token_len,
			 b->c.now, NULL, b->cache, &d, NULL) == CG_OK &&
		    cg_decision_reason(d) == CG_REASON_SIGNATURE_INVALID;
#ifdef CG_BENCH_SODIUM
	if (ok && b->c.alg == CG_ALG_EDDSA)
		ok = op_sodium(b) == 0;
#endif
	cg_decision_free(d);
	cg_token_free(t);
	free(bad);
	if (!ok)
		fprintf(stderr, "%s: a path does not verify as expected\n",
		    b->c.name);
	return ok ? 0 : -1;
}

static int
setup(struct alg_bench *b, cg_alg alg, int64_t now, const char *dir)
{
	size_t len = sizeof(b->edpk);

	memset(b, 0, sizeof(*b));
	b->best = b->newcopy = b->naive = b->sodium = -1;
	b->verify = b->parse_verify = b->decide = b->cached = -1;
	if (bench_case_init(&b->c, alg, now) != 0 ||
	    cg_vcache_new(1024, 1024 * 1024, &b->cache) != CG_OK ||
	    bench_raw_init(&b->raw, &b->c) != 0 ||
	    cg_token_parse(b->c.token, b->c.token_len, 0, &b->tok, NULL) !=
		CG_OK ||
	    load_policy(b, dir) != 0)
		return -1;
	if (alg == CG_ALG_EDDSA &&
	    EVP_PKEY_get_raw_public_key(b->c.pkey, b->edpk, &len) != 1)
		return -1;
	return check_paths(b);
}

static void
teardown(struct alg_bench *b)
{
	cg_vcache_free(b->cache);
	cg_policy_free(b->pol);
	cg_token_free(b->tok);
	bench_raw_free(&b->raw);
	bench_case_free(&b->c);
}

/* ---- single thread -------------------------------------------------- */

/* All cells of a row in interleaved rounds (bench_rates). */
static void
measure(struct alg_bench *b, const struct bench_opts *o)
{
	bench_fn fns[NCELLS] = {[C_BEST] = bench_raw_best,
	    [C_NAIVE] = bench_raw_naive,
	    [C_VERIFY] = op_cg_verify,
	    [C_PARSE] = op_cg_parse_verify,
	    [C_DECIDE] = op_cg_decide,
	    [C_CACHED] = op_cg_decide_cached};
	void *args[NCELLS] = {&b->raw, &b->raw, &b->raw, b, b, b, b, b};
	double r[NCELLS];

	if (bench_raw_has_newcopy(&b->c))
		fns[C_NEWCOPY] = bench_raw_newcopy;
#ifdef CG_BENCH_SODIUM
	if (b->c.alg == CG_ALG_EDDSA)
		fns[C_SODIUM] = op_sodium;
#endif
	bench_rates(fns, args, NCELLS, o, r, b->pr);
	b->best = r[C_BEST];
	b->newcopy = r[C_NEWCOPY];
	b->naive = r[C_NAIVE];
	b->sodium = r[C_SODIUM];
	b->verify = r[C_VERIFY];
	b->parse_verify = r[C_PARSE];
	b->decide = r[C_DECIDE];
	b->cached = r[C_CACHED];
}

static void
print_ops_row(const struct alg_bench *b)
{
	char s[NCELLS][32];

	printf("| %-5s | %11s | %11s | %11s | %11s | %11s | %11s | %11s "
	       "| %11s |\n",
	    b->c.name, bench_fmt_ops(b->best, s[0], sizeof(s[0])),
	    bench_fmt_ops(b->newcopy, s[1], sizeof(s[1])),
	    bench_fmt_ops(b->naive, s[2], sizeof(s[2])),
	    bench_fmt_ops(b->sodium, s[3], sizeof(s[3])),
	    bench_fmt_ops(b->verify, s[4], sizeof(s[4])),
	    bench_fmt_ops(b->parse_verify, s[5], sizeof(s[5])),
	    bench_fmt_ops(b->decide, s[6], sizeof(s[6])),
	    bench_fmt_ops(b->cached, s[7], sizeof(s[7])));
	fflush(stdout);
}

static double
ratio(double x, double base)
{
	return x > 0 && base > 0 ? x / base : -1;
}

/* Microseconds per operation above the raw primitive's. */
static double
extra_us(double x, double base)
{
	return x > 0 && base > 0 ? 1e6 / x - 1e6 / base : 0;
}

static void
print_tables(const struct alg_bench *v, size_t n)
{
	size_t i;

	printf("\n(b)/(a) .. (e)/(a): rates relative to the best raw "
	       "OpenSSL variant; µs/op are\nthe time per operation (a) and "
	       "what each uncached claimgate path adds to it.\n\n");
	printf("| alg   | (b)/(a) | (c)/(a) | (d)/(a) | (e)/(a) | (a) µs/op "
	       "| (b) +µs | (c) +µs | (d) +µs |\n");
	printf("|-------|--------:|--------:|--------:|--------:|----------:"
	       "|--------:|--------:|--------:|\n");
	for (i = 0; i < n; i++) {
		const struct alg_bench *b = &v[i];
		printf("| %-5s | %6.1f%% | %6.1f%% | %6.1f%% | %6.0f%% | %9.2f "
		       "| %7.2f | %7.2f | %7.2f |\n",
		    b->c.name, 100 * ratio(b->verify, b->best),
		    100 * ratio(b->parse_verify, b->best),
		    100 * ratio(b->decide, b->best),
		    100 * ratio(b->cached, b->best),
		    b->best > 0 ? 1e6 / b->best : 0,
		    extra_us(b->verify, b->best),
		    extra_us(b->parse_verify, b->best),
		    extra_us(b->decide, b->best));
	}
	printf("\nThe same ratios paired: the median over the runs of each "
	       "run's own ratio\n(cells of a run are seconds apart; runs "
	       "are not), which a drift in the\nmachine's speed moves less."
	       "\n\n| alg   | (b)/(a) | (c)/(a) | (d)/(a) | (e)/(a) |\n"
	       "|-------|--------:|--------:|--------:|--------:|\n");
	for (i = 0; i < n; i++)
		printf("| %-5s | %6.1f%% | %6.1f%% | %6.1f%% | %6.0f%% |\n",
		    v[i].c.name, 100 * v[i].pr[C_VERIFY],
		    100 * v[i].pr[C_PARSE], 100 * v[i].pr[C_DECIDE],
		    100 * v[i].pr[C_CACHED]);
	for (i = 0; i < n; i++)
		if (v[i].sodium > 0 && v[i].best > 0)
			printf("\nEdDSA: libsodium crypto_sign_verify_detached "
			       "is %.2fx OpenSSL's best Ed25519 loop.\n",
			    v[i].sodium / v[i].best);
}

/* The in-process targets of the performance work, against this run: the
 * ratios are the paired medians, the rates the row's own medians. serve
 * and memory have their own scripts (bench_serve.sh, bench_memory.sh). */
static void
print_target(const char *what, double got, double want, int percent)
{
	char g[32], w[32];

	if (got <= 0)
		return;
	if (percent) {
		snprintf(g, sizeof(g), "%.1f %%", 100 * got);
		snprintf(w, sizeof(w), "%.0f %%", 100 * want);
	} else {
		bench_fmt_ops(got, g, sizeof(g));
		bench_fmt_ops(want, w, sizeof(w));
	}
	printf("| %-44s | %10s | %10s | ", what, w, g);
	if (got >= want)
		printf("met |\n");
	else if (percent)
		printf("missed by %.1f points |\n", 100 * (want - got));
	else
		printf("missed by %.1f %% |\n", 100 * (1 - got / want));
}

static void
print_targets(const struct alg_bench *v, size_t n)
{
	const struct alg_bench *low = NULL;
	char what[64];
	size_t i;

	printf("\nAgainst the targets (ratios paired, rates per core):\n\n"
	       "| target                                       |       goal "
	       "|   this run | verdict |\n"
	       "|----------------------------------------------|-----------:"
	       "|-----------:|---------|\n");
	for (i = 0; i < n; i++) {
		const struct alg_bench *b = &v[i];
		switch (b->c.alg) {
		case CG_ALG_RS256:
		case CG_ALG_PS256:
		case CG_ALG_ES256:
			snprintf(what, sizeof(what),
			    "%s decision, uncached, / raw primitive",
			    b->c.name);
			print_target(what, b->pr[C_DECIDE], 0.95, 1);
			break;
		case CG_ALG_EDDSA:
			print_target("EdDSA decision / raw OpenSSL Ed25519",
			    b->pr[C_DECIDE], 2.0, 1);
			break;
		case CG_ALG_HS256:
			print_target(
			    "HS256 decisions per second", b->decide, 500000, 0);
			break;
		default: break;
		}
		if (b->cached > 0 && (low == NULL || b->cached < low->cached))
			low = b;
	}
	if (low != NULL) {
		snprintf(what, sizeof(what),
		    "cached decisions per second (lowest: %s)", low->c.name);
		print_target(what, low->cached, 1000000, 0);
	}
}

/* ---- the JSON reader alone ----------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct json_arg {
	const char *p;
	size_t len;
	const struct bench_case *c;
};

static int
op_json_cg(void *arg)
{
	const struct json_arg *a = arg;
	struct cg_json *v;
	size_t bad;
	char why[80];

	if (cg__json_parse_object(a->p, a->len, CG_LIMIT_JSON_DEPTH, &v, &bad,
		why, sizeof(why)) != CG_OK)
		return -1;
	cg__json_free(v);
	return 0;
}

static int
op_json_jnode(void *arg)
{
	const struct json_arg *a = arg;
	const struct cg_jnode *root;
	struct cg_arena *arena = NULL;
	size_t bad;
	char why[80];
	cg_code rc;

	rc = cg__jnode_parse(a->p, a->len, CG_LIMIT_JSON_DEPTH, &arena, &root,
	    &bad, why, sizeof(why));
	cg__arena_free(arena);
	return rc == CG_OK ? 0 : -1;
}

static int
jansson_parse(const struct json_arg *a, size_t flags)
{
	json_t *v = json_loadb(a->p, a->len, flags, NULL);

	if (v == NULL)
		return -1;
	json_decref(v);
	return 0;
}

static int
op_json_jansson_strict(void *arg)
{
	return jansson_parse(arg,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL);
}

static int
op_json_jansson_plain(void *arg)
{
	return jansson_parse(arg, 0);
}

static int
op_b64_payload(void *arg)
{
	const struct json_arg *a = arg;
	unsigned char buf[2048];
	size_t n, bad;

	if (cg__b64url_decoded_len(a->len) > sizeof(buf))
		return -1;
	return cg__b64url_decode(a->p, a->len, buf, &n, &bad) == CG_OK ? 0
									 : -1;
}

static int
op_sha256_token(void *arg)
{
	const struct json_arg *a = arg;
	unsigned char d[32];

	return cg__sha256(a->c->token, a->c->token_len, d);
}

/* The same digest with an EVP_MD fetched once, for comparison:
 * EVP_sha256() in EVP_Digest costs an implicit fetch per call. */
static EVP_MD *sha256_md;

static int
op_sha256_prefetched(void *arg)
{
	const struct json_arg *a = arg;
	unsigned char d[32];
	unsigned int n = 0;

	return EVP_Digest(a->c->token, a->c->token_len, d, &n, sha256_md,
		   NULL) == 1 && n == 32
	    ? 0
	    : -1;
}

/* One trusted-claim pattern, as decide.c runs it per token. */
static const regex_t *pattern_re;

static int
op_regexec(void *arg)
{
	(void)arg;
	return regexec(pattern_re, "acme-eu-1", 0, NULL, 0) == 0 ? 0 : -1;
}

static int
op_token_parse(void *arg)
{
	const struct json_arg *a = arg;
	struct cg_token *t;

	if (cg_token_parse(a->c->token, a->c->token_len, 0, &t, NULL) != CG_OK)
		return -1;
	cg_token_free(t);
	return 0;
}

/* Median time of one call in µs, over batches of 64 calls for `seconds`
 * (at most 65536 batches). */
static double
median_us(bench_fn fn, void *arg, const struct bench_opts *o)
{
	const size_t cap = 65536, per = 64;
	double *t, end, t0, med = -1;
	size_t n = 0, i;

	if (bench_calibrate(fn, arg, o->warmup) == 0 ||
	    (t = malloc(cap * sizeof(*t))) == NULL)
		return -1;
	end = bench_now() + o->seconds;
	do {
		t0 = bench_now();
		for (i = 0; i < per; i++)
			if (fn(arg) != 0)
				goto out;
		t[n++] = (bench_now() - t0) / (double)per;
	} while (n < cap && bench_now() < end);
	qsort(t, n, sizeof(*t), cmp_double);
	med = t[n / 2] * 1e6;
out:
	free(t);
	return med;
}

static void
json_table(const struct alg_bench *b, const struct bench_opts *o)
{
	const struct bench_case *c = &b->c;
	const char *dot1 = strchr(c->token, '.');
	struct json_arg claims = {c->claims, c->claims_len, c};
	struct json_arg header = {c->header, c->header_len, c};
	struct json_arg payload = {dot1 + 1,
	    c->signing_len - (size_t)(dot1 + 1 - c->token), c};
	const struct {
		const char *what;
		bench_fn fn;
		struct json_arg *a;
	} rows[] = {
		{"cg__jnode_parse, claims (token reader) + arena free",
		    op_json_jnode, &claims},
		{"cg__json_parse_object, claims (jansson, strict)",
		    op_json_cg, &claims},
		{"json_loadb, claims, REJECT_DUPLICATES + INT_AS_REAL",
		    op_json_jansson_strict, &claims},
		{"json_loadb, claims, no flags", op_json_jansson_plain,
		    &claims},
		{"cg__jnode_parse, header (token reader)", op_json_jnode,
		    &header},
		{"cg__json_parse_object, header (jansson)", op_json_cg,
		    &header},
		{"cg__b64url_decode, payload segment", op_b64_payload,
		    &payload},
		{"cg__sha256, whole token", op_sha256_token, &claims},
		{"  same, EVP_Digest with an EVP_MD fetched once",
		    op_sha256_prefetched, &claims},
		{"cg_token_parse + cg_token_free (the whole parse)",
		    op_token_parse, &claims},
		{"regexec, one trusted-claim pattern (decide.c)",
		    op_regexec, &claims},
	};
	size_t i;

	/* The zone's first rule, tenant, has a pattern. */
	pattern_re = &b->pol->zones[0].claims[0].re;
	if (!b->pol->zones[0].claims[0].has_pattern ||
	    (sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return;
	printf("\nPieces of the path, one at a time (%s token, %zu bytes; "
	       "claims %zu bytes, header %zu bytes);\nmedian µs per call "
	       "over batches of 64:\n\n",
	    c->name, c->token_len, c->claims_len, c->header_len);
	printf("| %-50s | %9s |\n", "step", "median µs");
	printf("|%s|%s|\n", "----------------------------------------------------",
	    "----------:");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		printf("| %-50s | %9.3f |\n", rows[i].what,
		    median_us(rows[i].fn, rows[i].a, o));
		fflush(stdout);
	}
	EVP_MD_free(sha256_md);
	sha256_md = NULL;
}

/* ---- threads -------------------------------------------------------- */

struct thr {
	bench_fn fn;
	struct alg_bench *b;
	const struct bench_opts *o;
	pthread_barrier_t *bar;
	double rate;
};

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	unsigned long batch = bench_calibrate(t->fn, t->b, t->o->warmup);

	pthread_barrier_wait(t->bar);
	t->rate = batch == 0 ? -1
			     : bench_run_once(t->fn, t->b, t->o->seconds,
				   batch);
	return NULL;
}

/* Aggregate decisions/s of one run of fn on o->threads threads. */
static double
threads_once(bench_fn fn, struct alg_bench *b, const struct bench_opts *o)
{
	size_t n = (size_t)o->threads, i, started = 0;
	pthread_barrier_t bar;
	pthread_t *tid;
	struct thr *t;
	double sum = 0;
	int failed = 0;

	tid = calloc(n, sizeof(*tid));
	t = calloc(n, sizeof(*t));
	if (tid == NULL || t == NULL ||
	    pthread_barrier_init(&bar, NULL, (unsigned)n) != 0) {
		free(tid);
		free(t);
		return -1;
	}
	for (i = 0; i < n; i++) {
		t[i].fn = fn;
		t[i].b = b;
		t[i].o = o;
		t[i].bar = &bar;
		if (pthread_create(&tid[i], NULL, thr_main, &t[i]) != 0)
			break;
		started++;
	}
	if (started != n) {
		/* Cannot meet the barrier: report and give up. */
		fprintf(stderr, "pthread_create failed\n");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		if (t[i].rate < 0)
			failed = 1;
		sum += t[i].rate;
	}
	pthread_barrier_destroy(&bar);
	free(tid);
	free(t);
	return failed ? -1 : sum;
}

/* Median over o->runs runs of fn on o->threads threads. */
static double
threads_rate(bench_fn fn, struct alg_bench *b, const struct bench_opts *o)
{
	double r[16];
	int k;

	for (k = 0; k < o->runs; k++)
		if ((r[k] = threads_once(fn, b, o)) < 0)
			return -1;
	qsort(r, (size_t)o->runs, sizeof(r[0]), cmp_double);
	return o->runs % 2 ? r[o->runs / 2]
			   : (r[o->runs / 2 - 1] + r[o->runs / 2]) / 2;
}

static void
threads_table(struct alg_bench *v, size_t n, const struct bench_opts *o)
{
	size_t i;

	printf("Full decisions on %d threads sharing one policy (and, for "
	       "(e), one cache);\naggregate decisions/s, median of %d runs; "
	       "1 thread measured in the same run.\n(d) cg_decide, (e) "
	       "cg_decide_cached with the token repeated (cache hits).\n\n",
	    o->threads, o->runs);
	printf("| alg   | (d) 1 thread | (d) %2d threads | scaling "
	       "| (e) 1 thread | (e) %2d threads | scaling |\n",
	    o->threads, o->threads);
	printf("|-------|-------------:|---------------:|--------:"
	       "|-------------:|---------------:|--------:|\n");
	for (i = 0; i < n; i++) {
		char s[4][32];
		double d1 = bench_rate(op_cg_decide, &v[i], o);
		double dn = threads_rate(op_cg_decide, &v[i], o);
		double e1 = bench_rate(op_cg_decide_cached, &v[i], o);
		double en = threads_rate(op_cg_decide_cached, &v[i], o);
		printf("| %-5s | %12s | %14s | %6.2fx | %12s | %14s | %6.2fx "
		       "|\n",
		    v[i].c.name, bench_fmt_ops(d1, s[0], sizeof(s[0])),
		    bench_fmt_ops(dn, s[1], sizeof(s[1])), ratio(dn, d1),
		    bench_fmt_ops(e1, s[2], sizeof(s[2])),
		    bench_fmt_ops(en, s[3], sizeof(s[3])), ratio(en, e1));
		fflush(stdout);
	}
}

/*
 * BENCH_PROFILE=raw|parse|decide|cached: nothing but that path on the first
 * algorithm for --seconds, for a sampling profiler (perf record) or
 * callgrind; prints the calls made.
 */
static int
op_raw_best(void *arg)
{
	struct alg_bench *b = arg;

	return bench_raw_best(&b->raw);
}

static int
profile_loop(struct alg_bench *b, const char *what, const struct bench_opts *o)
{
	int (*fn)(void *) = strcmp(what, "raw") == 0      ? op_raw_best
	                    : strcmp(what, "parse") == 0  ? op_cg_parse_verify
	                    : strcmp(what, "decide") == 0 ? op_cg_decide
	                    : strcmp(what, "cached") == 0 ? op_cg_decide_cached
	                                                  : NULL;
	struct timespec t0, t1;
	unsigned long calls = 0;
	double spent = 0;

	if (fn == NULL) {
		fprintf(
		    stderr, "BENCH_PROFILE: raw, parse, decide or cached\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (spent < o->seconds) {
		for (int i = 0; i < 1000; i++)
			if (fn(b) != 0)
				return 1;
		calls += 1000;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (double)(t1.tv_sec - t0.tv_sec) +
		        (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	}
	printf("%s %s: %lu calls, %.0f/s\n", b->c.name, what, calls,
	    (double)calls / spent);
	return 0;
}

/* ---- main ----------------------------------------------------------- */

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/cg-bench-XXXXXX";
	struct alg_bench *v = NULL;
	struct bench_opts o;
	const cg_alg *algs;
	size_t n = 0, i;
	int64_t now = (int64_t)time(NULL);
	int rc = 1;

	switch (bench_opts_parse(argc, argv, "bench_verify", &o)) {
	case 0:
		break;
	case 1:
		return 0;
	default:
		return 2;
	}
#ifdef CG_BENCH_SODIUM
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
#endif
	algs = bench_algs(&o);
	while (algs[n] != CG_ALG_UNKNOWN)
		n++;
	if ((v = calloc(n, sizeof(*v))) == NULL || mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_verify: setup failed\n");
		free(v);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (setup(&v[i], algs[i], now, dir) != 0)
			goto out;
	printf("claimgate %s bench_verify: %s; jansson %s",
	    cg_version(), OpenSSL_version(OPENSSL_VERSION), JANSSON_VERSION);
#ifdef CG_BENCH_SODIUM
	printf("; libsodium %s", sodium_version_string());
#endif
	printf("\n%.3g s per run after %.3g s warm-up, median of %d runs, "
	       "%s\n"
	       "access token: typ at+jwt, kid, 10 claims (%zu bytes of "
	       "claims JSON); token bytes:",
	    o.seconds, o.warmup, o.runs,
	    o.cpu_time ? "thread CPU time (--cpu-time)" : "wall clock",
	    v[0].c.claims_len);
	for (i = 0; i < n; i++)
		printf(" %s %zu", v[i].c.name, v[i].c.token_len);
	printf("\n\n");
	if (getenv("BENCH_PROFILE") != NULL) {
		rc = profile_loop(&v[0], getenv("BENCH_PROFILE"), &o);
		goto out;
	}
	if (o.threads > 0) {
		threads_table(v, n, &o);
		rc = 0;
		goto out;
	}
	printf("Verifications/s (single thread; the cells of a row measured "
	       "in interleaved rounds).\n(a) raw OpenSSL: best = "
	       "prepared context copied, finalised once\n(HMAC: plain SHA-2 "
	       "pad states copied; Ed25519: re-initialised),"
	       " new+copy = EVP_MD_CTX_new + copy + free,\nnaive = new context "
	       "+ DigestVerifyInit per call. (b) cg_token_verify on a parsed "
	       "token,\n(c) cg_token_parse + verify + free, (d) cg_decide + "
	       "cg_decision_free,\n(e) cg_decide_cached, the same token again "
	       "(a cache hit; every other check runs).\n\n");
	printf("| alg   | (a) best    | (a) new+copy| (a) naive   | libsodium"
	       "   | (b) verify  | (c) parse+v | (d) decide  | (e) cached  |\n");
	printf("|-------|------------:|------------:|------------:|----------"
	       "--:|------------:|------------:|------------:|------------:|\n");
	for (i = 0; i < n; i++) {
		measure(&v[i], &o);
		print_ops_row(&v[i]);
	}
	print_tables(v, n);
	print_targets(v, n);
	json_table(&v[0], &o);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		teardown(&v[i]);
	free(v);
	(void)rmdir(dir);
	return rc;
}
