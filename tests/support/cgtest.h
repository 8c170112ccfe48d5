/*
 * cgtest.h - helpers shared by the cmocka tests: fresh keys, key sets,
 * token minting, file reading and paths. Include after cmocka.h.
 */
#ifndef CGTEST_H
#define CGTEST_H

#include <stddef.h>

#include "claimgate.h"
#include "signer.h"

/* A generated key for `alg`, plus its public JWK with `kid` (may be NULL). */
struct cgt_key {
	cg_alg alg;
	struct cg_signer *signer;
	char *jwk; /* public JWK JSON */
};

/* A key fit for alg (RSA keys come in turn from twelve fixture keys,
 * tests/fixtures/keys; others are generated); fails the test on error. */
void cgt_key_gen(struct cgt_key *k, cg_alg alg, const char *kid,
    int with_alg);
void cgt_key_free(struct cgt_key *k);

/* {"keys":[jwk0,jwk1,...]} from the given JWK strings; free(). */
char *cgt_jwks(const char *const *jwks, size_t n);

/* Loads a key set from JWK strings; fails the test on error. */
struct cg_keyset *cgt_keyset(const char *const *jwks, size_t n);

/* Mints a token: header and payload are JSON texts used byte for byte.
 * free(). */
char *cgt_mint(const struct cgt_key *k, const char *header,
    const char *payload);

/* Same, with the alg header {"alg":<name of k->alg>,"kid":kid} built for
 * you (kid may be NULL). */
char *cgt_mint_simple(const struct cgt_key *k, const char *kid,
    const char *payload);

/* base64url of bytes; free(). */
char *cgt_b64(const void *p, size_t len);

/* Reads a whole file; fails the test on error; *len may be NULL. free(). */
char *cgt_read_file(const char *path, size_t *len);

/* $CG_SOURCE_DIR/<rel> and $CG_SHARED_DIR/<rel>; free(). */
char *cgt_source_path(const char *rel);
char *cgt_shared_path(const char *rel);

/* 1 under valgrind (CG_TEST_UNDER_VALGRIND set by the build): slow. */
int cgt_under_valgrind(void);

/* Step for loops over every byte or bit of an input: 1 normally, a
 * larger prime under valgrind so each program stays within minutes. */
size_t cgt_sample_step(void);

/* printf into a fresh string; free(). */
char *cgt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
