/*
 * fuzz_policy.c - policy loading: cg__policy_parse on arbitrary bytes
 * (YAML 1.1 or JSON), with a base folder holding one valid key set,
 * k.json (a copy of fuzz/keys/jwks.json), so that `jwks_file: k.json`
 * loads, and a revocations file, r.jsonl. Nothing is fetched or
 * connected to while a policy loads (remote key sets and Redis are used
 * only by serve and the CLI), so the fuzzer touches no network. A policy that loads is then used: lint, routing of a fixed
 * request, and a decision on every zone (at most 8) for a few tokens we
 * signed, with the forward headers rendered.
 *
 * Policy files are trusted configuration; fuzzing them proves that a
 * broken or hostile file is refused with a message, never a crash, a
 * leak or a half-built policy.
 *
 * Invariants (abort when broken):
 *   - a failed parse fills struct cg_error (code POLICY, IO or KEYSET)
 *     with a printable message and leaves no policy;
 *   - a loaded policy's names, warnings and lint lines are strings, the
 *     warnings and lint lines printable ASCII;
 *   - decisions follow cgf_check_decision(), except the allow rule: the
 *     fuzzed policy decides what is allowed, but an allow is only
 *     possible for a token we signed (we decide only those);
 *   - every forward header value has no byte below 0x20 and no 0x7f.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "policy.h"

static const char *base;

/* r.jsonl, for `store: { type: memory, revocations_file: r.jsonl }`. */
static const char revocations[] =
    "# revocations for fuzz_policy\n"
    "{\"issuer\":\"i\",\"jti\":\"v-rs256\"}\n"
    "{\"issuer\":\"idp\",\"sub\":\"mallory\",\"reason\":\"fuzz\"}\n"
    "{\"issuer\":\"i\",\"kid\":\"es1\",\"expires\":0}\n"
    "{\"issuer\":\"idp\",\"issued_before\":1600000000}\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;
	char *jwks;

	(void)argc;
	(void)argv;
	cgf_init_tokens();
	base = cgf_tempdir();
	jwks = cgf_read("keys/jwks.json", &len);
	cgf_write(base, "k.json", jwks, len);
	free(jwks);
	cgf_write(base, "r.jsonl", revocations, sizeof(revocations) - 1);
	return 0;
}

static void
emit_lint(void *ctx, const char *line)
{
	(void)ctx;
	cgf_check_printable(line, "a lint line is not printable ASCII");
}

static void
check_forward(void *ctx, const char *name, const char *value)
{
	const unsigned char *v = (const unsigned char *)value;

	(void)ctx;
	if (name == NULL || name[0] == '\0' || value == NULL)
		cgf_fail("a forward header without name or value");
	for (; *v != '\0'; v++)
		if (*v < 0x20 || *v == 0x7f)
			cgf_fail("a forward header value holds a control byte");
}

static void
use_policy(const struct cg_policy *p)
{
	size_t i, j, nz = cg_policy_zone_count(p), ntok = 0;

	for (i = 0; i < cg_policy_warning_count(p); i++)
		cgf_check_printable(cg_policy_warning(p, i),
		    "a policy warning is not printable ASCII");
	(void)cg__policy_lint(p, emit_lint, NULL);
	(void)cg__policy_route(p, "api.fuzz.example", "/v1/items", "GET");
	(void)cg__policy_route(p, NULL, "/", "POST");
	for (i = 0; i < nz; i++) {
		const char *zn = cg_policy_zone_name(p, i);
		if (zn == NULL || cg__policy_zone_index(p, zn) != (long)i)
			cgf_fail("a zone's name does not find the zone");
	}
	if (cg_policy_zone_name(p, nz) != NULL)
		cgf_fail("a zone exists out of range");
	for (i = 0; i < nz && i < 8; i++) {
		for (j = 0; j < cgf_minted_count() && ntok < 3; j++) {
			struct cg_decision *d = NULL;
			struct cg_store *st = NULL;
			struct cg_error err;
			const char *name, *tok;
			size_t len;
			cg_code rc;

			tok = cgf_minted(j, &len, &name);
			if (strncmp(name, "valid-", 6) != 0)
				continue;
			if (cg_store_memory_new(&st) != CG_OK)
				cgf_fail("cg_store_memory_new failed");
			memset(&err, 0, sizeof(err));
			rc = cg_decide(p, cg_policy_zone_name(p, i), tok, len,
			    CGF_NOW, st, &d, &err);
			cgf_check_error(&err, rc);
			if (rc != CG_OK && rc != CG_ERR_NOMEM)
				cgf_fail("cg_decide failed on a zone of the "
					 "policy");
			if (d != NULL) {
				cgf_check_decision(d, tok, len, 0);
				(void)cg__forward_headers(p, d, check_forward,
				    NULL);
				cg_decision_free(d);
			}
			cg_store_free(st);
			ntok++;
		}
		ntok = 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_policy *p = NULL;
	struct cg_error err;
	cg_code rc;

	memset(&err, 0, sizeof(err));
	rc = cg__policy_parse((const char *)data, size, "fuzz.yaml", base, &p,
	    &err);
	cgf_check_error(&err, rc);
	if (rc != CG_OK) {
		if (p != NULL)
			cgf_fail("a failed parse left a policy");
		if (rc != CG_ERR_POLICY && rc != CG_ERR_IO &&
		    rc != CG_ERR_KEYSET && rc != CG_ERR_NOMEM)
			cgf_fail("cg__policy_parse returned an undocumented "
				 "code");
		return 0;
	}
	use_policy(p);
	cg_policy_free(p);
	return 0;
}
