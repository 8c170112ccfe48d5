/*
 * json_index.c - one AVX2 pass over a token's JSON before it is parsed,
 * marking where its quotes are and which bytes no plain string may hold,
 * so that json_reader.c finds the end of a plain string with a bit scan
 * instead of reading it (docs/decisions.md, "Token JSON reader").
 *
 * For byte i of the document, bit i % 64 of word i / 64 is set:
 *   - in quote[] when the byte is '"';
 *   - in bad[] when it is '\\', below 0x20, or above 0x7f (an escape, a
 *     raw control character, or the start of a UTF-8 sequence: the bytes
 *     the reader's slow path must see).
 * Bits past the end of the document are clear in quote[] (and may be set
 * in bad[]). Without AVX2 there is no index and the reader reads every
 * string as before.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* The two masks of 32 bytes at p: quotes, and the bytes a plain string
 * never holds ('\\', and below 0x20 or above 0x7f, which a signed compare
 * with 0x20 catches together). */
__attribute__((target("avx2"))) static void
masks32(const unsigned char *p, uint32_t *q, uint32_t *b)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'));
	__m256i bad =
	    _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')),
	        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));

	*q = (uint32_t)_mm256_movemask_epi8(quote);
	*b = (uint32_t)_mm256_movemask_epi8(bad);
}

__attribute__((target("avx2"))) static void
index_avx2(const unsigned char *p, size_t len, uint64_t *quote, uint64_t *bad)
{
	uint32_t q0, b0, q1, b1;
	size_t i = 0, w = 0;

	for (; len - i >= 64; i += 64, w++) {
		masks32(p + i, &q0, &b0);
		masks32(p + i + 32, &q1, &b1);
		quote[w] = (uint64_t)q1 << 32 | q0;
		bad[w] = (uint64_t)b1 << 32 | b0;
	}
	if (i == len)
		return;
	if (i >= 64) {
		/* The rest: the 64 bytes that end the document, shifted down
		 * so that the bytes already indexed drop out (zeros come in:
		 * no quote past the end). */
		unsigned drop = (unsigned)(64 - (len - i));
		masks32(p + len - 64, &q0, &b0);
		masks32(p + len - 32, &q1, &b1);
		quote[w] = ((uint64_t)q1 << 32 | q0) >> drop;
		bad[w] = ((uint64_t)b1 << 32 | b0) >> drop;
		return;
	}
	{
		/* A short document: a zeroed copy (zero is no quote). */
		unsigned char tail[64] = {0};
		memcpy(tail, p + i, len - i);
		masks32(tail, &q0, &b0);
		masks32(tail + 32, &q1, &b1);
		quote[w] = (uint64_t)q1 << 32 | q0;
		bad[w] = (uint64_t)b1 << 32 | b0;
	}
}

int
cg__json_index(const unsigned char *p, size_t len, uint64_t *quote,
    uint64_t *bad, size_t words)
{
	if (len == 0 || (len + 63) / 64 > words ||
	    !__builtin_cpu_supports("avx2"))
		return 0;
	index_avx2(p, len, quote, bad);
	return 1;
}

#else

int
cg__json_index(const unsigned char *p, size_t len, uint64_t *quote,
    uint64_t *bad, size_t words)
{
	(void)p;
	(void)len;
	(void)quote;
	(void)bad;
	(void)words;
	return 0;
}

#endif
