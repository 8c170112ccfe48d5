/*
 * audit.c - the audit log: one JSON line per decision. Workers append to
 * an in-memory buffer under a short lock; one writer thread swaps buffers
 * and writes outside the lock. When the writer falls behind, workers wait
 * for room (back-pressure) rather than drop lines; a clean stop writes
 * everything before it returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

#define AUDIT_BUF (1u << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t room = PTHREAD_COND_INITIALIZER;
static pthread_t writer;
static char *fill, *drain;
static size_t fill_len;
static int fd = -1, running, own_fd;

static void
write_all(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* the disk is gone: decisions go on */
		}
		p += w;
		len -= (size_t)w;
	}
}

static void *
writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		char *tmp;
		size_t len;
		while (fill_len == 0 && running) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&wake, &lock, &ts);
		}
		if (fill_len == 0 && !running)
			break;
		tmp = fill;
		fill = drain;
		drain = tmp;
		len = fill_len;
		fill_len = 0;
		pthread_cond_broadcast(&room);
		pthread_mutex_unlock(&lock);
		write_all(drain, len);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
srv_audit_open(const char *path)
{
	if (path == NULL)
		return 0;
	if (strcmp(path, "-") == 0) {
		fd = STDOUT_FILENO;
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0640);
		if (fd < 0)
			return -1;
		own_fd = 1;
	}
	if ((fill = malloc(AUDIT_BUF)) == NULL ||
	    (drain = malloc(AUDIT_BUF)) == NULL)
		return -1;
	running = 1;
	if (pthread_create(&writer, NULL, writer_main, NULL) != 0) {
		running = 0;
		return -1;
	}
	return 0;
}

void
srv_audit_write(const char *line, size_t len)
{
	if (fd < 0 || len > AUDIT_BUF)
		return;
	pthread_mutex_lock(&lock);
	while (running && AUDIT_BUF - fill_len < len)
		pthread_cond_wait(&room, &lock);
	if (AUDIT_BUF - fill_len >= len) {
		memcpy(fill + fill_len, line, len);
		fill_len += len;
		if (fill_len > AUDIT_BUF / 2)
			pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
}

int
srv_audit_enabled(void)
{
	return fd >= 0;
}

void
srv_audit_close(void)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&lock);
	running = 0;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(writer, NULL);
	if (own_fd)
		close(fd);
	fd = -1;
	free(fill);
	free(drain);
	fill = drain = NULL;
}
