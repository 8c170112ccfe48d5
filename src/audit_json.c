/*
 * audit_json.c - one audit-log line per decision (used by `serve`).
 * It carries the token's SHA-256, never the token; claims appear only
 * once the signature has verified (see decide.c, record_verified).
 */
#include <string.h>
#include <time.h>

#include "internal.h"

static int
put_str(struct cg_json *o, const char *name, const char *s)
{
	if (s == NULL)
		return 0;
	return cg__json_object_set(o, name, cg__json_new_string(s, strlen(s)));
}

struct copy_ctx {
	struct cg_json *dst;
	int bad;
};

static int
copy_member(void *ctx, const char *name, const struct cg_json *value)
{
	struct copy_ctx *c = ctx;

	c->bad |= cg__json_object_set(c->dst, name, cg__json_incref(value));
	return 0;
}

char *
cg__audit_line(const struct cg_decision *d, const struct cg_audit_req *r)
{
	const struct cg_json *prov;
	struct copy_ctx cc;
	struct cg_json *o, *n;
	char ts[40], num[32];
	struct tm tm;
	time_t secs;
	char *line = NULL;
	int bad = 0;

	if ((o = cg__json_new_object()) == NULL)
		return NULL;
	secs = (time_t)(r->time_ms / 1000);
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		ts[0] = '\0';
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03dZ",
	    (int)(r->time_ms % 1000));
	bad |= put_str(o, "time", ts);
	bad |= put_str(o, "zone", d != NULL ? cg_decision_zone(d) : "");
	bad |= put_str(o, "decision",
	    d != NULL && cg_decision_allowed(d) ? "allow" : "deny");
	bad |= put_str(o, "reason",
	    d != NULL ? cg_reason_name(cg_decision_reason(d)) : r->reason);
	cc.dst = o;
	cc.bad = 0;
	if (d != NULL)
		cg__json_object_foreach(cg__decision_audit(d), copy_member, &cc);
	bad |= cc.bad;
	prov = d != NULL ? cg__decision_provenance(d) : NULL;
	if (prov != NULL)
		bad |= cg__json_object_set(o, "delegation",
		    cg__json_incref(cg_json_object_get(prov, "delegation")));
	bad |= put_str(o, "method", r->method);
	bad |= put_str(o, "host", r->host);
	bad |= put_str(o, "path", r->path);
	bad |= put_str(o, "client", r->client);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->latency_us);
	/* latency as a number: build it through the reader for exactness */
	{
		size_t badoff;
		char why[8];
		struct cg_json *tmp = NULL;
		char doc[64];
		snprintf(doc, sizeof(doc), "{\"v\":%s}", num);
		if (cg__json_parse_object(doc, strlen(doc), 2, &tmp, &badoff,
			why, sizeof(why)) == CG_OK &&
		    (n = cg__json_incref(cg_json_object_get(tmp, "v"))) != NULL)
			bad |= cg__json_object_set(o, "latency_us", n);
		cg__json_free(tmp);
	}
	if (!bad)
		line = cg__json_dump_compact(o);
	cg__json_free(o);
	return line;
}
