/*
 * fuzz_json.c - the token JSON reader (src/json_reader.c, which reads
 * every token header and claims set) against jansson as configured in
 * src/json.c (which reads key sets and builds decisions): a differential
 * target. Two readers that disagree on what a document means is how a
 * parser differential becomes a bypass, so they must agree.
 *
 * Input: a JSON document (a token's decoded header or payload).
 * Invariants (abort when broken):
 *   - both readers accept, or both refuse; the one documented difference
 *     (test_json_reader.c): jansson skips a raw NUL byte between tokens,
 *     the reader refuses it;
 *   - when both accept, both trees serialise to the same compact text;
 *   - a refusal's offset, when given, is inside the input, and its message
 *     is printable;
 *   - a document both accept at depth 16 is judged alike again at depth 3
 *     (both count levels the same way).
 */
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "jnode.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
check_why(cg_code rc, size_t bad, size_t len, const char *why)
{
	if (rc == CG_OK)
		return;
	if (rc != CG_ERR_JSON && rc != CG_ERR_NOMEM)
		cgf_fail("a JSON reader returned another code than JSON");
	if (bad != CG_NO_OFFSET && bad > len)
		cgf_fail("a JSON error offset is past the input");
	if (memchr(why, '\0', 80) == NULL)
		cgf_fail("a JSON error message is not NUL-terminated");
}

/* Returns 1 when both readers accept at `depth`. */
static int
both(const char *p, size_t len, int depth)
{
	struct cg_json *jv = NULL;
	const struct cg_jnode *nv = NULL;
	struct cg_arena *arena = NULL;
	char w1[80], w2[80];
	size_t b1 = CG_NO_OFFSET, b2 = CG_NO_OFFSET;
	cg_code r1, r2;
	int accepted = 0;

	memset(w1, 0, sizeof(w1));
	memset(w2, 0, sizeof(w2));
	r1 = cg__json_parse_object(p, len, depth, &jv, &b1, w1, sizeof(w1));
	r2 = cg__jnode_parse(p, len, depth, &arena, &nv, &b2, w2, sizeof(w2));
	check_why(r1, b1, len, w1);
	check_why(r2, b2, len, w2);
	if (r1 == CG_ERR_NOMEM || r2 == CG_ERR_NOMEM)
		goto out;
	if (r1 == CG_OK && r2 != CG_OK && memchr(p, '\0', len) != NULL)
		goto out; /* the documented difference */
	if ((r1 == CG_OK) != (r2 == CG_OK)) {
		fprintf(stderr, "jansson: %s (%s); reader: %s (%s)\n",
		    cg_code_name(r1), w1, cg_code_name(r2), w2);
		cgf_fail("the two JSON readers disagree on accepting");
	}
	if (r1 == CG_OK) {
		const struct cg_json *nj = (const void *)nv;
		char *d1 = cg_json_dump(jv, 0), *d2 = cg_json_dump(nj, 0);
		if (d1 != NULL && d2 != NULL && strcmp(d1, d2) != 0) {
			fprintf(stderr, "jansson: %s\nreader:  %s\n", d1, d2);
			cgf_fail("the two JSON readers read different values");
		}
		cg_free(d1);
		cg_free(d2);
		accepted = 1;
	}
out:
	cg__json_free(jv);
	cg__arena_free(arena);
	return accepted;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	if (both(p, size, CG_LIMIT_JSON_DEPTH))
		(void)both(p, size, 3);
	return 0;
}
