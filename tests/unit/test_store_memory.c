/*
 * test_store_memory.c - the policy's `store` section, revocations as JSON
 * lines, and the memory store's revocations_file: every kind of
 * revocation, issuer scope, expiry, cut-offs with and without iat, reload
 * when the file changes (within a second), a broken or missing file
 * failing closed, cg_store_revoke / cg_store_list, reconfigure on reload,
 * and the engine's steps 20 (store_unavailable) and 21 (revoked) in their
 * place in the decision order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_store_fixture.h"

/* ---- durations with ms ------------------------------------------------ */

static void
test_duration_ms(void **state)
{
	static const struct {
		const char *in;
		int ok;
		int64_t ms;
	} rows[] = {
		{"50ms", 1, 50}, {"1ms", 1, 1}, {"0ms", 1, 0}, {"2", 1, 2000},
		{"2s", 1, 2000}, {"1m", 1, 60000}, {"1h", 1, 3600000},
		{"ms", 0, 0}, {"5 ms", 0, 0}, {"5MS", 0, 0}, {"5mss", 0, 0},
		{"-5ms", 0, 0}, {"1.5s", 0, 0}, {"5us", 0, 0}, {"", 0, 0},
		{"315360000001ms", 0, 0}, {"315360000000ms", 1, 315360000000},
	};
	size_t i;
	int64_t ms;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ms = -1;
		if ((cg__duration_ms_parse(rows[i].in, &ms) == 0) != rows[i].ok)
			fail_msg("%s: expected %s", rows[i].in,
			    rows[i].ok ? "ok" : "error");
		if (rows[i].ok)
			assert_int_equal(ms, rows[i].ms);
	}
}

/* ---- the store section ----------------------------------------------------- */

static void
test_store_section_ok(void **state)
{
	struct cg_policy *p;

	(void)state;
	p = fx_policy_load("");
	assert_int_equal(p->store.type, CG_STORE_MEMORY);
	assert_null(p->store.revocations_file);
	assert_int_equal(cg__policy_revocation(p), 0);
	cg_policy_free(p);

	p = fx_policy_load("store:\n  type: redis\n"
			   "  url: redis://127.0.0.1:6380/2\n"
			   "  key_prefix: \"app-1:\"\n  timeout: 75ms\n"
			   "  password_env: CG_TEST_PW\n");
	assert_int_equal(p->store.type, CG_STORE_REDIS);
	assert_string_equal(p->store.host, "127.0.0.1");
	assert_int_equal(p->store.port, 6380);
	assert_int_equal(p->store.db, 2);
	assert_string_equal(p->store.key_prefix, "app-1:");
	assert_int_equal(p->store.timeout_ms, 75);
	assert_string_equal(p->store.password_env, "CG_TEST_PW");
	assert_null(p->store.unix_path);
	assert_int_equal(cg__policy_revocation(p), 1);
	cg_policy_free(p);

	/* Defaults, IPv6, user. */
	p = fx_policy_load("store: { type: redis, url: \"redis://cg@[::1]\", "
			   "password_env: PW }\n");
	assert_string_equal(p->store.host, "::1");
	assert_string_equal(p->store.user, "cg");
	assert_int_equal(p->store.port, 6379);
	assert_int_equal(p->store.db, 0);
	assert_string_equal(p->store.key_prefix, "cg:");
	assert_int_equal(p->store.timeout_ms, 50);
	cg_policy_free(p);

	p = fx_policy_load("store: { type: redis, url: \"unix:/run/r.sock?db=3\","
			   " timeout: 1s }\n");
	assert_null(p->store.host);
	assert_string_equal(p->store.unix_path, "/run/r.sock");
	assert_int_equal(p->store.db, 3);
	assert_int_equal(p->store.timeout_ms, 1000);
	cg_policy_free(p);

	p = fx_policy_load("store: { type: redis, url: \"unix:///tmp/r.sock\" "
			   "}\n");
	assert_string_equal(p->store.unix_path, "/tmp/r.sock");
	cg_policy_free(p);

	/* Relative revocations_file: against the policy's folder. */
	fx_write("rev-ok.jsonl", "");
	p = fx_policy_load("store:\n  revocations_file: rev-ok.jsonl\n");
	{
		char *want = fx_path("rev-ok.jsonl");
		assert_string_equal(p->store.revocations_file, want);
		free(want);
	}
	assert_int_equal(cg__policy_revocation(p), 1);
	cg_policy_free(p);
}

static void
test_store_section_errors(void **state)
{
	static const struct {
		const char *store;
		cg_code code;
		const char *msg;
	} rows[] = {
		{"store: []\n", CG_ERR_POLICY, "p.yaml:2:8: store: expected a mapping"},
		{"store: { type: mongo }\n", CG_ERR_POLICY,
		    "p.yaml:2:16: store.type: expected memory or redis"},
		{"store: { type: redis }\n", CG_ERR_POLICY,
		    "p.yaml:2:1: store: missing \"url\""},
		{"store: { type: redis, url: x, pool: 3 }\n", CG_ERR_POLICY,
		    "p.yaml:2:31: store: unknown key \"pool\""},
		{"store: { type: redis, url: \"rediss://h:6379\" }\n",
		    CG_ERR_POLICY, "store.url: rediss:// (TLS) is not supported"},
		{"store: { type: redis, url: \"redis://:secret@h\" }\n",
		    CG_ERR_POLICY, "a password must not be written in the policy"},
		{"store: { type: redis, url: \"redis://u:secret@h\" }\n",
		    CG_ERR_POLICY, "a password must not be written"},
		{"store: { type: redis, url: \"redis://u@h\" }\n", CG_ERR_POLICY,
		    "store.url: a user needs password_env"},
		{"store: { type: redis, url: \"http://h\" }\n", CG_ERR_POLICY,
		    "p.yaml:2:28: store.url: expected redis://HOST[:PORT][/DB]"},
		{"store: { type: redis, url: \"redis://h:0\" }\n", CG_ERR_POLICY,
		    "port must be 1 to 65535"},
		{"store: { type: redis, url: \"redis://h:65536\" }\n",
		    CG_ERR_POLICY, "port must be 1 to 65535"},
		{"store: { type: redis, url: \"redis://h/x\" }\n", CG_ERR_POLICY,
		    "database must be a number"},
		{"store: { type: redis, url: \"redis://h?x=1\" }\n",
		    CG_ERR_POLICY, "no query or fragment"},
		{"store: { type: redis, url: \"redis://\" }\n", CG_ERR_POLICY,
		    "missing host"},
		{"store: { type: redis, url: \"redis://[::1\" }\n",
		    CG_ERR_POLICY, "invalid IPv6 host"},
		{"store: { type: redis, url: \"unix:run/r.sock\" }\n",
		    CG_ERR_POLICY, "expected unix:/PATH"},
		{"store: { type: redis, url: \"unix:/r.sock?db=x\" }\n",
		    CG_ERR_POLICY, "expected unix:/PATH[?db=N]"},
		{"store: { type: redis, url: \"redis://h h\" }\n", CG_ERR_POLICY,
		    "invalid url"},
		{"store: { type: redis, url: \"redis://h\", timeout: 0ms }\n",
		    CG_ERR_POLICY, "store.timeout: must be between 1ms and 10s"},
		{"store: { type: redis, url: \"redis://h\", timeout: 11s }\n",
		    CG_ERR_POLICY, "must be between 1ms and 10s"},
		{"store: { type: redis, url: \"redis://h\", timeout: 50us }\n",
		    CG_ERR_POLICY, "store.timeout: expected a duration"},
		{"store: { type: redis, url: \"redis://h\", key_prefix: \"a{b}\" "
		 "}\n",
		    CG_ERR_POLICY, "store.key_prefix: 1 to 64 of"},
		{"store: { type: redis, url: \"redis://h\", key_prefix: \"a b\" "
		 "}\n",
		    CG_ERR_POLICY, "store.key_prefix"},
		{"store: { type: redis, url: \"redis://h\", key_prefix: \"\" }\n",
		    CG_ERR_POLICY, "store.key_prefix: must not be empty"},
		{"store: { type: redis, url: \"redis://h\", key_prefix: "
		 "\"0123456789012345678901234567890123456789012345678901234567"
		 "8901234\" }\n",
		    CG_ERR_POLICY, "store.key_prefix"},
		{"store: { type: redis, url: \"redis://h\", password_env: 1PW "
		 "}\n",
		    CG_ERR_POLICY,
		    "store.password_env: expected an environment variable"},
		{"store: { type: redis, url: \"redis://h\", revocations_file: "
		 "r }\n",
		    CG_ERR_POLICY, "revocations_file is for type: memory"},
		{"store: { url: \"redis://h\" }\n", CG_ERR_POLICY,
		    "p.yaml:2:10: store: url is only for type: redis"},
		{"store: { type: memory, timeout: 5ms }\n", CG_ERR_POLICY,
		    "timeout is only for type: redis"},
		{"store: { revocations_file: \"\" }\n", CG_ERR_POLICY,
		    "store.revocations_file: must not be empty"},
		{"store: { revocations_file: missing.jsonl }\n", CG_ERR_IO,
		    "p.yaml:2:28: store.revocations_file: "},
		{"store: { revocations_file: bad.jsonl }\n", CG_ERR_POLICY,
		    "bad.jsonl:3:15: not a JSON object"},
		{"store: { revocations_file: bad2.jsonl }\n", CG_ERR_POLICY,
		    "bad2.jsonl:2:1: unknown member \"subject\""},
	};
	struct cg_policy *p;
	struct cg_error err;
	size_t i;
	cg_code rc;

	(void)state;
	fx_write("bad.jsonl", "# ok\n{\"issuer\":\"sso\",\"jti\":\"a\"}\n"
			      "{\"issuer\" \"sso\"}\n");
	fx_write("bad2.jsonl",
	    "\n{\"issuer\":\"sso\",\"subject\":\"a\"}\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		p = NULL;
		rc = fx_policy_try(rows[i].store, &p, &err);
		if (rc != rows[i].code)
			fail_msg("row %zu (%s): %s, expected %s: %s", i,
			    rows[i].store, cg_code_name(rc),
			    cg_code_name(rows[i].code), err.msg);
		assert_null(p);
		if (strstr(err.msg, rows[i].msg) == NULL)
			fail_msg("row %zu: message \"%s\" lacks \"%s\"", i,
			    err.msg, rows[i].msg);
		/* A password never reaches a message. */
		assert_null(strstr(err.msg, "secret"));
	}
}

/* ---- JSON lines --------------------------------------------------------- */

struct seen {
	struct cg_revocation r;
	char issuer[64], value[256], reason[256];
	unsigned line;
	size_t n;
};

static int
remember(void *ctx, const struct cg_revocation *r, unsigned line)
{
	struct seen *s = ctx;

	s->r = *r;
	snprintf(s->issuer, sizeof(s->issuer), "%s", r->issuer);
	snprintf(s->value, sizeof(s->value), "%s",
	    r->value != NULL ? r->value : "");
	snprintf(s->reason, sizeof(s->reason), "%s",
	    r->reason != NULL ? r->reason : "");
	s->line = line;
	s->n++;
	return 0;
}

static void
test_json_lines(void **state)
{
	static const struct {
		const char *line;
		const char *why; /* NULL: parses */
	} rows[] = {
		{"{\"issuer\":\"sso\",\"jti\":\"a\"}", NULL},
		{"{\"issuer\":\"sso\",\"issued_before\":1700000000,\"at\":1,"
		 "\"expires\":0,\"reason\":\"\"}",
		    NULL},
		{"{\"issuer\":\"sso\"}", "exactly one of"},
		{"{\"issuer\":\"sso\",\"jti\":\"a\",\"sub\":\"b\"}",
		    "exactly one of"},
		{"{\"jti\":\"a\"}", "\"issuer\" is missing"},
		{"{\"issuer\":\"\",\"jti\":\"a\"}", "\"issuer\" must be"},
		{"{\"issuer\":\"sso\",\"jti\":\"\"}", "\"jti\" must be a non-empty"},
		{"{\"issuer\":\"sso\",\"kid\":1}", "\"kid\" must be"},
		{"{\"issuer\":\"sso\",\"issued_before\":1.5}",
		    "\"issued_before\" must be an integer"},
		{"{\"issuer\":\"sso\",\"issued_before\":-1}",
		    "\"issued_before\" must be"},
		{"{\"issuer\":\"sso\",\"issued_before\":\"2020\"}",
		    "\"issued_before\" must be"},
		{"{\"issuer\":\"sso\",\"jti\":\"a\",\"expires\":\"x\"}",
		    "\"expires\" must be"},
		{"{\"issuer\":\"sso\",\"jti\":\"a\",\"reason\":1}",
		    "\"reason\" must be a string"},
		{"{\"issuer\":\"sso\",\"jti\":\"a\",\"x\":1}",
		    "unknown member \"x\""},
		{"{\"issuer\":\"sso\",\"jti\":\"a\",\"jti\":\"b\"}",
		    "duplicate member"},
		{"[1]", "not a JSON object"},
		{"{\"issuer\":\"sso\",\"jti\":\"a\"} x", "not a JSON object"},
	};
	struct seen s;
	struct cg_revocation r;
	struct cg_error err;
	char why[160], *j;
	size_t i, col;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&s, 0, sizeof(s));
		why[0] = '\0';
		rc = cg__revocation_parse(rows[i].line, strlen(rows[i].line),
		    remember, &s, 1, why, sizeof(why), &col);
		if ((rc == 0) != (rows[i].why == NULL))
			fail_msg("row %zu: rc %d (%s)", i, rc, why);
		if (rows[i].why != NULL && strstr(why, rows[i].why) == NULL)
			fail_msg("row %zu: \"%s\" lacks \"%s\"", i, why,
			    rows[i].why);
	}

	/* Round trip, with characters JSON must escape. */
	memset(&r, 0, sizeof(r));
	r.kind = CG_REVOKE_SUB;
	r.issuer = "sso";
	r.value = "a\"b\\c\n\x01\x7f\xc3\xa9";
	r.reason = "tab\there";
	r.at = 1700000000;
	r.expires = 1700003600;
	assert_int_equal(cg__revocation_valid(&r, &err), CG_OK);
	j = cg__revocation_json(&r);
	assert_non_null(j);
	assert_string_equal(j,
	    "{\"issuer\":\"sso\",\"sub\":\"a\\\"b\\\\c\\u000a\\u0001\\u007f"
	    "\xc3\xa9\",\"reason\":\"tab\\u0009here\",\"at\":1700000000,"
	    "\"expires\":1700003600}");
	memset(&s, 0, sizeof(s));
	assert_int_equal(cg__revocation_parse(j, strlen(j), remember, &s, 7,
			     why, sizeof(why), &col),
	    0);
	assert_int_equal(s.r.kind, CG_REVOKE_SUB);
	assert_string_equal(s.value, r.value);
	assert_string_equal(s.reason, r.reason);
	assert_int_equal(s.r.expires, r.expires);
	assert_int_equal(s.line, 7);
	free(j);

	/* What cg_store_revoke refuses. */
	r.value = "\xc3";
	assert_int_equal(cg__revocation_valid(&r, &err), CG_ERR_ARG);
	r.value = "";
	assert_int_equal(cg__revocation_valid(&r, &err), CG_ERR_ARG);
	r.value = NULL;
	assert_int_equal(cg__revocation_valid(&r, &err), CG_ERR_ARG);
	r.value = "x";
	r.kind = (cg_revoke_kind)9;
	assert_int_equal(cg__revocation_valid(&r, &err), CG_ERR_ARG);
	r.kind = CG_REVOKE_ISSUED_BEFORE;
	r.issued_before = -1;
	assert_int_equal(cg__revocation_valid(&r, &err), CG_ERR_ARG);
	assert_null(cg_revoke_kind_name((cg_revoke_kind)0));
	assert_string_equal(cg_revoke_kind_name(CG_REVOKE_JKT), "jkt");
	assert_string_equal(cg_revoke_kind_name(CG_REVOKE_ISSUED_BEFORE),
	    "issued_before");
}

/* ---- lifetimes -------------------------------------------------------- */

static void
test_expires(void **state)
{
	struct cg_policy *p = fx_policy_load("");
	struct cg_revocation r;
	int64_t e = -1;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.kind = CG_REVOKE_SUB;
	r.issuer = "sso";
	/* max_lifetime 1h; largest leeway of the zones accepting sso: 10s. */
	assert_int_equal(cg_revocation_expires(p, &r, NOW, &e), CG_OK);
	assert_int_equal(e, NOW + 3600 + 20);
	/* other: no max_lifetime, 24h. */
	r.issuer = "other";
	assert_int_equal(cg_revocation_expires(p, &r, NOW, &e), CG_OK);
	assert_int_equal(e, NOW + 86400 + 20);
	/* A cut-off in the future counts from the cut-off. */
	r.issuer = "sso";
	r.kind = CG_REVOKE_ISSUED_BEFORE;
	r.issued_before = NOW + 100;
	assert_int_equal(cg_revocation_expires(p, &r, NOW, &e), CG_OK);
	assert_int_equal(e, NOW + 100 + 3620);
	r.issued_before = NOW - 100;
	assert_int_equal(cg_revocation_expires(p, &r, NOW, &e), CG_OK);
	assert_int_equal(e, NOW + 3620);
	r.issuer = "nobody";
	assert_int_equal(cg_revocation_expires(p, &r, NOW, &e),
	    CG_ERR_NOT_FOUND);
	assert_int_equal(e, 0);
	assert_int_equal(cg_revocation_expires(NULL, &r, NOW, &e), CG_ERR_ARG);
	cg_policy_free(p);
}

/* ---- the memory store's revocations ------------------------------------ */

static const char rev_file[] =
    "# revocations\n"
    "\n"
    "{\"issuer\":\"sso\",\"jti\":\"j-revoked\"}\n"
    "   {\"issuer\":\"sso\",\"sub\":\"mallory\",\"reason\":\"left\"}\r\n"
    "{\"issuer\":\"sso\",\"kid\":\"k1\",\"expires\":1600000000}\n"
    "{\"issuer\":\"other\",\"kid\":\"k1\"}\n"
    "{\"issuer\":\"sso\",\"jkt\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
    "\"expires\":1700000100}\n"
    "{\"issuer\":\"sso\",\"sub\":\"eve\",\"expires\":1600000000}\n"
    "{\"issuer\":\"sso\",\"sub\":\"eve\",\"expires\":0}\n"
    "{\"issuer\":\"other\",\"issued_before\":1699999000}\n";

static struct cg_store *
open_mem(const char *file, struct cg_policy **pol)
{
	struct cg_store *st = NULL;
	struct cg_error err;
	char *store = cgt_fmt("store:\n  revocations_file: %s\n", file);

	*pol = fx_policy_load(store);
	free(store);
	if (cg_store_new(*pol, &st, &err) != CG_OK)
		fail_msg("store: %s", err.msg);
	assert_int_equal(cg__store_revocations(st), 1);
	return st;
}

static void
test_memory_kinds(void **state)
{
	struct cg_policy *p;
	struct cg_store *st;
	struct cg_revoke_query q;

	(void)state;
	fx_write("kinds.jsonl", rev_file);
	st = open_mem("kinds.jsonl", &p);

	q = fx_query("sso", "j-ok", "alice", 1, NOW - 10, NOW);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), 0);
	q = fx_query("sso", "j-revoked", "alice", 1, NOW - 10, NOW);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_JTI);
	/* Per issuer: the same jti of another issuer is not revoked. */
	q.issuer = "other";
	q.kid = "k2";
	assert_int_equal(fx_revoked(st, &q), 0);
	/* Values compare exactly. */
	q = fx_query("sso", "j-revokeD", "Mallory", 1, NOW - 10, NOW);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), 0);
	q = fx_query("sso", "x", "mallory", 1, NOW - 10, NOW);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_SUB);
	/* A jti match is reported before a sub match. */
	q = fx_query("sso", "j-revoked", "mallory", 1, NOW - 10, NOW);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_JTI);
	/* kid k1 of sso expired at 1600000000; of other it never expires. */
	q = fx_query("sso", "x", "alice", 1, NOW - 10, NOW);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), 0);
	q = fx_query("sso", "x", "alice", 1, NOW - 10, 1599999999);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_KID);
	q = fx_query("other", "x", "alice", 1, NOW - 10, NOW);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_KID);
	/* jkt until 1700000100 (exclusive). */
	q = fx_query("sso", "x", "alice", 1, NOW - 10, NOW + 99);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_JKT);
	q = fx_query("sso", "x", "alice", 1, NOW - 10, NOW + 100);
	assert_int_equal(fx_revoked(st, &q), 0);
	/* Two lines for eve: the later expiry (never) wins. */
	q = fx_query("sso", NULL, "eve", 1, NOW - 10, NOW);
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_SUB);
	/* Cut-off of other at 1699999000: before it, or no iat, revoked. */
	q = fx_query("other", NULL, NULL, 1, 1699998999, NOW);
	q.kid = "k2";
	q.jkt = NULL;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_ISSUED_BEFORE);
	q.iat = 1699999000;
	assert_int_equal(fx_revoked(st, &q), 0);
	q.iat = 1699998999.5;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_ISSUED_BEFORE);
	q.has_iat = 0;
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_ISSUED_BEFORE);
	/* ... and only for other. */
	q.issuer = "sso";
	assert_int_equal(fx_revoked(st, &q), 0);

	assert_int_equal(cg_store_ready(st), 1);
	cg_store_free(st);
	cg_policy_free(p);
}

static void
test_memory_reload(void **state)
{
	struct cg_policy *p;
	struct cg_store *st, *writer;
	struct cg_revoke_query q;
	struct cg_revocation r;
	struct cg_error err;
	char *path = fx_path("reload.jsonl");
	int64_t t0;
	int i, got;

	(void)state;
	fx_write("reload.jsonl", "");
	st = open_mem("reload.jsonl", &p);
	q = fx_query("sso", "j1", "bob", 1, NOW - 10, NOW);
	assert_int_equal(fx_revoked(st, &q), 0);

	/* Another process (here: another store on the same file) revokes;
	 * this store sees it within a second or so. */
	assert_int_equal(cg_store_new(p, &writer, &err), CG_OK);
	memset(&r, 0, sizeof(r));
	r.kind = CG_REVOKE_SUB;
	r.issuer = "sso";
	r.value = "bob";
	r.reason = "test";
	r.at = NOW;
	r.expires = NOW + 60;
	assert_int_equal(cg_store_revoke(writer, &r, &err), CG_OK);
	/* The writer sees its own revocation at once. */
	assert_int_equal(fx_revoked(writer, &q), CG_REVOKE_SUB);
	t0 = cg__mono_us();
	for (i = 0; i < 300 && (got = fx_revoked(st, &q)) == 0; i++)
		fx_sleep_ms(10);
	assert_int_equal(got, CG_REVOKE_SUB);
	assert_true(cg__mono_us() - t0 <=
	    (cgt_under_valgrind() ? 4000000 : 1500000));
	print_message("revocations_file change seen after %lld ms\n",
	    (long long)(cg__mono_us() - t0) / 1000);

	/* A file that stops parsing: fail closed, once noticed. */
	{
		FILE *f = fopen(path, "ab");
		assert_non_null(f);
		fputs("{\"issuer\":\"sso\",\"jti\":}\n", f);
		fclose(f);
	}
	for (i = 0; i < 300 && (got = fx_revoked(st, &q)) != -1; i++)
		fx_sleep_ms(10);
	assert_int_equal(got, -1);
	assert_int_equal(cg_store_ready(st), 0);
	q = fx_query("sso", "j9", "carol", 1, NOW - 10, NOW);
	assert_int_equal(fx_revoked(st, &q), -1);
	/* Fixed: answers again. */
	fx_write("reload.jsonl", "{\"issuer\":\"sso\",\"sub\":\"carol\"}\n");
	for (i = 0; i < 300 && (got = fx_revoked(st, &q)) == -1; i++)
		fx_sleep_ms(10);
	assert_int_equal(got, CG_REVOKE_SUB);
	assert_int_equal(cg_store_ready(st), 1);
	/* Removed: fail closed. Back: answers. */
	assert_int_equal(unlink(path), 0);
	for (i = 0; i < 300 && (got = fx_revoked(st, &q)) != -1; i++)
		fx_sleep_ms(10);
	assert_int_equal(got, -1);
	fx_write("reload.jsonl", "");
	for (i = 0; i < 300 && (got = fx_revoked(st, &q)) == -1; i++)
		fx_sleep_ms(10);
	assert_int_equal(got, 0);

	/* A last line without its newline is completed before appending. */
	fx_write("reload.jsonl", "{\"issuer\":\"sso\",\"jti\":\"a\"}");
	r.kind = CG_REVOKE_JTI;
	r.value = "b";
	assert_int_equal(cg_store_revoke(writer, &r, &err), CG_OK);
	{
		char *text = cgt_read_file(path, NULL);
		assert_non_null(strstr(text,
		    "{\"issuer\":\"sso\",\"jti\":\"a\"}\n{\"issuer\":\"sso\","
		    "\"jti\":\"b\",\"reason\":\"test\","));
		free(text);
	}
	cg_store_free(writer);
	cg_store_free(st);
	cg_policy_free(p);
	free(path);
}

struct list_acc {
	char text[2048];
	size_t n;
	int stop_after;
};

static int
collect(void *ctx, const struct cg_revocation *r)
{
	struct list_acc *a = ctx;
	size_t o = strlen(a->text);

	snprintf(a->text + o, sizeof(a->text) - o, "%s/%s/%s;", r->issuer,
	    cg_revoke_kind_name(r->kind),
	    r->value != NULL ? r->value : "-");
	a->n++;
	return a->stop_after > 0 && a->n >= (size_t)a->stop_after;
}

static void
test_memory_list_revoke(void **state)
{
	struct cg_policy *p, *p0;
	struct cg_store *st, *plain;
	struct list_acc a;
	struct cg_revocation r;
	struct cg_error err;

	(void)state;
	fx_write("list.jsonl", rev_file);
	st = open_mem("list.jsonl", &p);
	memset(&a, 0, sizeof(a));
	assert_int_equal(cg_store_list(st, NOW, collect, &a, &err), CG_OK);
	/* Expired entries are left out. */
	assert_string_equal(a.text,
	    "sso/jti/j-revoked;sso/sub/mallory;other/kid/k1;sso/jkt/"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA;sso/sub/eve;"
	    "other/issued_before/-;");
	memset(&a, 0, sizeof(a));
	a.stop_after = 2;
	assert_int_equal(cg_store_list(st, NOW, collect, &a, &err), CG_OK);
	assert_int_equal(a.n, 2);

	/* Invalid revocations are refused before the store sees them. */
	memset(&r, 0, sizeof(r));
	r.kind = CG_REVOKE_JTI;
	r.issuer = "sso";
	r.value = "\xff";
	assert_int_equal(cg_store_revoke(st, &r, &err), CG_ERR_ARG);
	assert_int_equal(cg_store_revoke(NULL, &r, &err), CG_ERR_ARG);

	/* A memory store without a file keeps no revocations. */
	p0 = fx_policy_load("");
	assert_int_equal(cg_store_new(p0, &plain, &err), CG_OK);
	r.value = "x";
	assert_int_equal(cg_store_revoke(plain, &r, &err), CG_ERR_ARG);
	assert_non_null(strstr(err.msg, "no revocations_file"));
	memset(&a, 0, sizeof(a));
	assert_int_equal(cg_store_list(plain, NOW, collect, &a, &err), CG_OK);
	assert_int_equal(a.n, 0);
	assert_int_equal(cg_store_ready(plain), 1);
	cg_store_free(plain);
	assert_int_equal(cg_store_memory_new(&plain), CG_OK);
	assert_int_equal(cg_store_revoke(plain, &r, &err), CG_ERR_ARG);
	cg_store_free(plain);
	cg_store_free(NULL);
	assert_int_equal(cg_store_ready(NULL), 0);
	assert_int_equal(cg_store_new(NULL, &plain, &err), CG_ERR_ARG);
	assert_null(plain);

	cg_policy_free(p0);
	cg_store_free(st);
	cg_policy_free(p);
}

/* ---- the engine ---------------------------------------------------------- */

static void
test_engine_steps(void **state)
{
	struct cg_policy *p, *p0;
	struct cg_store *st, *bare;
	unsigned char key[CG_STORE_KEY_LEN];
	int inserted = 0;

	(void)state;
	fx_write("engine.jsonl",
	    "{\"issuer\":\"sso\",\"sub\":\"mallory\"}\n"
	    "{\"issuer\":\"sso\",\"jti\":\"j-bad\"}\n");
	st = open_mem("engine.jsonl", &p);

	expect_reason(p, "z", TOK(ISS, ",\"jti\":\"j1\",\"grp\":\"ok\""), NOW,
	    st, CG_REASON_OK);
	expect_reason(p, "z", TOK(ISS, ",\"jti\":\"j1\",\"grp\":\"ok\""), NOW,
	    st, CG_REASON_REPLAYED);
	expect_reason(p, "plain", TOK(ISS, ",\"sub\":\"alice\""), NOW, st,
	    CG_REASON_OK);
	expect_reason(p, "plain", TOK(ISS, ",\"sub\":\"mallory\""), NOW, st,
	    CG_REASON_REVOKED);
	/* revoked comes before claim_untrusted and forbidden... */
	expect_reason(p, "z", TOK(ISS, ",\"jti\":\"j-bad\""), NOW, st,
	    CG_REASON_REVOKED);
	expect_reason(p, "z", TOK(ISS, ",\"jti\":\"j2\",\"sub\":\"mallory\","
					"\"grp\":\"no\""),
	    NOW, st, CG_REASON_REVOKED);
	/* ... and after the earlier steps. */
	expect_reason(p, "z", TOK(ISS, ",\"jti\":\"j-bad\",\"aud\":\"x\""),
	    NOW, st, CG_REASON_TOKEN_MALFORMED);
	expect_reason(p, "plain", "{\"iss\":\"" ISS "\",\"aud\":\"x\","
				  "\"exp\":1700000600,\"iat\":1699999990,"
				  "\"sub\":\"mallory\"}",
	    NOW, st, CG_REASON_AUDIENCE_MISMATCH);
	expect_reason(p, "plain", TOK(ISS, ",\"sub\":\"mallory\""), NOW + 700,
	    st, CG_REASON_TOKEN_EXPIRED);
	/* A revoked token never uses up its jti. */
	expect_reason(p, "z",
	    TOK(ISS, ",\"jti\":\"j3\",\"sub\":\"mallory\",\"grp\":\"ok\""),
	    NOW, st, CG_REASON_REVOKED);
	assert_int_equal(cg__replay_key("z", ISS, strlen(ISS), "j3", 2, key),
	    0);
	assert_int_equal(st->ops->insert_if_absent(st, key, NOW + 600, NOW,
			     &inserted),
	    CG_OK);
	assert_int_equal(inserted, 1);

	/* A store that does not carry the policy's revocations, or none,
	 * is store_unavailable in every zone, replay or not. */
	assert_int_equal(cg_store_memory_new(&bare), CG_OK);
	expect_reason(p, "plain", TOK(ISS, ",\"sub\":\"alice\""), NOW, bare,
	    CG_REASON_STORE_UNAVAILABLE);
	expect_reason(p, "plain", TOK(ISS, ",\"sub\":\"alice\""), NOW, NULL,
	    CG_REASON_STORE_UNAVAILABLE);
	expect_reason(p, "z", TOK(ISS, ",\"jti\":\"j4\",\"grp\":\"ok\""), NOW,
	    NULL, CG_REASON_STORE_UNAVAILABLE);
	/* Without revocation in the policy, nothing changes. */
	p0 = fx_policy_load("");
	expect_reason(p0, "plain", TOK(ISS, ",\"sub\":\"mallory\""), NOW, NULL,
	    CG_REASON_OK);
	expect_reason(p0, "plain", TOK(ISS, ",\"sub\":\"mallory\""), NOW, bare,
	    CG_REASON_OK);
	expect_reason(p0, "z", TOK(ISS, ",\"jti\":\"j5\",\"grp\":\"ok\""), NOW,
	    NULL, CG_REASON_STORE_UNAVAILABLE);
	cg_store_free(bare);

	/* A broken file: store_unavailable comes before revoked. */
	fx_write("engine.jsonl", "{\"issuer\":\"sso\",\"sub\":\"mallory\"}\n"
				 "oops\n");
	{
		int i;
		cg_reason got = CG_REASON_OK;
		for (i = 0; i < 300; i++) {
			got = fx_decide(p, "plain",
			    TOK(ISS, ",\"sub\":\"mallory\""), NOW, st);
			if (got != CG_REASON_REVOKED)
				break;
			fx_sleep_ms(10);
		}
		assert_int_equal(got, CG_REASON_STORE_UNAVAILABLE);
	}
	expect_reason(p, "plain", TOK(ISS, ",\"sub\":\"alice\""), NOW, st,
	    CG_REASON_STORE_UNAVAILABLE);

	cg_policy_free(p0);
	cg_store_free(st);
	cg_policy_free(p);
}

/* A reload that names another revocations_file keeps the memory store,
 * and so its replay entries. */
static void
test_memory_reconfigure(void **state)
{
	struct cg_policy *p, *p2, *p3, *pr;
	struct cg_store *st;
	struct cg_revoke_query q;

	(void)state;
	fx_write("a.jsonl", "{\"issuer\":\"sso\",\"sub\":\"a\"}\n");
	fx_write("b.jsonl", "{\"issuer\":\"sso\",\"sub\":\"b\"}\n");
	st = open_mem("a.jsonl", &p);
	expect_reason(p, "z", TOK(ISS, ",\"jti\":\"r1\",\"grp\":\"ok\""), NOW,
	    st, CG_REASON_OK);
	q = fx_query("sso", NULL, "a", 1, NOW - 10, NOW);
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_SUB);

	p2 = fx_policy_load("store: { revocations_file: b.jsonl }\n");
	assert_int_equal(cg__store_ext(st)->reconfigure(st, &p2->store), 0);
	assert_int_equal(fx_revoked(st, &q), 0);
	q.sub = "b";
	assert_int_equal(fx_revoked(st, &q), CG_REVOKE_SUB);
	expect_reason(p2, "z", TOK(ISS, ",\"jti\":\"r1\",\"grp\":\"ok\""),
	    NOW, st, CG_REASON_REPLAYED);

	/* No file any more: nothing is revoked (and the policy no longer
	 * asks). */
	p3 = fx_policy_load("");
	assert_int_equal(cg__store_ext(st)->reconfigure(st, &p3->store), 0);
	assert_int_equal(fx_revoked(st, &q), 0);
	expect_reason(p3, "z", TOK(ISS, ",\"jti\":\"r1\",\"grp\":\"ok\""),
	    NOW, st, CG_REASON_REPLAYED);

	/* Another type needs another store. */
	pr = fx_policy_load("store: { type: redis, url: \"redis://h\" }\n");
	assert_int_equal(cg__store_ext(st)->reconfigure(st, &pr->store), -1);

	cg_policy_free(pr);
	cg_policy_free(p3);
	cg_policy_free(p2);
	cg_store_free(st);
	cg_policy_free(p);
}

static int
setup(void **state)
{
	(void)state;
	fx_setup();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fx_teardown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_ms),
		cmocka_unit_test(test_store_section_ok),
		cmocka_unit_test(test_store_section_errors),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_expires),
		cmocka_unit_test(test_memory_kinds),
		cmocka_unit_test(test_memory_reload),
		cmocka_unit_test(test_memory_list_revoke),
		cmocka_unit_test(test_engine_steps),
		cmocka_unit_test(test_memory_reconfigure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
