/*
 * json.c - the one file that knows which JSON reader claimgate uses.
 *
 * Tokens, key sets and decisions see only struct cg_json and the
 * functions below, so the reader can be replaced on the hot path without
 * touching the rest. Today it is jansson, configured strictly:
 *   - JSON_REJECT_DUPLICATES: duplicate member names at any depth,
 *     compared after unescaping, are an error (RFC 8725 section 3.1 spirit;
 *     RFC 7515 section 5.2 allows rejecting them);
 *   - JSON_DECODE_INT_AS_REAL: every number is an IEEE double, so an
 *     integer beyond 64 bits is still a number; one that overflows a
 *     double (1e999) is an error;
 *   - no JSON_ALLOW_NUL: a string containing U+0000 is rejected, so every
 *     string is a proper C string;
 *   - UTF-8 is validated by jansson, unpaired surrogate escapes rejected;
 *   - nesting is bounded before jansson sees the bytes (scan_depth).
 *
 * Token headers and claims are read by json_reader.c instead (same rules,
 * several times faster); its nodes and jansson's values share the
 * struct cg_json accessors below, told apart by their first word
 * (jnode.h). Values built for decisions and output are jansson's.
 */
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "jnode.h"

#define J(v) ((json_t *)(v))
#define N(v) ((const struct cg_jnode *)(const void *)(v))
#define CJ(v) ((const json_t *)(v))

/*
 * Rejects containers nested deeper than max_depth, counting the top-level
 * container as level 1. Only well-formed JSON needs an exact count: any
 * other input is rejected by the reader that runs next.
 */
static int
scan_depth(const char *p, size_t len, int max_depth, size_t *bad)
{
	int depth = 0, in_str = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth) {
				*bad = i;
				return -1;
			}
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 0;
}

cg_code
cg__json_parse_object(const char *p, size_t len, int max_depth,
    struct cg_json **out, size_t *bad_offset, char *why, size_t whysz)
{
	json_error_t jerr;
	json_t *root;

	*out = NULL;
	*bad_offset = CG_NO_OFFSET;
	if (scan_depth(p, len, max_depth, bad_offset) != 0) {
		snprintf(
		    why, whysz, "JSON nested deeper than %d levels", max_depth);
		return CG_ERR_JSON;
	}
	root = json_loadb(
	    p, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return CG_ERR_NOMEM;
		*bad_offset = jerr.position > 0 ? (size_t)jerr.position - 1 : 0;
		/* jansson's text may quote input bytes: keep only its kind. */
		switch (json_error_code(&jerr)) {
		case json_error_duplicate_key:
			snprintf(why, whysz, "duplicate member name");
			break;
		case json_error_invalid_utf8:
			snprintf(why, whysz, "invalid UTF-8");
			break;
		case json_error_numeric_overflow:
			snprintf(why, whysz, "number out of range");
			break;
		case json_error_null_character:
		case json_error_null_byte_in_key:
			snprintf(why, whysz, "NUL character in a string");
			break;
		case json_error_premature_end_of_input:
			snprintf(why, whysz, "JSON ends early");
			break;
		case json_error_end_of_input_expected:
			snprintf(why, whysz, "data after the JSON value");
			break;
		default: snprintf(why, whysz, "invalid JSON"); break;
		}
		return CG_ERR_JSON;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*bad_offset = 0;
		snprintf(why, whysz, "JSON value is not an object");
		return CG_ERR_JSON;
	}
	*out = (struct cg_json *)root;
	return CG_OK;
}

void
cg__json_free(struct cg_json *v)
{
	/* Reader nodes belong to their token's arena. */
	if (!cg__is_jnode(v))
		json_decref(J(v));
}

/* see claimgate.h */
cg_json_type
cg_json_typeof(const struct cg_json *v)
{
	if (v == NULL)
		return CG_JSON_ABSENT;
	if (cg__is_jnode(v))
		return cg__jtype(v);
	switch (json_typeof(CJ(v))) {
	case JSON_OBJECT: return CG_JSON_OBJECT;
	case JSON_ARRAY: return CG_JSON_ARRAY;
	case JSON_STRING: return CG_JSON_STRING;
	case JSON_INTEGER:
	case JSON_REAL: return CG_JSON_NUMBER;
	case JSON_TRUE:
	case JSON_FALSE: return CG_JSON_BOOL;
	case JSON_NULL: return CG_JSON_NULL;
	}
	return CG_JSON_NULL;
}

/* see claimgate.h */
cg_code
cg_json_string(const struct cg_json *v, const char **s, size_t *len)
{
	if (s == NULL)
		return CG_ERR_ARG;
	*s = NULL;
	if (len != NULL)
		*len = 0;
	if (cg__is_jnode(v)) {
		size_t n = 0;
		cg_code rc = cg__jstring(v, s, &n);
		if (len != NULL)
			*len = n;
		return rc;
	}
	if (!json_is_string(CJ(v)))
		return v == NULL ? CG_ERR_NOT_FOUND : CG_ERR_TYPE;
	*s = json_string_value(CJ(v));
	if (len != NULL)
		*len = json_string_length(CJ(v));
	return CG_OK;
}

size_t
cg__json_string_len(const struct cg_json *v)
{
	if (cg__is_jnode(v))
		return N(v)->type == CG_JSON_STRING ? N(v)->n : 0;
	return json_is_string(CJ(v)) ? json_string_length(CJ(v)) : 0;
}

/* see claimgate.h */
cg_code
cg_json_number(const struct cg_json *v, double *d)
{
	if (d == NULL)
		return CG_ERR_ARG;
	*d = 0;
	if (cg__is_jnode(v))
		return cg__jnumber(v, d);
	if (!json_is_number(CJ(v)))
		return v == NULL ? CG_ERR_NOT_FOUND : CG_ERR_TYPE;
	*d = json_number_value(CJ(v));
	return CG_OK;
}

/* see claimgate.h */
cg_code
cg_json_bool(const struct cg_json *v, int *b)
{
	if (b == NULL)
		return CG_ERR_ARG;
	*b = 0;
	if (cg__is_jnode(v)) {
		if (N(v)->type != CG_JSON_BOOL)
			return CG_ERR_TYPE;
		*b = N(v)->u.boolean;
		return CG_OK;
	}
	if (!json_is_boolean(CJ(v)))
		return v == NULL ? CG_ERR_NOT_FOUND : CG_ERR_TYPE;
	*b = json_is_true(CJ(v));
	return CG_OK;
}

/* see claimgate.h */
size_t
cg_json_array_size(const struct cg_json *v)
{
	if (cg__is_jnode(v))
		return cg__jarray_size(v);
	return json_is_array(CJ(v)) ? json_array_size(CJ(v)) : 0;
}

/* see claimgate.h */
const struct cg_json *
cg_json_array_get(const struct cg_json *v, size_t i)
{
	if (cg__is_jnode(v))
		return cg__jarray_get(v, i);
	if (!json_is_array(CJ(v)))
		return NULL;
	return (const struct cg_json *)json_array_get(CJ(v), i);
}

/* see claimgate.h */
const struct cg_json *
cg_json_object_get(const struct cg_json *v, const char *name)
{
	if (cg__is_jnode(v)) {
		size_t i;
		if (N(v)->type != CG_JSON_OBJECT || name == NULL)
			return NULL;
		/* Claims sets are small; a linear scan beats hashing. Member
		 * names hold no NUL (the reader refuses U+0000), so strcmp
		 * compares them whole. */
		for (i = 0; i < N(v)->n; i++) {
			const struct cg_jnode *k = N(v)->u.kids[i];
			if (k->key[0] == name[0] && cg__streq(k->key, name))
				return (const struct cg_json *)(const void *)k;
		}
		return NULL;
	}
	if (!json_is_object(CJ(v)) || name == NULL)
		return NULL;
	return (const struct cg_json *)json_object_get(CJ(v), name);
}

size_t
cg__json_object_size(const struct cg_json *v)
{
	if (cg__is_jnode(v))
		return N(v)->type == CG_JSON_OBJECT ? N(v)->n : 0;
	return json_is_object(CJ(v)) ? json_object_size(CJ(v)) : 0;
}

int
cg__json_object_foreach(const struct cg_json *v,
    int (*fn)(void *ctx, const char *name, const struct cg_json *value),
    void *ctx)
{
	const char *k;
	json_t *m;
	size_t i;
	int rc;

	if (cg__is_jnode(v)) {
		if (N(v)->type != CG_JSON_OBJECT)
			return 0;
		for (i = 0; i < N(v)->n; i++) {
			const struct cg_jnode *c = N(v)->u.kids[i];
			rc = fn(ctx, c->key,
			    (const struct cg_json *)(const void *)c);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (!json_is_object(CJ(v)))
		return 0;
	json_object_foreach(J(v), k, m)
	{
		rc = fn(ctx, k, (const struct cg_json *)m);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct cg_json *
cg__json_new_object(void)
{
	return (struct cg_json *)json_object();
}

struct cg_json *
cg__json_new_array(void)
{
	return (struct cg_json *)json_array();
}

struct cg_json *
cg__json_new_string(const char *s, size_t len)
{
	return (struct cg_json *)json_stringn(s, len);
}

/* A reader node as a new jansson value (for decisions and output). */
static json_t *
from_jnode(const struct cg_jnode *n)
{
	json_t *c;
	size_t i;

	switch ((cg_json_type)n->type) {
	case CG_JSON_NULL: return json_null();
	case CG_JSON_BOOL: return json_boolean(n->u.boolean);
	case CG_JSON_NUMBER: return json_real(n->u.num);
	case CG_JSON_STRING: return json_stringn(n->u.str, n->n);
	case CG_JSON_ARRAY:
		if ((c = json_array()) == NULL)
			return NULL;
		for (i = 0; i < n->n; i++)
			if (json_array_append_new(
			        c, from_jnode(n->u.kids[i])) != 0) {
				json_decref(c);
				return NULL;
			}
		return c;
	case CG_JSON_OBJECT:
		if ((c = json_object()) == NULL)
			return NULL;
		for (i = 0; i < n->n; i++)
			if (json_object_setn_new(c, n->u.kids[i]->key,
			        n->u.kids[i]->keylen,
			        from_jnode(n->u.kids[i])) != 0) {
				json_decref(c);
				return NULL;
			}
		return c;
	case CG_JSON_ABSENT: break;
	}
	return NULL;
}

struct cg_json *
cg__json_incref(const struct cg_json *v)
{
	if (cg__is_jnode(v))
		return (struct cg_json *)from_jnode(N(v));
	return (struct cg_json *)json_incref(J(v));
}

int
cg__json_object_set(
    struct cg_json *obj, const char *name, struct cg_json *value)
{
	return json_object_set_new(J(obj), name, J(value));
}

int
cg__json_array_append(struct cg_json *arr, struct cg_json *value)
{
	return json_array_append_new(J(arr), J(value));
}

/*
 * Numbers are held as doubles; for output, integral values within 2^53
 * are written as integers ("exp":1700000000, not 1700000000.0).
 */
static json_t *
for_output(const json_t *v)
{
	json_t *c, *m;
	const char *k;
	size_t i;
	double d;

	switch (json_typeof(v)) {
	case JSON_REAL:
		d = json_real_value(v);
		if (cg__json_integral(d))
			return json_integer((json_int_t)d);
		return json_real(d);
	case JSON_OBJECT:
		c = json_object();
		if (c == NULL)
			return NULL;
		json_object_foreach((json_t *)v, k, m)
		{
			if (json_object_set_new(c, k, for_output(m)) != 0) {
				json_decref(c);
				return NULL;
			}
		}
		return c;
	case JSON_ARRAY:
		c = json_array();
		if (c == NULL)
			return NULL;
		for (i = 0; i < json_array_size(v); i++) {
			if (json_array_append_new(
			        c, for_output(json_array_get(v, i))) != 0) {
				json_decref(c);
				return NULL;
			}
		}
		return c;
	default: return json_incref((json_t *)v);
	}
}

static char *
dump(const struct cg_json *v, size_t flags)
{
	json_t *o;
	char *s;

	if (v == NULL)
		return NULL;
	if (cg__is_jnode(v)) {
		json_t *tmp = from_jnode(N(v));
		if (tmp == NULL)
			return NULL;
		o = for_output(tmp);
		json_decref(tmp);
	} else {
		o = for_output(CJ(v));
	}
	if (o == NULL)
		return NULL;
	s = json_dumps(o, flags | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

char *
cg__json_dump_compact(const struct cg_json *v)
{
	return dump(v, JSON_COMPACT);
}

/* see claimgate.h */
char *
cg_json_dump(const struct cg_json *v, int pretty)
{
	return dump(v, pretty ? JSON_INDENT(2) : JSON_COMPACT);
}
