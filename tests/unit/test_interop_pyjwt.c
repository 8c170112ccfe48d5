/*
 * test_interop_pyjwt.c - claimgate against an independent implementation.
 *
 * tests/interop/pyjwt_mint.py (run with Debian's /usr/bin/python3, PyJWT
 * and python3-cryptography) generates a key per algorithm, writes the
 * public keys as a JWK Set with PyJWT's own to_jwk, mints tokens with
 * PyJWT plus tampered and oddly encoded variants, and records for each
 * whether PyJWT's jwt.decode accepts it. claimgate must agree on every
 * token: it may never accept one PyJWT rejects, and it may reject one
 * PyJWT accepts only under a named rule (`reason`), each explained below
 * and each tied to the exact cg_code claimgate must give.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"

#define PYTHON "/usr/bin/python3"

/*
 * Where claimgate is stricter than PyJWT 2.6, and why. A token carrying
 * one of these reasons must fail with exactly this code, whatever PyJWT
 * said.
 */
static const struct {
	const char *reason;
	cg_code code;
} stricter[] = {
	/* RFC 7515 section 2 / appendix C: unpadded base64url, one
	 * spelling per byte string. PyJWT pads the input itself, decodes
	 * with base64.urlsafe_b64decode (which also takes '+' and '/'
	 * and drops bytes outside the alphabet) and ignores unused low
	 * bits in the last character. */
	{"padding", CG_ERR_BASE64},
	{"whitespace", CG_ERR_BASE64},
	{"std_alphabet", CG_ERR_BASE64},
	{"noncanonical", CG_ERR_BASE64},
	/* Contract section 3 "Precise rules": duplicate members rejected
	 * (RFC 7515 4 permits it, RFC 8725 3.1 spirit; Python's json keeps
	 * the last one, so {"alg":"none","alg":"HS256"} passes there),
	 * nesting at most 16 levels, a number overflowing a double
	 * rejected (Python reads 1e999 as inf), strict UTF-8 (Python
	 * accepts the lone surrogate \ud800). */
	{"duplicate", CG_ERR_JSON},
	{"depth", CG_ERR_JSON},
	{"number_overflow", CG_ERR_JSON},
	{"unpaired_surrogate", CG_ERR_JSON},
	/* Header types and payload shape: PyJWT rejects these too. */
	{"header_type", CG_ERR_JSON},
	{"not_object", CG_ERR_JSON},
	/* RFC 7515 4.1.11: claimgate understands no extension, so any
	 * `crit` is refused; PyJWT implements "b64" (RFC 7797). */
	{"crit", CG_ERR_CRIT},
	/* RFC 7518 3.4: ES384 is ECDSA on P-384 only. PyJWT signs and
	 * verifies ES384 with a P-256 key; claimgate's P-256 key fits
	 * ES256 only, so no key fits. */
	{"ec_curve_mismatch", CG_ERR_KEY_NOT_FOUND},
	/* Keys claimgate skips at load time (contract section 2 "Key
	 * material"), so their tokens find no key: an EC JWK whose
	 * coordinates are not full length (RFC 7518 6.2.1.2 MUST; PyJWT
	 * 2.6's to_jwk drops leading zero bytes, half the time for P-521),
	 * RSA under 2048 bits, an HMAC secret shorter than the hash. */
	{"short_ec_coordinate", CG_ERR_KEY_NOT_FOUND},
	{"weak_rsa", CG_ERR_KEY_NOT_FOUND},
	{"weak_hmac", CG_ERR_KEY_NOT_FOUND},
};

static int
find_reason(const char *reason, cg_code *code)
{
	size_t i;

	for (i = 0; i < sizeof(stricter) / sizeof(stricter[0]); i++) {
		if (strcmp(stricter[i].reason, reason) == 0) {
			*code = stricter[i].code;
			return 1;
		}
	}
	return 0;
}

/* Runs PYTHON with argv, output to `log`; returns the exit status, or -1
 * when it did not exit normally. */
static int
run_python(char *const argv[], const char *log)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(PYTHON, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *
str_member(const struct cg_json *o, const char *name)
{
	const char *s = NULL;

	if (cg_json_string(cg_json_object_get(o, name), &s, NULL) != CG_OK)
		fail_msg("tokens.json: member \"%s\" is not a string", name);
	return s;
}

static void
test_agrees_with_pyjwt(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = cgt_fmt("%s/cg-pyjwt-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	char *script = cgt_source_path("tests/interop/pyjwt_mint.py");
	char *log, *jwks_path, *tokens_path, *jwks, *doc;
	char *check_argv[] = {(char *)PYTHON, (char *)"-c",
	    (char *)"import jwt, cryptography", NULL};
	char *mint_argv[4];
	struct cg_keyset *ks;
	struct cg_json *root = NULL;
	const struct cg_json *list;
	struct cg_error err;
	size_t len, bad, i, n;
	size_t both_ok = 0, both_reject = 0, stricter_count = 0;
	int ok_per_alg[CG_ALG_HS512 + 1] = {0};
	char why[120];
	int rc, a;
	time_t t0 = time(NULL);

	(void)state;
	assert_non_null(mkdtemp(dir));
	log = cgt_fmt("%s/python.log", dir);
	if (access(PYTHON, X_OK) != 0 || run_python(check_argv, log) != 0) {
		char *out = access(log, R_OK) == 0 ? cgt_read_file(log, NULL)
						   : NULL;
		unlink(log);
		rmdir(dir);
		fail_msg("%s cannot import jwt and cryptography (%s): install "
			 "PyJWT as the README's install step says (apt-get "
			 "install python3-jwt python3-cryptography)",
		    PYTHON, out != NULL ? out : "no output");
	}
	mint_argv[0] = (char *)PYTHON;
	mint_argv[1] = script;
	mint_argv[2] = dir;
	mint_argv[3] = NULL;
	rc = run_python(mint_argv, log);
	if (rc != 0) {
		char *out = cgt_read_file(log, NULL);
		fail_msg("%s %s failed (%d):\n%s", PYTHON, script, rc, out);
	}
	jwks_path = cgt_fmt("%s/jwks.json", dir);
	tokens_path = cgt_fmt("%s/tokens.json", dir);
	jwks = cgt_read_file(jwks_path, &len);

	/* PyJWT's JWK Set: 13 usable keys; the short-coordinate P-521
	 * key, the 1024-bit RSA key and the 16-byte secret are skipped. */
	assert_int_equal(cg_keyset_load_jwks(jwks, len, &ks, &err), CG_OK);
	assert_int_equal(cg_keyset_count(ks), 13);
	assert_int_equal(cg_keyset_warning_count(ks), 3);
	assert_non_null(strstr(cg_keyset_warning(ks, 0), "ES512-short"));
	assert_non_null(strstr(cg_keyset_warning(ks, 0), "not 66 bytes"));
	assert_non_null(strstr(cg_keyset_warning(ks, 1), "RS256-1024"));
	assert_non_null(strstr(cg_keyset_warning(ks, 2), "HS256-16"));

	doc = cgt_read_file(tokens_path, &len);
	if (cg__json_parse_object(doc, len, CG_MAX_JSON_DEPTH, &root, &bad,
		why, sizeof(why)) != CG_OK)
		fail_msg("tokens.json: %s at %zu", why, bad);
	list = cg_json_object_get(root, "tokens");
	n = cg_json_array_size(list);
	assert_true(n > 150);
	for (i = 0; i < n; i++) {
		const struct cg_json *e = cg_json_array_get(list, i);
		const char *name = str_member(e, "name");
		const char *tok = str_member(e, "token");
		const char *alg = str_member(e, "alg");
		const char *reason = NULL;
		struct cg_token *t = NULL;
		int py_ok = 0;
		cg_code cg, want = CG_OK;
		size_t toklen;

		assert_int_equal(cg_json_bool(cg_json_object_get(e, "pyjwt_ok"),
				     &py_ok),
		    CG_OK);
		if (cg_json_typeof(cg_json_object_get(e, "reason")) ==
		    CG_JSON_STRING)
			reason = str_member(e, "reason");
		assert_int_equal(cg_json_string(cg_json_object_get(e, "token"),
				     &tok, &toklen),
		    CG_OK);

		cg = cg_token_parse(tok, toklen, 0, &t, &err);
		if (cg == CG_OK) {
			cg = cg_token_verify(t, ks, CG_ALG_ALL, NULL, &err);
			cg_token_free(t);
		}

		if (cg == CG_OK && !py_ok)
			fail_msg("LOOSER than PyJWT: \"%s\" accepted; PyJWT: %s",
			    name, str_member(e, "pyjwt_error"));
		if (reason != NULL) {
			if (!find_reason(reason, &want))
				fail_msg("\"%s\": unknown reason \"%s\"", name,
				    reason);
			if (cg != want)
				fail_msg("\"%s\" (%s): %s (%s), want %s", name,
				    reason, cg_code_name(cg), err.msg,
				    cg_code_name(want));
			if (py_ok)
				stricter_count++;
			else
				both_reject++;
			continue;
		}
		if (py_ok && cg != CG_OK)
			fail_msg("STRICTER than PyJWT without a reason: \"%s\" "
				 "rejected with %s (%s)",
			    name, cg_code_name(cg), err.msg);
		if (py_ok) {
			both_ok++;
			ok_per_alg[cg_alg_from_name(alg, strlen(alg))]++;
		} else {
			both_reject++;
		}
	}
	/* Not vacuous: every algorithm has tokens both accept (4 valid
	 * ones each, plus high-s ECDSA), and many are rejected by both. */
	for (a = CG_ALG_RS256; a <= CG_ALG_HS512; a++)
		if (ok_per_alg[a] < 4)
			fail_msg("%s: only %d tokens accepted by both",
			    cg_alg_name((cg_alg)a), ok_per_alg[a]);
	assert_true(both_ok >= 13 * 4 + 3);
	assert_true(both_reject >= 13 * 7);
	assert_true(stricter_count >= 13 * 2);
	print_message("pyjwt interop: %zu tokens, %zu accepted by both, %zu "
		      "rejected by both, %zu rejected by claimgate only (by "
		      "rule), %ld s\n",
	    n, both_ok, both_reject, stricter_count, (long)(time(NULL) - t0));

	cg__json_free(root);
	cg_keyset_free(ks);
	free(doc);
	free(jwks);
	assert_int_equal(unlink(jwks_path), 0);
	assert_int_equal(unlink(tokens_path), 0);
	assert_int_equal(unlink(log), 0);
	assert_int_equal(rmdir(dir), 0);
	free(jwks_path);
	free(tokens_path);
	free(log);
	free(script);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_pyjwt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
