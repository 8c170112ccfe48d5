/*
 * store.h - the replay and revocation store interface (architecture.md,
 * "Store"). The engine asks two questions: "is this revoked?" and "insert
 * this key if absent, until T". Backends: memory (store_memory.c); Redis
 * comes later behind the same operations.
 */
#ifndef CG_STORE_H
#define CG_STORE_H

#include "internal.h"

#define CG_STORE_KEY_LEN 32

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

/* The replay key: SHA-256 over zone, iss and jti, each length-prefixed so
 * that no two different triples share an input. */
int cg__replay_key(const char *zone, const char *iss, size_t iss_len,
    const char *jti, size_t jti_len, unsigned char out[CG_STORE_KEY_LEN]);

#endif
