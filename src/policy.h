/*
 * policy.h - the in-memory form of a loaded policy (contract section 2).
 * Built once by policy_parse.c, then immutable and shared by every thread;
 * read by the decision engine (decide.c) and by lint.
 */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* A position in the policy file, 1-based (0 when unknown). */
struct cg_pos {
	unsigned line;
	unsigned col;
};

struct cg_strlist {
	char **v;
	size_t n;
};

struct cg_issuer {
	char *name;		  /* local name (map key under `issuers`) */
	char *iss;		  /* exact `iss` value */
	size_t iss_len;
	char *jwks_file;	  /* resolved path, or NULL */
	char *jwks_uri;		  /* remote key set, or NULL */
	int discovery;		  /* jwks_uri from OIDC discovery */
	char *ca_file;		  /* private CA for the key server, or NULL */
	int insecure_http;	  /* http://127.0.0.1 allowed */
	int64_t refresh;	  /* seconds, default 300 */
	int64_t stale_for;	  /* seconds, default 86400 */
	struct cg_keyset *keys;	  /* jwks_file's set; NULL for remote */
	struct cg_keysource *src; /* remote key set (keysource.c), or NULL */
	cg_alg_set algs;	  /* `algorithms`, non-empty */
	struct cg_strlist types;  /* normalised: lower case, no application/ */
	int64_t max_lifetime;	  /* seconds, -1 when not set */
	struct cg_pos pos;	  /* of the issuer's name */
	struct cg_pos keys_pos;	  /* of jwks_file / jwks_uri value */
};

enum cg_split { CG_SPLIT_NONE = 0, CG_SPLIT_SPACE, CG_SPLIT_COMMA };

struct cg_map_entry {
	char *from;
	char *to;
	size_t from_len, to_len;
};

struct cg_claim_rule {
	char *name;		/* the trusted claim's name (output key) */
	size_t name_len;
	size_t name_off;        /* of its copy in the zone's names */
	char *claim;		/* token claim it reads (default: name) */
	size_t claim_len;
	size_t *from;		/* issuer indices; NULL/0 = any accepted */
	size_t nfrom;
	int has_pattern;
	char *pattern;		/* source text, for messages */
	regex_t re;		/* compiled as ^(pattern)$, REG_EXTENDED|REG_NOSUB */
	struct cg_fastpat *fast; /* the same, when pattern.c can; or NULL */
	int required;
	enum cg_split split;
	int has_map;
	struct cg_map_entry *map;
	size_t nmap;
	struct cg_pos pos;
};

enum cg_require_kind { CG_REQUIRE_ALL_OF = 1, CG_REQUIRE_ANY_OF = 2 };

struct cg_require_rule {
	char *claim;		/* a trusted claim name */
	enum cg_require_kind kind;
	struct cg_strlist values;
	struct cg_pos pos;
};

struct cg_forward {
	char *header;
	char *claim;		/* a trusted claim name */
};

struct cg_zone {
	char *name;
	/* name, then each claims[i].name (at its name_off), each with its
	 * NUL: names_len bytes a decision copies once. */
	char *names;
	size_t names_len;
	char *audience;
	int audience_exact;
	size_t *accept;		/* issuer indices, in policy order */
	size_t naccept;
	int64_t leeway;		/* seconds; default 30, at most 300 */
	int64_t max_age;	/* seconds, -1 when not set */
	struct cg_strlist require_claims;
	int replay;		/* 0 off, 1 reject */
	int max_delegation;	/* default 0 */
	struct cg_claim_rule *claims;
	size_t nclaims;
	struct cg_require_rule *require;
	size_t nrequire;
	struct cg_forward *forward;
	size_t nforward;
	struct cg_strlist match_hosts;	 /* exact, case-insensitive */
	struct cg_strlist match_paths;	 /* prefixes */
	struct cg_strlist match_methods; /* upper case */
	int has_match;
	struct cg_pos pos;
	struct cg_pos leeway_pos;	 /* of the `leeway` value, 0 if default */
};

enum cg_store_type { CG_STORE_MEMORY = 0, CG_STORE_REDIS = 1 };

/* The top-level `store` section (docs/policy.md, "Store"). */
struct cg_store_config {
	enum cg_store_type type;	/* default memory */
	char *url;		/* redis: as written */
	char *host;		/* redis over TCP: host name or address */
	int port;		/* default 6379 */
	char *unix_path;	/* redis over a unix socket, or NULL */
	char *user;		/* ACL user from the URL, or NULL */
	long db;		/* database number, default 0 */
	char *key_prefix;	/* redis: default "cg:" */
	int64_t timeout_ms;	/* redis: default 50 */
	char *password_env;	/* redis: environment variable, or NULL */
	char *revocations_file;	/* memory: resolved path, or NULL */
	struct cg_pos pos;	/* of the `store` key; 0 when absent */
	struct cg_pos revocations_pos; /* of the revocations_file value */
};

struct cg_keysource;

struct cg_policy {
	char *path;
	char *cache_dir;	/* on-disk copies of remote key sets, or NULL */
	struct cg_issuer *issuers;
	size_t nissuers;
	struct cg_zone *zones;
	size_t nzones;
	struct cg_store_config store;
	struct cg_strlist warnings;	/* "file:line:col: text" */
};

/* Parses policy text. `name` is the file name used in messages, `base_dir`
 * the folder relative key paths resolve against. Same contract as
 * cg_policy_load(). */
cg_code cg__policy_parse(const char *text, size_t len, const char *name,
    const char *base_dir, struct cg_policy **out, struct cg_error *err);

/* Index of the zone called `name`, or -1. */
long cg__policy_zone_index(const struct cg_policy *p, const char *name);

/* Parses a duration ("30", "30s", "5m", "1h", "2d"): digits and an optional
 * unit. Returns 0 and sets *secs, or -1. */
int cg__duration_parse(const char *s, int64_t *secs);

/* Parses a store timeout: a duration as above, or digits and "ms".
 * Returns 0 and sets *ms, or -1. */
int cg__duration_ms_parse(const char *s, int64_t *ms);

/* Normalises a `typ` value for comparison: lower case, a leading
 * "application/" removed. Writes into out (size outsz); returns 0, or -1
 * when it does not fit. */
int cg__typ_normalise(const char *s, size_t len, char *out, size_t outsz);

/* Normalises a request path for zone matching (route.c): decoded, dot
 * segments removed, slashes merged, query dropped. 0 on success, -1 when
 * the path is unsafe or does not fit. */
int cg__path_normalise(const char *in, size_t len, char *out, size_t outsz);

/* The first zone whose `match` fits the request (host without port,
 * normalised path prefix, method), or -1 (`no_zone`). Zones without
 * `match` are never selected this way. */
long cg__policy_route(const struct cg_policy *p, const char *host,
    const char *path, const char *method);

/* Calls fn(name, value) for each `forward` header of an allowed decision
 * whose trusted claim is present and renders without control characters
 * (lists joined with ","). Returns the number of headers. */
size_t cg__forward_headers(const struct cg_policy *p,
    const struct cg_decision *d,
    void (*fn)(void *ctx, const char *name, const char *value), void *ctx);

/* Reports lint findings (contract: `claimgate lint`) through emit, one
 * "file:line:col: text" line each, skipped-key warnings first. Returns the
 * number of findings. */
size_t cg__policy_lint(const struct cg_policy *p,
    void (*emit)(void *ctx, const char *line), void *ctx);

#endif
