/*
 * signer.h - token signing, for `claimgate mint`, `claimgate keygen` and
 * the tests. Not part of the public API: claimgate is a verifier, and the
 * signer exists so examples and tests can mint fresh tokens.
 */
#ifndef CG_SIGNER_H
#define CG_SIGNER_H

#include "internal.h"

struct cg_signer;

/* A new key fit for `alg` (RSA 2048, the alg's curve, Ed25519, or a
 * random secret of the hash length). */
cg_code cg__signer_generate(cg_alg alg, struct cg_signer **out);

/* Loads a private key: a PEM file (PKCS#8 or traditional), or a JSON file
 * holding an oct JWK ({"kty":"oct","k":...}) for HMAC. */
cg_code cg__signer_load(const char *path, struct cg_signer **out,
    struct cg_error *err);

/* An HMAC signer from raw secret bytes (copied). */
cg_code cg__signer_from_secret(const unsigned char *k, size_t len,
    struct cg_signer **out);

void cg__signer_free(struct cg_signer *s);

/* The public JWK of the key as JSON (for oct: the secret JWK). `kid` and
 * `alg` are included when not NULL. Caller frees with free(). */
char *cg__signer_jwk(const struct cg_signer *s, const char *kid,
    const char *alg);

/* The private key as PKCS#8 PEM (oct: the JWK). Caller frees with
 * cg__free_secret(p, strlen(p)). */
char *cg__signer_private_pem(const struct cg_signer *s);

/* Signs B64(header) '.' B64(payload) with `alg`, both given as exact
 * bytes (no re-serialisation), and returns the compact token. ECDSA
 * signatures are raw r||s. Caller frees with free(). */
char *cg__signer_sign(const struct cg_signer *s, cg_alg alg,
    const char *header, size_t hlen, const char *payload, size_t plen);

/* Signs an arbitrary signing input (for tests that build odd tokens);
 * writes the signature into sig (room for 1024 bytes). Returns its length,
 * 0 on failure. */
size_t cg__signer_sign_raw(const struct cg_signer *s, cg_alg alg,
    const unsigned char *msg, size_t len, unsigned char *sig);

#endif
