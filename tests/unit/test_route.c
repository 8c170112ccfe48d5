/*
 * test_route.c - src/route.c: request path normalisation for zone
 * matching (cg__path_normalise), zone routing by host, path and method
 * (cg__policy_route), and the `forward` header values of a decision
 * (cg__forward_headers). Contract section 5; issue 4.
 *
 * One fixture: an HS256 key written as a JWK Set into a mkdtemp() folder,
 * one policy parsed with cg__policy_parse(), decisions made with
 * cg_decide() at a fixed NOW.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"
#include "policy.h"

#define NOW 1700000000LL
#define ISS "https://sso.example.com"
#define AUD "https://api.example.com"

/* ---- cg__path_normalise ------------------------------------------------ */

struct norm_case {
	const char *in;
	const char *want; /* NULL: refused (-1) */
};

static const struct norm_case norm_cases[] = {
	/* plain */
	{"/", "/"},
	{"/a", "/a"},
	{"/a/b/", "/a/b/"},
	{"/payments/x", "/payments/x"},
	/* dot segments (RFC 3986 5.2.4) */
	{"/a/./b", "/a/b"},
	{"/a/../b", "/b"},
	{"/a/b/..", "/a/"},
	{"/a/b/.", "/a/b/"},
	{"/a/..", "/"},
	{"/.", "/"},
	{"/./", "/"},
	{"/./a", "/a"},
	{"/public/../payments/x", "/payments/x"},
	{"/a/b/c/../../d", "/a/d"},
	{"/a/...", "/a/..."},
	{"/a/..b", "/a/..b"},
	{"/a/b../c", "/a/b../c"},
	{"/a/.b", "/a/.b"},
	/* encoded dots are dots */
	{"/public/%2e%2e/payments/x", "/payments/x"},
	{"/public/%2E%2e/payments/x", "/payments/x"},
	{"/public/.%2e/payments/x", "/payments/x"},
	{"/public/%2e./payments/x", "/payments/x"},
	{"/a/%2e/b", "/a/b"},
	{"/a/b/%2e%2e", "/a/"},
	{"/a/b/.%2E", "/a/"},
	/* above the root */
	{"/..", NULL},
	{"/../a", NULL},
	{"/a/../..", NULL},
	{"/a/../../b", NULL},
	{"/%2e%2e/x", NULL},
	{"/.%2e", NULL},
	/* encoded slash: a second path grammar, refused */
	{"/a%2fb", NULL},
	{"/a%2Fb", NULL},
	{"/public/..%2fpayments/x", NULL},
	{"/payments%2f..%2fpublic/x", NULL},
	/* backslash, plain or encoded */
	{"/a\\b", NULL},
	{"/a%5cb", NULL},
	{"/a%5C..%5Cb", NULL},
	/* NUL and other control bytes, plain or encoded */
	{"/a%00b", NULL},
	{"/a%00", NULL},
	{"/a\tb", NULL},
	{"/a%09b", NULL},
	{"/a%0d%0aX-Evil:1", NULL},
	{"/a\x7f", NULL},
	{"/a%7f", NULL},
	{"/a%1f", NULL},
	/* invalid escapes */
	{"/a%", NULL},
	{"/a%2", NULL},
	{"/a%zz", NULL},
	{"/a%g0", NULL},
	{"/a%0g", NULL},
	{"/a%%32%66", NULL},
	/* valid escapes of other bytes are decoded */
	{"/a%41b", "/aAb"},
	{"/%7euser", "/~user"},
	{"/a%20b", "/a b"},
	{"/a/%3fb", "/a/?b"},
	{"/a%25", "/a%"},
	{"/%c3%a9t%C3%A9", "/\xc3\xa9t\xc3\xa9"},
	{"/caf\xc3\xa9", "/caf\xc3\xa9"},
	/* repeated slashes merged */
	{"//a", "/a"},
	{"//a///b//", "/a/b/"},
	{"/a//../b", "/b"},
	{"/public//..//payments/x", "/payments/x"},
	{"///", "/"},
	/* query and fragment dropped */
	{"/a?x=1", "/a"},
	{"/a?", "/a"},
	{"/?zone=public", "/"},
	{"/a#frag", "/a"},
	{"/a/..?x", "/"},
	{"/a?x/../..", "/a"},
	{"/a?%2f", "/a"},
	{"/a/.#x", "/a/"},
	/* not a path */
	{"", NULL},
	{"a/b", NULL},
	{"*", NULL},
	{"%2fa", NULL},
	{"?x", NULL},
	{"http://example.com/a", NULL},
};

static void
test_normalise_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		const struct norm_case *c = &norm_cases[i];
		char out[256];
		int rc;

		memset(out, 'Z', sizeof(out));
		rc = cg__path_normalise(c->in, strlen(c->in), out,
		    sizeof(out));
		if (c->want == NULL) {
			if (rc != -1)
				fail_msg("\"%s\": got \"%s\", expected refusal",
				    c->in, out);
		} else {
			if (rc != 0)
				fail_msg("\"%s\": refused, expected \"%s\"",
				    c->in, c->want);
			if (strcmp(out, c->want) != 0)
				fail_msg("\"%s\": got \"%s\", expected \"%s\"",
				    c->in, out, c->want);
		}
	}
}

/* `len` bounds the input: bytes after it are never read. */
static void
test_normalise_len_bounds_input(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(cg__path_normalise("/abc/def", 4, out, sizeof(out)),
	    0);
	assert_string_equal(out, "/abc");
	assert_int_equal(cg__path_normalise("/a/..", 2, out, sizeof(out)), 0);
	assert_string_equal(out, "/a");
	/* an escape cut by len is invalid */
	assert_int_equal(cg__path_normalise("/a%41", 4, out, sizeof(out)), -1);
	assert_int_equal(cg__path_normalise("/a", 0, out, sizeof(out)), -1);
}

/* The output holds at most outsz - 1 bytes and a NUL: a result of N - 1
 * bytes fits a buffer of N, one of N bytes does not. */
static void
test_normalise_length_limits(void **state)
{
	static const size_t sizes[] = {2, 3, 16, 255, 4096};
	size_t si;

	(void)state;
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		char *in = malloc(n + 8), *out = malloc(n + 1);

		assert_non_null(in);
		assert_non_null(out);
		/* "/" + n-2 letters: n-1 bytes, fits */
		in[0] = '/';
		memset(in + 1, 'a', n + 6);
		if (n >= 2) {
			assert_int_equal(cg__path_normalise(in, n - 1, out, n),
			    0);
			assert_int_equal(strlen(out), n - 1);
		}
		/* n bytes: does not fit */
		assert_int_equal(cg__path_normalise(in, n, out, n), -1);
		/* a longer input that normalises short enough fits
		 * ("/aaa/../b"; the dot segment needs room while it is
		 * resolved, so not in the smallest buffers) */
		if (n >= 16) {
			memcpy(in, "/aaa/../b", 9);
			assert_int_equal(cg__path_normalise(in, 9, out, n), 0);
			assert_string_equal(out, "/b");
		}
		/* an escape counts once decoded: "/" + n-2 "%41" fits */
		if (n >= 3 && n <= 255) {
			size_t i, o = 1;
			char *enc = malloc(3 * n + 2);
			assert_non_null(enc);
			enc[0] = '/';
			for (i = 0; i < n - 2; i++, o += 3)
				memcpy(enc + o, "%41", 3);
			assert_int_equal(cg__path_normalise(enc, o, out, n), 0);
			assert_int_equal(strlen(out), n - 1);
			memcpy(enc + o, "%41", 3);
			assert_int_equal(
			    cg__path_normalise(enc, o + 3, out, n), -1);
			free(enc);
		}
		free(in);
		free(out);
	}
	/* a buffer too small for "/" and its NUL */
	{
		char out[1];
		assert_int_equal(cg__path_normalise("/", 1, out, 1), -1);
		assert_int_equal(cg__path_normalise("/", 1, out, 0), -1);
	}
}

/* ---- fixture: key, policy ----------------------------------------------- */

static const char policy_text[] =
    "version: 1\n"
    "issuers:\n"
    "  sso:\n"
    "    issuer: " ISS "\n"
    "    jwks_file: keys.json\n"
    "    algorithms: [HS256]\n"
    "zones:\n"
    /* 0 */
    "  api:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [api.example.com]\n"
    "      paths: [/api/]\n"
    /* 1 */
    "  pay-post:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [api.example.com]\n"
    "      paths: [/pay/, /payments/]\n"
    "      methods: [post, PUT]\n"
    /* 2 */
    "  pay-get:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [api.example.com]\n"
    "      paths: [/pay/, /payments/]\n"
    "      methods: [GET]\n"
    /* 3: never routed */
    "  unmatched:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    /* 4 */
    "  v6:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [\"[::1]\", \"[2001:db8::7]\", 192.0.2.1]\n"
    /* 5: host written in mixed case in the policy */
    "  mixed:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [Mixed.Example.COM]\n"
    /* 6, 7: the same match; the first wins */
    "  dup-first:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [dup.example.com]\n"
    "  dup-second:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [dup.example.com]\n"
    /* 8: paths only, any host */
    "  static:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      paths: [/static/]\n"
    /* 9: methods only */
    "  options:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      methods: [OPTIONS]\n"
    /* 10: host-wide fallback after a path zone on the same host */
    "  intranet-admin:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [intranet.example.com]\n"
    "      paths: [/admin/]\n"
    "  intranet:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    match:\n"
    "      hosts: [intranet.example.com]\n"
    /* 12: forward headers (no match: decided by name) */
    "  fw:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    claims:\n"
    "      sub: {}\n"
    "      roles: { claim: scope, split: space }\n"
    "      n: {}\n"
    "      b: {}\n"
    "      tenant: { claim: tid, pattern: \"^[a-z0-9-]+$\" }\n"
    "      l: {}\n"
    "      o: {}\n"
    "    forward:\n"
    "      X-Sub: sub\n"
    "      X-Roles: roles\n"
    "      X-N: n\n"
    "      X-B: b\n"
    "      X-Tenant: tenant\n"
    "      X-L: l\n"
    "      X-O: o\n"
    /* 13: a trusted claim with neither pattern nor map */
    "  plain:\n"
    "    audience: " AUD "\n"
    "    accept: [sso]\n"
    "    claims:\n"
    "      sub: {}\n"
    "      tenant: { claim: tid }\n"
    "    forward:\n"
    "      X-Sub: sub\n"
    "      X-Tenant: tenant\n";

enum {
	Z_API, Z_PAY_POST, Z_PAY_GET, Z_UNMATCHED, Z_V6, Z_MIXED, Z_DUP1,
	Z_DUP2, Z_STATIC, Z_OPTIONS, Z_INTRA_ADMIN, Z_INTRA, Z_FW, Z_PLAIN
};

static struct fixture {
	char dir[64];
	struct cgt_key key;
	struct cg_policy *pol;
} fx;

static int
group_setup(void **state)
{
	struct cg_error err;
	char *jwks, *path;
	FILE *f;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.dir, "/tmp/cg-route-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	cgt_key_gen(&fx.key, CG_ALG_HS256, "h1", 0);
	jwks = cgt_jwks((const char *const *)&fx.key.jwk, 1);
	path = cgt_fmt("%s/keys.json", fx.dir);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	fputs(jwks, f);
	if (fclose(f) != 0)
		return -1;
	free(jwks);
	free(path);
	memset(&err, 0, sizeof(err));
	if (cg__policy_parse(policy_text, strlen(policy_text), "route.yaml",
		fx.dir, &fx.pol, &err) != CG_OK) {
		fprintf(stderr, "policy: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char *path = cgt_fmt("%s/keys.json", fx.dir);

	(void)state;
	cg_policy_free(fx.pol);
	cgt_key_free(&fx.key);
	unlink(path);
	free(path);
	return rmdir(fx.dir) == 0 ? 0 : -1;
}

static long
route(const char *host, const char *path, const char *method)
{
	return cg__policy_route(fx.pol, host, path, method);
}

/* ---- cg__policy_route ----------------------------------------------------- */

static void
test_route_zone_indices(void **state)
{
	(void)state;
	/* The enum above follows the policy's order. */
	assert_int_equal(cg__policy_zone_index(fx.pol, "api"), Z_API);
	assert_int_equal(cg__policy_zone_index(fx.pol, "intranet"), Z_INTRA);
	assert_int_equal(cg__policy_zone_index(fx.pol, "fw"), Z_FW);
	assert_int_equal(cg__policy_zone_index(fx.pol, "plain"), Z_PLAIN);
	assert_int_equal(cg__policy_zone_index(fx.pol, "nope"), -1);
}

static void
test_route_host(void **state)
{
	(void)state;
	assert_int_equal(route("api.example.com", "/api/x", "GET"), Z_API);
	/* port ignored */
	assert_int_equal(route("api.example.com:8443", "/api/x", "GET"),
	    Z_API);
	assert_int_equal(route("api.example.com:", "/api/x", "GET"), Z_API);
	/* case-insensitive, both in the request and in the policy */
	assert_int_equal(route("API.Example.Com", "/api/x", "GET"), Z_API);
	assert_int_equal(route("mixed.example.com", "/", "GET"), Z_MIXED);
	assert_int_equal(route("MIXED.example.com:80", "/", "GET"), Z_MIXED);
	/* exact: no suffix or prefix match, no wildcard */
	assert_int_equal(route("xapi.example.com", "/api/x", "GET"), -1);
	assert_int_equal(route("api.example.com.evil", "/api/x", "GET"), -1);
	assert_int_equal(route("api.example.co", "/api/x", "GET"), -1);
	assert_int_equal(route("evil.com/api.example.com", "/api/x", "GET"),
	    -1);
	assert_int_equal(route("", "/api/x", "GET"), -1);
	/* no host at all: only zones without hosts */
	assert_int_equal(route(NULL, "/api/x", "GET"), -1);
	assert_int_equal(route(NULL, "/static/a.css", "GET"), Z_STATIC);
}

static void
test_route_ipv6_literal(void **state)
{
	(void)state;
	assert_int_equal(route("[::1]", "/", "GET"), Z_V6);
	assert_int_equal(route("[::1]:8080", "/", "GET"), Z_V6);
	assert_int_equal(route("[2001:DB8::7]:443", "/", "GET"), Z_V6);
	assert_int_equal(route("[::2]:8080", "/", "GET"), -1);
	/* an unbracketed IPv6 address is not the bracketed one */
	assert_int_equal(route("::1", "/", "GET"), -1);
	assert_int_equal(route("192.0.2.1:80", "/", "GET"), Z_V6);
	assert_int_equal(route("192.0.2.10", "/", "GET"), -1);
}

static void
test_route_path_prefix(void **state)
{
	(void)state;
	assert_int_equal(route("api.example.com", "/api/", "GET"), Z_API);
	assert_int_equal(route("api.example.com", "/api/a/b?c=d", "GET"),
	    Z_API);
	/* a prefix, compared after normalisation */
	assert_int_equal(route("api.example.com", "/api", "GET"), -1);
	assert_int_equal(route("api.example.com", "/apix/", "GET"), -1);
	assert_int_equal(route("api.example.com", "/API/x", "GET"), -1);
	assert_int_equal(route("api.example.com", "/x/../api/y", "GET"),
	    Z_API);
	assert_int_equal(route("api.example.com", "/x/%2e%2e/api/y", "GET"),
	    Z_API);
	assert_int_equal(route("api.example.com", "//api//y", "GET"), Z_API);
	assert_int_equal(route("api.example.com", "/api/../x", "GET"), -1);
	/* several prefixes */
	assert_int_equal(route("api.example.com", "/pay/1", "GET"), Z_PAY_GET);
	assert_int_equal(route("api.example.com", "/payments/1", "GET"),
	    Z_PAY_GET);
	/* a path that cannot be normalised matches no zone with paths */
	assert_int_equal(route("api.example.com", "/x/..%2fapi/y", "GET"), -1);
	assert_int_equal(route("api.example.com", "/api/%00", "GET"), -1);
	assert_int_equal(route("api.example.com", "/..", "GET"), -1);
	assert_int_equal(route("api.example.com", "api/x", "GET"), -1);
	assert_int_equal(route("api.example.com", NULL, "GET"), -1);
	/* a long path: 4095 bytes are normalised, 4096 are not */
	{
		char *p = malloc(4097);
		assert_non_null(p);
		memcpy(p, "/static/", 8);
		memset(p + 8, 'a', 4096 - 8);
		p[4095] = '\0';
		assert_int_equal(route("any.example.com", p, "GET"), Z_STATIC);
		p[4095] = 'a';
		p[4096] = '\0';
		assert_int_equal(route("any.example.com", p, "GET"), -1);
		free(p);
	}
}

static void
test_route_method(void **state)
{
	(void)state;
	assert_int_equal(route("api.example.com", "/pay/1", "POST"),
	    Z_PAY_POST);
	assert_int_equal(route("api.example.com", "/pay/1", "PUT"),
	    Z_PAY_POST);
	assert_int_equal(route("api.example.com", "/pay/1", "GET"), Z_PAY_GET);
	assert_int_equal(route("api.example.com", "/pay/1", "DELETE"), -1);
	/* methods are case-sensitive (RFC 9110 9.1); the policy's are
	 * upper-cased at load */
	assert_int_equal(route("api.example.com", "/pay/1", "post"), -1);
	assert_int_equal(route("api.example.com", "/pay/1", "Get"), -1);
	assert_int_equal(route("api.example.com", "/pay/1", NULL), -1);
	/* no methods: any */
	assert_int_equal(route("api.example.com", "/api/1", "BREW"), Z_API);
	/* methods only: any host, any path */
	assert_int_equal(route("elsewhere.example.com", "/x", "OPTIONS"),
	    Z_OPTIONS);
	assert_int_equal(route(NULL, NULL, "OPTIONS"), Z_OPTIONS);
}

static void
test_route_first_match_wins(void **state)
{
	(void)state;
	assert_int_equal(route("dup.example.com", "/", "GET"), Z_DUP1);
	/* a host-less path zone applies to the api host too */
	assert_int_equal(route("api.example.com", "/static/x", "GET"),
	    Z_STATIC);
	/* a path zone before a host-wide zone of the same host */
	assert_int_equal(route("intranet.example.com", "/admin/users", "GET"),
	    Z_INTRA_ADMIN);
	assert_int_equal(route("intranet.example.com", "/x/../admin/u", "GET"),
	    Z_INTRA_ADMIN);
	assert_int_equal(route("intranet.example.com", "/home", "GET"),
	    Z_INTRA);
	/* OPTIONS on a pay path: pay-post/pay-get need their methods; the
	 * methods-only zone takes it */
	assert_int_equal(route("api.example.com", "/pay/1", "OPTIONS"),
	    Z_OPTIONS);
}

static void
test_route_unmatched_zone_never_routed(void **state)
{
	static const char *const hosts[] = {NULL, "", "api.example.com",
	    "unmatched", "x"};
	static const char *const paths[] = {NULL, "/", "/api/x", "/unmatched"};
	static const char *const methods[] = {NULL, "GET", "POST", "OPTIONS"};
	size_t h, p, m;

	(void)state;
	for (h = 0; h < 5; h++)
		for (p = 0; p < 4; p++)
			for (m = 0; m < 4; m++) {
				long z = route(hosts[h], paths[p], methods[m]);
				assert_true(z != Z_UNMATCHED && z != Z_FW &&
				    z != Z_PLAIN);
			}
}

/* The header comment of route.c: a path that cannot be normalised
 * "matches no zone". A zone whose match has hosts but no paths still
 * takes it. */
static void
test_route_unsafe_path_pathless_zone(void **state)
{
	(void)state;
	assert_int_equal(route("intranet.example.com", "/x/..%2fadmin/u",
			     "GET"), -1);
	assert_int_equal(route("intranet.example.com", "/x%5c..%5cadmin/u",
			     "GET"), -1);
	assert_int_equal(route("elsewhere.example.com", "/a%00", "OPTIONS"),
	    -1);
}

/* ---- cg__forward_headers ---------------------------------------------------- */

#define MAXH 16

struct headers {
	size_t n;
	char name[MAXH][64];
	char value[MAXH][8192];
};

static void
collect(void *ctx, const char *name, const char *value)
{
	struct headers *h = ctx;

	assert_true(h->n < MAXH);
	assert_true(strlen(name) < sizeof(h->name[0]));
	assert_true(strlen(value) < sizeof(h->value[0]));
	strcpy(h->name[h->n], name);
	strcpy(h->value[h->n], value);
	h->n++;
}

static const char *
hval(const struct headers *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

static char last_detail[256];

/* Decides `claims` (JSON members, without braces) in zone `zone` and
 * collects its forward headers; returns the count. *allowed is set. */
static size_t
forward(const char *zone, const char *claims, struct headers *h,
    int *allowed)
{
	char *payload = cgt_fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
				"\"exp\":%lld%s%s}",
	    NOW + 600, claims[0] != '\0' ? "," : "", claims);
	char *tok = cgt_mint_simple(&fx.key, "h1", payload);
	struct cg_decision *d = NULL;
	struct cg_error err;
	size_t n;

	memset(h, 0, sizeof(*h));
	if (cg_decide(fx.pol, zone, tok, strlen(tok), NOW, NULL, &d, &err) !=
	    CG_OK)
		fail_msg("cg_decide(%s): %s", claims, err.msg);
	*allowed = cg_decision_allowed(d);
	snprintf(last_detail, sizeof(last_detail), "%s: %s",
	    cg_reason_name(cg_decision_reason(d)), cg_decision_detail(d));
	n = cg__forward_headers(fx.pol, d, collect, h);
	assert_int_equal(n, h->n);
	cg_decision_free(d);
	free(tok);
	free(payload);
	return n;
}

/* Claims of every JSON type, for zone fw's rules without pattern or map. */
#define ALL_TYPES                                                           \
	"\"scope\":\"r\",\"n\":42,\"b\":true,\"l\":[\"x\"],\"o\":{\"k\":1}"

static void
test_forward_values(void **state)
{
	struct headers h;
	int allowed;

	(void)state;
	assert_int_equal(forward("fw",
			     "\"sub\":\"alice\",\"scope\":\"read write  admin "
			     "read\",\"tid\":\"acme-1\",\"n\":42,\"b\":true,"
			     "\"l\":[\"x\"],\"o\":{\"k\":1}",
			     &h, &allowed),
	    6);
	assert_true(allowed);
	/* policy order, names as written */
	assert_string_equal(h.name[0], "X-Sub");
	assert_string_equal(h.value[0], "alice");
	assert_string_equal(h.name[1], "X-Roles");
	assert_string_equal(h.value[1], "read,write,admin"); /* joined, deduped */
	assert_string_equal(h.name[2], "X-N");
	assert_string_equal(h.value[2], "42");
	assert_string_equal(h.name[3], "X-B");
	assert_string_equal(h.value[3], "true");
	assert_string_equal(h.name[4], "X-Tenant");
	assert_string_equal(h.value[4], "acme-1");
	assert_string_equal(h.name[5], "X-L");
	assert_string_equal(h.value[5], "x");
	/* an object is never rendered */
	assert_null(hval(&h, "X-O"));
}

static void
test_forward_numbers_and_bools(void **state)
{
	struct headers h;
	int allowed;

	(void)state;
	forward("fw", "\"sub\":\"a\",\"scope\":\"r\",\"n\":1.5,\"b\":false,\"l\":[],\"o\":0",
	    &h, &allowed);
	assert_true(allowed);
	assert_string_equal(hval(&h, "X-N"), "1.5");
	assert_string_equal(hval(&h, "X-B"), "false");
	assert_string_equal(hval(&h, "X-O"), "0");
	forward("fw", "\"sub\":\"a\",\"scope\":\"r\",\"n\":-7,\"b\":true,\"l\":[],\"o\":1e3",
	    &h, &allowed);
	assert_string_equal(hval(&h, "X-N"), "-7");
	assert_string_equal(hval(&h, "X-O"), "1000");
}

static void
test_forward_lists(void **state)
{
	struct headers h;
	int allowed;

	(void)state;
	forward("fw", "\"sub\":\"a\",\"scope\":\"r\",\"n\":1,\"b\":true,\"o\":{},"
		      "\"l\":[\"a\",\"b\",\"c d\"]",
	    &h, &allowed);
	assert_string_equal(hval(&h, "X-L"), "a,b,c d");
	/* non-string elements are left out of the joined value */
	forward("fw", "\"sub\":\"a\",\"scope\":\"r\",\"n\":1,\"b\":true,\"o\":{},"
		      "\"l\":[1,\"a\",true,\"b\",{\"x\":1}]",
	    &h, &allowed);
	assert_true(allowed);
	assert_string_equal(hval(&h, "X-L"), "a,b");
	/* an empty list, or a list with no strings, is no header */
	forward("fw", "\"sub\":\"a\",\"scope\":\"r\",\"n\":1,\"b\":true,\"o\":{},\"l\":[1,2]",
	    &h, &allowed);
	assert_true(allowed);
	assert_null(hval(&h, "X-L"));
}

static void
test_forward_control_characters_dropped(void **state)
{
	static const char *const subs[] = {
		"a\\u0007b", "a\\r\\nX-Evil: 1", "a\\nb", "\\u0001",
		"\\u007f", "tab\\there", "\\u001f", "end\\r",
	};
	struct headers h;
	size_t i;
	int allowed;

	(void)state;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char *c = cgt_fmt("\"sub\":\"%s\"," ALL_TYPES, subs[i]);
		size_t n = forward("fw", c, &h, &allowed);
		if (!allowed)
			fail_msg("sub \"%s\" denied: %s", subs[i], last_detail);
		if (hval(&h, "X-Sub") != NULL)
			fail_msg("sub \"%s\" was rendered", subs[i]);
		assert_null(hval(&h, "X-Evil"));
		assert_int_equal(n, 4); /* X-Roles, X-N, X-B, X-L */
		free(c);
	}
	/* a NUL in a claim never gets this far: the token is malformed */
	assert_int_equal(forward("fw", "\"sub\":\"a\\u0000b\"," ALL_TYPES, &h,
			     &allowed),
	    0);
	assert_false(allowed);
	/* one bad element drops the whole list, not just the element */
	forward("fw", "\"sub\":\"a\",\"scope\":\"r\",\"n\":1,\"b\":true,\"o\":{},"
		      "\"l\":[\"ok\",\"b\\u0001d\"]",
	    &h, &allowed);
	assert_null(hval(&h, "X-L"));
	assert_string_equal(hval(&h, "X-Sub"), "a");
	/* split parts too */
	forward("fw", "\"sub\":\"a\",\"scope\":\"x y\\u0002\",\"n\":1,\"b\":true,"
		      "\"l\":[],\"o\":{}",
	    &h, &allowed);
	assert_null(hval(&h, "X-Roles"));
	/* non-ASCII UTF-8 is not a control character */
	forward("fw", "\"sub\":\"caf\\u00e9\"," ALL_TYPES, &h, &allowed);
	assert_string_equal(hval(&h, "X-Sub"), "caf\xc3\xa9");
}

static void
test_forward_absent_and_empty_skipped(void **state)
{
	struct headers h;
	int allowed;
	size_t n;

	(void)state;
	/* tid absent (its rule has a pattern): no X-Tenant */
	n = forward("fw", "\"sub\":\"bob\"," ALL_TYPES, &h, &allowed);
	assert_true(allowed);
	assert_int_equal(n, 5);
	assert_null(hval(&h, "X-Tenant"));
	assert_string_equal(hval(&h, "X-Sub"), "bob");
	/* a tid failing its pattern is absent too */
	forward("fw", "\"sub\":\"bob\",\"tid\":\"ACME!\"," ALL_TYPES, &h,
	    &allowed);
	assert_null(hval(&h, "X-Tenant"));
	/* an empty string is no header */
	forward("fw", "\"sub\":\"\"," ALL_TYPES, &h, &allowed);
	assert_true(allowed);
	assert_null(hval(&h, "X-Sub"));
	/* a value too long for a header line is not sent */
	{
		char *big = malloc(4501), *c;
		assert_non_null(big);
		memset(big, 'a', 4500);
		big[4500] = '\0';
		c = cgt_fmt("\"sub\":\"%s\"," ALL_TYPES, big);
		forward("fw", c, &h, &allowed);
		assert_true(allowed);
		assert_null(hval(&h, "X-Sub"));
		free(c);
		free(big);
	}
}

static void
test_forward_absent_plain_claim(void **state)
{
	struct headers h;
	int allowed;

	(void)state;
	/* present: both headers */
	assert_int_equal(forward("plain", "\"sub\":\"a\",\"tid\":\"t\"", &h,
			     &allowed),
	    2);
	assert_string_equal(hval(&h, "X-Tenant"), "t");
	/* a claim without pattern or map, absent from the token */
	assert_int_equal(forward("plain", "\"sub\":\"a\"", &h, &allowed), 1);
	assert_true(allowed);
	assert_null(hval(&h, "X-Tenant"));
}

static void
test_forward_denied_none(void **state)
{
	struct headers h;
	struct cg_decision *d = NULL;
	struct cg_error err;
	char *tok;

	(void)state;
	/* wrong audience: denied, no header, callback never called */
	tok = cgt_mint_simple(&fx.key, "h1",
	    "{\"iss\":\"" ISS "\",\"aud\":\"https://other.example.com\","
	    "\"exp\":1700000600,\"sub\":\"alice\"," ALL_TYPES "}");
	assert_int_equal(cg_decide(fx.pol, "fw", tok, strlen(tok), NOW, NULL,
			     &d, &err),
	    CG_OK);
	assert_false(cg_decision_allowed(d));
	memset(&h, 0, sizeof(h));
	assert_int_equal(cg__forward_headers(fx.pol, d, collect, &h), 0);
	assert_int_equal(h.n, 0);
	cg_decision_free(d);
	free(tok);
	/* expired */
	tok = cgt_mint_simple(&fx.key, "h1",
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1600000000,"
	    "\"sub\":\"alice\"}");
	assert_int_equal(cg_decide(fx.pol, "fw", tok, strlen(tok), NOW, NULL,
			     &d, &err),
	    CG_OK);
	assert_false(cg_decision_allowed(d));
	assert_int_equal(cg__forward_headers(fx.pol, d, collect, &h), 0);
	cg_decision_free(d);
	free(tok);
	/* no token */
	assert_int_equal(cg_decide(fx.pol, "fw", "", 0, NOW, NULL, &d, &err),
	    CG_OK);
	assert_int_equal(cg__forward_headers(fx.pol, d, collect, &h), 0);
	assert_int_equal(h.n, 0);
	cg_decision_free(d);
}

/* A zone without `forward` emits nothing, even when allowed. */
static void
test_forward_zone_without_forward(void **state)
{
	struct headers h;
	int allowed;

	(void)state;
	assert_int_equal(forward("api", "\"sub\":\"a\"", &h, &allowed), 0);
	assert_true(allowed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise_table),
		cmocka_unit_test(test_normalise_len_bounds_input),
		cmocka_unit_test(test_normalise_length_limits),
		cmocka_unit_test(test_route_zone_indices),
		cmocka_unit_test(test_route_host),
		cmocka_unit_test(test_route_ipv6_literal),
		cmocka_unit_test(test_route_path_prefix),
		cmocka_unit_test(test_route_method),
		cmocka_unit_test(test_route_first_match_wins),
		cmocka_unit_test(test_route_unmatched_zone_never_routed),
		cmocka_unit_test(test_route_unsafe_path_pathless_zone),
		cmocka_unit_test(test_forward_values),
		cmocka_unit_test(test_forward_numbers_and_bools),
		cmocka_unit_test(test_forward_lists),
		cmocka_unit_test(test_forward_control_characters_dropped),
		cmocka_unit_test(test_forward_absent_and_empty_skipped),
		cmocka_unit_test(test_forward_absent_plain_claim),
		cmocka_unit_test(test_forward_denied_none),
		cmocka_unit_test(test_forward_zone_without_forward),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
