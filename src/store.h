/*
 * store.h - the replay and revocation store interface (architecture.md,
 * "Store"). The engine asks two questions: "is this revoked?" and "insert
 * this key if absent, until T". Backends: memory (store_memory.c, one
 * process; revocations from a file) and Redis (store_redis.c, shared by
 * every instance). A store that cannot answer returns CG_ERR_STORE and the
 * engine denies (store_unavailable), never allows.
 */
#ifndef CG_STORE_H
#define CG_STORE_H

#include <sys/stat.h>

#include "internal.h"
#include "policy.h"

#define CG_STORE_KEY_LEN 32

/* Revocation lifetime when the issuer has no max_lifetime: nothing bounds
 * how long its tokens live, so this is a guess, documented in
 * docs/policy.md ("Revocation"). */
#define CG_REVOKE_DEFAULT_LIFETIME 86400

/* A revocations file: at most 64 MiB, lines of at most 8 KiB (a line
 * holds one issuer name and one value of a token, which is at most
 * 8 KiB itself). */
#define CG_REVFILE_MAX_BYTES (64u * 1024u * 1024u)
#define CG_REVFILE_MAX_LINE 8192u

/* Values stored in a revocation (jti, sub, kid, jkt, issuer, reason). */
#define CG_REVOKE_MAX_VALUE 4096u

/* What the engine asks about one verified token. Strings are borrowed. */
struct cg_revoke_query {
	const char *issuer;		/* the issuer's local name */
	const char *jti;		/* NULL when absent */
	size_t jti_len;
	const char *sub;		/* NULL when absent */
	size_t sub_len;
	const char *kid;		/* of the key that verified, or NULL */
	const char *jkt;		/* of the key that verified, or NULL */
	int has_iat;
	double iat;
	int64_t now;
};

struct cg_store_ops {
	/* Inserts `key` unless present and unexpired at `now`; it expires at
	 * `expires`. *inserted is 1 when this call inserted it. CG_OK, or
	 * CG_ERR_STORE when the store cannot answer (the engine denies). */
	cg_code (*insert_if_absent)(struct cg_store *s,
	    const unsigned char key[CG_STORE_KEY_LEN], int64_t expires,
	    int64_t now, int *inserted);
	void (*free)(struct cg_store *s);
};

struct cg_store {
	const struct cg_store_ops *ops;
};

/*
 * The operations of the stores this library makes, beyond the two every
 * store has (tests build stores of their own with just those two). A
 * store's `ops` points at `ops` inside one of these; cg__store_ext() finds
 * it. A member may be NULL: a store without revocations (made by
 * cg_store_memory_new) has no is_revoked, revoke or list, and the engine
 * then treats it as not carrying the policy's revocation source.
 */
struct cg_store_ext {
	struct cg_store_ops ops;

	/* Sets *revoked (0/1) and, when revoked, *kind. CG_OK, or
	 * CG_ERR_STORE when the store cannot answer in time. */
	cg_code (*is_revoked)(struct cg_store *s,
	    const struct cg_revoke_query *q, int *revoked,
	    cg_revoke_kind *kind);
	/* is_revoked and, only when not revoked, insert_if_absent of `key`
	 * until `expires`, in one step (Redis: one round trip). *inserted is
	 * set when not revoked. May be NULL (the engine then calls the two
	 * one after the other). */
	cg_code (*check_insert)(struct cg_store *s,
	    const struct cg_revoke_query *q,
	    const unsigned char key[CG_STORE_KEY_LEN], int64_t expires,
	    int *revoked, cg_revoke_kind *kind, int *inserted);
	/* Records one revocation (the CLI). */
	cg_code (*revoke)(struct cg_store *s, const struct cg_revocation *r,
	    struct cg_error *err);
	/* Calls fn for each revocation in force at `now`; stops when fn
	 * returns non-zero. */
	cg_code (*list)(struct cg_store *s, int64_t now,
	    int (*fn)(void *ctx, const struct cg_revocation *r), void *ctx,
	    struct cg_error *err);
	/* 1 when the store answers now (readiness). */
	int (*ready)(struct cg_store *s);
	/* Makes the store follow `cfg` where it can without losing state
	 * (a memory store takes another revocations_file). 0 when the store
	 * now fits `cfg`, -1 when a new store must be made. */
	int (*reconfigure)(struct cg_store *s,
	    const struct cg_store_config *cfg);
};

/* The extended operations of a store made by this library; NULL for any
 * other store (NULL too). */
const struct cg_store_ext *cg__store_ext(const struct cg_store *s);

/* 1 when the store carries a revocation source: made by cg_store_new()
 * (Redis, or memory with or without a revocations_file). */
int cg__store_revocations(const struct cg_store *s);

/* The Redis store's script (revocation check and replay entry in one
 * round trip) and its SHA-1, for tests. */
const char *cg__store_redis_script(const char **sha);

/* The backends' tables, for cg__store_ext(). */
extern const struct cg_store_ext cg__store_mem_bare, cg__store_mem_ext,
    cg__store_redis_ext;

/* The replay key: SHA-256 over zone, iss and jti, each length-prefixed so
 * that no two different triples share an input. */
int cg__replay_key(const char *zone, const char *iss, size_t iss_len,
    const char *jti, size_t jti_len, unsigned char out[CG_STORE_KEY_LEN]);

/* The revocation key: SHA-256 over the kind, the issuer's local name and
 * the value (jti, sub, kid, jkt; empty for a cut-off), length-prefixed. */
int cg__revocation_key(cg_revoke_kind kind, const char *issuer,
    const char *value, size_t value_len,
    unsigned char out[CG_STORE_KEY_LEN]);

/* 1 when the policy configures a revocation source (store type redis, or
 * a revocations_file): every decision then needs the store. */
int cg__policy_revocation(const struct cg_policy *p);

/* Backends (store_memory.c, store_redis.c). `cfg` is copied. */
cg_code cg__store_memory_open(const struct cg_store_config *cfg,
    struct cg_store **out, struct cg_error *err);
cg_code cg__store_redis_open(const struct cg_store_config *cfg,
    struct cg_store **out, struct cg_error *err);

/* ---- revocations as JSON lines (revocation.c) ----
 *
 * One revocation per line, a JSON object:
 *   {"issuer":"corp-sso","sub":"alice","reason":"...","at":T,"expires":E}
 * with exactly one of "jti", "sub", "kid", "jkt" (strings) or
 * "issued_before" (a NumericDate). Blank lines and lines starting with
 * '#' are skipped. The same text is the value of a Redis revocation key.
 */

/* Called for each entry; strings are borrowed for the call only. `line`
 * is 1-based. Non-zero stops the parse (returned as CG_ERR_NOMEM unless
 * the callback set err). */
typedef int (*cg__rev_fn)(void *ctx, const struct cg_revocation *r,
    unsigned line);

/* Listing live revocations (both stores' list operation): passes each
 * entry that has not expired at `now` to `fn` until `fn` returns
 * non-zero. A cg__rev_fn for cg__revfile_parse and cg__revocation_parse. */
struct cg__rev_list {
	int64_t now;
	int (*fn)(void *ctx, const struct cg_revocation *r);
	void *ctx;
	int stopped;
};
int cg__rev_list_one(void *ctx, const struct cg_revocation *r,
    unsigned line);

/* Parses a whole revocations file. Errors are CG_ERR_POLICY with
 * "name:line:column: message". */
cg_code cg__revfile_parse(const char *text, size_t len, const char *name,
    cg__rev_fn fn, void *ctx, struct cg_error *err);

/* Parses one entry (a line without its newline). On error returns -1 and
 * writes the message and the 0-based column into why / *col. */
int cg__revocation_parse(const char *p, size_t len, cg__rev_fn fn,
    void *ctx, unsigned line, char *why, size_t whysz, size_t *col);

/* Reads a revocations file (at most CG_REVFILE_MAX_BYTES) and its
 * stat. CG_ERR_IO / CG_ERR_POLICY naming the file. */
cg_code cg__revfile_read(const char *path, char **text, size_t *len,
    struct stat *st, struct cg_error *err);

/* Reads and parses the file (the policy loader checks it this way). */
cg_code cg__revfile_check(const char *path, struct cg_error *err);

/* The JSON line of a revocation, without a newline; caller frees. NULL
 * when out of memory. Checks nothing: see cg__revocation_valid(). */
char *cg__revocation_json(const struct cg_revocation *r);

/* Checks a revocation given to cg_store_revoke(): kind, printable UTF-8
 * strings of bounded length. CG_OK or CG_ERR_ARG with a message. */
cg_code cg__revocation_valid(const struct cg_revocation *r,
    struct cg_error *err);

/* Monotonic clock in microseconds. */
int64_t cg__mono_us(void);

#endif
