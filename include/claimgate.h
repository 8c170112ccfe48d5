/*
 * claimgate.h - the public interface of libclaimgate, a JWT claim trust
 * boundary.
 *
 * This header is the library's reference manual. Every function documents
 * its ownership rules, its return codes and whether it may be called from
 * several threads at once.
 *
 * Conventions
 *   - Every function that can fail returns a cg_code. CG_OK (0) means
 *     success; any other value is a failure, so a caller that only tests
 *     `!= CG_OK` fails closed.
 *   - Out-parameters are set to NULL (or zero) on failure: a half-built
 *     object never escapes.
 *   - `struct cg_error *err` may be NULL. When it is not, it receives the
 *     code, a byte offset into the input where one is known, and a fixed
 *     printable ASCII message that never contains token, claim or key bytes.
 *   - Handles are opaque. Objects returned by a *_load or *_parse function
 *     are freed with the matching *_free function; *_free(NULL) does nothing.
 *   - Key sets, tokens and policies are immutable once built and may be
 *     shared between threads without locking.
 *
 * Nothing in this header exposes a dependency's types (OpenSSL, jansson,
 * libyaml): the implementations behind it may change.
 */
#ifndef CLAIMGATE_H
#define CLAIMGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CG_API __attribute__((visibility("default")))
#define CG_NODISCARD __attribute__((warn_unused_result))
#else
#define CG_API
#define CG_NODISCARD
#endif

#define CG_VERSION_MAJOR 0
#define CG_VERSION_MINOR 1
#define CG_VERSION_PATCH 0
#define CG_VERSION_STRING "0.1.0"

/* Returns the library version string, e.g. "0.1.0". Thread-safe. */
CG_API const char *cg_version(void);

/*
 * Result codes. Append only; the numbers never change.
 */
typedef enum {
	CG_OK = 0,
	CG_ERR_ARG = 1,		  /* caller bug: NULL or out-of-range argument */
	CG_ERR_NOMEM = 2,	  /* an allocation failed */
	CG_ERR_EMPTY = 3,	  /* the token is absent or empty */
	CG_ERR_TOO_LARGE = 4,	  /* input exceeds a documented limit */
	CG_ERR_MALFORMED = 5,	  /* not a three-segment JWS compact token */
	CG_ERR_BASE64 = 6,	  /* not canonical unpadded base64url */
	CG_ERR_JSON = 7,	  /* not a strict JSON object (dup, depth, UTF-8) */
	CG_ERR_CRIT = 8,	  /* a `crit` header is present (none supported) */
	CG_ERR_ALG = 9,		  /* alg unknown, `none`, or not allowed */
	CG_ERR_KEY_NOT_FOUND = 10, /* no key fits kid, alg and key type */
	CG_ERR_SIGNATURE = 11,	  /* the signature does not verify */
	CG_ERR_IO = 12,		  /* a file could not be read */
	CG_ERR_KEYSET = 13,	  /* a key set is not a JWK Set */
	CG_ERR_POLICY = 14,	  /* a policy file is invalid */
	CG_ERR_NOT_FOUND = 15,	  /* a named thing (zone, claim) does not exist */
	CG_ERR_TYPE = 16,	  /* a value has another JSON type */
	CG_ERR_CRYPTO = 17,	  /* the crypto library failed unexpectedly */
	CG_ERR_STORE = 18	  /* the replay/revocation store cannot answer */
} cg_code;

/* Returns the code's symbolic name ("CG_ERR_SIGNATURE"); "CG_ERR_UNKNOWN"
 * for a value outside the enum. Thread-safe; the string is static. */
CG_API const char *cg_code_name(cg_code c);

/* Returns a short English description of the code. Thread-safe; static. */
CG_API const char *cg_strerror(cg_code c);

#define CG_NO_OFFSET ((size_t)-1)

/* Caller-allocated error details. */
struct cg_error {
	cg_code code;
	size_t offset; /* byte offset into the input, or CG_NO_OFFSET */
	char msg[200]; /* NUL-terminated printable ASCII */
};

/* ---------------------------------------------------------------------
 * Algorithms (RFC 7518 section 3, RFC 8037)
 */
typedef enum {
	CG_ALG_UNKNOWN = 0,
	CG_ALG_RS256 = 1,
	CG_ALG_RS384 = 2,
	CG_ALG_RS512 = 3,
	CG_ALG_PS256 = 4,
	CG_ALG_PS384 = 5,
	CG_ALG_PS512 = 6,
	CG_ALG_ES256 = 7,
	CG_ALG_ES384 = 8,
	CG_ALG_ES512 = 9,
	CG_ALG_EDDSA = 10,
	CG_ALG_HS256 = 11,
	CG_ALG_HS384 = 12,
	CG_ALG_HS512 = 13
} cg_alg;

/* A set of algorithms, as a bit mask of CG_ALG_BIT(alg). */
typedef uint32_t cg_alg_set;
#define CG_ALG_BIT(a) ((cg_alg_set)1u << (unsigned)(a))
#define CG_ALG_ALL ((cg_alg_set)0x3ffeu)

/* Maps a JOSE name ("RS256", exact bytes, case-sensitive) to its cg_alg;
 * CG_ALG_UNKNOWN for anything else, `none` in any casing included. */
CG_API cg_alg cg_alg_from_name(const char *name, size_t len);

/* Returns the JOSE name of `a` ("RS256"), or NULL for CG_ALG_UNKNOWN. */
CG_API const char *cg_alg_name(cg_alg a);

/* ---------------------------------------------------------------------
 * Key sets (RFC 7517, RFC 7518 section 6, RFC 8037)
 *
 * A key set holds the usable verification keys of one JWK Set, in set
 * order. Keys that cannot be used safely are skipped and recorded as
 * warnings, each naming the key's kid: RSA under 2048 bits, an oct key
 * shorter than the smallest HMAC output it could serve, an unknown kty or
 * crv, `use` other than "sig", `key_ops` without "verify", an EC point not
 * on its curve, an `alg` that does not fit the key.
 * Secret key bytes are wiped before they are freed.
 */
struct cg_keyset;

/*
 * Loads a JWK Set from `json` (`len` bytes, need not be NUL-terminated;
 * copied). A document that is not JSON, not an object, or has no `keys`
 * array fails with CG_ERR_KEYSET (err->offset and the message give the
 * position where the parser knows it). A set with no usable key loads
 * successfully; its warnings say why each key was skipped.
 * On CG_OK, *out is a new key set, freed with cg_keyset_free().
 * Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_keyset_load_jwks(const char *json, size_t len,
    struct cg_keyset **out, struct cg_error *err);

/* As cg_keyset_load_jwks(), reading the file at `path` (at most 1 MiB).
 * A missing or unreadable file is CG_ERR_IO; messages name the file. */
CG_API CG_NODISCARD cg_code cg_keyset_load_file(const char *path,
    struct cg_keyset **out, struct cg_error *err);

/* Frees `ks`. NULL is a no-op. */
CG_API void cg_keyset_free(struct cg_keyset *ks);

/* Number of usable keys in `ks`. */
CG_API size_t cg_keyset_count(const struct cg_keyset *ks);

/* Number of warnings recorded while loading (skipped keys and notes). */
CG_API size_t cg_keyset_warning_count(const struct cg_keyset *ks);

/* The i-th warning, a printable ASCII line naming the key's kid (escaped);
 * NULL when i is out of range. Borrowed: valid as long as `ks`. */
CG_API const char *cg_keyset_warning(const struct cg_keyset *ks, size_t i);

/* Key types, for cg_key_info. */
typedef enum {
	CG_KTY_RSA = 1,
	CG_KTY_EC = 2,
	CG_KTY_OKP = 3,
	CG_KTY_OCT = 4
} cg_kty;

/* A description of one usable key. All strings are borrowed from the key
 * set and live as long as it does. */
struct cg_key_info {
	const char *kid;   /* NULL when the key has no kid */
	cg_kty kty;
	const char *kty_name; /* "RSA", "EC", "OKP", "oct" */
	const char *crv;   /* "P-256", ..., "Ed25519"; NULL for RSA and oct */
	cg_alg alg;	   /* the key's own `alg`, or CG_ALG_UNKNOWN if absent */
	unsigned bits;	   /* modulus/curve/secret size in bits */
	const char *jkt;   /* RFC 7638 SHA-256 thumbprint, base64url */
	cg_alg_set fits;   /* algorithms this key can verify */
};

/* Fills *info for the i-th usable key. CG_ERR_ARG when out of range. */
CG_API cg_code cg_keyset_key_info(const struct cg_keyset *ks, size_t i,
    struct cg_key_info *info);

/* ---------------------------------------------------------------------
 * JSON values read from a token
 *
 * Header parameters and claims are read through these typed accessors.
 * A `struct cg_json` is borrowed from the token it came from and lives as
 * long as that token.
 */
struct cg_json;

typedef enum {
	CG_JSON_ABSENT = 0, /* the member does not exist (v == NULL) */
	CG_JSON_NULL,
	CG_JSON_BOOL,
	CG_JSON_NUMBER,
	CG_JSON_STRING,
	CG_JSON_ARRAY,
	CG_JSON_OBJECT
} cg_json_type;

/* The type of `v`; CG_JSON_ABSENT when v is NULL. */
CG_API cg_json_type cg_json_typeof(const struct cg_json *v);

/* String value: CG_ERR_TYPE unless v is a string. *s is borrowed and
 * NUL-terminated (JSON strings containing U+0000 are rejected at parse);
 * *len may be NULL. */
CG_API cg_code cg_json_string(const struct cg_json *v, const char **s,
    size_t *len);

/* Number value (every JSON number is read as an IEEE double). */
CG_API cg_code cg_json_number(const struct cg_json *v, double *d);

/* Boolean value. */
CG_API cg_code cg_json_bool(const struct cg_json *v, int *b);

/* Array size, 0 for anything that is not an array. */
CG_API size_t cg_json_array_size(const struct cg_json *v);

/* The i-th element, NULL if v is not an array or i is out of range. */
CG_API const struct cg_json *cg_json_array_get(const struct cg_json *v,
    size_t i);

/* An object's member, NULL if v is not an object or has no such member. */
CG_API const struct cg_json *cg_json_object_get(const struct cg_json *v,
    const char *name);

/* Serialises `v` as JSON, members in document order: compact when
 * `pretty` is 0, indented by two spaces when it is 1. Caller frees with cg_free(). NULL on
 * allocation failure or when v is NULL. */
CG_API char *cg_json_dump(const struct cg_json *v, int pretty);

/* Frees memory returned by the library (cg_json_dump, cg_*_to_json). */
CG_API void cg_free(void *p);

/* ---------------------------------------------------------------------
 * Tokens (RFC 7515 compact serialization, RFC 7519)
 */
struct cg_token;

/* Default and hard limits (see docs/LIMITS.md). */
#define CG_DEFAULT_MAX_TOKEN_LEN 8192u
#define CG_MAX_TOKEN_LEN_CEILING (1024u * 1024u)
#define CG_MAX_JSON_DEPTH 16

/*
 * Parses a compact JWS. No signature is checked and nothing in the token
 * is trusted by parsing it.
 *
 * Exactly three segments separated by '.', each canonical unpadded
 * base64url (RFC 7515 section 2 and appendix C: alphabet A-Z a-z 0-9 - _,
 * no '=', no whitespace, unused trailing bits zero, no length of 1 mod 4);
 * header and payload each a UTF-8 JSON object with no duplicate member at
 * any depth and no container deeper than CG_MAX_JSON_DEPTH; the header's
 * `alg` a string, and `kid`, `typ`, `cty` strings when present; no header
 * parameter null.
 *
 * `max_len` bounds the token length in bytes (0 means
 * CG_DEFAULT_MAX_TOKEN_LEN; at most CG_MAX_TOKEN_LEN_CEILING).
 * Returns CG_ERR_EMPTY for len 0, CG_ERR_TOO_LARGE beyond max_len,
 * CG_ERR_MALFORMED / CG_ERR_BASE64 / CG_ERR_JSON with err->offset at the
 * offending byte of `tok`. On CG_OK, *out is a new token (the bytes are
 * copied), freed with cg_token_free(). Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_token_parse(const char *tok, size_t len,
    size_t max_len, struct cg_token **out, struct cg_error *err);

/* Frees `t`. NULL is a no-op. */
CG_API void cg_token_free(struct cg_token *t);

/* The header's `alg` (CG_ALG_UNKNOWN for a name claimgate does not
 * verify, `none` included) and its exact string. */
CG_API cg_alg cg_token_alg(const struct cg_token *t);
CG_API const char *cg_token_alg_name(const struct cg_token *t);

/* The header's `kid`, or NULL when absent. Borrowed. */
CG_API const char *cg_token_kid(const struct cg_token *t);

/* The header and the claims set as JSON objects. Borrowed. */
CG_API const struct cg_json *cg_token_header(const struct cg_token *t);
CG_API const struct cg_json *cg_token_claims(const struct cg_token *t);

/* Shorthand for cg_json_object_get(cg_token_claims(t), name). */
CG_API const struct cg_json *cg_token_claim(const struct cg_token *t,
    const char *name);

/* SHA-256 of the token bytes, as 64 lowercase hex digits. Borrowed.
 * Computed on the first call (thread-safe); NULL only when the hash could
 * not be computed (out of memory in the crypto library). */
CG_API const char *cg_token_sha256_hex(const struct cg_token *t);

/* Decoded signature length in bytes. */
CG_API size_t cg_token_signature_len(const struct cg_token *t);

/*
 * Verifies the token's signature over the received `header.payload`
 * bytes with a key from `ks`, following RFC 8725:
 *   - a `crit` header parameter fails with CG_ERR_CRIT;
 *   - `alg` must be in `allowed` (never `none`), else CG_ERR_ALG;
 *   - with `kid`, only keys with that kid are candidates; without, every
 *     key; a candidate fits when its type and curve match `alg`, its own
 *     `alg` (if any) equals the header's, and an oct key is at least the
 *     hash length. The first 8 fitting keys in set order are tried.
 *     None fits: CG_ERR_KEY_NOT_FOUND; none verifies: CG_ERR_SIGNATURE;
 *   - ECDSA signatures are raw r||s of exactly twice the coordinate size,
 *     with r and s in [1, n-1]; PS* use MGF1 with the same hash and a salt
 *     of the hash length; HMAC tags are compared in constant time.
 * Header parameters `jku`, `x5u`, `jwk` and `x5c` never supply keys.
 * On CG_OK and when `key_index` is not NULL, *key_index is the index of the
 * key that verified (for cg_keyset_key_info). Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_token_verify(const struct cg_token *t,
    const struct cg_keyset *ks, cg_alg_set allowed, size_t *key_index,
    struct cg_error *err);

/* ---------------------------------------------------------------------
 * Policies and decisions (the trust boundary; docs/policy.md)
 */
struct cg_policy;
struct cg_store;
struct cg_decision;

/*
 * Decision reasons, exactly the contract's codes. CG_REASON_OK is allow;
 * every other value denies. Append only.
 */
typedef enum {
	CG_REASON_OK = 0,
	CG_REASON_TOKEN_MISSING,
	CG_REASON_TOKEN_TOO_LARGE,
	CG_REASON_TOKEN_MALFORMED,
	CG_REASON_CRIT_UNSUPPORTED,
	CG_REASON_ISSUER_UNTRUSTED,
	CG_REASON_ALG_NOT_ALLOWED,
	CG_REASON_TYP_NOT_ALLOWED,
	CG_REASON_KEYS_UNAVAILABLE,
	CG_REASON_KEY_NOT_FOUND,
	CG_REASON_SIGNATURE_INVALID,
	CG_REASON_CLAIM_INVALID,
	CG_REASON_CLAIM_MISSING,
	CG_REASON_TOKEN_EXPIRED,
	CG_REASON_TOKEN_NOT_YET_VALID,
	CG_REASON_TOKEN_ISSUED_IN_FUTURE,
	CG_REASON_LIFETIME_TOO_LONG,
	CG_REASON_TOKEN_TOO_OLD,
	CG_REASON_AUDIENCE_MISMATCH,
	CG_REASON_DELEGATION_TOO_DEEP,
	CG_REASON_STORE_UNAVAILABLE,
	CG_REASON_REVOKED,
	CG_REASON_CLAIM_UNTRUSTED,
	CG_REASON_FORBIDDEN,
	CG_REASON_REPLAYED,
	CG_REASON_NO_ZONE,
	CG_REASON_COUNT_
} cg_reason;

/* The reason's contract name ("token_expired"); "ok" for CG_REASON_OK;
 * NULL outside the enum. Static. */
CG_API const char *cg_reason_name(cg_reason r);

/* Maps a contract name back to its reason; -1 when unknown. */
CG_API int cg_reason_from_name(const char *name);

/* HTTP status for a reason as `serve` answers it: 200, 401, 403 or 503. */
CG_API int cg_reason_http_status(cg_reason r);

/*
 * Loads a policy file (YAML 1.1, or JSON). Key files are read relative to
 * the policy file's folder. A policy error is CG_ERR_POLICY (or CG_ERR_IO,
 * CG_ERR_KEYSET for a key file) with err->msg "file:line:column: message".
 * On CG_OK, *out is a new immutable policy, freed with cg_policy_free().
 * Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_policy_load(const char *path,
    struct cg_policy **out, struct cg_error *err);

/* Frees `p`. NULL is a no-op. */
CG_API void cg_policy_free(struct cg_policy *p);

/* Number of zones and the i-th zone's name (borrowed; NULL out of range). */
CG_API size_t cg_policy_zone_count(const struct cg_policy *p);
CG_API const char *cg_policy_zone_name(const struct cg_policy *p, size_t i);

/* Warnings found while loading (skipped keys), "file:line:col: text";
 * borrowed, NULL out of range. */
CG_API size_t cg_policy_warning_count(const struct cg_policy *p);
CG_API const char *cg_policy_warning(const struct cg_policy *p, size_t i);

/*
 * An in-process replay store (entries expire at the time given on insert).
 * Thread-safe; the caller frees it with cg_store_free() after the last
 * decision that uses it.
 */
CG_API CG_NODISCARD cg_code cg_store_memory_new(struct cg_store **out);
CG_API void cg_store_free(struct cg_store *s);

/*
 * Decides whether `token` may enter zone `zone` of `pol` at time `now`
 * (seconds since the epoch). Every step of the contract's decision table
 * runs in order; the first failing step gives the reason.
 * `zone` may be NULL when the policy has exactly one zone (else
 * CG_ERR_NOT_FOUND, like an unknown zone name). `store` may be NULL when no
 * zone of the policy needs one; a zone with `replay: reject` and no store
 * denies with store_unavailable. When the policy configures revocation
 * (store type redis, or a revocations_file), every decision needs a store
 * made by cg_store_new() from it; any other store is denied
 * store_unavailable.
 * CG_OK means a decision was made (allow or deny): *out is a new decision,
 * freed with cg_decision_free(). Any other code is an error and *out is
 * NULL. `pol` and `store` are borrowed. Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_decide(const struct cg_policy *pol,
    const char *zone, const char *token, size_t len, int64_t now,
    struct cg_store *store, struct cg_decision **out, struct cg_error *err);

/* Frees `d`. NULL is a no-op. A decision belongs to one thread at a
 * time; the library keeps nothing of it. */
CG_API void cg_decision_free(struct cg_decision *d);

/* 1 when the decision allows, 0 when it denies. */
CG_API int cg_decision_allowed(const struct cg_decision *d);
CG_API cg_reason cg_decision_reason(const struct cg_decision *d);

/* Human-readable explanation (printable ASCII, never token bytes). */
CG_API const char *cg_decision_detail(const struct cg_decision *d);

/* The zone's name. Borrowed. */
CG_API const char *cg_decision_zone(const struct cg_decision *d);

/* The trusted claims as a JSON object (empty on deny). Borrowed; built
 * on the first call, so one decision is not read from two threads at
 * once. NULL only when out of memory. */
CG_API const struct cg_json *cg_decision_claims(const struct cg_decision *d);

/* The decision as the contract's JSON object (`verify --json`), one line
 * without a trailing newline. Caller frees with cg_free(). */
CG_API char *cg_decision_to_json(const struct cg_decision *d);

/* ---------------------------------------------------------------------
 * Stores made from the policy, and revocation (docs/policy.md, "Store"
 * and "Revocation")
 */

/* What a revocation names. Append only. */
typedef enum {
	CG_REVOKE_JTI = 1,	      /* one token, by its jti */
	CG_REVOKE_SUB = 2,	      /* every token of a subject */
	CG_REVOKE_KID = 3,	      /* every token verified by a key, by kid */
	CG_REVOKE_JKT = 4,	      /* ... by RFC 7638 thumbprint */
	CG_REVOKE_ISSUED_BEFORE = 5   /* every token issued before a time */
} cg_revoke_kind;

/* "jti", "sub", "kid", "jkt", "issued_before"; NULL outside the enum. */
CG_API const char *cg_revoke_kind_name(cg_revoke_kind k);

/*
 * One revocation. Every revocation is scoped to one issuer of the policy,
 * named by its local name. Strings are borrowed by the functions below
 * (copied when stored); in a cg_store_list() callback they live for the
 * call only.
 */
struct cg_revocation {
	cg_revoke_kind kind;
	const char *issuer;	/* the issuer's local name in the policy */
	const char *value;	/* jti, sub, kid or jkt; NULL for a cut-off */
	int64_t issued_before;	/* cut-off: tokens with iat before this
				   (or without iat) are revoked */
	const char *reason;	/* free text for people, or NULL */
	int64_t at;		/* when it was revoked (seconds) */
	int64_t expires;	/* when the entry lapses; 0: never */
};

/*
 * Makes the store the policy's `store` section describes: the in-process
 * store (with the revocations of `revocations_file`, if set) or the Redis
 * store. The Redis store connects lazily: a Redis that is down does not
 * fail this call (decisions that need it are denied store_unavailable
 * until it answers). Reads the password from the environment variable
 * named by `password_env`; an unset variable is CG_ERR_POLICY.
 * On CG_OK, *out is freed with cg_store_free() after the last decision
 * that uses it. `pol` is borrowed for the call only. Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_store_new(const struct cg_policy *pol,
    struct cg_store **out, struct cg_error *err);

/*
 * When a revocation can lapse: no token it covers can still be accepted.
 * With max_lifetime M of the issuer (or 24 hours when unset) and L the
 * largest leeway of the zones accepting it, *expires is
 * max(now, issued_before) + M + 2L (a token may carry an iat up to L in
 * the future and is accepted up to L past exp). CG_ERR_NOT_FOUND when
 * the policy has no issuer of that name. Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_revocation_expires(const struct cg_policy *pol,
    const struct cg_revocation *r, int64_t now, int64_t *expires);

/*
 * Records a revocation in the store: in Redis, or appended as one line to
 * the memory store's revocations_file (every process reading that file
 * sees it within a second). A memory store without a revocations_file
 * has nowhere to keep it: CG_ERR_ARG. A cut-off never moves back: an
 * earlier or equal issued_before than the one in force is kept as is.
 * CG_ERR_STORE when the store cannot be written. Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_store_revoke(struct cg_store *s,
    const struct cg_revocation *r, struct cg_error *err);

/*
 * Calls fn(ctx, r) for each revocation in force at `now`, in no
 * particular order, until fn returns non-zero. CG_ERR_STORE when the
 * store cannot be read. Thread-safe.
 */
CG_API CG_NODISCARD cg_code cg_store_list(struct cg_store *s, int64_t now,
    int (*fn)(void *ctx, const struct cg_revocation *r), void *ctx,
    struct cg_error *err);

/*
 * 1 when the store can answer now (for readiness checks), else 0. The
 * Redis store asks Redis (PING) at most once a second and otherwise
 * reports its last answer; the memory store reports whether its
 * revocations_file was read. Thread-safe.
 */
CG_API int cg_store_ready(struct cg_store *s);

/* ---------------------------------------------------------------------
 * Key sets of a policy: remote sets (jwks_uri, discovery) are fetched
 * outside the decision path; decisions never wait for the network.
 */

/*
 * Fetches the remote key sets of `pol` whose refresh is due at `now`
 * (every one when `force` is 1). A failed fetch keeps the previous set.
 * Blocks for at most the fetch timeout per issuer (5 s). Returns CG_OK
 * when every fetch made succeeded, else the first failure (err says which
 * issuer, why, and whether its previous set keeps serving; see
 * cg_policy_keys_ready for readiness). Thread-safe.
 */
CG_API cg_code cg_policy_fetch_keys(const struct cg_policy *pol, int64_t now,
    int force, struct cg_error *err);

/* 1 when every issuer of `pol` has a usable key set at `now`. */
CG_API int cg_policy_keys_ready(const struct cg_policy *pol, int64_t now);

/* Seconds until the next remote key set of `pol` is due (3600 if none). */
CG_API int64_t cg_policy_keys_due_in(const struct cg_policy *pol,
    int64_t now);

/* Carries the fetched key sets of `from` over to the issuers of `to` with
 * the same name and source (a policy reload keeps its keys). */
CG_API void cg_policy_adopt_keys(struct cg_policy *to,
    const struct cg_policy *from);

/* Number of issuers of `pol`. */
CG_API size_t cg_policy_issuer_count(const struct cg_policy *pol);

/* The key state of one issuer (`claimgate keys`, /metrics). */
struct cg_keyref;
struct cg_issuer_keys {
	const char *name;	   /* local issuer name (borrowed) */
	const char *iss;
	int remote;		   /* 1: jwks_uri or discovery */
	char source[512];	   /* file path or URL */
	const struct cg_keyset *keys; /* usable set, or NULL */
	int usable;
	int64_t fetched_at;	   /* remote: last good fetch, 0 if never */
	uint64_t fetches_ok, fetches_failed;
	char last_error[200];
	struct cg_keyref *ref;	   /* internal: held until _done */
};

/* Fills *out for issuer i; release with cg_policy_issuer_keys_done(). */
CG_API cg_code cg_policy_issuer_keys(const struct cg_policy *pol, size_t i,
    int64_t now, struct cg_issuer_keys *out);
CG_API void cg_policy_issuer_keys_done(const struct cg_policy *pol, size_t i,
    struct cg_issuer_keys *k);

/* ---------------------------------------------------------------------
 * The verified-token cache (off unless the caller makes one; `serve` uses
 * one by default).
 *
 * It remembers only "these exact token bytes verified with the key of
 * this RFC 7638 thumbprint, for this iss". On a hit, the signature check
 * is skipped only if that key is still in the issuer's current key set
 * and fits the token's alg and kid; every other step of the decision runs
 * as usual (issuer, alg, typ, time, audience, delegation, store,
 * revocation, claims, require, replay). Denies are never cached.
 */
struct cg_vcache;

/* A cache of at most `max_entries` tokens and `max_bytes` token bytes.
 * Thread-safe; free with cg_vcache_free() after the last decision. */
CG_API CG_NODISCARD cg_code cg_vcache_new(size_t max_entries,
    size_t max_bytes, struct cg_vcache **out);
CG_API void cg_vcache_free(struct cg_vcache *c);

/* Lookups that found the token, and lookups that did not. */
CG_API void cg_vcache_stats(struct cg_vcache *c, uint64_t *hits,
    uint64_t *misses);

/* cg_decide() with a verified-token cache (`cache` may be NULL). */
CG_API CG_NODISCARD cg_code cg_decide_cached(const struct cg_policy *pol,
    const char *zone, const char *token, size_t len, int64_t now,
    struct cg_store *store, struct cg_vcache *cache,
    struct cg_decision **out, struct cg_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CLAIMGATE_H */
