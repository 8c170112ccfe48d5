/*
 * vcache.c - the verified-token cache: "these exact bytes parsed into this
 * token and verified with the key of thumbprint K". Nothing else is
 * remembered. On a hit the engine skips parsing and the signature, and
 * still runs every other step against the current policy, key set, clock
 * and store; the key must still be in the issuer's current key set (a
 * rotated-out key stops passing at once). A deny is never cached.
 *
 * Entries hold a reference to the parsed token (tokens never change after
 * parsing, so threads share them). They are found by a keyed hash of the
 * token's last bytes (SipHash-2-4 from libsodium, with a random key per
 * cache, so nobody can aim tokens at one set; see hash_of) and confirmed
 * by comparing every byte. Sharded (64 shards, one mutex each) so worker
 * threads rarely meet; each shard is 4-way set-associative (a lookup checks 4
 * entries), bounded by entries and by the bytes of the tokens it holds; a full
 * set replaces its entries in turn.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define SHARDS 64u
#define WAYS 4u

struct ventry {
	uint64_t hash;
	struct cg_token *tok; /* a reference, or NULL */
	size_t bytes;         /* cg__token_footprint(tok) */
	char jkt[44];
};

struct shard {
	pthread_mutex_t lock;
	struct ventry *ring; /* nsets * WAYS entries */
	unsigned char *turn; /* next way to replace, per set */
	size_t cap, nsets, bytes;
	uint64_t hits, misses;
};

struct cg_vcache {
	struct shard shards[SHARDS];
	size_t per_shard, max_bytes_per_shard;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

/* see claimgate.h */
cg_code
cg_vcache_new(size_t max_entries, size_t max_bytes, struct cg_vcache **out)
{
	struct cg_vcache *c;
	size_t i;

	if (out == NULL)
		return CG_ERR_ARG;
	*out = NULL;
	if (sodium_init() < 0)
		return CG_ERR_CRYPTO;
	if (max_entries < SHARDS * WAYS)
		max_entries = SHARDS * WAYS;
	if ((c = cg__calloc(1, sizeof(*c))) == NULL)
		return CG_ERR_NOMEM;
	crypto_shorthash_keygen(c->key);
	c->per_shard = max_entries / SHARDS;
	c->max_bytes_per_shard = max_bytes / SHARDS;
	for (i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shards[i];
		s->nsets = c->per_shard / WAYS;
		s->cap = s->nsets * WAYS;
		s->ring = cg__calloc(s->cap, sizeof(*s->ring));
		s->turn = cg__calloc(s->nsets, 1);
		if (s->ring == NULL || s->turn == NULL ||
		    pthread_mutex_init(&s->lock, NULL) != 0) {
			free(s->ring);
			free(s->turn);
			s->ring = NULL;
			cg_vcache_free(c);
			return CG_ERR_NOMEM;
		}
	}
	*out = c;
	return CG_OK;
}

/* see claimgate.h */
void
cg_vcache_free(struct cg_vcache *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shards[i];
		if (s->ring == NULL)
			continue;
		for (j = 0; j < s->cap; j++)
			cg_token_free(s->ring[j].tok);
		free(s->ring);
		free(s->turn);
		pthread_mutex_destroy(&s->lock);
	}
	sodium_memzero(c->key, sizeof(c->key));
	free(c);
}

/*
 * Only the last 32 bytes are hashed: the end of the signature (192 bits
 * of it), which for every token the cache holds (only verified ones are
 * put in) is as unpredictable as the signature itself; the full compare
 * decides. Tokens that share those bytes can only be made by the key's
 * holder.
 */
#define HASHED_TAIL 32

static uint64_t
hash_of(const struct cg_vcache *c, const char *raw, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	size_t from = len > HASHED_TAIL ? len - HASHED_TAIL : 0;
	uint64_t v;

	crypto_shorthash(
	    h, (const unsigned char *)raw + from, len - from, c->key);
	memcpy(&v, h, sizeof(v));
	return v;
}

static int
same_bytes(const struct ventry *e, uint64_t h, const char *raw, size_t len)
{
	const char *er;
	size_t elen;

	if (e->tok == NULL || e->hash != h)
		return 0;
	er = cg__token_bytes(e->tok, &elen);
	return elen == len && memcmp(er, raw, len) == 0;
}

struct cg_token *
cg__vcache_get(struct cg_vcache *c, const char *raw, size_t len, char jkt[44])
{
	struct cg_token *t = NULL;
	struct shard *s;
	size_t i, set;
	uint64_t h;

	if (c == NULL)
		return NULL;
	h = hash_of(c, raw, len);
	s = &c->shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	set = (h / SHARDS) % s->nsets;
	for (i = 0; i < WAYS; i++) {
		const struct ventry *e = &s->ring[set * WAYS + i];
		if (same_bytes(e, h, raw, len)) {
			t = cg__token_ref(e->tok);
			memcpy(jkt, e->jkt, 44);
			break;
		}
	}
	if (t != NULL)
		s->hits++;
	else
		s->misses++;
	pthread_mutex_unlock(&s->lock);
	return t;
}

void
cg__vcache_put(struct cg_vcache *c, const struct cg_token *t, const char *jkt)
{
	struct cg_token *old = NULL;
	struct ventry *e = NULL;
	struct shard *s;
	const char *raw;
	size_t len, bytes, set, i;
	uint64_t h;

	/* Shared tokens never compute their hash lazily: it is taken now,
	 * before other threads can see the token. */
	if (c == NULL || t == NULL || cg_token_sha256_hex(t) == NULL)
		return;
	raw = cg__token_bytes(t, &len);
	bytes = cg__token_footprint(t);
	if (bytes > c->max_bytes_per_shard)
		return;
	h = hash_of(c, raw, len);
	s = &c->shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	set = (h / SHARDS) % s->nsets;
	/* The same bytes again (verified anew with another key of the set):
	 * the entry is updated, never duplicated. */
	for (i = 0; i < WAYS && e == NULL; i++)
		if (same_bytes(&s->ring[set * WAYS + i], h, raw, len))
			e = &s->ring[set * WAYS + i];
	if (e != NULL) {
		memcpy(e->jkt, jkt, 44);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	i = s->turn[set];
	s->turn[set] = (unsigned char)((i + 1) % WAYS);
	e = &s->ring[set * WAYS + i];
	if (e->tok != NULL) {
		s->bytes -= e->bytes;
		old = e->tok;
		e->tok = NULL;
	}
	if (s->bytes + bytes <= c->max_bytes_per_shard) {
		e->hash = h;
		e->tok = cg__token_ref(t);
		e->bytes = bytes;
		memcpy(e->jkt, jkt, 44);
		s->bytes += bytes;
	}
	pthread_mutex_unlock(&s->lock);
	cg_token_free(old); /* the last holder frees it, outside the lock */
}

/* see claimgate.h */
void
cg_vcache_stats(struct cg_vcache *c, uint64_t *hits, uint64_t *misses)
{
	size_t i;

	*hits = *misses = 0;
	if (c == NULL)
		return;
	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		*hits += c->shards[i].hits;
		*misses += c->shards[i].misses;
		pthread_mutex_unlock(&c->shards[i].lock);
	}
}
