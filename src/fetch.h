/*
 * fetch.h - HTTPS GET for key sets and OIDC discovery documents (libcurl).
 * TLS verification is always on; sizes, times and redirects are bounded.
 */
#ifndef CG_FETCH_H
#define CG_FETCH_H

#include "internal.h"

struct cg_fetch_opts {
	const char *ca_file;	   /* NULL: the system store */
	int allow_http;		   /* plain http (only for 127.0.0.1) */
	long connect_timeout_ms;
	long total_timeout_ms;
	size_t max_bytes;
};

struct cg_fetch_result {
	char *body;	  /* NUL-terminated; free() */
	size_t len;
	long status;	  /* HTTP status */
	long max_age;	  /* Cache-Control max-age seconds, -1 if none */
	char error[160];  /* why it failed, printable */
};

/* GETs `url`. CG_OK with a 200 response in res->body; otherwise an error
 * code (CG_ERR_IO for transport and HTTP errors, CG_ERR_TOO_LARGE) with
 * res->error set. Thread-safe. */
cg_code cg__fetch(const char *url, const struct cg_fetch_opts *o,
    struct cg_fetch_result *res);

void cg__fetch_result_free(struct cg_fetch_result *res);

/* 1 when `s` (len bytes) may be fetched: https://, or with insecure_http
 * http://127.0.0.1 followed by ':', '/' or nothing. Case-insensitive
 * scheme; no spaces or control bytes. */
int cg__uri_allowed(const char *s, size_t len, int insecure_http);

#endif
