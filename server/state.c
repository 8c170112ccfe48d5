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
#include <time.h>

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

static void fetcher_wake(void);

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
	for (i = 0; i < s->pol->nissuers; i++)
		keys += cg_keyset_count(s->pol->issuers[i].keys);
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
	/* Remote key sets already fetched carry over: a reload must not
	 * leave an issuer without keys until its next fetch. */
	cg_policy_adopt_keys(s->pol, old != NULL ? old->pol : NULL);
	current = s;
	pthread_mutex_unlock(&lock);
	srv_state_release(old);
	fetcher_wake();
	return 0;
}

/* ---- the key fetcher ---------------------------------------------------
 * One thread fetches the remote key sets of the current policy when they
 * are due (refresh, Cache-Control, a kid miss). Requests never wait for
 * it: they use the last good set. */
static pthread_t fetcher;
static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fetch_cond = PTHREAD_COND_INITIALIZER;
static int fetch_running, fetch_started, fetch_kick;

static void
fetcher_wake(void)
{
	pthread_mutex_lock(&fetch_lock);
	fetch_kick = 1;
	pthread_cond_signal(&fetch_cond);
	pthread_mutex_unlock(&fetch_lock);
}

static void *
fetcher_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fetch_lock);
	while (fetch_running) {
		struct srv_snapshot *s;
		struct cg_error err;
		struct timespec ts;
		int64_t now, wait;

		fetch_kick = 0;
		pthread_mutex_unlock(&fetch_lock);
		s = srv_state_acquire();
		now = (int64_t)time(NULL);
		if (s != NULL && cg_policy_keys_due_in(s->pol, now) == 0 &&
		    cg_policy_fetch_keys(s->pol, now, 0, &err) != CG_OK)
			fprintf(stderr, "claimgate: serve: %s\n", err.msg);
		/* Kid misses set a source due now: look again within a second
		 * at most, sooner when woken. */
		wait = s != NULL ? cg_policy_keys_due_in(s->pol, now) : 1;
		srv_state_release(s);
		if (wait > 1)
			wait = 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait > 0 ? wait : 0;
		if (wait == 0)
			ts.tv_nsec += 50 * 1000 * 1000; /* a failing source */
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&fetch_lock);
		if (fetch_running && !fetch_kick)
			pthread_cond_timedwait(&fetch_cond, &fetch_lock, &ts);
	}
	pthread_mutex_unlock(&fetch_lock);
	return NULL;
}

int
srv_fetcher_start(void)
{
	fetch_running = 1;
	if (pthread_create(&fetcher, NULL, fetcher_main, NULL) != 0) {
		fetch_running = 0;
		return -1;
	}
	fetch_started = 1;
	return 0;
}

void
srv_fetcher_stop(void)
{
	if (!fetch_started)
		return;
	pthread_mutex_lock(&fetch_lock);
	fetch_running = 0;
	pthread_cond_signal(&fetch_cond);
	pthread_mutex_unlock(&fetch_lock);
	pthread_join(fetcher, NULL);
	fetch_started = 0;
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

/* The cache outlives reloads: it names keys by thumbprint and issuers by
 * iss, and every hit is checked against the current policy. */
static struct cg_vcache *vcache;

int
srv_state_cache_init(size_t entries)
{
	if (entries == 0)
		return 0;
	/* Bytes: a parsed access token takes 2.5 to 5 KiB (its copy, the
	 * decoded segments and their JSON nodes); 4 KiB per entry, at most
	 * 32 MiB in all, whatever the entry count. */
	return cg_vcache_new(entries,
	           entries > (32u << 20) / 4096 ? 32u << 20 : entries * 4096,
	           &vcache) == CG_OK
	           ? 0
	           : -1;
}

struct cg_vcache *
srv_state_cache(void)
{
	return vcache;
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
	cg_vcache_free(vcache);
	vcache = NULL;
	while (retired != NULL) {
		struct retired *r = retired;
		retired = r->next;
		cg_store_free(r->s);
		free(r);
	}
	free(path);
	path = NULL;
}
