/*
 * keysource.h - a remote key set (jwks_uri, or OIDC discovery): the last
 * good key set as an immutable, reference-counted snapshot, refreshed by a
 * background fetcher so that decisions never wait for the network.
 */
#ifndef CG_KEYSOURCE_H
#define CG_KEYSOURCE_H

#include <stdint.h>

#include "internal.h"

struct cg_keysource;

struct cg_keysource_config {
	const char *issuer_name;  /* for messages */
	const char *issuer;	  /* the configured iss (discovery check) */
	const char *uri;	  /* jwks_uri, or NULL with discovery */
	int discovery;		  /* fetch <issuer>/.well-known/... first */
	const char *ca_file;
	int insecure_http;
	int64_t refresh;	  /* seconds; max-age overrides in [60, 86400] */
	int64_t stale_for;	  /* seconds the last good set stays usable */
	int64_t miss_interval;	  /* at most one kid-miss refresh per this */
	const char *cache_file;	  /* optional on-disk copy of the last good */
	long timeout_ms;
	size_t max_bytes;
	size_t max_keys;
};

cg_code cg__keysource_new(const struct cg_keysource_config *cfg,
    struct cg_keysource **out);
void cg__keysource_free(struct cg_keysource *s);

/* Carries the last good set of `from` over into `to` (same URI), so a
 * policy reload does not empty the keys. */
void cg__keysource_adopt(struct cg_keysource *to,
    const struct cg_keysource *from);

/* A reference to one key-set snapshot. */
struct cg_keyref;

/* The current key set, or NULL when none was fetched or the last good
 * one is older than stale_for at `now`. The caller releases it with
 * cg__keysource_release(). Thread-safe, never blocks on the network. */
struct cg_keyref *cg__keysource_acquire(struct cg_keysource *s, int64_t now);
const struct cg_keyset *cg__keyref_keyset(const struct cg_keyref *r);
void cg__keysource_release(struct cg_keysource *s, struct cg_keyref *r);

/* A token named a kid that the current set lacks: ask for one refresh,
 * at most once per miss_interval. */
void cg__keysource_kid_miss(struct cg_keysource *s, int64_t now);

/* Fetches now if due (or if `force`). CG_OK when the fetch succeeded or
 * none was due and a usable set is held; an error (with the reason in
 * err) when the fetch failed, even if the previous set still serves.
 * Called by the fetcher thread, and once by the CLI. Blocks for at most
 * the configured timeout. */
cg_code cg__keysource_refresh(struct cg_keysource *s, int64_t now, int force,
    struct cg_error *err);

/* Loads the on-disk copy of the last good set, as fetched at
 * `file_time` (its mtime); CG_OK when it holds usable keys. */
cg_code cg__keysource_load_cache(struct cg_keysource *s, int64_t file_time);

/* Seconds until this source wants its next fetch (0: now). */
int64_t cg__keysource_due_in(struct cg_keysource *s, int64_t now);

/* State for /metrics, /readyz and `claimgate keys`. */
struct cg_keysource_state {
	int has_keys;
	int64_t fetched_at;	  /* last good fetch, 0 if never */
	int64_t last_attempt;
	uint64_t fetches_ok, fetches_failed;
	char last_error[200];
	char source[512];	  /* the URL the keys came from */
};
void cg__keysource_state(struct cg_keysource *s,
    struct cg_keysource_state *st);

#endif
