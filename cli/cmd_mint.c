/*
 * cmd_mint.c - `claimgate mint`: sign a token, for tests and demos.
 * claimgate is a verifier; minting exists so that examples and tests can
 * make fresh tokens instead of shipping ones that expire.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "cli.h"
#include "internal.h"
#include "policy.h"
#include "signer.h"

static const char mint_usage[] =
    "usage: claimgate mint -k KEYFILE -a ALG [--kid KID] [--typ TYP]\n"
    "                      [--claims JSON] [--iss ISS] [--sub SUB]\n"
    "                      [--aud AUD] [--scope SCOPE] [--jti JTI]\n"
    "                      [--ttl DURATION] [--now UNIX]\n"
    "\n"
    "Signs a JWT and prints it. KEYFILE is a PEM private key, or an oct\n"
    "JWK for HS*. Claims come from --claims (a JSON object) and the\n"
    "shorthand options, which override it; iat is now, exp is now + ttl\n"
    "(default 5m), and jti is random unless given. For testing and demos:\n"
    "production tokens come from your identity provider.\n"
    "\n"
    "  -k, --key KEYFILE  private key\n"
    "  -a, --alg ALG      RS256 ... HS512, EdDSA\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 printed a token, 2 error.\n";

static int
set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v));
}

int
cmd_mint(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"alg", required_argument, NULL, 'a'},
		{"kid", required_argument, NULL, 'K'},
		{"typ", required_argument, NULL, 'T'},
		{"claims", required_argument, NULL, 'c'},
		{"iss", required_argument, NULL, 'i'},
		{"sub", required_argument, NULL, 's'},
		{"aud", required_argument, NULL, 'u'},
		{"scope", required_argument, NULL, 'S'},
		{"jti", required_argument, NULL, 'J'},
		{"ttl", required_argument, NULL, 't'},
		{"now", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyfile = NULL, *algname = NULL, *kid = NULL, *typ = NULL;
	const char *claims = NULL, *iss = NULL, *sub = NULL, *aud = NULL;
	const char *scope = NULL, *jti = NULL;
	int64_t ttl = 300, now = cli_now();
	struct cg_signer *signer = NULL;
	json_t *hdr = NULL, *pl = NULL;
	char *hs = NULL, *ps = NULL, *tok = NULL;
	struct cg_error err;
	json_error_t jerr;
	int ch, status = CLI_USAGE;
	cg_alg alg;
	uint64_t v;

	optind = 1;
	opterr = 0; /* report with the verb's name, below */
	while ((ch = getopt_long(argc, argv, "k:a:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': keyfile = optarg; break;
		case 'a': algname = optarg; break;
		case 'K': kid = optarg; break;
		case 'T': typ = optarg; break;
		case 'c': claims = optarg; break;
		case 'i': iss = optarg; break;
		case 's': sub = optarg; break;
		case 'u': aud = optarg; break;
		case 'S': scope = optarg; break;
		case 'J': jti = optarg; break;
		case 't':
			if (cg__duration_parse(optarg, &ttl) != 0) {
				cli_err("mint", "--ttl: expected a duration");
				return CLI_USAGE;
			}
			break;
		case 'n':
			if (cli_parse_u64(optarg, 253402300799ull, &v) != 0) {
				cli_err("mint", "--now: expected seconds");
				return CLI_USAGE;
			}
			now = (int64_t)v;
			break;
		case 'h':
			fputs(mint_usage, stdout);
			return 0;
		default:
			cli_bad_option("mint", argv);
			fputs(mint_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (keyfile == NULL || algname == NULL || optind != argc) {
		fputs(mint_usage, stderr);
		return CLI_USAGE;
	}
	alg = cg_alg_from_name(algname, strlen(algname));
	if (alg == CG_ALG_UNKNOWN) {
		cli_err("mint", "unknown algorithm '%.20s'", algname);
		return CLI_USAGE;
	}
	if (cg__signer_load(keyfile, &signer, &err) != CG_OK) {
		cli_err("mint", "%s", err.msg);
		return CLI_USAGE;
	}
	pl = claims != NULL ? json_loads(claims, JSON_REJECT_DUPLICATES, &jerr)
			    : json_object();
	if (!json_is_object(pl)) {
		cli_err("mint", "--claims: not a JSON object");
		goto out;
	}
	hdr = json_object();
	if (hdr == NULL || set_str(hdr, "alg", cg_alg_name(alg)) ||
	    (typ != NULL && set_str(hdr, "typ", typ)) ||
	    (kid != NULL && set_str(hdr, "kid", kid)))
		goto nomem;
	if ((iss != NULL && set_str(pl, "iss", iss)) ||
	    (sub != NULL && set_str(pl, "sub", sub)) ||
	    (aud != NULL && set_str(pl, "aud", aud)) ||
	    (scope != NULL && set_str(pl, "scope", scope)))
		goto nomem;
	if (json_object_get(pl, "iat") == NULL &&
	    json_object_set_new(pl, "iat", json_integer(now)))
		goto nomem;
	if (json_object_get(pl, "exp") == NULL &&
	    json_object_set_new(pl, "exp", json_integer(now + ttl)))
		goto nomem;
	if (jti != NULL) {
		if (set_str(pl, "jti", jti))
			goto nomem;
	} else if (json_object_get(pl, "jti") == NULL) {
		unsigned char r[16];
		char enc[32];
		if (RAND_bytes(r, sizeof(r)) != 1)
			goto nomem;
		cg__b64url_encode(r, sizeof(r), enc);
		if (set_str(pl, "jti", enc))
			goto nomem;
	}
	hs = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ps = json_dumps(pl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (hs == NULL || ps == NULL)
		goto nomem;
	tok = cg__signer_sign(signer, alg, hs, strlen(hs), ps, strlen(ps));
	if (tok == NULL) {
		cli_err("mint", "signing failed: does the key fit %s?",
		    cg_alg_name(alg));
		goto out;
	}
	puts(tok);
	status = 0;
	goto out;
nomem:
	cli_err("mint", "out of memory");
out:
	free(tok);
	free(hs);
	free(ps);
	json_decref(hdr);
	json_decref(pl);
	cg__signer_free(signer);
	return status;
}
