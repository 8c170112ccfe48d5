/*
 * cg_limits.h - every cap on untrusted input, in one place, with its reason.
 * docs/LIMITS.md lists the same values for users; tests check each at N
 * and N+1.
 */
#ifndef CG_LIMITS_H
#define CG_LIMITS_H

/* Default token length (contract section 3): far above any real access
 * token, small enough to keep one decision's work bounded. */
#define CG_LIMIT_TOKEN_LEN_DEFAULT 8192u

/* A caller may raise the token cap, but never past 1 MiB. */
#define CG_LIMIT_TOKEN_LEN_CEILING (1024u * 1024u)

/* JSON containers nest at most 16 levels, the top-level object being
 * level 1 (contract section 3). jansson's own limit is 2048. */
#define CG_LIMIT_JSON_DEPTH 16

/* A JWK Set file or document: 1 MiB is thousands of keys. */
#define CG_LIMIT_JWKS_BYTES (1024u * 1024u)

/* Keys kept from one set; more are skipped with a warning. */
#define CG_LIMIT_KEYS_PER_SET 1000u

/* Keys tried for one token (contract: "the first 8 keys"). */
#define CG_LIMIT_KEYS_TRIED 8u

/* RSA moduli: at least 2048 bits (RFC 7518 section 3.3, NIST SP 800-131A),
 * at most 16384 bits to bound verification cost. */
#define CG_LIMIT_RSA_MIN_BITS 2048u
#define CG_LIMIT_RSA_MAX_BITS 16384u

/* HMAC secrets: at most 1 KiB (longer keys are hashed by HMAC anyway). */
#define CG_LIMIT_OCT_MAX_BYTES 1024u

/* A policy file: 1 MiB. */
#define CG_LIMIT_POLICY_BYTES (1024u * 1024u)

/* A `kid` shown in messages is cut to this many characters. */
#define CG_LIMIT_KID_SHOWN 64u

/* `act` delegation chains are followed at most this deep (the JSON depth
 * bound makes 15 the real ceiling). */
#define CG_LIMIT_DELEGATION 16

/* Maximum leeway a policy may set (contract: at most 5m). */
#define CG_LIMIT_LEEWAY_MAX 300

/* Policy files (policy_parse.c). A real policy is a few dozen lines; the
 * caps below sit far above that and bound the parse tree and the work of
 * a mistaken or hostile file (the fuzzer feeds policy_parse directly). */

/* YAML nesting: the schema's deepest value (zones.Z.claims.C.map.K) is at
 * level 6; 16 leaves room for errors to be reported as type errors while
 * keeping the tree walk shallow. */
#define CG_LIMIT_POLICY_DEPTH 16u

/* Entries in one YAML sequence, and pairs in one YAML mapping. */
#define CG_LIMIT_POLICY_LIST 1024u
#define CG_LIMIT_POLICY_MAP 4096u

/* Issuers and zones in a policy, trusted claims in one zone: each costs
 * per-decision work (issuer lookup, claim extraction). */
#define CG_LIMIT_POLICY_ISSUERS 256u
#define CG_LIMIT_POLICY_ZONES 256u
#define CG_LIMIT_ZONE_CLAIMS 256u

/* A claim `pattern`: regcomp's time and memory grow with the source, and
 * a value pattern longer than this is unreadable anyway. */
#define CG_LIMIT_PATTERN_BYTES 1024u

/* Any policy duration (leeway, max_age, max_lifetime): 10 years (3650d).
 * Keeps every sum with a NumericDate far from int64 overflow. */
#define CG_LIMIT_DURATION_MAX 315360000

/* `max_delegation`: an `act` chain inside a token of at most
 * CG_LIMIT_JSON_DEPTH levels is at most 15 deep. */
#define CG_LIMIT_MAX_DELEGATION (CG_LIMIT_JSON_DEPTH - 1)

#endif
