/*
 * main.c - claimgate: one binary, one verb per concern.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct verb {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} verbs[] = {
	{"inspect", cmd_inspect, "decode a token without verifying it"},
	{"verify", cmd_verify, "decide tokens against a trust-zone policy"},
	{"lint", cmd_lint, "check a policy for errors and risky settings"},
	{"serve", cmd_serve, "run the HTTP decision service"},
	{"keys", cmd_keys, "show every issuer's keys and where they came from"},
	{"revoke", cmd_revoke, "revoke tokens in the policy's store, or list"},
	{"mint", cmd_mint, "sign a token with a private key (testing, demos)"},
	{"keygen", cmd_keygen, "generate a signing key and its public JWK"},
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: claimgate <command> [options]\n"
		   "       claimgate <command> --help\n"
		   "       claimgate --version\n\ncommands:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nExit status: 0 allow/valid, 1 deny/findings, 2 usage or "
		   "configuration error.\nSee claimgate(1).\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("claimgate %s\n", cg_version());
		return 0;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	cli_err(NULL, "unknown command '%.40s'", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
