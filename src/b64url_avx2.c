/*
 * b64url_avx2.c - the bulk of a base64url segment, 32 characters (24
 * bytes) per step with AVX2, for b64url.c on x86-64 CPUs that have it.
 *
 * Each step validates the 32 characters against the strict alphabet
 * (A-Z a-z 0-9 '-' '_'; anything else, including bytes above 0x7f, stops
 * the step), turns them into 6-bit values by range, and packs four values
 * into three bytes with two multiply-adds and a byte shuffle. A step that
 * meets a character outside the alphabet is left to the scalar loop,
 * which finds and reports it; the final group (and its canonical-bits
 * rule) is always the scalar loop's.
 */
#include <stddef.h>

#include "internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define B(x) _mm256_set1_epi8((char)(x))

__attribute__((target("avx2"))) static size_t
decode_avx2(const unsigned char *in, size_t len, unsigned char *out)
{
	const __m256i pack =
	    _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1,
	        -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	size_t i = 0, o = 0;

	for (; len - i >= 32; i += 32, o += 24) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(in + i));
		/* Signed compares: bytes above 0x7f fall in no range. */
		__m256i up = _mm256_and_si256(_mm256_cmpgt_epi8(x, B(0x40)),
		    _mm256_cmpgt_epi8(B(0x5b), x));
		__m256i lo = _mm256_and_si256(_mm256_cmpgt_epi8(x, B(0x60)),
		    _mm256_cmpgt_epi8(B(0x7b), x));
		__m256i dg = _mm256_and_si256(_mm256_cmpgt_epi8(x, B(0x2f)),
		    _mm256_cmpgt_epi8(B(0x3a), x));
		__m256i da = _mm256_cmpeq_epi8(x, B('-'));
		__m256i us = _mm256_cmpeq_epi8(x, B('_'));
		__m256i ok = _mm256_or_si256(_mm256_or_si256(up, lo),
		    _mm256_or_si256(dg, _mm256_or_si256(da, us)));
		__m256i off, v;

		if ((unsigned)_mm256_movemask_epi8(ok) != 0xffffffffu)
			break;
		/* 'A'-'Z' -> 0-25, 'a'-'z' -> 26-51, '0'-'9' -> 52-61,
		 * '-' -> 62, '_' -> 63. */
		off = _mm256_or_si256(
		    _mm256_or_si256(_mm256_and_si256(up, B(-65)),
		        _mm256_and_si256(lo, B(-71))),
		    _mm256_or_si256(_mm256_and_si256(dg, B(4)),
		        _mm256_or_si256(_mm256_and_si256(da, B(17)),
		            _mm256_and_si256(us, B(-32)))));
		v = _mm256_add_epi8(x, off);
		/* a,b,c,d -> (a<<6|b, c<<6|d) -> a<<18|b<<12|c<<6|d per 32
		 * bits, then its three bytes big-endian, 12 per 128-bit lane,
		 * and the two lanes' 12 bytes made adjacent. */
		v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
		v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
		v = _mm256_shuffle_epi8(v, pack);
		v = _mm256_permutevar8x32_epi32(v, lanes);
		_mm_storeu_si128(
		    (__m128i *)(void *)(out + o), _mm256_castsi256_si128(v));
		_mm_storel_epi64((__m128i *)(void *)(out + o + 16),
		    _mm256_extracti128_si256(v, 1));
	}
	return i;
}

size_t
cg__b64url_decode_wide(const unsigned char *in, size_t len, unsigned char *out)
{
	if (len < 32 || !__builtin_cpu_supports("avx2"))
		return 0;
	return decode_avx2(in, len, out);
}

#else

size_t
cg__b64url_decode_wide(const unsigned char *in, size_t len, unsigned char *out)
{
	(void)in;
	(void)len;
	(void)out;
	return 0;
}

#endif
