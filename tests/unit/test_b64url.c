/*
 * test_b64url.c - strict base64url (src/b64url.c): RFC 4648 section 5
 * without padding, as RFC 7515 section 2 and appendix C use it.
 *
 * Every byte string has exactly one accepted encoding: round trips for
 * lengths 0..64, every byte outside the alphabet rejected at its exact
 * offset, lengths of 1 mod 4 rejected, stray low bits in the final
 * character rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgtest.h"
#include "internal.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decodes `len` bytes of `in` into an exactly sized heap buffer (so ASan
 * sees any write past cg__b64url_decoded_len). Returns the code; *bad and
 * *outlen as the decoder left them. */
static cg_code
decode(const char *in, size_t len, unsigned char **out, size_t *outlen,
    size_t *bad)
{
	size_t n = cg__b64url_decoded_len(len);
	cg_code rc;

	*out = NULL;
	if (n == SIZE_MAX) {
		/* The decoder must still refuse such input on its own. */
		unsigned char scratch[64];
		assert_true(len / 4 * 3 + 3 <= sizeof(scratch));
		return cg__b64url_decode(in, len, scratch, outlen, bad);
	}
	*out = malloc(n == 0 ? 1 : n);
	assert_non_null(*out);
	rc = cg__b64url_decode(in, len, *out, outlen, bad);
	assert_true(*outlen <= n);
	return rc;
}

/* Expects `in` (NUL-terminated) to be rejected with the first offending
 * byte at `want_bad`. */
static void
expect_bad(const char *in, size_t len, size_t want_bad)
{
	unsigned char *out;
	size_t outlen = 99, bad = 0;
	cg_code rc = decode(in, len, &out, &outlen, &bad);

	if (rc != CG_ERR_BASE64 || bad != want_bad)
		fail_msg("input of %zu bytes: code %s bad %zu, want "
			 "CG_ERR_BASE64 bad %zu",
		    len, cg_code_name(rc), bad, want_bad);
	assert_int_equal(outlen, 0);
	free(out);
}

static void
expect_ok(const char *in, const void *want, size_t wantlen)
{
	unsigned char *out;
	size_t outlen = 0, bad = 0;

	assert_int_equal(decode(in, strlen(in), &out, &outlen, &bad), CG_OK);
	assert_int_equal(bad, CG_NO_OFFSET);
	assert_int_equal(outlen, wantlen);
	assert_memory_equal(out, want, wantlen);
	free(out);
}

/* RFC 4648 section 10 vectors, unpadded, and bytes that differ between
 * the two alphabets (standard "+/" versus URL "-_"). */
static void
test_known_vectors(void **state)
{
	static const struct {
		const char *plain;
		size_t len;
		const char *enc;
	} rows[] = {
		{"", 0, ""},
		{"f", 1, "Zg"},
		{"fo", 2, "Zm8"},
		{"foo", 3, "Zm9v"},
		{"foob", 4, "Zm9vYg"},
		{"fooba", 5, "Zm9vYmE"},
		{"foobar", 6, "Zm9vYmFy"},
		{"\xfb\xff", 2, "-_8"},
		{"\xfb\xef\xbe", 3, "----"},
		{"\xff\xff\xff", 3, "____"},
		{"\x00", 1, "AA"},
		{"\x00\x00\x00", 3, "AAAA"},
		{"{\"alg\":\"HS256\"}", 15, "eyJhbGciOiJIUzI1NiJ9"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char enc[32];
		size_t n = cg__b64url_encode((const unsigned char *)rows[i].plain,
		    rows[i].len, enc);
		assert_int_equal(n, strlen(rows[i].enc));
		assert_string_equal(enc, rows[i].enc);
		expect_ok(rows[i].enc, rows[i].plain, rows[i].len);
	}
}

/* A reference encoder written from RFC 4648 section 4 bit by bit, to
 * compare the table-driven one with. */
static void
ref_encode(const unsigned char *in, size_t len, char *out)
{
	size_t bits = len * 8, i, o = 0;

	for (i = 0; i < bits; i += 6) {
		unsigned v = 0, k;
		for (k = 0; k < 6; k++) {
			size_t b = i + k;
			v <<= 1;
			if (b < bits)
				v |= (in[b / 8] >> (7 - b % 8)) & 1u;
		}
		out[o++] = alphabet[v];
	}
	out[o] = '\0';
}

static void
test_roundtrip_0_to_64(void **state)
{
	unsigned char in[64] = {0};
	size_t len, i;

	(void)state;
	for (len = 0; len <= 64; len++) {
		char enc[100], ref[100];
		unsigned char *out;
		size_t n, outlen = 0, bad = 0;

		for (i = 0; i < len; i++)
			in[i] = (unsigned char)(i * 73 + len * 31 + 0xa5);
		n = cg__b64url_encode(in, len, enc);
		ref_encode(in, len, ref);
		assert_string_equal(enc, ref);
		/* Unpadded length: ceil(8 * len / 6). */
		assert_int_equal(n, (len * 8 + 5) / 6);
		assert_int_equal(strlen(enc), n);
		assert_int_not_equal(n % 4, 1);
		assert_null(strchr(enc, '='));
		assert_int_equal(cg__b64url_decoded_len(n), len);
		assert_int_equal(decode(enc, n, &out, &outlen, &bad), CG_OK);
		assert_int_equal(outlen, len);
		if (len > 0)
			assert_memory_equal(out, in, len);
		free(out);
	}
}

/* Exactly the 64 alphabet bytes decode; every other byte value is
 * rejected at its offset, in a full group and in a final partial one. */
static void
test_every_byte_value(void **state)
{
	unsigned c;

	(void)state;
	for (c = 0; c < 256; c++) {
		int in_alpha = c != 0 && strchr(alphabet, (int)c) != NULL;
		char s[8];
		unsigned char *out;
		size_t outlen, bad;
		cg_code rc;

		/* The byte first in a full group: "?UJDQUE". */
		memcpy(s, "QUJDQUE", 8);
		s[0] = (char)c;
		rc = decode(s, 7, &out, &outlen, &bad);
		if (in_alpha) {
			assert_int_equal(rc, CG_OK);
			assert_int_equal(outlen, 5);
		} else {
			if (rc != CG_ERR_BASE64 || bad != 0)
				fail_msg("byte 0x%02x accepted or misplaced", c);
		}
		free(out);
		/* Same byte in the first position of the partial group. */
		memcpy(s, "QUJDQUE", 8);
		s[4] = (char)c;
		rc = decode(s, 7, &out, &outlen, &bad);
		if (in_alpha)
			assert_int_equal(rc, CG_OK);
		else if (rc != CG_ERR_BASE64 || bad != 4)
			fail_msg("byte 0x%02x in tail accepted or misplaced", c);
		free(out);
	}
}

/* Each class of invalid byte at every position of a 7-character (full
 * group plus 3-character tail) and a 6-character (2-character tail)
 * encoding: rejected, the offset naming that byte. */
static void
test_invalid_byte_classes(void **state)
{
	/* padding, the standard alphabet's two, whitespace, '?', '.',
	 * NUL and high bytes */
	static const char cls[] = {'=', '+', '/', ' ', '\n', '\r', '\t', '?',
	    '.', '\0', (char)0x80, (char)0xff};
	static const char *const bases[] = {"QUJDQUE", "QUJDQQ", "QUJD",
	    "QUJDQUJD"};
	size_t i, b, p;

	(void)state;
	for (i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
			size_t len = strlen(bases[b]);
			for (p = 0; p < len; p++) {
				char s[16];
				memcpy(s, bases[b], len + 1);
				s[p] = cls[i];
				expect_bad(s, len, p);
			}
		}
	}
}

/* Where several bytes are wrong, the first one is reported. */
static void
test_first_offender_reported(void **state)
{
	static const struct {
		const char *in;
		size_t bad;
	} rows[] = {
		{"QQ==", 2},	     /* classic padding */
		{"QUI=", 3},	     /* one '=' */
		{"QUJD====", 4},
		{"QU=D=UJD", 2},
		{"QUJDQU=D", 6},
		{"Q+/D", 1},
		{"QUJD QUJD", 4},    /* space between groups */
		{"QUJD\nQUJ", 4},    /* line break (RFC 2045 style) */
		{"QUJDQUJD\n", 8},   /* trailing newline: length 1 mod 4 */
		{" QUJD", 0},
		{"QUJD\r\nQU", 4},
		{"====", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		expect_bad(rows[i].in, strlen(rows[i].in), rows[i].bad);
}

/* One character carries 6 bits, never a whole byte: a length of 1 mod 4
 * is rejected at the stray final character. */
static void
test_length_1_mod_4(void **state)
{
	static const char *const rows[] = {"Q", "QUJDQ", "QUJDQUJDQ", "A",
	    "AAAAA"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = strlen(rows[i]);
		assert_int_equal(cg__b64url_decoded_len(len), SIZE_MAX);
		expect_bad(rows[i], len, len - 1);
	}
	assert_int_equal(cg__b64url_decoded_len(0), 0);
	assert_int_equal(cg__b64url_decoded_len(2), 1);
	assert_int_equal(cg__b64url_decoded_len(3), 2);
	assert_int_equal(cg__b64url_decoded_len(4), 3);
	assert_int_equal(cg__b64url_decoded_len(6), 4);
}

/* RFC 7515 appendix C / RFC 4648 section 3.5: unused low bits of the
 * final character must be zero, so "QQ" is the only spelling of "A". */
static void
test_non_canonical_final_character(void **state)
{
	size_t i;

	(void)state;
	expect_ok("QQ", "A", 1);
	expect_ok("QUE", "AA", 2);
	expect_bad("QR", 2, 1);
	expect_bad("QUF", 3, 2);
	expect_bad("QUJDQR", 6, 5);
	expect_bad("QUJDQUF", 7, 6);
	expect_bad("Q_", 2, 1);
	expect_bad("QU_", 3, 2);
	/* Every alphabet character as the last of a 2- and 3-char tail:
	 * canonical exactly when its 4 (resp. 2) low bits are zero. */
	for (i = 0; i < 64; i++) {
		char two[3] = {'Q', alphabet[i], '\0'};
		char three[4] = {'Q', 'U', alphabet[i], '\0'};
		unsigned char *out;
		size_t outlen, bad;
		cg_code rc;

		rc = decode(two, 2, &out, &outlen, &bad);
		free(out);
		if ((i & 0x0f) == 0)
			assert_int_equal(rc, CG_OK);
		else if (rc != CG_ERR_BASE64 || bad != 1)
			fail_msg("\"%s\" accepted", two);
		rc = decode(three, 3, &out, &outlen, &bad);
		free(out);
		if ((i & 0x03) == 0)
			assert_int_equal(rc, CG_OK);
		else if (rc != CG_ERR_BASE64 || bad != 2)
			fail_msg("\"%s\" accepted", three);
	}
}

/* Every encoding of a random-looking 1..3-byte string decodes, and
 * re-encoding gives back the same text: one spelling per byte string. */
static void
test_decode_encode_is_identity(void **state)
{
	unsigned a, b;

	(void)state;
	for (a = 0; a < 64; a++) {
		for (b = 0; b < 64; b++) {
			char s[5] = {alphabet[a], alphabet[b], alphabet[(a + b) & 63],
			    alphabet[(a * b) & 63], '\0'};
			char back[8];
			unsigned char *out;
			size_t outlen, bad;

			assert_int_equal(decode(s, 4, &out, &outlen, &bad), CG_OK);
			assert_int_equal(outlen, 3);
			cg__b64url_encode(out, outlen, back);
			assert_string_equal(back, s);
			free(out);
		}
	}
}

/* Long segments go through the 32-character groups of the wide decoder
 * (b64url_avx2.c, when the CPU has AVX2): random bytes of every length
 * from 0 to 300 round-trip, and every byte value at every position of a
 * 130-character encoding is accepted or rejected exactly as the scalar
 * rules say, the offset naming it and the bytes decoded unchanged. */
static void
test_wide_groups(void **state)
{
	unsigned char raw[300], *out;
	char enc[512], s[512];
	size_t len, n, outlen, bad, p;
	unsigned c, seed = 12345;

	(void)state;
	for (len = 0; len <= 300; len++) {
		for (p = 0; p < len; p++) {
			seed = seed * 1103515245u + 12345u;
			raw[p] = (unsigned char)(seed >> 16);
		}
		n = cg__b64url_encode(raw, len, enc);
		assert_int_equal(decode(enc, n, &out, &outlen, &bad), CG_OK);
		assert_int_equal(outlen, len);
		assert_memory_equal(out, raw, len);
		free(out);
	}
	n = cg__b64url_encode(raw, 97, enc); /* 130 characters */
	assert_int_equal(n, 130);
	for (c = 0; c < 256; c++) {
		int in_alpha = c != 0 && strchr(alphabet, (int)c) != NULL;
		for (p = 0; p < n; p++) {
			cg_code rc;
			memcpy(s, enc, n + 1);
			s[p] = (char)c;
			rc = decode(s, n, &out, &outlen, &bad);
			if (!in_alpha) {
				if (rc != CG_ERR_BASE64 || bad != p)
					fail_msg(
					    "byte 0x%02x at %zu: %s bad %zu", c,
					    p, cg_code_name(rc), bad);
			} else if (p == n - 1 && rc != CG_OK) {
				/* The final character's low bits must be
				 * zero: only some alphabet bytes fit. */
				assert_int_equal(rc, CG_ERR_BASE64);
				assert_int_equal(bad, p);
			} else {
				unsigned char *again;
				size_t alen, abad;
				assert_int_equal(rc, CG_OK);
				/* Same bytes as the plain group decoder
				 * gives for the same characters: decode the
				 * 4-character group alone. */
				assert_int_equal(
				    decode(s + p / 4 * 4,
				        p / 4 * 4 + 4 <= n ? 4 : n % 4, &again,
				        &alen, &abad),
				    CG_OK);
				assert_memory_equal(
				    out + p / 4 * 3, again, alen);
				free(again);
			}
			free(out);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_vectors),
	    cmocka_unit_test(test_roundtrip_0_to_64),
	    cmocka_unit_test(test_every_byte_value),
	    cmocka_unit_test(test_invalid_byte_classes),
	    cmocka_unit_test(test_first_offender_reported),
	    cmocka_unit_test(test_length_1_mod_4),
	    cmocka_unit_test(test_non_canonical_final_character),
	    cmocka_unit_test(test_decode_encode_is_identity),
	    cmocka_unit_test(test_wide_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
