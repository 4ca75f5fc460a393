/* Server configuration from flags and EVENTODB_* variables (PROTOCOL.md §13). */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>

#define EVENTODB_VERSION "0.7.0"

typedef struct Config
{
	int			port;
	char	   *db_url;			/* libpq URI; NULL until resolved */
	char	   *token;			/* default-namespace token; NULL = generate */
	bool		test_mode;
	int			log_level;		/* LogLevel */
	bool		log_json;
	bool		admin_only_ns;	/* DESIGN.md §7 secure by default (off in test mode) */
} Config;

extern Config g_config;

#endif
