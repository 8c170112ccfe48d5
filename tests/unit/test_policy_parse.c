/*
 * test_policy_parse.c - the policy loader (src/policy_parse.c): the
 * contract's example read back field by field, every load error with its
 * exact file:line:column, key files and their warnings, durations, typ
 * normalisation, limits at N and N+1, and allocation failure. Leaks on
 * error paths are caught by running this under ASan/LSan and valgrind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"

static char fixdir[4096];

static int
setup_dirs(void **state)
{
	const char *src = getenv("CG_SOURCE_DIR");

	(void)state;
	if (src == NULL)
		src = ".";
	snprintf(fixdir, sizeof(fixdir), "%s/tests/fixtures/policy", src);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static struct cg_policy *
parse_ok(const char *yaml)
{
	struct cg_policy *p = NULL;
	struct cg_error err;
	cg_code rc;

	memset(&err, 0, sizeof(err));
	rc = cg__policy_parse(yaml, strlen(yaml), "p.yaml", fixdir, &p, &err);
	if (rc != CG_OK)
		print_error("unexpected error %s: %s\n", cg_code_name(rc),
		    err.msg);
	assert_int_equal(rc, CG_OK);
	assert_non_null(p);
	return p;
}

/* Parses `yaml` (len bytes), expecting `code` and a message that starts
 * with `msg`. Returns 0 when it matches. */
static int
check_err(const char *name, const char *yaml, size_t len, cg_code code,
    const char *msg)
{
	struct cg_policy *p = (struct cg_policy *)1;
	struct cg_error err;
	cg_code rc;

	memset(&err, 0, sizeof(err));
	rc = cg__policy_parse(yaml, len, "p.yaml", fixdir, &p, &err);
	if (getenv("CG_TEST_VERBOSE") != NULL)
		print_message("%-24s %s\n", name, err.msg);
	if (rc != code || p != NULL || err.code != code ||
	    strncmp(err.msg, msg, strlen(msg)) != 0) {
		print_error("case %s:\n  want %s \"%s\"\n  got  %s \"%s\"\n",
		    name, cg_code_name(code), msg, cg_code_name(rc), err.msg);
		cg_policy_free(p == (struct cg_policy *)1 ? NULL : p);
		return 1;
	}
	return 0;
}

/* Lines 1-6: one issuer "corp" with the fixture RSA/EC key set. */
#define HDR                                                                    \
	"version: 1\n"                                                         \
	"issuers:\n"                                                           \
	"  corp:\n"                                                            \
	"    issuer: https://sso.example.com\n"                                \
	"    jwks_file: keys/corp.jwks.json\n"                                 \
	"    algorithms: [RS256]\n"

/* Lines 1-10: HDR and a zone "z"; zone fields continue at line 11,
 * column 5. */
#define ZHDR                                                                   \
	HDR                                                                    \
	"zones:\n"                                                             \
	"  z:\n"                                                               \
	"    audience: a\n"                                                    \
	"    accept: [corp]\n"

/* Lines 1-9: two issuers, "corp" and "other" (remote keys). */
#define HDR2                                                                   \
	HDR                                                                    \
	"  other:\n"                                                           \
	"    issuer: https://other.example.com\n"                              \
	"    jwks_uri: https://other.example.com/jwks\n"                       \
	"    algorithms: [ES256]\n"

struct err_case {
	const char *name;
	const char *yaml;
	cg_code code;
	const char *msg;
};

static const struct err_case err_cases[] = {
	/* YAML itself */
	{ "syntax", "version: 1\nissuers: [a\nzones: {}\n", CG_ERR_POLICY,
	    "p.yaml:3:6: YAML syntax error: " },
	{ "syntax-indent", "version: 1\n  issuers: {}\n", CG_ERR_POLICY,
	    "p.yaml:2:10: YAML syntax error: mapping values are not allowed" },
	{ "reader-bad-utf8", "version: 1\nx: \"\xff\"\n", CG_ERR_POLICY,
	    "p.yaml:2:5: YAML syntax error: invalid leading UTF-8 octet" },
	{ "anchor", "version: &v 1\n", CG_ERR_POLICY,
	    "p.yaml:1:10: YAML anchors are not allowed" },
	{ "alias", "a: &x 1\nb: *x\n", CG_ERR_POLICY,
	    "p.yaml:1:4: YAML anchors are not allowed" },
	{ "alias-only", "version: 1\nb: *x\n", CG_ERR_POLICY,
	    "p.yaml:2:4: YAML aliases are not allowed" },
	{ "tag", "version: !!int 1\n", CG_ERR_POLICY,
	    "p.yaml:1:10: YAML tags are not allowed" },
	{ "tag-map", "version: 1\nissuers: !foo {}\n", CG_ERR_POLICY,
	    "p.yaml:2:10: YAML tags are not allowed" },
	{ "two-docs", "version: 1\n---\nversion: 1\n", CG_ERR_POLICY,
	    "p.yaml:2:1: only one YAML document is allowed" },
	{ "complex-key", "version: 1\n? [a]\n: b\n", CG_ERR_POLICY,
	    "p.yaml:2:3: mapping keys must be strings" },
	{ "dup-top", "version: 1\nversion: 1\n", CG_ERR_POLICY,
	    "p.yaml:2:1: duplicate key \"version\"" },
	{ "dup-zone-key", ZHDR "    audience: b\n", CG_ERR_POLICY,
	    "p.yaml:11:5: duplicate key \"audience\"" },
	{ "dup-json", "{\"version\": 1, \"version\": 1}", CG_ERR_POLICY,
	    "p.yaml:1:16: duplicate key \"version\"" },
	{ "dup-first-in-order", "version: 1\nzz: 1\nzz: 2\nversion: 1\n"
	    "zz: 3\n", CG_ERR_POLICY, "p.yaml:3:1: duplicate key \"zz\"" },
	{ "dup-not-adjacent", "version: 1\nzz: 1\nversion: 1\nzz: 2\n",
	    CG_ERR_POLICY, "p.yaml:3:1: duplicate key \"version\"" },
	{ "dup-quoted-vs-plain", "version: 1\n\"version\": 1\n",
	    CG_ERR_POLICY, "p.yaml:2:1: duplicate key \"version\"" },

	/* the top level */
	{ "empty", "", CG_ERR_POLICY,
	    "p.yaml:1:1: empty policy: missing \"version\"" },
	{ "comment-only", "# nothing\n", CG_ERR_POLICY,
	    "p.yaml:1:1: empty policy: missing \"version\"" },
	{ "not-a-map", "- version\n", CG_ERR_POLICY,
	    "p.yaml:1:1: expected a mapping, not a list" },
	{ "missing-version", "\nissuers: {}\nzones: {}\n", CG_ERR_POLICY,
	    "p.yaml:2:1: missing \"version\"" },
	{ "version-2", "version: 2\n", CG_ERR_POLICY,
	    "p.yaml:1:10: version: unsupported version 2 (expected 1)" },
	{ "version-string", "version: \"1\"\n", CG_ERR_POLICY,
	    "p.yaml:1:10: version: expected an integer" },
	{ "version-float", "version: 1.0\n", CG_ERR_POLICY,
	    "p.yaml:1:10: version: expected an integer" },
	{ "unknown-top", "version: 1\nissuer: {}\n", CG_ERR_POLICY,
	    "p.yaml:2:1: unknown key \"issuer\"" },
	{ "missing-issuers", "version: 1\nzones: {}\n", CG_ERR_POLICY,
	    "p.yaml:1:1: missing \"issuers\"" },
	{ "missing-zones", HDR, CG_ERR_POLICY,
	    "p.yaml:1:1: missing \"zones\"" },
	{ "no-zones", HDR "zones: {}\n", CG_ERR_POLICY,
	    "p.yaml:7:8: zones: at least one zone is needed" },
	{ "issuers-list", "version: 1\nissuers: [a]\nzones: {}\n",
	    CG_ERR_POLICY, "p.yaml:2:10: issuers: expected a mapping, not a "
	    "list" },

	/* issuers */
	{ "issuer-unknown-key", HDR "    jwks: x\n", CG_ERR_POLICY,
	    "p.yaml:7:5: issuers.corp: unknown key \"jwks\"" },
	{ "issuer-not-map", "version: 1\nissuers:\n  corp: x\n",
	    CG_ERR_POLICY, "p.yaml:3:9: issuers.corp: expected a mapping, "
	    "not a scalar" },
	{ "issuer-name-ctl", "version: 1\nissuers:\n  \"a\\tb\": {}\n",
	    CG_ERR_POLICY, "p.yaml:3:3: issuers: invalid issuer name "
	    "\"a\\x09b\"" },
	{ "issuer-name-c1", "version: 1\nissuers:\n  \"a\\u0085\": {}\n",
	    CG_ERR_POLICY, "p.yaml:3:3: issuers: invalid issuer name" },
	{ "issuer-name-empty", "version: 1\nissuers:\n  \"\": {}\n",
	    CG_ERR_POLICY, "p.yaml:3:3: issuers: invalid issuer name \"\"" },
	{ "missing-issuer",
	    "version: 1\nissuers:\n  corp:\n    jwks_file: k\n"
	    "    algorithms: [RS256]\n", CG_ERR_POLICY,
	    "p.yaml:3:3: issuers.corp: missing \"issuer\"" },
	{ "issuer-null",
	    "version: 1\nissuers:\n  corp:\n    issuer:\n", CG_ERR_POLICY,
	    "p.yaml:4:12: issuers.corp.issuer: expected a string, not null" },
	{ "issuer-empty",
	    "version: 1\nissuers:\n  corp:\n    issuer: ''\n", CG_ERR_POLICY,
	    "p.yaml:4:13: issuers.corp.issuer: must not be empty" },
	{ "issuer-nul",
	    "version: 1\nissuers:\n  corp:\n    issuer: \"a\\0b\"\n",
	    CG_ERR_POLICY,
	    "p.yaml:4:13: issuers.corp.issuer: contains a NUL character" },
	{ "missing-keys",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    algorithms: [RS256]\n", CG_ERR_POLICY,
	    "p.yaml:3:3: issuers.corp: missing \"jwks_file\", \"jwks_uri\" or "
	    "\"discovery\"" },
	{ "both-keys", HDR "    jwks_uri: https://x/jwks\n", CG_ERR_POLICY,
	    "p.yaml:7:5: issuers.corp: jwks_file and jwks_uri are mutually "
	    "exclusive" },
	{ "jwks-uri-http",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_uri: http://sso.example.com/jwks\n", CG_ERR_POLICY,
	    "p.yaml:5:15: issuers.corp.jwks_uri: must start with https:// or "
	    "http://127.0.0.1" },
	{ "jwks-uri-fake-local",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_uri: http://127.0.0.1.evil.example/jwks\n",
	    CG_ERR_POLICY, "p.yaml:5:15: issuers.corp.jwks_uri: must start" },
	{ "jwks-file-list",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: [a]\n", CG_ERR_POLICY,
	    "p.yaml:5:16: issuers.corp.jwks_file: expected a string, not a "
	    "list" },
	{ "missing-algorithms",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: k\n", CG_ERR_POLICY,
	    "p.yaml:3:3: issuers.corp: missing \"algorithms\"" },
	{ "algorithms-empty",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: k\n    algorithms: []\n", CG_ERR_POLICY,
	    "p.yaml:6:17: issuers.corp.algorithms: must not be empty" },
	{ "algorithms-scalar",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: k\n    algorithms: RS256\n", CG_ERR_POLICY,
	    "p.yaml:6:17: issuers.corp.algorithms: expected a list, not a "
	    "scalar" },
	{ "algorithm-unknown",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: k\n    algorithms: [RS256, XS1]\n", CG_ERR_POLICY,
	    "p.yaml:6:25: issuers.corp.algorithms: unknown algorithm \"XS1\"" },
	{ "algorithm-lowercase",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: k\n    algorithms: [rs256]\n", CG_ERR_POLICY,
	    "p.yaml:6:18: issuers.corp.algorithms: unknown algorithm "
	    "\"rs256\"" },
	{ "algorithm-none",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: k\n    algorithms: [none]\n", CG_ERR_POLICY,
	    "p.yaml:6:18: issuers.corp.algorithms: algorithm none is never "
	    "allowed" },
	{ "algorithm-NoNe",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: k\n    algorithms: [RS256, \"NoNe\"]\n",
	    CG_ERR_POLICY, "p.yaml:6:25: issuers.corp.algorithms: algorithm "
	    "none is never allowed" },
	{ "types-empty", HDR "    types: []\n", CG_ERR_POLICY,
	    "p.yaml:7:12: issuers.corp.types: must not be empty" },
	{ "types-only-prefix", HDR "    types: [application/]\n",
	    CG_ERR_POLICY, "p.yaml:7:13: issuers.corp.types: invalid type" },
	{ "max-lifetime-negative", HDR "    max_lifetime: -5m\n",
	    CG_ERR_POLICY,
	    "p.yaml:7:19: issuers.corp.max_lifetime: expected a duration" },
	{ "max-lifetime-10y+1", HDR "    max_lifetime: 3651d\n",
	    CG_ERR_POLICY,
	    "p.yaml:7:19: issuers.corp.max_lifetime: expected a duration" },

	/* zones */
	{ "zones-list", HDR "zones: [z]\n", CG_ERR_POLICY,
	    "p.yaml:7:8: zones: expected a mapping, not a list" },
	{ "zone-name-ctl", HDR "zones:\n  \"z\\n\": {}\n", CG_ERR_POLICY,
	    "p.yaml:8:3: zones: invalid zone name \"z\\x0a\"" },
	{ "zone-unknown-key", ZHDR "    leway: 30s\n", CG_ERR_POLICY,
	    "p.yaml:11:5: zones.z: unknown key \"leway\"" },
	{ "zone-missing-audience", HDR "zones:\n  z:\n    accept: [corp]\n",
	    CG_ERR_POLICY, "p.yaml:8:3: zones.z: missing \"audience\"" },
	{ "zone-missing-accept", HDR "zones:\n  z:\n    audience: a\n",
	    CG_ERR_POLICY, "p.yaml:8:3: zones.z: missing \"accept\"" },
	{ "zone-not-map", HDR "zones:\n  z: []\n", CG_ERR_POLICY,
	    "p.yaml:8:6: zones.z: expected a mapping, not a list" },
	{ "audience-map", HDR "zones:\n  z:\n    audience: {}\n",
	    CG_ERR_POLICY,
	    "p.yaml:9:15: zones.z.audience: expected a string, not a mapping" },
	{ "audience-exact-yes", ZHDR "    audience_exact: yes\n",
	    CG_ERR_POLICY,
	    "p.yaml:11:21: zones.z.audience_exact: expected true or false" },
	{ "audience-exact-quoted", ZHDR "    audience_exact: \"true\"\n",
	    CG_ERR_POLICY,
	    "p.yaml:11:21: zones.z.audience_exact: expected true or false" },
	{ "accept-unknown",
	    HDR "zones:\n  z:\n    audience: a\n    accept: [corp, nope]\n",
	    CG_ERR_POLICY,
	    "p.yaml:10:20: zones.z.accept: unknown issuer \"nope\"" },
	{ "accept-dup",
	    HDR "zones:\n  z:\n    audience: a\n    accept: [corp, corp]\n",
	    CG_ERR_POLICY,
	    "p.yaml:10:20: zones.z.accept: duplicate issuer \"corp\"" },
	{ "accept-empty",
	    HDR "zones:\n  z:\n    audience: a\n    accept: []\n",
	    CG_ERR_POLICY, "p.yaml:10:13: zones.z.accept: must not be empty" },
	{ "accept-same-iss",
	    HDR "  corp2:\n    issuer: https://sso.example.com\n"
	    "    jwks_uri: https://sso.example.com/jwks\n"
	    "    algorithms: [ES256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp, corp2]\n",
	    CG_ERR_POLICY, "p.yaml:14:20: zones.z.accept: issuers \"corp\" and "
	    "\"corp2\" have the same issuer value" },
	{ "leeway-fraction", ZHDR "    leeway: 1.5m\n", CG_ERR_POLICY,
	    "p.yaml:11:13: zones.z.leeway: expected a duration" },
	{ "leeway-301", ZHDR "    leeway: 301\n", CG_ERR_POLICY,
	    "p.yaml:11:13: zones.z.leeway: must be at most 5m" },
	{ "leeway-6m", ZHDR "    leeway: 6m\n", CG_ERR_POLICY,
	    "p.yaml:11:13: zones.z.leeway: must be at most 5m" },
	{ "max-age-unit", ZHDR "    max_age: 5w\n", CG_ERR_POLICY,
	    "p.yaml:11:14: zones.z.max_age: expected a duration" },
	{ "require-claims-scalar", ZHDR "    require_claims: sub\n",
	    CG_ERR_POLICY, "p.yaml:11:21: zones.z.require_claims: expected a "
	    "list, not a scalar" },
	{ "require-claims-entry", ZHDR "    require_claims: [sub, {}]\n",
	    CG_ERR_POLICY, "p.yaml:11:27: zones.z.require_claims: expected a "
	    "string, not a mapping" },
	{ "replay-yes", ZHDR "    replay: yes\n", CG_ERR_POLICY,
	    "p.yaml:11:13: zones.z.replay: expected off or reject" },
	{ "replay-false", ZHDR "    replay: false\n", CG_ERR_POLICY,
	    "p.yaml:11:13: zones.z.replay: expected off or reject" },
	{ "max-delegation-negative", ZHDR "    max_delegation: -1\n",
	    CG_ERR_POLICY,
	    "p.yaml:11:21: zones.z.max_delegation: must be between 0 and 15" },
	{ "max-delegation-16", ZHDR "    max_delegation: 16\n", CG_ERR_POLICY,
	    "p.yaml:11:21: zones.z.max_delegation: must be between 0 and 15" },
	{ "max-delegation-huge",
	    ZHDR "    max_delegation: 99999999999999999999999\n",
	    CG_ERR_POLICY,
	    "p.yaml:11:21: zones.z.max_delegation: must be between 0 and 15" },
	{ "max-delegation-word", ZHDR "    max_delegation: two\n",
	    CG_ERR_POLICY,
	    "p.yaml:11:21: zones.z.max_delegation: expected an integer" },

	/* claims */
	{ "claims-list", ZHDR "    claims: [sub]\n", CG_ERR_POLICY,
	    "p.yaml:11:13: zones.z.claims: expected a mapping, not a list" },
	{ "claim-null", ZHDR "    claims:\n      sub:\n", CG_ERR_POLICY,
	    "p.yaml:12:11: zones.z.claims.sub: expected a mapping (use {} for "
	    "the defaults), not null" },
	{ "claim-unknown-key", ZHDR "    claims:\n      sub: { requird: true }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:14: zones.z.claims.sub: unknown key \"requird\"" },
	{ "claim-empty-name", ZHDR "    claims:\n      \"\": {}\n",
	    CG_ERR_POLICY, "p.yaml:12:7: zones.z.claims: invalid claim name \"\"" },
	{ "claim-null-name", ZHDR "    claims:\n      ~: {}\n",
	    CG_ERR_POLICY, "p.yaml:12:7: zones.z.claims: invalid claim name "
	    "\"~\"" },
	{ "claim-claim-empty", ZHDR "    claims:\n      sub: { claim: '' }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:21: zones.z.claims.sub.claim: must not be empty" },
	{ "from-unknown", ZHDR "    claims:\n      x: { from: [other] }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:19: zones.z.claims.x.from: unknown issuer \"other\"" },
	{ "from-not-accepted",
	    HDR2 "zones:\n  z:\n    audience: a\n    accept: [corp]\n"
	    "    claims:\n      x: { from: [corp, other] }\n", CG_ERR_POLICY,
	    "p.yaml:16:25: zones.z.claims.x.from: issuer \"other\" is not in "
	    "this zone's accept" },
	{ "from-empty", ZHDR "    claims:\n      x: { from: [] }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:18: zones.z.claims.x.from: must not be empty" },
	{ "from-dup", ZHDR "    claims:\n      x: { from: [corp, corp] }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:25: zones.z.claims.x.from: duplicate issuer \"corp\"" },
	{ "pattern-invalid", ZHDR "    claims:\n      x: { pattern: \"a(\" }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:21: zones.z.claims.x.pattern: invalid pattern: " },
	{ "pattern-bracket", ZHDR "    claims:\n      x: { pattern: \"[a\" }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:21: zones.z.claims.x.pattern: invalid pattern: " },
	{ "pattern-unbalanced",
	    ZHDR "    claims:\n      x: { pattern: \"a)|(b)\" }\n",
	    CG_ERR_POLICY, "p.yaml:12:21: zones.z.claims.x.pattern: invalid "
	    "pattern: unbalanced parentheses" },
	/* Patterns whose compiled form would grow exponentially (found by
	 * fuzz_policy: glibc's regcomp copies repeated subexpressions). */
	{ "pattern-stacked-plus",
	    ZHDR "    claims:\n      x: { pattern: \"a++++++++++++++++\" }\n",
	    CG_ERR_POLICY, "p.yaml:12:21: zones.z.claims.x.pattern: too many "
	    "repetitions" },
	{ "pattern-nested-interval",
	    ZHDR "    claims:\n      x: { pattern: \"(a{0,255}){0,255}\" }\n",
	    CG_ERR_POLICY, "p.yaml:12:21: zones.z.claims.x.pattern: too many "
	    "repetitions" },
	{ "pattern-large-interval",
	    ZHDR "    claims:\n      x: { pattern: \"a{1,32767}\" }\n",
	    CG_ERR_POLICY, "p.yaml:12:21: zones.z.claims.x.pattern: too many "
	    "repetitions" },
	{ "pattern-empty", ZHDR "    claims:\n      x: { pattern: '' }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:21: zones.z.claims.x.pattern: must not be empty" },
	{ "required-string",
	    ZHDR "    claims:\n      x: { required: \"yes\" }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:22: zones.z.claims.x.required: expected true or false" },
	{ "split-tab", ZHDR "    claims:\n      x: { split: tab }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:19: zones.z.claims.x.split: expected space or comma" },
	{ "map-list", ZHDR "    claims:\n      x: { map: [a] }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:17: zones.z.claims.x.map: expected a mapping, not a "
	    "list" },
	{ "map-value-list", ZHDR "    claims:\n      x: { map: { a: [b] } }\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:22: zones.z.claims.x.map: expected a string, not a "
	    "list" },
	{ "map-dup", ZHDR "    claims:\n      x: { map: { a: b, a: c } }\n",
	    CG_ERR_POLICY, "p.yaml:12:25: duplicate key \"a\"" },

	/* require */
	{ "require-unknown-claim",
	    ZHDR "    claims:\n      sub: {}\n    require:\n"
	    "      roles: { all_of: [x] }\n", CG_ERR_POLICY,
	    "p.yaml:14:7: zones.z.require: unknown trusted claim \"roles\" "
	    "(not under claims)" },
	{ "require-neither",
	    ZHDR "    claims:\n      roles: {}\n    require:\n"
	    "      roles: {}\n", CG_ERR_POLICY,
	    "p.yaml:14:7: zones.z.require.roles: needs exactly one of all_of, "
	    "any_of" },
	{ "require-both",
	    ZHDR "    claims:\n      roles: {}\n    require:\n"
	    "      roles: { all_of: [a], any_of: [b] }\n", CG_ERR_POLICY,
	    "p.yaml:14:7: zones.z.require.roles: needs exactly one of all_of, "
	    "any_of" },
	{ "require-empty-list",
	    ZHDR "    claims:\n      roles: {}\n    require:\n"
	    "      roles: { any_of: [] }\n", CG_ERR_POLICY,
	    "p.yaml:14:24: zones.z.require.roles.any_of: must not be empty" },
	{ "require-unknown-key",
	    ZHDR "    claims:\n      roles: {}\n    require:\n"
	    "      roles: { one_of: [a] }\n", CG_ERR_POLICY,
	    "p.yaml:14:16: zones.z.require.roles: unknown key \"one_of\"" },
	{ "require-before-claims",
	    ZHDR "    require:\n      roles: { all_of: [a] }\n", CG_ERR_POLICY,
	    "p.yaml:12:7: zones.z.require: unknown trusted claim \"roles\"" },

	/* forward */
	{ "forward-unknown-claim",
	    ZHDR "    claims:\n      sub: {}\n    forward:\n"
	    "      X-Auth-Subject: subject\n", CG_ERR_POLICY,
	    "p.yaml:14:23: zones.z.forward.X-Auth-Subject: unknown trusted "
	    "claim \"subject\" (not under claims)" },
	{ "forward-bad-header",
	    ZHDR "    claims:\n      sub: {}\n    forward:\n"
	    "      X Auth: sub\n", CG_ERR_POLICY,
	    "p.yaml:14:7: zones.z.forward: invalid header name \"X Auth\"" },
	{ "forward-colon-header",
	    ZHDR "    claims:\n      sub: {}\n    forward:\n"
	    "      \"X-A:b\": sub\n", CG_ERR_POLICY,
	    "p.yaml:14:7: zones.z.forward: invalid header name \"X-A:b\"" },
	{ "forward-reserved",
	    ZHDR "    claims:\n      sub: {}\n    forward:\n"
	    "      content-length: sub\n", CG_ERR_POLICY,
	    "p.yaml:14:7: zones.z.forward: header \"content-length\" is "
	    "reserved" },
	{ "forward-dup-case",
	    ZHDR "    claims:\n      sub: {}\n    forward:\n"
	    "      X-Sub: sub\n      x-sub: sub\n", CG_ERR_POLICY,
	    "p.yaml:15:7: zones.z.forward: duplicate header \"x-sub\"" },

	/* match */
	{ "match-unknown-key", ZHDR "    match:\n      host: [a]\n",
	    CG_ERR_POLICY, "p.yaml:12:7: zones.z.match: unknown key \"host\"" },
	{ "match-path", ZHDR "    match:\n      paths: [/a, b/]\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:19: zones.z.match.paths: a path must start with /" },
	{ "match-path-space", ZHDR "    match:\n      paths: [\"/a b\"]\n",
	    CG_ERR_POLICY, "p.yaml:12:15: zones.z.match.paths: invalid path" },
	{ "match-method", ZHDR "    match:\n      methods: [\"GE T\"]\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:17: zones.z.match.methods: invalid method" },
	{ "match-host", ZHDR "    match:\n      hosts: [\"a b\"]\n",
	    CG_ERR_POLICY, "p.yaml:12:15: zones.z.match.hosts: invalid host" },
	{ "match-empty-list", ZHDR "    match:\n      hosts: []\n",
	    CG_ERR_POLICY,
	    "p.yaml:12:14: zones.z.match.hosts: must not be empty" },

	/* key files (loaded last, so only a policy without other errors
	 * reaches them) */
	{ "jwks-missing",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: keys/missing.json\n    algorithms: [RS256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n",
	    CG_ERR_IO, "p.yaml:5:16: " },
	{ "jwks-dir",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: keys\n    algorithms: [RS256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n",
	    CG_ERR_IO, "p.yaml:5:16: " },
	{ "jwks-not-a-set",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: keys/notjwks.json\n    algorithms: [RS256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n",
	    CG_ERR_KEYSET, "p.yaml:5:16: " },
	{ "jwks-is-yaml",
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: ../policy/full.yaml\n    algorithms: [RS256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n",
	    CG_ERR_KEYSET, "p.yaml:5:16: " },
};

static void
test_errors(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++)
		bad += (size_t)check_err(err_cases[i].name, err_cases[i].yaml,
		    strlen(err_cases[i].yaml), err_cases[i].code,
		    err_cases[i].msg);
	assert_int_equal(bad, 0);
}

/* The OS error reaches the message of a missing key file. */
static void
test_jwks_missing_names_os_error(void **state)
{
	static const char yaml[] =
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: keys/missing.json\n    algorithms: [RS256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n";
	struct cg_policy *p = NULL;
	struct cg_error err;

	(void)state;
	assert_int_equal(cg__policy_parse(yaml, sizeof(yaml) - 1, "p.yaml",
	    fixdir, &p, &err), CG_ERR_IO);
	assert_null(p);
	assert_non_null(strstr(err.msg, "missing.json"));
	assert_non_null(strstr(err.msg, "No such file or directory"));
}

/* ---- the contract's example, field by field --------------------------- */

static void
assert_pos(struct cg_pos pos, unsigned line, unsigned col)
{
	assert_int_equal(pos.line, line);
	assert_int_equal(pos.col, col);
}

static void
test_full_policy(void **state)
{
	char path[4200], want[4200];
	struct cg_policy *p = NULL;
	struct cg_error err;
	const struct cg_issuer *is;
	const struct cg_zone *z;
	const struct cg_claim_rule *r;
	cg_code rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/full.yaml", fixdir);
	rc = cg_policy_load(path, &p, &err);
	if (rc != CG_OK)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, CG_OK);
	assert_string_equal(p->path, path);
	assert_int_equal(cg_policy_warning_count(p), 0);
	assert_null(cg_policy_warning(p, 0));

	assert_int_equal(p->nissuers, 2);
	is = &p->issuers[0];
	assert_string_equal(is->name, "corp-sso");
	assert_string_equal(is->iss, "https://sso.example.com");
	assert_int_equal(is->iss_len, strlen("https://sso.example.com"));
	snprintf(want, sizeof(want), "%s/keys/corp.jwks.json", fixdir);
	assert_string_equal(is->jwks_file, want);
	assert_null(is->jwks_uri);
	assert_non_null(is->keys);
	assert_int_equal(cg_keyset_count(is->keys), 2);
	assert_int_equal(is->algs,
	    CG_ALG_BIT(CG_ALG_RS256) | CG_ALG_BIT(CG_ALG_ES256));
	assert_int_equal(is->types.n, 2);
	assert_string_equal(is->types.v[0], "at+jwt");
	assert_string_equal(is->types.v[1], "jwt");
	assert_int_equal(is->max_lifetime, 3600);
	assert_pos(is->pos, 4, 3);
	assert_pos(is->keys_pos, 6, 16);

	is = &p->issuers[1];
	assert_string_equal(is->name, "partner");
	assert_string_equal(is->iss, "https://partner.example.net");
	assert_null(is->jwks_file);
	assert_string_equal(is->jwks_uri, "https://partner.example.net/jwks");
	assert_null(is->keys);
	assert_int_equal(is->algs, CG_ALG_BIT(CG_ALG_EDDSA));
	assert_int_equal(is->types.n, 0);
	assert_int_equal(is->max_lifetime, -1);
	assert_pos(is->pos, 10, 3);
	assert_pos(is->keys_pos, 12, 15);

	assert_int_equal(cg_policy_zone_count(p), 2);
	assert_string_equal(cg_policy_zone_name(p, 0), "payments");
	assert_string_equal(cg_policy_zone_name(p, 1), "reports");
	assert_null(cg_policy_zone_name(p, 2));
	assert_int_equal(cg__policy_zone_index(p, "payments"), 0);
	assert_int_equal(cg__policy_zone_index(p, "reports"), 1);
	assert_int_equal(cg__policy_zone_index(p, "Reports"), -1);
	assert_int_equal(cg__policy_zone_index(p, NULL), -1);

	z = &p->zones[0];
	assert_string_equal(z->name, "payments");
	assert_string_equal(z->audience, "https://api.example.com/payments");
	assert_int_equal(z->audience_exact, 0);
	assert_int_equal(z->naccept, 2);
	assert_int_equal(z->accept[0], 0);
	assert_int_equal(z->accept[1], 1);
	assert_int_equal(z->leeway, 30);
	assert_pos(z->leeway_pos, 19, 13);
	assert_int_equal(z->max_age, 300);
	assert_int_equal(z->require_claims.n, 2);
	assert_string_equal(z->require_claims.v[0], "sub");
	assert_string_equal(z->require_claims.v[1], "jti");
	assert_int_equal(z->replay, 0);
	assert_int_equal(z->max_delegation, 0);
	assert_pos(z->pos, 15, 3);

	assert_int_equal(z->nclaims, 3);
	r = &z->claims[0];
	assert_string_equal(r->name, "sub");
	assert_string_equal(r->claim, "sub");
	assert_null(r->from);
	assert_int_equal(r->nfrom, 0);
	assert_int_equal(r->has_pattern, 0);
	assert_int_equal(r->required, 0);
	assert_int_equal(r->split, CG_SPLIT_NONE);
	assert_int_equal(r->has_map, 0);
	assert_pos(r->pos, 25, 7);

	r = &z->claims[1];
	assert_string_equal(r->name, "tenant");
	assert_string_equal(r->claim, "tid");
	assert_int_equal(r->nfrom, 1);
	assert_int_equal(r->from[0], 0);
	assert_int_equal(r->has_pattern, 1);
	assert_string_equal(r->pattern, "^[a-z0-9-]{1,64}$");
	assert_int_equal(regexec(&r->re, "acme-1", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(&r->re, "Acme", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(&r->re, "acme 1", 0, NULL, 0), 0);
	assert_int_equal(r->required, 1);
	assert_int_equal(r->split, CG_SPLIT_NONE);
	assert_pos(r->pos, 26, 7);

	r = &z->claims[2];
	assert_string_equal(r->name, "roles");
	assert_string_equal(r->claim, "scope");
	assert_int_equal(r->nfrom, 1);
	assert_int_equal(r->from[0], 0);
	assert_int_equal(r->has_pattern, 0);
	assert_int_equal(r->split, CG_SPLIT_SPACE);
	assert_int_equal(r->has_map, 1);
	assert_int_equal(r->nmap, 1);
	assert_string_equal(r->map[0].from, "payments:write");
	assert_string_equal(r->map[0].to, "payments-writer");
	assert_pos(r->pos, 27, 7);

	assert_int_equal(z->nrequire, 1);
	assert_string_equal(z->require[0].claim, "roles");
	assert_int_equal(z->require[0].kind, CG_REQUIRE_ALL_OF);
	assert_int_equal(z->require[0].values.n, 1);
	assert_string_equal(z->require[0].values.v[0], "payments-writer");
	assert_pos(z->require[0].pos, 33, 7);

	assert_int_equal(z->nforward, 3);
	assert_string_equal(z->forward[0].header, "X-Auth-Subject");
	assert_string_equal(z->forward[0].claim, "sub");
	assert_string_equal(z->forward[1].header, "X-Auth-Tenant");
	assert_string_equal(z->forward[1].claim, "tenant");
	assert_string_equal(z->forward[2].header, "X-Auth-Roles");
	assert_string_equal(z->forward[2].claim, "roles");

	assert_int_equal(z->has_match, 1);
	assert_int_equal(z->match_hosts.n, 1);
	assert_string_equal(z->match_hosts.v[0], "api.example.com");
	assert_int_equal(z->match_paths.n, 1);
	assert_string_equal(z->match_paths.v[0], "/payments/");
	assert_int_equal(z->match_methods.n, 1);
	assert_string_equal(z->match_methods.v[0], "POST");

	z = &p->zones[1];
	assert_string_equal(z->name, "reports");
	assert_int_equal(z->audience_exact, 1);
	assert_int_equal(z->naccept, 1);
	assert_int_equal(z->accept[0], 1);
	assert_int_equal(z->leeway, 120);
	assert_pos(z->leeway_pos, 46, 13);
	assert_int_equal(z->max_age, -1);
	assert_int_equal(z->require_claims.n, 0);
	assert_int_equal(z->replay, 1);
	assert_int_equal(z->max_delegation, 2);
	assert_int_equal(z->nclaims, 1);
	r = &z->claims[0];
	assert_string_equal(r->claim, "groups");
	assert_int_equal(r->split, CG_SPLIT_COMMA);
	assert_int_equal(r->has_map, 1);
	assert_int_equal(r->nmap, 0);
	assert_int_equal(z->nrequire, 1);
	assert_int_equal(z->require[0].kind, CG_REQUIRE_ANY_OF);
	assert_int_equal(z->require[0].values.n, 2);
	assert_string_equal(z->require[0].values.v[1], "admins");
	assert_int_equal(z->nforward, 0);
	assert_int_equal(z->has_match, 0);
	assert_int_equal(z->match_hosts.n, 0);
	cg_policy_free(p);
}

/* Defaults, and the same policy written as JSON. */
static void
test_defaults_and_json(void **state)
{
	struct cg_policy *p;
	const struct cg_zone *z;

	(void)state;
	p = parse_ok(ZHDR);
	z = &p->zones[0];
	assert_int_equal(z->leeway, 30);
	assert_pos(z->leeway_pos, 0, 0);
	assert_int_equal(z->max_age, -1);
	assert_int_equal(p->issuers[0].max_lifetime, -1);
	assert_int_equal(z->max_delegation, 0);
	assert_int_equal(z->replay, 0);
	assert_int_equal(z->audience_exact, 0);
	assert_int_equal(z->nclaims, 0);
	assert_int_equal(z->has_match, 0);
	cg_policy_free(p);

	p = parse_ok("{\"version\": 1, \"issuers\": {\"corp\": {\"issuer\": "
	    "\"i\", \"jwks_uri\": \"http://127.0.0.1:8080/jwks\", "
	    "\"insecure_http\": true, \"algorithms\": [\"HS256\"]}}, \"zones\": {\"z\": {\"audience\": "
	    "\"a\", \"accept\": [\"corp\"], \"leeway\": 300, \"max_delegation\": "
	    "15, \"match\": {}, \"claims\": {\"x\": {\"required\": false}}}}}");
	z = &p->zones[0];
	assert_string_equal(p->issuers[0].jwks_uri,
	    "http://127.0.0.1:8080/jwks");
	assert_pos(p->issuers[0].keys_pos, 1, 64);
	assert_int_equal(z->leeway, 300);
	assert_int_equal(z->max_delegation, 15);
	assert_int_equal(z->has_match, 1);
	assert_int_equal(z->claims[0].required, 0);
	cg_policy_free(p);

	/* `replay: off` is the string, not YAML 1.1's false; `5m` is the
	 * leeway ceiling itself. */
	p = parse_ok(ZHDR "    replay: off\n    leeway: 5m\n"
	    "    audience_exact: TRUE\n");
	assert_int_equal(p->zones[0].replay, 0);
	assert_int_equal(p->zones[0].leeway, 300);
	assert_int_equal(p->zones[0].audience_exact, 1);
	cg_policy_free(p);
}

/* The wrapped pattern matches whole values only. */
static void
test_pattern_anchoring(void **state)
{
	struct cg_policy *p;
	const regex_t *re;

	(void)state;
	p = parse_ok(ZHDR "    claims:\n      x: { pattern: \"a|b\" }\n"
	    "      y: { pattern: \"[)(]x\" }\n"
	    "      w: { pattern: \"[[:alpha:]]+\\\\)\" }\n");
	re = &p->zones[0].claims[0].re;
	assert_int_equal(regexec(re, "a", 0, NULL, 0), 0);
	assert_int_equal(regexec(re, "b", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(re, "ab", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(re, "xa", 0, NULL, 0), 0);
	re = &p->zones[0].claims[1].re;
	assert_int_equal(regexec(re, ")x", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(re, "x", 0, NULL, 0), 0);
	re = &p->zones[0].claims[2].re;
	assert_int_equal(regexec(re, "ab)", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(re, "ab", 0, NULL, 0), 0);
	cg_policy_free(p);
}

/* ---- key files ------------------------------------------------------- */

static void
test_relative_keys_and_warnings(void **state)
{
	char path[4200], want[8400], cwd[4096];
	struct cg_policy *p = NULL;
	struct cg_error err;
	const char *w;

	(void)state;
	/* A policy in a sub-folder names ../keys/...: resolved against its
	 * own folder, not the working directory. */
	snprintf(path, sizeof(path), "%s/nested/p.yaml", fixdir);
	assert_int_equal(cg_policy_load(path, &p, &err), CG_OK);
	snprintf(want, sizeof(want), "%s/nested/../keys/weak.jwks.json",
	    fixdir);
	assert_string_equal(p->issuers[0].jwks_file, want);
	assert_int_equal(cg_keyset_count(p->issuers[0].keys), 1);
	assert_int_equal(cg_policy_warning_count(p), 1);
	w = cg_policy_warning(p, 0);
	snprintf(want, sizeof(want), "%s:3:36: issuer corp: ", path);
	assert_int_equal(strncmp(w, want, strlen(want)), 0);
	assert_non_null(strstr(w, "weak-1"));
	cg_policy_free(p);

	/* The same with a relative policy path and a bare file name. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(fixdir), 0);
	assert_int_equal(cg_policy_load("nested/p.yaml", &p, &err), CG_OK);
	assert_string_equal(p->issuers[0].jwks_file,
	    "nested/../keys/weak.jwks.json");
	w = cg_policy_warning(p, 0);
	assert_string_equal(w, "nested/p.yaml:3:36: issuer corp: key 0 "
	    "(kid \"weak-1\"): skipped: RSA key of 1024 bits (minimum 2048)");
	cg_policy_free(p);
	assert_int_equal(cg_policy_load("full.yaml", &p, &err), CG_OK);
	assert_string_equal(p->issuers[0].jwks_file, "keys/corp.jwks.json");
	cg_policy_free(p);
	assert_int_equal(chdir(cwd), 0);

	/* An absolute jwks_file is used as written. */
	{
		char yaml[8400];

		snprintf(yaml, sizeof(yaml),
		    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
		    "    jwks_file: \"%s/keys/corp.jwks.json\"\n"
		    "    algorithms: [RS256]\n"
		    "zones:\n  z:\n    audience: a\n    accept: [corp]\n",
		    fixdir);
		assert_int_equal(cg__policy_parse(yaml, strlen(yaml), "p.yaml",
		    "/nonexistent", &p, &err), CG_OK);
		snprintf(want, sizeof(want), "%s/keys/corp.jwks.json", fixdir);
		assert_string_equal(p->issuers[0].jwks_file, want);
		cg_policy_free(p);
	}
}

static void
test_load_io_errors(void **state)
{
	struct cg_policy *p = (struct cg_policy *)1;
	struct cg_error err;
	char path[4200];

	(void)state;
	assert_int_equal(cg_policy_load("/nonexistent/p.yaml", &p, &err),
	    CG_ERR_IO);
	assert_null(p);
	assert_string_equal(err.msg,
	    "/nonexistent/p.yaml: No such file or directory");
	assert_int_equal(cg_policy_load(fixdir, &p, &err), CG_ERR_IO);
	assert_null(p);
	snprintf(path, sizeof(path), "%s/keys/notjwks.json", fixdir);
	/* JSON that is not a policy. */
	assert_int_equal(cg_policy_load(path, &p, &err), CG_ERR_POLICY);
	assert_non_null(strstr(err.msg, ":1:2: unknown key \"not_keys\""));
	assert_int_equal(cg_policy_load(NULL, &p, &err), CG_ERR_ARG);
	assert_int_equal(cg_policy_load(path, NULL, &err), CG_ERR_ARG);
	assert_int_equal(cg__policy_parse("x", 1, "p", NULL, NULL, &err),
	    CG_ERR_ARG);
	/* err may be NULL. */
	assert_int_equal(cg_policy_load("/nonexistent", &p, NULL), CG_ERR_IO);
	assert_int_equal(cg__policy_parse("version: 2", 10, "p", NULL, &p,
	    NULL), CG_ERR_POLICY);
	assert_null(p);
}

static void
test_null_safe(void **state)
{
	(void)state;
	cg_policy_free(NULL);
	assert_int_equal(cg_policy_zone_count(NULL), 0);
	assert_null(cg_policy_zone_name(NULL, 0));
	assert_int_equal(cg_policy_warning_count(NULL), 0);
	assert_null(cg_policy_warning(NULL, 0));
	assert_int_equal(cg__policy_zone_index(NULL, "z"), -1);
}

/* ---- durations and typ ------------------------------------------------ */

static void
test_durations(void **state)
{
	static const struct {
		const char *s;
		int ok;
		int64_t secs;
	} rows[] = {
		{ "0", 1, 0 }, { "30", 1, 30 }, { "30s", 1, 30 },
		{ "5m", 1, 300 }, { "1h", 1, 3600 }, { "2d", 1, 172800 },
		{ "007s", 1, 7 }, { "3650d", 1, 315360000 },
		{ "87600h", 1, 315360000 }, { "5256000m", 1, 315360000 },
		{ "315360000", 1, 315360000 }, { "315360000s", 1, 315360000 },
		{ "3651d", 0, 0 }, { "87601h", 0, 0 }, { "315360001", 0, 0 },
		{ "5256001m", 0, 0 },
		{ "99999999999999999999999999", 0, 0 },
		{ "", 0, 0 }, { "s", 0, 0 }, { "-1", 0, 0 }, { "+1", 0, 0 },
		{ "1.5", 0, 0 }, { "1.5h", 0, 0 }, { "1w", 0, 0 },
		{ "1S", 0, 0 }, { "1M", 0, 0 }, { "1 s", 0, 0 },
		{ " 1", 0, 0 }, { "1s ", 0, 0 }, { "1ss", 0, 0 },
		{ "1m30s", 0, 0 }, { "0x10", 0, 0 }, { "1e3", 0, 0 },
	};
	size_t i;
	int64_t v;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		v = -7;
		if (rows[i].ok) {
			assert_int_equal(cg__duration_parse(rows[i].s, &v), 0);
			assert_int_equal(v, rows[i].secs);
		} else {
			if (cg__duration_parse(rows[i].s, &v) != -1)
				print_error("accepted \"%s\"\n", rows[i].s);
			assert_int_equal(cg__duration_parse(rows[i].s, &v), -1);
			assert_int_equal(v, -7);
		}
	}
	assert_int_equal(cg__duration_parse(NULL, &v), -1);
	assert_int_equal(cg__duration_parse("1", NULL), -1);
}

static void
test_typ_normalise(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "JWT", "jwt" }, { "application/JWT", "jwt" },
		{ "APPLICATION/at+JWT", "at+jwt" }, { "Application/", "" },
		{ "applicationjwt", "applicationjwt" },
		{ "x/application/jwt", "x/application/jwt" },
		{ "application/application/jwt", "application/jwt" },
		{ "", "" }, { "appl", "appl" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(cg__typ_normalise(rows[i].in,
		    strlen(rows[i].in), out, sizeof(out)), 0);
		assert_string_equal(out, rows[i].out);
	}
	/* Exact fit, one byte short, embedded bytes kept. */
	assert_int_equal(cg__typ_normalise("application/JWT", 15, out, 4), 0);
	assert_string_equal(out, "jwt");
	assert_int_equal(cg__typ_normalise("application/JWT", 15, out, 3), -1);
	assert_int_equal(cg__typ_normalise("JWT", 3, out, 0), -1);
	assert_int_equal(cg__typ_normalise("JWTX", 3, out, sizeof(out)), 0);
	assert_string_equal(out, "jwt");
	assert_int_equal(cg__typ_normalise("\xc3\x89T", 3, out, sizeof(out)),
	    0);
	assert_string_equal(out, "\xc3\x89t");
	assert_int_equal(cg__typ_normalise(NULL, 0, out, sizeof(out)), -1);
}

/* ---- limits at N and N+1 ---------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
bput(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 1;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	b->len += (size_t)n;
}

static void
bstart(struct buf *b)
{
	b->cap = 4096;
	b->len = 0;
	b->p = malloc(b->cap);
	assert_non_null(b->p);
	b->p[0] = '\0';
}

/* A policy with `n` issuers (remote keys) accepted by one zone. */
static void
gen_issuers(struct buf *b, size_t n)
{
	size_t i;

	bstart(b);
	bput(b, "version: 1\nissuers:\n");
	for (i = 0; i < n; i++)
		bput(b, "  i%zu: {issuer: \"u%zu\", jwks_uri: "
		    "\"https://k/%zu\", algorithms: [ES256]}\n", i, i, i);
	bput(b, "zones:\n  z: {audience: a, accept: [i0]}\n");
}

static void
gen_zones(struct buf *b, size_t n)
{
	size_t i;

	bstart(b);
	bput(b, "version: 1\nissuers:\n  i: {issuer: u, jwks_uri: "
	    "\"https://k\", algorithms: [ES256]}\nzones:\n");
	for (i = 0; i < n; i++)
		bput(b, "  z%zu: {audience: a, accept: [i]}\n", i);
}

static void
gen_claims(struct buf *b, size_t n)
{
	size_t i;

	bstart(b);
	bput(b, "version: 1\nissuers:\n  i: {issuer: u, jwks_uri: "
	    "\"https://k\", algorithms: [ES256]}\nzones:\n  z:\n"
	    "    audience: a\n    accept: [i]\n    claims:\n");
	for (i = 0; i < n; i++)
		bput(b, "      c%zu: {}\n", i);
}

static void
gen_list(struct buf *b, size_t n)
{
	size_t i;

	bstart(b);
	bput(b, "version: 1\nissuers:\n  i: {issuer: u, jwks_uri: "
	    "\"https://k\", algorithms: [ES256]}\nzones:\n  z:\n"
	    "    audience: a\n    accept: [i]\n    require_claims: [");
	for (i = 0; i < n; i++)
		bput(b, "%sc%zu", i > 0 ? "," : "", i);
	bput(b, "]\n");
}

static void
gen_map(struct buf *b, size_t n)
{
	size_t i;

	bstart(b);
	bput(b, "version: 1\nissuers:\n  i: {issuer: u, jwks_uri: "
	    "\"https://k\", algorithms: [ES256]}\nzones:\n  z:\n"
	    "    audience: a\n    accept: [i]\n    claims:\n      c:\n"
	    "        map:\n");
	for (i = 0; i < n; i++)
		bput(b, "          k%zu: v\n", i);
}

/* Nesting: the root mapping is level 1, then `n - 1` lists. */
static void
gen_depth(struct buf *b, size_t n)
{
	size_t i;

	bstart(b);
	bput(b, "version: 1\nx: ");
	for (i = 1; i < n; i++)
		bput(b, "[");
	for (i = 1; i < n; i++)
		bput(b, "]");
	bput(b, "\n");
}

static void
gen_pattern(struct buf *b, size_t n)
{
	size_t i;

	bstart(b);
	bput(b, "version: 1\nissuers:\n  i: {issuer: u, jwks_uri: "
	    "\"https://k\", algorithms: [ES256]}\nzones:\n  z:\n"
	    "    audience: a\n    accept: [i]\n    claims:\n"
	    "      c: {pattern: \"");
	for (i = 0; i < n; i++)
		bput(b, "a");
	bput(b, "\"}\n");
}

static void
test_limits(void **state)
{
	struct cg_policy *p;
	struct buf b;

	(void)state;
	gen_issuers(&b, CG_LIMIT_POLICY_ISSUERS);
	p = parse_ok(b.p);
	assert_int_equal(p->nissuers, CG_LIMIT_POLICY_ISSUERS);
	cg_policy_free(p);
	free(b.p);
	gen_issuers(&b, CG_LIMIT_POLICY_ISSUERS + 1);
	assert_int_equal(check_err("issuers+1", b.p, b.len, CG_ERR_POLICY,
	    "p.yaml:3:3: issuers: more than 256 issuers"), 0);
	free(b.p);

	gen_zones(&b, CG_LIMIT_POLICY_ZONES);
	p = parse_ok(b.p);
	assert_int_equal(p->nzones, CG_LIMIT_POLICY_ZONES);
	cg_policy_free(p);
	free(b.p);
	gen_zones(&b, CG_LIMIT_POLICY_ZONES + 1);
	assert_int_equal(check_err("zones+1", b.p, b.len, CG_ERR_POLICY,
	    "p.yaml:5:3: zones: more than 256 zones"), 0);
	free(b.p);

	gen_claims(&b, CG_LIMIT_ZONE_CLAIMS);
	p = parse_ok(b.p);
	assert_int_equal(p->zones[0].nclaims, CG_LIMIT_ZONE_CLAIMS);
	cg_policy_free(p);
	free(b.p);
	gen_claims(&b, CG_LIMIT_ZONE_CLAIMS + 1);
	assert_int_equal(check_err("claims+1", b.p, b.len, CG_ERR_POLICY,
	    "p.yaml:9:7: zones.z.claims: more than 256 claims"), 0);
	free(b.p);

	gen_list(&b, CG_LIMIT_POLICY_LIST);
	p = parse_ok(b.p);
	assert_int_equal(p->zones[0].require_claims.n, CG_LIMIT_POLICY_LIST);
	cg_policy_free(p);
	free(b.p);
	/* N+1: test_list_cap_position. */

	gen_map(&b, CG_LIMIT_POLICY_MAP);
	p = parse_ok(b.p);
	assert_int_equal(p->zones[0].claims[0].nmap, CG_LIMIT_POLICY_MAP);
	cg_policy_free(p);
	free(b.p);
	gen_map(&b, CG_LIMIT_POLICY_MAP + 1);
	assert_int_equal(check_err("map+1", b.p, b.len, CG_ERR_POLICY,
	    "p.yaml:4107:11: more than 4096 mapping entries"), 0);
	free(b.p);

	gen_depth(&b, CG_LIMIT_POLICY_DEPTH);
	assert_int_equal(check_err("depth", b.p, b.len, CG_ERR_POLICY,
	    "p.yaml:2:1: unknown key \"x\""), 0);
	free(b.p);
	gen_depth(&b, CG_LIMIT_POLICY_DEPTH + 1);
	assert_int_equal(check_err("depth+1", b.p, b.len, CG_ERR_POLICY,
	    "p.yaml:2:19: nested deeper than 16 levels"), 0);
	free(b.p);

	gen_pattern(&b, CG_LIMIT_PATTERN_BYTES);
	p = parse_ok(b.p);
	cg_policy_free(p);
	free(b.p);
	gen_pattern(&b, CG_LIMIT_PATTERN_BYTES + 1);
	assert_int_equal(check_err("pattern+1", b.p, b.len, CG_ERR_POLICY,
	    "p.yaml:9:20: zones.z.claims.c.pattern: longer than 1024 bytes"),
	    0);
	free(b.p);
}

/* The list cap is reported at the first entry past it. */
static void
test_list_cap_position(void **state)
{
	struct buf b;
	char want[64];

	(void)state;
	gen_list(&b, CG_LIMIT_POLICY_LIST + 1);
	/* "    require_claims: [" is 21 columns; entries c0..c1023 and
	 * their commas come before the 1025th. */
	{
		size_t col = 22, i;

		for (i = 0; i < CG_LIMIT_POLICY_LIST; i++) {
			char tmp[16];

			col += (size_t)snprintf(tmp, sizeof(tmp), "c%zu", i) + 1;
		}
		snprintf(want, sizeof(want),
		    "p.yaml:8:%zu: more than 1024 list entries", col);
	}
	assert_int_equal(check_err("list+1 position", b.p, b.len,
	    CG_ERR_POLICY, want), 0);
	free(b.p);
}

/* The byte cap, through cg__policy_parse and through a file. */
static void
test_size_limit(void **state)
{
	static const char head[] =
	    "version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_uri: https://k/jwks\n    algorithms: [RS256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n#";
	const size_t hl = sizeof(head) - 1, cap = CG_LIMIT_POLICY_BYTES;
	char *text, tmpl[] = "/tmp/cg_policy_XXXXXX";
	struct cg_policy *p = NULL;
	struct cg_error err;
	FILE *fp;
	int fd;

	(void)state;
	/* Exactly the cap: a valid policy padded with a comment. */
	text = malloc(cap + 1);
	assert_non_null(text);
	memcpy(text, head, hl);
	memset(text + hl, 'x', cap - hl);
	text[cap - 1] = '\n';
	assert_int_equal(cg__policy_parse(text, cap, "p.yaml", NULL, &p, &err),
	    CG_OK);
	cg_policy_free(p);
	text[cap - 1] = 'x';
	text[cap] = '\n';
	assert_int_equal(check_err("bytes+1", text, cap + 1, CG_ERR_POLICY,
	    "p.yaml: larger than 1048576 bytes"), 0);

	/* The same on disk. */
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	fp = fdopen(fd, "wb");
	assert_non_null(fp);
	text[cap - 1] = '\n';
	assert_int_equal(fwrite(text, 1, cap, fp), cap);
	assert_int_equal(fflush(fp), 0);
	assert_int_equal(cg_policy_load(tmpl, &p, &err), CG_OK);
	cg_policy_free(p);
	assert_int_equal(fputc('\n', fp), '\n');
	assert_int_equal(fflush(fp), 0);
	p = (struct cg_policy *)1;
	assert_int_equal(cg_policy_load(tmpl, &p, &err), CG_ERR_POLICY);
	assert_null(p);
	assert_string_equal(err.msg + strlen(tmpl),
	    ": larger than 1048576 bytes");
	fclose(fp);
	unlink(tmpl);
	free(text);
}

/* ---- allocation failure ------------------------------------------------- */

static void
alloc_failures(const char *yaml)
{
	struct cg_policy *p;
	struct cg_error err;
	unsigned long n;
	cg_code rc = CG_ERR_NOMEM;

	for (n = 1; n < 100000 && rc != CG_OK; n++) {
		p = (struct cg_policy *)1;
		cg__alloc_fail_after(n);
		rc = cg__policy_parse(yaml, strlen(yaml), "p.yaml", fixdir, &p,
		    &err);
		cg__alloc_fail_after(0);
		if (rc != CG_OK) {
			assert_null(p);
			assert_int_not_equal(rc, CG_ERR_POLICY);
		}
	}
	assert_int_equal(rc, CG_OK);
	cg_policy_free(p);
}

static void
test_alloc_failure(void **state)
{
	(void)state;
	/* Policy structures only (remote keys)... */
	alloc_failures("version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_uri: https://k/jwks\n    algorithms: [RS256]\n"
	    "    types: [JWT]\n    max_lifetime: 1h\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n"
	    "    require_claims: [sub]\n"
	    "    claims:\n      sub: {}\n"
	    "      roles: { claim: scope, from: [corp], pattern: \"[a-z]+\", "
	    "split: space, map: { a: b } }\n"
	    "    require:\n      roles: { any_of: [b] }\n"
	    "    forward:\n      X-Sub: sub\n"
	    "    match: { hosts: [h], paths: [/], methods: [get] }\n");
	/* ...and with key files and their warnings. */
	alloc_failures("version: 1\nissuers:\n  corp:\n    issuer: i\n"
	    "    jwks_file: keys/weak.jwks.json\n    algorithms: [RS256]\n"
	    "zones:\n  z:\n    audience: a\n    accept: [corp]\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_jwks_missing_names_os_error),
		cmocka_unit_test(test_full_policy),
		cmocka_unit_test(test_defaults_and_json),
		cmocka_unit_test(test_pattern_anchoring),
		cmocka_unit_test(test_relative_keys_and_warnings),
		cmocka_unit_test(test_load_io_errors),
		cmocka_unit_test(test_null_safe),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_typ_normalise),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_list_cap_position),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, setup_dirs, NULL);
}
