/*
 * RFC 3339 timestamps as Go's time.Parse(time.RFC3339, …) accepts them:
 * import record times (docs/http-api.md#bulk-import-import) and the export CLI's
 * --since/--until and message times (docs/configuration.md#commands).
 */
#ifndef GW_RFC3339_H
#define GW_RFC3339_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Rfc3339
{
	int64_t		unix_sec;		/* UTC */
	int32_t		nsec;			/* 0..999999999 */
} Rfc3339;

/*
 * Parses s[0..len). On failure appends Go's explanation to why (e.g.
 * `parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as
 * "2006"`) when why is non-NULL.
 */
bool		rfc3339_parse(const char *s, size_t len, Rfc3339 *out, StrBuf *why);

/* Parses "YYYY-MM-DD" as UTC midnight. */
bool		rfc3339_parse_date(const char *s, size_t len, Rfc3339 *out);

/* Appends "YYYY-MM-DDTHH:MM:SS[.fffffffff]Z" (fraction without trailing
 * zeros, omitted when zero or when with_fraction is false). */
void		rfc3339_format(StrBuf *sb, Rfc3339 t, bool with_fraction);

/*
 * The same instant as text for PostgreSQL's timestamptz input: as
 * rfc3339_format with fraction, except that years before 1 - which
 * PostgreSQL refuses in ISO form ("date/time field value out of range")
 * though RFC 3339 and Go allow year 0000 - are written as PostgreSQL's
 * own "YYYY-MM-DDTHH:MM:SSZ BC" (0000 -> 0001 BC, -0001 -> 0002 BC).
 */
void		rfc3339_format_sql(StrBuf *sb, Rfc3339 t);

/* -1, 0, 1 */
int			rfc3339_cmp(Rfc3339 a, Rfc3339 b);

#endif
