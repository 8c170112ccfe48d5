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

/*
 * Reading the responses, without I/O (so that fuzz/fuzz_fetch.c and the
 * unit tests reach them without a network).
 */

/* The largest max-age cg__fetch_parse_header_line() stores: digits are
 * read while the value is below 10^8, so a longer number keeps its first
 * nine digits, which is past every clamp of the refresh interval. */
#define CG_FETCH_MAX_AGE_MAX 999999999L

/* One response header line as libcurl hands it over (`len` bytes, need
 * not be NUL-terminated, CRLF included or not). In a Cache-Control header
 * (name case-insensitive), the first "max-age=" (any case) of the line,
 * when a digit follows it, sets res->max_age to its value, in
 * [0, CG_FETCH_MAX_AGE_MAX]; a later line overrides an earlier one. A
 * quoted value (max-age="60") and every other line leave res untouched;
 * nothing else in res is ever written. */
void cg__fetch_parse_header_line(
    const char *line, size_t len, struct cg_fetch_result *res);

/* An OIDC discovery document (OpenID Connect Discovery 1.0, section 4),
 * `len` bytes: a JSON object (the reader of cg__json_parse_object) whose
 * string member "issuer" is byte for byte `issuer` (borrowed) and whose
 * string member "jwks_uri" passes cg__uri_allowed(insecure_http). CG_OK
 * with *jwks_uri a copy of it (caller frees); otherwise CG_ERR_KEYSET (or
 * CG_ERR_NOMEM), *jwks_uri NULL and the reason in `why` (printable,
 * "discovery: ..."). */
cg_code cg__discovery_parse(const char *body, size_t len, const char *issuer,
    int insecure_http, char **jwks_uri, char *why, size_t whysz);

/* A fetched JWK Set body as a refresh accepts it: cg_keyset_load_jwks,
 * then at least one usable key and at most `max_keys`. CG_OK with *out
 * the key set (cg_keyset_free); otherwise CG_ERR_KEYSET (or CG_ERR_NOMEM)
 * with *out NULL and the reason in `why` (printable). */
cg_code cg__jwks_response_parse(const char *body, size_t len, size_t max_keys,
    struct cg_keyset **out, char *why, size_t whysz);

/* 1 when `s` (len bytes) may be fetched: https://, or with insecure_http
 * http://127.0.0.1 followed by ':', '/' or nothing. Case-insensitive
 * scheme; no spaces or control bytes. */
int cg__uri_allowed(const char *s, size_t len, int insecure_http);

#endif
