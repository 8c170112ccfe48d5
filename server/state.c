/*
 * state.c - the running policy as a reference-counted immutable snapshot.
 * Requests take a reference under a short lock and never hold the lock
 * while deciding; a reload swaps the pointer and the last request that
 * used the old snapshot frees it. The replay store outlives reloads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "server.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_snapshot *current;
static char *path;
static struct cg_store *store;

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
	if ((path = strdup(policy_path)) == NULL ||
	    cg_store_memory_new(&store) != CG_OK) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	current = snapshot_load(err);
	return current == NULL ? -1 : 0;
}

int
srv_state_reload(struct cg_error *err)
{
	struct srv_snapshot *s = snapshot_load(err), *old;

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
	return store;
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
	cg_store_free(store);
	store = NULL;
	free(path);
	path = NULL;
}
