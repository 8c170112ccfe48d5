/*
 * alloc.c - overflow-checked allocation wrappers, secret wiping, a
 * test-only hook that fails the Nth allocation, and each thread's spare
 * token block.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"

static unsigned long fail_countdown;

static int
should_fail(void)
{
	if (fail_countdown == 0)
		return 0;
	return --fail_countdown == 0;
}

void
cg__alloc_fail_after(unsigned long n)
{
	fail_countdown = n;
}

void *
cg__malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *
cg__calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if (should_fail())
		return NULL;
	return calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
}

void *
cg__realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}

char *
cg__strndup(const char *s, size_t n)
{
	char *d;

	if (n == SIZE_MAX)
		return NULL;
	d = cg__malloc(n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
cg__strdup(const char *s)
{
	return cg__strndup(s, strlen(s));
}

void
cg__free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

/* see claimgate.h */
void
cg_free(void *p)
{
	free(p);
}

/* ---- each thread's spare block ------------------------------------- */

/*
 * A parsed token lives in one block of about 3 KiB: above glibc's
 * per-thread cache (1032 bytes), so each malloc and free of it took
 * glibc's general paths, about 400 instructions a decision. A thread
 * keeps the last block it freed and the next token it parses reuses it.
 * One block of at most SPARE_MAX bytes per thread; freed when the thread
 * ends (a key destructor), and reachable from the thread's TLS until then.
 */
enum { SPARE_MAX = 8192 };

#if defined(__GNUC__)
#define CG_TLS_IE __attribute__((tls_model("initial-exec")))
#else
#define CG_TLS_IE
#endif

static _Thread_local void *spare CG_TLS_IE;
static _Thread_local size_t spare_size CG_TLS_IE;
static _Thread_local int spare_registered CG_TLS_IE;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static int spare_key_ok;

static void
spare_exit(void *unused)
{
	(void)unused;
	free(spare);
	spare = NULL;
	spare_size = 0;
	/* A block given back by a later destructor registers again (glibc
	 * runs the destructors again while values are set). */
	spare_registered = 0;
}

static void
spare_init(void)
{
	spare_key_ok = pthread_key_create(&spare_key, spare_exit) == 0;
}

#if defined(__GNUC__)
/* When the library is unloaded (dlclose) while threads still run, their
 * ends must not call spare_exit in unmapped code: the key goes with the
 * library, and the spares of those threads are then left unfreed. */
__attribute__((destructor)) static void
spare_unload(void)
{
	if (spare_key_ok)
		pthread_key_delete(spare_key);
}
#endif

void *
cg__block_take(size_t need, size_t *got)
{
	void *p;

	if (should_fail())
		return NULL;
	if (need == 0)
		need = 1;
	if (spare != NULL) {
		p = spare;
		spare = NULL;
		/* A fit, and not more than twice the need: a cached token
		 * should not hold much more than it uses. */
		if (spare_size >= need && spare_size / 2 <= need) {
			*got = spare_size;
			return p;
		}
		free(p);
	}
	*got = need;
	return malloc(need);
}

void
cg__block_give(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (spare != NULL || size > SPARE_MAX)
		goto release;
	if (!spare_registered) {
		pthread_once(&spare_once, spare_init);
		if (!spare_key_ok ||
		    pthread_setspecific(spare_key, &spare_registered) != 0)
			goto release;
		spare_registered = 1;
	}
	spare = p;
	spare_size = size;
	return;
release:
	free(p);
}
