/*
 * cmd_inspect.c - `claimgate inspect [TOKEN|-]`: decode without verifying.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char inspect_usage[] =
    "usage: claimgate inspect [--max-bytes N] [TOKEN|-]\n"
    "\n"
    "Decodes a compact JWS and prints its header, claims, NumericDates in\n"
    "UTC and the token's SHA-256. Nothing is verified: the output is\n"
    "marked UNVERIFIED. With '-' or no TOKEN, reads one token from\n"
    "standard input.\n"
    "\n"
    "  --max-bytes N  token size limit (default 8192, at most 1048576)\n"
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0 decoded, 2 malformed token or usage error.\n";

static void
print_date(const char *name, const struct cg_json *v)
{
	double d;
	char buf[64];
	struct tm tm;
	time_t t;

	if (v == NULL)
		return;
	if (cg_json_number(v, &d) != CG_OK || d < 0 || d > 253402300799.0) {
		printf("  %-4s (not a valid NumericDate)\n", name);
		return;
	}
	t = (time_t)d;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sizeof(buf), "?");
	printf("  %-4s %.0f  %s\n", name, d, buf);
}

int
cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"max-bytes", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t max = 8192;
	struct cg_token *t = NULL;
	struct cg_error err;
	char *buf = NULL, *h, *c;
	size_t bufsz = 0, len;
	int ch, truncated = 0;
	long n;

	optind = 1;
	opterr = 0; /* report with the verb's name, below */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (cli_parse_u64(optarg, 1048576, &max) != 0 ||
			    max == 0) {
				cli_err("inspect", "--max-bytes: expected 1 to "
				                   "1048576");
				return CLI_USAGE;
			}
			break;
		case 'h': fputs(inspect_usage, stdout); return 0;
		default:
			cli_bad_option("inspect", argv);
			fputs(inspect_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (argc - optind > 1) {
		fputs(inspect_usage, stderr);
		return CLI_USAGE;
	}
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0) {
		len = strlen(argv[optind]);
		if (cg_token_parse(argv[optind], len, (size_t)max, &t, &err) !=
		    CG_OK)
			goto bad;
	} else {
		n = cli_read_line(
		    stdin, &buf, &bufsz, (size_t)max + 1, &truncated);
		if (n < 0)
			n = 0;
		if (cg_token_parse(buf != NULL ? buf : "", (size_t)n,
		        (size_t)max, &t, &err) != CG_OK) {
			free(buf);
			goto bad;
		}
		free(buf);
	}
	h = cg_json_dump(cg_token_header(t), 1);
	c = cg_json_dump(cg_token_claims(t), 1);
	printf("UNVERIFIED: decoded only. Signature, issuer, audience and "
	       "times have NOT been checked.\n\n");
	printf("token sha256: %s\n", cg_token_sha256_hex(t) != NULL
	                                 ? cg_token_sha256_hex(t)
	                                 : "(could not be computed)");
	printf("alg:          %s%s\n", cg_token_alg_name(t),
	    cg_token_alg(t) == CG_ALG_UNKNOWN ? "  (not an algorithm "
	                                        "claimgate verifies)"
	                                      : "");
	printf("signature:    %zu bytes\n\nheader:\n%s\n\nclaims:\n%s\n",
	    cg_token_signature_len(t), h != NULL ? h : "?",
	    c != NULL ? c : "?");
	if (cg_token_claim(t, "exp") != NULL ||
	    cg_token_claim(t, "nbf") != NULL ||
	    cg_token_claim(t, "iat") != NULL) {
		printf("\ntimes (UTC):\n");
		print_date("iat", cg_token_claim(t, "iat"));
		print_date("nbf", cg_token_claim(t, "nbf"));
		print_date("exp", cg_token_claim(t, "exp"));
	}
	cg_free(h);
	cg_free(c);
	cg_token_free(t);
	return 0;
bad:
	cli_err("inspect", "%s: %s", cg_code_name(err.code), err.msg);
	return CLI_USAGE;
}
