/* The eventodb command line (docs/configuration.md#commands, #flags-and-environment-variables) and the server's
 * start-up and shutdown sequence (docs/configuration.md#start-up). */
#include "bootstrap.h"
#include "cli.h"
#include "config.h"
#include "group_commit.h"
#include "log.h"
#include "metrics.h"
#include "pokes.h"
#include "pool.h"
#include "read_pager.h"
#include "push.h"
#include "server.h"
#include "sse.h"
#include "subwait.h"
#include "testdb.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GIT_COMMIT
#define GIT_COMMIT "unknown"
#endif
#ifndef BUILD_DATE
#define BUILD_DATE "unknown"
#endif

/* Pool slots beyond the HTTP threads: SSE catch-up workers and pokes. */
#define POOL_EXTRA 4

static int
print_version(int argc, char **argv)
{
	if (argc > 2 && (strcmp(argv[2], "--full") == 0 || strcmp(argv[2], "-f") == 0 ||
					 strcmp(argv[2], "--detailed") == 0))
	{
		printf("eventodb version %s\n", EVENTODB_VERSION);
		printf("commit: %s\n", GIT_COMMIT);
		printf("built: %s\n", BUILD_DATE);
	}
	else
		printf("%s\n", EVENTODB_VERSION);
	return 0;
}

static int
fatal(const char *what, char *err)
{
	log_error("%s: %s", what, err ? err : "unknown error");
	free(err);
	return 1;
}

static int
wait_for_signal(const sigset_t *set)
{
	int			sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

/* Test mode without --db-url: /health answers at once, the database
 * follows; requests that need it wait in the pool meanwhile. */
static void
log_group_commit(void)
{
	unsigned long groups,
				writes,
				replayed;

	group_commit_stats(&groups, &writes, &replayed);
	if (groups > 0)
		log_info("group commit: %lu writes in %lu groups (%.2f per group), %lu groups replayed",
				 writes, groups, (double) writes / (double) groups, replayed);
}

/*
 * Serves until SIGINT or SIGTERM, then stops in the order that answers
 * waiting clients first: push and long-poll waiters and SSE streams end
 * before the HTTP server, the pool after it (docs/configuration.md#start-up).
 */
static void
run_until_signal(const sigset_t *signals)
{
	int			sig = wait_for_signal(signals);

	log_info("shutdown signal received (%s)", strsignal(sig));
	log_group_commit();
	push_shutdown();
	subwait_shutdown();
	sse_shutdown();
	pager_shutdown();
	pokes_stop();
	server_stop();
	push_stop();
	pool_shutdown();
}

/* Event streams, subscription waiters and then the HTTP server; 0 or the
 * exit code of a failure (logged). */
static int
start_serving(void)
{
	char	   *err = NULL;

	if (!sse_init())
		return fatal("cannot start", strdup("SSE initialisation failed"));
	if (!subwait_start() || !push_init())
		return fatal("cannot start", strdup("persistent subscriptions could not start"));
	if (!server_start(g_config.port, g_config.threads, &err))
		return fatal("cannot start the HTTP server", err);
	return 0;
}

static int
serve_private(const sigset_t *signals)
{
	char	   *err = NULL;
	char	   *url = NULL;
	int			rc;

	metrics_init();
	pool_mark_starting();
	if ((rc = start_serving()) != 0)
		return rc;
	log_info("EventoDB server listening on port %d (version %s, test mode, private PostgreSQL)",
			 server_port(), EVENTODB_VERSION);
	if (!testdb_start(&url, &err) ||
		!bootstrap_database(url, g_config.token, false, &err) ||
		!pool_init(url, g_config.threads + POOL_EXTRA, &err))
	{
		pool_fail_start(err ? err : "unknown error");
		server_stop();
		testdb_stop();
		free(url);
		return fatal("cannot start the test-mode database", err);
	}
	if (!pokes_start(url, &sse_poke_hooks))
		log_warn("pokes: LISTEN connection not started; subscriptions get catch-up only until it is");
	run_until_signal(signals);
	testdb_stop();
	free(url);
	log_info("server stopped");
	return 0;
}

static int
serve_database(const sigset_t *signals)
{
	char	   *err = NULL;
	bool		reset = g_config.test_mode && g_config.test_reset;
	int			rc;

	metrics_init();
	if (!bootstrap_database(g_config.db_url, g_config.token, reset, &err))
		return fatal("start-up failed", err);
	if (!pool_init(g_config.db_url, g_config.threads + POOL_EXTRA, &err))
		return fatal("failed to connect to PostgreSQL", err);
	if (g_config.read_db_url != NULL &&
		!pool_read_init(g_config.read_db_url, g_config.threads + POOL_EXTRA, &err))
		return fatal("failed to connect to the read database (--read-db-url)", err);
	if ((rc = start_serving()) != 0)
		return rc;
	if (!pokes_start(g_config.db_url, &sse_poke_hooks))
		log_warn("pokes: LISTEN connection not started; subscriptions get catch-up only until it is");
	log_info("EventoDB server listening on port %d (version %s%s)", server_port(),
			 EVENTODB_VERSION, g_config.test_mode ? ", test mode" : "");
	run_until_signal(signals);
	log_info("server stopped");
	return 0;
}

static int
serve(int argc, char **argv)
{
	int			rc = config_parse(argc, argv);
	char	   *bad;
	char	   *err = NULL;
	sigset_t	signals;

	if (rc >= 0)
		return rc;
	log_configure((LogLevel) g_config.log_level, g_config.log_json);
	if ((bad = config_validate()) != NULL)
	{
		log_error("invalid configuration: %s", bad);
		free(bad);
		return 1;
	}
	if (g_config.token != NULL && !bootstrap_check_token(g_config.token, &err))
		return fatal("invalid default token", err);
	if (!g_config.admin_only_ns && !g_config.test_mode)
		log_warn("--open-admin: any valid token may create, list, inspect and delete every namespace");
	group_commit_init();

	/* every thread inherits the mask; only sigwait() sees these */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);

	if (g_config.test_mode && g_config.db_url == NULL)
		return serve_private(&signals);
	return serve_database(&signals);
}

int
main(int argc, char **argv)
{
	const char *cmd;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
	{
		config_usage(stdout);
		return 0;
	}
	cmd = argv[1];
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "-v") == 0)
		return print_version(argc, argv);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
	{
		config_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "export") == 0)
		return cli_export_main(argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0)
		return cli_import_main(argc - 1, argv + 1);
	if (strcmp(cmd, "prepare-test-template") == 0)
	{
		/* It takes no arguments: anything after it (--help too) only asks. */
		bool		help = argc == 3 && (strcmp(argv[2], "--help") == 0 ||
										 strcmp(argv[2], "-h") == 0);

		if (argc > 2)
		{
			fputs("usage: eventodb prepare-test-template\n"
				  "  builds the cached cluster template that --test-mode without --db-url copies\n",
				  help ? stdout : stderr);
			return help ? 0 : 2;
		}
		return testdb_prepare_main();
	}
	if (strcmp(cmd, "serve") == 0)
		return serve(argc - 2, argv + 2);
	return serve(argc - 1, argv + 1);
}
