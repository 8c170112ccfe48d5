/*
 * jwk.c - JWK Set loading (RFC 7517), key usability rules (RFC 7518
 * section 6, RFC 8037, RFC 8725), thumbprints (RFC 7638) and the
 * key-set accessors.
 *
 * A key set is trusted configuration, but it may come from a remote
 * server: every member is type-checked, every length bounded, and a key
 * that cannot be used safely is skipped with a warning instead of failing
 * the whole set, so one odd key never takes an issuer down.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "key.h"

struct cg_keyset {
	struct cg_key *keys;
	size_t nkeys;
	char **warnings;
	size_t nwarnings;
};

/* Largest decoded member: an RSA modulus of the maximum size. */
#define MEMBER_MAX (CG_LIMIT_RSA_MAX_BITS / 8 + 1)

static cg_code
add_warning(struct cg_keyset *ks, const char *kid, size_t idx,
    const char *why)
{
	char ekid[CG_LIMIT_KID_SHOWN * 4 + 8], line[320];
	char **w;

	if (idx == SIZE_MAX) {
		snprintf(line, sizeof(line), "%s", why);
	} else if (kid != NULL) {
		cg__escape(ekid, sizeof(ekid), kid, strlen(kid),
		    CG_LIMIT_KID_SHOWN);
		snprintf(line, sizeof(line), "key %zu (kid \"%s\"): %s", idx,
		    ekid, why);
	} else {
		snprintf(line, sizeof(line), "key %zu (no kid): %s", idx, why);
	}
	w = cg__realloc(ks->warnings, (ks->nwarnings + 1) * sizeof(*w));
	if (w == NULL)
		return CG_ERR_NOMEM;
	ks->warnings = w;
	if ((w[ks->nwarnings] = cg__strdup(line)) == NULL)
		return CG_ERR_NOMEM;
	ks->nwarnings++;
	return CG_OK;
}

static void
key_clear(struct cg_key *k)
{
	free(k->kid);
	cg__pk_free(k->pk);
	memset(k, 0, sizeof(*k));
}

/* see claimgate.h */
void
cg_keyset_free(struct cg_keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nkeys; i++)
		key_clear(&ks->keys[i]);
	free(ks->keys);
	for (i = 0; i < ks->nwarnings; i++)
		free(ks->warnings[i]);
	free(ks->warnings);
	free(ks);
}

/*
 * Decodes the base64url string member `name` of `jwk` into `buf`.
 * Returns 1 on success, 0 when absent or unusable (reason in `why`).
 */
static int
member_bytes(const struct cg_json *jwk, const char *name, unsigned char *buf,
    size_t bufsz, size_t *outlen, char *why, size_t whysz)
{
	const struct cg_json *v = cg_json_object_get(jwk, name);
	const char *s;
	size_t len, bad;

	if (cg_json_string(v, &s, &len) != CG_OK) {
		snprintf(why, whysz, "member \"%s\" %s", name,
		    v == NULL ? "missing" : "is not a string");
		return 0;
	}
	if (cg__b64url_decoded_len(len) > bufsz) {
		snprintf(why, whysz, "member \"%s\" too long", name);
		return 0;
	}
	if (cg__b64url_decode(s, len, buf, outlen, &bad) != CG_OK) {
		snprintf(why, whysz, "member \"%s\" is not base64url", name);
		return 0;
	}
	if (*outlen == 0) {
		snprintf(why, whysz, "member \"%s\" is empty", name);
		return 0;
	}
	return 1;
}

/* Appends `"name":"value"` (value a JSON string without escapes needed:
 * base64url or a registered name) to the thumbprint input. */
static int
tp_member(char *buf, size_t bufsz, size_t *o, const char *name,
    const char *value, int last)
{
	int n = snprintf(buf + *o, bufsz - *o, "\"%s\":\"%s\"%s", name, value,
	    last ? "}" : ",");

	if (n < 0 || (size_t)n >= bufsz - *o)
		return -1;
	*o += (size_t)n;
	return 0;
}

/* RFC 7638 section 3: the required members only, in lexicographic order,
 * no whitespace, SHA-256, base64url. Returns 0, -1 (a member is missing
 * or too long), or -2 (out of memory). */
static int
thumbprint(const struct cg_json *jwk, cg_kty kty, char out[44])
{
	static const char *const rsa[] = {"e", "kty", "n", NULL};
	static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
	static const char *const okp[] = {"crv", "kty", "x", NULL};
	static const char *const oct[] = {"k", "kty", NULL};
	const char *const *names = kty == CG_KTY_RSA ? rsa
	    : kty == CG_KTY_EC			    ? ec
	    : kty == CG_KTY_OKP			    ? okp
						    : oct;
	size_t o = 1, bufsz = 2 * MEMBER_MAX + 128, i;
	unsigned char digest[32];
	char *buf;
	int rc = -1;

	if ((buf = cg__malloc(bufsz)) == NULL)
		return -2;
	buf[0] = '{';
	for (i = 0; names[i] != NULL; i++) {
		const char *v;
		if (cg_json_string(cg_json_object_get(jwk, names[i]), &v,
			NULL) != CG_OK ||
		    tp_member(buf, bufsz, &o, names[i], v,
			names[i + 1] == NULL) != 0)
			goto out;
	}
	if (cg__sha256(buf, o, digest) != 0)
		goto out;
	cg__b64url_encode(digest, sizeof(digest), out);
	rc = 0;
out:
	cg__free_secret(buf, bufsz); /* oct thumbprint input holds k */
	return rc;
}

/* Is `name` listed in the string array `arr`? */
static int
array_has(const struct cg_json *arr, const char *name)
{
	size_t i;

	for (i = 0; i < cg_json_array_size(arr); i++) {
		const char *s;
		if (cg_json_string(cg_json_array_get(arr, i), &s, NULL) ==
			CG_OK &&
		    strcmp(s, name) == 0)
			return 1;
	}
	return 0;
}

static const char *
static_crv(const char *crv)
{
	static const char *const names[] = {"P-256", "P-384", "P-521",
	    "Ed25519"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(crv, names[i]) == 0)
			return names[i];
	return NULL;
}

/*
 * Builds one key from one JWK. Returns CG_OK with k filled, CG_ERR_KEYSET
 * when the key is unusable (reason in `why`), or CG_ERR_NOMEM.
 */
static cg_code
load_key(const struct cg_json *jwk, struct cg_key *k, unsigned char *b1,
    unsigned char *b2, char *why, size_t whysz)
{
	const struct cg_json *v;
	const char *kty, *s;
	size_t l1 = 0, l2 = 0;
	cg_code rc;

	memset(k, 0, sizeof(*k));
	if (cg_json_typeof(jwk) != CG_JSON_OBJECT) {
		snprintf(why, whysz, "not a JSON object");
		return CG_ERR_KEYSET;
	}
	v = cg_json_object_get(jwk, "kid");
	if (v != NULL) {
		size_t len;
		if (cg_json_string(v, &s, &len) != CG_OK) {
			snprintf(why, whysz, "\"kid\" is not a string");
			return CG_ERR_KEYSET;
		}
		if ((k->kid = cg__strndup(s, len)) == NULL)
			return CG_ERR_NOMEM;
	}
	if (cg_json_string(cg_json_object_get(jwk, "kty"), &kty, NULL) !=
	    CG_OK) {
		snprintf(why, whysz, "\"kty\" missing or not a string");
		return CG_ERR_KEYSET;
	}
	/* RFC 7517 4.2 / 4.3: a key meant for something else is not ours. */
	v = cg_json_object_get(jwk, "use");
	if (v != NULL && (cg_json_string(v, &s, NULL) != CG_OK ||
			     strcmp(s, "sig") != 0)) {
		snprintf(why, whysz, "\"use\" is not \"sig\"");
		return CG_ERR_KEYSET;
	}
	v = cg_json_object_get(jwk, "key_ops");
	if (v != NULL && (cg_json_typeof(v) != CG_JSON_ARRAY ||
			     !array_has(v, "verify"))) {
		snprintf(why, whysz, "\"key_ops\" does not allow \"verify\"");
		return CG_ERR_KEYSET;
	}
	v = cg_json_object_get(jwk, "alg");
	if (v != NULL) {
		size_t len;
		if (cg_json_string(v, &s, &len) != CG_OK) {
			snprintf(why, whysz, "\"alg\" is not a string");
			return CG_ERR_KEYSET;
		}
		k->alg = cg_alg_from_name(s, len);
		if (k->alg == CG_ALG_UNKNOWN) {
			snprintf(why, whysz, "unsupported \"alg\"");
			return CG_ERR_KEYSET;
		}
	}

	if (strcmp(kty, "RSA") == 0) {
		k->kty = CG_KTY_RSA;
		if (!member_bytes(jwk, "n", b1, MEMBER_MAX, &l1, why, whysz) ||
		    !member_bytes(jwk, "e", b2, MEMBER_MAX, &l2, why, whysz))
			return CG_ERR_KEYSET;
		/* RFC 7518 6.3.1: minimal big-endian encodings. A zero byte
		 * in front would give the same key another thumbprint, and
		 * revocation by jkt or lint's shared-key check could miss it. */
		if ((l1 > 1 && b1[0] == 0) || (l2 > 1 && b2[0] == 0)) {
			snprintf(why, whysz, "RSA \"n\" or \"e\" has leading "
					     "zero bytes");
			return CG_ERR_KEYSET;
		}
		rc = cg__pk_rsa(b1, l1, b2, l2, &k->pk, &k->bits, why, whysz);
		if (rc != CG_OK)
			return rc;
		k->fits = CG_ALG_BIT(CG_ALG_RS256) | CG_ALG_BIT(CG_ALG_RS384) |
		    CG_ALG_BIT(CG_ALG_RS512) | CG_ALG_BIT(CG_ALG_PS256) |
		    CG_ALG_BIT(CG_ALG_PS384) | CG_ALG_BIT(CG_ALG_PS512);
	} else if (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0) {
		const char *crv;
		k->kty = kty[0] == 'E' ? CG_KTY_EC : CG_KTY_OKP;
		if (cg_json_string(cg_json_object_get(jwk, "crv"), &crv,
			NULL) != CG_OK) {
			snprintf(why, whysz, "\"crv\" missing or not a string");
			return CG_ERR_KEYSET;
		}
		k->crv = static_crv(crv);
		if (k->crv == NULL ||
		    (k->kty == CG_KTY_OKP) != (strcmp(k->crv, "Ed25519") == 0)) {
			snprintf(why, whysz, "unsupported curve for kty %s",
			    kty);
			return CG_ERR_KEYSET;
		}
		if (k->kty == CG_KTY_OKP) {
			if (!member_bytes(jwk, "x", b1, MEMBER_MAX, &l1, why,
				whysz))
				return CG_ERR_KEYSET;
			rc = cg__pk_ed25519(b1, l1, &k->pk, why, whysz);
			if (rc != CG_OK)
				return rc;
			k->bits = 256;
			k->fits = CG_ALG_BIT(CG_ALG_EDDSA);
		} else {
			cg_alg a = strcmp(k->crv, "P-256") == 0 ? CG_ALG_ES256
			    : strcmp(k->crv, "P-384") == 0	  ? CG_ALG_ES384
								  : CG_ALG_ES512;
			size_t n = cg__alg_desc(a)->coord_len;
			if (!member_bytes(jwk, "x", b1, MEMBER_MAX, &l1, why,
				whysz) ||
			    !member_bytes(jwk, "y", b2, MEMBER_MAX, &l2, why,
				whysz))
				return CG_ERR_KEYSET;
			/* RFC 7518 6.2.1.2: full-length coordinates only. */
			if (l1 != n || l2 != n) {
				snprintf(why, whysz,
				    "EC coordinates are not %zu bytes", n);
				return CG_ERR_KEYSET;
			}
			rc = cg__pk_ec(k->crv, b1, b2, n, &k->pk, why, whysz);
			if (rc != CG_OK)
				return rc;
			k->bits = a == CG_ALG_ES512 ? 521 : (unsigned)n * 8;
			k->fits = CG_ALG_BIT(a);
		}
	} else if (strcmp(kty, "oct") == 0) {
		k->kty = CG_KTY_OCT;
		if (!member_bytes(jwk, "k", b1, CG_LIMIT_OCT_MAX_BYTES, &l1,
			why, whysz))
			return CG_ERR_KEYSET;
		k->bits = (unsigned)l1 * 8;
		/* RFC 7518 3.2: a key at least as long as the hash output. */
		if (l1 >= 32)
			k->fits |= CG_ALG_BIT(CG_ALG_HS256);
		if (l1 >= 48)
			k->fits |= CG_ALG_BIT(CG_ALG_HS384);
		if (l1 >= 64)
			k->fits |= CG_ALG_BIT(CG_ALG_HS512);
		if (k->fits == 0 ||
		    (k->alg != CG_ALG_UNKNOWN &&
			(k->fits & CG_ALG_BIT(k->alg)) == 0 &&
			cg__alg_desc(k->alg)->family == CG_FAMILY_HMAC)) {
			snprintf(why, whysz,
			    "HMAC key of %zu bytes is shorter than its hash",
			    l1);
			return CG_ERR_KEYSET;
		}
		rc = cg__pk_oct(b1, l1, &k->pk);
		if (rc != CG_OK)
			return rc;
	} else {
		snprintf(why, whysz, "unsupported kty");
		return CG_ERR_KEYSET;
	}
	if (k->alg != CG_ALG_UNKNOWN) {
		if ((k->fits & CG_ALG_BIT(k->alg)) == 0) {
			snprintf(why, whysz, "\"alg\" %s does not fit a %s key",
			    cg_alg_name(k->alg), kty);
			return CG_ERR_KEYSET;
		}
		k->fits = CG_ALG_BIT(k->alg);
	}
	switch (thumbprint(jwk, k->kty, k->jkt)) {
	case 0:
		break;
	case -2:
		return CG_ERR_NOMEM;
	default:
		snprintf(why, whysz, "thumbprint could not be computed");
		return CG_ERR_KEYSET;
	}
	return cg__pk_prepare(k->pk, k->fits);
}

static int
has_private_members(const struct cg_json *jwk)
{
	static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi",
	    "oth"};
	size_t i;

	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (cg_json_object_get(jwk, priv[i]) != NULL)
			return 1;
	return 0;
}

/* see claimgate.h */
cg_code
cg_keyset_load_jwks(const char *json, size_t len, struct cg_keyset **out,
    struct cg_error *err)
{
	unsigned char *b1 = NULL, *b2 = NULL;
	struct cg_json *doc = NULL;
	const struct cg_json *keys;
	struct cg_keyset *ks = NULL;
	char why[160];
	size_t bad, i, n;
	cg_code rc;

	if (out == NULL || (json == NULL && len > 0))
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET, "NULL argument");
	*out = NULL;
	if (len > CG_LIMIT_JWKS_BYTES)
		return cg__err(err, CG_ERR_KEYSET, CG_NO_OFFSET,
		    "JWK Set larger than %u bytes", CG_LIMIT_JWKS_BYTES);
	why[0] = '\0';
	rc = cg__json_parse_object(json, len, CG_LIMIT_JSON_DEPTH, &doc, &bad,
	    why, sizeof(why));
	if (rc == CG_ERR_NOMEM)
		return cg__err(err, rc, CG_NO_OFFSET, "out of memory");
	if (rc != CG_OK)
		return cg__err(err, CG_ERR_KEYSET, bad,
		    "not a JWK Set: %s at byte %zu", why, bad);
	keys = cg_json_object_get(doc, "keys");
	if (cg_json_typeof(keys) != CG_JSON_ARRAY) {
		rc = cg__err(err, CG_ERR_KEYSET, CG_NO_OFFSET,
		    "not a JWK Set: no \"keys\" array");
		goto out;
	}
	n = cg_json_array_size(keys);
	rc = CG_ERR_NOMEM;
	ks = cg__calloc(1, sizeof(*ks));
	b1 = cg__malloc(MEMBER_MAX);
	b2 = cg__malloc(MEMBER_MAX);
	if (ks == NULL || b1 == NULL || b2 == NULL ||
	    (n > 0 && (ks->keys = cg__calloc(n > CG_LIMIT_KEYS_PER_SET
			       ? CG_LIMIT_KEYS_PER_SET : n,
			   sizeof(struct cg_key))) == NULL))
		goto nomem;
	for (i = 0; i < n; i++) {
		const struct cg_json *jwk = cg_json_array_get(keys, i);
		struct cg_key *k = &ks->keys[ks->nkeys];
		if (ks->nkeys == CG_LIMIT_KEYS_PER_SET) {
			if (add_warning(ks, NULL, i, "skipped: too many keys") !=
			    CG_OK)
				goto nomem;
			break;
		}
		rc = load_key(jwk, k, b1, b2, why, sizeof(why));
		if (rc == CG_ERR_NOMEM) {
			key_clear(k);
			goto nomem;
		}
		if (rc != CG_OK) {
			char line[200];
			snprintf(line, sizeof(line), "skipped: %s",
			    rc == CG_ERR_CRYPTO ? "crypto library failure" : why);
			rc = add_warning(ks, k->kid, i, line);
			key_clear(k);
			if (rc != CG_OK)
				goto nomem;
			continue;
		}
		if (has_private_members(jwk) &&
		    add_warning(ks, k->kid, i,
			"contains private key members (ignored; publish only "
			"public keys)") != CG_OK) {
			key_clear(k);
			goto nomem;
		}
		ks->nkeys++;
	}
	if (ks->nkeys == 0 && add_warning(ks, NULL, SIZE_MAX,
		"no usable key in the set") != CG_OK)
		goto nomem;
	*out = ks;
	ks = NULL;
	rc = CG_OK;
	goto out;
nomem:
	rc = cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
out:
	cg_keyset_free(ks);
	/* b1 may hold an HMAC secret. */
	cg__free_secret(b1, b1 != NULL ? MEMBER_MAX : 0);
	cg__free_secret(b2, b2 != NULL ? MEMBER_MAX : 0);
	cg__json_free(doc);
	return rc;
}

/* see claimgate.h */
cg_code
cg_keyset_load_file(const char *path, struct cg_keyset **out,
    struct cg_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	cg_code rc;

	if (path == NULL || out == NULL)
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET, "NULL argument");
	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		char ebuf[128];
		if (strerror_r(errno, ebuf, sizeof(ebuf)) != 0)
			snprintf(ebuf, sizeof(ebuf), "error %d", errno);
		return cg__err(err, CG_ERR_IO, CG_NO_OFFSET, "%s: %s", path,
		    ebuf);
	}
	if ((buf = cg__malloc(CG_LIMIT_JWKS_BYTES + 1)) == NULL) {
		fclose(f);
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	}
	len = fread(buf, 1, CG_LIMIT_JWKS_BYTES + 1, f);
	if (ferror(f)) {
		char ebuf[128];
		if (strerror_r(errno, ebuf, sizeof(ebuf)) != 0)
			snprintf(ebuf, sizeof(ebuf), "read error");
		rc = cg__err(err, CG_ERR_IO, CG_NO_OFFSET, "%s: %s", path,
		    ebuf);
	} else if (len > CG_LIMIT_JWKS_BYTES) {
		rc = cg__err(err, CG_ERR_KEYSET, CG_NO_OFFSET,
		    "%s: larger than %u bytes", path, CG_LIMIT_JWKS_BYTES);
	} else {
		rc = cg_keyset_load_jwks(buf, len, out, err);
		if (rc != CG_OK)
			cg__err_prefix(err, "%s", path);
	}
	fclose(f);
	cg__free_secret(buf, CG_LIMIT_JWKS_BYTES + 1);
	return rc;
}

/* see claimgate.h */
size_t
cg_keyset_count(const struct cg_keyset *ks)
{
	return ks == NULL ? 0 : ks->nkeys;
}

/* see claimgate.h */
size_t
cg_keyset_warning_count(const struct cg_keyset *ks)
{
	return ks == NULL ? 0 : ks->nwarnings;
}

/* see claimgate.h */
const char *
cg_keyset_warning(const struct cg_keyset *ks, size_t i)
{
	if (ks == NULL || i >= ks->nwarnings)
		return NULL;
	return ks->warnings[i];
}

static const char *
kty_name(cg_kty t)
{
	switch (t) {
	case CG_KTY_RSA:
		return "RSA";
	case CG_KTY_EC:
		return "EC";
	case CG_KTY_OKP:
		return "OKP";
	case CG_KTY_OCT:
		return "oct";
	}
	return "?";
}

/* see claimgate.h */
cg_code
cg_keyset_key_info(const struct cg_keyset *ks, size_t i,
    struct cg_key_info *info)
{
	const struct cg_key *k;

	if (ks == NULL || info == NULL || i >= ks->nkeys)
		return CG_ERR_ARG;
	k = &ks->keys[i];
	info->kid = k->kid;
	info->kty = k->kty;
	info->kty_name = kty_name(k->kty);
	info->crv = k->crv;
	info->alg = k->alg;
	info->bits = k->bits;
	info->jkt = k->jkt;
	info->fits = k->fits;
	return CG_OK;
}

const struct cg_key *
cg__keyset_key(const struct cg_keyset *ks, size_t i)
{
	return ks == NULL || i >= ks->nkeys ? NULL : &ks->keys[i];
}

const char *
cg__key_kid(const struct cg_key *k)
{
	return k->kid;
}

cg_alg_set
cg__key_fits(const struct cg_key *k)
{
	return k->fits;
}

cg_code
cg__key_verify(const struct cg_key *k, cg_alg alg, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	return cg__pk_verify(k->pk, alg, msg, msglen, sig, siglen);
}
