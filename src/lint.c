/*
 * lint.c - findings about a loaded policy: settings that are valid but
 * risky, each reported at its file:line:column.
 */
#include <string.h>

#include "policy.h"

#define HMAC_ALGS                                                              \
	(CG_ALG_BIT(CG_ALG_HS256) | CG_ALG_BIT(CG_ALG_HS384) |                 \
	    CG_ALG_BIT(CG_ALG_HS512))

typedef void (*emit_fn)(void *ctx, const char *line);

static size_t
emitf(emit_fn emit, void *ctx, const char *file, struct cg_pos pos,
    const char *fmt, ...) CG_PRINTF(5, 6);

static size_t
emitf(emit_fn emit, void *ctx, const char *file, struct cg_pos pos,
    const char *fmt, ...)
{
	char msg[400], line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%u:%u: %s", file, pos.line, pos.col,
	    msg);
	emit(ctx, line);
	return 1;
}

/* Thumbprints of two key sets in common: key reuse across issuers. */
static size_t
shared_keys(const struct cg_policy *p, size_t a, size_t b, emit_fn emit,
    void *ctx)
{
	const struct cg_issuer *ia = &p->issuers[a], *ib = &p->issuers[b];
	struct cg_key_info ka, kb;
	size_t i, j, n = 0;

	for (i = 0; i < cg_keyset_count(ia->keys); i++) {
		if (cg_keyset_key_info(ia->keys, i, &ka) != CG_OK)
			continue;
		for (j = 0; j < cg_keyset_count(ib->keys); j++) {
			if (cg_keyset_key_info(ib->keys, j, &kb) != CG_OK ||
			    strcmp(ka.jkt, kb.jkt) != 0)
				continue;
			if (ka.kty == CG_KTY_OCT)
				n += emitf(emit, ctx, p->path, ib->keys_pos,
				    "issuers %s and %s share an HMAC secret "
				    "(jkt %s): either can mint tokens for the "
				    "other",
				    ia->name, ib->name, ka.jkt);
			else
				n += emitf(emit, ctx, p->path, ib->keys_pos,
				    "issuers %s and %s trust the same key (jkt "
				    "%s): key reuse across environments",
				    ia->name, ib->name, ka.jkt);
		}
	}
	return n;
}

size_t
cg__policy_lint(const struct cg_policy *p, emit_fn emit, void *ctx)
{
	size_t n = 0, i, j;

	for (i = 0; i < p->warnings.n; i++) {
		emit(ctx, p->warnings.v[i]);
		n++;
	}
	for (i = 0; i < p->nissuers; i++) {
		const struct cg_issuer *is = &p->issuers[i];
		if (is->max_lifetime < 0)
			n += emitf(emit, ctx, p->path, is->pos,
			    "issuer %s has no max_lifetime: tokens of any "
			    "lifetime are accepted",
			    is->name);
		for (j = i + 1; j < p->nissuers; j++)
			n += shared_keys(p, i, j, emit, ctx);
	}
	for (i = 0; i < p->nzones; i++) {
		const struct cg_zone *z = &p->zones[i];
		cg_alg_set algs = 0;
		for (j = 0; j < z->naccept; j++)
			algs |= p->issuers[z->accept[j]].algs;
		if (z->max_age < 0 && (algs & HMAC_ALGS) != 0)
			n += emitf(emit, ctx, p->path, z->pos,
			    "zone %s accepts HS* tokens but sets no max_age: "
			    "a leaked shared secret mints tokens of any age",
			    z->name);
		if (z->leeway > 60)
			n += emitf(emit, ctx, p->path,
			    z->leeway_pos.line ? z->leeway_pos : z->pos,
			    "zone %s: leeway of %llds is over 60s", z->name,
			    (long long)z->leeway);
		for (j = 0; j < z->nclaims; j++)
			if (z->claims[j].nfrom == 0 && z->naccept > 1)
				n += emitf(emit, ctx, p->path, z->claims[j].pos,
				    "zone %s: trusted claim %s has no from but "
				    "the zone accepts %zu issuers: any of them "
				    "can set it",
				    z->name, z->claims[j].name, z->naccept);
	}
	return n;
}
