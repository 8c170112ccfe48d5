/*
 * store_redis.c - the shared store on Redis (hiredis 0.14, Redis >= 6.2
 * for SET ... PXAT), used by every instance of claimgate that names the
 * same Redis and key_prefix.
 *
 * Keys (docs/deploy/multi-instance.md, "Keys"). The key_prefix P is the
 * Redis Cluster hash tag of every key, "{P}", so every command claimgate
 * sends, the multi-key MGET of a revocation check included, touches one
 * hash slot: it is legal in Cluster (no CROSSSLOT), one connection to the
 * master that owns the slot serves everything (a MOVED reply is followed
 * there), and deployments with different prefixes spread over the
 * cluster.
 *   replay      {P}r:<hex sha256(zone, iss, jti)>               "1", PXAT exp+leeway
 *   revocation  {P}v:<kind>:<hex sha256(kind, issuer, value)>   JSON line
 *   cut-off     {P}v:issued_before:<hex sha256(kind, issuer)>   JSON line
 * Hashing bounds every key's length and keeps token bytes out of key
 * names (and so out of MONITOR and slow logs).
 *
 * One decision costs at most two round trips: one MGET for the
 * revocation check (step 21, before the trusted claims) and one
 * SET NX PXAT for replay (step 24, only when every other step allowed).
 *
 * Connections. hiredis contexts are not thread-safe, so each command
 * borrows a context from a pool (a mutex-protected stack) and returns it
 * when done. The socket is non-blocking and every wait is a poll() against
 * the request's deadline, now + `timeout`, which covers connecting,
 * AUTH/SELECT on a new connection, writing and reading: no request waits
 * longer than the timeout, whatever Redis does. Commands are written with
 * send(MSG_NOSIGNAL) (a closed peer must not raise SIGPIPE in the host
 * program); hiredis formats commands and parses replies.
 *
 * Faults. An I/O error, an error reply, or three timeouts in a row mark
 * the store down: the pool is emptied (its connections may all be dead)
 * and, while down,
 * decisions are denied at once (CG_ERR_STORE, no waiting) except one probe
 * per backoff period (0.5 s, doubling to 2 s while probes fail), which
 * reconnects. The first answer brings the store back up. So a dead Redis
 * costs each request nothing, and Redis sees at most two connection
 * attempts a second from each instance.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>

#include "store.h"

#define POOL_MAX_IDLE 64
#define BACKOFF_MIN_US 500000
#define BACKOFF_MAX_US 2000000
/* revoke and list are people's commands: give them time. */
#define ADMIN_TIMEOUT_US 2000000
/* readiness asks Redis at most this often */
#define READY_EVERY_US 1000000
/* SCAN batch */
#define SCAN_COUNT "500"
#define MAX_ARGS 16
/* timeouts in a row that mark the store down */
#define DOWN_AFTER_TIMEOUTS 3
/* MOVED/ASK replies followed for one command */
#define MAX_REDIRECTS 2

struct rconn {
	redisContext *c;
	unsigned gen;
	int fresh; /* AUTH/SELECT not sent yet */
	struct rconn *next;
};

/* Where to connect: a TCP host and port, or a unix socket. */
struct endpoint {
	char host[256];
	int port;
	char path[108]; /* unix socket; "" for TCP */
};

/* A MOVED or ASK reply (Redis Cluster): the node that serves the slot. */
struct redirect {
	int ask;
	struct endpoint to;
};

struct rstore {
	struct cg_store base;
	/* configuration, immutable after open */
	struct endpoint seed; /* from the url */
	char *user;
	char *password;
	size_t password_len;
	long db;
	char *prefix;
	size_t plen;
	int64_t timeout_us;
	char *fingerprint;
	/* the pool, the endpoint and the fault state, under lock */
	pthread_mutex_t lock;
	struct endpoint cur;  /* seed, or where a MOVED sent us */
	struct rconn *idle;
	size_t nidle;
	unsigned gen;
	int down;
	int64_t retry_at;   /* while down: no probe before this */
	int64_t backoff;
	int64_t answered_at; /* last answer from Redis */
	unsigned timeouts;   /* in a row, while up */
};

struct rcmd {
	int argc;
	const char *argv[MAX_ARGS];
	size_t len[MAX_ARGS];
};

static void
cmd_add(struct rcmd *c, const char *s, size_t len)
{
	c->argv[c->argc] = s;
	c->len[c->argc] = len;
	c->argc++;
}

static void
cmd_str(struct rcmd *c, const char *s)
{
	cmd_add(c, s, strlen(s));
}

/* ---- the pool and the fault state ----------------------------------- */

static void
conn_free(struct rconn *k)
{
	if (k == NULL)
		return;
	redisFree(k->c);
	free(k);
}

static void
conns_free(struct rconn *k)
{
	while (k != NULL) {
		struct rconn *n = k->next;
		conn_free(k);
		k = n;
	}
}

/* A pooled connection whose peer closed it (Redis restarted, or its
 * `timeout` dropped an idle client) is readable or hung up: drop it
 * before sending anything on it. */
static int
conn_alive(const struct rconn *k)
{
	struct pollfd p = {k->c->fd, POLLIN, 0};

	return poll(&p, 1, 0) == 0;
}

/* Takes an idle connection, or says whether a new one may be made.
 * CG_ERR_STORE at once while the store is down and no probe is due. */
static cg_code
checkout(struct rstore *r, struct rconn **out, int *probe,
    struct endpoint *ep)
{
	struct rconn *k;
	int64_t now = cg__mono_us();
	unsigned gen;

	*out = NULL;
	*probe = 0;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		*ep = r->cur;
		if (r->down) {
			if (now < r->retry_at) {
				pthread_mutex_unlock(&r->lock);
				return CG_ERR_STORE;
			}
			/* This caller is the probe; others keep failing
			 * fast until it answers or the next period. */
			r->retry_at = now + r->backoff;
			*probe = 1;
			pthread_mutex_unlock(&r->lock);
			return CG_OK;
		}
		if ((k = r->idle) != NULL) {
			r->idle = k->next;
			r->nidle--;
		}
		gen = r->gen;
		pthread_mutex_unlock(&r->lock);
		if (k == NULL)
			return CG_OK; /* make a new one */
		/* (outside the lock: a system call) */
		if (k->gen == gen && conn_alive(k)) {
			*out = k;
			return CG_OK;
		}
		conn_free(k);
	}
}

static void
checkin(struct rstore *r, struct rconn *k)
{
	int keep;

	pthread_mutex_lock(&r->lock);
	r->down = 0;
	r->timeouts = 0;
	r->backoff = BACKOFF_MIN_US;
	r->answered_at = cg__mono_us();
	keep = k != NULL && k->gen == r->gen && r->nidle < POOL_MAX_IDLE;
	if (keep) {
		k->next = r->idle;
		r->idle = k;
		r->nidle++;
	}
	pthread_mutex_unlock(&r->lock);
	if (!keep)
		conn_free(k);
}

/*
 * A command failed. Redis gone (connection refused, reset or closed) or
 * refusing (an error reply): down at once. A timeout: down after
 * DOWN_AFTER_TIMEOUTS in a row, so that one late answer (a scheduling
 * hiccup on a busy host) does not fail a whole instance for the backoff
 * period, while a Redis that stopped answering is found within a few
 * requests, each of which waited no longer than the timeout.
 */
static void
mark_down(struct rstore *r, int probe, int timeout)
{
	struct rconn *idle;
	int64_t now = cg__mono_us();

	pthread_mutex_lock(&r->lock);
	if (!r->down && !probe && timeout &&
	    ++r->timeouts < DOWN_AFTER_TIMEOUTS) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	r->timeouts = 0;
	/* A redirected endpoint may be a node that failed over: start again
	 * from the configured one, which redirects us anew. */
	r->cur = r->seed;
	if (!r->down) {
		r->down = 1;
		r->backoff = BACKOFF_MIN_US;
		r->retry_at = now + r->backoff;
	} else if (probe) {
		r->backoff *= 2;
		if (r->backoff > BACKOFF_MAX_US)
			r->backoff = BACKOFF_MAX_US;
		r->retry_at = now + r->backoff;
	}
	r->gen++;
	idle = r->idle;
	r->idle = NULL;
	r->nidle = 0;
	pthread_mutex_unlock(&r->lock);
	conns_free(idle);
}

/* Follows a MOVED reply: every connection goes to its node from now on
 * (every key of the store is in the one slot it names). */
static void
follow(struct rstore *r, const struct endpoint *to)
{
	struct rconn *idle;

	pthread_mutex_lock(&r->lock);
	r->cur = *to;
	r->gen++;
	idle = r->idle;
	r->idle = NULL;
	r->nidle = 0;
	pthread_mutex_unlock(&r->lock);
	conns_free(idle);
}

/* ---- I/O against a deadline ------------------------------------------- */

enum io_result { IO_OK = 0, IO_TIMEOUT, IO_ERROR, IO_REPLY_ERROR,
	IO_REDIRECT, IO_NOSCRIPT };

static enum io_result
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p;
	int64_t left;
	int n;

	for (;;) {
		left = deadline - cg__mono_us();
		if (left <= 0)
			return IO_TIMEOUT;
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, (int)((left + 999) / 1000));
		if (n > 0)
			return IO_OK; /* errors show in the read or write */
		if (n == 0)
			continue; /* re-check the clock */
		if (errno != EINTR)
			return IO_ERROR;
	}
}

static enum io_result
conn_open(const struct endpoint *ep, int64_t deadline, struct rconn **out,
    char *why, size_t whysz)
{
	struct rconn *k;
	redisContext *c;
	socklen_t sl;
	int e = 0, one = 1;
	enum io_result io;

	*out = NULL;
	/* Non-blocking connect: hiredis resolves the name (use an address
	 * or a name in /etc/hosts: resolver time is not bounded). */
	if (ep->path[0] != '\0')
		c = redisConnectUnixNonBlock(ep->path);
	else
		c = redisConnectNonBlock(ep->host, ep->port);
	if (c == NULL || c->err) {
		snprintf(why, whysz, "connect: %s",
		    c != NULL ? c->errstr : "out of memory");
		redisFree(c);
		return IO_ERROR;
	}
	if ((io = wait_fd(c->fd, POLLOUT, deadline)) != IO_OK) {
		snprintf(why, whysz, "connect: %s",
		    io == IO_TIMEOUT ? "timed out" : "poll failed");
		redisFree(c);
		return io;
	}
	sl = sizeof(e);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0 || e != 0) {
		char s[96];
		if (strerror_r(e != 0 ? e : errno, s, sizeof(s)) != 0)
			snprintf(s, sizeof(s), "error %d", e);
		snprintf(why, whysz, "connect: %s", s);
		redisFree(c);
		return IO_ERROR;
	}
	if (ep->path[0] == '\0')
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if ((k = cg__calloc(1, sizeof(*k))) == NULL) {
		snprintf(why, whysz, "out of memory");
		redisFree(c);
		return IO_ERROR;
	}
	k->c = c;
	k->fresh = 1;
	*out = k;
	return IO_OK;
}

static enum io_result
send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	size_t off = 0;
	ssize_t n;
	enum io_result io;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((io = wait_fd(fd, POLLOUT, deadline)) != IO_OK)
				return io;
			continue;
		}
		return IO_ERROR;
	}
	return IO_OK;
}

static enum io_result
read_reply(redisContext *c, int64_t deadline, redisReply **out)
{
	void *reply = NULL;
	enum io_result io;

	*out = NULL;
	for (;;) {
		if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
			return IO_ERROR;
		if (reply != NULL)
			break;
		if ((io = wait_fd(c->fd, POLLIN, deadline)) != IO_OK)
			return io;
		if (redisBufferRead(c) != REDIS_OK)
			return IO_ERROR;
	}
	*out = reply;
	return IO_OK;
}

/* Appends one formatted command to buf. */
static int
append_cmd(char **buf, size_t *len, const struct rcmd *c)
{
	char *f = NULL, *nb;
	int n;

	n = redisFormatCommandArgv(&f, c->argc, (const char **)c->argv,
	    c->len);
	if (n < 0 || f == NULL)
		return -1;
	if ((nb = cg__realloc(*buf, *len + (size_t)n)) == NULL) {
		redisFreeCommand(f);
		return -1;
	}
	memcpy(nb + *len, f, (size_t)n);
	*buf = nb;
	*len += (size_t)n;
	redisFreeCommand(f);
	return 0;
}

static void
reply_why(const redisReply *rp, char *why, size_t whysz)
{
	char esc[100];

	if (rp->type == REDIS_REPLY_ERROR && rp->str != NULL) {
		cg__escape(esc, sizeof(esc), rp->str, rp->len, 80);
		snprintf(why, whysz, "redis: %s", esc);
	} else {
		snprintf(why, whysz, "redis: unexpected reply");
	}
}

/*
 * "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>" (Redis
 * Cluster specification, "Redirection and resharding"). An empty host
 * means the host of the connection that got the reply. 0, or -1 when the
 * error is something else.
 */
static int
parse_redirect(const redisReply *rp, const struct endpoint *from,
    struct redirect *rd)
{
	const char *s = rp->str, *sp, *colon, *end = rp->str + rp->len;
	size_t hl;
	int port = 0;

	memset(rd, 0, sizeof(*rd));
	if (rp->len > 5 && memcmp(s, "MOVED ", 6) == 0)
		rd->ask = 0;
	else if (rp->len > 3 && memcmp(s, "ASK ", 4) == 0)
		rd->ask = 1;
	else
		return -1;
	s += rd->ask ? 4 : 6; /* the slot, then the address */
	sp = memchr(s, ' ', (size_t)(end - s));
	if (sp == NULL)
		return -1;
	sp++;
	for (colon = end; colon > sp && colon[-1] != ':'; colon--)
		;
	if (colon == sp || colon == end || end - colon > 5)
		return -1;
	for (s = colon; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		port = port * 10 + (*s - '0');
	}
	hl = (size_t)(colon - 1 - sp);
	if (port < 1 || port > 65535 || hl >= sizeof(rd->to.host))
		return -1;
	if (hl == 0) {
		if (from->path[0] != '\0')
			return -1;
		memcpy(rd->to.host, from->host, sizeof(rd->to.host));
	} else {
		memcpy(rd->to.host, sp, hl);
		rd->to.host[hl] = '\0';
	}
	if (strcmp(rd->to.host, "?") == 0)
		return -1;
	rd->to.port = port;
	return 0;
}

/*
 * Sends the commands as one pipeline (after AUTH and SELECT on a new
 * connection, and ASKING when `asking`) and reads one reply per command
 * into rep[]. An error reply is IO_REPLY_ERROR, or IO_REDIRECT with *rd
 * set for MOVED and ASK.
 */
static enum io_result
run_on(struct rstore *r, struct rconn *k, const struct endpoint *ep,
    int asking, const struct rcmd *cmds, size_t n, redisReply **rep,
    int64_t deadline, struct redirect *rd, char *why, size_t whysz)
{
	struct rcmd setup[3];
	size_t nsetup = 0, len = 0, i;
	char *buf = NULL, dbs[24];
	redisReply *rp;
	enum io_result io = IO_OK;

	for (i = 0; i < n; i++)
		rep[i] = NULL;
	if (k->fresh) {
		if (r->password != NULL) {
			memset(&setup[nsetup], 0, sizeof(setup[0]));
			cmd_str(&setup[nsetup], "AUTH");
			if (r->user != NULL)
				cmd_str(&setup[nsetup], r->user);
			cmd_add(&setup[nsetup], r->password, r->password_len);
			nsetup++;
		}
		if (r->db != 0) {
			memset(&setup[nsetup], 0, sizeof(setup[0]));
			snprintf(dbs, sizeof(dbs), "%ld", r->db);
			cmd_str(&setup[nsetup], "SELECT");
			cmd_str(&setup[nsetup], dbs);
			nsetup++;
		}
	}
	if (asking) {
		memset(&setup[nsetup], 0, sizeof(setup[0]));
		cmd_str(&setup[nsetup], "ASKING");
		nsetup++;
	}
	for (i = 0; i < nsetup; i++)
		if (append_cmd(&buf, &len, &setup[i]) != 0)
			goto oom;
	for (i = 0; i < n; i++)
		if (append_cmd(&buf, &len, &cmds[i]) != 0)
			goto oom;
	io = send_all(k->c->fd, buf, len, deadline);
	/* A formatted AUTH holds the password. */
	if (r->password != NULL)
		cg__free_secret(buf, len);
	else
		free(buf);
	buf = NULL;
	if (io != IO_OK) {
		snprintf(why, whysz, "send: %s",
		    io == IO_TIMEOUT ? "timed out" : "connection lost");
		return io;
	}
	for (i = 0; i < nsetup; i++) {
		if ((io = read_reply(k->c, deadline, &rp)) != IO_OK)
			goto readfail;
		if (rp->type == REDIS_REPLY_ERROR) {
			reply_why(rp, why, whysz);
			freeReplyObject(rp);
			return IO_REPLY_ERROR;
		}
		freeReplyObject(rp);
	}
	k->fresh = 0;
	for (i = 0; i < n; i++) {
		if ((io = read_reply(k->c, deadline, &rep[i])) != IO_OK)
			goto readfail;
		if (rep[i]->type == REDIS_REPLY_ERROR) {
			reply_why(rep[i], why, whysz);
			if (parse_redirect(rep[i], ep, rd) == 0)
				io = IO_REDIRECT;
			else if (rep[i]->len >= 8 &&
			    memcmp(rep[i]->str, "NOSCRIPT", 8) == 0)
				io = IO_NOSCRIPT;
			else
				io = IO_REPLY_ERROR;
			goto fail;
		}
	}
	return IO_OK;
readfail:
	snprintf(why, whysz, "read: %s",
	    io == IO_TIMEOUT ? "timed out"
			     : (k->c->err ? k->c->errstr : "connection lost"));
fail:
	for (i = 0; i < n; i++) {
		if (rep[i] != NULL)
			freeReplyObject(rep[i]);
		rep[i] = NULL;
	}
	return io;
oom:
	if (r->password != NULL && buf != NULL)
		cg__free_secret(buf, len);
	else
		free(buf);
	snprintf(why, whysz, "out of memory");
	return IO_ERROR;
}

/*
 * Runs commands against the deadline. `retry`: the commands are
 * idempotent, so a failure on a pooled connection (one that may have died
 * since it was last used) is tried once more on a new one. MOVED is
 * followed (the store moves to that node) and ASK answered on a one-off
 * connection, at most MAX_REDIRECTS times, within the same deadline: a
 * command that was redirected was not executed, so resending is safe.
 */
static cg_code
rexec_alt(struct rstore *r, const struct rcmd *cmds, const struct rcmd *alt,
    size_t n, redisReply **rep, int64_t deadline, int retry, char *why,
    size_t whysz)
{
	struct redirect rd;
	struct endpoint ep, ask_ep;
	struct rconn *k;
	enum io_result io;
	int probe, reused, attempt, redirects = 0, asking = 0;

	for (attempt = 0;; attempt++) {
		if (asking) {
			k = NULL;
			probe = 0;
			ep = ask_ep;
		} else if (checkout(r, &k, &probe, &ep) != CG_OK) {
			snprintf(why, whysz, "redis is down; next attempt "
					     "within %d ms",
			    BACKOFF_MAX_US / 1000);
			return CG_ERR_STORE;
		}
		reused = k != NULL;
		if (k == NULL) {
			io = conn_open(&ep, deadline, &k, why, whysz);
			if (io != IO_OK) {
				mark_down(r, probe, io == IO_TIMEOUT);
				return CG_ERR_STORE;
			}
		}
		io = run_on(r, k, &ep, asking, cmds, n, rep, deadline, &rd,
		    why, whysz);
		if (io == IO_NOSCRIPT && alt != NULL && n == 1)
			/* EVALSHA of a script this Redis does not hold (it
			 * restarted, or a SCRIPT FLUSH): nothing ran, so send
			 * the script itself on the same connection, which
			 * also caches it there. */
			io = run_on(r, k, &ep, 0, alt, n, rep, deadline, &rd,
			    why, whysz);
		if (io == IO_OK) {
			if (asking) {
				conn_free(k);
				k = NULL;
			}
			checkin(r, k);
			return CG_OK;
		}
		conn_free(k);
		if (io == IO_REDIRECT && redirects < MAX_REDIRECTS &&
		    cg__mono_us() < deadline) {
			redirects++;
			asking = rd.ask;
			if (rd.ask)
				ask_ep = rd.to;
			else
				follow(r, &rd.to);
			continue;
		}
		asking = 0;
		if (io == IO_ERROR && reused && retry && attempt == 0 &&
		    cg__mono_us() < deadline)
			continue;
		mark_down(r, probe, io == IO_TIMEOUT);
		return CG_ERR_STORE;
	}
}

static cg_code
rexec(struct rstore *r, const struct rcmd *cmds, size_t n, redisReply **rep,
    int64_t deadline, int retry, char *why, size_t whysz)
{
	return rexec_alt(r, cmds, NULL, n, rep, deadline, retry, why, whysz);
}

/* ---- keys ------------------------------------------------------------ */

#define KEY_MAX 256

/* {P} */
static size_t
tag(const struct rstore *r, char *out)
{
	out[0] = '{';
	memcpy(out + 1, r->prefix, r->plen);
	out[r->plen + 1] = '}';
	return r->plen + 2;
}

/* {P}r:<hex> */
static size_t
replay_key(const struct rstore *r, const unsigned char *key, char *out)
{
	size_t o = tag(r, out);

	memcpy(out + o, "r:", 2);
	cg__hex(key, CG_STORE_KEY_LEN, out + o + 2);
	return o + 2 + 2 * CG_STORE_KEY_LEN;
}

/* {P}v: (the SCAN pattern base) */
static size_t
rev_base(const struct rstore *r, char *out)
{
	size_t o = tag(r, out);

	memcpy(out + o, "v:", 2);
	return o + 2;
}

/* {P}v:<kind>:<hex> */
static int
rev_key(const struct rstore *r, cg_revoke_kind kind, const char *issuer,
    const char *v, size_t vlen, char *out, size_t *len)
{
	unsigned char h[CG_STORE_KEY_LEN];
	const char *kn = cg_revoke_kind_name(kind);
	size_t o = rev_base(r, out), kl = strlen(kn);

	if (cg__revocation_key(kind, issuer, v, vlen, h) != 0)
		return -1;
	memcpy(out + o, kn, kl);
	o += kl;
	out[o++] = ':';
	cg__hex(h, CG_STORE_KEY_LEN, out + o);
	*len = o + 2 * CG_STORE_KEY_LEN;
	out[*len] = '\0';
	return 0;
}

/* ---- the operations --------------------------------------------------- */

static int64_t
deadline_of(const struct rstore *r, int admin)
{
	int64_t t = r->timeout_us;

	if (admin && t < ADMIN_TIMEOUT_US)
		t = ADMIN_TIMEOUT_US;
	return cg__mono_us() + t;
}

static cg_code
r_insert(struct cg_store *s, const unsigned char key[CG_STORE_KEY_LEN],
    int64_t expires, int64_t now, int *inserted)
{
	struct rstore *r = (struct rstore *)s;
	char k[KEY_MAX], at[32], why[160];
	struct rcmd c;
	redisReply *rp;
	cg_code rc;

	(void)now;
	*inserted = 0;
	memset(&c, 0, sizeof(c));
	cmd_str(&c, "SET");
	cmd_add(&c, k, replay_key(r, key, k));
	cmd_str(&c, "1");
	cmd_str(&c, "NX");
	cmd_str(&c, "PXAT");
	snprintf(at, sizeof(at), "%lld", (long long)expires * 1000);
	cmd_str(&c, at);
	/* Not idempotent: a SET NX that reached Redis before the connection
	 * failed must not be sent again (its second answer would be "already
	 * used" for a first use). */
	rc = rexec(r, &c, 1, &rp, deadline_of(r, 0), 0, why, sizeof(why));
	if (rc != CG_OK)
		return rc;
	if (rp->type == REDIS_REPLY_STATUS)
		*inserted = 1;
	else if (rp->type != REDIS_REPLY_NIL)
		rc = CG_ERR_STORE;
	freeReplyObject(rp);
	return rc;
}

/*
 * Revocation check and replay entry in one round trip: a script that reads
 * the revocation keys (KEYS[1..n], the cut-off last) and, only when none
 * revokes the token, sets the replay key (KEYS[n+1]) as r_insert does.
 * ARGV: n, the token's iat ("" without one), the expiry in ms. Answers
 * {1, i}: revoked by KEYS[i]; {2, i}: KEYS[i] (a cut-off) does not parse;
 * {0, 1}: not revoked, inserted; {0, 0}: not revoked, already there.
 * Every key is in the store's hash slot, as Cluster requires of a script.
 * SCRIPT_SHA is the SHA-1 of SCRIPT (test_store_redis.c checks it).
 */
static const char SCRIPT[] =
    "local n = tonumber(ARGV[1])\n"
    "local v = redis.call('MGET', unpack(KEYS, 1, n))\n"
    "for i = 1, n do\n"
    "  if v[i] then\n"
    "    if i < n then return {1, i} end\n"
    "    local ok, e = pcall(cjson.decode, v[i])\n"
    "    if not ok or type(e) ~= 'table' then return {2, i} end\n"
    "    local t = e.issued_before\n"
    "    if type(t) ~= 'number' then return {2, i} end\n"
    "    if ARGV[2] == '' or tonumber(ARGV[2]) < t then return {1, i} end\n"
    "  end\n"
    "end\n"
    "if redis.call('SET', KEYS[n + 1], '1', 'NX', 'PXAT', ARGV[3]) then\n"
    "  return {0, 1}\n"
    "end\n"
    "return {0, 0}\n";
static const char SCRIPT_SHA[] = "10ebf65ecc33b66ec9ba0b500a12f49c27d12f0c";

const char *
cg__store_redis_script(const char **sha)
{
	*sha = SCRIPT_SHA;
	return SCRIPT;
}

/* The revocation keys of a query, the cut-off last. Returns how many. */
static size_t
rev_keys(const struct rstore *r, const struct cg_revoke_query *q,
    char keys[5][KEY_MAX], size_t kl[5], cg_revoke_kind kinds[5])
{
	size_t n = 0;

#define ADD(k, v, l)                                                        \
	do {                                                                \
		if ((v) != NULL) {                                          \
			if (rev_key(r, k, q->issuer, v, l, keys[n], &kl[n]) != \
			    0)                                              \
				return 0;                                   \
			kinds[n++] = k;                                     \
		}                                                           \
	} while (0)
	ADD(CG_REVOKE_JTI, q->jti, q->jti_len);
	ADD(CG_REVOKE_SUB, q->sub, q->sub_len);
	ADD(CG_REVOKE_KID, q->kid, q->kid != NULL ? strlen(q->kid) : 0);
	ADD(CG_REVOKE_JKT, q->jkt, q->jkt != NULL ? strlen(q->jkt) : 0);
	ADD(CG_REVOKE_ISSUED_BEFORE, "", 0);
#undef ADD
	return n;
}

static cg_code
r_check_insert(struct cg_store *s, const struct cg_revoke_query *q,
    const unsigned char key[CG_STORE_KEY_LEN], int64_t expires, int *revoked,
    cg_revoke_kind *kind, int *inserted)
{
	struct rstore *r = (struct rstore *)s;
	char keys[5][KEY_MAX], rk[KEY_MAX], nk[24], ns[24], iat[40], at[32];
	char why[160];
	cg_revoke_kind kinds[5];
	struct rcmd c[2];
	redisReply *rp;
	size_t kl[5], n, i, j, rkl;
	cg_code rc = CG_OK;
	long long st, idx;

	*revoked = 0;
	*inserted = 0;
	if ((n = rev_keys(r, q, keys, kl, kinds)) == 0)
		return CG_ERR_STORE;
	rkl = replay_key(r, key, rk);
	snprintf(nk, sizeof(nk), "%zu", n + 1);
	snprintf(ns, sizeof(ns), "%zu", n);
	if (q->has_iat)
		snprintf(iat, sizeof(iat), "%.17g", q->iat);
	else
		iat[0] = '\0';
	snprintf(at, sizeof(at), "%lld", (long long)expires * 1000);
	memset(c, 0, sizeof(c));
	cmd_str(&c[0], "EVALSHA");
	cmd_str(&c[0], SCRIPT_SHA);
	cmd_str(&c[1], "EVAL");
	cmd_add(&c[1], SCRIPT, sizeof(SCRIPT) - 1);
	for (j = 0; j < 2; j++) {
		cmd_str(&c[j], nk);
		for (i = 0; i < n; i++)
			cmd_add(&c[j], keys[i], kl[i]);
		cmd_add(&c[j], rk, rkl);
		cmd_str(&c[j], ns);
		cmd_str(&c[j], iat);
		cmd_str(&c[j], at);
	}
	/* Not idempotent (the SET): never retried after it may have run. */
	rc = rexec_alt(r, &c[0], &c[1], 1, &rp, deadline_of(r, 0), 0, why,
	    sizeof(why));
	if (rc != CG_OK)
		return rc;
	if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2 ||
	    rp->element[0]->type != REDIS_REPLY_INTEGER ||
	    rp->element[1]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(rp);
		return CG_ERR_STORE;
	}
	st = rp->element[0]->integer;
	idx = rp->element[1]->integer;
	freeReplyObject(rp);
	if (st == 1 && idx >= 1 && (size_t)idx <= n) {
		*revoked = 1;
		*kind = kinds[idx - 1];
	} else if (st == 0 && (idx == 0 || idx == 1)) {
		*inserted = (int)idx;
	} else {
		rc = CG_ERR_STORE;
	}
	return rc;
}

/* The expiry and cut-off of a stored revocation value. */
struct stored {
	int ok;
	cg_revoke_kind kind;
	int64_t expires, before;
};

static int
stored_of(void *ctx, const struct cg_revocation *rv, unsigned line)
{
	struct stored *st = ctx;

	(void)line;
	st->ok = 1;
	st->kind = rv->kind;
	st->expires = rv->expires;
	st->before = rv->issued_before;
	return 0;
}

/* issued_before of a cut-off value; -1 when it does not parse. */
static int
cut_of(const char *s, size_t len, int64_t *before)
{
	struct stored st;
	char why[96];
	size_t col;

	memset(&st, 0, sizeof(st));
	if (cg__revocation_parse(s, len, stored_of, &st, 1, why, sizeof(why),
		&col) != 0 ||
	    !st.ok || st.kind != CG_REVOKE_ISSUED_BEFORE)
		return -1;
	*before = st.before;
	return 0;
}

static cg_code
r_is_revoked(struct cg_store *s, const struct cg_revoke_query *q,
    int *revoked, cg_revoke_kind *kind)
{
	struct rstore *r = (struct rstore *)s;
	char keys[5][KEY_MAX], why[160];
	cg_revoke_kind kinds[5];
	struct rcmd c;
	redisReply *rp;
	size_t n, i, kl[5];
	cg_code rc;

	*revoked = 0;
	if ((n = rev_keys(r, q, keys, kl, kinds)) == 0)
		return CG_ERR_STORE;
	memset(&c, 0, sizeof(c));
	cmd_str(&c, "MGET");
	for (i = 0; i < n; i++)
		cmd_add(&c, keys[i], kl[i]);
	rc = rexec(r, &c, 1, &rp, deadline_of(r, 0), 1, why, sizeof(why));
	if (rc != CG_OK)
		return rc;
	if (rp->type != REDIS_REPLY_ARRAY || rp->elements != n) {
		freeReplyObject(rp);
		return CG_ERR_STORE;
	}
	for (i = 0; i < n && !*revoked; i++) {
		const redisReply *e = rp->element[i];
		int64_t before;
		if (e->type == REDIS_REPLY_NIL)
			continue;
		if (e->type != REDIS_REPLY_STRING) {
			rc = CG_ERR_STORE;
			break;
		}
		if (kinds[i] == CG_REVOKE_ISSUED_BEFORE) {
			/* A value that does not parse cannot tell what it
			 * revokes: the store cannot answer. */
			if (cut_of(e->str, e->len, &before) != 0) {
				rc = CG_ERR_STORE;
				break;
			}
			if (q->has_iat && q->iat >= (double)before)
				continue;
		}
		*revoked = 1;
		*kind = kinds[i];
	}
	freeReplyObject(rp);
	if (rc != CG_OK)
		*revoked = 0;
	return rc;
}

static cg_code
r_revoke(struct cg_store *s, const struct cg_revocation *rv,
    struct cg_error *err)
{
	struct rstore *r = (struct rstore *)s;
	struct cg_revocation w = *rv;
	char key[KEY_MAX], at[32], why[160], pwhy[96];
	struct stored st;
	struct rcmd c;
	redisReply *rp;
	int64_t deadline = deadline_of(r, 1);
	size_t kl, col;
	char *json;
	cg_code rc;

	if (rev_key(r, rv->kind, rv->issuer, rv->value,
		rv->value != NULL ? strlen(rv->value) : 0, key, &kl) != 0)
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	/* What is there already: a cut-off never moves back, and an entry
	 * never lapses earlier than it would have. */
	memset(&c, 0, sizeof(c));
	cmd_str(&c, "GET");
	cmd_add(&c, key, kl);
	if (rexec(r, &c, 1, &rp, deadline, 1, why, sizeof(why)) != CG_OK)
		return cg__err(err, CG_ERR_STORE, CG_NO_OFFSET, "%s", why);
	memset(&st, 0, sizeof(st));
	if (rp->type == REDIS_REPLY_STRING)
		(void)cg__revocation_parse(rp->str, rp->len, stored_of, &st, 1,
		    pwhy, sizeof(pwhy), &col);
	freeReplyObject(rp);
	if (st.ok && rv->kind == CG_REVOKE_ISSUED_BEFORE &&
	    st.before >= rv->issued_before)
		return CG_OK;
	if (st.ok && w.expires != 0 &&
	    (st.expires == 0 || st.expires > w.expires))
		w.expires = st.expires;
	if ((json = cg__revocation_json(&w)) == NULL)
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	memset(&c, 0, sizeof(c));
	cmd_str(&c, "SET");
	cmd_add(&c, key, kl);
	cmd_str(&c, json);
	if (w.expires != 0) {
		snprintf(at, sizeof(at), "%lld", (long long)w.expires * 1000);
		cmd_str(&c, "PXAT");
		cmd_str(&c, at);
	}
	rc = rexec(r, &c, 1, &rp, deadline, 1, why, sizeof(why));
	free(json);
	if (rc != CG_OK)
		return cg__err(err, CG_ERR_STORE, CG_NO_OFFSET, "%s", why);
	freeReplyObject(rp);
	return CG_OK;
}

static cg_code
r_list(struct cg_store *s, int64_t now,
    int (*fn)(void *ctx, const struct cg_revocation *r), void *ctx,
    struct cg_error *err)
{
	struct rstore *r = (struct rstore *)s;
	struct cg__rev_list l = {now, fn, ctx, 0};
	char cursor[32] = "0", pat[KEY_MAX], why[160], pwhy[96];
	struct rcmd c, sc[2];
	redisReply *rp, *g, *rps[2];
	size_t pl, i, col;
	cg_code rc;

	pl = rev_base(r, pat);
	memcpy(pat + pl, "*", 2);
	do {
		/* SCAN is not routed by key: a keyed command in front of it
		 * (a Cluster node that does not own the slot answers MOVED)
		 * makes sure it runs on the node that holds the keys. */
		memset(sc, 0, sizeof(sc));
		cmd_str(&sc[0], "EXISTS");
		cmd_add(&sc[0], pat, pl);
		cmd_str(&sc[1], "SCAN");
		cmd_str(&sc[1], cursor);
		cmd_str(&sc[1], "MATCH");
		cmd_str(&sc[1], pat);
		cmd_str(&sc[1], "COUNT");
		cmd_str(&sc[1], SCAN_COUNT);
		rc = rexec(r, sc, 2, rps, deadline_of(r, 1), 1, why,
		    sizeof(why));
		if (rc != CG_OK)
			return cg__err(err, CG_ERR_STORE, CG_NO_OFFSET, "%s",
			    why);
		freeReplyObject(rps[0]);
		rp = rps[1];
		if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2 ||
		    rp->element[0]->type != REDIS_REPLY_STRING ||
		    rp->element[0]->len >= sizeof(cursor) ||
		    rp->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(rp);
			return cg__err(err, CG_ERR_STORE, CG_NO_OFFSET,
			    "redis: unexpected SCAN reply");
		}
		memcpy(cursor, rp->element[0]->str, rp->element[0]->len);
		cursor[rp->element[0]->len] = '\0';
		for (i = 0; i < rp->element[1]->elements && !l.stopped; i++) {
			const redisReply *k = rp->element[1]->element[i];
			if (k->type != REDIS_REPLY_STRING)
				continue;
			memset(&c, 0, sizeof(c));
			cmd_str(&c, "GET");
			cmd_add(&c, k->str, k->len);
			if (rexec(r, &c, 1, &g, deadline_of(r, 1), 1, why,
				sizeof(why)) != CG_OK) {
				freeReplyObject(rp);
				return cg__err(err, CG_ERR_STORE, CG_NO_OFFSET,
				    "%s", why);
			}
			/* Gone since SCAN saw it (expired): skip. */
			if (g->type == REDIS_REPLY_STRING)
				(void)cg__revocation_parse(g->str, g->len,
				    cg__rev_list_one, &l, 1, pwhy, sizeof(pwhy),
				    &col);
			freeReplyObject(g);
		}
		freeReplyObject(rp);
	} while (strcmp(cursor, "0") != 0 && !l.stopped);
	return CG_OK;
}

static int
r_ready(struct cg_store *s)
{
	struct rstore *r = (struct rstore *)s;
	int64_t now = cg__mono_us();
	char why[160];
	struct rcmd c;
	redisReply *rp;
	int down, fresh;

	pthread_mutex_lock(&r->lock);
	down = r->down && now < r->retry_at;
	fresh = !r->down && now - r->answered_at < READY_EVERY_US &&
	    r->answered_at != 0;
	pthread_mutex_unlock(&r->lock);
	if (down)
		return 0;
	if (fresh)
		return 1;
	memset(&c, 0, sizeof(c));
	cmd_str(&c, "PING");
	if (rexec(r, &c, 1, &rp, deadline_of(r, 0), 1, why, sizeof(why)) !=
	    CG_OK)
		return 0;
	freeReplyObject(rp);
	return 1;
}

static char *
fingerprint(const struct cg_store_config *cfg)
{
	char buf[2048];
	int n;

	n = snprintf(buf, sizeof(buf), "%s\n%s\n%lld\n%s",
	    cfg->url != NULL ? cfg->url : "",
	    cfg->key_prefix != NULL ? cfg->key_prefix : "",
	    (long long)cfg->timeout_ms,
	    cfg->password_env != NULL ? cfg->password_env : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return NULL;
	return cg__strdup(buf);
}

static int
r_reconfigure(struct cg_store *s, const struct cg_store_config *cfg)
{
	struct rstore *r = (struct rstore *)s;
	char *f;
	int same;

	if (cfg->type != CG_STORE_REDIS || (f = fingerprint(cfg)) == NULL)
		return -1;
	same = strcmp(f, r->fingerprint) == 0;
	free(f);
	return same ? 0 : -1;
}

static void
r_free(struct cg_store *s)
{
	struct rstore *r = (struct rstore *)s;

	if (r == NULL)
		return;
	conns_free(r->idle);
	pthread_mutex_destroy(&r->lock);
	free(r->user);
	if (r->password != NULL)
		cg__free_secret(r->password, r->password_len);
	free(r->prefix);
	free(r->fingerprint);
	free(r);
}

const struct cg_store_ext cg__store_redis_ext = {{r_insert, r_free},
    r_is_revoked, r_check_insert, r_revoke, r_list, r_ready, r_reconfigure};

static int
dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = cg__strdup(s)) == NULL ? -1 : 0;
}

cg_code
cg__store_redis_open(const struct cg_store_config *cfg,
    struct cg_store **out, struct cg_error *err)
{
	struct rstore *r;
	const char *pw = NULL;

	*out = NULL;
	if (cfg->password_env != NULL) {
		/* The one place claimgate reads the environment: a secret
		 * never belongs in the policy file. */
		pw = getenv(cfg->password_env);
		if (pw == NULL || pw[0] == '\0') {
			char e[80];
			cg__escape(e, sizeof(e), cfg->password_env,
			    strlen(cfg->password_env), 64);
			return cg__err(err, CG_ERR_POLICY, CG_NO_OFFSET,
			    "store: environment variable %s (password_env) "
			    "is not set",
			    e);
		}
	}
	if (cfg->user != NULL && pw == NULL)
		return cg__err(err, CG_ERR_POLICY, CG_NO_OFFSET,
		    "store: a user in the url needs password_env");
	if ((r = cg__calloc(1, sizeof(*r))) == NULL)
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
	}
	r->base.ops = &cg__store_redis_ext.ops;
	if (cfg->unix_path != NULL) {
		if (strlen(cfg->unix_path) >= sizeof(r->seed.path))
			goto invalid;
		memcpy(r->seed.path, cfg->unix_path,
		    strlen(cfg->unix_path) + 1);
	} else if (cfg->host != NULL &&
	    strlen(cfg->host) < sizeof(r->seed.host)) {
		memcpy(r->seed.host, cfg->host, strlen(cfg->host) + 1);
		r->seed.port = cfg->port;
	} else {
		goto invalid;
	}
	r->cur = r->seed;
	r->db = cfg->db;
	r->timeout_us = cfg->timeout_ms * 1000;
	r->backoff = BACKOFF_MIN_US;
	if (dup_opt(cfg->user, &r->user) != 0 ||
	    dup_opt(cfg->key_prefix != NULL ? cfg->key_prefix : "cg:",
		&r->prefix) != 0 ||
	    (r->fingerprint = fingerprint(cfg)) == NULL)
		goto nomem;
	if (pw != NULL) {
		r->password_len = strlen(pw);
		if ((r->password = cg__strndup(pw, r->password_len)) == NULL)
			goto nomem;
	}
	r->plen = strlen(r->prefix);
	/* An empty tag "{}" would hash the whole key. */
	if (r->plen == 0 || r->plen > 64 || strpbrk(r->prefix, "{}") != NULL)
		goto invalid;
	*out = &r->base;
	return CG_OK;
invalid:
	r_free(&r->base);
	return cg__err(err, CG_ERR_POLICY, CG_NO_OFFSET,
	    "store: invalid redis configuration");
nomem:
	r_free(&r->base);
	return cg__err(err, CG_ERR_NOMEM, CG_NO_OFFSET, "out of memory");
}
