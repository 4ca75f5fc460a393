/*
 * Configuration files: one KEY=VALUE setting a line, the keys being the
 * EVENTODB_* variables (config.c decides which keys exist and what values
 * they take). This file only knows the syntax:
 *
 *   # a comment            blank lines and lines starting with '#' are skipped
 *   EVENTODB_PORT = 8080   spaces around the key and the value are dropped
 *   EVENTODB_TOKEN="ns_…"  one pair of matching quotes around a value is dropped
 */
#ifndef GW_CONFIG_FILE_H
#define GW_CONFIG_FILE_H

#include <stdbool.h>

/*
 * Called for each setting; returns false with a malloc'd *err (without the
 * file and line, which the reader adds) when the key or value is refused.
 */
typedef bool (*ConfigFileSetter) (const char *key, const char *value, char **err, void *arg);

/*
 * Reads path and hands every setting to set, in file order. NULL when the
 * whole file was accepted, else a malloc'd "path:line: problem" (or "path:
 * problem" when the file cannot be read). Values never appear in messages:
 * the file may hold tokens and passwords.
 */
char	   *config_file_read(const char *path, ConfigFileSetter set, void *arg);

#endif
