/*
 * cmd_serve.c - `claimgate serve`: options, signals, lifecycle.
 * SIGHUP reloads the policy (a bad policy is refused and the old one keeps
 * serving); SIGTERM and SIGINT stop gracefully: no new connections,
 * in-flight requests finish, the audit log is flushed.
 */
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "server.h"

static const char serve_usage[] =
    "usage: claimgate serve -p POLICY [--listen HOST:PORT] [--threads N]\n"
    "                       [--audit PATH|-] [--cache N] [-n]\n"
    "\n"
    "Runs the HTTP decision service for nginx auth_request, Envoy\n"
    "ext_authz (HTTP), Traefik ForwardAuth and Caddy forward_auth:\n"
    "  ANY /v1/authorize[/PATH]  decide the request's bearer token\n"
    "  GET /healthz  /readyz  /metrics\n"
    "\n"
    "  -p, --policy POLICY     the policy file\n"
    "  -l, --listen HOST:PORT  address to listen on (default 127.0.0.1:8181)\n"
    "  -t, --threads N         worker threads (default: one per core)\n"
    "  -a, --audit PATH|-      append one JSON line per decision\n"
    "  -c, --cache N           verified-token cache entries (default\n"
    "                          100000; 0 turns it off)\n"
    "  -n, --check             load the policy, report, and exit\n"
    "  -h, --help              this text\n"
    "\n"
    "Signals: SIGHUP reloads the policy; SIGTERM/SIGINT stop gracefully.\n"
    "Exit status: 0 after a clean stop or a good check, 2 on a usage or\n"
    "policy error or when the address cannot be used.\n";

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"listen", required_argument, NULL, 'l'},
		{"threads", required_argument, NULL, 't'},
		{"audit", required_argument, NULL, 'a'},
		{"check", no_argument, NULL, 'n'},
		{"cache", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct srv_config cfg = {"127.0.0.1:8181", 0, 1024, 15, 32 * 1024};
	const char *policy = NULL, *audit_path = NULL;
	struct cg_error err;
	int ch, check = 0, sig, status = 0;
	uint64_t cache_entries = 100000;
	char why[200];
	sigset_t set;
	uint64_t v;
	long ncpu;

	optind = 1;
	opterr = 0; /* report with the verb's name, below */
	while ((ch = getopt_long(argc, argv, "p:l:t:a:c:nh", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'p':
			policy = optarg;
			break;
		case 'l':
			cfg.listen = optarg;
			break;
		case 't':
			if (cli_parse_u64(optarg, 256, &v) != 0 || v == 0) {
				cli_err("serve", "--threads: expected 1 to 256");
				return CLI_USAGE;
			}
			cfg.threads = (unsigned)v;
			break;
		case 'a':
			audit_path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'c':
			if (cli_parse_u64(optarg, 100000000, &cache_entries) !=
			    0) {
				cli_err("serve", "--cache: expected 0 to "
						 "100000000 entries");
				return CLI_USAGE;
			}
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return 0;
		default:
			cli_bad_option("serve", argv);
			fputs(serve_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (policy == NULL || optind != argc) {
		if (policy == NULL)
			cli_err("serve", "-p POLICY is required");
		fputs(serve_usage, stderr);
		return CLI_USAGE;
	}
	if (cfg.threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.threads = ncpu > 0 && ncpu <= 256 ? (unsigned)ncpu : 1;
	}
	if (srv_state_init(policy, &err) != 0) {
		cli_err("serve", "%s", err.msg);
		srv_state_fini();
		return CLI_USAGE;
	}
	if (check) {
		fprintf(stderr, "claimgate: serve: %s: policy OK\n", policy);
		srv_state_fini();
		srv_metrics_fini();
		return 0;
	}
	/* Signals are taken by this thread alone: block them before any
	 * worker thread exists, so the workers inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (srv_audit_open(audit_path) != 0) {
		cli_err("serve", "--audit %s: cannot open", audit_path);
		srv_state_fini();
		return CLI_USAGE;
	}
	if (srv_state_cache_init((size_t)cache_entries) != 0) {
		cli_err("serve", "out of memory for the cache");
		srv_state_fini();
		return CLI_USAGE;
	}
	if (srv_fetcher_start() != 0) {
		cli_err("serve", "cannot start the key fetcher");
		srv_audit_close();
		srv_state_fini();
		return CLI_USAGE;
	}
	if (srv_http_start(&cfg, why, sizeof(why)) != 0) {
		cli_err("serve", "%s", why);
		srv_fetcher_stop();
		srv_audit_close();
		srv_state_fini();
		srv_metrics_fini();
		return CLI_USAGE;
	}
	fprintf(stderr, "claimgate: serve: listening on %s (%u threads)\n",
	    cfg.listen, cfg.threads);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (srv_state_reload(&err) == 0)
				fprintf(stderr, "claimgate: serve: policy "
						"reloaded\n");
			else
				fprintf(stderr,
				    "claimgate: serve: reload refused, the "
				    "previous policy keeps serving: %s\n",
				    err.msg);
			continue;
		}
		break;
	}
	fprintf(stderr, "claimgate: serve: stopping\n");
	srv_http_stop(5000);
	srv_fetcher_stop();
	srv_audit_close();
	srv_state_fini();
	srv_metrics_fini();
	return status;
}
