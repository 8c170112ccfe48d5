/*
 * fuzz_fetch.c - what a remote key set's HTTP responses are read with
 * (src/fetch.c), without libcurl or a network: the response header lines
 * (cg__fetch_parse_header_line, Cache-Control max-age), the OIDC discovery
 * document (cg__discovery_parse) and the JWK Set body as a refresh accepts
 * it (cg__jwks_response_parse).
 *
 * Input: headers NUL discovery NUL jwks. The header block is cut into
 * lines after each '\n', which stays in the line, as libcurl hands them
 * over; a missing part is empty. Each part is copied to a buffer of its
 * exact size, so that a read past its end is caught.
 *
 * Invariants (abort when broken):
 *   - a header line changes nothing but max_age; a status line ("HTTP/")
 *     resets it to -1 (a redirect's Cache-Control does not count);
 *     otherwise it changes only when it is a Cache-Control line whose
 *     first "max-age=" has a digit after it; then max_age is that number when
 * it is below 10^8 and at least 10^8 (past the 24 h clamp, never a short
 * interval) otherwise, at most CG_FETCH_MAX_AGE_MAX; the same line read twice
 * gives the same value; after the block max_age is -1 or in [0,
 * CG_FETCH_MAX_AGE_MAX];
 *   - discovery succeeds only with a jwks_uri of printable bytes without
 *     blanks that is https:// (any case) with a host, or, when plain http
 *     is allowed, http://127.0.0.1 followed by nothing, ':' or '/'; the
 *     document's "issuer" is then exactly the expected one, so of two
 *     different expected issuers at most one succeeds; what succeeds
 *     without plain http succeeds with it, with the same jwks_uri, and an
 *     https jwks_uri found with plain http is found without it;
 *   - a failure returns CG_ERR_KEYSET or CG_ERR_NOMEM, leaves no jwks_uri
 *     or key set, and gives a printable reason ("discovery: ..." for the
 *     discovery document);
 *   - an accepted JWK Set holds at least one usable key and at most the
 *     max_keys given;
 *   - no crash, leak or undefined behaviour.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "internal.h"
#include "fetch.h"

#define ISSUER "https://idp.fuzz.example"
#define ISSUER_OTHER "https://idp.fuzz.example/"
#define MAX_KEYS 3

/* Written into the out-parameters before each call: a failure must reset
 * them to NULL. */
static char unset[] = "unset";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* A copy of `len` bytes in a buffer of exactly that size (1 when empty). */
static char *
exact_copy(const uint8_t *p, size_t len)
{
	char *c = malloc(len > 0 ? len : 1);

	if (c == NULL)
		abort();
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * What a line must do to max_age, restated from fetch.h: -2 when it must
 * leave it alone; otherwise the number after the first "max-age=" of a
 * Cache-Control line, or, for a number of 10^8 or more, -3 ("at least
 * 10^8"), or -4 for a status line (max_age forgotten).
 */
static long
expected_max_age(const char *p, size_t len)
{
	static const char name[] = "cache-control:";
	size_t i, j;
	long v = 0;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		return -4;
	if (len < sizeof(name) - 1 ||
	    strncasecmp(p, name, sizeof(name) - 1) != 0)
		return -2;
	for (i = sizeof(name) - 1; i + 8 <= len; i++)
		if (strncasecmp(p + i, "max-age=", 8) == 0)
			break;
	if (i + 8 >= len || !is_digit(p[i + 8]))
		return -2;
	for (j = i + 8; j < len && is_digit(p[j]); j++) {
		v = v * 10 + (p[j] - '0');
		if (v >= 100000000L)
			return -3;
	}
	return v;
}

static void
check_headers(const uint8_t *data, size_t size)
{
	struct cg_fetch_result res, before;
	size_t off = 0;

	memset(&res, 0x5a, sizeof(res));
	res.body = NULL;
	res.len = 0;
	res.max_age = -1;
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len =
		    nl != NULL ? (size_t)(nl - (data + off)) + 1 : size - off;
		char *line = exact_copy(data + off, len);
		long want = expected_max_age(line, len), prev = res.max_age;
		long got;

		memcpy(&before, &res, sizeof(res));
		cg__fetch_parse_header_line(line, len, &res);
		got = res.max_age;
		before.max_age = got;
		if (memcmp(&before, &res, sizeof(res)) != 0)
			cgf_fail("a header line wrote more than max_age");
		if (want == -4 && got != -1)
			cgf_fail("a status line did not forget max_age");
		if (want == -2 && got != prev)
			cgf_fail("a line that is no Cache-Control max-age "
			         "changed max_age");
		if (want >= 0 && got != want)
			cgf_fail("a Cache-Control max-age reads as another "
			         "number");
		if (want == -3 &&
		    (got < 100000000L || got > CG_FETCH_MAX_AGE_MAX))
			cgf_fail("a max-age of 10^8 or more reads as a "
			         "shorter interval or past the maximum");
		cg__fetch_parse_header_line(line, len, &res);
		if (res.max_age != got)
			cgf_fail("a header line read twice gives another "
			         "max-age");
		free(line);
		off += len;
	}
	if (res.max_age != -1 &&
	    (res.max_age < 0 || res.max_age > CG_FETCH_MAX_AGE_MAX))
		cgf_fail("max-age out of range after the header block");
}

/* A jwks_uri that may be fetched, restated from fetch.h. */
static int
uri_ok(const char *u, int insecure_http)
{
	static const char local[] = "http://127.0.0.1";
	size_t i, n = strlen(u);

	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	if (n > 8 && strncasecmp(u, "https://", 8) == 0)
		return u[8] != '/';
	if (insecure_http && n >= sizeof(local) - 1 &&
	    strncasecmp(u, local, sizeof(local) - 1) == 0) {
		char c = u[sizeof(local) - 1];
		return c == '\0' || c == ':' || c == '/';
	}
	return 0;
}

/* The document's own "issuer", read again: it must be `issuer`. */
static void
check_doc_issuer(const char *body, size_t len, const char *issuer)
{
	struct cg_json *doc = NULL;
	const char *iss;
	size_t ilen, bad;
	char w[80];

	if (cg__json_parse_object(body, len, CG_LIMIT_JSON_DEPTH, &doc, &bad, w,
	        sizeof(w)) != CG_OK ||
	    cg_json_string(cg_json_object_get(doc, "issuer"), &iss, &ilen) !=
	        CG_OK ||
	    ilen != strlen(issuer) || memcmp(iss, issuer, ilen) != 0)
		cgf_fail("discovery accepted a document that does not name "
		         "the expected issuer");
	cg__json_free(doc);
}

/* One discovery; returns the jwks_uri (caller frees) or NULL. */
static char *
discover(const char *body, size_t len, const char *issuer, int insecure_http)
{
	char why[200], *uri = unset;
	cg_code rc;

	why[0] = '\0';
	rc = cg__discovery_parse(
	    body, len, issuer, insecure_http, &uri, why, sizeof(why));
	if (rc != CG_OK) {
		if (rc != CG_ERR_KEYSET && rc != CG_ERR_NOMEM)
			cgf_fail("discovery returned an undocumented code");
		if (uri != NULL)
			cgf_fail("a failed discovery left a jwks_uri");
		cgf_check_printable(why, "a discovery reason is not printable");
		if (strncmp(why, "discovery: ", 11) != 0)
			cgf_fail("a discovery reason does not say discovery");
		return NULL;
	}
	if (uri == NULL)
		cgf_fail("discovery succeeded without a jwks_uri");
	if (!uri_ok(uri, insecure_http))
		cgf_fail("discovery accepted a jwks_uri that is not https (or "
		         "the allowed local http)");
	check_doc_issuer(body, len, issuer);
	return uri;
}

static void
check_discovery(const uint8_t *data, size_t size)
{
	char *body = exact_copy(data, size);
	char *strict = discover(body, size, ISSUER, 0);
	char *lax = discover(body, size, ISSUER, 1);
	char *other = discover(body, size, ISSUER_OTHER, 1);

	if (lax != NULL && other != NULL)
		cgf_fail("one document matched two different issuers");
	if (strict != NULL && (lax == NULL || strcmp(strict, lax) != 0))
		cgf_fail("allowing plain http lost or changed a jwks_uri");
	if (lax != NULL && strncasecmp(lax, "https://", 8) == 0 &&
	    strict == NULL)
		cgf_fail("an https jwks_uri was found only with plain http");
	free(strict);
	free(lax);
	free(other);
	free(body);
}

static void
check_jwks(const uint8_t *data, size_t size)
{
	struct cg_keyset *ks = (struct cg_keyset *)(void *)unset;
	char *body = exact_copy(data, size);
	char why[200];
	cg_code rc;

	why[0] = '\0';
	rc = cg__jwks_response_parse(
	    body, size, MAX_KEYS, &ks, why, sizeof(why));
	if (rc != CG_OK) {
		if (rc != CG_ERR_KEYSET && rc != CG_ERR_NOMEM)
			cgf_fail("a JWK Set response returned an undocumented "
			         "code");
		if (ks != NULL)
			cgf_fail("a refused JWK Set response left a key set");
		cgf_check_printable(why, "a JWK Set reason is not printable");
		if (why[0] == '\0')
			cgf_fail("a refused JWK Set response has no reason");
	} else {
		if (ks == NULL)
			cgf_fail("an accepted JWK Set response has no key set");
		if (cg_keyset_count(ks) < 1 || cg_keyset_count(ks) > MAX_KEYS)
			cgf_fail("an accepted JWK Set has no usable key or "
			         "more than max_keys");
		cg_keyset_free(ks);
	}
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3];
	size_t plen[3], i, off = 0;

	for (i = 0; i < 3; i++) {
		const uint8_t *nul =
		    off < size ? memchr(data + off, '\0', size - off) : NULL;
		part[i] = data + off;
		if (i == 2 || nul == NULL) {
			plen[i] = off < size ? size - off : 0;
			off = size;
		} else {
			plen[i] = (size_t)(nul - (data + off));
			off += plen[i] + 1;
		}
	}
	check_headers(part[0], plen[0]);
	check_discovery(part[1], plen[1]);
	check_jwks(part[2], plen[2]);
	return 0;
}
