/*
 * jnode.h - the token JSON reader's tree (json_reader.c), read through
 * the same struct cg_json accessors as jansson values (json.c).
 *
 * A node starts with a magic word that no jansson json_type can equal
 * (jansson's json_t starts with its type, 0 to 7), so json.c tells the two
 * apart by their first word. Nodes live in their token's arena and are
 * never modified after parsing.
 */
#ifndef CG_JNODE_H
#define CG_JNODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define CG_JNODE_MAGIC 0x4a4e4f44u /* "JNOD" */

struct cg_jnode {
	uint32_t magic;
	uint32_t type;   /* cg_json_type */
	size_t n;        /* string bytes, or array/object children */
	const char *key; /* member name (NUL-terminated) in an object */
	size_t keylen;
	size_t off; /* byte offset of the member (or value) */
	union {
		double num;
		int boolean;
		const char *str;              /* NUL-terminated */
		const struct cg_jnode **kids; /* array or object members */
	} u;
};

struct cg_arena;

/* Parses `len` bytes as one JSON object with the exact rules of
 * cg__json_parse_object (internal.h): UTF-8 validated, duplicate member
 * names rejected at every depth, nesting bounded by `max_depth`, numbers
 * as doubles (overflow rejected), U+0000 rejected. Nodes are allocated in
 * *arena (created on first use; free with cg__arena_free), and strings
 * point into a copy of the document made there. */
cg_code cg__jnode_parse(const char *p, size_t len, int max_depth,
    struct cg_arena **arena, const struct cg_jnode **out, size_t *bad_offset,
    char *why, size_t whysz);

/* The same, parsing p[0..len) in place: strings are unescaped and
 * NUL-terminated inside it, so the nodes point into p, which must outlive
 * them (and is garbage as JSON afterwards). */
cg_code cg__jnode_parse_inplace(char *p, size_t len, int max_depth,
    struct cg_arena **arena, const struct cg_jnode **out, size_t *bad_offset,
    char *why, size_t whysz);

/* n bytes from the arena (aligned); a new block holds at least `hint`
 * bytes. NULL when out of memory. */
void *cg__arena_alloc(struct cg_arena **a, size_t n, size_t hint);

void cg__arena_free(struct cg_arena *a);

/* An arena whose first block is mem[0..size) (aligned like malloc's
 * memory), owned by the caller: cg__arena_free frees only the blocks
 * added after it, and cg__arena_footprint counts only those. NULL when
 * size cannot hold the block's header. */
struct cg_arena *cg__arena_in(void *mem, size_t size);

/* Bytes of a block's header (so callers can size a block for cg__arena_in). */
size_t cg__arena_overhead(void);

/* A NUL-terminated copy of s[0..n) in the arena, or NULL. */
char *cg__arena_strndup(
    struct cg_arena **a, const char *s, size_t n, size_t hint);

/* Bytes held by the arena's blocks. */
size_t cg__arena_footprint(const struct cg_arena *a);

static inline int
cg__is_jnode(const struct cg_json *v)
{
	uint32_t m;

	if (v == NULL)
		return 0;
	memcpy(&m, (const void *)v, sizeof(m)); /* first word of either */
	return m == CG_JNODE_MAGIC;
}

/*
 * The accessors of claimgate.h with the token reader's nodes read inline
 * (the engine reads a few dozen values per decision); any other value
 * goes to the function itself. Same results, same codes.
 */
#define CG__JN(v) ((const struct cg_jnode *)(const void *)(v))

/* 1 when a number is written as a JSON integer (json.c's output, and
 * the decision's own writer): integral and within 2^53, where a double
 * is exact. */
static inline int
cg__json_integral(double d)
{
	/* The bounds first: the cast is defined only within range. */
	return d <= 9007199254740992.0 && d >= -9007199254740992.0 &&
	       d == (double)(long long)d;
}

static inline cg_json_type
cg__jtype(const struct cg_json *v)
{
	return cg__is_jnode(v) ? (cg_json_type)CG__JN(v)->type
	                       : cg_json_typeof(v);
}

static inline cg_code
cg__jstring(const struct cg_json *v, const char **s, size_t *len)
{
	if (!cg__is_jnode(v))
		return cg_json_string(v, s, len);
	if (CG__JN(v)->type != CG_JSON_STRING) {
		*s = NULL;
		*len = 0;
		return CG_ERR_TYPE;
	}
	*s = CG__JN(v)->u.str;
	*len = CG__JN(v)->n;
	return CG_OK;
}

static inline cg_code
cg__jnumber(const struct cg_json *v, double *d)
{
	if (!cg__is_jnode(v))
		return cg_json_number(v, d);
	if (CG__JN(v)->type != CG_JSON_NUMBER) {
		*d = 0;
		return CG_ERR_TYPE;
	}
	*d = CG__JN(v)->u.num;
	return CG_OK;
}

static inline size_t
cg__jarray_size(const struct cg_json *v)
{
	if (!cg__is_jnode(v))
		return cg_json_array_size(v);
	return CG__JN(v)->type == CG_JSON_ARRAY ? CG__JN(v)->n : 0;
}

static inline const struct cg_json *
cg__jarray_get(const struct cg_json *v, size_t i)
{
	if (!cg__is_jnode(v))
		return cg_json_array_get(v, i);
	return CG__JN(v)->type == CG_JSON_ARRAY && i < CG__JN(v)->n
	           ? (const struct cg_json *)(const void *)CG__JN(v)->u.kids[i]
	           : NULL;
}

#endif
