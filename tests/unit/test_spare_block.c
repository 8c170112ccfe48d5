/*
 * test_spare_block.c - each thread's spare token block (src/alloc.c,
 * cg__block_take / cg__block_give) and the token parser that uses it:
 * a fitting spare is reused, a spare too small or more than twice the
 * need is freed instead, blocks above the limit are never kept, one block
 * at most is kept, the failure hook still fails a take, a thread's spare
 * is freed when the thread ends (the sanitizer and valgrind runs report a
 * leak otherwise), and tokens parsed into a reused block read exactly as
 * fresh ones and count the whole block in their footprint.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"
#include "jnode.h"

/* Empties the calling thread's spare: a take that no block fits. */
static void
drain(void)
{
	size_t got;
	void *p = cg__block_take(1, &got);

	assert_non_null(p);
	assert_int_equal(got, 1);
	free(p);
}

static void
test_fitting_spare_is_reused(void **state)
{
	size_t got;
	unsigned char *a, *b;

	(void)state;
	drain();
	a = cg__block_take(3000, &got);
	assert_non_null(a);
	assert_int_equal(got, 3000);
	memset(a, 0x5a, got);
	cg__block_give(a, got);
	/* The same block for an equal or somewhat smaller need, with its
	 * true size. */
	b = cg__block_take(2000, &got);
	assert_ptr_equal(b, a);
	assert_int_equal(got, 3000);
	cg__block_give(b, got);
	b = cg__block_take(3000, &got);
	assert_ptr_equal(b, a);
	assert_int_equal(got, 3000);
	/* Taken: the next take has no spare. */
	a = cg__block_take(3000, &got);
	assert_ptr_not_equal(a, b);
	assert_int_equal(got, 3000);
	free(a);
	free(b);
}

static void
test_unfit_spare_is_freed(void **state)
{
	size_t got;
	void *a, *b;

	(void)state;
	drain();
	/* Too small. */
	a = cg__block_take(1000, &got);
	cg__block_give(a, got);
	b = cg__block_take(1001, &got);
	assert_int_equal(got, 1001);
	cg__block_give(b, got);
	/* More than twice the need: freed, not handed out. */
	a = cg__block_take(400, &got);
	assert_int_equal(got, 400);
	free(a);
	/* Exactly twice still fits. */
	a = cg__block_take(4000, &got);
	cg__block_give(a, got);
	b = cg__block_take(2000, &got);
	assert_ptr_equal(b, a);
	assert_int_equal(got, 4000);
	free(b);
}

static void
test_limits(void **state)
{
	size_t got;
	void *a, *b;

	(void)state;
	drain();
	/* Above 8 KiB a block is freed on give, never kept. */
	a = cg__block_take(9000, &got);
	cg__block_give(a, got);
	b = cg__block_take(8000, &got);
	assert_int_equal(got, 8000);
	free(b);
	/* One spare: a second block given back is freed, not kept. */
	a = cg__block_take(2000, &got);
	b = cg__block_take(3000, &got);
	cg__block_give(a, 2000);
	cg__block_give(b, 3000);
	b = cg__block_take(2000, &got);
	assert_ptr_equal(b, a);
	assert_int_equal(got, 2000);
	/* The slot is empty now: a fresh block of exactly the need, where
	 * the 3000-byte one, had it been kept, would fit 1500 (at most
	 * twice). Sizes, not addresses: malloc may hand out a freed block's
	 * address again. */
	a = cg__block_take(1500, &got);
	assert_int_equal(got, 1500);
	free(a);
	free(b);
	cg__block_give(NULL, 100); /* nothing */
}

static void
test_failure_hook(void **state)
{
	size_t got;
	void *a;

	(void)state;
	drain();
	a = cg__block_take(2000, &got);
	cg__block_give(a, got);
	/* A take counts as an allocation, spare or not, and a failed one
	 * leaves the spare in place. */
	cg__alloc_fail_after(1);
	assert_null(cg__block_take(2000, &got));
	assert_ptr_equal(cg__block_take(2000, &got), a);
	free(a);
}

static void *
keep_a_spare(void *arg)
{
	size_t got;
	void *p = cg__block_take(4096, &got);

	(void)arg;
	if (p != NULL)
		cg__block_give(p, got);
	return p;
}

/* Each thread leaves a spare behind; its end must free it (ASan's leak
 * check and valgrind's fail this program otherwise). */
static void
test_thread_end_frees_spare(void **state)
{
	pthread_t th[4];
	void *got[4];
	int i;

	(void)state;
	for (int round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++)
			assert_int_equal(
			    pthread_create(&th[i], NULL, keep_a_spare, NULL),
			    0);
		for (i = 0; i < 4; i++) {
			assert_int_equal(pthread_join(th[i], &got[i]), 0);
			assert_non_null(got[i]);
		}
	}
}

static void
check_sub(const struct cg_token *t, const char *sub)
{
	const char *s;
	size_t n;

	assert_int_equal(cg__jstring(cg_token_claim(t, "sub"), &s, &n), CG_OK);
	assert_int_equal(n, strlen(sub));
	assert_memory_equal(s, sub, n);
}

/* Tokens of different sizes, parsed and freed in turn (each reuses the
 * last one's block when it fits), read exactly as they were minted, and
 * one parsed into a larger block counts all of it in its footprint. */
static void
test_tokens_in_reused_blocks(void **state)
{
	struct cgt_key k;
	struct cg_error err;
	struct cg_token *t, *keep;
	size_t pads[] = {10, 600, 20, 900, 850, 5, 1200, 1150, 40};
	size_t i, last = 0;
	char *a, *b;

	(void)state;
	drain();
	cgt_key_gen(&k, CG_ALG_HS256, NULL, 0);
	for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		char *sub = malloc(pads[i] + 1), *payload, *tok;
		memset(sub, 'a' + (int)i, pads[i]);
		sub[pads[i]] = '\0';
		payload = cgt_fmt("{\"sub\":\"%s\",\"n\":%zu}", sub, i);
		tok = cgt_mint_simple(&k, NULL, payload);
		assert_int_equal(
		    cg_token_parse(tok, strlen(tok), 0, &t, &err), CG_OK);
		/* The token keeps its own copy: change the input. */
		memset(tok, 'x', strlen(tok));
		check_sub(t, sub);
		/* 1150 after 1200: the same block, counted whole. */
		if (pads[i] == 1150)
			assert_int_equal(cg__token_footprint(t), last);
		last = cg__token_footprint(t);
		cg_token_free(t);
		free(sub);
		free(payload);
		free(tok);
	}
	/* A token kept while others are parsed and freed. */
	a = cgt_mint_simple(&k, NULL, "{\"sub\":\"first\"}");
	b = cgt_mint_simple(&k, NULL, "{\"sub\":\"second\"}");
	assert_int_equal(cg_token_parse(a, strlen(a), 0, &keep, &err), CG_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(
		    cg_token_parse(b, strlen(b), 0, &t, &err), CG_OK);
		check_sub(keep, "first");
		check_sub(t, "second");
		cg_token_free(t);
	}
	cg_token_free(keep);
	free(a);
	free(b);
	cgt_key_free(&k);
}

static void *
free_token(void *arg)
{
	cg_token_free(arg);
	return NULL;
}

static void
test_token_freed_on_another_thread(void **state)
{
	struct cgt_key k;
	struct cg_error err;
	struct cg_token *t;
	pthread_t th;
	char *tok;

	(void)state;
	cgt_key_gen(&k, CG_ALG_HS256, NULL, 0);
	tok = cgt_mint_simple(&k, NULL, "{\"sub\":\"elsewhere\"}");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(
		    cg_token_parse(tok, strlen(tok), 0, &t, &err), CG_OK);
		assert_int_equal(pthread_create(&th, NULL, free_token, t), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
	}
	free(tok);
	cgt_key_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fitting_spare_is_reused),
	    cmocka_unit_test(test_unfit_spare_is_freed),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_failure_hook),
	    cmocka_unit_test(test_thread_end_frees_spare),
	    cmocka_unit_test(test_tokens_in_reused_blocks),
	    cmocka_unit_test(test_token_freed_on_another_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
