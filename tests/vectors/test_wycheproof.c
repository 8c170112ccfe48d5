/*
 * test_wycheproof.c - C2SP Wycheproof vectors (testvectors_v1, see
 * $CG_SHARED_DIR/vectors/README.md) through claimgate's verification path.
 *
 * JOSE files (json_web_signature_test.json, json_web_key_test.json): each
 * group's key is loaded with cg_keyset_load_jwks and each compact JWS is
 * verified with every algorithm allowed. Wycheproof payloads are arbitrary
 * bytes ("foo", empty, 0x00..., 0xe0...) while claimgate's token parser
 * requires a JWT claims set (a JSON object, RFC 7519 section 7.2 step 10),
 * so every case runs through two paths:
 *   - the token path, cg_token_parse + cg_token_verify, unchanged;
 *   - the JWS layer (jws_layer_verify), the same code with the payload
 *     treated as opaque bytes: see tests/support/jws_layer.h.
 * The label is checked against the JWS layer. The token path must agree
 * with it, except that it may refuse a case the JWS layer accepts, and
 * then only at the payload segment (CG_ERR_JSON or CG_ERR_MALFORMED with
 * err.offset inside the payload).
 *
 * Primitive files (ECDSA P1363, Ed25519, RSASSA-PKCS1-v1_5, RSASSA-PSS,
 * HMAC): the message is arbitrary bytes, which no compact token can carry
 * as its signing input, so the key is loaded as a JWK with
 * cg_keyset_load_jwks and the signature checked with cg__key_verify(), the
 * call cg_token_verify() makes for each candidate key, after the same
 * "fits" test key choice applies.
 *
 * Outcomes, counted per file:
 *   label        the result matches the Wycheproof label;
 *   exception    a documented disagreement (table `exceptions`), with the
 *                exact claimgate code asserted;
 *   policy       a JOSE rule overrides a `valid` label: HMAC tags shorter
 *                than the hash output are always rejected (RFC 7518 3.2,
 *                JOSE never truncates);
 *   key refused  the vector's key is one claimgate must never use (HMAC
 *                key shorter than the hash output, RFC 7518 3.2); asserted
 *                unusable, its tests are not run;
 *   acceptable   Wycheproof `acceptable`: either outcome is allowed
 *                (counted as accepted / rejected), but the code must be
 *                CG_OK or CG_ERR_SIGNATURE;
 *   known        a temporary known library failure (table
 *                `known_failures`), reported, not counted as passed;
 *   failed       anything else: printed with file, tcId and comment, and
 *                the file's test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cgtest.h"
#include "internal.h"
#include "jws_layer.h"

/* ---------------------------------------------------------------------
 * Documented exceptions: where a strict JOSE verifier must disagree with
 * the label (vectors/README.md), or where claimgate's contract decides a
 * case Wycheproof flags as ambiguous. Each asserts claimgate's exact code.
 */
struct exception {
	const char *file;
	long long tc_id;
	const char *label;	/* the Wycheproof label */
	cg_code expect;		/* what claimgate must return */
	int keys_loaded;	/* usable keys in the group's set, -1: any */
	long long same_as;	/* the jws must equal this tcId's (0: none) */
	const char *reason;
};

#define JWS_FILE "json_web_signature_test.json"
#define JWK_FILE "json_web_key_test.json"

static const struct exception exceptions[] = {
	{JWS_FILE, 346, "valid", CG_ERR_KEY_NOT_FOUND, 1, 0,
	    "header alg PS384 but the key's own alg is PS256: a key's alg "
	    "binds it to that algorithm (RFC 7517 4.4, RFC 8725 3.1)"},
	{JWS_FILE, 350, "valid", CG_ERR_KEY_NOT_FOUND, 1, 0,
	    "same as 346, key with key_ops [\"verify\"]"},
	{JWS_FILE, 347, "valid", CG_ERR_KEY_NOT_FOUND, 0, 0,
	    "the key's alg is \"ES521\", not a registered name (RFC 7518 "
	    "3.1 says ES512): the loader skips the key"},
	{JWS_FILE, 351, "valid", CG_ERR_KEY_NOT_FOUND, 0, 0,
	    "same as 347, key with key_ops [\"verify\"]"},
	{JWS_FILE, 367, "invalid", CG_OK, 1, 357,
	    "label error: the token is byte-identical to valid case 357 (a "
	    "padding character was lost in generation)"},
	{JWS_FILE, 370, "invalid", CG_OK, 1, 357,
	    "label error: byte-identical to valid case 357, like 367"},
	{JWS_FILE, 372, "valid", CG_ERR_BASE64, 1, 0,
	    "the header segment contains '?': strict base64url rejects it "
	    "(RFC 7515 2, appendix C)"},
	{JWS_FILE, 373, "valid", CG_ERR_BASE64, 1, 0,
	    "the payload segment contains '?': strict base64url rejects it"},
	{JWK_FILE, 1, "invalid", CG_OK, 2, 0,
	    "flags MixedKeySet + Ambiguous (an HMAC and an EC key in one "
	    "set): claimgate loads each key on its own and binds alg to key "
	    "type, so the HS256 token verifies with the oct key; the "
	    "confusion attack this guards against is json_web_signature "
	    "tcId 31, rejected"},
	{JWK_FILE, 4, "invalid", CG_OK, 1, 0,
	    "flags DuplicateKid + Ambiguous: the contract (section 3, Keys) "
	    "lets several keys share a kid and tries all that fit; here the "
	    "second key's k is non-canonical base64url and is skipped, the "
	    "first verifies"},
	{JWK_FILE, 7, "invalid", CG_OK, 1, 0,
	    "known limitation: a ROCA-vulnerable modulus (CVE-2017-15361) is "
	    "not detected; the key loads and the signature verifies"},
};

static unsigned exception_hits[sizeof(exceptions) / sizeof(exceptions[0])];

/* ---------------------------------------------------------------------
 * Temporary known library failures (bugs reported, not yet fixed). Kept
 * apart from the documented exceptions above: an entry here is a bug, and
 * an entry that starts passing fails the run so it gets removed.
 */
struct known_failure {
	const char *file;
	long long tc_id;
	const char *bug;
};

static const struct known_failure known_failures[] = {
	{NULL, 0, NULL} /* none */
};

/* ---------------------------------------------------------------------
 * Counting
 */
struct tally {
	unsigned label, exception, policy, key_refused;
	unsigned acc_accepted, acc_rejected;
	unsigned known, skipped, failed;
};

enum kind { K_LABEL, K_EXCEPTION, K_POLICY, K_KEY_REFUSED, K_ACCEPTABLE };

#define NFILES 14

static struct tally grand;
static unsigned files_done;
static int verbose; /* CGT_VERBOSE set: one line per case */

static unsigned
passed(const struct tally *t)
{
	return t->label + t->exception + t->policy + t->key_refused +
	    t->acc_accepted + t->acc_rejected;
}

static unsigned
counted(const struct tally *t)
{
	return passed(t) + t->known + t->skipped + t->failed;
}

static const struct known_failure *
find_known(const char *file, long long tc)
{
	size_t i;

	for (i = 0; known_failures[i].file != NULL; i++)
		if (strcmp(known_failures[i].file, file) == 0 &&
		    known_failures[i].tc_id == tc)
			return &known_failures[i];
	return NULL;
}

/* Records one case. `ok` says whether claimgate gave the expected
 * outcome; `expected` describes it for the message. */
static void
record(struct tally *t, const char *file, long long tc, const char *comment,
    int ok, enum kind kind, cg_code got, const char *expected)
{
	const struct known_failure *kf = find_known(file, tc);

	if (verbose)
		printf("%s tcId %lld: %s\n", file, tc, cg_code_name(got));
	if (ok && kf != NULL) {
		printf("STALE KNOWN FAILURE %s tcId %lld (%s) now passes: "
		       "remove it from known_failures\n",
		    file, tc, comment);
		t->failed++;
		return;
	}
	if (!ok) {
		printf("%s %s tcId %lld (%s): expected %s, claimgate %s%s%s\n",
		    kf != NULL ? "KNOWN FAILURE" : "MISMATCH", file, tc,
		    comment, expected, cg_code_name(got),
		    kf != NULL ? " -- " : "", kf != NULL ? kf->bug : "");
		if (kf != NULL)
			t->known++;
		else
			t->failed++;
		return;
	}
	switch (kind) {
	case K_LABEL:
		t->label++;
		break;
	case K_EXCEPTION:
		t->exception++;
		break;
	case K_POLICY:
		t->policy++;
		break;
	case K_KEY_REFUSED:
		t->key_refused++;
		break;
	case K_ACCEPTABLE:
		if (got == CG_OK)
			t->acc_accepted++;
		else
			t->acc_rejected++;
		break;
	}
}

/* Prints the file's line, adds it to the grand total, and fails the
 * cmocka test on any undocumented mismatch. */
static void
finish_file(const char *file, const struct tally *t, size_t expected_cases)
{
	printf("%s: %u cases: %u passed (%u label, %u exception, %u policy, "
	       "%u key refused, %u acceptable accepted, %u acceptable "
	       "rejected), %u failed, %u skipped, %u known failures\n",
	    file, counted(t), passed(t), t->label, t->exception, t->policy,
	    t->key_refused, t->acc_accepted, t->acc_rejected, t->failed,
	    t->skipped, t->known);
	grand.label += t->label;
	grand.exception += t->exception;
	grand.policy += t->policy;
	grand.key_refused += t->key_refused;
	grand.acc_accepted += t->acc_accepted;
	grand.acc_rejected += t->acc_rejected;
	grand.known += t->known;
	grand.skipped += t->skipped;
	grand.failed += t->failed;
	files_done++;
	if (counted(t) != expected_cases)
		fail_msg("%s: %u cases counted, the file has %zu", file,
		    counted(t), expected_cases);
	if (t->failed != 0)
		fail_msg("%s: %u undocumented mismatches (see MISMATCH lines)",
		    file, t->failed);
}

/* ---------------------------------------------------------------------
 * Small helpers
 */
static json_t *
load_vectors(const char *file, size_t *ncases)
{
	char *rel = cgt_fmt("vectors/wycheproof/%s", file);
	char *path = cgt_shared_path(rel);
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
	free(rel);
	free(path);
	assert_true(json_is_array(json_object_get(root, "testGroups")));
	*ncases = (size_t)json_integer_value(
	    json_object_get(root, "numberOfTests"));
	assert_true(*ncases > 0);
	return root;
}

static const char *
str_member(const json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (s == NULL)
		fail_msg("member \"%s\" missing or not a string", name);
	return s;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex into a fresh buffer (never NULL, even for ""). */
static unsigned char *
hex_decode(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	unsigned char *out;

	assert_true(n % 2 == 0);
	out = malloc(n / 2 + 1);
	assert_non_null(out);
	for (i = 0; i < n / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		assert_true(hi >= 0 && lo >= 0);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

/* base64url of an unsigned big-endian integer given in hex: leading zero
 * bytes dropped, then left-padded to `width` bytes when width > 0.
 * NULL when the value does not fit `width`. */
static char *
hex_to_b64_int(const char *hex, size_t width)
{
	unsigned char *raw, *buf;
	size_t len, skip = 0;
	char *out;

	raw = hex_decode(hex, &len);
	while (skip < len && raw[skip] == 0)
		skip++;
	len -= skip;
	if (width > 0 && len > width) {
		free(raw);
		return NULL;
	}
	if (width == 0)
		width = len;
	buf = calloc(1, width + 1);
	assert_non_null(buf);
	memcpy(buf + (width - len), raw + skip, len);
	out = cgt_b64(buf, width);
	free(raw);
	free(buf);
	return out;
}

/* Loads {"keys":[jwk]} (or `set` itself when it already is a JWK Set).
 * Loading must succeed: unusable keys are skipped, not fatal. */
static struct cg_keyset *
load_keyset(json_t *jwk_or_set)
{
	struct cg_keyset *ks = NULL;
	struct cg_error err;
	json_t *doc;
	char *text;

	if (json_is_array(json_object_get(jwk_or_set, "keys")))
		doc = json_incref(jwk_or_set);
	else
		doc = json_pack("{s:[O]}", "keys", jwk_or_set);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(text);
	if (cg_keyset_load_jwks(text, strlen(text), &ks, &err) != CG_OK)
		fail_msg("key set refused: %s", err.msg);
	free(text);
	json_decref(doc);
	return ks;
}

/*
 * Runs one compact JWS through the JWS layer and the token path. Returns
 * the JWS layer's code; *consistent is 0 when the token path accepts what
 * the JWS layer refuses, or refuses what it accepts anywhere but at the
 * payload segment.
 */
static cg_code
check_jws(const char *jws, size_t len, const struct cg_keyset *ks,
    cg_alg_set allowed, int *consistent, cg_code *token_rc)
{
	struct cg_token *t = NULL;
	struct cg_error err;
	const char *d1, *d2;
	cg_code rc_layer, rc_token;

	rc_layer = jws_layer_verify(jws, len, ks, allowed, NULL);
	memset(&err, 0, sizeof(err));
	rc_token = cg_token_parse(jws, len, 0, &t, &err);
	if (rc_token == CG_OK) {
		rc_token = cg_token_verify(t, ks, allowed, NULL, &err);
		cg_token_free(t);
	}
	*token_rc = rc_token;
	*consistent = 1;
	if (rc_token == CG_OK && rc_layer != CG_OK)
		*consistent = 0;
	if (rc_token != CG_OK && rc_layer == CG_OK) {
		/* Only the JWT payload rule may separate the two. */
		d1 = memchr(jws, '.', len);
		d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws));
		if ((rc_token != CG_ERR_JSON && rc_token != CG_ERR_MALFORMED) ||
		    err.offset < (size_t)(d1 + 1 - jws) ||
		    err.offset > (size_t)(d2 - jws))
			*consistent = 0;
	}
	return rc_layer;
}

static const struct exception *
find_exception(const char *file, long long tc)
{
	size_t i;

	for (i = 0; i < sizeof(exceptions) / sizeof(exceptions[0]); i++)
		if (strcmp(exceptions[i].file, file) == 0 &&
		    exceptions[i].tc_id == tc) {
			exception_hits[i]++;
			return &exceptions[i];
		}
	return NULL;
}

static const char *
find_jws(const json_t *root, long long tc)
{
	const json_t *groups = json_object_get(root, "testGroups");
	size_t g, i;

	for (g = 0; g < json_array_size(groups); g++) {
		const json_t *tests =
		    json_object_get(json_array_get(groups, g), "tests");
		for (i = 0; i < json_array_size(tests); i++) {
			const json_t *tv = json_array_get(tests, i);
			if (json_integer_value(json_object_get(tv, "tcId")) ==
			    tc)
				return json_string_value(
				    json_object_get(tv, "jws"));
		}
	}
	return NULL;
}

/*
 * json_web_signature_test.json and json_web_key_test.json. A group's key
 * is `public` when present, else `private` (oct keys exist only as
 * `private`; the loader ignores private members and warns). A JWK Set
 * (json_web_key_test.json) is used as is, a single JWK is wrapped.
 *
 * Inputs in the JWS JSON serialization (flag JsonSerialization, tcId 17)
 * are labelled invalid: the schema's verifier takes compact input only.
 * claimgate has no JSON serialization either, so they are run like any
 * other input and must be rejected; nothing is skipped. A `jws` that is
 * not a string would be skipped and counted.
 */
static void
run_jose_file(const char *file)
{
	struct tally ty;
	size_t ncases, g, i, e;
	json_t *root = load_vectors(file, &ncases);
	const json_t *groups = json_object_get(root, "testGroups");

	memset(&ty, 0, sizeof(ty));
	for (g = 0; g < json_array_size(groups); g++) {
		json_t *grp = json_array_get(groups, g);
		json_t *key = json_object_get(grp, "public");
		const json_t *tests = json_object_get(grp, "tests");
		struct cg_keyset *ks;

		if (key == NULL)
			key = json_object_get(grp, "private");
		assert_non_null(key);
		ks = load_keyset(key);
		for (i = 0; i < json_array_size(tests); i++) {
			const json_t *tv = json_array_get(tests, i);
			long long tc = json_integer_value(
			    json_object_get(tv, "tcId"));
			const char *comment = str_member(tv, "comment");
			const char *result = str_member(tv, "result");
			const json_t *jv = json_object_get(tv, "jws");
			const struct exception *ex;
			int consistent, ok;
			cg_code rc, rc_token;

			if (!json_is_string(jv)) {
				printf("SKIP %s tcId %lld: jws is not a "
				       "string\n",
				    file, tc);
				ty.skipped++;
				continue;
			}
			rc = check_jws(json_string_value(jv),
			    json_string_length(jv), ks, CG_ALG_ALL,
			    &consistent, &rc_token);
			if (verbose)
				printf("%s tcId %lld %s: JWS layer %s, token "
				       "path %s\n",
				    file, tc, result, cg_code_name(rc),
				    cg_code_name(rc_token));
			if (!consistent) {
				record(&ty, file, tc, comment, 0, K_LABEL,
				    rc_token,
				    "the token path to agree with the JWS "
				    "layer");
				continue;
			}
			ex = find_exception(file, tc);
			if (ex != NULL) {
				const char *same = ex->same_as != 0
				    ? find_jws(root, ex->same_as)
				    : NULL;
				ok = rc == ex->expect &&
				    strcmp(result, ex->label) == 0 &&
				    (ex->keys_loaded < 0 ||
					cg_keyset_count(ks) ==
					    (size_t)ex->keys_loaded) &&
				    (ex->same_as == 0 ||
					(same != NULL &&
					    strcmp(same,
						json_string_value(jv)) == 0));
				record(&ty, file, tc, comment, ok, K_EXCEPTION,
				    rc, cg_code_name(ex->expect));
				if (ok)
					printf("exception %s tcId %lld: label "
					       "%s, claimgate %s: %s\n",
					    file, tc, result, cg_code_name(rc),
					    ex->reason);
			} else if (strcmp(result, "valid") == 0) {
				record(&ty, file, tc, comment, rc == CG_OK,
				    K_LABEL, rc, "CG_OK (valid)");
			} else if (strcmp(result, "invalid") == 0) {
				record(&ty, file, tc, comment, rc != CG_OK,
				    K_LABEL, rc, "a rejection (invalid)");
			} else {
				record(&ty, file, tc, comment,
				    rc == CG_OK || rc == CG_ERR_SIGNATURE,
				    K_ACCEPTABLE, rc,
				    "CG_OK or CG_ERR_SIGNATURE (acceptable)");
			}
		}
		cg_keyset_free(ks);
	}
	for (e = 0; e < sizeof(exceptions) / sizeof(exceptions[0]); e++)
		if (strcmp(exceptions[e].file, file) == 0 &&
		    exception_hits[e] != 1)
			fail_msg("%s: documented exception tcId %lld seen %u "
				 "times",
			    file, exceptions[e].tc_id, exception_hits[e]);
	json_decref(root);
	finish_file(file, &ty, ncases);
}

/* ---------------------------------------------------------------------
 * Primitive files
 */
struct prim_file {
	const char *file;
	cg_alg alg;
};

static const struct prim_file prim_files[] = {
	{"ecdsa_secp256r1_sha256_p1363_test.json", CG_ALG_ES256},
	{"ecdsa_secp384r1_sha384_p1363_test.json", CG_ALG_ES384},
	{"ecdsa_secp521r1_sha512_p1363_test.json", CG_ALG_ES512},
	{"ed25519_test.json", CG_ALG_EDDSA},
	{"rsa_signature_2048_sha256_test.json", CG_ALG_RS256},
	{"rsa_signature_2048_sha384_test.json", CG_ALG_RS384},
	{"rsa_signature_2048_sha512_test.json", CG_ALG_RS512},
	{"rsa_pss_2048_sha256_mgf1_32_test.json", CG_ALG_PS256},
	{"rsa_pss_4096_sha512_mgf1_64_test.json", CG_ALG_PS512},
	{"hmac_sha256_test.json", CG_ALG_HS256},
	{"hmac_sha384_test.json", CG_ALG_HS384},
	{"hmac_sha512_test.json", CG_ALG_HS512},
};

/* The group's public key as a JWK: `publicKeyJwk` (ECDSA, EdDSA, PSS) or
 * `keyJwk` (PKCS #1) when present, else built from `publicKey`. Returns a
 * new reference, or NULL when the key cannot be written as a JWK. */
static json_t *
group_jwk(const json_t *grp, cg_alg alg)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	json_t *jwk = json_object_get(grp, "publicKeyJwk");
	const json_t *pk = json_object_get(grp, "publicKey");
	char *a = NULL, *b = NULL;

	if (jwk == NULL)
		jwk = json_object_get(grp, "keyJwk");
	if (jwk != NULL)
		return json_incref(jwk);
	assert_non_null(pk);
	switch (d->family) {
	case CG_FAMILY_EC:
		a = hex_to_b64_int(str_member(pk, "wx"), d->coord_len);
		b = hex_to_b64_int(str_member(pk, "wy"), d->coord_len);
		jwk = a == NULL || b == NULL ? NULL
		    : json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv",
			  d->curve, "x", a, "y", b);
		break;
	case CG_FAMILY_ED:
		a = hex_to_b64_int(str_member(pk, "pk"), 0);
		jwk = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv",
		    "Ed25519", "x", a);
		break;
	case CG_FAMILY_RSA:
	case CG_FAMILY_PSS:
		a = hex_to_b64_int(str_member(pk, "modulus"), 0);
		b = hex_to_b64_int(str_member(pk, "publicExponent"), 0);
		jwk = json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", a, "e", b);
		break;
	case CG_FAMILY_HMAC:
		fail_msg("HMAC keys are per test");
	}
	free(a);
	free(b);
	return jwk;
}

/* The group's key loaded, or NULL when claimgate refuses it for `alg`. */
static const struct cg_key *
usable_key(const struct cg_keyset *ks, cg_alg alg)
{
	const struct cg_key *k = cg__keyset_key(ks, 0);

	if (cg_keyset_count(ks) != 1 ||
	    (cg__key_fits(k) & CG_ALG_BIT(alg)) == 0)
		return NULL;
	return k;
}

/* Verifies one vector with the key, as cg_token_verify does per key. */
static cg_code
prim_verify(const struct cg_key *k, cg_alg alg, const json_t *tv,
    const char *sig_member)
{
	unsigned char *msg, *sig;
	size_t msglen, siglen;
	cg_code rc;

	if (k == NULL)
		return CG_ERR_KEY_NOT_FOUND;
	msg = hex_decode(str_member(tv, "msg"), &msglen);
	sig = hex_decode(str_member(tv, sig_member), &siglen);
	rc = cg__key_verify(k, alg, msg, msglen, sig, siglen);
	free(msg);
	free(sig);
	return rc;
}

/* Label check shared by the primitive files. Besides the verdict, the
 * code must be one verification can give: CG_OK, CG_ERR_SIGNATURE, or
 * CG_ERR_KEY_NOT_FOUND for a refused key (never CRYPTO or NOMEM). */
static void
record_label(struct tally *ty, const char *file, const json_t *tv,
    cg_code rc)
{
	long long tc = json_integer_value(json_object_get(tv, "tcId"));
	const char *comment = str_member(tv, "comment");
	const char *result = str_member(tv, "result");

	if (strcmp(result, "valid") == 0)
		record(ty, file, tc, comment, rc == CG_OK, K_LABEL, rc,
		    "CG_OK (valid)");
	else if (strcmp(result, "invalid") == 0)
		record(ty, file, tc, comment,
		    rc == CG_ERR_SIGNATURE || rc == CG_ERR_KEY_NOT_FOUND,
		    K_LABEL, rc, "CG_ERR_SIGNATURE (invalid)");
	else
		record(ty, file, tc, comment,
		    rc == CG_OK || rc == CG_ERR_SIGNATURE, K_ACCEPTABLE, rc,
		    "CG_OK or CG_ERR_SIGNATURE (acceptable)");
}

/* One HMAC vector: the key is an oct JWK built from the hex key. */
static void
run_hmac_case(struct tally *ty, const char *file, cg_alg alg,
    const json_t *grp, const json_t *tv)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	long long tc = json_integer_value(json_object_get(tv, "tcId"));
	const char *comment = str_member(tv, "comment");
	const char *result = str_member(tv, "result");
	unsigned tag_bits = (unsigned)json_integer_value(
	    json_object_get(grp, "tagSize"));
	struct cg_keyset *ks, *ks_noalg;
	unsigned char *key;
	size_t keylen;
	json_t *jwk, *jwk_noalg;
	char *k64;
	cg_code rc;

	key = hex_decode(str_member(tv, "key"), &keylen);
	k64 = cgt_b64(key, keylen);
	jwk = json_pack("{s:s,s:s,s:s}", "kty", "oct", "alg", d->name, "k",
	    k64);
	jwk_noalg = json_pack("{s:s,s:s}", "kty", "oct", "k", k64);
	assert_non_null(jwk);
	assert_non_null(jwk_noalg);
	ks = load_keyset(jwk);
	ks_noalg = load_keyset(jwk_noalg);
	if (keylen < d->hash_len) {
		/* RFC 7518 3.2: such a key is never usable for this alg,
		 * with or without an `alg` member. */
		record(ty, file, tc, comment,
		    cg_keyset_count(ks) == 0 &&
			usable_key(ks_noalg, alg) == NULL,
		    K_KEY_REFUSED, CG_OK, "the short key to be refused");
	} else {
		const struct cg_key *k = usable_key(ks, alg);
		int truncated = tag_bits < 8 * d->hash_len;
		assert_non_null(k);
		assert_non_null(usable_key(ks_noalg, alg));
		rc = prim_verify(k, alg, tv, "tag");
		if (truncated && strcmp(result, "valid") == 0)
			record(ty, file, tc, comment, rc == CG_ERR_SIGNATURE,
			    K_POLICY, rc,
			    "CG_ERR_SIGNATURE (truncated tag, JOSE never "
			    "truncates)");
		else
			record_label(ty, file, tv, rc);
	}
	cg_keyset_free(ks);
	cg_keyset_free(ks_noalg);
	json_decref(jwk);
	json_decref(jwk_noalg);
	free(k64);
	cg__free_secret(key, keylen);
}

static void
run_prim_file(const struct prim_file *pf)
{
	const struct cg_alg_desc *d = cg__alg_desc(pf->alg);
	struct tally ty;
	size_t ncases, g, i;
	json_t *root = load_vectors(pf->file, &ncases);
	const json_t *groups = json_object_get(root, "testGroups");

	memset(&ty, 0, sizeof(ty));
	for (g = 0; g < json_array_size(groups); g++) {
		const json_t *grp = json_array_get(groups, g);
		const json_t *tests = json_object_get(grp, "tests");
		struct cg_keyset *ks = NULL;
		const struct cg_key *k = NULL;

		if (d->family != CG_FAMILY_HMAC) {
			json_t *jwk = group_jwk(grp, pf->alg);
			if (jwk != NULL) {
				ks = load_keyset(jwk);
				k = usable_key(ks, pf->alg);
				json_decref(jwk);
			}
		}
		for (i = 0; i < json_array_size(tests); i++) {
			const json_t *tv = json_array_get(tests, i);
			if (d->family == CG_FAMILY_HMAC)
				run_hmac_case(&ty, pf->file, pf->alg, grp, tv);
			else
				record_label(&ty, pf->file, tv,
				    prim_verify(k, pf->alg, tv, "sig"));
		}
		cg_keyset_free(ks);
	}
	json_decref(root);
	finish_file(pf->file, &ty, ncases);
}

/* ---------------------------------------------------------------------
 * cmocka tests
 */
static void
test_json_web_signature(void **state)
{
	(void)state;
	run_jose_file(JWS_FILE);
}

static void
test_json_web_key(void **state)
{
	(void)state;
	run_jose_file(JWK_FILE);
}

static void
test_primitive(void **state)
{
	run_prim_file(*state);
}

/* Runs last: the grand total, and every file must have been counted. */
static void
test_summary(void **state)
{
	(void)state;
	printf("wycheproof: %u passed, %u failed\n", passed(&grand),
	    grand.failed);
	if (grand.known != 0)
		printf("wycheproof: %u known library failures (see "
		       "known_failures)\n",
		    grand.known);
	assert_int_equal(files_done, NFILES);
	assert_int_equal(grand.failed, 0);
}

_Static_assert(sizeof(prim_files) / sizeof(prim_files[0]) + 2 == NFILES,
    "NFILES counts the two JOSE files and every primitive file");

#define PRIM(i)                                                        \
	{.name = prim_files[i].file,                                   \
	    .test_func = test_primitive,                               \
	    .initial_state = (void *)&prim_files[i]}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_web_signature),
		cmocka_unit_test(test_json_web_key),
		PRIM(0),
		PRIM(1),
		PRIM(2),
		PRIM(3),
		PRIM(4),
		PRIM(5),
		PRIM(6),
		PRIM(7),
		PRIM(8),
		PRIM(9),
		PRIM(10),
		PRIM(11),
		cmocka_unit_test(test_summary),
	};

	/* Line-buffered, so our lines and cmocka's stay in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	verbose = getenv("CGT_VERBOSE") != NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
