/*
 * cmd_verify.c - `claimgate verify`: decide tokens against a policy
 * (contract section 4).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char verify_usage[] =
    "usage: claimgate verify -p POLICY [-z ZONE] [--now UNIX] [--json] "
    "[TOKEN|-]\n"
    "\n"
    "Decides whether each token may enter the zone: signature, issuer,\n"
    "algorithm, type, time, audience, delegation, trusted claims, require\n"
    "rules and replay, in the order of claimgate(1) DECISION. With '-' or\n"
    "no TOKEN, reads one token per line from standard input and decides\n"
    "each in the same process (replay: reject sees the earlier ones).\n"
    "\n"
    "  -p, --policy POLICY  the policy file (YAML or JSON)\n"
    "  -z, --zone ZONE      the zone; may be omitted with a one-zone policy\n"
    "      --now UNIX       the clock, in seconds since the epoch\n"
    "      --json           one JSON object per token\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 every token allowed, 1 any token denied, 2 usage or\n"
    "policy error.\n";

static void
print_decision(const struct cg_decision *d, int json)
{
	char *s;

	if (json) {
		s = cg_decision_to_json(d);
		puts(s != NULL ? s : "{\"decision\":\"deny\"}");
		cg_free(s);
		return;
	}
	if (cg_decision_allowed(d)) {
		s = cg_json_dump(cg_decision_claims(d), 0);
		printf("allow ok zone=%s claims=%s\n", cg_decision_zone(d),
		    s != NULL ? s : "{}");
		cg_free(s);
	} else {
		printf("deny %s zone=%s: %s\n",
		    cg_reason_name(cg_decision_reason(d)), cg_decision_zone(d),
		    cg_decision_detail(d));
	}
}

/* Decides one token; returns 0 allow, 1 deny, -1 error (reported). */
static int
decide_one(const struct cg_policy *pol, const char *zone, const char *tok,
    size_t len, int64_t now, struct cg_store *store, int json)
{
	struct cg_decision *d = NULL;
	struct cg_error err;
	int rc;

	if (cg_decide(pol, zone, tok, len, now, store, &d, &err) != CG_OK) {
		cli_err("verify", "%s", err.msg);
		return -1;
	}
	print_decision(d, json);
	rc = cg_decision_allowed(d) ? 0 : 1;
	cg_decision_free(d);
	fflush(stdout);
	return rc;
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"zone", required_argument, NULL, 'z'},
		{"now", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy = NULL, *zone = NULL;
	struct cg_policy *pol = NULL;
	struct cg_store *store = NULL;
	struct cg_error err;
	int64_t now = cli_now();
	int ch, json = 0, status = CLI_ALLOW, r;
	uint64_t v;
	size_t i;

	optind = 1;
	opterr = 0; /* report with the verb's name, below */
	while ((ch = getopt_long(argc, argv, "p:z:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			policy = optarg;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'n':
			if (cli_parse_u64(optarg, 253402300799ull, &v) != 0) {
				cli_err("verify", "--now: expected seconds "
						  "since the epoch");
				return CLI_USAGE;
			}
			now = (int64_t)v;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(verify_usage, stdout);
			return 0;
		default:
			cli_bad_option("verify", argv);
			fputs(verify_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (policy == NULL || argc - optind > 1) {
		if (policy == NULL)
			cli_err("verify", "-p POLICY is required");
		fputs(verify_usage, stderr);
		return CLI_USAGE;
	}
	if (cg_policy_load(policy, &pol, &err) != CG_OK) {
		cli_err("verify", "%s", err.msg);
		return CLI_USAGE;
	}
	for (i = 0; i < cg_policy_warning_count(pol); i++)
		cli_err("verify", "warning: %s", cg_policy_warning(pol, i));
	/* Remote key sets: fetched once for this run. An issuer whose keys
	 * cannot be had is reported; its tokens are keys_unavailable. */
	if (cg_policy_fetch_keys(pol, cli_now(), 1, &err) != CG_OK)
		cli_err("verify", "warning: %s", err.msg);
	if (zone == NULL && cg_policy_zone_count(pol) != 1) {
		cli_err("verify", "the policy has %zu zones: choose one with -z",
		    cg_policy_zone_count(pol));
		status = CLI_USAGE;
		goto out;
	}
	if (zone != NULL) {
		for (i = 0; i < cg_policy_zone_count(pol); i++)
			if (strcmp(cg_policy_zone_name(pol, i), zone) == 0)
				break;
		if (i == cg_policy_zone_count(pol)) {
			cli_err("verify", "no zone named '%.64s' in %s", zone,
			    policy);
			status = CLI_USAGE;
			goto out;
		}
	}
	/* The store the policy configures (memory, with its revocations
	 * file, or Redis); replay state lives for this run. */
	if (cg_store_new(pol, &store, &err) != CG_OK) {
		cli_err("verify", "%s", err.msg);
		status = CLI_USAGE;
		goto out;
	}
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0) {
		r = decide_one(pol, zone, argv[optind], strlen(argv[optind]),
		    now, store, json);
		status = r < 0 ? CLI_USAGE : r;
	} else {
		char *buf = NULL;
		size_t bufsz = 0;
		int truncated, any = 0;
		long n;
		/* Lines are kept up to the ceiling; a longer one is decided
		 * as too large without holding it. */
		while ((n = cli_read_line(stdin, &buf, &bufsz,
			    CG_DEFAULT_MAX_TOKEN_LEN + 1, &truncated)) >= 0) {
			any = 1;
			r = decide_one(pol, zone, buf, (size_t)n, now, store,
			    json);
			if (r < 0) {
				status = CLI_USAGE;
				break;
			}
			if (r == 1)
				status = CLI_DENY;
		}
		if (!any) {
			r = decide_one(pol, zone, "", 0, now, store, json);
			status = r < 0 ? CLI_USAGE : CLI_DENY;
		}
		free(buf);
	}
out:
	cg_store_free(store);
	cg_policy_free(pol);
	return status;
}
