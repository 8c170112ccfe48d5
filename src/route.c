/*
 * route.c - which zone guards a request (`match`), and the values of a
 * zone's `forward` headers. Used by `serve`; kept in the library so that
 * it is tested and fuzzed like every other reader of untrusted input.
 *
 * Paths are normalised before prefix matching, as nginx does for $uri:
 * percent-decoded, dot segments removed (RFC 3986 5.2.4), repeated slashes
 * merged, the query dropped. A path that cannot be normalised safely (an
 * invalid or NUL escape, a backslash, an encoded slash, control bytes,
 * climbing above the root) matches no zone: the request is denied
 * `no_zone` rather than guessed at, so "/public/..%2fpayments" can never
 * select a weaker zone than the one the upstream serves.
 */
#include <string.h>

#include "policy.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cg__path_normalise(const char *in, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;

	if (len == 0 || in[0] != '/' || outsz < 2)
		return -1;
	for (i = 0; i < len && in[i] != '?' && in[i] != '#'; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			int hi, lo;
			if (len - i < 3 || (hi = hexval(in[i + 1])) < 0 ||
			    (lo = hexval(in[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			/* An encoded slash would be a second path grammar. */
			if (c == '/' || c == 0)
				return -1;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
		if (c == '/' && o > 0 && out[o - 1] == '/')
			continue; /* merge slashes */
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
		/* Resolve "/." and "/.." once a segment ends. */
		if (c == '/' || i + 1 >= len || in[i + 1] == '?' ||
		    in[i + 1] == '#') {
			size_t end = c == '/' ? o - 1 : o, start = end;
			while (start > 0 && out[start - 1] != '/')
				start--;
			if (end - start == 1 && out[start] == '.') {
				o = start;
			} else if (end - start == 2 && out[start] == '.' &&
			           out[start + 1] == '.') {
				if (start <= 1)
					return -1; /* above the root */
				o = start - 1;
				while (o > 0 && out[o - 1] != '/')
					o--;
			}
		}
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

static int
host_matches(const struct cg_strlist *hosts, const char *host)
{
	size_t hl, i, j;
	const char *colon;

	if (hosts->n == 0)
		return 1;
	if (host == NULL)
		return 0;
	/* Compare without the port: "api.example.com:8443", "[::1]:80". */
	hl = strlen(host);
	if (host[0] == '[') {
		colon = strchr(host, ']');
		if (colon != NULL)
			hl = (size_t)(colon - host) + 1;
	} else if ((colon = strchr(host, ':')) != NULL &&
	           strchr(colon + 1, ':') == NULL) {
		hl = (size_t)(colon - host);
	}
	for (i = 0; i < hosts->n; i++) {
		const char *h = hosts->v[i];
		if (strlen(h) != hl)
			continue;
		for (j = 0; j < hl; j++) {
			char a = host[j];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != h[j])
				break;
		}
		if (j == hl)
			return 1;
	}
	return 0;
}

static int
path_matches(const struct cg_strlist *paths, const char *path)
{
	size_t i;

	if (paths->n == 0)
		return 1;
	if (path == NULL)
		return 0;
	for (i = 0; i < paths->n; i++)
		if (strncmp(path, paths->v[i], strlen(paths->v[i])) == 0)
			return 1;
	return 0;
}

static int
method_matches(const struct cg_strlist *methods, const char *method)
{
	size_t i;

	if (methods->n == 0)
		return 1;
	if (method == NULL)
		return 0;
	for (i = 0; i < methods->n; i++)
		if (strcmp(methods->v[i], method) == 0)
			return 1;
	return 0;
}

long
cg__policy_route(const struct cg_policy *p, const char *host, const char *path,
    const char *method)
{
	char norm[4096];
	const char *np = NULL;
	size_t i;

	/* An unsafe path matches nothing, not even a zone without paths. */
	if (path != NULL) {
		if (cg__path_normalise(
		        path, strlen(path), norm, sizeof(norm)) != 0)
			return -1;
		np = norm;
	}
	for (i = 0; i < p->nzones; i++) {
		const struct cg_zone *z = &p->zones[i];
		if (!z->has_match)
			continue;
		if (host_matches(&z->match_hosts, host) &&
		    (z->match_paths.n == 0 ||
		        path_matches(&z->match_paths, np)) &&
		    method_matches(&z->match_methods, method))
			return (long)i;
	}
	return -1;
}

/* Terminates the o bytes rendered into out; -1 when the value must not
 * be sent: empty, too long, or holding a control character. */
static int
finish_value(char *out, size_t o, size_t outsz)
{
	size_t i;

	if (o >= outsz)
		return -1;
	out[o] = '\0';
	for (i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return -1;
	return o == 0 ? -1 : 0;
}

/* Renders one trusted value as a header value; -1 when it must not be
 * sent (control characters, or too long). */
static int
render_value(const struct cg_json *v, char *out, size_t outsz)
{
	size_t o = 0, i, n;
	const char *s;
	size_t len;
	double d;

	out[0] = '\0';
	switch (cg_json_typeof(v)) {
	case CG_JSON_STRING:
		(void)cg_json_string(v, &s, &len);
		if (len >= outsz)
			return -1;
		memcpy(out, s, len);
		o = len;
		break;
	case CG_JSON_NUMBER:
		(void)cg_json_number(v, &d);
		o = (size_t)snprintf(out, outsz, "%.17g", d);
		break;
	case CG_JSON_BOOL: {
		int b;
		(void)cg_json_bool(v, &b);
		o = (size_t)snprintf(out, outsz, "%s", b ? "true" : "false");
		break;
	}
	case CG_JSON_ARRAY:
		n = cg_json_array_size(v);
		for (i = 0; i < n; i++) {
			if (cg_json_string(cg_json_array_get(v, i), &s, &len) !=
			    CG_OK)
				continue;
			if (outsz - o < len + 2)
				return -1;
			if (o > 0)
				out[o++] = ',';
			memcpy(out + o, s, len);
			o += len;
		}
		break;
	default: return -1;
	}
	return finish_value(out, o, outsz);
}

/* Items as render_value writes a string (one item, not a list) or an
 * array of strings (joined with commas, other values left out). */
static int
render_items(
    const struct cg_titem *it, size_t n, int list, char *out, size_t outsz)
{
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		if (it[i].v != NULL)
			continue;
		/* (the limits of render_value's string and array cases) */
		if (list ? outsz - o < it[i].len + 2 : it[i].len >= outsz)
			return -1;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, it[i].s, it[i].len);
		o += it[i].len;
	}
	return finish_value(out, o, outsz);
}

size_t
cg__forward_headers(const struct cg_policy *p, const struct cg_decision *d,
    void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	char value[4096];
	const struct cg_zone *z;
	size_t i, n = 0;
	long zi;

	if (!cg_decision_allowed(d) ||
	    (zi = cg__policy_zone_index(p, cg_decision_zone(d))) < 0)
		return 0;
	z = &p->zones[zi];
	for (i = 0; i < z->nforward; i++) {
		const struct cg_titem *items;
		const struct cg_json *v;
		size_t nitems;
		int list;
		if (cg__decision_claim(d, z->forward[i].claim, &v, &items,
		        &nitems, &list) != 0)
			continue;
		if (v != NULL ? render_value(v, value, sizeof(value)) != 0
		              : render_items(items, nitems, list, value,
		                    sizeof(value)) != 0)
			continue;
		fn(ctx, z->forward[i].header, value);
		n++;
	}
	return n;
}
