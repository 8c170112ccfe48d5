/*
 * fuzz.h - what every fuzz target shares: the libFuzzer entry points, the
 * fixed key set and policy the token and route targets decide against,
 * the list of tokens minted with the fixed keys, and the invariant checks.
 *
 * The same target sources build two ways (fuzz/CMakeLists.txt):
 *   - fuzz_<name>: clang, libFuzzer, ASan+UBSan (CG_FUZZ=ON, fuzz/run.sh);
 *   - replay_<name>: any compiler, linked with replay_main.c, which runs
 *     every file of a corpus folder once (ctest -L fuzz).
 */
#ifndef CG_FUZZ_H
#define CG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "claimgate.h"

/* libFuzzer's interface (also called by replay_main.c). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The clock of every decision: tokens in fuzz/corpus were minted with
 * `claimgate mint --now 1700000000 --ttl 5m`, so they are fresh here for
 * ever (fuzz/mkseeds.sh). */
#define CGF_MINT_NOW 1700000000
#define CGF_NOW (CGF_MINT_NOW + 60)

/* The fuzz/ folder: $CG_FUZZ_DIR, else the source folder compiled in. */
const char *cgf_dir(void);

/* Reads fuzz/<rel> whole, NUL-terminated; aborts when it cannot. */
char *cgf_read(const char *rel, size_t *len);

/* A private temporary folder, removed with its files at exit. */
const char *cgf_tempdir(void);
/* Writes `len` bytes to <dir>/<name>; aborts on failure. The file is
 * removed at exit when dir is cgf_tempdir(). */
void cgf_write(const char *dir, const char *name, const char *data,
    size_t len);

/* The fixed key set (fuzz/keys/jwks.json) and the fixed policy (the text
 * in fuzz_common.c, written to the temporary folder beside a copy of the
 * key set). Built once; abort when they do not load. */
const struct cg_keyset *cgf_keys(void);
const struct cg_policy *cgf_policy(void);
extern const char cgf_policy_text[];

/* The tokens signed with the fixed keys that are meant to parse and
 * verify: fuzz/keys/minted.txt (one "name token" per line, written by
 * fuzz/mkseeds.sh) plus the ones cgf_init_tokens() signs itself. */
void cgf_init_tokens(void);
int cgf_is_minted(const char *tok, size_t len);
size_t cgf_minted_count(void);
/* The i-th minted token, and its name ("valid-rs256", ...). */
const char *cgf_minted(size_t i, size_t *len, const char **name);

/* Invariants shared by the targets. Each prints what broke and aborts
 * (a crash for libFuzzer, a failure for the replay). */
_Noreturn void cgf_fail(const char *what);
/* A struct cg_error filled by a failing call: a known code and a
 * NUL-terminated printable ASCII message. */
void cgf_check_error(const struct cg_error *err, cg_code rc);
/* A NUL-terminated string of printable ASCII (0x20-0x7e) only. */
void cgf_check_printable(const char *s, const char *what);
/* Checks one decision: printable detail, the JSON rendering on one line,
 * an empty claims object on deny, and, unless `ours` (a token the target
 * signed itself for this input), the allow invariant: an allowed token is
 * byte-identical to a minted one. */
void cgf_check_decision(const struct cg_decision *d, const char *tok,
    size_t len, int ours);

/* Signs `payload` (exact bytes, any content) with the fixed HS256 key
 * hs1 under {"alg":"HS256","kid":"hs1","typ":"at+jwt"}: a token of
 * issuer `hmac` whenever the payload names it. Caller frees. */
char *cgf_sign_hs256(const char *payload, size_t len);

#endif
