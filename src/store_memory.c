/*
 * store_memory.c - the in-process store: an open-addressing hash table of
 * fixed-size keys with expiry, behind one mutex. Expired entries are
 * reused in place and dropped when the table grows. The table is bounded:
 * when it is full of live entries the store answers CG_ERR_STORE, which
 * the engine turns into a deny (store_unavailable), never an allow.
 */
#include <pthread.h>
#include <string.h>

#include "store.h"

/* At most this many live entries (about 48 MiB at 48 bytes each). */
#define MEM_MAX_ENTRIES (1u << 20)
#define MEM_INITIAL 1024u

struct entry {
	unsigned char key[CG_STORE_KEY_LEN];
	int64_t expires;
	int used;
};

struct mem_store {
	struct cg_store base;
	pthread_mutex_t lock;
	struct entry *tab;
	size_t cap;   /* power of two */
	size_t count; /* used slots, live or expired */
};

static size_t
slot_of(const unsigned char *key, size_t cap)
{
	uint64_t h;

	/* The key is a SHA-256 output: its bytes are already uniform. */
	memcpy(&h, key, sizeof(h));
	return (size_t)h & (cap - 1);
}

/* Finds the key's slot, or the first reusable one on its probe path. */
static struct entry *
probe(struct entry *tab, size_t cap, const unsigned char *key, int64_t now,
    int *found)
{
	size_t i = slot_of(key, cap), n;
	struct entry *reuse = NULL;

	*found = 0;
	for (n = 0; n < cap; n++, i = (i + 1) & (cap - 1)) {
		struct entry *e = &tab[i];
		if (!e->used)
			return reuse != NULL ? reuse : e;
		if (memcmp(e->key, key, CG_STORE_KEY_LEN) == 0) {
			*found = e->expires > now;
			return e;
		}
		if (e->expires <= now && reuse == NULL)
			reuse = e;
	}
	return reuse;
}

/* Doubles the table (or rebuilds it at the same size), dropping expired
 * entries. */
static int
rehash(struct mem_store *m, int64_t now)
{
	size_t live = 0, i, cap;
	struct entry *tab;

	for (i = 0; i < m->cap; i++)
		if (m->tab[i].used && m->tab[i].expires > now)
			live++;
	cap = m->cap;
	while (live * 2 >= cap)
		cap *= 2;
	if (live >= MEM_MAX_ENTRIES)
		return -1;
	if ((tab = cg__calloc(cap, sizeof(*tab))) == NULL)
		return -1;
	for (i = 0; i < m->cap; i++) {
		struct entry *e = &m->tab[i], *d;
		int found;
		if (!e->used || e->expires <= now)
			continue;
		d = probe(tab, cap, e->key, now, &found);
		*d = *e;
	}
	free(m->tab);
	m->tab = tab;
	m->cap = cap;
	m->count = live;
	return 0;
}

static cg_code
mem_insert(struct cg_store *s, const unsigned char key[CG_STORE_KEY_LEN],
    int64_t expires, int64_t now, int *inserted)
{
	struct mem_store *m = (struct mem_store *)s;
	struct entry *e;
	cg_code rc = CG_OK;
	int found;

	*inserted = 0;
	pthread_mutex_lock(&m->lock);
	if ((m->count + 1) * 2 > m->cap && rehash(m, now) != 0) {
		rc = CG_ERR_STORE;
		goto out;
	}
	e = probe(m->tab, m->cap, key, now, &found);
	if (e == NULL) {
		rc = CG_ERR_STORE;
		goto out;
	}
	if (!found) {
		if (!e->used)
			m->count++;
		memcpy(e->key, key, CG_STORE_KEY_LEN);
		e->expires = expires;
		e->used = 1;
		*inserted = 1;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void
mem_free(struct cg_store *s)
{
	struct mem_store *m = (struct mem_store *)s;

	pthread_mutex_destroy(&m->lock);
	free(m->tab);
	free(m);
}

static const struct cg_store_ops mem_ops = {mem_insert, mem_free};

/* see claimgate.h */
cg_code
cg_store_memory_new(struct cg_store **out)
{
	struct mem_store *m;

	if (out == NULL)
		return CG_ERR_ARG;
	*out = NULL;
	if ((m = cg__calloc(1, sizeof(*m))) == NULL)
		return CG_ERR_NOMEM;
	if ((m->tab = cg__calloc(MEM_INITIAL, sizeof(struct entry))) == NULL) {
		free(m);
		return CG_ERR_NOMEM;
	}
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m->tab);
		free(m);
		return CG_ERR_NOMEM;
	}
	m->cap = MEM_INITIAL;
	m->base.ops = &mem_ops;
	*out = &m->base;
	return CG_OK;
}

/* see claimgate.h */
void
cg_store_free(struct cg_store *s)
{
	if (s != NULL)
		s->ops->free(s);
}

static void
put_field(unsigned char *buf, size_t *o, const void *p, size_t len)
{
	uint64_t n = len;
	size_t i;

	for (i = 0; i < 8; i++)
		buf[(*o)++] = (unsigned char)(n >> (56 - 8 * i));
	memcpy(buf + *o, p, len);
	*o += len;
}

int
cg__replay_key(const char *zone, const char *iss, size_t iss_len,
    const char *jti, size_t jti_len, unsigned char out[CG_STORE_KEY_LEN])
{
	size_t zl = strlen(zone), total = zl + iss_len + jti_len + 24, o = 0;
	unsigned char *buf;
	int rc;

	if ((buf = cg__malloc(total)) == NULL)
		return -1;
	put_field(buf, &o, zone, zl);
	put_field(buf, &o, iss, iss_len);
	put_field(buf, &o, jti, jti_len);
	rc = cg__sha256(buf, o, out);
	free(buf);
	return rc;
}
