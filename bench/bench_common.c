/*
 * bench_common.c - timing, options, keys and tokens, and the raw OpenSSL
 * loops shared by bench_verify and bench_peers. See bench_common.h.
 */
/* The raw HMAC loop uses OpenSSL's plain SHA-2 states, deprecated since
 * 3.0: the fastest way OpenSSL offers (see bench_raw_best). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "bench_common.h"
#include "key.h"

#define MAX_RUNS 31

/* Set once by bench_opts_parse(), before any thread starts. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

/* ---- options ------------------------------------------------------ */

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
	    "usage: %s [--seconds S] [--warmup S] [--runs N] [--threads N]\n"
	    "       %*s [--all] [--alg NAME] [--cpu-time]\n"
	    "  --seconds S  measuring time per run (default 1, fractions ok)\n"
	    "  --warmup S   warm-up per cell (default min(0.2, S/5))\n"
	    "  --runs N     runs per cell, the median is printed (default 3)\n"
	    "  --threads N  full decisions on N threads instead of the\n"
	    "               single-thread tables\n"
	    "  --all        also RS384, PS512, ES384, ES512, HS512\n"
	    "  --alg NAME   only this algorithm\n"
	    "  --cpu-time   time single-thread cells with the thread's CPU\n"
	    "               clock instead of CLOCK_MONOTONIC (a busy machine)\n",
	    prog, (int)strlen(prog), "");
}

static int
parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double d;

	if (s == NULL || *s == '\0')
		return -1;
	d = strtod(s, &end);
	if (*end != '\0' || !(d >= min && d <= max))
		return -1;
	*out = d;
	return 0;
}

int
bench_opts_parse(int argc, char **argv, const char *prog,
    struct bench_opts *o)
{
	double d;
	int i;

	o->seconds = 1.0;
	o->warmup = -1.0;
	o->runs = 3;
	o->threads = 0;
	o->all = 0;
	o->only = CG_ALG_UNKNOWN;
	o->cpu_time = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, prog);
			return 1;
		} else if (strcmp(a, "--all") == 0) {
			o->all = 1;
			continue;
		} else if (strcmp(a, "--cpu-time") == 0) {
			o->cpu_time = 1;
			continue;
		} else if (strcmp(a, "--seconds") == 0) {
			if (parse_double(v, 0.001, 3600, &o->seconds) != 0)
				goto bad;
		} else if (strcmp(a, "--warmup") == 0) {
			if (parse_double(v, 0, 3600, &o->warmup) != 0)
				goto bad;
		} else if (strcmp(a, "--runs") == 0) {
			if (parse_double(v, 1, MAX_RUNS, &d) != 0 ||
			    d != floor(d))
				goto bad;
			o->runs = (int)d;
		} else if (strcmp(a, "--threads") == 0) {
			if (parse_double(v, 1, 1024, &d) != 0 || d != floor(d))
				goto bad;
			o->threads = (int)d;
		} else if (strcmp(a, "--alg") == 0) {
			if (v == NULL || (o->only = cg_alg_from_name(v,
				strlen(v))) == CG_ALG_UNKNOWN)
				goto bad;
		} else {
			goto bad;
		}
		i++;
	}
	if (o->warmup < 0)
		o->warmup = o->seconds / 5 < 0.2 ? o->seconds / 5 : 0.2;
	if (o->cpu_time && o->threads > 0) {
		/* Aggregate throughput needs the wall clock. */
		fprintf(stderr, "%s: --cpu-time and --threads exclude each "
		    "other\n", prog);
		return -1;
	}
	bench_clock = o->cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
	return 0;
bad:
	fprintf(stderr, "%s: bad option or value: %s\n", prog, argv[i]);
	usage(stderr, prog);
	return -1;
}

const cg_alg *
bench_algs(const struct bench_opts *o)
{
	static const cg_alg def[] = {CG_ALG_RS256, CG_ALG_PS256, CG_ALG_ES256,
	    CG_ALG_EDDSA, CG_ALG_HS256, CG_ALG_UNKNOWN};
	static const cg_alg all[] = {CG_ALG_RS256, CG_ALG_RS384,
	    CG_ALG_PS256, CG_ALG_PS512, CG_ALG_ES256, CG_ALG_ES384,
	    CG_ALG_ES512, CG_ALG_EDDSA, CG_ALG_HS256, CG_ALG_HS512,
	    CG_ALG_UNKNOWN};
	static cg_alg one[2];

	if (o->only != CG_ALG_UNKNOWN) {
		one[0] = o->only;
		one[1] = CG_ALG_UNKNOWN;
		return one;
	}
	return o->all ? all : def;
}

/* ---- timing ------------------------------------------------------- */

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(bench_clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * The clock is read once per batch, so its cost (tens of nanoseconds)
 * stays out of the fastest loops: the batch doubles until it lasts 2 ms.
 */
unsigned long
bench_calibrate(bench_fn fn, void *arg, double seconds)
{
	unsigned long n = 1, i;
	double end = bench_now() + seconds, t0;

	do {
		t0 = bench_now();
		for (i = 0; i < n; i++)
			if (fn(arg) != 0)
				return 0;
		if (bench_now() - t0 < 0.002 && n < (1ul << 24))
			n *= 2;
	} while (bench_now() < end);
	return n;
}

double
bench_run_once(bench_fn fn, void *arg, double seconds, unsigned long batch)
{
	double t0 = bench_now(), t;
	unsigned long i;
	double count = 0;

	do {
		for (i = 0; i < batch; i++)
			if (fn(arg) != 0)
				return -1;
		count += (double)batch;
		t = bench_now();
	} while (t - t0 < seconds);
	return count / (t - t0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *r, int n)
{
	qsort(r, (size_t)n, sizeof(r[0]), cmp_double);
	return n % 2 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
}

double
bench_rate(bench_fn fn, void *arg, const struct bench_opts *o)
{
	double r[MAX_RUNS];
	unsigned long batch;
	int i, n = o->runs;

	if ((batch = bench_calibrate(fn, arg, o->warmup)) == 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((r[i] = bench_run_once(fn, arg, o->seconds, batch)) < 0)
			return -1;
	return median(r, n);
}

void
bench_rates(const bench_fn *fns, void *const *args, size_t n,
    const struct bench_opts *o, double *out, double *paired)
{
	double r[BENCH_MAX_CELLS][MAX_RUNS];
	unsigned long batch[BENCH_MAX_CELLS];
	size_t i;
	int k;

	for (i = 0; i < n && i < BENCH_MAX_CELLS; i++) {
		out[i] = -1;
		batch[i] = fns[i] == NULL ? 0
					  : bench_calibrate(fns[i], args[i],
						o->warmup);
	}
	for (k = 0; k < o->runs; k++)
		for (i = 0; i < n && i < BENCH_MAX_CELLS; i++)
			r[i][k] = batch[i] == 0 ? -1
						: bench_run_once(fns[i], args[i],
						      o->seconds, batch[i]);
	/* Before the medians below, which sort each cell's runs. */
	for (i = 0; paired != NULL && i < n && i < BENCH_MAX_CELLS; i++) {
		double q[MAX_RUNS];
		paired[i] = -1;
		for (k = 0; k < o->runs && r[i][k] > 0 && r[0][k] > 0; k++)
			q[k] = r[i][k] / r[0][k];
		if (batch[i] != 0 && k == o->runs)
			paired[i] = median(q, o->runs);
	}
	for (i = 0; i < n && i < BENCH_MAX_CELLS; i++) {
		for (k = 0; k < o->runs && r[i][k] >= 0; k++)
			;
		if (batch[i] != 0 && k == o->runs)
			out[i] = median(r[i], o->runs);
	}
}

const char *
bench_fmt_ops(double ops, char *buf, size_t bufsz)
{
	char digits[32];
	size_t n, i, o = 0;
	int len;

	if (ops < 0 || bufsz < 2) {
		snprintf(buf, bufsz, "-");
		return buf;
	}
	len = snprintf(digits, sizeof(digits), "%.0f", ops);
	if (len <= 0 || (size_t)len >= sizeof(digits)) {
		snprintf(buf, bufsz, "?");
		return buf;
	}
	n = (size_t)len;
	for (i = 0; i < n && o + 2 < bufsz; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/* ---- keys and tokens ---------------------------------------------- */

/* The HMAC secret is the `k` member of the signer's oct JWK. */
static int
secret_from_jwk(struct bench_case *c)
{
	struct cg_json *j = NULL;
	const char *k;
	size_t klen, bad;
	char why[80];
	int rc = -1;

	if (cg__json_parse_object(c->jwk, strlen(c->jwk), CG_LIMIT_JSON_DEPTH,
		&j, &bad, why, sizeof(why)) != CG_OK ||
	    cg_json_string(cg_json_object_get(j, "k"), &k, &klen) != CG_OK ||
	    cg__b64url_decoded_len(klen) > sizeof(c->secret) ||
	    cg__b64url_decode(k, klen, c->secret, &c->secret_len, &bad) !=
		CG_OK)
		goto out;
	rc = 0;
out:
	cg__json_free(j);
	return rc;
}

/* The public key, as PEM (for peers that want PEM) and as a public-only
 * EVP_PKEY (for the raw loops), from the signer's private PEM. */
static int
public_key(struct bench_case *c)
{
	char *priv = cg__signer_private_pem(c->signer);
	EVP_PKEY *pk = NULL;
	BIO *in = NULL, *out = NULL;
	char *mem;
	long n;
	int rc = -1;

	if (priv == NULL ||
	    (in = BIO_new_mem_buf(priv, (int)strlen(priv))) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)) == NULL ||
	    (out = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(out, pk) != 1)
		goto out;
	n = BIO_get_mem_data(out, &mem);
	if (n <= 0 || (c->pub_pem = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(c->pub_pem, mem, (size_t)n);
	c->pub_pem[n] = '\0';
	BIO_free(in);
	if ((in = BIO_new_mem_buf(c->pub_pem, (int)n)) == NULL ||
	    (c->pkey = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL)) == NULL)
		goto out;
	rc = 0;
out:
	BIO_free(in);
	BIO_free(out);
	EVP_PKEY_free(pk);
	if (priv != NULL)
		cg__free_secret(priv, strlen(priv));
	return rc;
}

int
bench_case_init(struct bench_case *c, cg_alg alg, int64_t now)
{
	struct cg_error err;
	size_t i, jl, bad;
	const char *dot;
	int n;

	memset(c, 0, sizeof(*c));
	c->alg = alg;
	c->now = now;
	c->desc = cg__alg_desc(alg);
	c->name = cg_alg_name(alg);
	if (c->desc == NULL)
		return -1;
	n = snprintf(c->kid, sizeof(c->kid), "k1-%s", c->name);
	for (i = 0; i < (size_t)n; i++)
		if (c->kid[i] >= 'A' && c->kid[i] <= 'Z')
			c->kid[i] = (char)(c->kid[i] - 'A' + 'a');
	if (cg__signer_generate(alg, &c->signer) != CG_OK ||
	    (c->jwk = cg__signer_jwk(c->signer, c->kid, c->name)) == NULL) {
		fprintf(stderr, "%s: key generation failed\n", c->name);
		return -1;
	}
	jl = strlen(c->jwk);
	if ((c->jwks = malloc(jl + 16)) == NULL)
		return -1;
	snprintf(c->jwks, jl + 16, "{\"keys\":[%s]}", c->jwk);

	/* An RFC 9068 access token: typ at+jwt, kid, ten claims. */
	c->header_len = (size_t)snprintf(c->header, sizeof(c->header),
	    "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", c->name,
	    c->kid);
	c->claims_len = (size_t)snprintf(c->claims, sizeof(c->claims),
	    "{\"iss\":\"https://sso.example.com\","
	    "\"sub\":\"248289761001\","
	    "\"aud\":[\"https://api.example.com/payments\","
	    "\"https://api.example.com/orders\"],"
	    "\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld,"
	    "\"jti\":\"8d3b2c2e-4f1a-4b7e-9a6c-5e2f1d0c3b4a\","
	    "\"scope\":\"openid profile email payments:read payments:write "
	    "orders:read\","
	    "\"tid\":\"acme-eu-1\",\"client_id\":\"web-checkout-7d2c\"}",
	    (long long)(now + 840), (long long)(now - 60),
	    (long long)(now - 60));
	c->token = cg__signer_sign(c->signer, alg, c->header, c->header_len,
	    c->claims, c->claims_len);
	if (c->token == NULL) {
		fprintf(stderr, "%s: signing failed\n", c->name);
		return -1;
	}
	c->token_len = strlen(c->token);
	dot = strrchr(c->token, '.');
	c->signing_len = (size_t)(dot - c->token);
	jl = c->token_len - c->signing_len - 1;
	if (cg__b64url_decoded_len(jl) > sizeof(c->sig) ||
	    cg__b64url_decode(dot + 1, jl, c->sig, &c->sig_len, &bad) != CG_OK)
		return -1;
	if (c->desc->family == CG_FAMILY_EC &&
	    (c->der_len = cg__ecdsa_raw_to_der(alg, c->sig, c->sig_len, c->der,
		 sizeof(c->der))) == 0)
		return -1;
	if (c->desc->family == CG_FAMILY_HMAC ? secret_from_jwk(c) != 0
					      : public_key(c) != 0) {
		fprintf(stderr, "%s: key export failed\n", c->name);
		return -1;
	}
	if (cg_keyset_load_jwks(c->jwks, strlen(c->jwks), &c->ks, &err) !=
		CG_OK ||
	    cg_keyset_count(c->ks) != 1) {
		fprintf(stderr, "%s: JWKS not loaded\n", c->name);
		return -1;
	}
	return 0;
}

void
bench_case_free(struct bench_case *c)
{
	cg_keyset_free(c->ks);
	EVP_PKEY_free(c->pkey);
	free(c->pub_pem);
	free(c->token);
	free(c->jwks);
	if (c->jwk != NULL)
		cg__free_secret(c->jwk, strlen(c->jwk));
	cg__signer_free(c->signer);
	OPENSSL_cleanse(c->secret, sizeof(c->secret));
	memset(c, 0, sizeof(*c));
}

char *
bench_tampered(const struct bench_case *c)
{
	size_t pos = c->signing_len + 1 + (c->token_len - c->signing_len) / 2;
	char *t = malloc(c->token_len + 1);

	if (t == NULL)
		return NULL;
	memcpy(t, c->token, c->token_len + 1);
	t[pos] = t[pos] == 'A' ? 'B' : 'A';
	return t;
}

/* ---- the raw primitive -------------------------------------------- */

/* The padding claimgate uses (RFC 7518 sections 3.3 and 3.5). */
static int
set_padding(EVP_PKEY_CTX *pctx, const struct cg_alg_desc *d)
{
	if (d->family == CG_FAMILY_RSA)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) ==
		    1 ? 0 : -1;
	if (d->family == CG_FAMILY_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(pctx,
			   RSA_PKCS1_PSS_PADDING) == 1 &&
			EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, d->md, NULL) ==
			    1 &&
			EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
			    (int)d->hash_len) == 1
		    ? 0
		    : -1;
	return 0;
}

static int
mac_init(EVP_MAC_CTX *ctx, const struct bench_case *c)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)c->desc->md, 0);
	params[1] = OSSL_PARAM_construct_end();
	return EVP_MAC_init(ctx, c->secret, c->secret_len, params) == 1 ? 0
									 : -1;
}

/* The digest state after (key XOR pad). Keys longer than the block,
 * which RFC 2104 hashes first, are refused: the bench's keys are
 * shorter. */
static EVP_MD_CTX *
pad_state(const struct bench_case *c, unsigned char pad)
{
	unsigned char buf[128];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md = EVP_get_digestbyname(c->desc->md);
	size_t i, block = md != NULL ? (size_t)EVP_MD_get_block_size(md) : 0;

	if (ctx == NULL || block == 0 || block > sizeof(buf) ||
	    c->secret_len > block) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	memset(buf, pad, block);
	for (i = 0; i < c->secret_len; i++)
		buf[i] ^= c->secret[i];
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, buf, block) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The same pad states as plain SHA-2 structs, for the best raw loop. */
static int
plain_pads(struct bench_raw *r, const struct bench_case *c)
{
	unsigned char in[128], out[128];
	size_t i, block = c->desc->hash_len == 32 ? 64 : 128;

	if (c->secret_len > block)
		return -1;
	memset(in, 0x36, block);
	memset(out, 0x5c, block);
	for (i = 0; i < c->secret_len; i++) {
		in[i] ^= c->secret[i];
		out[i] ^= c->secret[i];
	}
	r->plain_bits = (int)c->desc->hash_len * 8;
	if (r->plain_bits == 256) {
		SHA256_Init(&r->p256[0]);
		SHA256_Update(&r->p256[0], in, block);
		SHA256_Init(&r->p256[1]);
		SHA256_Update(&r->p256[1], out, block);
	} else {
		int (*init)(SHA512_CTX *) =
		    r->plain_bits == 384 ? SHA384_Init : SHA512_Init;
		init(&r->p512[0]);
		SHA512_Update(&r->p512[0], in, block);
		init(&r->p512[1]);
		SHA512_Update(&r->p512[1], out, block);
	}
	return 0;
}

/* HMAC from the plain pad states: struct copies, no allocation. */
static int
hmac_plain(const struct bench_raw *r)
{
	const struct bench_case *c = r->c;
	unsigned char in[64], tag[64];
	size_t n = c->desc->hash_len;

	if (r->plain_bits == 256) {
		SHA256_CTX s = r->p256[0];
		SHA256_Update(&s, c->token, c->signing_len);
		SHA256_Final(in, &s);
		s = r->p256[1];
		SHA256_Update(&s, in, n);
		SHA256_Final(tag, &s);
	} else {
		int (*fin)(unsigned char *, SHA512_CTX *) =
		    r->plain_bits == 384 ? SHA384_Final : SHA512_Final;
		SHA512_CTX s = r->p512[0];
		SHA512_Update(&s, c->token, c->signing_len);
		fin(in, &s);
		s = r->p512[1];
		SHA512_Update(&s, in, n);
		fin(tag, &s);
	}
	return n == c->sig_len && CRYPTO_memcmp(tag, c->sig, n) == 0 ? 0 : -1;
}

/* HMAC from the prepared EVP pad states, in `w`. */
static int
hmac_check(EVP_MD_CTX *w, const struct bench_raw *r)
{
	const struct bench_case *c = r->c;
	unsigned char in[EVP_MAX_MD_SIZE], tag[EVP_MAX_MD_SIZE];
	unsigned int il = 0, tl = 0;

	return EVP_MD_CTX_copy_ex(w, r->hin) == 1 &&
	               EVP_DigestUpdate(w, c->token, c->signing_len) == 1 &&
	               EVP_DigestFinal_ex(w, in, &il) == 1 &&
	               EVP_MD_CTX_copy_ex(w, r->hout) == 1 &&
	               EVP_DigestUpdate(w, in, il) == 1 &&
	               EVP_DigestFinal_ex(w, tag, &tl) == 1 &&
	               tl == c->sig_len && CRYPTO_memcmp(tag, c->sig, tl) == 0
	           ? 0
	           : -1;
}

int
bench_raw_init(struct bench_raw *r, const struct bench_case *c)
{
	EVP_PKEY_CTX *pctx = NULL;

	memset(r, 0, sizeof(*r));
	r->c = c;
	switch (c->desc->family) {
	case CG_FAMILY_HMAC:
		if ((r->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
		    (r->work = EVP_MD_CTX_new()) == NULL ||
		    (r->hin = pad_state(c, 0x36)) == NULL ||
		    (r->hout = pad_state(c, 0x5c)) == NULL ||
		    plain_pads(r, c) != 0)
			return -1;
		return 0;
	case CG_FAMILY_ED:
		return (r->work = EVP_MD_CTX_new()) == NULL ? -1 : 0;
	default:
		if ((r->tmpl = EVP_MD_CTX_new()) == NULL ||
		    (r->work = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestVerifyInit_ex(r->tmpl, &pctx, c->desc->md, NULL,
			NULL, c->pkey, NULL) != 1 ||
		    set_padding(pctx, c->desc) != 0)
			return -1;
		return 0;
	}
}

void
bench_raw_free(struct bench_raw *r)
{
	EVP_MD_CTX_free(r->tmpl);
	EVP_MD_CTX_free(r->work);
	EVP_MD_CTX_free(r->hin);
	EVP_MD_CTX_free(r->hout);
	EVP_MAC_free(r->mac);
	memset(r, 0, sizeof(*r));
}

static const unsigned char *
raw_sig(const struct bench_case *c, size_t *len)
{
	if (c->desc->family == CG_FAMILY_EC) {
		*len = c->der_len;
		return c->der;
	}
	*len = c->sig_len;
	return c->sig;
}

static int
mac_finish(EVP_MAC_CTX *ctx, const struct bench_case *c)
{
	unsigned char tag[EVP_MAX_MD_SIZE];
	size_t taglen = 0;
	int ok;

	ok = EVP_MAC_update(ctx, (const unsigned char *)c->token,
		 c->signing_len) == 1 &&
	    EVP_MAC_final(ctx, tag, &taglen, sizeof(tag)) == 1 &&
	    taglen == c->sig_len && CRYPTO_memcmp(tag, c->sig, taglen) == 0;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
bench_raw_best(void *arg)
{
	struct bench_raw *r = arg;
	const struct bench_case *c = r->c;
	const unsigned char *sig;
	size_t siglen;

	switch (c->desc->family) {
	case CG_FAMILY_HMAC: return hmac_plain(r);
	case CG_FAMILY_ED:
		return EVP_DigestVerifyInit_ex(r->work, NULL, NULL, NULL, NULL,
			   c->pkey, NULL) == 1 &&
			EVP_DigestVerify(r->work, c->sig, c->sig_len,
			    (const unsigned char *)c->token,
			    c->signing_len) == 1
		    ? 0
		    : -1;
	default:
		sig = raw_sig(c, &siglen);
		if (EVP_MD_CTX_copy_ex(r->work, r->tmpl) != 1)
			return -1;
		/* finished once: no second duplication in the final step */
		EVP_MD_CTX_set_flags(r->work, EVP_MD_CTX_FLAG_FINALISE);
		return EVP_DigestVerifyUpdate(
		           r->work, c->token, c->signing_len) == 1 &&
		               EVP_DigestVerifyFinal(r->work, sig, siglen) == 1
		           ? 0
		           : -1;
	}
}

int
bench_raw_has_newcopy(const struct bench_case *c)
{
	return c->desc->family != CG_FAMILY_ED;
}

int
bench_raw_newcopy(void *arg)
{
	struct bench_raw *r = arg;
	const struct bench_case *c = r->c;
	const unsigned char *sig;
	size_t siglen;
	EVP_MD_CTX *ctx;
	int ok;

	sig = raw_sig(c, &siglen);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (c->desc->family == CG_FAMILY_HMAC) {
		ok = hmac_check(ctx, r) == 0;
		EVP_MD_CTX_free(ctx);
		return ok ? 0 : -1;
	}
	ok = EVP_MD_CTX_copy_ex(ctx, r->tmpl) == 1;
	if (ok)
		EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
	ok = ok && EVP_DigestVerifyUpdate(ctx, c->token, c->signing_len) == 1 &&
	     EVP_DigestVerifyFinal(ctx, sig, siglen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

int
bench_raw_naive(void *arg)
{
	struct bench_raw *r = arg;
	const struct bench_case *c = r->c;
	EVP_PKEY_CTX *pctx = NULL;
	const unsigned char *sig;
	EVP_MAC_CTX *m;
	EVP_MD_CTX *ctx;
	size_t siglen;
	int ok;

	if (c->desc->family == CG_FAMILY_HMAC) {
		if ((m = EVP_MAC_CTX_new(r->mac)) == NULL)
			return -1;
		if (mac_init(m, c) != 0) {
			EVP_MAC_CTX_free(m);
			return -1;
		}
		return mac_finish(m, c);
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (c->desc->family == CG_FAMILY_ED) {
		ok = EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL,
			 c->pkey, NULL) == 1 &&
		    EVP_DigestVerify(ctx, c->sig, c->sig_len,
			(const unsigned char *)c->token, c->signing_len) == 1;
	} else {
		sig = raw_sig(c, &siglen);
		ok = EVP_DigestVerifyInit_ex(ctx, &pctx, c->desc->md, NULL,
			 NULL, c->pkey, NULL) == 1 &&
		    set_padding(pctx, c->desc) == 0 &&
		    EVP_DigestVerifyUpdate(ctx, c->token, c->signing_len) ==
			1 &&
		    EVP_DigestVerifyFinal(ctx, sig, siglen) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}
