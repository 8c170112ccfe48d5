/*
 * b64url.c - strict base64url (RFC 4648 section 5) as JWS uses it
 * (RFC 7515 section 2 and appendix C).
 *
 * Accepted grammar: zero or more characters of A-Z a-z 0-9 '-' '_', no
 * '=' padding, no whitespace or line breaks, a length that is not 1 mod 4,
 * and zero bits in the unused low bits of the final character, so that
 * every byte string has exactly one accepted encoding. There is no
 * leniency: '+', '/', '=' and '?' are rejected like any other byte.
 */
#include <stdint.h>

#include "internal.h"

#define BAD 0xff

/* Decoding table: 6-bit value, or BAD. */
static const unsigned char dec[256] = {
#define R4(a) BAD, BAD, BAD, BAD
#define R16 R4(0), R4(0), R4(0), R4(0)
	R16, R16, /* 0x00-0x1f */
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, /* 0x20-0x27 */
	BAD, BAD, BAD, BAD, BAD, 62, BAD, BAD,	/* 0x28-0x2f: '-' */
	52, 53, 54, 55, 56, 57, 58, 59,		/* '0'-'7' */
	60, 61, BAD, BAD, BAD, BAD, BAD, BAD,	/* '8' '9' */
	BAD, 0, 1, 2, 3, 4, 5, 6,		/* '@' 'A'-'G' */
	7, 8, 9, 10, 11, 12, 13, 14,		/* 'H'-'O' */
	15, 16, 17, 18, 19, 20, 21, 22,		/* 'P'-'W' */
	23, 24, 25, BAD, BAD, BAD, BAD, 63,	/* 'X'-'Z', '_' */
	BAD, 26, 27, 28, 29, 30, 31, 32,	/* '`' 'a'-'g' */
	33, 34, 35, 36, 37, 38, 39, 40,		/* 'h'-'o' */
	41, 42, 43, 44, 45, 46, 47, 48,		/* 'p'-'w' */
	49, 50, 51, BAD, BAD, BAD, BAD, BAD,	/* 'x'-'z' */
	R16, R16, R16, R16, R16, R16, R16, R16, /* 0x80-0xff */
#undef R16
#undef R4
};

/* The same values pre-shifted to their place in a 24-bit group, with bit
 * 31 set for a byte outside the alphabet: a group of four characters is
 * four loads and three ORs, and one test per segment finds a bad byte. */
#define V6(c)                                                                  \
	((c) >= 'A' && (c) <= 'Z'      ? (c) - 'A'                             \
	    : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                        \
	    : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                        \
	    : (c) == '-'               ? 62                                    \
	    : (c) == '_'               ? 63                                    \
	                               : -1)
#define E(c, sh) (V6(c) < 0 ? 0x80000000u : (uint32_t)V6(c) << (sh))
#define E4(c, sh) E(c, sh), E((c) + 1, sh), E((c) + 2, sh), E((c) + 3, sh)
#define E16(c, sh) E4(c, sh), E4((c) + 4, sh), E4((c) + 8, sh), E4((c) + 12, sh)
#define E64(c, sh)                                                             \
	E16(c, sh), E16((c) + 16, sh), E16((c) + 32, sh), E16((c) + 48, sh)
#define E256(sh) E64(0, sh), E64(64, sh), E64(128, sh), E64(192, sh)
static const uint32_t sh18[256] = {E256(18)}, sh12[256] = {E256(12)},
                      sh6[256] = {E256(6)}, sh0[256] = {E256(0)};
#undef E256
#undef E64
#undef E16
#undef E4
#undef E
#undef V6

static const char enc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
cg__b64url_decoded_len(size_t len)
{
	if (len % 4 == 1)
		return SIZE_MAX;
	return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

cg_code
cg__b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, o = 0, full = len - len % 4;
	uint32_t v, acc = 0;

	*outlen = 0;
	*bad = CG_NO_OFFSET;
	i = cg__b64url_decode_wide(p, full, out);
	o = i / 4 * 3;
	for (; i < full; i += 4) {
		v = sh18[p[i]] | sh12[p[i + 1]] | sh6[p[i + 2]] | sh0[p[i + 3]];
		acc |= v;
		out[o] = (unsigned char)(v >> 16);
		out[o + 1] = (unsigned char)(v >> 8);
		out[o + 2] = (unsigned char)v;
		o += 3;
	}
	if (acc & 0x80000000u) { /* the first byte outside the alphabet */
		size_t k;
		for (k = 0; dec[p[k]] != BAD; k++)
			;
		*bad = k;
		return CG_ERR_BASE64;
	}
	switch (len % 4) {
	case 0:
		break;
	case 1:
		/* One character carries 6 bits: never a whole byte. */
		*bad = i;
		return CG_ERR_BASE64;
	case 2: {
		unsigned a = dec[p[i]], b = dec[p[i + 1]];
		if (a == BAD || b == BAD) {
			*bad = a == BAD ? i : i + 1;
			return CG_ERR_BASE64;
		}
		if ((b & 0x0f) != 0) { /* non-canonical: stray low bits */
			*bad = i + 1;
			return CG_ERR_BASE64;
		}
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		break;
	}
	default: {
		unsigned a = dec[p[i]], b = dec[p[i + 1]], c = dec[p[i + 2]];
		if (a == BAD || b == BAD || c == BAD) {
			*bad = a == BAD ? i : b == BAD ? i + 1 : i + 2;
			return CG_ERR_BASE64;
		}
		if ((c & 0x03) != 0) {
			*bad = i + 2;
			return CG_ERR_BASE64;
		}
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
		break;
	}
	}
	*outlen = o;
	return CG_OK;
}

size_t
cg__b64url_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = enc[v >> 18];
		out[o++] = enc[(v >> 12) & 63];
		out[o++] = enc[(v >> 6) & 63];
		out[o++] = enc[v & 63];
	}
	if (len - i == 1) {
		out[o++] = enc[in[i] >> 2];
		out[o++] = enc[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		out[o++] = enc[in[i] >> 2];
		out[o++] = enc[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = enc[(in[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return o;
}
