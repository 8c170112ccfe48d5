/*
 * state.c - the running policy as a reference-counted immutable snapshot.
 * Requests take a reference under a short lock and never hold the lock
 * while deciding; a reload swaps the pointer and the last request that
 * used the old snapshot frees it.
 *
 * The store (replay, revocation) is made from the policy's `store` section
 * and outlives reloads: a reload whose store section the running store can
 * follow (the same Redis settings; a memory store taking another
 * revocations_file) keeps it, with its replay entries. A reload that
 * names another store makes a new one first (a store that cannot be made
 * refuses the reload) and swaps it in; the old one is kept until the
 * process ends, since requests in flight may still be using it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "server.h"
#include "store.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_snapshot *current;
static char *path;
static _Atomic(struct cg_store *) store;

/* Stores replaced by a reload, freed at the end. */
struct retired {
	struct cg_store *s;
	struct retired *next;
};
static struct retired *retired;

static void
snapshot_free(struct srv_snapshot *s)
{
	if (s == NULL)
		return;
	cg_policy_free(s->pol);
	free(s->zm);
	free(s);
}

static struct srv_snapshot *
snapshot_load(struct cg_error *err)
{
	struct srv_snapshot *s;
	size_t i, keys = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	if (cg_policy_load(path, &s->pol, err) != CG_OK) {
		free(s);
		return NULL;
	}
	s->zm = calloc(s->pol->nzones, sizeof(*s->zm));
	if (s->zm == NULL && s->pol->nzones > 0) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		snapshot_free(s);
		return NULL;
	}
	for (i = 0; i < s->pol->nzones; i++)
		s->zm[i] = srv_metrics_zone(s->pol->zones[i].name);
	s->ready = 1;
	for (i = 0; i < s->pol->nissuers; i++) {
		if (s->pol->issuers[i].keys == NULL ||
		    cg_keyset_count(s->pol->issuers[i].keys) == 0)
			s->ready = 0;
		keys += cg_keyset_count(s->pol->issuers[i].keys);
	}
	srv_metrics_keys_loaded(keys);
	for (i = 0; i < cg_policy_warning_count(s->pol); i++)
		fprintf(stderr, "claimgate: serve: warning: %s\n",
		    cg_policy_warning(s->pol, i));
	s->refs = 1; /* the state's own reference */
	return s;
}

int
srv_state_init(const char *policy_path, struct cg_error *err)
{
	struct cg_store *st = NULL;

	if ((path = strdup(policy_path)) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	if ((current = snapshot_load(err)) == NULL)
		return -1;
	if (cg_store_new(current->pol, &st, err) != CG_OK)
		return -1;
	atomic_store(&store, st);
	return 0;
}

/* Makes the store follow the new policy: 0, or -1 (reload refused). */
static int
store_follow(const struct cg_policy *pol, struct cg_error *err)
{
	struct cg_store *cur = atomic_load(&store), *st = NULL;
	struct retired *r;

	const struct cg_store_ext *x = cg__store_ext(cur);

	if (x != NULL && x->reconfigure != NULL &&
	    x->reconfigure(cur, &pol->store) == 0)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	if (cg_store_new(pol, &st, err) != CG_OK) {
		free(r);
		return -1;
	}
	r->s = atomic_exchange(&store, st);
	pthread_mutex_lock(&lock);
	r->next = retired;
	retired = r;
	pthread_mutex_unlock(&lock);
	fprintf(stderr, "claimgate: serve: the policy names another store: "
			"now using it (replay entries of the old one do not "
			"carry over)\n");
	return 0;
}

int
srv_state_reload(struct cg_error *err)
{
	struct srv_snapshot *s = snapshot_load(err), *old;

	if (s != NULL && store_follow(s->pol, err) != 0) {
		snapshot_free(s);
		s = NULL;
	}
	srv_metrics_reload(s != NULL);
	if (s == NULL)
		return -1;
	pthread_mutex_lock(&lock);
	old = current;
	current = s;
	pthread_mutex_unlock(&lock);
	srv_state_release(old);
	return 0;
}

struct srv_snapshot *
srv_state_acquire(void)
{
	struct srv_snapshot *s;

	pthread_mutex_lock(&lock);
	s = current;
	if (s != NULL)
		s->refs++;
	pthread_mutex_unlock(&lock);
	return s;
}

void
srv_state_release(struct srv_snapshot *s)
{
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		snapshot_free(s);
}

struct cg_store *
srv_state_store(void)
{
	return atomic_load(&store);
}

void
srv_state_fini(void)
{
	struct srv_snapshot *s;

	pthread_mutex_lock(&lock);
	s = current;
	current = NULL;
	pthread_mutex_unlock(&lock);
	srv_state_release(s);
	cg_store_free(atomic_exchange(&store, NULL));
	while (retired != NULL) {
		struct retired *r = retired;
		retired = r->next;
		cg_store_free(r->s);
		free(r);
	}
	free(path);
	path = NULL;
}
