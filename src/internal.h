/*
 * internal.h - declarations shared between libclaimgate's source files.
 * Nothing here is public: names are cg__*, types may change at any time.
 */
#ifndef CG_INTERNAL_H
#define CG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claimgate.h"
#include "cg_limits.h"

#if defined(__GNUC__)
#define CG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CG_COLD __attribute__((cold))
#else
#define CG_PRINTF(a, b)
#define CG_COLD
#endif

/* ---- errors (error.c) ---- */

/* Sets err (if not NULL) and returns `code`. `fmt` must never format token,
 * claim or key bytes; use cg__escape() for configuration strings. */
cg_code cg__err(struct cg_error *err, cg_code code, size_t offset,
    const char *fmt, ...) CG_PRINTF(4, 5) CG_COLD;

/* Prefixes err->msg with "prefix: " (e.g. a file name), keeping the code. */
void cg__err_prefix(struct cg_error *err, const char *fmt, ...) CG_PRINTF(2, 3);

/* Copies at most `max` bytes of `s` into `out` (size `outsz`) as printable
 * ASCII: other bytes become \xNN, and a cut string ends in "...". */
void cg__escape(char *out, size_t outsz, const char *s, size_t len, size_t max);

/* ---- allocation (alloc.c) ---- */

void *cg__malloc(size_t n);
void *cg__calloc(size_t n, size_t size); /* checks n * size for overflow */
void *cg__realloc(void *p, size_t n);
char *cg__strdup(const char *s);
char *cg__strndup(const char *s, size_t n);
/* Wipes `n` bytes at `p` and frees `p`. */
void cg__free_secret(void *p, size_t n);

/* Zeroes `n` bytes at `p` (secrets that live on the stack). The empty asm
 * takes `p` and clobbers memory, so the compiler must assume the zeroes are
 * read and cannot drop the stores, the same barrier as glibc's
 * explicit_bzero. Inline, a wipe of a known size is a few vector stores;
 * OPENSSL_cleanse is a call and a byte loop (about 275 instructions for the
 * 240 bytes an HMAC check wipes). */
static inline void
cg__wipe(void *p, size_t n)
{
#if defined(__GNUC__)
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
#else
	volatile unsigned char *v = p;
	while (n-- > 0)
		*v++ = 0;
#endif
}

/* A block of at least `need` bytes (*got says how many), the calling
 * thread's spare one when it fits (alloc.c); NULL when out of memory.
 * Counts as an allocation for cg__alloc_fail_after. */
void *cg__block_take(size_t need, size_t *got);
/* Frees a block from cg__block_take, of *got bytes, or keeps it as the
 * calling thread's spare. Any thread may give back any block. */
void cg__block_give(void *p, size_t size);

/* Test hook: the Nth allocation from now fails (0 disables). Not
 * thread-safe; tests only. */
void cg__alloc_fail_after(unsigned long n);

/* ---- base64url (b64url.c), RFC 7515 section 2 and appendix C ---- */

/* Decoded size for an encoded length (an upper bound valid for any
 * input); SIZE_MAX if `len` mod 4 is 1. */
size_t cg__b64url_decoded_len(size_t len);

/* Strict decode of `len` bytes at `in` into `out` (room for
 * cg__b64url_decoded_len(len) bytes). On error, *bad is the offset of the
 * first offending byte. Returns CG_OK or CG_ERR_BASE64. */
cg_code cg__b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen, size_t *bad);
/* The leading whole 32-character groups of in[0..len) that are all in the
 * alphabet, decoded 24 bytes per group into out with AVX2 when the CPU has
 * it (b64url_avx2.c). Returns the characters consumed: a multiple of 32,
 * 0 without AVX2. */
size_t cg__b64url_decode_wide(
    const unsigned char *in, size_t len, unsigned char *out);

/* Encodes without padding; `out` has room for 4 * ceil(len / 3) + 1 bytes.
 * NUL-terminates and returns the encoded length. */
size_t cg__b64url_encode(const unsigned char *in, size_t len, char *out);

/* ---- hashing helpers (sig_openssl.c) ---- */

/* SHA-256 of `len` bytes. Returns 0 on success. */
int cg__sha256(const void *p, size_t len, unsigned char out[32]);
void cg__hex(const unsigned char *p, size_t len, char *out);

/* ---- strict JSON (json.c): the one place that knows the reader ---- */

/* Parses `len` bytes as one JSON object: UTF-8 validated, duplicate
 * member names rejected at every depth, containers nested at most
 * `max_depth` levels, every number read as a double (overflow rejected),
 * U+0000 in strings rejected. On error, *bad_offset is the byte offset
 * (relative to `p`) where the reader stopped, where known.
 * Returns CG_OK, CG_ERR_JSON or CG_ERR_NOMEM; *out is freed with
 * cg__json_free(). */
cg_code cg__json_parse_object(const char *p, size_t len, int max_depth,
    struct cg_json **out, size_t *bad_offset, char *why, size_t whysz);
void cg__json_free(struct cg_json *v);

/* Builders used for decisions and output (cold paths). */
struct cg_json *cg__json_new_object(void);
struct cg_json *cg__json_new_array(void);
struct cg_json *cg__json_new_string(const char *s, size_t len);
struct cg_json *cg__json_incref(const struct cg_json *v);
/* Steal `value`'s reference. Return 0 on success. */
int cg__json_object_set(
    struct cg_json *obj, const char *name, struct cg_json *value);
int cg__json_array_append(struct cg_json *arr, struct cg_json *value);
/* Number of members of an object, 0 otherwise. */
size_t cg__json_object_size(const struct cg_json *v);
/* Calls fn for each member of an object in document order; stops and
 * returns fn's value when it is not 0. */
int cg__json_object_foreach(const struct cg_json *v,
    int (*fn)(void *ctx, const char *name, const struct cg_json *value),
    void *ctx);
/* A string's length in bytes, 0 for anything else. */
size_t cg__json_string_len(const struct cg_json *v);
/* Compact one-line serialisation with members in insertion order. */
char *cg__json_dump_compact(const struct cg_json *v);

/* ---- the fast trusted-claim pattern matcher (pattern.c) ---- */

struct cg_fastpat;

/* A matcher for `pattern` (the policy's text, already accepted by
 * regcomp) when it is within the subset pattern.c handles, else NULL. */
struct cg_fastpat *cg__fastpat_compile(const char *pattern);
void cg__fastpat_free(struct cg_fastpat *f);
/* 1 when the whole value matches, 0 when not, -1 when the value is
 * outside what the matcher takes (ask regexec). */
int cg__fastpat_match(const struct cg_fastpat *f, const char *s, size_t len);

/* ---- compact JSON written into a buffer (jsonw.c) ---- */

/* A growing buffer; zero-initialise. After a failed allocation every
 * write is ignored and cg__buf_finish() returns NULL. */
struct cg_buf {
	char *p;
	size_t len, cap;
	int oom;
};

void cg__buf_put(struct cg_buf *b, const char *s, size_t n);
void cg__buf_puts(struct cg_buf *b, const char *s);
/* s[0..n) as a JSON string, escaped exactly as jansson writes it. */
void cg__buf_json_string(struct cg_buf *b, const char *s, size_t n);
/* The first byte at or after q, before end, that is below 0x20, '"', '\\'
 * or above 0x7f; end when there is none (json_reader.c). Everything
 * before it stands in a JSON string as it is. */
const unsigned char *cg__json_plain_run(
    const unsigned char *q, const unsigned char *end);
/* Bitmaps of p[0..len) for the JSON reader (json_index.c): bit i of
 * quote[] when p[i] is '"', of bad[] when p[i] is '\\', below 0x20 or
 * above 0x7f. Returns 1 when written, 0 when there is no index (no AVX2,
 * len 0, or more than `words` 64-bit words needed). */
int cg__json_index(const unsigned char *p, size_t len, uint64_t *quote,
    uint64_t *bad, size_t words);
/* The text, NUL-terminated (free()), or NULL after a failure; the buffer
 * is empty again either way. */
char *cg__buf_finish(struct cg_buf *b);

/* ---- algorithms (alg.c) ---- */

typedef enum {
	CG_FAMILY_RSA,
	CG_FAMILY_PSS,
	CG_FAMILY_EC,
	CG_FAMILY_ED,
	CG_FAMILY_HMAC
} cg_alg_family;

struct cg_alg_desc {
	cg_alg alg;
	const char *name;
	cg_alg_family family;
	const char *md;     /* OpenSSL digest name, NULL for EdDSA */
	unsigned hash_len;  /* digest bytes; HMAC minimum key length */
	const char *curve;  /* JOSE crv for EC/OKP */
	unsigned coord_len; /* ECDSA coordinate bytes */
};

/* NULL for CG_ALG_UNKNOWN or out of range. */
const struct cg_alg_desc *cg__alg_desc(cg_alg a);

/* ---- keys (jwk.c, sig_openssl.c) ---- */

struct cg_key; /* one usable key, immutable after load */

/* Signature verification over `msg` with one key. Returns CG_OK or
 * CG_ERR_SIGNATURE (CG_ERR_NOMEM / CG_ERR_CRYPTO when OpenSSL fails). */
cg_code cg__key_verify(const struct cg_key *k, cg_alg alg,
    const unsigned char *msg, size_t msglen, const unsigned char *sig,
    size_t siglen);

/* Key accessors used by jws.c and the decision engine. */
const struct cg_key *cg__keyset_key(const struct cg_keyset *ks, size_t i);
const char *cg__key_kid(const struct cg_key *k);
cg_alg_set cg__key_fits(const struct cg_key *k);

/* ---- decisions (decide.c) ---- */

/* The provenance object of an allow, NULL on deny. Borrowed. */
const struct cg_json *cg__decision_provenance(const struct cg_decision *d);

/* One item of a trusted claim's list: a string (s, len) or, when v is
 * set, a value of the token kept as it is. */
struct cg_titem {
	const char *s;
	size_t len;
	const struct cg_json *v;
};

/* The trusted claim `name` of an allowed decision: *v when a value of the
 * token passes through as it is; otherwise *n items, a list when *list
 * (else one string). 0, or -1 when the decision has no such claim. */
int cg__decision_claim(const struct cg_decision *d, const char *name,
    const struct cg_json **v, const struct cg_titem **items, size_t *n,
    int *list);

/* cg_decide_cached(), recording the audit fields when want_audit. */
cg_code cg__decide(const struct cg_policy *pol, const char *zone,
    const char *token, size_t len, int64_t now, struct cg_store *store,
    struct cg_vcache *cache, int want_audit, struct cg_decision **out,
    struct cg_error *err);

/* Audit fields recorded by the engine (token hash; identity once the
 * signature verified). Borrowed. */
const struct cg_json *cg__decision_audit(const struct cg_decision *d);

/* The request side of an audit line. */
struct cg_audit_req {
	uint64_t time_ms; /* wall clock, ms since the epoch */
	const char *method, *host, *path, *client;
	const char *reason; /* used when there is no decision (no_zone) */
	uint64_t latency_us;
};

/* One compact JSON audit line (no newline); `d` may be NULL (no zone).
 * Caller frees with cg_free(). */
char *cg__audit_line(const struct cg_decision *d, const struct cg_audit_req *r);

/* ---- verified-token cache (vcache.c) ---- */

/* The parsed token whose bytes are exactly raw[0..len) (a new reference:
 * cg_token_free() it) and the thumbprint of the key that verified it, or
 * NULL. */
struct cg_token *cg__vcache_get(
    struct cg_vcache *c, const char *raw, size_t len, char jkt[44]);
/* Records a verified token (never a denied one) and the thumbprint of the
 * key that verified it; the cache takes its own reference. */
void cg__vcache_put(
    struct cg_vcache *c, const struct cg_token *t, const char *jkt);

/* String equality for the short names of the decision path (claim,
 * zone, kid, typ): inline, where a call to strcmp costs more than the
 * compare. */
static inline int
cg__streq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* ---- tokens (jws.c) ---- */

/* Raw bytes of the token and of its signing input. */
const char *cg__token_bytes(const struct cg_token *t, size_t *len);
/* The registered claims the engine reads on every decision, looked up
 * once when the token is parsed. */
enum cg_reg {
	CG_REG_ISS,
	CG_REG_SUB,
	CG_REG_AUD,
	CG_REG_EXP,
	CG_REG_NBF,
	CG_REG_IAT,
	CG_REG_JTI,
	CG_REG_ACT,
	CG_REG_N_
};
/* cg_token_claim(t, <the name of r>), without the lookup. */
const struct cg_json *cg__token_reg(const struct cg_token *t, enum cg_reg r);
/* The claim named name[0..len) (cg_token_claim with a known length). */
const struct cg_json *cg__token_claim_n(
    const struct cg_token *t, const char *name, size_t len);
/* The header's typ (any JSON type), or NULL; 1 when it has crit. */
const struct cg_json *cg__token_typ(const struct cg_token *t);
int cg__token_has_crit(const struct cg_token *t);
/* One more holder of t (released with cg_token_free()); thread-safe. */
struct cg_token *cg__token_ref(const struct cg_token *t);
/* Bytes the parsed token occupies (struct, copy, signature, arena). */
size_t cg__token_footprint(const struct cg_token *t);

#endif
