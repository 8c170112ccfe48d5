/*
 * cmd_lint.c - `claimgate lint -p POLICY`.
 */
#include <getopt.h>

#include "cli.h"
#include "policy.h"

static const char lint_usage[] =
    "usage: claimgate lint -p POLICY\n"
    "\n"
    "Loads the policy and reports, one per line as file:line:column, the\n"
    "keys that were skipped and why, and risky settings: a zone accepting\n"
    "HS* tokens without max_age, leeway over 60s, an issuer without\n"
    "max_lifetime, a trusted claim without `from` in a zone accepting\n"
    "several issuers, one key (by RFC 7638 thumbprint) trusted under two\n"
    "issuers, an HMAC secret shared by two issuers.\n"
    "\n"
    "  -p, --policy POLICY  the policy file\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 clean, 1 findings, 2 the policy does not load.\n";

static void
print_line(void *ctx, const char *line)
{
	(void)ctx;
	puts(line);
}

int
cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy = NULL;
	struct cg_policy *pol = NULL;
	struct cg_error err;
	size_t n;
	int ch;

	optind = 1;
	opterr = 0; /* report with the verb's name, below */
	while ((ch = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			policy = optarg;
			break;
		case 'h':
			fputs(lint_usage, stdout);
			return 0;
		default:
			cli_bad_option("lint", argv);
			fputs(lint_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (policy == NULL || optind != argc) {
		if (policy == NULL)
			cli_err("lint", "-p POLICY is required");
		fputs(lint_usage, stderr);
		return CLI_USAGE;
	}
	if (cg_policy_load(policy, &pol, &err) != CG_OK) {
		cli_err("lint", "%s", err.msg);
		return CLI_USAGE;
	}
	n = cg__policy_lint(pol, print_line, NULL);
	cg_policy_free(pol);
	if (n > 0)
		fprintf(stderr, "claimgate: lint: %zu finding%s\n", n,
		    n == 1 ? "" : "s");
	return n > 0 ? CLI_DENY : CLI_ALLOW;
}
