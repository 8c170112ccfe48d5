/*
 * replay_main.c - runs a fuzz target's LLVMFuzzerTestOneInput once on
 * every file of the folders (or files) named on the command line, so the
 * committed corpora run under any compiler and its sanitizers in the
 * normal test run (ctest -L fuzz; fuzz/CMakeLists.txt).
 *
 * Files are run in name order; hidden files and subfolders are skipped.
 * Each file is named on stderr before it runs, so a crash names its input.
 * A broken invariant aborts (the test fails); otherwise prints
 * "replay_<target>: N inputs" and exits 0. An empty folder is an error:
 * a corpus that went missing must not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - n < 4096) {
			unsigned char *nb = realloc(buf, cap + 65536);
			if (nb == NULL) {
				fclose(f);
				free(buf);
				return -1;
			}
			buf = nb;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* An exactly sized copy, as libFuzzer passes it: reads past the end
	 * are caught by ASan. */
	{
		unsigned char *exact = malloc(n == 0 ? 1 : n);
		if (exact == NULL) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, n);
		free(buf);
		/* Named first, so that a crash names its input. */
		fprintf(stderr, "replay: %s\n", path);
		(void)LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of `dir`; returns the count, or -1. */
static long
run_dir(const char *dir)
{
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	long count = 0;
	DIR *d = opendir(dir);

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names,
			    (cap == 0 ? 64 : cap * 2) * sizeof(*nn));
			if (nn == NULL)
				abort();
			names = nn;
			cap = cap == 0 ? 64 : cap * 2;
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) != 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/');
	long total = 0;
	int i;

	prog = prog != NULL ? prog + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", prog);
		return 2;
	}
	(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat st;
		long n;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, argv[i],
			    strerror(errno));
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i])
					: (run_file(argv[i]) == 0 ? 1 : -1);
		if (n < 0)
			return 1;
		if (n == 0) {
			fprintf(stderr, "%s: %s: no inputs\n", prog, argv[i]);
			return 1;
		}
		total += n;
	}
	printf("%s: %ld inputs\n", prog, total);
	return 0;
}
