/* Server configuration from flags and EVENTODB_* variables (docs/configuration.md). */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#define EVENTODB_VERSION "0.7.0"

typedef struct Config
{
	int			port;
	char	   *db_url;			/* libpq URI; NULL until resolved */
	char	   *read_db_url;	/* --read-db-url: reads on standbys; NULL: none */
	char	   *token;			/* default-namespace token; NULL = generate */
	char	   *config_file;	/* --config: KEY=VALUE settings (config_file.h) */
	bool		test_mode;
	int			log_level;		/* LogLevel */
	bool		log_json;
	bool		admin_only_ns;	/* docs/http-api.md#namespace-methods secure by default (off in test mode) */
	bool		open_admin;		/* --open-admin: the original's any-token ns.* */
	char	   *db_type;		/* "" / postgres; anything else is refused */
	char	   *data_dir;		/* accepted and ignored (SQLite only) */
	int			threads;		/* HTTP worker threads = pool size (EVENTODB_THREADS) */
	int			head_timeout;	/* seconds for a whole request head; 0 = no limit */
	char	   *metrics_token;	/* lets non-loopback clients scrape /metrics; never logged */

	/*
	 * Variables without a flag (an environment or config-file setting
	 * only), read here like every other setting. A value that does not
	 * parse is kept in bad_* for its user to warn about and ignored.
	 */
	int			write_leaders;	/* EVENTODB_WRITE_LEADERS, 0..1024; -1: unset */
	const char *bad_write_leaders;
	bool		http_threads;	/* EVENTODB_HTTP_MODE=threads: a thread per request in flight */
	const char *bad_http_mode;
	size_t		request_budget; /* EVENTODB_REQUEST_BUDGET bytes; 0: unset */
	const char *bad_request_budget;
	bool		test_reset;		/* EVENTODB_TEST_RESET (test mode: start empty) */
	const char *pg_user;		/* EVENTODB_PG_USER: the test database's OS user; NULL: unset */
	const char *pg_bindir;		/* EVENTODB_PG_BINDIR: its PostgreSQL binaries; NULL: unset */
} Config;

extern Config g_config;

/*
 * Fills g_config from the EVENTODB_* variables (malformed values silently
 * ignored), then from the Go-style flags in argv[0..argc) (docs/configuration.md#flags-and-environment-variables), then
 * from the config file named by --config / EVENTODB_CONFIG for what neither
 * set. Returns -1 when all parsed, otherwise the exit status the caller must
 * exit with: 0 after -h/-help (usage printed), 2 after a bad flag (error and
 * usage printed on stderr) or a bad config file (error printed).
 */
int			config_parse(int argc, char **argv);

/* Start-up check of docs/configuration.md#start-up step 1. NULL when fine, else a malloc'd message. */
char	   *config_validate(void);

void		config_usage(FILE *out);

#endif
