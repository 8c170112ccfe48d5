/*
 * bench_peers.c - the C JOSE libraries Debian ships, on the same kind of
 * token and the same key as claimgate, side by side with the raw OpenSSL
 * primitive and claimgate in one run:
 *   cjose 0.6 (libcjose-dev):   cjose_jws_import + cjose_jws_verify +
 *                               cjose_jws_release; the JWK imported once;
 *   libjwt 1.10 (libjwt-dev):   jwt_decode + jwt_free, with the PEM public
 *                               key (HMAC: the secret) -- libjwt has no
 *                               other way to take a key;
 *   jose 11 (libjose-dev):      the compact token turned into the flattened
 *                               JSON form (json_pack), jose_jws_ver,
 *                               json_decref; the JWK loaded once -- libjose
 *                               has no compact parser of its own.
 * Each call checks the signature of one token and nothing else (no claim
 * is read), so the fair claimgate column is (c) parse + verify; (d) adds
 * the zone's rules. Each peer must accept the token and reject a changed
 * signature before it is timed; a peer that cannot is shown as "n/a".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#ifdef CG_BENCH_CJOSE
#include <cjose/cjose.h>
#endif
#ifdef CG_BENCH_LIBJWT
#include <jwt.h>
#endif
#ifdef CG_BENCH_JOSE
#include <jose/jose.h>
#endif

#include "bench_common.h"

enum { P_RAW, P_CG_PV, P_CJOSE, P_LIBJWT, P_JOSE, P_N };

static const char *const col_names[P_N] = {"(a) raw best",
    "claimgate (c)", "cjose", "libjwt", "jose"};

struct peer_bench {
	struct bench_case c;
	struct bench_raw raw;
	const char *token;	/* the token a call verifies */
	size_t token_len;
#ifdef CG_BENCH_CJOSE
	cjose_jwk_t *cjwk;
#endif
#ifdef CG_BENCH_JOSE
	json_t *jjwk;
	jose_cfg_t *jcfg;
#endif
	const unsigned char *jwt_key; /* libjwt: PEM or secret */
	int jwt_key_len;
	char *jwt_token;	/* libjwt: the same token with typ JWT */
	const char *jwt_cur;	/* the one op_libjwt verifies */
	double rate[P_N];
	const char *why[P_N];	/* when not measured */
};

/* ---- claimgate ------------------------------------------------------ */

static int
op_cg_parse_verify(void *arg)
{
	const struct peer_bench *b = arg;
	struct cg_token *t;
	cg_code rc;

	if (cg_token_parse(b->token, b->token_len, 0, &t, NULL) != CG_OK)
		return -1;
	rc = cg_token_verify(t, b->c.ks, CG_ALG_BIT(b->c.alg), NULL, NULL);
	cg_token_free(t);
	return rc == CG_OK ? 0 : -1;
}

/* ---- cjose ---------------------------------------------------------- */

#ifdef CG_BENCH_CJOSE
static int
op_cjose(void *arg)
{
	const struct peer_bench *b = arg;
	cjose_jws_t *jws;
	cjose_err err;
	int ok;

	if ((jws = cjose_jws_import(b->token, b->token_len, &err)) == NULL)
		return -1;
	ok = cjose_jws_verify(jws, b->cjwk, &err);
	cjose_jws_release(jws);
	return ok ? 0 : -1;
}
#endif

/* ---- libjwt --------------------------------------------------------- */

#ifdef CG_BENCH_LIBJWT
static int
op_libjwt(void *arg)
{
	const struct peer_bench *b = arg;
	jwt_t *jwt = NULL;
	int rc;

	/* NUL-terminated, as jwt_decode needs. */
	rc = jwt_decode(&jwt, b->jwt_cur, b->jwt_key, b->jwt_key_len);
	jwt_free(jwt);
	return rc == 0 ? 0 : -1;
}
#endif

/* ---- latchset jose -------------------------------------------------- */

#ifdef CG_BENCH_JOSE
static int
op_jose(void *arg)
{
	const struct peer_bench *b = arg;
	const char *t = b->token, *d1, *d2;
	json_t *jws;
	int ok;

	if ((d1 = memchr(t, '.', b->token_len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', b->token_len - (size_t)(d1 + 1 - t))) ==
		NULL)
		return -1;
	jws = json_pack("{s:s%,s:s%,s:s%}", "protected", t, (size_t)(d1 - t),
	    "payload", d1 + 1, (size_t)(d2 - d1 - 1), "signature", d2 + 1,
	    b->token_len - (size_t)(d2 + 1 - t));
	if (jws == NULL)
		return -1;
	ok = jose_jws_ver(b->jcfg, jws, NULL, b->jjwk, false);
	json_decref(jws);
	return ok ? 0 : -1;
}
#endif

/* ---- setup and checks ----------------------------------------------- */

#ifdef CG_BENCH_JOSE
/* jose prints every error to stderr by default; the table says it. */
static void
jose_quiet(void *misc, const char *file, int line, uint64_t err,
    const char *fmt, va_list ap)
{
	(void)misc;
	(void)file;
	(void)line;
	(void)err;
	(void)fmt;
	(void)ap;
}
#endif

/* A copy of `tok` with the middle character of its signature changed. */
static char *
tamper(const char *tok)
{
	const char *dot = strrchr(tok, '.');
	size_t len = strlen(tok), sl = (size_t)(dot - tok);
	size_t pos = sl + 1 + (len - sl) / 2;
	char *t = malloc(len + 1);

	if (t == NULL)
		return NULL;
	memcpy(t, tok, len + 1);
	t[pos] = t[pos] == 'A' ? 'B' : 'A';
	return t;
}

/*
 * libjwt 1.10 refuses any `typ` but "JWT" (jwt_decode returns EINVAL for
 * at+jwt), so it gets the same claims and key under a typ JWT header.
 */
static int
make_jwt_token(struct peer_bench *b)
{
	char h[128];
	int n;

	n = snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"typ\":\"JWT\","
	    "\"kid\":\"%s\"}", b->c.name, b->c.kid);
	b->jwt_token = cg__signer_sign(b->c.signer, b->c.alg, h, (size_t)n,
	    b->c.claims, b->c.claims_len);
	b->jwt_cur = b->jwt_token;
	return b->jwt_token == NULL ? -1 : 0;
}

static bench_fn
column_fn(int col, void **arg, struct peer_bench *b)
{
	*arg = b;
	switch (col) {
	case P_RAW:
		*arg = &b->raw;
		return bench_raw_best;
	case P_CG_PV:
		return op_cg_parse_verify;
#ifdef CG_BENCH_CJOSE
	case P_CJOSE:
		return b->cjwk != NULL ? op_cjose : NULL;
#endif
#ifdef CG_BENCH_LIBJWT
	case P_LIBJWT:
		return op_libjwt;
#endif
#ifdef CG_BENCH_JOSE
	case P_JOSE:
		return b->jjwk != NULL ? op_jose : NULL;
#endif
	default:
		return NULL;
	}
}

/* A column is measured when it accepts the token and rejects a copy with
 * a changed signature. */
static void
check_column(struct peer_bench *b, int col, const char *bad)
{
	void *arg;
	bench_fn fn = column_fn(col, &arg, b);
	int good, forged;

	if (fn == NULL) {
		if (b->why[col] == NULL)
			b->why[col] = "not built";
		return;
	}
	if (col == P_RAW)
		return;
	good = fn(arg) == 0;
	b->token = bad;
	if (col == P_LIBJWT) {
		char *jbad = tamper(b->jwt_token);
		b->jwt_cur = jbad;
		forged = jbad == NULL || fn(arg) == 0;
		b->jwt_cur = b->jwt_token;
		free(jbad);
	} else {
		forged = fn(arg) == 0;
	}
	b->token = b->c.token;
	if (!good)
		b->why[col] = "rejects the valid token";
	else if (forged)
		b->why[col] = "ACCEPTS A CHANGED SIGNATURE";
}

static int
setup(struct peer_bench *b, cg_alg alg, int64_t now)
{
	char *bad;
	int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < P_N; i++)
		b->rate[i] = -1;
	if (bench_case_init(&b->c, alg, now) != 0 ||
	    bench_raw_init(&b->raw, &b->c) != 0 || bench_raw_best(&b->raw) != 0)
		return -1;
	b->token = b->c.token;
	b->token_len = b->c.token_len;
#ifdef CG_BENCH_CJOSE
	b->cjwk = cjose_jwk_import(b->c.jwk, strlen(b->c.jwk), NULL);
	if (b->cjwk == NULL)
		b->why[P_CJOSE] = "JWK not imported";
#endif
#ifdef CG_BENCH_JOSE
	if ((b->jcfg = jose_cfg()) == NULL)
		return -1;
	jose_cfg_set_err_func(b->jcfg, jose_quiet, NULL);
	b->jjwk = json_loads(b->c.jwk, 0, NULL);
	if (b->jjwk == NULL)
		b->why[P_JOSE] = "JWK not loaded";
#endif
	if (make_jwt_token(b) != 0)
		return -1;
	if (b->c.desc->family == CG_FAMILY_HMAC) {
		b->jwt_key = b->c.secret;
		b->jwt_key_len = (int)b->c.secret_len;
	} else {
		b->jwt_key = (const unsigned char *)b->c.pub_pem;
		b->jwt_key_len = (int)strlen(b->c.pub_pem);
	}
	if ((bad = tamper(b->c.token)) == NULL)
		return -1;
	for (i = 0; i < P_N; i++)
		check_column(b, i, bad);
	free(bad);
	if (b->why[P_CG_PV] != NULL) {
		fprintf(stderr, "%s: claimgate %s\n", b->c.name,
		    b->why[P_CG_PV]);
		return -1;
	}
	return 0;
}

static void
teardown(struct peer_bench *b)
{
#ifdef CG_BENCH_CJOSE
	cjose_jwk_release(b->cjwk);
#endif
#ifdef CG_BENCH_JOSE
	json_decref(b->jjwk);
	jose_cfg_decref(b->jcfg);
#endif
	free(b->jwt_token);
	bench_raw_free(&b->raw);
	bench_case_free(&b->c);
}

/* ---- main ----------------------------------------------------------- */

static void
print_row(const struct peer_bench *b)
{
	char s[P_N][32];
	int i;

	printf("| %-5s |", b->c.name);
	for (i = 0; i < P_N; i++)
		printf(" %13s |", b->why[i] != NULL ? "n/a"
		    : bench_fmt_ops(b->rate[i], s[i], sizeof(s[i])));
	printf("\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct peer_bench *v;
	struct bench_opts o;
	const cg_alg *algs;
	size_t n = 0, i;
	int64_t now = (int64_t)time(NULL);
	int rc = 1, k;

	switch (bench_opts_parse(argc, argv, "bench_peers", &o)) {
	case 0:
		break;
	case 1:
		return 0;
	default:
		return 2;
	}
	algs = bench_algs(&o);
	while (algs[n] != CG_ALG_UNKNOWN)
		n++;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if (setup(&v[i], algs[i], now) != 0)
			goto out;
	printf("claimgate %s bench_peers: %s; jansson %s", cg_version(),
	    OpenSSL_version(OPENSSL_VERSION), JANSSON_VERSION);
#ifdef CG_BENCH_CJOSE
	printf("; cjose %s", cjose_version());
#endif
#ifdef CG_BENCH_LIBJWT
	printf("; libjwt (pkg-config %s)", CG_BENCH_LIBJWT_VERSION);
#endif
#ifdef CG_BENCH_JOSE
	printf("; jose (pkg-config %s)", CG_BENCH_JOSE_VERSION);
#endif
	printf("\n%.3g s per run after %.3g s warm-up, median of %d runs, "
	       "%s;\nthe same token and key per row\n\n",
	    o.seconds, o.warmup, o.runs,
	    o.cpu_time ? "thread CPU time (--cpu-time)" : "wall clock");
	printf("Verifications/s (single thread; the cells of a row measured "
	       "in interleaved rounds):\nparse + signature check of one compact "
	       "token.\n\n| alg   |");
	for (k = 0; k < P_N; k++)
		printf(" %13s |", col_names[k]);
	printf("\n|-------|");
	for (k = 0; k < P_N; k++)
		printf("--------------:|");
	printf("\n");
	for (i = 0; i < n; i++) {
		bench_fn fns[P_N];
		void *args[P_N];
		for (k = 0; k < P_N; k++) {
			fns[k] = column_fn(k, &args[k], &v[i]);
			if (v[i].why[k] != NULL)
				fns[k] = NULL;
		}
		/* Interleaved rounds: the columns share the load. */
		bench_rates(fns, args, P_N, &o, v[i].rate, NULL);
		print_row(&v[i]);
	}
	printf("\nRelative to (a), the raw OpenSSL primitive:\n\n| alg   |");
	for (k = 1; k < P_N; k++)
		printf(" %13s |", col_names[k]);
	printf("\n|-------|");
	for (k = 1; k < P_N; k++)
		printf("--------------:|");
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("| %-5s |", v[i].c.name);
		for (k = 1; k < P_N; k++) {
			if (v[i].rate[k] > 0 && v[i].rate[P_RAW] > 0)
				printf(" %12.1f%% |",
				    100 * v[i].rate[k] / v[i].rate[P_RAW]);
			else
				printf(" %13s |", "n/a");
		}
		printf("\n");
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < P_N; k++)
			if (v[i].why[k] != NULL &&
			    strcmp(v[i].why[k], "not built") != 0)
				printf("%s %s: n/a: %s\n", v[i].c.name,
				    col_names[k], v[i].why[k]);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		teardown(&v[i]);
	free(v);
	return rc;
}
