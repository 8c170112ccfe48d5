/*
 * bench_common.h - what bench_verify.c and bench_peers.c share: the timing
 * loop, the options, one key and one realistic access token per
 * algorithm, and the raw OpenSSL primitive loops that set the physical
 * limit every other column is compared with.
 *
 * Benchmarks never gate anything (style.md section 8); they print.
 */
#ifndef CG_BENCH_COMMON_H
#define CG_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "internal.h"
#include "signer.h"

/* One benchmarked operation: returns 0 when it succeeded. */
typedef int (*bench_fn)(void *arg);

struct bench_opts {
	double seconds;	 /* measuring time per run */
	double warmup;	 /* warm-up and calibration before the runs */
	int runs;	 /* runs per cell; the median is reported */
	int threads;	 /* 0: single-thread tables; N: the threads table */
	int all;	 /* also RS384, PS512, ES384, ES512, HS512 */
	cg_alg only;	 /* CG_ALG_UNKNOWN, or just this one */
	int cpu_time;	 /* time with the thread's CPU clock */
};

/* Parses the options common to both programs. Returns 0, 1 after
 * printing the usage for -h, or -1 on a usage error. */
int bench_opts_parse(int argc, char **argv, const char *prog,
    struct bench_opts *o);

/* The algorithms to run, in table order, ending with CG_ALG_UNKNOWN. */
const cg_alg *bench_algs(const struct bench_opts *o);

/* Seconds on CLOCK_MONOTONIC, or on CLOCK_THREAD_CPUTIME_ID after
 * --cpu-time (single-thread tables only). */
double bench_now(void);

/* Median over o->runs runs of fn's rate in operations per second, after a
 * warm-up that also sizes the batches between clock reads. Returns a
 * negative value when fn failed. */
double bench_rate(bench_fn fn, void *arg, const struct bench_opts *o);

/* As bench_rate() for n operations at once (n <= BENCH_MAX_CELLS), in
 * interleaved rounds: each round runs every operation once, so a change
 * in the machine's load touches all of them alike and their ratios stay
 * fair. out[i] is the median over o->runs rounds, or negative when fns[i]
 * failed or is NULL. When `paired` is not NULL, paired[i] is the median
 * over the rounds of (rate of i / rate of operation 0) within each round:
 * a ratio that a drift of the machine's speed between rounds (a VM's
 * neighbours) moves much less than the ratio of the medians. */
#define BENCH_MAX_CELLS 16
void bench_rates(const bench_fn *fns, void *const *args, size_t n,
    const struct bench_opts *o, double *out, double *paired);

/* One run of `seconds`, batches of `batch` calls; ops/s, or -1. */
double bench_run_once(bench_fn fn, void *arg, double seconds,
    unsigned long batch);

/* Warm-up for `seconds`: returns the batch size (calls per clock read),
 * 0 when fn failed. */
unsigned long bench_calibrate(bench_fn fn, void *arg, double seconds);

/* "1,287,000"; "-" for a negative rate. Returns buf. */
const char *bench_fmt_ops(double ops, char *buf, size_t bufsz);

/* One algorithm's key and token, built once. */
struct bench_case {
	cg_alg alg;
	const char *name;		/* "RS256" */
	const struct cg_alg_desc *desc;
	int64_t now;			/* the clock every decision uses */
	struct cg_signer *signer;
	char kid[32];
	char *jwk;			/* public JWK (oct: the secret) */
	char *jwks;			/* {"keys":[jwk]} */
	char header[128];		/* protected header JSON */
	size_t header_len;
	char claims[1024];		/* claims set JSON */
	size_t claims_len;
	char *token;			/* compact JWS, NUL-terminated */
	size_t token_len;
	size_t signing_len;		/* bytes of header '.' payload */
	unsigned char sig[1024];	/* decoded signature (ECDSA: r||s) */
	size_t sig_len;
	unsigned char der[160];		/* ECDSA signature as DER */
	size_t der_len;
	EVP_PKEY *pkey;			/* public key; NULL for HMAC */
	char *pub_pem;			/* SubjectPublicKeyInfo PEM */
	unsigned char secret[64];	/* HMAC key */
	size_t secret_len;
	struct cg_keyset *ks;		/* the JWKS loaded by claimgate */
};

/* Generates a key (cg__signer_generate) and signs the token. Prints why
 * and returns -1 on failure; bench_case_free() is safe either way. */
int bench_case_init(struct bench_case *c, cg_alg alg, int64_t now);
void bench_case_free(struct bench_case *c);

/* A copy of the token with one signature character changed, for the
 * check that a path really verifies. Caller frees with free(). */
char *bench_tampered(const struct bench_case *c);

/*
 * The raw OpenSSL primitive on the case's key and signing input.
 *   best:     RSA/PSS/ECDSA: a context initialised once (DigestVerifyInit)
 *             copied with EVP_MD_CTX_copy_ex into a context allocated once,
 *             marked EVP_MD_CTX_FLAG_FINALISE (so Final does not copy
 *             the provider context again), then Update + Final; HMAC
 *             (RFC 2104): the digest states after the key's inner and
 *             outer pad blocks, prepared once, copied into a context
 *             allocated once; Ed25519: DigestVerifyInit +
 *             DigestVerify on a context allocated once (the only way in
 *             OpenSSL 3.0).
 *   newcopy:  as best, but EVP_MD_CTX_new + copy + free per call (what
 *             claimgate's sig_openssl.c does); every family but Ed25519.
 *   naive:    EVP_MD_CTX_new + EVP_DigestVerifyInit_ex (by digest name)
 *             per call; HMAC: EVP_MAC_CTX_new + EVP_MAC_init per call.
 * ECDSA verifies the DER form of the signature (converted once).
 */
struct bench_raw {
	const struct bench_case *c;
	EVP_MD_CTX *tmpl;
	EVP_MD_CTX *work;
	EVP_MAC *mac;
	EVP_MD_CTX *hin, *hout; /* HMAC pad states */
	/* The same as plain SHA-2 states ([0] inner, [1] outer). */
	int plain_bits;
	SHA256_CTX p256[2];
	SHA512_CTX p512[2];
};

int bench_raw_init(struct bench_raw *r, const struct bench_case *c);
void bench_raw_free(struct bench_raw *r);
int bench_raw_best(void *arg);
int bench_raw_newcopy(void *arg);
int bench_raw_naive(void *arg);
/* 1 when bench_raw_newcopy applies to the case's algorithm. */
int bench_raw_has_newcopy(const struct bench_case *c);

#endif
