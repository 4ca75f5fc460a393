/*
 * Command-line flags (docs/configuration.md#flags-and-environment-variables): the export/import subcommands'
 * parser (gateway/cli_flags.c) and the server's (gateway/config.c, which
 * also reads EVENTODB_* variables).
 *
 * Input: the argument words separated by NUL bytes (at most 32 words).
 * Checked: the parsers return success, help or a usage error (nothing
 * else), and every string value they keep points into an argument word.
 */
#include "cli_flags.h"
#include "config.h"
#include "log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_cli_flags"
#include "fuzz_check.h"

#define MAX_WORDS 32

FUZZ_QUIET_LOGS_INITIALIZER

static bool
inside(const char *p, char **words, int n)
{
	for (int i = 0; i < n; i++)
		if (p >= words[i] && p <= words[i] + strlen(words[i]))
			return true;
	return false;
}

static void
reset_config(void)
{
	free(g_config.db_url);
	free(g_config.read_db_url);
	free(g_config.token);
	free(g_config.db_type);
	free(g_config.data_dir);
	free(g_config.metrics_token);
	free(g_config.config_file);
	memset(&g_config, 0, sizeof(g_config));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	char	   *words[MAX_WORDS + 2];
	int			n = 1;
	const char *url = NULL,
			   *token = NULL,
			   *input = NULL;
	bool		gzip = false,
				force = false;
	CliFlag		flags[] = {
		{"url", false, "server URL", &url, NULL},
		{"token", false, "token", &token, NULL},
		{"input", false, "input file", &input, NULL},
		{"gzip", true, "gunzip the input", NULL, &gzip},
		{"force", true, "clear first", NULL, &force},
	};
	int			rc;

	memcpy(buf, data, size);
	buf[size] = '\0';
	words[0] = (char *) "import";
	for (size_t i = 0; i <= size && n < MAX_WORDS + 1;)
	{
		words[n++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	words[n] = NULL;

	rc = cli_flags_parse("eventodb import [options]", flags, 5, n, words);
	CHECK(rc == -1 || rc == 0 || rc == 2, "cli_flags_parse returned %d", rc);
	CHECK(!url || inside(url, words + 1, n - 1), "--url value points outside argv");
	CHECK(!token || inside(token, words + 1, n - 1), "--token value points outside argv");
	CHECK(!input || inside(input, words + 1, n - 1), "--input value points outside argv");

	rc = config_parse(n - 1, words + 1);
	CHECK(rc == -1 || rc == 0 || rc == 2, "config_parse returned %d", rc);
	if (rc == -1)
	{
		char	   *e = config_validate();

		free(e);
	}
	reset_config();
	free(buf);
	return 0;
}
