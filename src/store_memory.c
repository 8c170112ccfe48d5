/*
 * store_memory.c - the in-process store: an open-addressing hash table of
 * fixed-size keys with expiry, behind one mutex. Expired entries are
 * reused in place and dropped when the table grows. The table is bounded:
 * when it is full of live entries the store answers CG_ERR_STORE, which
 * the engine turns into a deny (store_unavailable), never an allow.
 *
 * Revocations come from the policy's revocations_file (JSON lines, see
 * revocation.c). The file is read at open and again when it changes: at
 * most once a second one decision stats it (the others go on with the
 * set they have), and when its identity (device, inode, size, mtime with
 * nanoseconds) changed it is parsed into a new set that replaces the old
 * one under a write lock. A file that cannot be read or parsed makes the
 * store answer CG_ERR_STORE for revocation checks until it can: a typo in
 * a revocation must never look like "nothing is revoked".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store.h"

/* At most this many live entries (about 48 MiB at 48 bytes each). */
#define MEM_MAX_ENTRIES (1u << 20)
#define MEM_INITIAL 1024u

struct entry {
	unsigned char key[CG_STORE_KEY_LEN];
	int64_t expires;
	int used;
};

/* A revocation of one value, by its key (cg__revocation_key). */
struct rev_entry {
	unsigned char key[CG_STORE_KEY_LEN];
	int64_t expires; /* 0: never */
};

/* An issuer's cut-off. */
struct rev_cut {
	char *issuer;
	int64_t before;
	int64_t expires;
};

/* An immutable set of revocations, built from one version of the file. */
struct revset {
	struct rev_entry *e;
	size_t n, cap;
	struct rev_cut *cuts;
	size_t ncuts, cutcap;
};

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int valid;
};

struct mem_store {
	struct cg_store base;
	pthread_mutex_t lock;
	struct entry *tab;
	size_t cap;   /* power of two */
	size_t count; /* used slots, live or expired */

	/* Revocations. `rlock` guards set and broken; `reload` guards
	 * path and id and is held by the one thread that checks the file. */
	pthread_rwlock_t rlock;
	pthread_mutex_t reload;
	struct revset *set;   /* NULL: no file configured */
	int broken;	      /* the file could not be read or parsed */
	char *path;	      /* resolved revocations_file, or NULL */
	struct file_id id;
	atomic_int_fast64_t next_check_us;
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

/* ---- revocations ----------------------------------------------------- */

static void
revset_free(struct revset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->ncuts; i++)
		free(rs->cuts[i].issuer);
	free(rs->cuts);
	free(rs->e);
	free(rs);
}

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *np;

	if (n < *cap)
		return 0;
	nc = *cap == 0 ? 64 : *cap * 2;
	if (nc < *cap || nc > SIZE_MAX / size)
		return -1;
	if ((np = cg__realloc(*p, nc * size)) == NULL)
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

static int
revset_add(void *ctx, const struct cg_revocation *r, unsigned line)
{
	struct revset *rs = ctx;

	(void)line;
	if (r->kind == CG_REVOKE_ISSUED_BEFORE) {
		struct rev_cut *c;
		if (grow((void **)&rs->cuts, &rs->cutcap, rs->ncuts,
			sizeof(*rs->cuts)) != 0)
			return -1;
		c = &rs->cuts[rs->ncuts];
		if ((c->issuer = cg__strdup(r->issuer)) == NULL)
			return -1;
		c->before = r->issued_before;
		c->expires = r->expires;
		rs->ncuts++;
		return 0;
	}
	if (grow((void **)&rs->e, &rs->cap, rs->n, sizeof(*rs->e)) != 0)
		return -1;
	if (cg__revocation_key(r->kind, r->issuer, r->value, strlen(r->value),
		rs->e[rs->n].key) != 0)
		return -1;
	rs->e[rs->n].expires = r->expires;
	rs->n++;
	return 0;
}

static int
rev_cmp(const void *a, const void *b)
{
	return memcmp(((const struct rev_entry *)a)->key,
	    ((const struct rev_entry *)b)->key, CG_STORE_KEY_LEN);
}

/* Later expiry of two; 0 (never) is the latest. */
static int64_t
later(int64_t a, int64_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > b ? a : b;
}

/* Reads and parses the file into a new set. */
static cg_code
revset_load(const char *path, struct file_id *id, struct revset **out,
    struct cg_error *err)
{
	struct revset *rs;
	struct stat st;
	size_t len, i, o;
	char *text;
	cg_code rc;

	*out = NULL;
	if ((rc = cg__revfile_read(path, &text, &len, &st, err)) != CG_OK)
		return rc;
	if ((rs = cg__calloc(1, sizeof(*rs))) == NULL) {
		free(text);
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	}
	rc = cg__revfile_parse(text, len, path, revset_add, rs, err);
	free(text);
	if (rc != CG_OK) {
		revset_free(rs);
		return rc;
	}
	if (rs->n > 0) {
		qsort(rs->e, rs->n, sizeof(*rs->e), rev_cmp);
		for (i = 1, o = 0; i < rs->n; i++) {
			if (memcmp(rs->e[o].key, rs->e[i].key,
				CG_STORE_KEY_LEN) == 0)
				rs->e[o].expires = later(rs->e[o].expires,
				    rs->e[i].expires);
			else
				rs->e[++o] = rs->e[i];
		}
		rs->n = o + 1;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	id->valid = 1;
	*out = rs;
	return CG_OK;
}

static int
same_id(const struct file_id *a, const struct stat *st)
{
	return a->valid && a->dev == st->st_dev && a->ino == st->st_ino &&
	    a->size == st->st_size && a->mtime.tv_sec == st->st_mtim.tv_sec &&
	    a->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Installs a new set (NULL: no file), or marks the store broken. */
static void
revset_swap(struct mem_store *m, struct revset *rs, int broken)
{
	struct revset *old = NULL;

	pthread_rwlock_wrlock(&m->rlock);
	if (broken) {
		m->broken = 1;
	} else {
		old = m->set;
		m->set = rs;
		m->broken = 0;
	}
	pthread_rwlock_unlock(&m->rlock);
	revset_free(old);
}

/* Called with m->reload held: reads the file again when it changed (or
 * when `force`). */
static void
recheck_locked(struct mem_store *m, int force)
{
	struct revset *rs = NULL;
	struct cg_error err;
	struct file_id id;
	struct stat st;

	atomic_store(&m->next_check_us, cg__mono_us() + 1000000);
	if (m->path == NULL)
		return;
	if (stat(m->path, &st) != 0) {
		m->id.valid = 0;
		revset_swap(m, NULL, 1);
		return;
	}
	if (!force && same_id(&m->id, &st))
		return;
	memset(&id, 0, sizeof(id));
	if (revset_load(m->path, &id, &rs, &err) != CG_OK) {
		/* Remember this version, so that a broken file is parsed
		 * once, not every second; the store stays broken until it
		 * changes. */
		m->id.dev = st.st_dev;
		m->id.ino = st.st_ino;
		m->id.size = st.st_size;
		m->id.mtime = st.st_mtim;
		m->id.valid = 1;
		revset_swap(m, NULL, 1);
		return;
	}
	m->id = id;
	revset_swap(m, rs, 0);
}

/* At most once a second, one caller looks at the file. */
static void
maybe_recheck(struct mem_store *m)
{
	if (m->path == NULL ||
	    cg__mono_us() < atomic_load(&m->next_check_us))
		return;
	if (pthread_mutex_trylock(&m->reload) != 0)
		return; /* another thread is at it */
	if (cg__mono_us() >= atomic_load(&m->next_check_us))
		recheck_locked(m, 0);
	pthread_mutex_unlock(&m->reload);
}

static int
live(int64_t expires, int64_t now)
{
	return expires == 0 || expires > now;
}

static int
has_key(const struct revset *rs, cg_revoke_kind kind, const char *issuer,
    const char *v, size_t vlen, int64_t now, int *oom)
{
	struct rev_entry k, *e;

	if (v == NULL || rs->n == 0)
		return 0;
	if (cg__revocation_key(kind, issuer, v, vlen, k.key) != 0) {
		*oom = 1;
		return 0;
	}
	e = bsearch(&k, rs->e, rs->n, sizeof(*rs->e), rev_cmp);
	return e != NULL && live(e->expires, now);
}

static cg_code
mem_is_revoked(struct cg_store *s, const struct cg_revoke_query *q,
    int *revoked, cg_revoke_kind *kind)
{
	struct mem_store *m = (struct mem_store *)s;
	const struct revset *rs;
	cg_code rc = CG_OK;
	int oom = 0;
	size_t i;

	*revoked = 0;
	maybe_recheck(m);
	pthread_rwlock_rdlock(&m->rlock);
	rs = m->set;
	if (m->broken) {
		rc = CG_ERR_STORE;
		goto out;
	}
	if (rs == NULL)
		goto out; /* no revocations_file */
	if (has_key(rs, CG_REVOKE_JTI, q->issuer, q->jti, q->jti_len, q->now,
		&oom))
		*kind = CG_REVOKE_JTI;
	else if (has_key(rs, CG_REVOKE_SUB, q->issuer, q->sub, q->sub_len,
		     q->now, &oom))
		*kind = CG_REVOKE_SUB;
	else if (q->kid != NULL &&
	    has_key(rs, CG_REVOKE_KID, q->issuer, q->kid, strlen(q->kid),
		q->now, &oom))
		*kind = CG_REVOKE_KID;
	else if (q->jkt != NULL &&
	    has_key(rs, CG_REVOKE_JKT, q->issuer, q->jkt, strlen(q->jkt),
		q->now, &oom))
		*kind = CG_REVOKE_JKT;
	else
		goto cuts;
	*revoked = 1;
	goto out;
cuts:
	/* A token without iat cannot show it was issued after the cut-off:
	 * it is revoked. */
	for (i = 0; i < rs->ncuts; i++) {
		const struct rev_cut *c = &rs->cuts[i];
		if (live(c->expires, q->now) &&
		    strcmp(c->issuer, q->issuer) == 0 &&
		    (!q->has_iat || q->iat < (double)c->before)) {
			*kind = CG_REVOKE_ISSUED_BEFORE;
			*revoked = 1;
			break;
		}
	}
out:
	pthread_rwlock_unlock(&m->rlock);
	if (oom) {
		*revoked = 0;
		return CG_ERR_STORE;
	}
	return rc;
}

/* Appends one line to the file, under an exclusive lock against other
 * writers (two `claimgate revoke` at once). */
static cg_code
mem_revoke(struct cg_store *s, const struct cg_revocation *r,
    struct cg_error *err)
{
	struct mem_store *m = (struct mem_store *)s;
	char shown[112], why[128], *line = NULL, last = '\n';
	size_t len, off = 0;
	struct stat st;
	cg_code rc = CG_OK;
	int fd = -1, e;

	pthread_mutex_lock(&m->reload);
	if (m->path == NULL) {
		pthread_mutex_unlock(&m->reload);
		return cg__err(err, CG_ERR_ARG, CG_NO_OFFSET,
		    "the memory store has no revocations_file to write to");
	}
	cg__escape(shown, sizeof(shown), m->path, strlen(m->path), 96);
	if ((line = cg__revocation_json(r)) == NULL) {
		rc = cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
		goto out;
	}
	len = strlen(line);
	if ((fd = open(m->path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0 ||
	    flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0)
		goto ioerr;
	/* A last line without its newline is completed first. */
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		goto ioerr;
	{
		char *buf = cg__malloc(len + 2);
		ssize_t w;
		if (buf == NULL) {
			rc = cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET,
			    "out of memory");
			goto out;
		}
		if (last != '\n')
			buf[off++] = '\n';
		memcpy(buf + off, line, len);
		off += len;
		buf[off++] = '\n';
		/* One write: readers never see half a line in a complete
		 * file (O_APPEND on a local file system). */
		do
			w = write(fd, buf, off);
		while (w < 0 && errno == EINTR);
		free(buf);
		if (w < 0 || (size_t)w != off) {
			if (w >= 0)
				errno = EIO;
			goto ioerr;
		}
	}
	if (fsync(fd) != 0)
		goto ioerr;
	/* This process sees it at once. */
	recheck_locked(m, 1);
	goto out;
ioerr:
	e = errno;
	if (strerror_r(e, why, sizeof(why)) != 0)
		snprintf(why, sizeof(why), "error %d", e);
	rc = cg__err(err, CG_ERR_STORE, CG_NO_OFFSET, "%s: %s", shown, why);
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	free(line);
	pthread_mutex_unlock(&m->reload);
	return rc;
}

static cg_code
mem_list(struct cg_store *s, int64_t now,
    int (*fn)(void *ctx, const struct cg_revocation *r), void *ctx,
    struct cg_error *err)
{
	struct mem_store *m = (struct mem_store *)s;
	struct cg__rev_list l = {now, fn, ctx, 0};
	struct stat st;
	char *text = NULL, *path;
	size_t len;
	cg_code rc;

	pthread_mutex_lock(&m->reload);
	path = m->path != NULL ? cg__strdup(m->path) : NULL;
	pthread_mutex_unlock(&m->reload);
	if (m->path != NULL && path == NULL)
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	if (path == NULL)
		return CG_OK;
	rc = cg__revfile_read(path, &text, &len, &st, err);
	if (rc == CG_OK)
		rc = cg__revfile_parse(text, len, path, cg__rev_list_one, &l,
		    err);
	free(text);
	free(path);
	return rc;
}

static int
mem_ready(struct cg_store *s)
{
	struct mem_store *m = (struct mem_store *)s;
	int ok;

	maybe_recheck(m);
	pthread_rwlock_rdlock(&m->rlock);
	ok = !m->broken;
	pthread_rwlock_unlock(&m->rlock);
	return ok;
}

static int
mem_reconfigure(struct cg_store *s, const struct cg_store_config *cfg)
{
	struct mem_store *m = (struct mem_store *)s;
	char *np = NULL;

	if (cfg->type != CG_STORE_MEMORY)
		return -1;
	if (cfg->revocations_file != NULL &&
	    (np = cg__strdup(cfg->revocations_file)) == NULL)
		return -1;
	pthread_mutex_lock(&m->reload);
	if ((np == NULL) != (m->path == NULL) ||
	    (np != NULL && strcmp(np, m->path) != 0)) {
		free(m->path);
		m->path = np;
		np = NULL;
		memset(&m->id, 0, sizeof(m->id));
		if (m->path == NULL)
			revset_swap(m, NULL, 0);
		else
			recheck_locked(m, 1);
	}
	pthread_mutex_unlock(&m->reload);
	free(np);
	return 0;
}

static void
mem_free(struct cg_store *s)
{
	struct mem_store *m = (struct mem_store *)s;

	pthread_mutex_destroy(&m->lock);
	pthread_rwlock_destroy(&m->rlock);
	pthread_mutex_destroy(&m->reload);
	revset_free(m->set);
	free(m->path);
	free(m->tab);
	free(m);
}

/* A store made from a policy, and a bare one (cg_store_memory_new). */
const struct cg_store_ext cg__store_mem_ext = {{mem_insert, mem_free},
    mem_is_revoked, NULL, mem_revoke, mem_list, mem_ready, mem_reconfigure};
const struct cg_store_ext cg__store_mem_bare = {{mem_insert, mem_free},
    NULL, NULL, NULL, NULL, NULL, NULL};

static cg_code
mem_new(struct mem_store **out)
{
	struct mem_store *m;

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
	if (pthread_rwlock_init(&m->rlock, NULL) != 0) {
		pthread_mutex_destroy(&m->lock);
		free(m->tab);
		free(m);
		return CG_ERR_NOMEM;
	}
	if (pthread_mutex_init(&m->reload, NULL) != 0) {
		pthread_rwlock_destroy(&m->rlock);
		pthread_mutex_destroy(&m->lock);
		free(m->tab);
		free(m);
		return CG_ERR_NOMEM;
	}
	m->cap = MEM_INITIAL;
	m->base.ops = &cg__store_mem_bare.ops;
	*out = m;
	return CG_OK;
}

/* see claimgate.h */
cg_code
cg_store_memory_new(struct cg_store **out)
{
	struct mem_store *m;
	cg_code rc;

	if (out == NULL)
		return CG_ERR_ARG;
	if ((rc = mem_new(&m)) != CG_OK)
		return rc;
	*out = &m->base;
	return CG_OK;
}

cg_code
cg__store_memory_open(const struct cg_store_config *cfg,
    struct cg_store **out, struct cg_error *err)
{
	struct mem_store *m;
	cg_code rc;

	*out = NULL;
	if ((rc = mem_new(&m)) != CG_OK)
		return cg__err(err, rc, CG_NO_OFFSET, "out of memory");
	/* Made from a policy: it carries the policy's revocation source,
	 * a file or none (reconfigure may add one on reload). */
	m->base.ops = &cg__store_mem_ext.ops;
	if (cfg->revocations_file != NULL) {
		if ((m->path = cg__strdup(cfg->revocations_file)) == NULL) {
			mem_free(&m->base);
			return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET,
			    "out of memory");
		}
		rc = revset_load(m->path, &m->id, &m->set, err);
		if (rc != CG_OK) {
			mem_free(&m->base);
			return rc;
		}
		atomic_store(&m->next_check_us, cg__mono_us() + 1000000);
	}
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
