/* See config_file.h. */
#include "config_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
trim(char *s)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return s;
}

static bool
valid_key(const char *k)
{
	if (*k == '\0')
		return false;
	for (; *k; k++)
		if (!(isupper((unsigned char) *k) || isdigit((unsigned char) *k) || *k == '_'))
			return false;
	return true;
}

static char *
located(const char *path, unsigned line, const char *problem)
{
	char	   *msg = NULL;

	if (asprintf(&msg, "%s:%u: %s", path, line, problem) < 0)
		abort();
	return msg;
}

/* One line: NULL when it is a comment, blank or an accepted setting. */
static char *
read_line(const char *path, unsigned lineno, char *line, ConfigFileSetter set, void *arg)
{
	char	   *s = trim(line);
	char	   *eq;
	char	   *key;
	char	   *value;
	size_t		n;
	char	   *err = NULL;
	char	   *msg;

	if (*s == '\0' || *s == '#')
		return NULL;
	eq = strchr(s, '=');
	if (eq == NULL)
		return located(path, lineno, "expected KEY=VALUE");
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (!valid_key(key))
		return located(path, lineno, "expected KEY=VALUE with KEY in capitals, digits and '_'");
	n = strlen(value);
	if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0])
	{
		value[n - 1] = '\0';
		value++;
	}
	else if (n >= 1 && (value[0] == '"' || value[0] == '\''))
		return located(path, lineno, "unterminated quote");
	if (set(key, value, &err, arg))
		return NULL;
	msg = located(path, lineno, err ? err : "refused");
	free(err);
	return msg;
}

char *
config_file_read(const char *path, ConfigFileSetter set, void *arg)
{
	/* non-blocking open: opening a FIFO without a writer must not hang */
	int			fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	FILE	   *f = NULL;
	struct stat st;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	unsigned	lineno = 0;
	char	   *msg = NULL;

	if (fd < 0)
	{
		if (asprintf(&msg, "%s: %s", path, strerror(errno)) < 0)
			abort();
		return msg;
	}
	/* a device or a pipe could block the start or never end a line */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		if (asprintf(&msg, "%s: not a regular file", path) < 0)
			abort();
		return msg;
	}
	if ((f = fdopen(fd, "r")) == NULL)
	{
		if (asprintf(&msg, "%s: %s", path, strerror(errno)) < 0)
			abort();
		close(fd);
		return msg;
	}
	while (msg == NULL && (len = getline(&line, &cap, f)) >= 0)
	{
		lineno++;
		if ((size_t) len != strlen(line))	/* a NUL byte inside the line */
			msg = located(path, lineno, "bad line (NUL byte)");
		else
			msg = read_line(path, lineno, line, set, arg);
	}
	if (msg == NULL && ferror(f))
	{
		if (asprintf(&msg, "%s: %s", path, strerror(errno)) < 0)
			abort();
	}
	free(line);
	fclose(f);
	return msg;
}
