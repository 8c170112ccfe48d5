/*
 * cmd_keygen.c - `claimgate keygen`: a fresh signing key for tests and
 * demos, written with mode 0600, and its public JWK.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "internal.h"
#include "signer.h"

static const char keygen_usage[] =
    "usage: claimgate keygen -a ALG -o KEYFILE [--kid KID] [--jwks FILE]\n"
    "\n"
    "Generates a key for ALG (RSA 2048 for RS*/PS*, the curve of ES*,\n"
    "Ed25519 for EdDSA, a random secret of the hash length for HS*),\n"
    "writes the private key to KEYFILE (mode 0600; PEM, or an oct JWK for\n"
    "HS*) and prints the public JWK (for HS*, the secret JWK). With --jwks,\n"
    "also adds the JWK to that JWK Set file, creating it if needed.\n"
    "\n"
    "  -a, --alg ALG      the algorithm the key is for (sets the JWK alg)\n"
    "  -o, --out KEYFILE  where the private key goes (must not exist)\n"
    "      --kid KID      the key id\n"
    "      --jwks FILE    a JWK Set to add the public JWK to\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 done, 2 error.\n";

static int
write_private(const char *path, const char *data)
{
	size_t len = strlen(data), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

static int
add_to_jwks(const char *path, const char *jwk)
{
	json_error_t jerr;
	json_t *set, *key;
	FILE *f;
	int rc = -1;

	f = fopen(path, "rb");
	if (f != NULL) {
		set = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
		fclose(f);
	} else {
		set = json_pack("{s:[]}", "keys");
	}
	key = json_loads(jwk, 0, &jerr);
	if (json_is_array(json_object_get(set, "keys")) && key != NULL &&
	    json_array_append(json_object_get(set, "keys"), key) == 0 &&
	    json_dump_file(set, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ==
		0)
		rc = 0;
	json_decref(key);
	json_decref(set);
	return rc;
}

int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"alg", required_argument, NULL, 'a'},
		{"out", required_argument, NULL, 'o'},
		{"kid", required_argument, NULL, 'K'},
		{"jwks", required_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *algname = NULL, *out = NULL, *kid = NULL, *jwks = NULL;
	struct cg_signer *s = NULL;
	char *priv = NULL, *pub = NULL;
	int ch, status = CLI_USAGE;
	cg_alg alg;

	optind = 1;
	opterr = 0; /* report with the verb's name, below */
	while ((ch = getopt_long(argc, argv, "a:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': algname = optarg; break;
		case 'o': out = optarg; break;
		case 'K': kid = optarg; break;
		case 'J': jwks = optarg; break;
		case 'h':
			fputs(keygen_usage, stdout);
			return 0;
		default:
			cli_bad_option("keygen", argv);
			fputs(keygen_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (algname == NULL || out == NULL || optind != argc) {
		fputs(keygen_usage, stderr);
		return CLI_USAGE;
	}
	alg = cg_alg_from_name(algname, strlen(algname));
	if (alg == CG_ALG_UNKNOWN) {
		cli_err("keygen", "unknown algorithm '%.20s'", algname);
		return CLI_USAGE;
	}
	if (cg__signer_generate(alg, &s) != CG_OK) {
		cli_err("keygen", "key generation failed");
		return CLI_USAGE;
	}
	priv = cg__signer_private_pem(s);
	pub = cg__signer_jwk(s, kid, cg_alg_name(alg));
	if (priv == NULL || pub == NULL) {
		cli_err("keygen", "out of memory");
		goto out;
	}
	if (write_private(out, priv) != 0) {
		cli_err("keygen", "%s: %s", out, strerror(errno));
		goto out;
	}
	if (jwks != NULL && add_to_jwks(jwks, pub) != 0) {
		cli_err("keygen", "%s: could not add the key", jwks);
		goto out;
	}
	puts(pub);
	status = 0;
out:
	cg__free_secret(priv, priv != NULL ? strlen(priv) : 0);
	cg__free_secret(pub, pub != NULL ? strlen(pub) : 0);
	cg__signer_free(s);
	return status;
}
