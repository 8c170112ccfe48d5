/*
 * test_pattern.c - the fast trusted-claim matcher (src/pattern.c) against
 * regexec(): on random patterns of its subset and random values, both
 * must give the same answer, in the C locale and in C.UTF-8; what is
 * outside the subset must be left to regexec.
 */
#include <locale.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"

/* regexec's answer for the whole value, as policies compile patterns. */
static int
regex_says(const char *pattern, const char *value, int *ok)
{
	char *wrapped = cgt_fmt("^(%s)$", pattern);
	regex_t re;
	int r;

	*ok = regcomp(&re, wrapped, REG_EXTENDED | REG_NOSUB) == 0;
	free(wrapped);
	if (!*ok)
		return 0;
	r = regexec(&re, value, 0, NULL, 0) == 0;
	regfree(&re);
	return r;
}

static void
expect_match(const char *pattern, const char *value, int want)
{
	struct cg_fastpat *f = cg__fastpat_compile(pattern);
	int ok;

	assert_non_null(f);
	assert_int_equal(regex_says(pattern, value, &ok), want);
	assert_true(ok);
	assert_int_equal(cg__fastpat_match(f, value, strlen(value)), want);
	cg__fastpat_free(f);
}

static void
test_policy_examples(void **state)
{
	(void)state;
	expect_match("[a-z0-9-]{1,64}", "acme-eu-1", 1);
	expect_match("[a-z0-9-]{1,64}", "", 0);
	expect_match("[a-z0-9-]{1,64}", "Acme", 0);
	expect_match("[a-z0-9-]{1,3}", "abcd", 0);
	expect_match("[^@ ]+@example\\.com", "alice@example.com", 1);
	expect_match("[^@ ]+@example\\.com", "alice@examplexcom", 0);
	expect_match("[^@ ]+@example\\.com", "a@b@example.com", 0);
	expect_match("[^@ ]+@example\\.com", "al ice@example.com", 0);
	expect_match("search:[a-z]+", "search:web", 1);
	expect_match("search:[a-z]+", "search:", 0);
	expect_match("search:[a-z]+", "xsearch:web", 0);
	expect_match("a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
	expect_match("^[a-z0-9-]{1,64}$", "acme-eu-1", 1);
	expect_match("^[a-z0-9-]{1,64}$", "acme eu", 0);
	expect_match("^a\\$", "a$", 1);
	expect_match("a\\$", "a", 0);
	expect_match("^$", "", 1);
	expect_match("", "", 1);
	expect_match("", "a", 0);
}

static void
test_outside_the_subset(void **state)
{
	static const char *const unsupported[] = {"(a|b)", "a|b", "a^", "$a",
	    "a$b", "^^a", "a$$", "\\d+", "\\w", "[[:alpha:]]+", "[[=a=]]",
	    "[[.a.]]", "a**", "a+?", "a{1,2}{3}", "(ab)+", "a{300}",
	    "a{1,2000}", "\\1", "caf\xc3\xa9", "a{,3}", "{1}", "*a", "a{x}",
	    "a{2,1}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	struct cg_fastpat *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		f = cg__fastpat_compile(unsupported[i]);
		if (f != NULL)
			fail_msg("pattern %s taken by the fast matcher",
			    unsupported[i]);
	}
	/* Values it does not take: not ASCII, too long. */
	f = cg__fastpat_compile(".*");
	assert_non_null(f);
	assert_int_equal(cg__fastpat_match(f, "caf\xc3\xa9", 5), -1);
	{
		char big[300];
		memset(big, 'a', sizeof(big));
		assert_int_equal(cg__fastpat_match(f, big, 256), 1);
		assert_int_equal(cg__fastpat_match(f, big, 257), -1);
	}
	cg__fastpat_free(f);
}

static uint32_t rng = 0x2545f491u;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void
random_pattern(char *out, size_t outsz)
{
	static const char *const atoms[] = {"a", "b", "z", "-", "@", ":", "\\.",
	    "\\[", "\\\\", "\\*", ".", "[ab]", "[^a]", "[a-c]", "[-a]", "[a-]",
	    "[]a]", "[^]a]", "[\\.]", "[.@]", "[--/]", "[ -@]", "[^@ ]",
	    "[a-z0-9-]", "[]-]", "[^-]"};
	static const char *const anchors[] = {"", "", "^", "$", "^$"};
	static const char *const quants[] = {"", "", "", "*", "+", "?", "{0}",
	    "{1}", "{2}", "{0,1}", "{1,3}", "{2,}", "{0,}", "{1,64}"};
	size_t n = 1 + next_rand() % 5, i;
	const char *anchor = anchors[next_rand() % 5];

	out[0] = '\0';
	if (anchor[0] == '^')
		strcat(out, "^");
	for (i = 0; i < n; i++) {
		strncat(out,
		    atoms[next_rand() % (sizeof(atoms) / sizeof(atoms[0]))],
		    outsz - strlen(out) - 1);
		strncat(out,
		    quants[next_rand() % (sizeof(quants) / sizeof(quants[0]))],
		    outsz - strlen(out) - 1);
	}
	if (strchr(anchor, '$') != NULL)
		strncat(out, "$", outsz - strlen(out) - 1);
}

static void
random_value(char *out, size_t max)
{
	static const char alphabet[] = "ab-@.\\z ]^[:/c*";
	size_t n = next_rand() % max, i;

	for (i = 0; i < n; i++)
		out[i] = alphabet[next_rand() % (sizeof(alphabet) - 1)];
	out[n] = '\0';
}

/* Values that matched, over all comparisons. */
static size_t positives;

/* Same answers as regexec; returns how many patterns were compared. */
static size_t
differential(size_t rounds)
{
	size_t i, j, compared = 0, step = cgt_sample_step();

	for (i = 0; i < rounds; i += step) {
		char pat[128], val[16];
		struct cg_fastpat *f;
		regex_t re;
		char *wrapped;

		random_pattern(pat, sizeof(pat));
		wrapped = cgt_fmt("^(%s)$", pat);
		if (regcomp(&re, wrapped, REG_EXTENDED | REG_NOSUB) != 0) {
			free(wrapped);
			continue; /* a policy could not hold it */
		}
		free(wrapped);
		if ((f = cg__fastpat_compile(pat)) == NULL)
			fail_msg("pattern %s not taken", pat);
		compared++;
		for (j = 0; j < 40; j++) {
			int want, got;
			random_value(val, j < 20 ? 6 : sizeof(val));
			want = regexec(&re, val, 0, NULL, 0) == 0;
			got = cg__fastpat_match(f, val, strlen(val));
			positives += (size_t)want;
			if (got != want)
				fail_msg(
				    "pattern \"%s\" value \"%s\": regexec %d, "
				    "fast %d",
				    pat, val, want, got);
		}
		cg__fastpat_free(f);
		regfree(&re);
	}
	return compared;
}

static void
test_same_as_regexec(void **state)
{
	size_t n;

	(void)state;
	n = differential(20000);
	/* Nearly every generated pattern is valid ERE, and a good share of
	 * the values match: the comparison is not vacuous. */
	assert_true(n * 10 >= 20000 / cgt_sample_step() * 9);
	assert_true(positives >= n);
	if (setlocale(LC_ALL, "C.UTF-8") != NULL) {
		n = differential(5000);
		assert_true(n > 0);
		setlocale(LC_ALL, "C");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_examples),
	    cmocka_unit_test(test_outside_the_subset),
	    cmocka_unit_test(test_same_as_regexec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
