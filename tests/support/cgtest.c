/*
 * cgtest.c - see cgtest.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"

void
cgt_key_gen(struct cgt_key *k, cg_alg alg, const char *kid, int with_alg)
{
	const struct cg_alg_desc *d = cg__alg_desc(alg);
	static unsigned next_rsa;

	memset(k, 0, sizeof(*k));
	k->alg = alg;
	if (d != NULL &&
	    (d->family == CG_FAMILY_RSA || d->family == CG_FAMILY_PSS)) {
		/* RSA generation is slow (minutes under valgrind): take the
		 * next of the fixture keys instead (tests/fixtures/keys). */
		struct cg_error err;
		char rel[64], *path;
		snprintf(rel, sizeof(rel), "tests/fixtures/keys/rsa2048-%02u.pem",
		    next_rsa++ % 12 + 1);
		path = cgt_source_path(rel);
		if (cg__signer_load(path, &k->signer, &err) != CG_OK)
			fail_msg("%s", err.msg);
		free(path);
	} else {
		assert_int_equal(cg__signer_generate(alg, &k->signer), CG_OK);
	}
	k->jwk = cg__signer_jwk(k->signer, kid,
	    with_alg ? cg_alg_name(alg) : NULL);
	assert_non_null(k->jwk);
}

void
cgt_key_free(struct cgt_key *k)
{
	cg__signer_free(k->signer);
	free(k->jwk);
	memset(k, 0, sizeof(*k));
}

char *
cgt_jwks(const char *const *jwks, size_t n)
{
	size_t len = 16, i, o;
	char *out;

	for (i = 0; i < n; i++)
		len += strlen(jwks[i]) + 1;
	out = malloc(len);
	assert_non_null(out);
	o = (size_t)sprintf(out, "{\"keys\":[");
	for (i = 0; i < n; i++)
		o += (size_t)sprintf(out + o, "%s%s", i ? "," : "", jwks[i]);
	sprintf(out + o, "]}");
	return out;
}

struct cg_keyset *
cgt_keyset(const char *const *jwks, size_t n)
{
	struct cg_keyset *ks = NULL;
	struct cg_error err;
	char *doc = cgt_jwks(jwks, n);

	if (cg_keyset_load_jwks(doc, strlen(doc), &ks, &err) != CG_OK)
		fail_msg("keyset: %s", err.msg);
	free(doc);
	return ks;
}

char *
cgt_mint(const struct cgt_key *k, const char *header, const char *payload)
{
	char *t = cg__signer_sign(k->signer, k->alg, header, strlen(header),
	    payload, strlen(payload));
	assert_non_null(t);
	return t;
}

char *
cgt_mint_simple(const struct cgt_key *k, const char *kid, const char *payload)
{
	char *h, *t;

	if (kid != NULL)
		h = cgt_fmt("{\"alg\":\"%s\",\"kid\":\"%s\"}",
		    cg_alg_name(k->alg), kid);
	else
		h = cgt_fmt("{\"alg\":\"%s\"}", cg_alg_name(k->alg));
	t = cgt_mint(k, h, payload);
	free(h);
	return t;
}

char *
cgt_b64(const void *p, size_t len)
{
	char *out = malloc(len / 3 * 4 + 8);

	assert_non_null(out);
	cg__b64url_encode(p, len, out);
	return out;
}

char *
cgt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, r;
	char *buf;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	buf = malloc(cap + 1);
	assert_non_null(buf);
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static char *
env_path(const char *var, const char *fallback, const char *rel)
{
	const char *base = getenv(var);

	return cgt_fmt("%s/%s", base != NULL ? base : fallback, rel);
}

char *
cgt_source_path(const char *rel)
{
	return env_path("CG_SOURCE_DIR", ".", rel);
}

char *
cgt_shared_path(const char *rel)
{
	return env_path("CG_SHARED_DIR", "../shared", rel);
}

char *
cgt_fmt(const char *fmt, ...)
{
	va_list ap;
	char *out;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	va_start(ap, fmt);
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}

int
cgt_under_valgrind(void)
{
	const char *v = getenv("CG_TEST_UNDER_VALGRIND");

	return v != NULL && v[0] == '1';
}

size_t
cgt_sample_step(void)
{
	return cgt_under_valgrind() ? 17 : 1;
}
