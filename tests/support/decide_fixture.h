/*
 * decide_fixture.h - the fixture test_decide.c and test_decide_claims.c
 * share: one set of keys generated once per program, written as JWK Sets
 * into a mkdtemp() folder and named by absolute path from one policy
 * parsed with cg__policy_parse(); token minting; and cg_decide() wrapped
 * with the checks that hold for every decision. The clock is fixed at
 * NOW. Include after cmocka.h.
 */
#ifndef DECIDE_FIXTURE_H
#define DECIDE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "cgtest.h"

struct cg_json;
struct cg_store;

#define NOW 1700000000LL
#define AUD "https://api.example.com"
#define ISS_CORP "https://sso.example.com"
#define ISS_TYPED "https://typed.example.com"
#define ISS_SHORT "https://short.example.com"
#define ISS_ED "https://ed.example.com"
#define ISS_HS "https://hs.example.com"
#define ISS_REMOTE "https://remote.example.com"
#define ISS_PARTNER "https://partner.example.net"
#define ISS_OUTSIDER "https://outsider.example.org"

/* Payload pieces. BODY(iss, extra) is a token that main allows at NOW
 * (for corp, ed, hs, partner), plus `extra` members. */
#define C_AUD "\"aud\":\"" AUD "\""
#define C_EXP "\"exp\":1700000600"
#define C_SUB "\"sub\":\"alice\""
#define BODY(iss, extra)                                                    \
	"{\"iss\":\"" iss "\"," C_AUD "," C_EXP "," C_SUB extra "}"
#define CORP(extra) BODY(ISS_CORP, extra)
/* Corp payloads missing one of the members above. */
#define CORP_NOEXP(extra) "{\"iss\":\"" ISS_CORP "\"," C_AUD "," C_SUB extra "}"
#define CORP_NOAUD(extra) "{\"iss\":\"" ISS_CORP "\"," C_EXP "," C_SUB extra "}"
#define CORP_NOSUB(extra) "{\"iss\":\"" ISS_CORP "\"," C_AUD "," C_EXP extra "}"
#define CORP_NOISS(extra) "{" C_AUD "," C_EXP "," C_SUB extra "}"

/* Headers. */
#define H_RSA1 "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}"
#define H_RSA1_WITH(extra) "{\"alg\":\"RS256\",\"kid\":\"rsa1\"" extra "}"

/* Delegation chains of one, two and three actors (RFC 8693 "act"). */
#define ACT1 ",\"act\":{\"sub\":\"svc-a\"}"
#define ACT2 ",\"act\":{\"sub\":\"svc-a\",\"act\":{\"sub\":\"svc-b\"}}"
#define ACT3                                                                \
	",\"act\":{\"sub\":\"svc-a\",\"act\":{\"sub\":\"svc-b\","           \
	"\"act\":{\"sub\":\"svc-c\"}}}"

/* ---- fixture ---------------------------------------------------------- */

enum key_ix {
	K_RSA1,
	K_RSA2,
	K_EC1,
	K_RSAALG,   /* its JWK carries "alg":"RS256" */
	K_ED1,
	K_HS1,
	K_P1,
	K_STRAY,    /* in no set; shares rsa1's kid */
	K_STRAY_HS, /* in no set; shares hs1's kid */
	K_N
};

struct decide_fixture {
	char dir[64];
	struct cgt_key keys[K_N];
	struct cg_policy *pol;
};

/* Set by decide_fixture_setup(). */
extern struct decide_fixture fx;

/* Generates the keys, writes the key sets and parses the fixture policy
 * with `more_zones` (more entries of its zones: map; NULL for none)
 * appended; 0 on success. For a cmocka group setup. */
int decide_fixture_setup(const char *more_zones);

/* Frees what decide_fixture_setup() made and removes its folder; a cmocka
 * group teardown. */
int decide_fixture_teardown(void **state);

/* Parses a policy text whose @D@ stand for the fixture folder; fails the
 * test on error. cg_policy_free(). */
struct cg_policy *parse_policy(const char *tmpl);

/* ---- tokens ----------------------------------------------------------- */

/* Signs header and payload bytes with key k; header NULL means
 * {"alg":<k's alg>,"kid":<k's kid>}. free(). */
char *mint(enum key_ix k, const char *header, const char *payload);

/* An unsigned token: B64(header).B64(payload).sig. free(). */
char *assemble(const char *header, const char *payload, const char *sig);

/* ---- deciding ------------------------------------------------------- */

/* A JSON object parsed with cg__json_parse_object (fails the test if it
 * is not one); cg__json_free(). */
struct cg_json *parse_json(const char *s);

/* The string member `name` of object o; fails the test if it is not. */
const char *jstr(const struct cg_json *o, const char *name);

/* What holds for every decision, whatever its reason. */
void check_invariants(const struct cg_decision *d, const char *zone);

/* cg_decide() that must return CG_OK; checks the invariants (zone may be
 * NULL). cg_decision_free(). */
struct cg_decision *decide_p(const struct cg_policy *p, const char *zone,
    const char *tok, size_t len, int64_t now, struct cg_store *st);

/* Decides and fails the test, naming `what`, unless the reason is want. */
void expect_p(const struct cg_policy *p, const char *what, const char *zone,
    const char *tok, size_t len, int64_t now, struct cg_store *st,
    cg_reason want);
/* Same with the fixture policy and a NUL-terminated token. */
void expect_st(const char *what, const char *zone, const char *tok,
    int64_t now, struct cg_store *st, cg_reason want);
/* Same at NOW without a store. */
void expect(const char *what, const char *zone, const char *tok,
    cg_reason want);

/* One signed token, decided at NOW without a store. */
struct row {
	const char *what;
	const char *zone;
	enum key_ix key;
	const char *header; /* NULL: the key's alg and kid */
	const char *payload;
	cg_reason want;
	int unsigned_tok;   /* 1: empty signature segment, not signed */
};

void run_rows(const struct row *rows, size_t n);

#define RUN_ROWS(rows) run_rows(rows, sizeof(rows) / sizeof(rows[0]))

/* A fresh memory store; cg_store_free(). */
struct cg_store *new_store(void);

#endif
