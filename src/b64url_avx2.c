/*
 * b64url_avx2.c - the bulk of a base64url segment, 32 characters (24
 * bytes) per step with AVX2, for b64url.c on x86-64 CPUs that have it.
 *
 * Each step validates the 32 characters against the strict alphabet
 * (A-Z a-z 0-9 '-' '_'; anything else, including bytes above 0x7f, stops
 * the step) with two nibble lookups, turns them into 6-bit values with a
 * third (by high nibble; '_' corrected), and packs four values into three
 * bytes with two multiply-adds and a byte shuffle. A step that
 * meets a character outside the alphabet is left to the scalar loop,
 * which finds and reports it; the final group (and its canonical-bits
 * rule) is always the scalar loop's.
 */
#include <stddef.h>

#include "internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define B(x) _mm256_set1_epi8((char)(x))

/*
 * Validation by nibbles: a byte is in the alphabet when the class bits of
 * its high nibble and of its low nibble share none. High nibble 2 accepts
 * only low D ('-'), 3 only 0-9, 4 and 6 all but 0, 5 all but B-E ('_' is
 * F), 7 only 0-A; other high nibbles (bytes below 0x20, above 0x7f)
 * nothing. Each row's refused low nibbles have one bit:
 */
#define ROW2 0x01  /* low != D */
#define ROW3 0x02  /* low A-F */
#define ROW46 0x04 /* low 0 */
#define ROW5 0x08  /* low B-E */
#define ROW7 0x10  /* low B-F */
#define NONE 0x20  /* every low */

__attribute__((target("avx2"))) static size_t
decode_avx2(const unsigned char *in, size_t len, unsigned char *out)
{
	/* clang-format off */
	const __m256i lut_lo = _mm256_setr_epi8(
	    ROW2 | ROW46 | NONE, ROW2 | NONE, ROW2 | NONE, ROW2 | NONE,
	    ROW2 | NONE, ROW2 | NONE, ROW2 | NONE, ROW2 | NONE,
	    ROW2 | NONE, ROW2 | NONE, ROW2 | ROW3 | NONE,
	    ROW2 | ROW3 | ROW5 | ROW7 | NONE, ROW2 | ROW3 | ROW5 | ROW7 | NONE,
	    ROW3 | ROW5 | ROW7 | NONE, ROW2 | ROW3 | ROW5 | ROW7 | NONE,
	    ROW2 | ROW3 | ROW7 | NONE,
	    ROW2 | ROW46 | NONE, ROW2 | NONE, ROW2 | NONE, ROW2 | NONE,
	    ROW2 | NONE, ROW2 | NONE, ROW2 | NONE, ROW2 | NONE,
	    ROW2 | NONE, ROW2 | NONE, ROW2 | ROW3 | NONE,
	    ROW2 | ROW3 | ROW5 | ROW7 | NONE, ROW2 | ROW3 | ROW5 | ROW7 | NONE,
	    ROW3 | ROW5 | ROW7 | NONE, ROW2 | ROW3 | ROW5 | ROW7 | NONE,
	    ROW2 | ROW3 | ROW7 | NONE);
	const __m256i lut_hi = _mm256_setr_epi8(
	    NONE, NONE, ROW2, ROW3, ROW46, ROW5, ROW46, ROW7,
	    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE,
	    NONE, NONE, ROW2, ROW3, ROW46, ROW5, ROW46, ROW7,
	    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE);
	/* What a valid byte's high nibble adds to make its 6-bit value:
	 * '-' +17, '0'-'9' +4, 'A'-'Z' -65, 'a'-'z' -71; '_' (row 5)
	 * gets 33 more below. */
	const __m256i roll = _mm256_setr_epi8(
	    0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i pack = _mm256_setr_epi8(
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	/* clang-format on */
	const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	const __m256i nib = B(0x0f);
	size_t i = 0, o = 0;

	for (; len - i >= 32; i += 32, o += 24) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(in + i));
		__m256i hi = _mm256_and_si256(_mm256_srli_epi32(x, 4), nib);
		__m256i lo = _mm256_and_si256(x, nib);
		__m256i v;

		if (!_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, lo),
		        _mm256_shuffle_epi8(lut_hi, hi)))
			break;
		v = _mm256_add_epi8(x, _mm256_shuffle_epi8(roll, hi));
		v = _mm256_add_epi8(
		    v, _mm256_and_si256(_mm256_cmpeq_epi8(x, B('_')), B(33)));
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
