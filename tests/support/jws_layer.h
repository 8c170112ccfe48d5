/*
 * jws_layer.h - the JWS layer of the vector tests (test_rfc.c,
 * test_wycheproof.c): verification of a compact JWS whose payload is
 * opaque bytes, which claimgate's token parser refuses (it requires a JWT
 * claims set). Include after cmocka.h.
 */
#ifndef JWS_LAYER_H
#define JWS_LAYER_H

#include <stddef.h>

#include "claimgate.h"

/*
 * The JWS layer: a compact JWS whose payload is opaque bytes, held to
 * every rule a token meets except "the payload is a JSON object".
 *   1. length, emptiness and exactly three segments, as cg_token_parse;
 *   2. header and signature: cg_token_parse on the same token with the
 *      payload segment replaced by "e30" ({}), so the header's strict
 *      base64url, strict JSON, alg/kid/typ/cty types, null parameters and
 *      the signature's base64url are the parser's own checks;
 *   3. the payload segment: strict base64url (cg__b64url_decode), empty
 *      allowed (RFC 7515 allows an empty payload);
 *   4. crit, the allow-list and key choice: cg_token_verify on that same
 *      token. It answers CG_ERR_CRIT, CG_ERR_ALG or CG_ERR_KEY_NOT_FOUND
 *      exactly as for the original (none depends on the payload), or
 *      CG_ERR_SIGNATURE once it tried at least one key;
 *   5. the signature over the original header.payload bytes with the
 *      keys cg_token_verify tries (kid, fits, at most
 *      CG_LIMIT_KEYS_TRIED, in set order), through cg__key_verify.
 * When several segments are wrong the code may differ from the order the
 * token parser reports in (header, payload, signature); only the verdict
 * is compared with the labels.
 *
 * Returns CG_OK or the code of the rule broken; *key_index (may be NULL)
 * is the set index of the key that verified, SIZE_MAX if none.
 */
cg_code jws_layer_verify(const char *jws, size_t len,
    const struct cg_keyset *ks, cg_alg_set allowed, size_t *key_index);

#endif
