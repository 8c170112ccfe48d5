/*
 * test_store_redis.c - the Redis store against a real redis-server
 * (Debian package redis-server), started by this program on a free
 * loopback port (and a unix socket) with no persistence, and killed when
 * the program ends however it ends (SIGKILL on exit, and
 * PR_SET_PDEATHSIG should the program die first).
 *
 * Replay (one SET NX PXAT; exactly one insert among many threads and two
 * stores; expiry), every kind of revocation (issuer scope, cut-offs,
 * expiry, a cut-off never moving back), listing, key names and the hash
 * tag {key_prefix} on every key, AUTH from the environment, SELECT, unix
 * sockets, and faults: Redis absent, stopped (SIGSTOP: no answer; down
 * after three timeouts in a row) and killed, each answered within the
 * timeout and then at once while down, and recovery without a new store;
 * a pooled connection that Redis closed is not an error; a two-master
 * Redis Cluster, where MOVED is followed. Skipped when redis-server is not
 * installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "test_store_fixture.h"

/* The store timeout, what a request may take beyond it here (ASan, a
 * busy CI), and what "at once" means; all wider under valgrind. */
static int TIMEOUT_MS = 50;
static int SLACK_MS = 150;
static int FAST_MS = 5;

static pid_t redis_pid = -1;
static int redis_port;
static char redis_sock[96];
static int have_redis;

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static redisContext *
admin_connect(void)
{
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);

	if (c == NULL || c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Runs one command on a fresh admin connection; returns the reply
 * (freeReplyObject) or fails the test. */
static redisReply *
admin(const char *fmt, ...)
{
	redisContext *c = admin_connect();
	redisReply *r;
	va_list ap;

	if (c == NULL)
		fail_msg("cannot reach redis on port %d", redis_port);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	if (r == NULL)
		fail_msg("redis command failed: %s", fmt);
	return r;
}

static long long
admin_int(const char *fmt, const char *arg)
{
	redisReply *r = admin(fmt, arg);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;

	freeReplyObject(r);
	return v;
}

static void
redis_kill(void)
{
	int st;

	if (redis_pid > 0) {
		kill(redis_pid, SIGCONT);
		kill(redis_pid, SIGKILL);
		while (waitpid(redis_pid, &st, 0) < 0 && errno == EINTR)
			;
		redis_pid = -1;
	}
}

/* Starts redis-server on redis_port (0: pick one); 0 when it answers. */
static int
redis_start(void)
{
	char port[16];
	int i;

	if (redis_port == 0)
		redis_port = free_port();
	snprintf(port, sizeof(port), "%d", redis_port);
	redis_pid = fork();
	assert_true(redis_pid >= 0);
	if (redis_pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		/* Killed with this program, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind",
		    "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--unixsocket", redis_sock, "--unixsocketperm", "700",
		    "--databases", "16", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		redisContext *c = admin_connect();
		int st;
		if (c != NULL) {
			redisReply *r = redisCommand(c, "PING");
			int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
			freeReplyObject(r);
			redisFree(c);
			if (ok)
				return 0;
		}
		if (waitpid(redis_pid, &st, WNOHANG) == redis_pid) {
			redis_pid = -1;
			return -1;
		}
		fx_sleep_ms(50);
	}
	redis_kill();
	return -1;
}

static void cluster_kill(void);

static void
redis_stop_at_exit(void)
{
	redis_kill();
	cluster_kill();
}

/* A store for the fixture's policy with this store section (%d: port). */
static struct cg_policy *
redis_policy(const char *extra)
{
	char *s = cgt_fmt("store:\n  type: redis\n"
			  "  url: redis://127.0.0.1:%d\n"
			  "  timeout: %dms\n%s",
	    redis_port, TIMEOUT_MS, extra);
	struct cg_policy *p = fx_policy_load(s);

	free(s);
	return p;
}

static struct cg_store *
store_of(const struct cg_policy *p)
{
	struct cg_store *st = NULL;
	struct cg_error err;

	if (cg_store_new(p, &st, &err) != CG_OK)
		fail_msg("store: %s", err.msg);
	return st;
}

static int64_t
wall(void)
{
	return (int64_t)time(NULL);
}

#define SKIP_WITHOUT_REDIS()                                                \
	do {                                                                \
		if (!have_redis)                                            \
			skip();                                             \
	} while (0)

/* ---- replay ---------------------------------------------------------- */

static void
test_replay(void **state)
{
	struct cg_policy *p;
	struct cg_store *st, *st2;
	unsigned char key[CG_STORE_KEY_LEN], key2[CG_STORE_KEY_LEN];
	char name[200], hex[65];
	int ins = -1;
	long long pttl;

	(void)state;
	SKIP_WITHOUT_REDIS();
	p = redis_policy("  key_prefix: \"t-replay:\"\n");
	st = store_of(p);
	st2 = store_of(p);
	assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "j1", 2, key),
	    0);
	assert_int_equal(st->ops->insert_if_absent(st, key, wall() + 30, 0,
			     &ins),
	    CG_OK);
	assert_int_equal(ins, 1);
	assert_int_equal(st->ops->insert_if_absent(st, key, wall() + 30, 0,
			     &ins),
	    CG_OK);
	assert_int_equal(ins, 0);
	/* Another store (another instance) sees it. */
	assert_int_equal(st2->ops->insert_if_absent(st2, key, wall() + 30, 0,
			     &ins),
	    CG_OK);
	assert_int_equal(ins, 0);
	/* The key: hash tag {prefix}, "r:", hex of the replay key; it expires
	 * at the time given. */
	cg__hex(key, CG_STORE_KEY_LEN, hex);
	snprintf(name, sizeof(name), "{t-replay:}r:%s", hex);
	assert_int_equal(admin_int("EXISTS %s", name), 1);
	pttl = admin_int("PTTL %s", name);
	assert_true(pttl > 28000 && pttl <= 30000);

	/* Expiry: an entry until now + 1 is gone a second later. */
	assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "j2", 2, key2),
	    0);
	assert_int_equal(st->ops->insert_if_absent(st, key2, wall() + 1, 0,
			     &ins),
	    CG_OK);
	assert_int_equal(ins, 1);
	fx_sleep_ms(2100);
	assert_int_equal(st->ops->insert_if_absent(st, key2, wall() + 1, 0,
			     &ins),
	    CG_OK);
	assert_int_equal(ins, 1);
	cg_store_free(st2);
	cg_store_free(st);
	cg_policy_free(p);
}

struct race {
	struct cg_store *st;
	const unsigned char *key;
	int inserted;
	cg_code rc;
	pthread_barrier_t *go;
};

static void *
race_one(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	r->rc = r->st->ops->insert_if_absent(r->st, r->key, wall() + 30, 0,
	    &r->inserted);
	return NULL;
}

/* 32 threads over two stores insert the same key at once: exactly one
 * insert. */
static void
test_replay_race(void **state)
{
	enum { N = 32 };
	struct cg_policy *p;
	struct cg_store *a, *b;
	unsigned char key[CG_STORE_KEY_LEN];
	struct race r[N];
	pthread_t t[N];
	pthread_barrier_t go;
	int i, round, total;

	(void)state;
	SKIP_WITHOUT_REDIS();
	/* A longer timeout: 32 threads on two cores under ASan. */
	{
		char *s = cgt_fmt("store: { type: redis, url: "
				  "\"redis://127.0.0.1:%d\", timeout: 2s, "
				  "key_prefix: \"t-race:\" }\n",
		    redis_port);
		p = fx_policy_load(s);
		free(s);
	}
	a = store_of(p);
	b = store_of(p);
	for (round = 0; round < 5; round++) {
		char jti[16];
		snprintf(jti, sizeof(jti), "race-%d", round);
		assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), jti,
				     strlen(jti), key),
		    0);
		pthread_barrier_init(&go, NULL, N);
		for (i = 0; i < N; i++) {
			r[i].st = i % 2 ? a : b;
			r[i].key = key;
			r[i].inserted = 0;
			r[i].go = &go;
			assert_int_equal(pthread_create(&t[i], NULL, race_one,
					     &r[i]),
			    0);
		}
		for (total = 0, i = 0; i < N; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(r[i].rc, CG_OK);
			total += r[i].inserted;
		}
		pthread_barrier_destroy(&go);
		assert_int_equal(total, 1);
	}
	cg_store_free(a);
	cg_store_free(b);
	cg_policy_free(p);
}

/* ---- revocation ------------------------------------------------------- */

static cg_code
revoke(struct cg_store *st, cg_revoke_kind kind, const char *issuer,
    const char *value, int64_t before, int64_t expires)
{
	struct cg_revocation r;
	struct cg_error err;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.issuer = issuer;
	r.value = value;
	r.issued_before = before;
	r.reason = "unit test";
	r.at = wall();
	r.expires = expires;
	return cg_store_revoke(st, &r, &err);
}

struct acc {
	char text[4096];
	size_t n;
};

static int
collect(void *ctx, const struct cg_revocation *r)
{
	struct acc *a = ctx;
	size_t o = strlen(a->text);

	snprintf(a->text + o, sizeof(a->text) - o, "[%s/%s/%s]", r->issuer,
	    cg_revoke_kind_name(r->kind), r->value != NULL ? r->value : "-");
	a->n++;
	return 0;
}

static void
test_revocation(void **state)
{
	struct cg_policy *p;
	struct cg_store *st, *other;
	struct cg_revoke_query q;
	struct cg_error err;
	struct acc a;
	int64_t now = wall();
	redisReply *keys;

	(void)state;
	SKIP_WITHOUT_REDIS();
	p = redis_policy("  key_prefix: \"t-rev:\"\n");
	st = store_of(p);
	other = store_of(p);

	q = fx_query("sso", "j1", "alice", 1, (double)now, now);
	assert_int_equal(fx_revoked(st, &q), 0);
	assert_int_equal(revoke(st, CG_REVOKE_JTI, "sso", "j1", 0, now + 60),
	    CG_OK);
	/* Every store on the same Redis sees it at once. */
	assert_int_equal(fx_revoked(other, &q), CG_REVOKE_JTI);
	q.issuer = "other";
	assert_int_equal(fx_revoked(other, &q), 0);

	assert_int_equal(revoke(st, CG_REVOKE_SUB, "sso", "mallory", 0,
			     now + 60),
	    CG_OK);
	q = fx_query("sso", "j2", "mallory", 1, (double)now, now);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_SUB);
	q.sub = "mallor";
	q.sub_len = 6;
	assert_int_equal(fx_revoked(st, &q), 0);

	assert_int_equal(revoke(st, CG_REVOKE_KID, "other", "k1", 0, now + 60),
	    CG_OK);
	q = fx_query("other", "j2", "bob", 1, (double)now, now);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_KID);
	q.issuer = "sso";
	assert_int_equal(fx_revoked(st, &q), 0);

	assert_int_equal(revoke(st, CG_REVOKE_JKT, "sso",
			     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0,
			     now + 60),
	    CG_OK);
	q = fx_query("sso", "j2", "bob", 1, (double)now, now);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_JKT);

	/* Cut-off: before it, or without iat. */
	assert_int_equal(revoke(st, CG_REVOKE_ISSUED_BEFORE, "other", NULL,
			     now - 100, now + 60),
	    CG_OK);
	q = fx_query("other", "j3", "bob", 1, (double)(now - 101), now);
	q.kid = "k2";
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_ISSUED_BEFORE);
	q.iat = (double)(now - 100);
	assert_int_equal(fx_revoked(st, &q), 0);
	q.has_iat = 0;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_ISSUED_BEFORE);
	/* A cut-off never moves back... */
	assert_int_equal(revoke(st, CG_REVOKE_ISSUED_BEFORE, "other", NULL,
			     now - 1000, now + 60),
	    CG_OK);
	q.has_iat = 1;
	q.iat = (double)(now - 101);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_ISSUED_BEFORE);
	/* ... but forward. */
	assert_int_equal(revoke(st, CG_REVOKE_ISSUED_BEFORE, "other", NULL,
			     now - 10, now + 60),
	    CG_OK);
	q.iat = (double)(now - 50);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_ISSUED_BEFORE);

	/* Keys: all under one hash tag, values hashed. */
	keys = admin("KEYS {t-rev:}*");
	assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
	assert_int_equal(keys->elements, 5);
	{
		size_t i;
		for (i = 0; i < keys->elements; i++) {
			const char *k = keys->element[i]->str;
			assert_true(strncmp(k, "{t-rev:}v:", 10) == 0);
			assert_null(strstr(k, "mallory"));
		}
	}
	freeReplyObject(keys);

	memset(&a, 0, sizeof(a));
	assert_int_equal(cg_store_list(st, now, collect, &a, &err), CG_OK);
	assert_int_equal(a.n, 5);
	assert_non_null(strstr(a.text, "[sso/sub/mallory]"));
	assert_non_null(strstr(a.text, "[other/issued_before/-]"));
	assert_non_null(strstr(a.text, "[other/kid/k1]"));

	/* An entry never lapses earlier than it would have. */
	assert_int_equal(revoke(st, CG_REVOKE_SUB, "sso", "mallory", 0,
			     now + 5),
	    CG_OK);
	{
		char name[200];
		unsigned char h[CG_STORE_KEY_LEN];
		char hex[65];
		assert_int_equal(cg__revocation_key(CG_REVOKE_SUB, "sso",
				     "mallory", 7, h),
		    0);
		cg__hex(h, sizeof(h), hex);
		snprintf(name, sizeof(name), "{t-rev:}v:sub:%s", hex);
		assert_true(admin_int("TTL %s", name) > 50);
	}

	/* Entries expire: gone after their second (not revoked, not
	 * listed). The expiry is an absolute second, taken afresh here:
	 * under valgrind the test's start may lie seconds back, and
	 * "+ 2" keeps at least one whole second before it lapses. */
	now = wall();
	assert_int_equal(
	    revoke(st, CG_REVOKE_SUB, "sso", "short", 0, now + 2), CG_OK);
	q = fx_query("sso", NULL, "short", 1, (double)now, now);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_SUB);
	fx_sleep_ms(3100);
	assert_int_equal(fx_revoked(st, &q), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(cg_store_list(st, wall(), collect, &a, &err), CG_OK);
	assert_null(strstr(a.text, "short"));

	/* A cut-off value that does not parse: the store cannot answer. */
	{
		unsigned char h[CG_STORE_KEY_LEN];
		char hex[65], name[200];
		redisReply *r;
		assert_int_equal(cg__revocation_key(CG_REVOKE_ISSUED_BEFORE,
				     "sso", "", 0, h),
		    0);
		cg__hex(h, sizeof(h), hex);
		snprintf(name, sizeof(name), "{t-rev:}v:issued_before:%s",
		    hex);
		r = admin("SET %s garbage EX 60", name);
		freeReplyObject(r);
		q = fx_query("sso", NULL, "x", 1, (double)now, now);
		q.jkt = NULL;
		assert_int_equal(fx_revoked(st, &q), -1);
		r = admin("DEL %s", name);
		freeReplyObject(r);
		/* A command error marks the store down for a moment. */
		fx_sleep_ms(600);
		assert_int_equal(fx_revoked(st, &q), 0);
	}

	cg_store_free(other);
	cg_store_free(st);
	cg_policy_free(p);
}

/* ---- revocation and replay in one round trip ----------------------------- */

static int
check_insert(struct cg_store *st, const struct cg_revoke_query *q,
    const unsigned char *key, int64_t until, int *inserted)
{
	cg_revoke_kind kind = CG_REVOKE_JTI;
	int revoked = 0;

	*inserted = -1;
	if (cg__store_ext(st)->check_insert(st, q, key, until, &revoked, &kind,
		inserted) != CG_OK)
		return -1;
	return revoked ? (int)kind : 0;
}

static void
test_check_insert(void **state)
{
	struct cg_policy *p;
	struct cg_store *st;
	struct cg_revoke_query q;
	unsigned char key[CG_STORE_KEY_LEN];
	const char *sha, *script = cg__store_redis_script(&sha);
	int64_t now = wall();
	redisReply *r;
	int ins;

	(void)state;
	SKIP_WITHOUT_REDIS();
	/* The SHA-1 the store sends with EVALSHA is the script's. */
	r = admin("SCRIPT LOAD %s", script);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, sha);
	freeReplyObject(r);

	p = redis_policy("  key_prefix: \"t-ci:\"\n");
	st = store_of(p);
	assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "c1", 2, key),
	    0);
	q = fx_query("sso", "c1", "alice", 1, (double)now, now);
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins), 0);
	assert_int_equal(ins, 1);
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins), 0);
	assert_int_equal(ins, 0);

	/* Revoked: reported, and the jti is not recorded. */
	assert_int_equal(revoke(st, CG_REVOKE_SUB, "sso", "mallory", 0,
			     now + 60),
	    CG_OK);
	assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "c2", 2, key),
	    0);
	q = fx_query("sso", "c2", "mallory", 1, (double)now, now);
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins),
	    CG_REVOKE_SUB);
	q.sub = "alice";
	q.sub_len = 5;
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins), 0);
	assert_int_equal(ins, 1);

	/* The cut-off: compared with iat in the script as in C. */
	assert_int_equal(revoke(st, CG_REVOKE_ISSUED_BEFORE, "other", NULL,
			     now - 100, now + 60),
	    CG_OK);
	assert_int_equal(cg__replay_key("z", ISS2, strlen(ISS2), "c3", 2, key),
	    0);
	q = fx_query("other", "c3", "bob", 1, (double)(now - 100) - 0.5, now);
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins),
	    CG_REVOKE_ISSUED_BEFORE);
	q.has_iat = 0;
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins),
	    CG_REVOKE_ISSUED_BEFORE);
	q.has_iat = 1;
	q.iat = (double)(now - 100);
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins), 0);
	assert_int_equal(ins, 1);

	/* Redis lost its scripts (SCRIPT FLUSH, a restart): EVAL instead. */
	freeReplyObject(admin("SCRIPT FLUSH"));
	assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "c4", 2, key),
	    0);
	q = fx_query("sso", "c4", "alice", 1, (double)now, now);
	assert_int_equal(check_insert(st, &q, key, now + 30, &ins), 0);
	assert_int_equal(ins, 1);
	r = admin("SCRIPT EXISTS %s", sha);
	assert_int_equal(r->element[0]->integer, 1);
	freeReplyObject(r);

	/* A cut-off value that does not parse: the store cannot answer. */
	{
		unsigned char h[CG_STORE_KEY_LEN];
		char hex[65], name[200];
		assert_int_equal(cg__revocation_key(CG_REVOKE_ISSUED_BEFORE,
				     "sso", "", 0, h),
		    0);
		cg__hex(h, sizeof(h), hex);
		snprintf(name, sizeof(name), "{t-ci:}v:issued_before:%s", hex);
		freeReplyObject(admin("SET %s {\"issued_before\":\"x\"} EX 60",
		    name));
		assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "c5", 2,
				     key),
		    0);
		q = fx_query("sso", "c5", "alice", 1, (double)now, now);
		assert_int_equal(check_insert(st, &q, key, now + 30, &ins),
		    -1);
		freeReplyObject(admin("DEL %s", name));
	}
	cg_store_free(st);
	cg_policy_free(p);
}

/* ---- the engine over Redis -------------------------------------------- */

static void
test_engine(void **state)
{
	struct cg_policy *p;
	struct cg_store *st;
	int64_t now = wall();
	char *tok;

	(void)state;
	SKIP_WITHOUT_REDIS();
	p = redis_policy("  key_prefix: \"t-eng:\"\n");
	st = store_of(p);
	/* Tokens relative to the wall clock: Redis expires by it. */
	tok = cgt_fmt("{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":%lld,"
		      "\"iat\":%lld,\"jti\":\"e1\",\"grp\":\"ok\","
		      "\"sub\":\"alice\"}",
	    (long long)now + 60, (long long)now);
	expect_reason(p, "z", tok, now, st, CG_REASON_OK);
	expect_reason(p, "z", tok, now, st, CG_REASON_REPLAYED);
	expect_reason(p, "plain", tok, now, st, CG_REASON_OK);
	assert_int_equal(revoke(st, CG_REVOKE_SUB, "sso", "alice", 0,
			     now + 60),
	    CG_OK);
	expect_reason(p, "plain", tok, now, st, CG_REASON_REVOKED);
	/* revoked before replayed: */
	expect_reason(p, "z", tok, now, st, CG_REASON_REVOKED);
	free(tok);
	/* The trusted claims and require run before the store is asked
	 * (one round trip), but revoked still outranks their reasons, and
	 * a token they deny never records its jti. */
	tok = cgt_fmt("{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":%lld,"
		      "\"iat\":%lld,\"jti\":\"e2\",\"sub\":\"alice\"}",
	    (long long)now + 60, (long long)now);
	expect_reason(p, "z", tok, now, st, CG_REASON_REVOKED);
	free(tok);
	tok = cgt_fmt("{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":%lld,"
		      "\"iat\":%lld,\"jti\":\"e3\",\"sub\":\"bob\","
		      "\"grp\":\"no\"}",
	    (long long)now + 60, (long long)now);
	expect_reason(p, "z", tok, now, st, CG_REASON_FORBIDDEN);
	expect_reason(p, "z", tok, now, st, CG_REASON_FORBIDDEN);
	free(tok);
	tok = cgt_fmt("{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":%lld,"
		      "\"iat\":%lld,\"jti\":\"e3\",\"sub\":\"bob\"}",
	    (long long)now + 60, (long long)now);
	expect_reason(p, "z", tok, now, st, CG_REASON_CLAIM_UNTRUSTED);
	free(tok);
	tok = cgt_fmt("{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":%lld,"
		      "\"iat\":%lld,\"jti\":\"e3\",\"sub\":\"bob\","
		      "\"grp\":\"ok\"}",
	    (long long)now + 60, (long long)now);
	expect_reason(p, "z", tok, now, st, CG_REASON_OK);
	expect_reason(p, "z", tok, now, st, CG_REASON_REPLAYED);
	free(tok);
	cg_store_free(st);
	cg_policy_free(p);
}

/* ---- connections: AUTH, SELECT, unix sockets ------------------------------ */

static void
test_auth_db_unix(void **state)
{
	struct cg_policy *p;
	struct cg_store *st;
	struct cg_revoke_query q;
	struct cg_error err;
	redisReply *r;
	char *s;

	(void)state;
	SKIP_WITHOUT_REDIS();
	/* SELECT: keys land in database 5. */
	p = fx_policy_load(s = cgt_fmt("store: { type: redis, url: "
				       "\"redis://127.0.0.1:%d/5\", "
				       "key_prefix: \"t-db:\" }\n",
			       redis_port));
	free(s);
	st = store_of(p);
	assert_int_equal(revoke(st, CG_REVOKE_JTI, "sso", "db", 0,
			     wall() + 60),
	    CG_OK);
	cg_store_free(st);
	cg_policy_free(p);
	{
		redisContext *c = admin_connect();
		assert_non_null(c);
		r = redisCommand(c, "SELECT 5");
		freeReplyObject(r);
		r = redisCommand(c, "KEYS {t-db:}*");
		assert_int_equal(r->elements, 1);
		freeReplyObject(r);
		redisFree(c);
	}
	r = admin("KEYS {t-db:}*");
	assert_int_equal(r->elements, 0);
	freeReplyObject(r);

	/* A unix socket. */
	p = fx_policy_load(s = cgt_fmt("store: { type: redis, url: "
				       "\"unix:%s\", key_prefix: \"t-unix:\" "
				       "}\n",
			       redis_sock));
	free(s);
	st = store_of(p);
	assert_int_equal(revoke(st, CG_REVOKE_JTI, "sso", "u", 0, wall() + 60),
	    CG_OK);
	r = admin("KEYS {t-unix:}*");
	assert_int_equal(r->elements, 1);
	freeReplyObject(r);
	cg_store_free(st);
	cg_policy_free(p);

	/* AUTH with the password from the environment. */
	r = admin("CONFIG SET requirepass s3cret-pw");
	freeReplyObject(r);
	s = cgt_fmt("store: { type: redis, url: \"redis://127.0.0.1:%d\", "
		    "password_env: CG_TEST_REDIS_PW, key_prefix: \"t-auth:\" "
		    "}\n",
	    redis_port);
	p = fx_policy_load(s);
	free(s);
	unsetenv("CG_TEST_REDIS_PW");
	assert_int_equal(cg_store_new(p, &st, &err), CG_ERR_POLICY);
	assert_non_null(strstr(err.msg, "CG_TEST_REDIS_PW"));
	assert_null(st);
	setenv("CG_TEST_REDIS_PW", "wrong", 1);
	st = store_of(p);
	q = fx_query("sso", "j", "s", 1, 0, wall());
	assert_int_equal(fx_revoked(st, &q), -1);
	assert_int_equal(revoke(st, CG_REVOKE_JTI, "sso", "x", 0, wall() + 60),
	    CG_ERR_STORE);
	cg_store_free(st);
	setenv("CG_TEST_REDIS_PW", "s3cret-pw", 1);
	st = store_of(p);
	assert_int_equal(fx_revoked(st, &q), 0);
	assert_int_equal(cg_store_ready(st), 1);
	/* Admin connections now need the password too. */
	{
		redisContext *c = admin_connect();
		assert_non_null(c);
		r = redisCommand(c, "AUTH s3cret-pw");
		freeReplyObject(r);
		r = redisCommand(c, "CONFIG SET requirepass %s", "");
		freeReplyObject(r);
		redisFree(c);
	}
	unsetenv("CG_TEST_REDIS_PW");
	cg_store_free(st);
	cg_policy_free(p);
}

/* ---- faults ---------------------------------------------------------------- */

static int64_t
ms_since(int64_t t0)
{
	return (cg__mono_us() - t0) / 1000;
}

/* One revocation check: its result and how long it took (ms). */
static int
timed_check(struct cg_store *st, int64_t *ms)
{
	struct cg_revoke_query q = fx_query("sso", "j", "s", 1, 0, wall());
	int64_t t0 = cg__mono_us();
	int r = fx_revoked(st, &q);

	*ms = ms_since(t0);
	return r;
}

/* Polls until the store answers (not -1); returns the ms it took, or -1
 * after `limit_ms`. */
static int64_t
until_answer(struct cg_store *st, int64_t limit_ms)
{
	int64_t t0 = cg__mono_us(), ms;

	while (ms_since(t0) < limit_ms) {
		if (timed_check(st, &ms) != -1)
			return ms_since(t0);
		fx_sleep_ms(20);
	}
	return -1;
}

static void
test_fault_absent(void **state)
{
	struct cg_policy *p;
	struct cg_store *st;
	int64_t ms, worst = 0;
	int i;
	char *s;

	(void)state;
	/* Nothing listens on this port. */
	p = fx_policy_load(s = cgt_fmt("store: { type: redis, url: "
				       "\"redis://127.0.0.1:%d\", timeout: "
				       "%dms }\n",
			       free_port(), TIMEOUT_MS));
	free(s);
	st = store_of(p); /* a store is made even when Redis is down */
	assert_int_equal(timed_check(st, &ms), -1);
	assert_true(ms <= TIMEOUT_MS + SLACK_MS);
	/* While down, no request waits: no connection is even tried. */
	for (i = 0; i < 50; i++) {
		assert_int_equal(timed_check(st, &ms), -1);
		if (ms > worst)
			worst = ms;
	}
	assert_true(worst <= FAST_MS);
	assert_int_equal(cg_store_ready(st), 0);
	cg_store_free(st);
	cg_policy_free(p);
}

static void
test_fault_stopped_killed(void **state)
{
	struct cg_policy *p;
	struct cg_store *st;
	int64_t ms, rec;
	int i;

	(void)state;
	SKIP_WITHOUT_REDIS();
	p = redis_policy("  key_prefix: \"t-fault:\"\n");
	st = store_of(p);
	assert_int_equal(timed_check(st, &ms), 0);

	/* Stopped: the connection is there, no answer comes. */
	kill(redis_pid, SIGSTOP);
	assert_int_equal(timed_check(st, &ms), -1);
	print_message("no answer: denied after %lld ms (timeout %d ms)\n",
	    (long long)ms, TIMEOUT_MS);
	assert_true(ms >= TIMEOUT_MS - 1 && ms <= TIMEOUT_MS + SLACK_MS);
	/* Three late answers in a row mark the store down... */
	for (i = 0; i < 2; i++) {
		assert_int_equal(timed_check(st, &ms), -1);
		assert_true(ms >= TIMEOUT_MS - 1 &&
		    ms <= TIMEOUT_MS + SLACK_MS);
	}
	/* ... and then requests are denied at once. */
	assert_int_equal(timed_check(st, &ms), -1);
	assert_true(ms <= FAST_MS);
	/* Probes come at most every 0.5 s and each waits the timeout:
	 * whatever happens, no request waits longer than the timeout. */
	for (i = 0; i < 40; i++) {
		assert_int_equal(timed_check(st, &ms), -1);
		assert_true(ms <= TIMEOUT_MS + SLACK_MS);
		fx_sleep_ms(25);
	}
	assert_int_equal(cg_store_ready(st), 0);
	kill(redis_pid, SIGCONT);
	rec = until_answer(st, 10000);
	print_message("redis continued: answering again after %lld ms\n",
	    (long long)rec);
	assert_true(rec >= 0 && rec <= 2000 + TIMEOUT_MS + SLACK_MS + 500);
	assert_int_equal(cg_store_ready(st), 1);

	/* Killed, then started again on the same port: the same store
	 * recovers. */
	redis_kill();
	assert_int_equal(timed_check(st, &ms), -1);
	assert_true(ms <= TIMEOUT_MS + SLACK_MS);
	fx_sleep_ms(700);
	assert_int_equal(timed_check(st, &ms), -1);
	assert_int_equal(redis_start(), 0);
	rec = until_answer(st, 10000);
	print_message("redis restarted: answering again after %lld ms\n",
	    (long long)rec);
	assert_true(rec >= 0 && rec <= 2000 + TIMEOUT_MS + SLACK_MS + 500);

	/* Redis closes pooled connections (CLIENT KILL, its idle timeout):
	 * the next request does not fail for it. */
	for (i = 0; i < 4; i++)
		assert_int_equal(timed_check(st, &ms), 0);
	freeReplyObject(admin("CLIENT KILL TYPE normal SKIPME yes"));
	fx_sleep_ms(50);
	for (i = 0; i < 4; i++)
		assert_int_equal(timed_check(st, &ms), 0);

	/* Replay answers store errors, never "inserted". */
	{
		unsigned char key[CG_STORE_KEY_LEN];
		int ins = 7;
		assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "f", 1,
				     key),
		    0);
		kill(redis_pid, SIGSTOP);
		assert_int_equal(st->ops->insert_if_absent(st, key,
				     wall() + 30, 0, &ins),
		    CG_ERR_STORE);
		assert_int_equal(ins, 0);
		kill(redis_pid, SIGCONT);
		assert_true(until_answer(st, 5000) >= 0);
		/* The SET may have reached Redis before the timeout: this
		 * jti may now count as used, never as free twice. */
	}
	cg_store_free(st);
	cg_policy_free(p);
}

/* ---- Redis Cluster: MOVED is followed ------------------------------------ */

static pid_t cluster_pid[2] = {-1, -1};

static void
cluster_kill(void)
{
	int i, st;

	for (i = 0; i < 2; i++)
		if (cluster_pid[i] > 0) {
			kill(cluster_pid[i], SIGKILL);
			while (waitpid(cluster_pid[i], &st, 0) < 0 &&
			    errno == EINTR)
				;
			cluster_pid[i] = -1;
		}
}

/* A port whose cluster bus port (+10000) is free too. */
static int
cluster_port(int after)
{
	int p, s, ok, k;

	for (p = after + 1; p < 30000; p++) {
		for (ok = 1, k = 0; ok && k < 2; k++) {
			struct sockaddr_in a;
			s = socket(AF_INET, SOCK_STREAM, 0);
			memset(&a, 0, sizeof(a));
			a.sin_family = AF_INET;
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			a.sin_port = htons((uint16_t)(p + k * 10000));
			ok = bind(s, (struct sockaddr *)&a, sizeof(a)) == 0;
			close(s);
		}
		if (ok)
			return p;
	}
	return -1;
}

static redisReply *
admin_at(int port, const char *fmt, ...)
{
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply *r = NULL;
	va_list ap;

	if (c != NULL && !c->err) {
		va_start(ap, fmt);
		r = redisvCommand(c, fmt, ap);
		va_end(ap);
	}
	redisFree(c);
	return r;
}

static int
cluster_start(int port[2])
{
	int i, n;

	port[0] = cluster_port(20000 + (int)(getpid() % 5000));
	port[1] = cluster_port(port[0]);
	if (port[0] < 0 || port[1] < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		char ps[16], conf[160];
		snprintf(ps, sizeof(ps), "%d", port[i]);
		snprintf(conf, sizeof(conf), "%s/nodes-%d.conf", fx_dir,
		    port[i]);
		cluster_pid[i] = fork();
		assert_true(cluster_pid[i] >= 0);
		if (cluster_pid[i] == 0) {
			int fd = open("/dev/null", O_WRONLY);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("redis-server", "redis-server", "--port", ps,
			    "--bind", "127.0.0.1", "--save", "", "--appendonly",
			    "no", "--cluster-enabled", "yes",
			    "--cluster-config-file", conf, (char *)NULL);
			_exit(127);
		}
	}
	for (n = 0; n < 100; n++) {
		redisReply *a = admin_at(port[0], "PING"),
			   *b = admin_at(port[1], "PING");
		int ok = a != NULL && b != NULL;
		freeReplyObject(a);
		freeReplyObject(b);
		if (ok)
			break;
		fx_sleep_ms(50);
	}
	freeReplyObject(admin_at(port[0], "CLUSTER ADDSLOTSRANGE 0 8191"));
	freeReplyObject(admin_at(port[1], "CLUSTER ADDSLOTSRANGE 8192 16383"));
	freeReplyObject(admin_at(port[0], "CLUSTER MEET 127.0.0.1 %d",
	    port[1]));
	for (n = 0; n < 200; n++) {
		redisReply *a = admin_at(port[0], "CLUSTER INFO"),
			   *b = admin_at(port[1], "CLUSTER INFO");
		int ok = a != NULL && b != NULL &&
		    strstr(a->str, "cluster_state:ok") != NULL &&
		    strstr(b->str, "cluster_state:ok") != NULL &&
		    strstr(a->str, "cluster_known_nodes:2") != NULL &&
		    strstr(b->str, "cluster_known_nodes:2") != NULL;
		freeReplyObject(a);
		freeReplyObject(b);
		if (ok)
			return 0;
		fx_sleep_ms(50);
	}
	return -1;
}

/* Two masters, slots 0-8191 and 8192-16383. The prefix "t-a:" hashes to
 * slot 8977 (the second); the store is pointed at the first, gets MOVED,
 * and works from the second from then on. */
static void
test_cluster_moved(void **state)
{
	struct cg_policy *p;
	struct cg_store *st;
	struct cg_revoke_query q;
	unsigned char key[CG_STORE_KEY_LEN];
	redisReply *r;
	int port[2], ins = -1, i;
	char *s;

	(void)state;
	SKIP_WITHOUT_REDIS();
	if (cluster_start(port) != 0) {
		cluster_kill();
		fail_msg("the two-node cluster did not form");
	}
	r = admin_at(port[0], "CLUSTER KEYSLOT {t-a:}r:x");
	assert_int_equal(r->integer, 8977);
	freeReplyObject(r);
	s = cgt_fmt("store: { type: redis, url: \"redis://127.0.0.1:%d\", "
		    "key_prefix: \"t-a:\", timeout: 500ms }\n",
	    port[0]);
	p = fx_policy_load(s);
	free(s);
	st = store_of(p);
	q = fx_query("sso", "j1", "s", 1, (double)wall(), wall());
	assert_int_equal(fx_revoked(st, &q), 0);
	assert_int_equal(revoke(st, CG_REVOKE_JTI, "sso", "j1", 0,
			     wall() + 60),
	    CG_OK);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_JTI);
	assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "c1", 2, key),
	    0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(st->ops->insert_if_absent(st, key,
				     wall() + 30, 0, &ins),
		    CG_OK);
		assert_int_equal(ins, i == 0);
	}
	/* Listing asks the node that holds the keys, even from a store
	 * that was never redirected yet. */
	{
		struct cg_store *fresh = store_of(p);
		struct acc a;
		struct cg_error err;
		memset(&a, 0, sizeof(a));
		assert_int_equal(cg_store_list(fresh, wall(), collect, &a,
				     &err),
		    CG_OK);
		assert_string_equal(a.text, "[sso/jti/j1]");
		cg_store_free(fresh);
	}
	/* Everything is on the second master, nothing on the first. */
	r = admin_at(port[1], "DBSIZE");
	assert_int_equal(r->integer, 2);
	freeReplyObject(r);
	r = admin_at(port[0], "DBSIZE");
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	cg_store_free(st);
	cg_policy_free(p);
	cluster_kill();
}

static void
test_reconfigure(void **state)
{
	struct cg_policy *p, *same, *other, *mem;
	struct cg_store *st;

	(void)state;
	p = redis_policy("  key_prefix: \"a:\"\n");
	same = redis_policy("  key_prefix: \"a:\"\n");
	other = redis_policy("  key_prefix: \"b:\"\n");
	mem = fx_policy_load("");
	st = store_of(p);
	assert_int_equal(cg__store_ext(st)->reconfigure(st, &same->store), 0);
	assert_int_equal(cg__store_ext(st)->reconfigure(st, &other->store), -1);
	assert_int_equal(cg__store_ext(st)->reconfigure(st, &mem->store), -1);
	cg_store_free(st);
	cg_policy_free(mem);
	cg_policy_free(other);
	cg_policy_free(same);
	cg_policy_free(p);
}

static int
setup(void **state)
{
	(void)state;
	if (cgt_under_valgrind()) {
		TIMEOUT_MS = 1000;
		SLACK_MS = 3000;
		FAST_MS = 200;
	}
	fx_setup();
	snprintf(redis_sock, sizeof(redis_sock), "%s/redis.sock", fx_dir);
	atexit(redis_stop_at_exit);
	have_redis = redis_start() == 0;
	if (!have_redis)
		print_message("redis-server not available: skipping\n");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	redis_kill();
	fx_teardown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_replay_race),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_check_insert),
		cmocka_unit_test(test_engine),
		cmocka_unit_test(test_auth_db_unix),
		cmocka_unit_test(test_fault_absent),
		cmocka_unit_test(test_fault_stopped_killed),
		cmocka_unit_test(test_cluster_moved),
		cmocka_unit_test(test_reconfigure),
	};

	/* A failing assertion in a child of this program must never leave
	 * Redis stopped. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
