/*
 * server.h - `claimgate serve`: the HTTP decision service (contract
 * section 5) on libmicrohttpd. A thin adapter: it turns a request into
 * (zone, token, now), asks the library's engine, and renders the decision
 * as a status, headers and the same JSON as `verify --json`.
 */
#ifndef CG_SERVER_H
#define CG_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "claimgate.h"

/* ---- policy snapshots (state.c) ----------------------------------------
 * The running policy is an immutable snapshot with a reference count. A
 * reload builds a new one beside it and swaps the pointer; the old one is
 * freed when the last request using it releases it. */
struct srv_snapshot {
	struct cg_policy *pol;
	struct srv_zone_metrics **zm; /* per zone of pol */
	unsigned long refs;	      /* under the state lock */
};

int srv_state_init(const char *policy_path, struct cg_error *err);
/* Loads the policy again; on failure the old one keeps serving. */
int srv_state_reload(struct cg_error *err);
struct srv_snapshot *srv_state_acquire(void);
void srv_state_release(struct srv_snapshot *s);
void srv_state_fini(void);
struct cg_store *srv_state_store(void);
/* The verified-token cache shared by all workers, or NULL (disabled). */
struct cg_vcache *srv_state_cache(void);
int srv_state_cache_init(size_t entries);
/* The background fetcher of remote key sets. */
int srv_fetcher_start(void);
void srv_fetcher_stop(void);

/* ---- metrics (metrics.c) -------------------------------------------- */
struct srv_zone_metrics;

/* The counters of a zone name (created on first use, never freed). */
struct srv_zone_metrics *srv_metrics_zone(const char *name);
void srv_metrics_decision(struct srv_zone_metrics *z, cg_reason r,
    uint64_t latency_us);
void srv_metrics_no_zone(uint64_t latency_us);
void srv_metrics_reload(int ok);
void srv_metrics_keys_loaded(size_t n);
/* Prometheus text exposition of everything; caller frees. */
char *srv_metrics_render(const struct srv_snapshot *s, size_t *len);
void srv_metrics_fini(void);

/* ---- audit log (audit.c) ---------------------------------------------
 * One JSON line per decision, buffered and written by one thread so that
 * workers never wait on the disk; flushed completely on a clean stop. */
int srv_audit_open(const char *path); /* NULL: no audit; "-": stdout */
/* Takes a complete line (with its newline). */
void srv_audit_write(const char *line, size_t len);
void srv_audit_close(void);
/* 1 when an audit log is open. */
int srv_audit_enabled(void);

/* ---- HTTP (http.c) --------------------------------------------------- */
struct srv_config {
	const char *listen; /* HOST:PORT */
	unsigned threads;
	unsigned conn_limit;
	unsigned conn_timeout;	/* seconds */
	size_t conn_memory;	/* bytes per connection: bounds headers */
};

int srv_http_start(const struct srv_config *cfg, char *why, size_t whysz);
/* Stops accepting, lets in-flight requests finish (at most `grace_ms`),
 * then stops. */
void srv_http_stop(unsigned grace_ms);

#endif
