/* Go-style flags for the export/import subcommands (docs/configuration.md#flags-and-environment-variables
 * conventions): -name or --name, value as --name=v or --name v, booleans
 * only as --name or --name=true|false; parsing stops at the first non-flag
 * word. */
#ifndef GW_CLI_FLAGS_H
#define GW_CLI_FLAGS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct CliFlag
{
	const char *name;
	bool		is_bool;
	const char *help;
	const char **str_value;		/* string flags */
	bool	   *bool_value;		/* boolean flags */
} CliFlag;

/*
 * Parses argv[1..argc) (argv[0] is the command name). Returns -1 on
 * success, otherwise the exit status: 0 after -h/--help (usage on stdout),
 * 2 after a bad flag (message and usage on stderr).
 */
int			cli_flags_parse(const char *usage_line, CliFlag *flags, int nflags,
							int argc, char **argv);

void		cli_flags_usage(FILE *out, const char *usage_line, const CliFlag *flags,
							int nflags);

#endif
