/*
 * keys.c - a policy's key sets as a whole: fetching remote sets (once, or
 * when due), readiness, carrying sets over a reload, and their state for
 * `claimgate keys` and /metrics.
 */
#include <string.h>

#include "keysource.h"
#include "policy.h"

/* see claimgate.h */
cg_code
cg_policy_fetch_keys(const struct cg_policy *p, int64_t now, int force,
    struct cg_error *err)
{
	cg_code rc = CG_OK, r;
	struct cg_error e;
	size_t i;

	if (p == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET, "NULL policy");
	for (i = 0; i < p->nissuers; i++) {
		if (p->issuers[i].src == NULL)
			continue;
		r = cg__keysource_refresh(p->issuers[i].src, now, force, &e);
		if (r != CG_OK && rc == CG_OK) {
			rc = r;
			if (err != NULL)
				*err = e;
		}
	}
	return rc;
}

/* see claimgate.h */
int
cg_policy_keys_ready(const struct cg_policy *p, int64_t now)
{
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->nissuers; i++) {
		const struct cg_issuer *is = &p->issuers[i];
		if (is->src != NULL) {
			struct cg_keyref *r = cg__keysource_acquire(is->src, now);
			cg__keysource_release(is->src, r);
			if (r == NULL)
				return 0;
		} else if (cg_keyset_count(is->keys) == 0) {
			return 0;
		}
	}
	return 1;
}

/* see claimgate.h */
void
cg_policy_adopt_keys(struct cg_policy *to, const struct cg_policy *from)
{
	size_t i, j;

	if (to == NULL || from == NULL)
		return;
	for (i = 0; i < to->nissuers; i++) {
		if (to->issuers[i].src == NULL)
			continue;
		for (j = 0; j < from->nissuers; j++)
			if (from->issuers[j].src != NULL &&
			    strcmp(to->issuers[i].name, from->issuers[j].name) ==
				0)
				cg__keysource_adopt(to->issuers[i].src,
				    from->issuers[j].src);
	}
}

/* see claimgate.h */
int64_t
cg_policy_keys_due_in(const struct cg_policy *p, int64_t now)
{
	int64_t best = 3600, d;
	size_t i;

	for (i = 0; p != NULL && i < p->nissuers; i++) {
		if (p->issuers[i].src == NULL)
			continue;
		d = cg__keysource_due_in(p->issuers[i].src, now);
		if (d < best)
			best = d;
	}
	return best;
}

/* see claimgate.h */
size_t
cg_policy_issuer_count(const struct cg_policy *p)
{
	return p == NULL ? 0 : p->nissuers;
}

/* see claimgate.h */
cg_code
cg_policy_issuer_keys(const struct cg_policy *p, size_t i, int64_t now,
    struct cg_issuer_keys *out)
{
	const struct cg_issuer *is;
	struct cg_keysource_state st;

	if (p == NULL || out == NULL || i >= p->nissuers)
		return CG_ERR_ARG;
	is = &p->issuers[i];
	memset(out, 0, sizeof(*out));
	out->name = is->name;
	out->iss = is->iss;
	if (is->src == NULL) {
		out->remote = 0;
		snprintf(out->source, sizeof(out->source), "%s",
		    is->jwks_file != NULL ? is->jwks_file : "");
		out->keys = is->keys;
		out->usable = cg_keyset_count(is->keys) > 0;
		return CG_OK;
	}
	cg__keysource_state(is->src, &st);
	out->remote = 1;
	snprintf(out->source, sizeof(out->source), "%s",
	    st.source[0] != '\0' ? st.source
	    : is->jwks_uri != NULL ? is->jwks_uri
				   : "(discovery)");
	out->fetched_at = st.fetched_at;
	out->fetches_ok = st.fetches_ok;
	out->fetches_failed = st.fetches_failed;
	snprintf(out->last_error, sizeof(out->last_error), "%s",
	    st.last_error);
	out->ref = cg__keysource_acquire(is->src, now);
	out->keys = cg__keyref_keyset(out->ref);
	out->usable = out->keys != NULL;
	return CG_OK;
}

/* see claimgate.h */
void
cg_policy_issuer_keys_done(const struct cg_policy *p, size_t i,
    struct cg_issuer_keys *k)
{
	if (p != NULL && k != NULL && i < p->nissuers && k->ref != NULL)
		cg__keysource_release(p->issuers[i].src, k->ref);
	if (k != NULL) {
		k->ref = NULL;
		k->keys = NULL;
	}
}
