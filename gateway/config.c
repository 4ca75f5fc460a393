/* See config.h. Flag parsing follows Go's flag package exactly (docs/configuration.md#flags-and-environment-variables),
 * because scripts written for the original pass flags that way. */
#include "config.h"

#include "config_file.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_THREADS 16
/* docs/http-api.md#endpoints: 30 s to read a request - its head too, however it trickles */
#define DEFAULT_HEAD_TIMEOUT 30
#define MAX_HEAD_TIMEOUT 3600

Config		g_config = {
	.port = 8080,
	.log_level = LOG_INFO,
	.threads = DEFAULT_THREADS,
	.head_timeout = DEFAULT_HEAD_TIMEOUT,
	.write_leaders = -1,
};

typedef enum FlagKind { FLAG_INT, FLAG_STRING, FLAG_BOOL } FlagKind;

typedef struct FlagDef
{
	const char *name;
	const char *env;
	FlagKind	kind;
	const char *help;
} FlagDef;

static const FlagDef flags[] = {
	{"config", "EVENTODB_CONFIG", FLAG_STRING, "File of KEY=VALUE lines setting any of these flags by its EVENTODB_* name; flags and the environment take precedence"},
	{"db-type", "EVENTODB_DB_TYPE", FLAG_STRING, "Database type override: empty or 'postgres' ('timescale' is not supported)"},
	{"db-url", "EVENTODB_DB_URL", FLAG_STRING, "Database URL (postgres://... or postgresql://...); required unless --test-mode"},
	{"data-dir", "EVENTODB_DATA_DIR", FLAG_STRING, "Accepted for compatibility and ignored (SQLite only in the original)"},
	{"head-timeout", "EVENTODB_HEAD_TIMEOUT", FLAG_INT, "Seconds a client has to send a whole request head, counted from its first byte (from the connection's start for its first request); 0 = no limit (default 30)"},
	{"log-format", "EVENTODB_LOG_FORMAT", FLAG_STRING, "Log format: console or json (default \"console\")"},
	{"log-level", "EVENTODB_LOG_LEVEL", FLAG_STRING, "Log level: debug, info, warn, error (default \"info\")"},
	{"metrics-token", "EVENTODB_METRICS_TOKEN", FLAG_STRING, "Bearer token that lets clients other than localhost scrape GET /metrics (default: localhost only)"},
	{"open-admin", "EVENTODB_OPEN_ADMIN", FLAG_BOOL, "Let any valid token call ns.create/ns.delete/ns.list/ns.info (the original's behaviour)"},
	{"port", "EVENTODB_PORT", FLAG_INT, "HTTP server port (default 8080)"},
	{"read-db-url", "EVENTODB_READ_DB_URL", FLAG_STRING, "Database URL for reads (stream, category and listing reads) on hot standbys; a namespace written through this gateway is read on the primary until the standby has replayed the write (default: all on --db-url)"},
	{"test-mode", "EVENTODB_TEST_MODE", FLAG_BOOL, "Test mode: relaxed authentication; without --db-url a private throw-away PostgreSQL"},
	{"token", "EVENTODB_TOKEN", FLAG_STRING, "Token for the default namespace (generated when empty)"},
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

/* Flags set by the command line or the environment: a config file leaves them. */
static bool given[NFLAGS];

/* strconv.ParseBool */
static bool
parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < 6; i++)
	{
		if (strcmp(s, t[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcmp(s, f[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

/* Go's underscoreOK: '_' only between digits or after a base prefix. */
static bool
underscores_ok(const char *s)
{
	char		saw = '^';
	bool		hex = false;
	size_t		i = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (s[0] == '0' && (tolower((unsigned char) s[1]) == 'b' ||
						tolower((unsigned char) s[1]) == 'o' ||
						tolower((unsigned char) s[1]) == 'x'))
	{
		i = 2;
		saw = '0';
		hex = tolower((unsigned char) s[1]) == 'x';
	}
	for (; s[i]; i++)
	{
		if (isdigit((unsigned char) s[i]) || (hex && isxdigit((unsigned char) s[i])))
			saw = '0';
		else if (s[i] == '_')
		{
			if (saw != '0')
				return false;
			saw = '_';
		}
		else
		{
			if (saw == '_')
				return false;
			saw = '!';
		}
	}
	return saw != '_';
}

/* strconv.ParseInt(s, base, 64) for base 10 (Atoi) or 0 (prefixes, '_'). */
static bool
parse_int(const char *s, int base, long long *out)
{
	bool		neg = false;
	bool		base0 = (base == 0);
	unsigned long long v = 0;
	const char *p = s;
	bool		any = false;

	if (*p == '+' || *p == '-')
		neg = (*p++ == '-');
	if (base0)
	{
		base = 10;
		if (p[0] == '0' && p[1] != '\0')
		{
			char		c = (char) tolower((unsigned char) p[1]);

			if (c == 'x' || c == 'b' || c == 'o')
			{
				base = c == 'x' ? 16 : c == 'b' ? 2 : 8;
				p += 2;
			}
			else
			{
				base = 8;
				p += 1;
				any = true;
			}
		}
	}
	for (; *p; p++)
	{
		int			d;

		if (*p == '_' && base0)
			continue;
		if (isdigit((unsigned char) *p))
			d = *p - '0';
		else if (isalpha((unsigned char) *p))
			d = tolower((unsigned char) *p) - 'a' + 10;
		else
			return false;
		if (d >= base)
			return false;
		if (v > (ULLONG_MAX - (unsigned) d) / (unsigned) base)
			return false;
		v = v * (unsigned) base + (unsigned) d;
		any = true;
	}
	if (!any || (base0 && !underscores_ok(s)))
		return false;
	if (neg ? v > (unsigned long long) LLONG_MAX + 1 : v > (unsigned long long) LLONG_MAX)
		return false;
	*out = neg ? (long long) (0 - v) : (long long) v;
	return true;
}

static bool
parse_log_level(const char *s, int *out)
{
	if (strcmp(s, "debug") == 0 || strcmp(s, "trace") == 0)
		*out = LOG_DEBUG;
	else if (strcmp(s, "info") == 0)
		*out = LOG_INFO;
	else if (strcmp(s, "warn") == 0 || strcmp(s, "warning") == 0)
		*out = LOG_WARN;
	else if (strcmp(s, "error") == 0 || strcmp(s, "fatal") == 0 || strcmp(s, "panic") == 0)
		*out = LOG_ERROR;
	else
		return false;
	return true;
}

static bool
parse_log_format(const char *s, bool *json)
{
	if (strcmp(s, "console") == 0)
		*json = false;
	else if (strcmp(s, "json") == 0)
		*json = true;
	else
		return false;
	return true;
}

static void
set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = (v != NULL && *v != '\0') ? strdup(v) : NULL;
}

/* Applies one value; false when it is malformed for the flag. */
static bool
apply(const FlagDef *f, const char *value, bool from_env)
{
	long long	iv;
	bool		bv;

	if (strcmp(f->name, "config") == 0)
	{
		set_string(&g_config.config_file, value);
		return true;
	}
	if (strcmp(f->name, "port") == 0)
	{
		if (!parse_int(value, from_env ? 10 : 0, &iv) || iv < INT_MIN || iv > INT_MAX)
			return false;
		g_config.port = (int) iv;
	}
	else if (strcmp(f->name, "head-timeout") == 0)
	{
		if (!parse_int(value, from_env ? 10 : 0, &iv) || iv < 0 || iv > MAX_HEAD_TIMEOUT)
			return false;
		g_config.head_timeout = (int) iv;
	}
	else if (strcmp(f->name, "test-mode") == 0 || strcmp(f->name, "open-admin") == 0)
	{
		if (!parse_bool(value, &bv))
			return false;
		if (f->name[0] == 't')
			g_config.test_mode = bv;
		else
			g_config.open_admin = bv;
	}
	else if (strcmp(f->name, "log-level") == 0)
		return parse_log_level(value, &g_config.log_level);
	else if (strcmp(f->name, "log-format") == 0)
		return parse_log_format(value, &g_config.log_json);
	else if (strcmp(f->name, "db-url") == 0)
		set_string(&g_config.db_url, value);
	else if (strcmp(f->name, "read-db-url") == 0)
		set_string(&g_config.read_db_url, value);
	else if (strcmp(f->name, "token") == 0)
		set_string(&g_config.token, value);
	else if (strcmp(f->name, "metrics-token") == 0)
		set_string(&g_config.metrics_token, value);
	else if (strcmp(f->name, "db-type") == 0)
		set_string(&g_config.db_type, value);
	else if (strcmp(f->name, "data-dir") == 0)
		set_string(&g_config.data_dir, value);
	return true;
}

static void
load_env(void)
{
	const char *v;

	for (size_t i = 0; i < NFLAGS; i++)
	{
		v = getenv(flags[i].env);
		if (v != NULL && *v != '\0' && apply(&flags[i], v, true))
			given[i] = true;
	}
}

/* The values the variables without a flag take (docs/configuration.md). */
static bool
valid_threads(const char *v)
{
	long long	n;

	return parse_int(v, 10, &n) && n >= 1 && n <= 1024;
}

static bool
valid_write_leaders(const char *v)
{
	long long	n;

	return parse_int(v, 10, &n) && n >= 0 && n <= 1024;
}

static bool
valid_request_budget(const char *v)
{
	char	   *end;

	return *v >= '0' && *v <= '9' && strtoull(v, &end, 10) > 0 && *end == '\0';
}

static bool
valid_http_mode(const char *v)
{
	return strcmp(v, "loop") == 0 || strcmp(v, "threads") == 0;
}

/* Go's strconv.ParseBool, which the original reads such switches with */
static bool
valid_bool(const char *v)
{
	static const char *const forms[] = {"1", "t", "T", "TRUE", "true", "True",
	"0", "f", "F", "FALSE", "false", "False", NULL};

	for (int i = 0; forms[i] != NULL; i++)
		if (strcmp(v, forms[i]) == 0)
			return true;
	return false;
}

static bool
any_value(const char *v)
{
	(void) v;
	return true;
}

/* EVENTODB_THREADS has no flag; a config file may set it in the environment. */
static void
load_threads(void)
{
	const char *v = getenv("EVENTODB_THREADS");

	if (v != NULL && *v != '\0' && valid_threads(v))
		g_config.threads = atoi(v);
}

/* A set, non-empty variable, or NULL. */
static const char *
env_value(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* The variables without a flag but EVENTODB_THREADS (see Config). */
static void
load_env_only(void)
{
	const char *v;

	g_config.write_leaders = -1;
	g_config.bad_write_leaders = NULL;
	if ((v = env_value("EVENTODB_WRITE_LEADERS")) != NULL)
	{
		if (valid_write_leaders(v))
			g_config.write_leaders = atoi(v);
		else
			g_config.bad_write_leaders = v;
	}
	/* docs/configuration.md: the HTTP loop, or the thread pool it replaced */
	g_config.http_threads = false;
	g_config.bad_http_mode = NULL;
	if ((v = env_value("EVENTODB_HTTP_MODE")) != NULL)
	{
		if (!valid_http_mode(v))
			g_config.bad_http_mode = v;
		else
			g_config.http_threads = strcmp(v, "threads") == 0;
	}
	g_config.request_budget = 0;
	g_config.bad_request_budget = NULL;
	if ((v = env_value("EVENTODB_REQUEST_BUDGET")) != NULL)
	{
		if (valid_request_budget(v))
			g_config.request_budget = (size_t) strtoull(v, NULL, 10);
		else
			g_config.bad_request_budget = v;
	}
	v = getenv("EVENTODB_TEST_RESET");
	g_config.test_reset = v != NULL &&
		(strcmp(v, "1") == 0 || strcmp(v, "t") == 0 || strcmp(v, "T") == 0 ||
		 strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "True") == 0);
	g_config.pg_user = env_value("EVENTODB_PG_USER");
	g_config.pg_bindir = env_value("EVENTODB_PG_BINDIR");
}

static bool load_config_file(void);

void
config_usage(FILE *out)
{
	fprintf(out,
			"EventoDB " EVENTODB_VERSION " - event store HTTP gateway over PostgreSQL\n"
			"\n"
			"Usage:\n"
			"  eventodb serve [flags]     start the server\n"
			"  eventodb [flags]           start the server\n"
			"  eventodb export [options]  export messages as NDJSON (eventodb export -h)\n"
			"  eventodb import [options]  import NDJSON with preserved positions (eventodb import -h)\n"
			"  eventodb version [--full]  print the version\n"
			"  eventodb prepare-test-template\n"
			"                             build the cached cluster that --test-mode without a database copies\n"
			"  eventodb help              print this help\n"
			"\n"
			"Flags (one or two dashes; --flag=value or --flag value):\n");
	for (size_t i = 0; i < NFLAGS; i++)
	{
		const char *type = flags[i].kind == FLAG_INT ? " int" :
			flags[i].kind == FLAG_STRING ? " string" : "";

		fprintf(out, "  -%s%s\n    \t%s [$%s]\n", flags[i].name, type,
				flags[i].help, flags[i].env);
	}
}

static int
usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	config_usage(stderr);
	return 2;
}

int
config_parse(int argc, char **argv)
{
	int			i = 0;

	memset(given, 0, sizeof(given));
	load_env();
	while (i < argc)
	{
		const char *s = argv[i];
		const char *name;
		const char *eq;
		const char *value = NULL;
		size_t		namelen;
		const FlagDef *f = NULL;
		char	   *namecopy;

		if (strlen(s) < 2 || s[0] != '-')
			break;				/* first non-flag ends parsing */
		name = s + 1;
		if (s[1] == '-')
		{
			if (s[2] == '\0')
				break;			/* "--" terminates the flags */
			name = s + 2;
		}
		if (name[0] == '\0' || name[0] == '-' || name[0] == '=')
			return usage_error("bad flag syntax: %s%s", s, "");
		i++;
		eq = strchr(name + 1, '=');
		namelen = eq ? (size_t) (eq - name) : strlen(name);
		if (eq)
			value = eq + 1;
		for (size_t k = 0; k < NFLAGS; k++)
			if (strlen(flags[k].name) == namelen && strncmp(flags[k].name, name, namelen) == 0)
				f = &flags[k];
		namecopy = strndup(name, namelen);
		if (namecopy == NULL)
			return usage_error("out of memory%s%s", "", "");
		if (f == NULL)
		{
			int			rc;

			if (strcmp(namecopy, "help") == 0 || strcmp(namecopy, "h") == 0)
			{
				config_usage(stdout);
				free(namecopy);
				return 0;
			}
			rc = usage_error("flag provided but not defined: -%s%s", namecopy, "");
			free(namecopy);
			return rc;
		}
		free(namecopy);
		if (f->kind == FLAG_BOOL)
		{
			if (value == NULL)
				value = "true";
			if (!apply(f, value, false))
			{
				fprintf(stderr, "invalid boolean value \"%s\" for -%s: parse error\n", value, f->name);
				config_usage(stderr);
				return 2;
			}
			given[f - flags] = true;
			continue;
		}
		if (value == NULL)
		{
			if (i >= argc)
				return usage_error("flag needs an argument: -%s%s", f->name, "");
			value = argv[i++];
		}
		if (!apply(f, value, false))
		{
			fprintf(stderr, "invalid value \"%s\" for flag -%s: parse error\n", value, f->name);
			config_usage(stderr);
			return 2;
		}
		given[f - flags] = true;
	}
	if (g_config.config_file != NULL && !load_config_file())
		return 2;
	load_threads();
	load_env_only();
	g_config.admin_only_ns = !g_config.test_mode && !g_config.open_admin;
	return -1;
}

char *
config_validate(void)
{
	const char *u = g_config.db_url;
	const char *sep;

	if (g_config.port < 0 || g_config.port > 65535)
		return strdup("invalid port: must be between 0 and 65535");
	if (u == NULL)
	{
		if (g_config.test_mode)
			return NULL;
		return strdup("--db-url is required (use --test-mode for in-memory testing)");
	}
	if (strncmp(u, "postgres://", 11) != 0 && strncmp(u, "postgresql://", 13) != 0)
	{
		char	   *msg = NULL;

		sep = strstr(u, "://");
		if (asprintf(&msg, "unsupported database scheme: %.*s (use postgres:// or postgresql://)",
					 sep ? (int) (sep - u) : 0, u) < 0)
			abort();
		return msg;
	}
	u = g_config.read_db_url;
	if (u != NULL && strncmp(u, "postgres://", 11) != 0 && strncmp(u, "postgresql://", 13) != 0)
	{
		char	   *msg = NULL;

		sep = strstr(u, "://");
		if (asprintf(&msg, "unsupported read database scheme: %.*s (use postgres:// or postgresql://)",
					 sep ? (int) (sep - u) : 0, u) < 0)
			abort();
		return msg;
	}
	if (g_config.db_type != NULL && strcmp(g_config.db_type, "postgres") != 0 &&
		strcmp(g_config.db_type, "postgresql") != 0)
	{
		if (strcmp(g_config.db_type, "timescale") == 0)
			return strdup("unsupported database type: timescale (this server stores in "
						  "PostgreSQL through the eventodb extension)");
		return strdup("unsupported database type (use postgres)");
	}
	return NULL;
}

/*
 * The config file (--config / EVENTODB_CONFIG): its keys are the flags'
 * EVENTODB_* names, so every flag is settable there, plus the variables
 * that have no flag. Precedence: flags > environment > file > defaults.
 */

/* Variables without a flag that a config file may set (load_threads,
 * load_env_only read them after it), and what a file may set them to: a bad
 * value stops the start-up, as a flag's does. */
static const struct
{
	const char *key;
	bool		(*valid) (const char *value);
}			env_only[] = {
	{"EVENTODB_THREADS", valid_threads},
	{"EVENTODB_WRITE_LEADERS", valid_write_leaders},
	{"EVENTODB_REQUEST_BUDGET", valid_request_budget},
	{"EVENTODB_HTTP_MODE", valid_http_mode},
	{"EVENTODB_TEST_RESET", valid_bool},
	{"EVENTODB_PG_USER", any_value},
	{"EVENTODB_PG_BINDIR", any_value},
};

#define N_ENV_ONLY (sizeof(env_only) / sizeof(env_only[0]))

/* arg: the keys seen so far, the flags' first, then env_only's */
static bool
file_setting(const char *key, const char *value, char **err, void *arg)
{
	bool	   *seen = arg;

	for (size_t i = 0; i < NFLAGS; i++)
	{
		if (strcmp(flags[i].env, key) != 0)
			continue;
		if (strcmp(flags[i].name, "config") == 0)
		{
			*err = strdup("EVENTODB_CONFIG cannot be set in a config file");
			return false;
		}
		if (seen[i])
		{
			if (asprintf(err, "%s is set twice", key) < 0)
				abort();
			return false;
		}
		seen[i] = true;
		if (given[i] || *value == '\0')
			return true;
		if (!apply(&flags[i], value, true))
		{
			if (asprintf(err, "invalid value for %s (-%s)", key, flags[i].name) < 0)
				abort();
			return false;
		}
		return true;
	}
	for (size_t i = 0; i < N_ENV_ONLY; i++)
		if (strcmp(env_only[i].key, key) == 0)
		{
			if (seen[NFLAGS + i])
			{
				if (asprintf(err, "%s is set twice", key) < 0)
					abort();
				return false;
			}
			seen[NFLAGS + i] = true;
			if (*value != '\0' && !env_only[i].valid(value))
			{
				if (asprintf(err, "invalid value for %s", key) < 0)
					abort();
				return false;
			}
			if (*value != '\0')
				setenv(key, value, 0);	/* the environment wins */
			return true;
		}
	if (asprintf(err, "unknown key %s (see eventodb help)", key) < 0)
		abort();
	return false;
}

static bool
load_config_file(void)
{
	bool		seen[NFLAGS + N_ENV_ONLY] = {false};
	char	   *msg = config_file_read(g_config.config_file, file_setting, seen);

	if (msg == NULL)
		return true;
	fprintf(stderr, "invalid config file %s\n", msg);
	free(msg);
	return false;
}
