/*
 * error.c - code names and messages, generated from one table, and the
 * helpers that fill struct cg_error.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* (enum value, message). The name is derived from the enum identifier. */
#define CG_CODE_MAP(XX)                                                        \
	XX(CG_OK, "success")                                                   \
	XX(CG_ERR_ARG, "invalid argument")                                     \
	XX(CG_ERR_NOMEM, "out of memory")                                      \
	XX(CG_ERR_EMPTY, "token is absent or empty")                           \
	XX(CG_ERR_TOO_LARGE, "input exceeds a limit")                          \
	XX(CG_ERR_MALFORMED, "not a JWS compact serialization")                \
	XX(CG_ERR_BASE64, "not canonical unpadded base64url")                  \
	XX(CG_ERR_JSON, "not a strict JSON object")                            \
	XX(CG_ERR_CRIT, "critical header parameters are not supported")        \
	XX(CG_ERR_ALG, "algorithm not allowed")                                \
	XX(CG_ERR_KEY_NOT_FOUND, "no key fits the token")                      \
	XX(CG_ERR_SIGNATURE, "signature does not verify")                      \
	XX(CG_ERR_IO, "file could not be read")                                \
	XX(CG_ERR_KEYSET, "not a JWK Set")                                     \
	XX(CG_ERR_POLICY, "invalid policy")                                    \
	XX(CG_ERR_NOT_FOUND, "not found")                                      \
	XX(CG_ERR_TYPE, "value has another type")                              \
	XX(CG_ERR_CRYPTO, "crypto library failure")                            \
	XX(CG_ERR_STORE, "store cannot answer")

/* see claimgate.h */
const char *
cg_code_name(cg_code c)
{
	switch (c) {
#define XX(e, m)                                                               \
	case e:                                                                \
		return #e;
		CG_CODE_MAP(XX)
#undef XX
	}
	return "CG_ERR_UNKNOWN";
}

/* see claimgate.h */
const char *
cg_strerror(cg_code c)
{
	switch (c) {
#define XX(e, m)                                                               \
	case e:                                                                \
		return m;
		CG_CODE_MAP(XX)
#undef XX
	}
	return "unknown error";
}

/* see claimgate.h */
const char *
cg_version(void)
{
	return CG_VERSION_STRING;
}

/* Keeps a message printable ASCII whatever vsnprintf produced. */
static void
sanitise(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

cg_code
cg__err(struct cg_error *err, cg_code code, size_t offset, const char *fmt,
    ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	sanitise(err->msg);
	return code;
}

void
cg__err_prefix(struct cg_error *err, const char *fmt, ...)
{
	char pre[sizeof(err->msg)], old[sizeof(err->msg)];
	size_t n, m;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	n = strlen(pre);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, pre, n);
	memcpy(err->msg + n, ": ", 2);
	m = strlen(old);
	if (m > sizeof(err->msg) - n - 3)
		m = sizeof(err->msg) - n - 3;
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
	sanitise(err->msg);
}

void
cg__escape(char *out, size_t outsz, const char *s, size_t len, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (outsz == 0)
		return;
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			if (outsz - o < 2)
				break;
			out[o++] = (char)c;
		} else {
			if (outsz - o < 5)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < len && outsz - o >= 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
