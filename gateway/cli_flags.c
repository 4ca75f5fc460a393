/* See cli_flags.h. Messages follow Go's flag package. */
#include "cli_flags.h"

#include <string.h>

void
cli_flags_usage(FILE *out, const char *usage_line, const CliFlag *flags, int nflags)
{
	fprintf(out, "Usage: %s\n\nFlags:\n", usage_line);
	for (int i = 0; i < nflags; i++)
		fprintf(out, "  --%s%s\n        %s\n", flags[i].name,
				flags[i].is_bool ? "" : " string", flags[i].help);
}

static bool
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (int i = 0; i < 6; i++)
	{
		if (strcmp(v, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcmp(v, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

static int
bad(const char *usage_line, const CliFlag *flags, int nflags, const char *fmt,
	const char *a, const char *b)
{
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	cli_flags_usage(stderr, usage_line, flags, nflags);
	return 2;
}

int
cli_flags_parse(const char *usage_line, CliFlag *flags, int nflags, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *name;
		const char *eq;
		size_t		nlen;
		CliFlag    *f = NULL;

		if (arg[0] != '-' || arg[1] == '\0')
			break;
		name = arg + 1;
		if (name[0] == '-')
		{
			name++;
			if (name[0] == '\0')	/* "--" ends the flags */
				break;
		}
		if (name[0] == '-' || name[0] == '=')
			return bad(usage_line, flags, nflags, "bad flag syntax: %s%s", arg, "");
		eq = strchr(name, '=');
		nlen = eq ? (size_t) (eq - name) : strlen(name);
		if ((nlen == 1 && name[0] == 'h') || (nlen == 4 && strncmp(name, "help", 4) == 0))
		{
			cli_flags_usage(stdout, usage_line, flags, nflags);
			return 0;
		}
		for (int k = 0; k < nflags; k++)
			if (strlen(flags[k].name) == nlen && strncmp(flags[k].name, name, nlen) == 0)
				f = &flags[k];
		if (f == NULL)
		{
			char		shown[128];

			snprintf(shown, sizeof(shown), "%.*s", (int) (nlen < 100 ? nlen : 100), name);
			return bad(usage_line, flags, nflags, "flag provided but not defined: -%s%s", shown, "");
		}
		if (f->is_bool)
		{
			if (eq == NULL)
				*f->bool_value = true;
			else if (!parse_bool(eq + 1, f->bool_value))
				return bad(usage_line, flags, nflags,
						   "invalid boolean value \"%s\" for -%s: parse error", eq + 1, f->name);
		}
		else if (eq)
			*f->str_value = eq + 1;
		else
		{
			if (i + 1 >= argc)
				return bad(usage_line, flags, nflags, "flag needs an argument: -%s%s", f->name, "");
			*f->str_value = argv[++i];
		}
	}
	return -1;
}
