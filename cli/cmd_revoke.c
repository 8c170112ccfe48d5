/*
 * cmd_revoke.c - `claimgate revoke`: record a revocation in the policy's
 * store (Redis, or the memory store's revocations_file), or list what is
 * revoked. Every running instance that uses the same store sees it: at
 * once with Redis, within a second with a revocations_file.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "internal.h"
#include "store.h"

static const char revoke_usage[] =
    "usage: claimgate revoke -p POLICY --issuer NAME\n"
    "                        (--jti JTI | --sub SUB | --kid KID | --jkt JKT |\n"
    "                         --issued-before TIME)\n"
    "                        [--reason TEXT] [--ttl DURATION]\n"
    "       claimgate revoke -p POLICY --list [--issuer NAME] [--json]\n"
    "\n"
    "Revokes tokens of one issuer of the policy, in the store its `store`\n"
    "section names: in Redis (every instance sees it at once), or appended\n"
    "to the memory store's revocations_file (every instance reading that\n"
    "file sees it within a second). Revoked tokens are denied `revoked`.\n"
    "\n"
    "  -p, --policy POLICY     the policy file\n"
    "  -i, --issuer NAME       the issuer's local name in the policy\n"
    "      --jti JTI           one token, by its jti\n"
    "      --sub SUB           every token of this subject\n"
    "      --kid KID           every token verified by the key with this kid\n"
    "      --jkt JKT           ... by the key with this RFC 7638 thumbprint\n"
    "      --issued-before TIME\n"
    "                          every token issued before TIME (or without\n"
    "                          iat): seconds since the epoch, 'now', or\n"
    "                          YYYY-MM-DDTHH:MM:SSZ (or +HH:MM / -HH:MM)\n"
    "  -r, --reason TEXT       a note kept with the entry\n"
    "      --ttl DURATION      keep the entry this long instead of until no\n"
    "                          token it covers can still be valid\n"
    "                          (max_lifetime + 2 x the largest leeway, with\n"
    "                          24h for an issuer without max_lifetime)\n"
    "  -l, --list              list the revocations in force\n"
    "      --json              with --list: one JSON object per line\n"
    "  -h, --help              this text\n"
    "\n"
    "Exit status: 0 done, 1 the store could not be written or read, 2\n"
    "usage or policy error.\n";

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* TIME: seconds since the epoch, "now", or an RFC 3339 date-time with
 * whole seconds ("2026-01-31T12:00:00Z", "...+01:00"). */
static int
parse_time(const char *s, int64_t now, int64_t *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31};
	unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
	uint64_t v;
	int64_t t;
	size_t len = strlen(s);

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (cli_parse_u64(s, 253402300799ull, &v) == 0) {
		*out = (int64_t)v;
		return 0;
	}
	if (len != 20 && len != 25)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
					   y % 400 == 0)))
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	if (len == 20) {
		if (s[19] != 'Z' && s[19] != 'z')
			return -1;
	} else {
		if ((s[19] != '+' && s[19] != '-') || digits(s + 20, 2, &oh) ||
		    s[22] != ':' || digits(s + 23, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		t += (s[19] == '+' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
	}
	if (t < 0)
		return -1;
	*out = t;
	return 0;
}

static void
fmt_time(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0) {
		snprintf(out, outsz, "never");
		return;
	}
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "%lld", (long long)t);
}

/* RFC 7638 SHA-256 thumbprints are 43 base64url characters. */
static int
valid_jkt(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
			s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			s[i] == '-' || s[i] == '_'))
			return 0;
	return i == 43;
}

struct list_opts {
	const char *issuer;
	int json;
	size_t n;
};

static int
print_entry(void *ctx, const struct cg_revocation *r)
{
	struct list_opts *o = ctx;
	char at[32], ex[32], val[300], reason[300];
	char *line;

	if (o->issuer != NULL && strcmp(o->issuer, r->issuer) != 0)
		return 0;
	o->n++;
	if (o->json) {
		if ((line = cg__revocation_json(r)) == NULL)
			return 1;
		puts(line);
		free(line);
		return 0;
	}
	fmt_time(r->at, at, sizeof(at));
	fmt_time(r->expires, ex, sizeof(ex));
	if (r->kind == CG_REVOKE_ISSUED_BEFORE)
		fmt_time(r->issued_before, val, sizeof(val));
	else
		cg__escape(val, sizeof(val), r->value, strlen(r->value), 64);
	printf("%s %s %s revoked=%s expires=%s", r->issuer,
	    cg_revoke_kind_name(r->kind), val, at, ex);
	if (r->reason != NULL) {
		cg__escape(reason, sizeof(reason), r->reason,
		    strlen(r->reason), 64);
		printf(" reason=\"%s\"", reason);
	}
	putchar('\n');
	return 0;
}

enum { O_JTI = 256, O_SUB, O_KID, O_JKT, O_BEFORE, O_TTL, O_JSON };

int
cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"issuer", required_argument, NULL, 'i'},
		{"jti", required_argument, NULL, O_JTI},
		{"sub", required_argument, NULL, O_SUB},
		{"kid", required_argument, NULL, O_KID},
		{"jkt", required_argument, NULL, O_JKT},
		{"issued-before", required_argument, NULL, O_BEFORE},
		{"reason", required_argument, NULL, 'r'},
		{"ttl", required_argument, NULL, O_TTL},
		{"list", no_argument, NULL, 'l'},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy = NULL, *ttl = NULL, *before = NULL;
	struct cg_revocation r;
	struct list_opts lo = {NULL, 0, 0};
	struct cg_policy *pol = NULL;
	struct cg_store *st = NULL;
	struct cg_error err;
	int64_t now = cli_now(), secs;
	int ch, list = 0, nkinds = 0, status = CLI_USAGE;
	char until[32], shown[300];
	cg_code rc;

	memset(&r, 0, sizeof(r));
	optind = 1;
	opterr = 0; /* report with the verb's name, below */
	while ((ch = getopt_long(argc, argv, "p:i:r:lh", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			policy = optarg;
			break;
		case 'i':
			r.issuer = optarg;
			break;
		case O_JTI:
		case O_SUB:
		case O_KID:
		case O_JKT:
			r.kind = ch == O_JTI ? CG_REVOKE_JTI
			    : ch == O_SUB    ? CG_REVOKE_SUB
			    : ch == O_KID    ? CG_REVOKE_KID
					     : CG_REVOKE_JKT;
			r.value = optarg;
			nkinds++;
			break;
		case O_BEFORE:
			r.kind = CG_REVOKE_ISSUED_BEFORE;
			before = optarg;
			nkinds++;
			break;
		case 'r':
			r.reason = optarg;
			break;
		case O_TTL:
			ttl = optarg;
			break;
		case 'l':
			list = 1;
			break;
		case O_JSON:
			lo.json = 1;
			break;
		case 'h':
			fputs(revoke_usage, stdout);
			return 0;
		default:
			cli_bad_option("revoke", argv);
			fputs(revoke_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (policy == NULL || optind != argc ||
	    (list && (nkinds > 0 || r.reason != NULL || ttl != NULL)) ||
	    (!list && (nkinds != 1 || r.issuer == NULL || lo.json))) {
		if (policy == NULL)
			cli_err("revoke", "-p POLICY is required");
		else if (optind != argc)
			cli_err("revoke", "unexpected argument '%.64s'",
			    argv[optind]);
		else if (list)
			cli_err("revoke", "--list takes only --issuer and "
					  "--json");
		else if (nkinds != 1)
			cli_err("revoke", "give exactly one of --jti, --sub, "
					  "--kid, --jkt, --issued-before");
		else if (r.issuer == NULL)
			cli_err("revoke", "--issuer NAME is required");
		else
			cli_err("revoke", "--json goes with --list");
		fputs(revoke_usage, stderr);
		return CLI_USAGE;
	}
	if (r.kind == CG_REVOKE_ISSUED_BEFORE &&
	    parse_time(before, now, &r.issued_before) != 0) {
		cli_err("revoke", "--issued-before: expected seconds since the "
				  "epoch, 'now' or YYYY-MM-DDTHH:MM:SSZ");
		return CLI_USAGE;
	}
	if (r.kind == CG_REVOKE_JKT && !valid_jkt(r.value)) {
		cli_err("revoke", "--jkt: expected an RFC 7638 SHA-256 "
				  "thumbprint (43 base64url characters)");
		return CLI_USAGE;
	}
	if (ttl != NULL && (cg__duration_parse(ttl, &secs) != 0 || secs == 0)) {
		cli_err("revoke", "--ttl: expected a duration (30m, 12h, 7d)");
		return CLI_USAGE;
	}
	if (cg_policy_load(policy, &pol, &err) != CG_OK) {
		cli_err("revoke", "%s", err.msg);
		return CLI_USAGE;
	}
	if (!cg__policy_revocation(pol)) {
		cli_err("revoke", "%s: the policy's store keeps no "
				  "revocations: set store.revocations_file "
				  "(memory) or store.type: redis",
		    policy);
		goto out;
	}
	r.at = now;
	if (r.issuer != NULL &&
	    cg_revocation_expires(pol, &r, now, &r.expires) != CG_OK) {
		cg__escape(shown, sizeof(shown), r.issuer, strlen(r.issuer), 64);
		cli_err("revoke", "no issuer named '%s' in %s", shown, policy);
		goto out;
	}
	if (ttl != NULL)
		r.expires = now + secs;
	if (cg_store_new(pol, &st, &err) != CG_OK) {
		cli_err("revoke", "%s", err.msg);
		goto out;
	}
	if (list) {
		lo.issuer = r.issuer;
		rc = cg_store_list(st, now, print_entry, &lo, &err);
		if (rc != CG_OK) {
			cli_err("revoke", "--list: %s", err.msg);
			status = rc == CG_ERR_STORE ? CLI_DENY : CLI_USAGE;
			goto out;
		}
		fflush(stdout);
		status = CLI_ALLOW;
		goto out;
	}
	rc = cg_store_revoke(st, &r, &err);
	if (rc != CG_OK) {
		cli_err("revoke", "%s", err.msg);
		status = rc == CG_ERR_STORE ? CLI_DENY : CLI_USAGE;
		goto out;
	}
	fmt_time(r.expires, until, sizeof(until));
	if (r.kind == CG_REVOKE_ISSUED_BEFORE)
		fmt_time(r.issued_before, shown, sizeof(shown));
	else
		cg__escape(shown, sizeof(shown), r.value, strlen(r.value), 64);
	printf("revoked: issuer %s %s %s until %s\n", r.issuer,
	    cg_revoke_kind_name(r.kind), shown, until);
	status = CLI_ALLOW;
out:
	cg_store_free(st);
	cg_policy_free(pol);
	return status;
}
