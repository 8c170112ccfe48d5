/*
 * jws.c - strict parsing of the JWS compact serialization (RFC 7515
 * section 7.1) and signature verification with key choice (RFC 7515
 * section 5.2, RFC 8725 sections 3.1 and 3.2).
 *
 * Accepted grammar:  B64(header) '.' B64(payload) '.' B64(signature)
 * with B64 the strict base64url of b64url.c. Exactly two dots: a JWE (five
 * segments), two or four segments, and an empty header or payload are
 * rejected. The signature segment may be empty: it decodes to zero bytes
 * and fails verification, never parsing.
 */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "jnode.h"
#include "key.h"

/* One allocation holds the struct, the token's bytes and the decoded
 * signature; one arena holds the decoded segments and the JSON nodes.
 * Nothing changes after parsing, so a token may be shared between threads
 * (the verified-token cache does): `refs` counts its holders. */
enum { SHA_NONE, SHA_BUSY, SHA_DONE, SHA_FAILED };

/* cg_token_parse sets every member of a new token: add one there too. */
struct cg_token {
	atomic_uint refs;
	char *raw; /* copy of the token, NUL-terminated */
	size_t len;
	size_t signing_len; /* bytes of header '.' payload */
	unsigned char *sig;
	size_t sig_len;
	struct cg_arena *arena; /* header and claims nodes */
	const struct cg_json *header;
	const struct cg_json *claims;
	cg_alg alg;
	const char *alg_name; /* borrowed from header */
	const char *kid;      /* borrowed from header, or NULL */
	const struct cg_json *typ; /* header member, or NULL */
	int crit;                  /* the header has crit */
	atomic_int sha_state;      /* SHA_NONE, _BUSY, _DONE or _FAILED */
	const struct cg_json *reg[CG_REG_N_]; /* see cg__token_reg */
	char sha256[65]; /* valid once sha_state is SHA_DONE */
	size_t alloc;    /* bytes of the block holding all of the above */
};

/* see claimgate.h */
void
cg_token_free(struct cg_token *t)
{
	if (t == NULL ||
	    atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
		return;
	cg__arena_free(t->arena);
	cg__block_give(t, t->alloc);
}

struct cg_token *
cg__token_ref(const struct cg_token *t)
{
	struct cg_token *m = (struct cg_token *)(uintptr_t)t;

	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

size_t
cg__token_footprint(const struct cg_token *t)
{
	return t->alloc + cg__arena_footprint(t->arena);
}

static const char *const seg_names[] = {"header", "payload", "signature"};

/* Decodes one segment into `buf` (room for its decoded length). */
static cg_code
decode_segment(const char *tok, size_t start, size_t end, int seg,
    unsigned char *buf, size_t *outlen, struct cg_error *err)
{
	size_t n = cg__b64url_decoded_len(end - start), bad;

	if (n == (size_t)-1) {
		/* Report the first byte outside the alphabet if there is one;
		 * else the stray last character that makes the length 1 mod 4.
		 */
		size_t i, first = end - 1;
		for (i = start; i < end; i++) {
			unsigned char c = (unsigned char)tok[i];
			if (!((c >= 'A' && c <= 'Z') ||
			        (c >= 'a' && c <= 'z') ||
			        (c >= '0' && c <= '9') || c == '-' ||
			        c == '_')) {
				first = i;
				break;
			}
		}
		return cg__err(err, CG_ERR_BASE64, first,
		    first == end - 1 && i == end
		        ? "%s: base64url length is 1 mod 4 (stray character at "
		          "offset %zu)"
		        : "%s: invalid base64url character at offset %zu",
		    seg_names[seg], first);
	}
	if (cg__b64url_decode(tok + start, end - start, buf, outlen, &bad) !=
	    CG_OK) {
		unsigned char c = (unsigned char)tok[start + bad];
		int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '_';
		/* The message names the kind of fault and its offset, never
		 * the token's bytes. */
		return cg__err(err, CG_ERR_BASE64, start + bad,
		    "%s: %s at offset %zu", seg_names[seg],
		    c == '=' ? "padding"
		    : alnum  ? "non-canonical final character"
		             : "invalid base64url character",
		    start + bad);
	}
	return CG_OK;
}

static cg_code
parse_json_segment(const char *tok, size_t start, size_t end, int seg,
    size_t hint, struct cg_arena **arena, const struct cg_json **out,
    struct cg_error *err)
{
	const struct cg_jnode *root;
	unsigned char *buf;
	size_t len, bad;
	char why[80];
	cg_code rc;

	/* The decoded bytes live in the arena with the nodes: one block for
	 * a typical token. */
	buf = cg__arena_alloc(arena, (end - start) / 4 * 3 + 3, hint);
	if (buf == NULL)
		return cg__err(
		    err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	rc = decode_segment(tok, start, end, seg, buf, &len, err);
	if (rc != CG_OK)
		return rc;
	rc = cg__jnode_parse_inplace((char *)buf, len, CG_LIMIT_JSON_DEPTH,
	    arena, &root, &bad, why, sizeof(why));
	if (rc == CG_ERR_NOMEM)
		return cg__err(err, rc, CG_NO_OFFSET, "out of memory");
	if (rc != CG_OK) {
		/* The offset is into the decoded JSON; map it back roughly to
		 * the encoded segment (4 characters per 3 bytes). */
		size_t off = bad == CG_NO_OFFSET ? start : start + bad / 3 * 4;
		if (off >= end)
			off = end - 1;
		return cg__err(err, CG_ERR_JSON, off,
		    "%s: %s (decoded byte %zu)", seg_names[seg], why,
		    bad == CG_NO_OFFSET ? 0 : bad);
	}
	*out = (const struct cg_json *)(const void *)root;
	return CG_OK;
}

/* RFC 7515 4.1: the parameters claimgate reads must be strings. One pass
 * over the header's members (names are unique). */
static cg_code
check_header(struct cg_token *t, struct cg_error *err)
{
	const struct cg_jnode *h = (const void *)t->header, *alg = NULL;
	const struct cg_jnode *str[3] = {NULL, NULL, NULL}; /* kid typ cty */
	static const char strs[3][4] = {"kid", "typ", "cty"};
	size_t i, j;

	for (i = 0; i < h->n; i++) {
		const struct cg_jnode *k = h->u.kids[i];
		if (k->type == CG_JSON_NULL)
			return cg__err(
			    err, CG_ERR_JSON, 0, "header: a parameter is null");
		/* Fixed-size compares, the terminating NUL included (member
		 * names are NUL-terminated at keylen). */
		if (k->keylen == 4 && memcmp(k->key, "crit", 5) == 0)
			t->crit = 1;
		if (k->keylen != 3)
			continue;
		if (memcmp(k->key, "alg", 4) == 0)
			alg = k;
		for (j = 0; j < 3; j++)
			if (memcmp(k->key, strs[j], 4) == 0)
				str[j] = k;
	}
	if (alg == NULL)
		return cg__err(err, CG_ERR_JSON, 0, "header: \"alg\" missing");
	if (alg->type != CG_JSON_STRING)
		return cg__err(
		    err, CG_ERR_JSON, 0, "header: \"alg\" is not a string");
	for (j = 0; j < 3; j++)
		if (str[j] != NULL && str[j]->type != CG_JSON_STRING)
			return cg__err(err, CG_ERR_JSON, 0,
			    "header: \"%s\" is not a string", strs[j]);
	t->alg_name = alg->u.str;
	t->alg = cg_alg_from_name(t->alg_name, alg->n);
	t->kid = str[0] != NULL ? str[0]->u.str : NULL;
	t->typ = (const struct cg_json *)(const void *)str[1];
	return CG_OK;
}

/* The three bytes of a name as one number, for the lookups below. */
#define NAME3(a, b, c)                                                         \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16)

/* The cg_reg of a three-byte name, or -1. */
static int
reg_index(const char *name)
{
	static const uint32_t reg[CG_REG_N_] = {NAME3('i', 's', 's'),
	    NAME3('s', 'u', 'b'), NAME3('a', 'u', 'd'), NAME3('e', 'x', 'p'),
	    NAME3('n', 'b', 'f'), NAME3('i', 'a', 't'), NAME3('j', 't', 'i'),
	    NAME3('a', 'c', 't')};
	uint32_t v = NAME3((unsigned char)name[0], (unsigned char)name[1],
	    (unsigned char)name[2]);
	int j;

	for (j = 0; j < CG_REG_N_; j++)
		if (v == reg[j])
			return j;
	return -1;
}

/* t->reg: the registered claims, in one pass over the claims' members
 * (names are unique: the reader rejects duplicates). */
static void
find_registered(struct cg_token *t)
{
	const struct cg_jnode *c = (const void *)t->claims;
	size_t i;
	int j;

	for (i = 0; i < c->n; i++) {
		const struct cg_jnode *k = c->u.kids[i];
		if (k->keylen == 3 && (j = reg_index(k->key)) >= 0)
			t->reg[j] = (const struct cg_json *)(const void *)k;
	}
}

/* see claimgate.h */
cg_code
cg_token_parse(const char *tok, size_t len, size_t max_len,
    struct cg_token **out, struct cg_error *err)
{
	size_t dots[2], ndots = 0, i, siglen, head, block, hint, got;
	struct cg_token *t = NULL;
	cg_code rc;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (tok == NULL && len > 0))
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET, "NULL argument");
	if (max_len == 0)
		max_len = CG_LIMIT_TOKEN_LEN_DEFAULT;
	if (max_len > CG_LIMIT_TOKEN_LEN_CEILING)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "token limit above %u bytes", CG_LIMIT_TOKEN_LEN_CEILING);
	if (len == 0)
		return cg__err(err, CG_ERR_EMPTY, CG_NO_OFFSET, "empty token");
	if (len > max_len)
		return cg__err(err, CG_ERR_TOO_LARGE, max_len,
		    "token exceeds the limit of %zu bytes", max_len);
	{
		/* memchr finds the dots at memory speed. */
		const char *d = memchr(tok, '.', len);
		while (d != NULL) {
			i = (size_t)(d - tok);
			if (ndots == 2) {
				size_t more = 1, j;
				for (j = i + 1; j < len; j++)
					more += tok[j] == '.';
				return cg__err(err, CG_ERR_MALFORMED, i,
				    "%zu segments, a JWS has 3 (third '.' at "
				    "offset %zu)%s",
				    more + 3, i,
				    more + 3 == 5 ? "; JWE is not accepted"
				                  : "");
			}
			dots[ndots++] = i;
			d = memchr(d + 1, '.', len - i - 1);
		}
	}
	if (ndots != 2)
		return cg__err(err, CG_ERR_MALFORMED, len,
		    "%zu segment%s, a JWS has 3 (%s ends at offset %zu with "
		    "no further '.')",
		    ndots + 1, ndots == 0 ? "" : "s",
		    ndots == 0 ? "header" : "payload", len);
	if (dots[0] == 0)
		return cg__err(
		    err, CG_ERR_MALFORMED, 0, "header: empty segment");
	if (dots[1] == dots[0] + 1)
		return cg__err(
		    err, CG_ERR_MALFORMED, dots[1], "payload: empty segment");

	siglen = cg__b64url_decoded_len(len - dots[1] - 1);
	if (siglen == (size_t)-1)
		siglen = 0; /* decode_segment reports it */
	/* One allocation: the struct, the first arena block, the token's
	 * bytes and the decoded signature. The block is sized for the
	 * decoded header and payload plus their nodes (about 48 bytes per
	 * JSON value, strings stay where they were decoded): typical access
	 * tokens need no second block, which matters for the bytes a cached
	 * token holds. max_len bounds every size here. */
	head = (sizeof(*t) + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	       sizeof(max_align_t);
	hint = dots[1] * 3 + 512;
	block = cg__arena_overhead() + hint;
	block = (block + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	        sizeof(max_align_t);
	t = cg__block_take(head + block + len + 1 + siglen, &got);
	if (t == NULL) {
		rc = cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
		goto out;
	}
	/* Every member set here (a memset of the struct is a slow-starting
	 * `rep stos`); nothing after the struct is read before it is
	 * written (a reused block still holds an earlier token's bytes). */
	atomic_init(&t->refs, 1);
	t->alloc = got;
	atomic_init(&t->sha_state, SHA_NONE);
	t->sha256[0] = '\0';
	t->arena = cg__arena_in((char *)t + head, block);
	t->raw = (char *)t + head + block;
	memcpy(t->raw, tok, len);
	t->raw[len] = '\0';
	t->sig = (unsigned char *)t->raw + len + 1;
	t->sig_len = 0;
	t->len = len;
	t->signing_len = dots[1];
	t->header = NULL;
	t->claims = NULL;
	t->alg = CG_ALG_UNKNOWN;
	t->alg_name = NULL;
	t->kid = NULL;
	t->typ = NULL;
	t->crit = 0;
	for (i = 0; i < CG_REG_N_; i++)
		t->reg[i] = NULL;
	rc = parse_json_segment(
	    tok, 0, dots[0], 0, hint, &t->arena, &t->header, err);
	if (rc != CG_OK)
		goto out;
	rc = check_header(t, err);
	if (rc != CG_OK)
		goto out;
	rc = parse_json_segment(
	    tok, dots[0] + 1, dots[1], 1, hint, &t->arena, &t->claims, err);
	if (rc != CG_OK)
		goto out;
	rc = decode_segment(tok, dots[1] + 1, len, 2, t->sig, &t->sig_len, err);
	if (rc != CG_OK)
		goto out;
	find_registered(t);
	*out = t;
	t = NULL;
	rc = CG_OK;
out:
	cg_token_free(t);
	return rc;
}

/* see claimgate.h */
cg_alg
cg_token_alg(const struct cg_token *t)
{
	return t == NULL ? CG_ALG_UNKNOWN : t->alg;
}

/* see claimgate.h */
const char *
cg_token_alg_name(const struct cg_token *t)
{
	return t == NULL ? NULL : t->alg_name;
}

/* see claimgate.h */
const char *
cg_token_kid(const struct cg_token *t)
{
	return t == NULL ? NULL : t->kid;
}

/* see claimgate.h */
const struct cg_json *
cg_token_header(const struct cg_token *t)
{
	return t == NULL ? NULL : t->header;
}

/* see claimgate.h */
const struct cg_json *
cg_token_claims(const struct cg_token *t)
{
	return t == NULL ? NULL : t->claims;
}

/* see claimgate.h */
const struct cg_json *
cg_token_claim(const struct cg_token *t, const char *name)
{
	return t == NULL || name == NULL
	           ? NULL
	           : cg__token_claim_n(t, name, strlen(name));
}

/*
 * The claim named name[0..len). The registered names were looked up when
 * the token was parsed (find_registered saw every three-byte member), so
 * for them the answer is that lookup; other names are compared length
 * first.
 */
const struct cg_json *
cg__token_claim_n(const struct cg_token *t, const char *name, size_t len)
{
	const struct cg_jnode *c = (const void *)t->claims;
	size_t i;

	if (len == 3) {
		int r = reg_index(name);
		if (r >= 0)
			return t->reg[r];
	}
	if (len == 0)
		name = "";
	for (i = 0; i < c->n; i++) {
		const struct cg_jnode *k = c->u.kids[i];
		if (k->keylen == len && k->key[0] == name[0] &&
		    memcmp(k->key, name, len) == 0)
			return (const struct cg_json *)(const void *)k;
	}
	return NULL;
}

/*
 * see claimgate.h. Computed on first use: a decision that is denied, or
 * whose provenance nobody reads, never pays for it. A token may be shared
 * between threads (the verified-token cache puts it only after asking for
 * the hash, but a caller may share one too), so the first caller computes
 * it and any other waits for that result.
 */
const char *
cg_token_sha256_hex(const struct cg_token *t)
{
	struct cg_token *m = (struct cg_token *)(uintptr_t)t;
	unsigned char digest[32];
	int st = SHA_NONE;

	if (t == NULL)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(&m->sha_state, &st,
	        SHA_BUSY, memory_order_acquire, memory_order_acquire)) {
		if (cg__sha256(t->raw, t->len, digest) == 0) {
			cg__hex(digest, sizeof(digest), m->sha256);
			st = SHA_DONE;
		} else {
			st = SHA_FAILED;
		}
		atomic_store_explicit(&m->sha_state, st, memory_order_release);
	}
	while (st == SHA_BUSY) {
		sched_yield();
		st = atomic_load_explicit(&m->sha_state, memory_order_acquire);
	}
	return st == SHA_DONE ? t->sha256 : NULL;
}

/* see claimgate.h */
size_t
cg_token_signature_len(const struct cg_token *t)
{
	return t == NULL ? 0 : t->sig_len;
}

const struct cg_json *
cg__token_reg(const struct cg_token *t, enum cg_reg r)
{
	return t->reg[r];
}

const struct cg_json *
cg__token_typ(const struct cg_token *t)
{
	return t->typ;
}

int
cg__token_has_crit(const struct cg_token *t)
{
	return t->crit;
}

const char *
cg__token_bytes(const struct cg_token *t, size_t *len)
{
	*len = t->len;
	return t->raw;
}

/* see claimgate.h */
cg_code
cg_token_verify(const struct cg_token *t, const struct cg_keyset *ks,
    cg_alg_set allowed, size_t *key_index, struct cg_error *err)
{
	const struct cg_key *k;
	size_t i, tried = 0;
	cg_code rc;

	if (key_index != NULL)
		*key_index = 0;
	if (t == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET, "NULL token");
	/* RFC 7515 4.1.11: no extension is understood, so any `crit` is a
	 * reason to reject. */
	if (cg_json_object_get(t->header, "crit") != NULL)
		return cg__err(err, CG_ERR_CRIT, CG_NO_OFFSET,
		    "header has \"crit\"; no extension is supported");
	if (t->alg == CG_ALG_UNKNOWN || (allowed & CG_ALG_BIT(t->alg)) == 0)
		return cg__err(err, CG_ERR_ALG, CG_NO_OFFSET,
		    t->alg == CG_ALG_UNKNOWN
		        ? "header alg is not a supported algorithm"
		        : "header alg %s is not allowed",
		    cg_alg_name(t->alg));
	for (i = 0; (k = cg__keyset_key(ks, i)) != NULL; i++) {
		const char *kid = cg__key_kid(k);
		/* kid and alg only select among trusted keys. */
		if (t->kid != NULL && (kid == NULL || strcmp(kid, t->kid) != 0))
			continue;
		if ((cg__key_fits(k) & CG_ALG_BIT(t->alg)) == 0)
			continue;
		if (tried++ == CG_LIMIT_KEYS_TRIED)
			break;
		rc = cg__key_verify(k, t->alg, (const unsigned char *)t->raw,
		    t->signing_len, t->sig, t->sig_len);
		if (rc == CG_OK) {
			if (key_index != NULL)
				*key_index = i;
			return CG_OK;
		}
		if (rc != CG_ERR_SIGNATURE)
			return cg__err(err, rc, CG_NO_OFFSET,
			    "verification failed: %s", cg_strerror(rc));
	}
	if (tried == 0)
		return cg__err(err, CG_ERR_KEY_NOT_FOUND, CG_NO_OFFSET,
		    t->kid != NULL ? "no key with this kid fits alg %s"
		                   : "no key fits alg %s",
		    cg_alg_name(t->alg));
	return cg__err(err, CG_ERR_SIGNATURE, CG_NO_OFFSET,
	    "signature does not verify (%zu key%s tried)",
	    tried > CG_LIMIT_KEYS_TRIED ? (size_t)CG_LIMIT_KEYS_TRIED : tried,
	    tried == 1 ? "" : "s");
}
