/*
 * dlclose_spare.c - libclaimgate unloaded while a thread that holds a
 * spare token block (src/alloc.c) still runs: the thread must then end
 * without calling into the unloaded library (the spare's key destructor
 * goes with the library). Without that, the thread's end jumps into
 * unmapped code and this program dies of SIGSEGV.
 *
 * Usage: dlclose_spare PATH-TO-libclaimgate.so. Exits 0 when the thread
 * ended cleanly after the library was unloaded, 1 on a failed step, 77
 * when the library stays mapped after dlclose (nothing to check). The
 * spare of that thread is left unfreed by design, so a leak checker must
 * be off for this program.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "claimgate.h"

typedef cg_code (*parse_fn)(
    const char *, size_t, size_t, struct cg_token **, struct cg_error *);
typedef void (*free_fn)(struct cg_token *);

static parse_fn parse;
static free_fn token_free;
static pthread_barrier_t held, closed;
static int parsed;

/* A well-formed JWS (the signature is not checked here). */
static const char token[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
    "eyJpc3MiOiJodHRwczovL3Nzby5leGFtcGxlLmNvbSIsInN1YiI6InUxIn0."
    "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmE";

static void *
worker(void *arg)
{
	struct cg_token *t = NULL;
	struct cg_error err;

	(void)arg;
	/* Parse and free: the token's block becomes this thread's spare,
	 * and the spare's key destructor is registered for this thread. */
	if (parse(token, strlen(token), 0, &t, &err) == CG_OK) {
		parsed = 1;
		token_free(t);
	}
	pthread_barrier_wait(&held);
	pthread_barrier_wait(&closed);
	return NULL; /* the thread's key destructors run here */
}

int
main(int argc, char **argv)
{
	pthread_t th;
	void *lib;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-libclaimgate.so\n", argv[0]);
		return 1;
	}
	if ((lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	parse = (parse_fn)(uintptr_t)dlsym(lib, "cg_token_parse");
	token_free = (free_fn)(uintptr_t)dlsym(lib, "cg_token_free");
	if (parse == NULL || token_free == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 1;
	}
	pthread_barrier_init(&held, NULL, 2);
	pthread_barrier_init(&closed, NULL, 2);
	if (pthread_create(&th, NULL, worker, NULL) != 0)
		return 1;
	pthread_barrier_wait(&held);
	if (!parsed) {
		fprintf(stderr, "the token did not parse\n");
		return 1;
	}
	if (dlclose(lib) != 0) {
		fprintf(stderr, "dlclose: %s\n", dlerror());
		return 1;
	}
	if ((lib = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD)) != NULL) {
		printf("the library stays mapped after dlclose: skipped\n");
		dlclose(lib);
		pthread_barrier_wait(&closed);
		pthread_join(th, NULL);
		return 77;
	}
	pthread_barrier_wait(&closed);
	pthread_join(th, NULL);
	printf("the thread ended cleanly after the library was unloaded\n");
	return 0;
}
