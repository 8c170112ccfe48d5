/*
 * cmd_keys.c - `claimgate keys -p POLICY`: every issuer's keys, where they
 * came from and when, and the keys that were skipped and why.
 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char keys_usage[] =
    "usage: claimgate keys -p POLICY [--no-fetch]\n"
    "\n"
    "Loads the policy, fetches remote key sets (jwks_uri, discovery) once,\n"
    "and prints per issuer: the source (file or URL) and when it was\n"
    "fetched, each usable key (kid, kty, crv, alg, size, RFC 7638\n"
    "thumbprint), and every key that was skipped, with the reason.\n"
    "\n"
    "  -p, --policy POLICY  the policy file\n"
    "      --no-fetch       show what is loaded without fetching\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 every issuer has usable keys, 1 some issuer has none,\n"
    "2 the policy does not load.\n";

static void
utc(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "never");
}

int
cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"no-fetch", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy = NULL;
	struct cg_policy *pol = NULL;
	struct cg_error err;
	int ch, fetch = 1, status = CLI_ALLOW;
	int64_t now = cli_now();
	size_t i, j;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			policy = optarg;
			break;
		case 'N':
			fetch = 0;
			break;
		case 'h':
			fputs(keys_usage, stdout);
			return 0;
		default:
			cli_bad_option("keys", argv);
			fputs(keys_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (policy == NULL || optind != argc) {
		if (policy == NULL)
			cli_err("keys", "-p POLICY is required");
		fputs(keys_usage, stderr);
		return CLI_USAGE;
	}
	if (cg_policy_load(policy, &pol, &err) != CG_OK) {
		cli_err("keys", "%s", err.msg);
		return CLI_USAGE;
	}
	if (fetch)
		(void)cg_policy_fetch_keys(pol, now, 1, &err);
	for (i = 0; i < cg_policy_issuer_count(pol); i++) {
		struct cg_issuer_keys k;
		char when[32];
		if (cg_policy_issuer_keys(pol, i, now, &k) != CG_OK)
			continue;
		printf("issuer %s (iss %s)\n", k.name, k.iss);
		if (k.remote) {
			utc(k.fetched_at, when, sizeof(when));
			printf("  source  %s\n  fetched %s (%llu ok, %llu failed)\n",
			    k.source, when, (unsigned long long)k.fetches_ok,
			    (unsigned long long)k.fetches_failed);
			if (k.last_error[0] != '\0')
				printf("  last error: %s\n", k.last_error);
		} else {
			printf("  source  %s\n", k.source);
		}
		for (j = 0; j < cg_keyset_count(k.keys); j++) {
			struct cg_key_info ki;
			if (cg_keyset_key_info(k.keys, j, &ki) != CG_OK)
				continue;
			printf("  key  kid=%s kty=%s%s%s alg=%s bits=%u jkt=%s\n",
			    ki.kid != NULL ? ki.kid : "-", ki.kty_name,
			    ki.crv != NULL ? " crv=" : "",
			    ki.crv != NULL ? ki.crv : "",
			    ki.alg != CG_ALG_UNKNOWN ? cg_alg_name(ki.alg) : "-",
			    ki.bits, ki.jkt);
		}
		for (j = 0; j < cg_keyset_warning_count(k.keys); j++)
			printf("  note %s\n", cg_keyset_warning(k.keys, j));
		if (!k.usable) {
			printf("  NO USABLE KEYS: tokens of this issuer are "
			       "denied (keys_unavailable or key_not_found)\n");
			status = CLI_DENY;
		}
		cg_policy_issuer_keys_done(pol, i, &k);
	}
	cg_policy_free(pol);
	return status;
}
