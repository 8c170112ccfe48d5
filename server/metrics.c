/*
 * metrics.c - Prometheus text exposition (version 0.0.4): decisions by
 * zone and reason, a latency histogram, key-set and reload counters.
 * Counters are relaxed atomics: workers never take a lock to count.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "server.h"

/* Zone names ever seen, at most this many (the rest share "other"). */
#define MAX_ZONES 1024

static const uint64_t bucket_us[] = {50, 100, 250, 500, 1000, 2500, 5000,
    10000, 25000, 100000};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct srv_zone_metrics {
	char *name;
	atomic_uint_fast64_t by_reason[CG_REASON_COUNT_];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct srv_zone_metrics *zones[MAX_ZONES];
static struct srv_zone_metrics other = {.name = (char *)"(other)"};
static size_t nzones;

static atomic_uint_fast64_t no_zone_total;
static atomic_uint_fast64_t hist[NBUCKETS + 1];
static atomic_uint_fast64_t hist_sum_us, hist_count;
static atomic_uint_fast64_t reloads_ok, reloads_failed, keys_loaded;
static atomic_uint_fast64_t keyset_loads;

struct srv_zone_metrics *
srv_metrics_zone(const char *name)
{
	struct srv_zone_metrics *z = NULL;
	size_t i;

	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < nzones; i++)
		if (strcmp(zones[i]->name, name) == 0) {
			z = zones[i];
			goto out;
		}
	if (nzones == MAX_ZONES || (z = calloc(1, sizeof(*z))) == NULL ||
	    (z->name = strdup(name)) == NULL) {
		free(z);
		z = &other;
		goto out;
	}
	zones[nzones++] = z;
out:
	pthread_mutex_unlock(&reg_lock);
	return z;
}

static void
observe(uint64_t us)
{
	size_t i;

	for (i = 0; i < NBUCKETS && us > bucket_us[i]; i++)
		;
	atomic_fetch_add_explicit(&hist[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hist_sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&hist_count, 1, memory_order_relaxed);
}

void
srv_metrics_decision(struct srv_zone_metrics *z, cg_reason r,
    uint64_t latency_us)
{
	if (z == NULL)
		z = &other;
	if ((unsigned)r < CG_REASON_COUNT_)
		atomic_fetch_add_explicit(&z->by_reason[r], 1,
		    memory_order_relaxed);
	observe(latency_us);
}

void
srv_metrics_no_zone(uint64_t latency_us)
{
	atomic_fetch_add_explicit(&no_zone_total, 1, memory_order_relaxed);
	observe(latency_us);
}

void
srv_metrics_reload(int ok)
{
	atomic_fetch_add_explicit(ok ? &reloads_ok : &reloads_failed, 1,
	    memory_order_relaxed);
}

void
srv_metrics_keys_loaded(size_t n)
{
	atomic_store_explicit(&keys_loaded, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&keyset_loads, 1, memory_order_relaxed);
}

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t ncap = b->cap * 2 + (size_t)n;
			char *np = realloc(b->p, ncap);
			if (np == NULL) {
				b->oom = 1;
				return;
			}
			b->p = np;
			b->cap = ncap;
		}
	}
}

/* Label values are escaped per the exposition format. */
static void
put_label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			put(b, "\\%c", *s);
		else if (*s == '\n')
			put(b, "\\n");
		else
			put(b, "%c", *s);
	}
}

static uint64_t
load(atomic_uint_fast64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

static void
render_zone(struct buf *b, struct srv_zone_metrics *z)
{
	int r;

	for (r = 0; r < CG_REASON_COUNT_; r++) {
		uint64_t v = load(&z->by_reason[r]);
		if (v == 0)
			continue;
		put(b, "claimgate_decisions_total{zone=\"");
		put_label(b, z->name);
		put(b, "\",decision=\"%s\",reason=\"%s\"} %llu\n",
		    r == CG_REASON_OK ? "allow" : "deny",
		    cg_reason_name((cg_reason)r), (unsigned long long)v);
	}
}

/* what: 0 key counts, 1 fetch counters, 2 key-set age. */
static void
render_keys(struct buf *b, const struct srv_snapshot *s, int what)
{
	int64_t now = (int64_t)time(NULL);
	size_t i, n = s != NULL ? cg_policy_issuer_count(s->pol) : 0;

	for (i = 0; i < n; i++) {
		struct cg_issuer_keys k;
		if (cg_policy_issuer_keys(s->pol, i, now, &k) != CG_OK)
			continue;
		if (what == 0) {
			put(b, "claimgate_keys{issuer=\"");
			put_label(b, k.name);
			put(b, "\"} %zu\n", cg_keyset_count(k.keys));
		} else if (k.remote && what == 1) {
			put(b, "claimgate_keyset_fetches_total{issuer=\"");
			put_label(b, k.name);
			put(b, "\",result=\"ok\"} %llu\n",
			    (unsigned long long)k.fetches_ok);
			put(b, "claimgate_keyset_fetches_total{issuer=\"");
			put_label(b, k.name);
			put(b, "\",result=\"failed\"} %llu\n",
			    (unsigned long long)k.fetches_failed);
		} else if (k.remote && what == 2 && k.fetched_at > 0) {
			put(b, "claimgate_keyset_age_seconds{issuer=\"");
			put_label(b, k.name);
			put(b, "\"} %lld\n", (long long)(now - k.fetched_at));
		}
		cg_policy_issuer_keys_done(s->pol, i, &k);
	}
}

char *
srv_metrics_render(const struct srv_snapshot *s, size_t *len)
{
	struct buf b = {malloc(4096), 0, 4096, 0};
	uint64_t cum = 0;
	size_t i;

	if (b.p == NULL)
		return NULL;
	put(&b, "# HELP claimgate_decisions_total Decisions by zone, "
		"decision and reason.\n# TYPE claimgate_decisions_total "
		"counter\n");
	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < nzones; i++)
		render_zone(&b, zones[i]);
	pthread_mutex_unlock(&reg_lock);
	render_zone(&b, &other);
	put(&b, "claimgate_decisions_total{zone=\"\",decision=\"deny\","
		"reason=\"no_zone\"} %llu\n",
	    (unsigned long long)load(&no_zone_total));
	put(&b, "# HELP claimgate_decision_seconds Time to decide, from "
		"request to response.\n# TYPE claimgate_decision_seconds "
		"histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += load(&hist[i]);
		put(&b, "claimgate_decision_seconds_bucket{le=\"%g\"} %llu\n",
		    (double)bucket_us[i] / 1e6, (unsigned long long)cum);
	}
	cum += load(&hist[NBUCKETS]);
	put(&b, "claimgate_decision_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)cum);
	put(&b, "claimgate_decision_seconds_sum %.6f\n",
	    (double)load(&hist_sum_us) / 1e6);
	put(&b, "claimgate_decision_seconds_count %llu\n",
	    (unsigned long long)load(&hist_count));
	put(&b, "# HELP claimgate_policy_reloads_total Policy reloads.\n"
		"# TYPE claimgate_policy_reloads_total counter\n"
		"claimgate_policy_reloads_total{result=\"ok\"} %llu\n"
		"claimgate_policy_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)load(&reloads_ok),
	    (unsigned long long)load(&reloads_failed));
	put(&b, "# HELP claimgate_keyset_loads_total Key-set loads "
		"(startup and reloads).\n# TYPE claimgate_keyset_loads_total "
		"counter\nclaimgate_keyset_loads_total %llu\n",
	    (unsigned long long)load(&keyset_loads));
	put(&b, "# HELP claimgate_keys Usable keys per issuer.\n"
		"# TYPE claimgate_keys gauge\n");
	render_keys(&b, s, 0);
	put(&b, "# HELP claimgate_keyset_fetches_total Remote key-set fetches "
		"by issuer and result.\n# TYPE claimgate_keyset_fetches_total "
		"counter\n");
	render_keys(&b, s, 1);
	put(&b, "# HELP claimgate_keyset_age_seconds Age of the key set in "
		"use (remote issuers).\n# TYPE claimgate_keyset_age_seconds "
		"gauge\n");
	render_keys(&b, s, 2);
	{
		uint64_t hits, misses;
		cg_vcache_stats(srv_state_cache(), &hits, &misses);
		put(&b, "# HELP claimgate_vcache_lookups_total Verified-token "
			"cache lookups.\n# TYPE claimgate_vcache_lookups_total "
			"counter\nclaimgate_vcache_lookups_total{result=\"hit\"} "
			"%llu\nclaimgate_vcache_lookups_total{result=\"miss\"} "
			"%llu\n",
		    (unsigned long long)hits, (unsigned long long)misses);
	}
	put(&b, "# HELP claimgate_ready 1 when every issuer has keys.\n"
		"# TYPE claimgate_ready gauge\nclaimgate_ready %d\n",
	    s != NULL && cg_policy_keys_ready(s->pol, (int64_t)time(NULL)));
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

void
srv_metrics_fini(void)
{
	size_t i;

	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < nzones; i++) {
		free(zones[i]->name);
		free(zones[i]);
	}
	nzones = 0;
	pthread_mutex_unlock(&reg_lock);
}
