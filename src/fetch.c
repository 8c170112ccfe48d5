/*
 * fetch.c - bounded HTTPS GET with libcurl, for remote key sets.
 *
 * Safe by default: https only (plain http only when the caller allows it,
 * which the policy does for 127.0.0.1 with insecure_http: true), peer and
 * host verification always on, redirects at most 3 and https only, connect
 * and total timeouts, a response size cap enforced while reading, no
 * signals (threads), no cookies, no proxy from the environment unless
 * libcurl's own rules apply. A token never names what is fetched: URLs
 * come from the policy only.
 *
 * What comes back is read by functions that do no I/O (the end of this
 * file): the Cache-Control header, the OIDC discovery document and the
 * JWK Set body, so that they are unit-tested and fuzzed (fuzz_fetch)
 * without a network.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fetch.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_ok;

static void
global_init(void)
{
	init_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct sink {
	struct cg_fetch_result *res;
	size_t cap, max;
	int too_large;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;

	if (len > s->max - s->res->len) {
		s->too_large = 1;
		return 0; /* aborts the transfer */
	}
	if (s->res->len + len + 1 > s->cap) {
		size_t ncap = s->cap == 0 ? 16384 : s->cap;
		char *nb;
		while (ncap < s->res->len + len + 1)
			ncap *= 2;
		if ((nb = realloc(s->res->body, ncap)) == NULL)
			return 0;
		s->res->body = nb;
		s->cap = ncap;
	}
	memcpy(s->res->body + s->res->len, p, len);
	s->res->len += len;
	s->res->body[s->res->len] = '\0';
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	size_t len = size * n;

	cg__fetch_parse_header_line(p, len, ud);
	return len;
}

cg_code
cg__fetch(
    const char *url, const struct cg_fetch_opts *o, struct cg_fetch_result *res)
{
	char ua[64];
	struct sink s;
	CURLcode cc;
	CURL *c;
	cg_code rc = CG_ERR_IO;

	memset(res, 0, sizeof(*res));
	res->max_age = -1;
	pthread_once(&once, global_init);
	if (!init_ok || (c = curl_easy_init()) == NULL) {
		snprintf(res->error, sizeof(res->error), "libcurl unavailable");
		return CG_ERR_IO;
	}
	memset(&s, 0, sizeof(s));
	s.res = res;
	s.max = o->max_bytes;
	snprintf(ua, sizeof(ua), "claimgate/%s", CG_VERSION_STRING);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(
	    c, CURLOPT_PROTOCOLS_STR, o->allow_http ? "https,http" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL) {
		/* Only this CA: Debian's libcurl also has a built-in CA
		 * folder, which would keep every public CA trusted. */
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->total_timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	if (s.too_large) {
		snprintf(res->error, sizeof(res->error),
		    "response larger than %zu bytes", o->max_bytes);
		rc = CG_ERR_TOO_LARGE;
	} else if (cc != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "%s",
		    curl_easy_strerror(cc));
	} else if (res->status != 200) {
		snprintf(res->error, sizeof(res->error), "HTTP status %ld",
		    res->status);
	} else if (res->body == NULL) {
		snprintf(res->error, sizeof(res->error), "empty response");
	} else {
		rc = CG_OK;
	}
	curl_easy_cleanup(c);
	if (rc != CG_OK) {
		free(res->body);
		res->body = NULL;
		res->len = 0;
	}
	return rc;
}

void
cg__fetch_result_free(struct cg_fetch_result *res)
{
	free(res->body);
	res->body = NULL;
}

int
cg__uri_allowed(const char *s, size_t len, int insecure_http)
{
	static const char https[] = "https://", local[] = "http://127.0.0.1";
	const size_t hl = sizeof(https) - 1, ll = sizeof(local) - 1;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	if (len > hl && strncasecmp(s, https, hl) == 0)
		return s[hl] != '/';
	/* "http://127.0.0.1.evil.example" and "http://127.0.0.1@host" are
	 * not this machine. */
	if (insecure_http && len >= ll && strncasecmp(s, local, ll) == 0)
		return len == ll || s[ll] == ':' || s[ll] == '/';
	return 0;
}

/* ---- reading the responses (no I/O) ------------------------------------ */

/* Cache-Control: ..., max-age=N, ... (RFC 9111 section 5.2.2.1). Lenient
 * on purpose: "max-age=" is found anywhere after the header name. Digits
 * are read while the value is below 10^8 and the rest are ignored, so it
 * stays below 10^9; the refresh clamps it to [1 min, 24 h] anyway. The
 * quoted form, which RFC 9111 says senders should not generate, is
 * ignored. A status line ("HTTP/...") forgets what earlier responses
 * said. */
void
cg__fetch_parse_header_line(
    const char *p, size_t len, struct cg_fetch_result *r)
{
	static const char name[] = "cache-control:";
	size_t i;

	/* libcurl hands over the headers of every response it reads,
	 * redirects included: a status line starts a new response, and only
	 * the last one's Cache-Control counts. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		r->max_age = -1;
		return;
	}
	if (len < sizeof(name) - 1 ||
	    strncasecmp(p, name, sizeof(name) - 1) != 0)
		return;
	for (i = sizeof(name) - 1; i + 8 <= len; i++) {
		if (strncasecmp(p + i, "max-age=", 8) == 0) {
			long v = 0;
			size_t j = i + 8;
			while (j < len && p[j] >= '0' && p[j] <= '9' &&
			       v < 100000000L)
				v = v * 10 + (p[j++] - '0');
			if (j > i + 8)
				r->max_age = v;
			break;
		}
	}
}

/* OIDC discovery (OpenID Connect Discovery 1.0, section 4): the document
 * must name this exact issuer; its jwks_uri is then used. */
cg_code
cg__discovery_parse(const char *body, size_t len, const char *issuer,
    int insecure_http, char **jwks_uri, char *why, size_t whysz)
{
	struct cg_json *doc = NULL;
	const char *iss, *ju;
	size_t jl, bad;
	char w[80];
	cg_code rc;

	*jwks_uri = NULL;
	rc = cg__json_parse_object(
	    body, len, CG_LIMIT_JSON_DEPTH, &doc, &bad, w, sizeof(w));
	if (rc == CG_ERR_NOMEM) {
		snprintf(why, whysz, "discovery: out of memory");
		return rc;
	}
	if (rc != CG_OK) {
		snprintf(why, whysz, "discovery: document is not JSON (%s)", w);
		return CG_ERR_KEYSET;
	}
	if (cg_json_string(cg_json_object_get(doc, "issuer"), &iss, NULL) !=
	        CG_OK ||
	    strcmp(iss, issuer) != 0) {
		snprintf(why, whysz,
		    "discovery: the document's issuer is not "
		    "the configured one");
		rc = CG_ERR_KEYSET;
	} else if (cg_json_string(cg_json_object_get(doc, "jwks_uri"), &ju,
	               &jl) != CG_OK ||
	           !cg__uri_allowed(ju, jl, insecure_http)) {
		snprintf(why, whysz, "discovery: no https jwks_uri");
		rc = CG_ERR_KEYSET;
	} else if ((*jwks_uri = cg__strndup(ju, jl)) == NULL) {
		snprintf(why, whysz, "discovery: out of memory");
		rc = CG_ERR_NOMEM;
	}
	cg__json_free(doc);
	return rc;
}

cg_code
cg__jwks_response_parse(const char *body, size_t len, size_t max_keys,
    struct cg_keyset **out, char *why, size_t whysz)
{
	struct cg_keyset *ks = NULL;
	struct cg_error kerr;
	cg_code rc;

	*out = NULL;
	rc = cg_keyset_load_jwks(body, len, &ks, &kerr);
	if (rc != CG_OK) {
		snprintf(why, whysz, "%s", kerr.msg);
		return rc;
	}
	if (cg_keyset_count(ks) == 0) {
		snprintf(why, whysz, "no usable key");
		rc = CG_ERR_KEYSET;
	} else if (cg_keyset_count(ks) > max_keys) {
		snprintf(why, whysz, "more than %zu keys", max_keys);
		rc = CG_ERR_KEYSET;
	}
	if (rc != CG_OK) {
		cg_keyset_free(ks);
		return rc;
	}
	*out = ks;
	return CG_OK;
}
