/*
 * http.c - the HTTP front end on libmicrohttpd: routes, the
 * /v1/authorize adapter (contract section 5), health, readiness and
 * metrics. Every answer is decided by the library; this file only turns
 * requests into (zone, token, now) and decisions into responses.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "policy.h"
#include "server.h"

#define AUTHZ_PREFIX "/v1/authorize"

/* A request body is read and discarded up to this size. */
#define MAX_BODY (64u * 1024u)

struct req {
	size_t body;
};

static struct MHD_Daemon *daemon_;
static atomic_long inflight;

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A response with its body and the headers every answer has. With
 * MHD_RESPMEM_MUST_FREE the body is handed over (MHD frees it, also when
 * the response cannot be made). */
static struct MHD_Response *
new_response(const char *type, const char *body, size_t len,
    enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *)body);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

static enum MHD_Result
send_text(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body, size_t len, struct MHD_Response **keep)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	if ((r = new_response(type, body, len, MHD_RESPMEM_MUST_COPY)) == NULL)
		return MHD_NO;
	if (keep != NULL) {
		*keep = r;
		return MHD_YES;
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Percent-decodes a query value into out; -1 when invalid or too long. */
static int
decode_arg(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		char c = *in;
		if (c == '%') {
			int k, v = 0;
			for (k = 1; k <= 2; k++) {
				char h = in[k];
				v <<= 4;
				if (h >= '0' && h <= '9')
					v |= h - '0';
				else if (h >= 'a' && h <= 'f')
					v |= h - 'a' + 10;
				else if (h >= 'A' && h <= 'F')
					v |= h - 'A' + 10;
				else
					return -1;
			}
			if (v == 0)
				return -1;
			c = (char)v;
			in += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* "Bearer <token>", scheme case-insensitive (RFC 6750 2.1, RFC 9110
 * 11.1). Anything else carries no bearer token. */
static const char *
bearer_token(const char *h, size_t *len)
{
	*len = 0;
	if (h == NULL || strncasecmp(h, "bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\t'))
		return "";
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	*len = strlen(h);
	while (*len > 0 && (h[*len - 1] == ' ' || h[*len - 1] == '\t'))
		(*len)--;
	return h;
}

/* The request headers /v1/authorize reads, found in one pass over the
 * request's headers; the first of each name counts, as with
 * MHD_lookup_connection_value. Their lengths tell them apart. */
struct hdrs {
	const char *fwd_host, *host, *orig_uri, *fwd_uri, *orig_method,
	    *fwd_method, *auth;
	unsigned nauth;
};

static void
first(const char **slot, const char *key, const char *name, const char *value)
{
	if (*slot == NULL && strcasecmp(key, name) == 0)
		*slot = value;
}

static enum MHD_Result
collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct hdrs *h = cls;

	(void)kind;
	switch (strlen(key)) {
	case 4: first(&h->host, key, MHD_HTTP_HEADER_HOST, value); break;
	case 13:
		if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0 &&
		    h->nauth++ == 0)
			h->auth = value;
		break;
	case 14: first(&h->orig_uri, key, "X-Original-URI", value); break;
	case 15: first(&h->fwd_uri, key, "X-Forwarded-Uri", value); break;
	case 16: first(&h->fwd_host, key, "X-Forwarded-Host", value); break;
	case 17: first(&h->orig_method, key, "X-Original-Method", value); break;
	case 18: first(&h->fwd_method, key, "X-Forwarded-Method", value); break;
	default: break;
	}
	return MHD_YES;
}

static void
add_forward(void *ctx, const char *name, const char *value)
{
	MHD_add_response_header(ctx, name, value);
}

static void
client_addr(struct MHD_Connection *c, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(out, outsz, "?");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)outsz);
}

static void
audit(const struct cg_decision *d, const char *reason, const char *method,
    const char *host, const char *path, struct MHD_Connection *c,
    uint64_t latency)
{
	struct cg_audit_req r;
	char addr[64];
	char *line;
	size_t len;

	if (!srv_audit_enabled())
		return;
	client_addr(c, addr, sizeof(addr));
	r.time_ms = wall_ms();
	r.method = method;
	r.host = host;
	r.path = path;
	r.client = addr;
	r.reason = reason;
	r.latency_us = latency;
	if ((line = cg__audit_line(d, &r)) == NULL)
		return;
	len = strlen(line);
	line[len] = '\0';
	{
		char *nl = realloc(line, len + 2);
		if (nl == NULL) {
			cg_free(line);
			return;
		}
		line = nl;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	srv_audit_write(line, len + 1);
	free(line);
}

/* A deny rendered without an engine decision (no zone). */
static enum MHD_Result
send_no_zone(struct MHD_Connection *c)
{
	static const char body[] =
	    "{\"decision\":\"deny\",\"reason\":\"no_zone\",\"zone\":\"\","
	    "\"detail\":\"no zone of the policy matches this request\"}\n";
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (send_text(c, 0, "application/json", body, sizeof(body) - 1, &r) !=
	    MHD_YES)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	    "Bearer realm=\"claimgate\", error=\"insufficient_scope\", "
	    "error_description=\"no_zone\"");
	rc = MHD_queue_response(c, MHD_HTTP_FORBIDDEN, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
send_decision(struct MHD_Connection *c, const struct srv_snapshot *s,
    const struct cg_decision *d)
{
	cg_reason reason = cg_decision_reason(d);
	int status = cg_reason_http_status(reason);
	struct MHD_Response *r;
	char *json = cg_decision_to_json(d), wa[160];
	enum MHD_Result rc;
	size_t len;

	if (json == NULL)
		return MHD_NO;
	len = strlen(json);
	/* The body is handed over, not copied. */
	r = new_response("application/json", json, len, MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		return MHD_NO;
	if (status == 200) {
		cg__forward_headers(s->pol, d, add_forward, r);
	} else if (reason == CG_REASON_TOKEN_MISSING) {
		/* RFC 6750 3.1: no error code when no credentials were sent. */
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"claimgate\"");
	} else if (status == 401 || status == 403) {
		snprintf(wa, sizeof(wa),
		    "Bearer realm=\"claimgate\", error=\"%s\", "
		    "error_description=\"%s\"",
		    status == 401 ? "invalid_token" : "insufficient_scope",
		    cg_reason_name(reason));
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, wa);
	} else if (status == 503) {
		/* The boundary fails closed, visibly as its own outage. */
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	}
	rc = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
authorize(struct MHD_Connection *c, const char *url, const char *method)
{
	const char *zone_arg, *host, *path, *meth, *tok;
	struct srv_snapshot *s = srv_state_acquire();
	char zbuf[256];
	struct cg_decision *d = NULL;
	struct cg_error err;
	uint64_t t0 = mono_us();
	struct hdrs h = {0};
	enum MHD_Result rc;
	size_t toklen;
	long zi;

	if (s == NULL)
		return MHD_NO;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &h);
	host = h.fwd_host != NULL ? h.fwd_host : h.host;
	path = h.orig_uri != NULL ? h.orig_uri : h.fwd_uri;
	if (path == NULL)
		path = url[strlen(AUTHZ_PREFIX)] == '/'
		           ? url + strlen(AUTHZ_PREFIX)
		           : "/";
	meth = h.orig_method != NULL ? h.orig_method : h.fwd_method;
	if (meth == NULL)
		meth = method;
	/* ?zone= is the proxy's choice only on the bare endpoint. With an
	 * ORIGINAL-PATH suffix (Envoy path_prefix), the query string is the
	 * client's own and must not pick the zone. */
	zone_arg =
	    url[strlen(AUTHZ_PREFIX)] == '\0'
	        ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "zone")
	        : NULL;
	if (zone_arg != NULL)
		zi = decode_arg(zone_arg, zbuf, sizeof(zbuf)) == 0
		         ? cg__policy_zone_index(s->pol, zbuf)
		         : -1;
	else
		zi = cg__policy_route(s->pol, host, path, meth);
	if (zi < 0) {
		rc = send_no_zone(c);
		srv_metrics_no_zone(mono_us() - t0);
		audit(NULL, "no_zone", meth, host, path, c, mono_us() - t0);
		srv_state_release(s);
		return rc;
	}
	/* Two credentials are one too many: decide as if the token were
	 * malformed rather than pick one. */
	tok = bearer_token(h.auth, &toklen);
	if (h.nauth > 1) {
		tok = "duplicate Authorization headers";
		toklen = strlen(tok);
	}
	if (cg__decide(s->pol, s->pol->zones[zi].name, tok, toklen,
	        (int64_t)time(NULL), srv_state_store(), srv_state_cache(),
	        srv_audit_enabled(), &d, &err) != CG_OK) {
		srv_state_release(s);
		return MHD_NO; /* out of memory: drop the connection */
	}
	rc = send_decision(c, s, d);
	srv_metrics_decision(s->zm[zi], cg_decision_reason(d), mono_us() - t0);
	audit(d, NULL, meth, host, path, c, mono_us() - t0);
	cg_decision_free(d);
	srv_state_release(s);
	return rc;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls)
{
	struct srv_snapshot *s;
	struct req *q = *con_cls;
	enum MHD_Result rc;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (q == NULL) {
		/* First call: headers only. Answer once the request is
		 * complete, so the connection can be kept alive. */
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return MHD_NO;
		*con_cls = q;
		atomic_fetch_add(&inflight, 1);
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* Bodies are never used; a large one closes the connection. */
		q->body += *upload_data_size;
		*upload_data_size = 0;
		return q->body > MAX_BODY ? MHD_NO : MHD_YES;
	}
	if (strcmp(url, AUTHZ_PREFIX) == 0 ||
	    strncmp(url, AUTHZ_PREFIX "/", strlen(AUTHZ_PREFIX) + 1) == 0)
		return authorize(c, url, method);
	if (strcmp(url, "/healthz") == 0)
		return send_text(c, MHD_HTTP_OK, "text/plain", "ok\n", 3, NULL);
	if (strcmp(url, "/readyz") == 0) {
		s = srv_state_acquire();
		if (s == NULL ||
		    !cg_policy_keys_ready(s->pol, (int64_t)time(NULL)))
			rc = send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "text/plain", "not ready: an issuer has no keys\n",
			    33, NULL);
		else if (!cg_store_ready(srv_state_store()))
			rc = send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "text/plain",
			    "not ready: the store cannot answer\n", 35, NULL);
		else
			rc = send_text(
			    c, MHD_HTTP_OK, "text/plain", "ready\n", 6, NULL);
		srv_state_release(s);
		return rc;
	}
	if (strcmp(url, "/metrics") == 0) {
		size_t len = 0;
		char *m;
		s = srv_state_acquire();
		m = srv_metrics_render(s, &len);
		srv_state_release(s);
		if (m == NULL)
			return MHD_NO;
		rc = send_text(
		    c, MHD_HTTP_OK, "text/plain; version=0.0.4", m, len, NULL);
		free(m);
		return rc;
	}
	return send_text(c, MHD_HTTP_NOT_FOUND, "application/json",
	    "{\"error\":\"not_found\"}\n", 22, NULL);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (*con_cls != NULL) {
		atomic_fetch_sub(&inflight, 1);
		free(*con_cls);
		*con_cls = NULL;
	}
}

/*
 * libmicrohttpd would percent-decode the URL before the handler sees it;
 * the ORIGINAL-PATH suffix must reach the path normaliser as sent, so
 * that "%2F" is seen as an encoded slash (and refused), not as "/". Query
 * values are decoded here instead (only `zone` is read).
 */
static size_t
unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("claimgate: serve: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int
srv_http_start(const struct srv_config *cfg, char *why, size_t whysz)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	const char *port, *h = cfg->listen;
	size_t hl;
	unsigned long pnum;
	unsigned flags;
	int e;

	/* HOST:PORT, [IPv6]:PORT */
	port = strrchr(h, ':');
	if (port == NULL || port[1] == '\0') {
		snprintf(why, whysz, "--listen: expected HOST:PORT");
		return -1;
	}
	hl = (size_t)(port - h);
	if (hl > 1 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(why, whysz, "--listen: expected HOST:PORT");
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	pnum = 0;
	for (e = 1; port[e] >= '0' && port[e] <= '9' && e <= 5; e++)
		pnum = pnum * 10 + (unsigned long)(port[e] - '0');
	if (port[e] != '\0' || pnum > 65535) {
		snprintf(why, whysz, "--listen %s: port must be 0 to 65535",
		    cfg->listen);
		return -1;
	}
	if ((e = getaddrinfo(host, port + 1, &hints, &ai)) != 0) {
		snprintf(why, whysz, "--listen %s: %s", cfg->listen,
		    gai_strerror(e));
		return -1;
	}
	/* poll(), not epoll: Debian 12's libmicrohttpd (0.9.75) with its
	 * edge-triggered epoll loop leaves connections waiting whenever one
	 * epoll_wait returns a full batch (128 ready sockets), until the
	 * connection timeout; with poll() every ready connection is served
	 * at every turn. tests/integration/server_http.sh holds 127, 128 and
	 * 300 connections busy at once on one thread. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	        MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
	    cfg->threads > 1 ? cfg->threads : 0u, MHD_OPTION_CONNECTION_LIMIT,
	    cfg->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (daemon_ == NULL) {
		snprintf(why, whysz, "cannot listen on %s", cfg->listen);
		return -1;
	}
	return 0;
}

void
srv_http_stop(unsigned grace_ms)
{
	unsigned waited = 0;
	MHD_socket ls;

	if (daemon_ == NULL)
		return;
	ls = MHD_quiesce_daemon(daemon_);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	while (atomic_load(&inflight) > 0 && waited < grace_ms) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited += 10;
	}
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
