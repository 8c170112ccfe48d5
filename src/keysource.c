/*
 * keysource.c - remote key sets with rotation, outages and hostile kids in
 * mind (see docs/policy.md, "Remote keys").
 *
 *   - Decisions read the current snapshot under a short lock and hold a
 *     reference; they never wait for the network.
 *   - A bad response (transport error, HTTP error, not a JWK Set, no
 *     usable key, too large) keeps the previous set; it is counted and its
 *     reason kept for /metrics and `claimgate keys`.
 *   - The previous set stays usable for stale_for after its fetch; past
 *     that the issuer's tokens are denied keys_unavailable.
 *   - An unknown kid asks for one refresh, at most once per miss_interval,
 *     so random kids cannot make claimgate hammer the identity provider.
 *   - Refresh follows Cache-Control max-age, clamped to [1 min, 24 h].
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "keysource.h"

struct cg_keyref {
	struct cg_keyset *ks;
	unsigned long refs; /* under the source's lock */
};

struct cg_keysource {
	struct cg_keysource_config cfg;
	char *issuer_name, *issuer, *uri, *ca_file, *cache_file;
	pthread_mutex_t lock;
	struct cg_keyref *cur;
	char *resolved_uri;	/* from discovery */
	int64_t fetched_at, last_attempt, next_due, last_miss;
	int miss_pending;
	uint64_t ok, failed;
	char last_error[200];
};

static void
snap_put(struct cg_keyref *s)
{
	if (s != NULL && --s->refs == 0) {
		cg_keyset_free(s->ks);
		free(s);
	}
}

static char *
dup_or_null(const char *s)
{
	return s == NULL ? NULL : cg__strdup(s);
}

cg_code
cg__keysource_new(const struct cg_keysource_config *cfg,
    struct cg_keysource **out)
{
	struct cg_keysource *s;

	*out = NULL;
	if ((s = cg__calloc(1, sizeof(*s))) == NULL)
		return CG_ERR_NOMEM;
	s->cfg = *cfg;
	s->issuer_name = dup_or_null(cfg->issuer_name);
	s->issuer = dup_or_null(cfg->issuer);
	s->uri = dup_or_null(cfg->uri);
	s->ca_file = dup_or_null(cfg->ca_file);
	s->cache_file = dup_or_null(cfg->cache_file);
	if ((cfg->issuer_name != NULL && s->issuer_name == NULL) ||
	    (cfg->issuer != NULL && s->issuer == NULL) ||
	    (cfg->uri != NULL && s->uri == NULL) ||
	    (cfg->ca_file != NULL && s->ca_file == NULL) ||
	    (cfg->cache_file != NULL && s->cache_file == NULL) ||
	    pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s->issuer_name);
		free(s->issuer);
		free(s->uri);
		free(s->ca_file);
		free(s->cache_file);
		free(s);
		return CG_ERR_NOMEM;
	}
	s->cfg.issuer_name = s->issuer_name;
	s->cfg.issuer = s->issuer;
	s->cfg.uri = s->uri;
	s->cfg.ca_file = s->ca_file;
	s->cfg.cache_file = s->cache_file;
	*out = s;
	return CG_OK;
}

void
cg__keysource_free(struct cg_keysource *s)
{
	if (s == NULL)
		return;
	snap_put(s->cur);
	pthread_mutex_destroy(&s->lock);
	free(s->issuer_name);
	free(s->issuer);
	free(s->uri);
	free(s->ca_file);
	free(s->cache_file);
	free(s->resolved_uri);
	free(s);
}

void
cg__keysource_adopt(struct cg_keysource *to, const struct cg_keysource *from)
{
	struct cg_keysource *f = (struct cg_keysource *)from;

	if (to == NULL || from == NULL)
		return;
	if ((to->uri == NULL) != (f->uri == NULL) ||
	    (to->uri != NULL && strcmp(to->uri, f->uri) != 0) ||
	    strcmp(to->issuer, f->issuer) != 0)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->cur != NULL && (to->cur == NULL || f->fetched_at >= to->fetched_at)) {
		f->cur->refs++;
		/* A set `to` loaded from its cache file gives way to the
		 * running one, which is at least as recent. */
		snap_put(to->cur);
		to->cur = f->cur;
		to->fetched_at = f->fetched_at;
		to->next_due = f->next_due;
		to->ok = f->ok;
		to->failed = f->failed;
	}
	pthread_mutex_unlock(&f->lock);
}

struct cg_keyref *
cg__keysource_acquire(struct cg_keysource *s, int64_t now)
{
	struct cg_keyref *r = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->cur != NULL && now - s->fetched_at <= s->cfg.stale_for) {
		s->cur->refs++;
		r = s->cur;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

const struct cg_keyset *
cg__keyref_keyset(const struct cg_keyref *r)
{
	return r == NULL ? NULL : r->ks;
}

void
cg__keysource_release(struct cg_keysource *s, struct cg_keyref *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	snap_put(r);
	pthread_mutex_unlock(&s->lock);
}

void
cg__keysource_kid_miss(struct cg_keysource *s, int64_t now)
{
	pthread_mutex_lock(&s->lock);
	if (now - s->last_miss >= s->cfg.miss_interval) {
		s->last_miss = now;
		s->miss_pending = 1;
		s->next_due = now;
	}
	pthread_mutex_unlock(&s->lock);
}

int64_t
cg__keysource_due_in(struct cg_keysource *s, int64_t now)
{
	int64_t d;

	pthread_mutex_lock(&s->lock);
	d = s->next_due - now;
	pthread_mutex_unlock(&s->lock);
	return d < 0 ? 0 : d;
}

static int64_t
clamp_refresh(const struct cg_keysource *s, long max_age)
{
	int64_t r = s->cfg.refresh;

	if (max_age >= 0) {
		r = max_age;
		if (r < 60)
			r = 60;
		if (r > 86400)
			r = 86400;
	}
	return r;
}

/* OIDC discovery (OpenID Connect Discovery 1.0, section 4): the document
 * at <issuer>/.well-known/openid-configuration must name this exact
 * issuer; its jwks_uri is then used (cg__discovery_parse). */
static cg_code
discover(struct cg_keysource *s, const struct cg_fetch_opts *o, char **uri,
    char *why, size_t whysz)
{
	struct cg_fetch_result res;
	size_t ilen = strlen(s->issuer);
	char *url;
	cg_code rc;

	*uri = NULL;
	while (ilen > 0 && s->issuer[ilen - 1] == '/')
		ilen--;
	if ((url = cg__malloc(ilen + 40)) == NULL)
		return CG_ERR_NOMEM;
	memcpy(url, s->issuer, ilen);
	memcpy(url + ilen, "/.well-known/openid-configuration", 34);
	rc = cg__fetch(url, o, &res);
	free(url);
	if (rc != CG_OK) {
		snprintf(why, whysz, "discovery: %s", res.error);
		return rc;
	}
	rc = cg__discovery_parse(res.body, res.len, s->issuer,
	    s->cfg.insecure_http, uri, why, whysz);
	cg__fetch_result_free(&res);
	return rc;
}

static void
write_cache(const struct cg_keysource *s, const char *body, size_t len)
{
	char tmp[4096];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", s->cache_file);
	if (n < 0 || (size_t)n >= sizeof(tmp) || (f = fopen(tmp, "wb")) == NULL)
		return;
	if (fwrite(body, 1, len, f) != len) {
		fclose(f);
		unlink(tmp);
		return;
	}
	if (fclose(f) != 0 || rename(tmp, s->cache_file) != 0)
		unlink(tmp);
}

/* Installs a new key set (takes ownership). */
static void
install(struct cg_keysource *s, struct cg_keyset *ks, int64_t at,
    int64_t next_due)
{
	struct cg_keyref *r = cg__calloc(1, sizeof(*r)), *old;

	if (r == NULL) {
		cg_keyset_free(ks);
		return;
	}
	r->ks = ks;
	r->refs = 1;
	pthread_mutex_lock(&s->lock);
	old = s->cur;
	s->cur = r;
	s->fetched_at = at;
	s->next_due = next_due;
	s->ok++;
	s->miss_pending = 0;
	s->last_error[0] = '\0';
	snap_put(old);
	pthread_mutex_unlock(&s->lock);
}

cg_code
cg__keysource_load_cache(struct cg_keysource *s, int64_t file_time)
{
	struct cg_keyset *ks = NULL;
	struct cg_error err;

	if (s->cache_file == NULL ||
	    cg_keyset_load_file(s->cache_file, &ks, &err) != CG_OK)
		return CG_ERR_IO;
	if (cg_keyset_count(ks) == 0) {
		cg_keyset_free(ks);
		return CG_ERR_KEYSET;
	}
	/* A cached set is as old as the file: stale_for still applies. */
	install(s, ks, file_time, 0);
	return CG_OK;
}

cg_code
cg__keysource_refresh(struct cg_keysource *s, int64_t now, int force,
    struct cg_error *err)
{
	struct cg_fetch_opts o;
	struct cg_fetch_result res;
	struct cg_keyset *ks = NULL;
	char why[200], *disc = NULL;
	const char *uri;
	int due, has;
	cg_code rc;

	pthread_mutex_lock(&s->lock);
	due = force || now >= s->next_due;
	has = s->cur != NULL && now - s->fetched_at <= s->cfg.stale_for;
	s->last_attempt = due ? now : s->last_attempt;
	pthread_mutex_unlock(&s->lock);
	if (!due)
		return has ? CG_OK
			   : cg__err(err, CG_ERR_KEYSET, CG_NO_OFFSET,
				 "issuer %s: no key set yet", s->issuer_name);
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	res.max_age = -1;
	o.ca_file = s->ca_file;
	o.allow_http = s->cfg.insecure_http;
	o.connect_timeout_ms = s->cfg.timeout_ms;
	o.total_timeout_ms = s->cfg.timeout_ms;
	o.max_bytes = s->cfg.max_bytes;
	why[0] = '\0';
	uri = s->uri;
	rc = CG_OK;
	if (s->cfg.discovery) {
		rc = discover(s, &o, &disc, why, sizeof(why));
		uri = disc;
	}
	if (rc == CG_OK) {
		rc = cg__fetch(uri, &o, &res);
		if (rc != CG_OK) {
			snprintf(why, sizeof(why), "%s", res.error);
		} else {
			rc = cg__jwks_response_parse(res.body, res.len,
			    s->cfg.max_keys, &ks, why, sizeof(why));
			if (rc == CG_OK && s->cache_file != NULL)
				write_cache(s, res.body, res.len);
			cg__fetch_result_free(&res);
		}
	}
	if (rc == CG_OK) {
		/* Refresh before the set can go stale, whatever max-age says. */
		int64_t next = clamp_refresh(s, res.max_age);
		int64_t half = s->cfg.stale_for / 2 > 0 ? s->cfg.stale_for / 2 : 1;
		install(s, ks, now, now + (next < half ? next : half));
		pthread_mutex_lock(&s->lock);
		free(s->resolved_uri);
		s->resolved_uri = disc;
		pthread_mutex_unlock(&s->lock);
		return CG_OK;
	}
	cg_keyset_free(ks);
	free(disc);
	pthread_mutex_lock(&s->lock);
	s->failed++;
	snprintf(s->last_error, sizeof(s->last_error), "%s", why);
	/* Retry sooner than a full refresh period, but not in a loop. */
	s->next_due = now + (s->cfg.refresh < 30 ? s->cfg.refresh : 30);
	has = s->cur != NULL && now - s->fetched_at <= s->cfg.stale_for;
	pthread_mutex_unlock(&s->lock);
	/* A failed fetch is reported even while the previous set serves:
	 * the caller logs it (has says whether decisions still have keys). */
	return cg__err(err, rc == CG_ERR_NOMEM ? CG_ERR_NOMEM : CG_ERR_KEYSET,
	    CG_NO_OFFSET, "issuer %s: key set not refreshed%s: %s",
	    s->issuer_name, has ? " (the previous set keeps serving)" : "",
	    why);
}

void
cg__keysource_state(struct cg_keysource *s, struct cg_keysource_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->lock);
	st->has_keys = s->cur != NULL;
	st->fetched_at = s->fetched_at;
	st->last_attempt = s->last_attempt;
	st->fetches_ok = s->ok;
	st->fetches_failed = s->failed;
	snprintf(st->last_error, sizeof(st->last_error), "%s", s->last_error);
	snprintf(st->source, sizeof(st->source), "%s",
	    s->resolved_uri != NULL ? s->resolved_uri
	    : s->uri != NULL	    ? s->uri
				    : "");
	pthread_mutex_unlock(&s->lock);
}
