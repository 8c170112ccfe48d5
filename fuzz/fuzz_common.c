/*
 * fuzz_common.c - the fixed world the fuzz targets decide in: one key set,
 * one policy, one clock, and the list of tokens we signed ourselves. A
 * fuzzed token that is allowed, or whose signature verifies, must be one
 * of those tokens byte for byte; anything else is a forgery and aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "internal.h"
#include "policy.h"
#include "signer.h"
#include "store.h"

#ifndef CG_FUZZ_SOURCE_DIR
#define CG_FUZZ_SOURCE_DIR "fuzz"
#endif

/*
 * The fixed policy. Issuers `idp` and `hmac` read fuzz/keys/jwks.json
 * (rs1 without `alg`, so it serves RS256 and PS256; es1; ed1; hs1);
 * `remote` has no key set (keys_unavailable). Zone `api` exercises every
 * step of the decision table: max_age, required claims, replay, delegation,
 * pattern, split, map, require, forward; `exact` an exact audience; `open`
 * the pass-through of non-string claims into forward headers.
 */
const char cgf_policy_text[] =
    "# claimgate fuzz policy (fuzz/fuzz_common.c)\n"
    "version: 1\n"
    "issuers:\n"
    "  idp:\n"
    "    issuer: https://idp.fuzz.example\n"
    "    jwks_file: jwks.json\n"
    "    algorithms: [RS256, PS256, ES256, EdDSA]\n"
    "    max_lifetime: 1h\n"
    "  hmac:\n"
    "    issuer: https://hmac.fuzz.example\n"
    "    jwks_file: jwks.json\n"
    "    algorithms: [HS256]\n"
    "    types: [at+jwt]\n"
    "  remote:\n"
    "    issuer: https://remote.fuzz.example\n"
    "    jwks_uri: https://remote.fuzz.example/jwks\n"
    "    algorithms: [RS256]\n"
    "zones:\n"
    "  api:\n"
    "    audience: https://api.fuzz.example\n"
    "    accept: [idp, hmac, remote]\n"
    "    leeway: 30s\n"
    "    max_age: 10m\n"
    "    require_claims: [sub, jti]\n"
    "    replay: reject\n"
    "    max_delegation: 2\n"
    "    claims:\n"
    "      sub: {}\n"
    "      tenant: { claim: tid, pattern: \"[a-z0-9-]{1,32}\", required: "
    "true }\n"
    "      roles:\n"
    "        claim: scope\n"
    "        split: space\n"
    "        map: { \"r:read\": reader, \"r:write\": writer }\n"
    "      groups: { split: comma }\n"
    "      email: { from: [idp], pattern: \"[^@ ]+@fuzz\\\\.example\" }\n"
    "    require:\n"
    "      roles: { any_of: [reader, writer] }\n"
    "    forward:\n"
    "      X-Auth-Subject: sub\n"
    "      X-Auth-Tenant: tenant\n"
    "      X-Auth-Roles: roles\n"
    "      X-Auth-Groups: groups\n"
    "      X-Auth-Email: email\n"
    "    match:\n"
    "      hosts: [api.fuzz.example]\n"
    "      paths: [/v1/, /admin/]\n"
    "      methods: [GET, POST, DELETE]\n"
    "  exact:\n"
    "    audience: https://exact.fuzz.example\n"
    "    audience_exact: true\n"
    "    accept: [idp]\n"
    "    leeway: 5s\n"
    "    require_claims: [sub]\n"
    "    claims:\n"
    "      sub: {}\n"
    "      level: { claim: lvl }\n"
    "    require:\n"
    "      sub: { all_of: [alice] }\n"
    "    forward:\n"
    "      X-Auth-Subject: sub\n"
    "      X-Auth-Level: level\n"
    "    match:\n"
    "      hosts: [exact.fuzz.example]\n"
    "      paths: [/]\n"
    "  open:\n"
    "    audience: open\n"
    "    accept: [hmac]\n"
    "    claims:\n"
    "      sub: {}\n"
    "      data: {}\n"
    "      num: {}\n"
    "      flag: {}\n"
    "      obj: {}\n"
    "    forward:\n"
    "      X-Auth-Subject: sub\n"
    "      X-Data: data\n"
    "      X-Num: num\n"
    "      X-Flag: flag\n"
    "      X-Obj: obj\n"
    "    match:\n"
    "      paths: [/open/]\n";

_Noreturn void
cgf_fail(const char *what)
{
	fprintf(stderr, "claimgate fuzz: invariant broken: %s\n", what);
	fflush(stderr);
	abort();
}

const char *
cgf_dir(void)
{
	const char *d = getenv("CG_FUZZ_DIR");

	return d != NULL && d[0] != '\0' ? d : CG_FUZZ_SOURCE_DIR;
}

static char *
read_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL) {
		fprintf(stderr, "claimgate fuzz: %s: %s\n", path,
		    strerror(errno));
		abort();
	}
	for (;;) {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap + 65536);
			if (nb == NULL)
				abort();
			buf = nb;
			cap += 65536;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		abort();
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

char *
cgf_read(const char *rel, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", cgf_dir(), rel);
	return read_path(path, len);
}

/* ---- the temporary folder ----------------------------------------------- */

static char tmpdir[512];
static char *tmpfiles[16];
static size_t ntmpfiles;

static void
cleanup_tempdir(void)
{
	size_t i;

	for (i = 0; i < ntmpfiles; i++) {
		(void)unlink(tmpfiles[i]);
		free(tmpfiles[i]);
	}
	ntmpfiles = 0;
	if (tmpdir[0] != '\0')
		(void)rmdir(tmpdir);
	tmpdir[0] = '\0';
}

const char *
cgf_tempdir(void)
{
	const char *t;

	if (tmpdir[0] != '\0')
		return tmpdir;
	t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/cgfuzz-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("claimgate fuzz: mkdtemp");
		abort();
	}
	atexit(cleanup_tempdir);
	return tmpdir;
}

void
cgf_write(const char *dir, const char *name, const char *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "claimgate fuzz: cannot write %s\n", path);
		abort();
	}
	if (strcmp(dir, tmpdir) == 0 &&
	    ntmpfiles < sizeof(tmpfiles) / sizeof(tmpfiles[0]) &&
	    (tmpfiles[ntmpfiles] = strdup(path)) != NULL)
		ntmpfiles++;
}

/* ---- the fixed key set and policy --------------------------------------- */

static struct cg_keyset *keys;
static struct cg_policy *policy;

const struct cg_keyset *
cgf_keys(void)
{
	struct cg_error err;
	size_t len;
	char *json;

	if (keys != NULL)
		return keys;
	json = cgf_read("keys/jwks.json", &len);
	if (cg_keyset_load_jwks(json, len, &keys, &err) != CG_OK) {
		fprintf(stderr, "claimgate fuzz: keys/jwks.json: %s\n",
		    err.msg);
		abort();
	}
	free(json);
	if (cg_keyset_count(keys) != 4 || cg_keyset_warning_count(keys) != 0)
		cgf_fail("keys/jwks.json must hold 4 usable keys");
	return keys;
}

const struct cg_policy *
cgf_policy(void)
{
	struct cg_error err;
	const char *dir;
	size_t len;
	char *json;

	if (policy != NULL)
		return policy;
	dir = cgf_tempdir();
	json = cgf_read("keys/jwks.json", &len);
	cgf_write(dir, "jwks.json", json, len);
	free(json);
	cgf_write(dir, "policy.yaml", cgf_policy_text,
	    sizeof(cgf_policy_text) - 1);
	if (cg__policy_parse(cgf_policy_text, sizeof(cgf_policy_text) - 1,
		"policy.yaml", dir, &policy, &err) != CG_OK) {
		fprintf(stderr, "claimgate fuzz: fixed policy: %s\n", err.msg);
		abort();
	}
	if (cg_policy_warning_count(policy) != 0)
		cgf_fail("the fixed policy loads with warnings");
	return policy;
}

/* ---- minted tokens ------------------------------------------------------ */

struct minted {
	char *name;
	char *tok;
	size_t len;
};

static struct minted *minted;
static size_t nminted, capminted;

static void
add_minted(const char *name, const char *tok, size_t len)
{
	if (nminted == capminted) {
		size_t cap = capminted == 0 ? 64 : capminted * 2;
		struct minted *m = realloc(minted, cap * sizeof(*m));
		if (m == NULL)
			abort();
		minted = m;
		capminted = cap;
	}
	minted[nminted].name = strdup(name);
	minted[nminted].tok = malloc(len + 1);
	if (minted[nminted].name == NULL || minted[nminted].tok == NULL)
		abort();
	memcpy(minted[nminted].tok, tok, len);
	minted[nminted].tok[len] = '\0';
	minted[nminted].len = len;
	nminted++;
}

int
cgf_is_minted(const char *tok, size_t len)
{
	size_t i;

	for (i = 0; i < nminted; i++)
		if (minted[i].len == len &&
		    memcmp(minted[i].tok, tok, len) == 0)
			return 1;
	return 0;
}

size_t
cgf_minted_count(void)
{
	return nminted;
}

const char *
cgf_minted(size_t i, size_t *len, const char **name)
{
	if (i >= nminted)
		return NULL;
	if (len != NULL)
		*len = minted[i].len;
	if (name != NULL)
		*name = minted[i].name;
	return minted[i].tok;
}

/* Decides `tok` in zone `zone` of the fixed policy with a fresh store;
 * returns 1 when allowed. */
static int
allowed_in(const char *zone, const char *tok, size_t len)
{
	struct cg_decision *d = NULL;
	struct cg_store *st = NULL;
	int ok;

	if (cg_store_memory_new(&st) != CG_OK ||
	    cg_decide(cgf_policy(), zone, tok, len, CGF_NOW, st, &d, NULL) !=
		CG_OK)
		abort();
	ok = cg_decision_allowed(d);
	cg_decision_free(d);
	cg_store_free(st);
	return ok;
}

/* Signs one token with a fixed private key, as the fuzz target's own. */
static void
sign_own(const char *keyfile, cg_alg alg, const char *kid, const char *typ,
    const char *iss, const char *zone)
{
	char path[4096], hdr[256], pl[512];
	struct cg_signer *s = NULL;
	struct cg_error err;
	char *tok;

	snprintf(path, sizeof(path), "%s/keys/%s", cgf_dir(), keyfile);
	if (cg__signer_load(path, &s, &err) != CG_OK) {
		fprintf(stderr, "claimgate fuzz: %s: %s\n", path, err.msg);
		abort();
	}
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"%s%s%s%s%s%s}",
	    cg_alg_name(alg), kid != NULL ? ",\"kid\":\"" : "",
	    kid != NULL ? kid : "", kid != NULL ? "\"" : "",
	    typ != NULL ? ",\"typ\":\"" : "", typ != NULL ? typ : "",
	    typ != NULL ? "\"" : "");
	snprintf(pl, sizeof(pl),
	    "{\"iss\":\"%s\",\"sub\":\"fuzz-self\",\"aud\":"
	    "\"https://api.fuzz.example\",\"tid\":\"fuzz\",\"scope\":"
	    "\"r:read\",\"jti\":\"self-%s-%s\",\"iat\":%d,\"exp\":%d}",
	    iss, cg_alg_name(alg), kid != NULL ? kid : "nokid", CGF_MINT_NOW,
	    CGF_MINT_NOW + 300);
	tok = cg__signer_sign(s, alg, hdr, strlen(hdr), pl, strlen(pl));
	if (tok == NULL)
		abort();
	add_minted(kid != NULL ? "self" : "self-nokid", tok, strlen(tok));
	if (!allowed_in(zone, tok, strlen(tok)))
		cgf_fail("a token signed in LLVMFuzzerInitialize is denied");
	free(tok);
	cg__signer_free(s);
}

void
cgf_init_tokens(void)
{
	char *text, *line, *next;
	size_t i;

	if (nminted > 0)
		return;
	text = cgf_read("keys/minted.txt", NULL);
	for (line = text; *line != '\0'; line = next) {
		char *sp, *end = strchr(line, '\n');
		next = end != NULL ? end + 1 : line + strlen(line);
		if (end != NULL)
			*end = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((sp = strchr(line, ' ')) == NULL)
			cgf_fail("keys/minted.txt: expected \"name token\"");
		*sp = '\0';
		add_minted(line, sp + 1, strlen(sp + 1));
	}
	free(text);
	if (nminted == 0)
		cgf_fail("keys/minted.txt is empty");
	/* Every listed token parses and verifies with the fixed keys, and
	 * the valid-* ones are allowed somewhere: otherwise the corpus no
	 * longer reaches past the signature and fuzzing would be shallow.
	 * malleable-* tokens are our signatures re-encoded, (r, n - s) for
	 * ECDSA: listed so that they may verify, not required to. */
	for (i = 0; i < nminted; i++) {
		struct cg_token *t = NULL;
		if (strncmp(minted[i].name, "malleable-", 10) == 0)
			continue;
		if (cg_token_parse(minted[i].tok, minted[i].len, 0, &t, NULL) !=
			CG_OK ||
		    cg_token_verify(t, cgf_keys(), CG_ALG_ALL, NULL, NULL) !=
			CG_OK) {
			fprintf(stderr, "claimgate fuzz: minted token %s\n",
			    minted[i].name);
			cgf_fail("keys/minted.txt lists a token that does not "
				 "verify (run fuzz/mkseeds.sh)");
		}
		cg_token_free(t);
		if (strncmp(minted[i].name, "valid-", 6) == 0 &&
		    !allowed_in("api", minted[i].tok, minted[i].len) &&
		    !allowed_in("exact", minted[i].tok, minted[i].len) &&
		    !allowed_in("open", minted[i].tok, minted[i].len)) {
			fprintf(stderr, "claimgate fuzz: minted token %s\n",
			    minted[i].name);
			cgf_fail("a valid-* token of keys/minted.txt is "
				 "denied in every zone");
		}
	}
	sign_own("rs.pem", CG_ALG_RS256, "rs1", NULL,
	    "https://idp.fuzz.example", "api");
	sign_own("rs.pem", CG_ALG_PS256, "rs1", NULL,
	    "https://idp.fuzz.example", "api");
	sign_own("es.pem", CG_ALG_ES256, "es1", NULL,
	    "https://idp.fuzz.example", "api");
	sign_own("ed.pem", CG_ALG_EDDSA, "ed1", NULL,
	    "https://idp.fuzz.example", "api");
	sign_own("hs.jwk.json", CG_ALG_HS256, "hs1", "at+jwt",
	    "https://hmac.fuzz.example", "api");
	sign_own("rs.pem", CG_ALG_RS256, NULL, NULL,
	    "https://idp.fuzz.example", "api");
	sign_own("es.pem", CG_ALG_ES256, NULL, NULL,
	    "https://idp.fuzz.example", "api");
	sign_own("ed.pem", CG_ALG_EDDSA, NULL, NULL,
	    "https://idp.fuzz.example", "api");
	sign_own("hs.jwk.json", CG_ALG_HS256, NULL, "at+jwt",
	    "https://hmac.fuzz.example", "api");
}

/* Signs `payload` (exact bytes) with hs1 under the header
 * {"alg":"HS256","kid":"hs1","typ":"at+jwt"}; caller frees. */
char *
cgf_sign_hs256(const char *payload, size_t len)
{
	static const char hdr[] = "{\"alg\":\"HS256\",\"kid\":\"hs1\","
				  "\"typ\":\"at+jwt\"}";
	static struct cg_signer *hs;
	char path[4096];
	struct cg_error err;
	char *tok;

	if (hs == NULL) {
		snprintf(path, sizeof(path), "%s/keys/hs.jwk.json", cgf_dir());
		if (cg__signer_load(path, &hs, &err) != CG_OK) {
			fprintf(stderr, "claimgate fuzz: %s: %s\n", path,
			    err.msg);
			abort();
		}
	}
	if ((tok = cg__signer_sign(hs, CG_ALG_HS256, hdr, sizeof(hdr) - 1,
		 payload, len)) == NULL)
		cgf_fail("cg__signer_sign failed");
	return tok;
}

/* ---- invariants --------------------------------------------------------- */

void
cgf_check_printable(const char *s, const char *what)
{
	if (s == NULL)
		cgf_fail(what);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			cgf_fail(what);
}

void
cgf_check_error(const struct cg_error *err, cg_code rc)
{
	if (rc == CG_OK)
		return;
	if (err->code != rc)
		cgf_fail("struct cg_error holds another code than returned");
	if (strcmp(cg_code_name(rc), "CG_ERR_UNKNOWN") == 0)
		cgf_fail("a call returned a code outside the enum");
	if (memchr(err->msg, '\0', sizeof(err->msg)) == NULL)
		cgf_fail("an error message is not NUL-terminated");
	cgf_check_printable(err->msg, "an error message is not printable "
				      "ASCII");
}

void
cgf_check_decision(const struct cg_decision *d, const char *tok, size_t len,
    int ours)
{
	cg_reason r = cg_decision_reason(d);
	int status = cg_reason_http_status(r);
	char *json;
	size_t i;

	if (d == NULL)
		cgf_fail("cg_decide returned CG_OK without a decision");
	if (cg_reason_name(r) == NULL)
		cgf_fail("a decision's reason is outside the enum");
	if (status != 200 && status != 401 && status != 403 && status != 503)
		cgf_fail("a reason maps to an unexpected HTTP status");
	if ((status == 200) != (cg_decision_allowed(d) != 0))
		cgf_fail("HTTP 200 and allow disagree");
	cgf_check_printable(cg_decision_detail(d),
	    "a decision's detail is not printable ASCII");
	if (cg_json_typeof(cg_decision_claims(d)) != CG_JSON_OBJECT)
		cgf_fail("a decision's claims are not an object");
	if (!cg_decision_allowed(d)) {
		if (cg__json_object_size(cg_decision_claims(d)) != 0)
			cgf_fail("a denied decision carries trusted claims");
		if (cg__decision_provenance(d) != NULL)
			cgf_fail("a denied decision carries a provenance");
	} else if (!ours && !cgf_is_minted(tok, len)) {
		cgf_fail("a token we did not mint was ALLOWED (forgery)");
	}
	if ((json = cg_decision_to_json(d)) == NULL)
		cgf_fail("cg_decision_to_json failed");
	for (i = 0; json[i] != '\0'; i++)
		if ((unsigned char)json[i] < 0x20)
			cgf_fail("a decision's JSON holds a control byte");
	cg_free(json);
}
