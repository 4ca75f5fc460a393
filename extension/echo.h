/*
 * Client values quoted in the error messages of the gateway's entry points
 * are capped (docs/security.md, "Echoed client values"), so one call cannot
 * write megabytes into PostgreSQL's log: a value of up to ECHO_VALUE_MAX
 * bytes is quoted unchanged, a longer one is cut at a character boundary
 * and followed by a marker naming its full length - the rule and format of
 * the gateway's own echoes (gateway/echo.h):
 *
 *     <first 256 bytes>...(truncated, 2097152 bytes)
 *
 * The Message DB face keeps Message DB's exact messages (docs/sql-api.md#errors-sqlstates).
 */
#ifndef EVENTODB_ECHO_H
#define EVENTODB_ECHO_H

#include "postgres.h"

#define ECHO_VALUE_MAX 256

/* s[0..len) as it may be quoted (palloc'd, NUL-terminated). */
char	   *echo_value(const char *s, size_t len);

#endif
