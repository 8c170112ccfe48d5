/*
 * fuzz_route.c - the request path of `serve` (server/http.c, authorize())
 * without the socket: the proxy's host, path and method select a zone of
 * the fixed policy (cg__path_normalise, cg__policy_route), the
 * Authorization header gives the bearer token, cg_decide decides, and the
 * forward headers and the audit line are rendered.
 *
 * Input: host NUL path NUL method NUL authorization. A missing field is
 * an absent header: no Host (NULL), the path "/" and the method "GET"
 * that serve falls back to, no Authorization.
 *
 * Invariants (abort when broken):
 *   - a normalised path starts with '/', has no empty, "." or ".."
 *     segment, no byte below 0x20, 0x7f or '\', fits its buffer exactly
 *     (checked with heap buffers of every small size), and normalises to
 *     itself when it holds no '%', '?' or '#';
 *   - an allowed token is one we signed (cgf_check_decision);
 *   - every forward header value has no byte below 0x20 and no 0x7f;
 *   - the audit line is one line: no byte below 0x20.
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "policy.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	(void)cgf_policy();
	cgf_init_tokens();
	return 0;
}

/* serve's bearer_token(): "Bearer <token>", scheme case-insensitive,
 * blanks around the token dropped; anything else is no token. */
static const char *
bearer_token(const char *h, size_t *len)
{
	static const char scheme[] = "bearer";
	size_t i;

	*len = 0;
	if (h == NULL)
		return "";
	for (i = 0; i < 6; i++) {
		char c = h[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != scheme[i])
			return "";
	}
	if (h[6] != ' ' && h[6] != '\t')
		return "";
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	*len = strlen(h);
	while (*len > 0 && (h[*len - 1] == ' ' || h[*len - 1] == '\t'))
		(*len)--;
	return h;
}

static void
check_normalised(const char *out)
{
	const char *s;
	char again[4096];

	if (out[0] != '/')
		cgf_fail("a normalised path does not start with '/'");
	for (s = out; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '\\')
			cgf_fail("a normalised path holds a control byte or "
				 "a backslash");
		if (c == '/' && s[1] == '/')
			cgf_fail("a normalised path holds an empty segment");
		if (c == '/' && s[1] == '.' &&
		    (s[2] == '/' || s[2] == '\0' ||
			(s[2] == '.' && (s[3] == '/' || s[3] == '\0'))))
			cgf_fail("a normalised path holds a dot segment");
	}
	if (strpbrk(out, "%?#") == NULL &&
	    (cg__path_normalise(out, strlen(out), again, sizeof(again)) != 0 ||
		strcmp(again, out) != 0))
		cgf_fail("a normalised path does not normalise to itself");
}

static void
normalise(const char *path)
{
	char big[4096], *small;
	size_t len = strlen(path), sz;
	int rc;

	rc = cg__path_normalise(path, len, big, sizeof(big));
	if (rc == 0)
		check_normalised(big);
	/* Exactly sized heap buffers: ASan sees any write past the end. */
	for (sz = 1; sz <= 16; sz++) {
		if ((small = malloc(sz)) == NULL)
			abort();
		if (cg__path_normalise(path, len, small, sz) == 0) {
			if (rc != 0 || strcmp(small, big) != 0)
				cgf_fail("a small buffer normalises "
					 "differently");
		}
		free(small);
	}
}

static void
check_forward(void *ctx, const char *name, const char *value)
{
	const unsigned char *v = (const unsigned char *)value;

	(*(size_t *)ctx)++;
	if (name == NULL || name[0] == '\0' || value == NULL ||
	    value[0] == '\0')
		cgf_fail("a forward header without name or value");
	for (; *v != '\0'; v++)
		if (*v < 0x20 || *v == 0x7f)
			cgf_fail("a forward header value holds a control "
				 "byte (header injection)");
}

static void
audit(const struct cg_decision *d, const char *method, const char *host,
    const char *path)
{
	struct cg_audit_req r;
	char *line;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.time_ms = (uint64_t)CGF_NOW * 1000 + 123;
	r.method = method;
	r.host = host;
	r.path = path;
	r.client = "192.0.2.1";
	r.reason = d == NULL ? "no_zone" : NULL;
	r.latency_us = 42;
	if ((line = cg__audit_line(d, &r)) == NULL)
		return; /* out of memory: serve drops the line */
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20)
			cgf_fail("an audit line holds a control byte");
	cg_free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cg_policy *pol = cgf_policy();
	const char *field[4] = {NULL, NULL, NULL, NULL};
	const char *host, *path, *method, *tok;
	struct cg_decision *d = NULL;
	struct cg_store *st = NULL;
	struct cg_error err;
	size_t nf = 0, i, toklen, nfwd = 0;
	char *buf;
	long zi;
	cg_code rc;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	field[nf++] = buf;
	for (i = 0; i < size && nf < 4; i++)
		if (buf[i] == '\0')
			field[nf++] = buf + i + 1;
	host = field[0];
	path = field[1] != NULL ? field[1] : "/";
	method = field[2] != NULL ? field[2] : "GET";

	normalise(path);
	zi = cg__policy_route(pol, host, path, method);
	if (zi < -1 || zi >= (long)pol->nzones)
		cgf_fail("cg__policy_route returned no zone index");
	if (zi < 0) {
		audit(NULL, method, host, path);
		free(buf);
		return 0;
	}
	tok = bearer_token(field[3], &toklen);
	if (cg_store_memory_new(&st) != CG_OK)
		cgf_fail("cg_store_memory_new failed");
	memset(&err, 0, sizeof(err));
	rc = cg_decide(pol, pol->zones[zi].name, tok, toklen, CGF_NOW, st, &d,
	    &err);
	cgf_check_error(&err, rc);
	if (rc != CG_OK)
		cgf_fail("cg_decide failed on a routed zone");
	cgf_check_decision(d, tok, toklen, 0);
	if (cg__forward_headers(pol, d, check_forward, &nfwd) != nfwd)
		cgf_fail("cg__forward_headers miscounts");
	if (!cg_decision_allowed(d) && nfwd != 0)
		cgf_fail("a denied request forwards headers");
	audit(d, method, host, path);
	cg_decision_free(d);
	cg_store_free(st);
	free(buf);
	return 0;
}
