/*
 * vcache.c - the verified-token cache: "these exact bytes verified with
 * the key of thumbprint K of issuer I". Nothing else is remembered. On a
 * hit the engine still runs every step after the signature against the
 * current policy, key set, clock and store, and the key must still be in
 * the issuer's current key set (a rotated-out key stops passing at once).
 * A deny is never cached.
 *
 * Sharded (64 shards, one mutex each) so worker threads rarely meet; each
 * shard is 4-way set-associative (a lookup checks 4 entries), bounded by
 * entries and bytes; a full set replaces its entries in turn.
 */
#include <pthread.h>
#include <string.h>

#include "internal.h"

#define SHARDS 64u
#define WAYS 4u

struct ventry {
	uint64_t hash;		/* from the token's SHA-256 */
	char *tok;		/* the exact bytes, compared in full */
	size_t len;
	char iss[256];		/* issuer's exact iss, truncated -> no entry */
	size_t iss_len;
	char jkt[44];
};

struct shard {
	pthread_mutex_t lock;
	struct ventry *ring;	/* nsets * WAYS entries */
	unsigned char *turn;	/* next way to replace, per set */
	size_t cap, nsets, bytes;
	uint64_t hits, misses;
};

struct cg_vcache {
	struct shard shards[SHARDS];
	size_t per_shard, max_bytes_per_shard;
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
	if (max_entries < SHARDS * WAYS)
		max_entries = SHARDS * WAYS;
	if ((c = cg__calloc(1, sizeof(*c))) == NULL)
		return CG_ERR_NOMEM;
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
			free(s->ring[j].tok);
		free(s->ring);
		free(s->turn);
		pthread_mutex_destroy(&s->lock);
	}
	free(c);
}

static uint64_t
hash_of(const char *sha_hex)
{
	uint64_t h = 0;
	int i;

	/* The token's SHA-256 (hex) is already computed by the parser. */
	for (i = 0; i < 16; i++) {
		char ch = sha_hex[i];
		h = h << 4 |
		    (uint64_t)(ch >= 'a' ? ch - 'a' + 10 : ch - '0');
	}
	return h;
}

int
cg__vcache_lookup(struct cg_vcache *c, const struct cg_token *t,
    const char *iss, size_t iss_len, char jkt[44])
{
	const char *raw;
	size_t len, i;
	uint64_t h;
	struct shard *s;
	int hit = 0;

	if (c == NULL)
		return 0;
	raw = cg__token_bytes(t, &len);
	h = hash_of(cg_token_sha256_hex(t));
	s = &c->shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < WAYS; i++) {
		const struct ventry *e =
		    &s->ring[(h / SHARDS) % s->nsets * WAYS + i];
		if (e->tok == NULL || e->hash != h || e->len != len ||
		    e->iss_len != iss_len)
			continue;
		if (memcmp(e->tok, raw, len) == 0 &&
		    memcmp(e->iss, iss, iss_len) == 0) {
			memcpy(jkt, e->jkt, 44);
			hit = 1;
			break;
		}
	}
	if (hit)
		s->hits++;
	else
		s->misses++;
	pthread_mutex_unlock(&s->lock);
	return hit;
}

void
cg__vcache_insert(struct cg_vcache *c, const struct cg_token *t,
    const char *iss, size_t iss_len, const char *jkt)
{
	const char *raw;
	struct ventry *e;
	struct shard *s;
	size_t len;
	uint64_t h;
	char *copy;

	if (c == NULL || iss_len >= sizeof(e->iss))
		return;
	raw = cg__token_bytes(t, &len);
	if (len > c->max_bytes_per_shard)
		return;
	if ((copy = cg__malloc(len)) == NULL)
		return; /* a cache that cannot grow just misses */
	memcpy(copy, raw, len);
	h = hash_of(cg_token_sha256_hex(t));
	s = &c->shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	{
		size_t set = (h / SHARDS) % s->nsets, way = s->turn[set];
		s->turn[set] = (unsigned char)((way + 1) % WAYS);
		e = &s->ring[set * WAYS + way];
	}
	if (e->tok != NULL) {
		s->bytes -= e->len;
		free(e->tok);
		e->tok = NULL;
	}
	if (s->bytes + len > c->max_bytes_per_shard) {
		pthread_mutex_unlock(&s->lock);
		free(copy);
		return;
	}
	e->hash = h;
	e->tok = copy;
	e->len = len;
	memcpy(e->iss, iss, iss_len);
	e->iss_len = iss_len;
	memcpy(e->jkt, jkt, 44);
	s->bytes += len;
	pthread_mutex_unlock(&s->lock);
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
