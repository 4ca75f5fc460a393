/* See jsonw.h. The escaping is common/json_escape.c, the one the extension
 * renders with, so our error texts hash like the original's. */
#include "jsonw.h"

#include "json_escape.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

static void
sb_sink(void *ctx, const char *s, size_t n)
{
	sb_append((StrBuf *) ctx, s, n);
}

size_t
jw_utf8_seq(const char *s, size_t n, uint32_t *cp)
{
	return json_utf8_seq(s, n, cp);
}

void
jw_string(StrBuf *sb, const char *s, size_t len)
{
	sb_putc(sb, '"');
	json_escape(s, len, sb_sink, sb);
	sb_putc(sb, '"');
}

void
jw_int(StrBuf *sb, int64_t v)
{
	sb_printf(sb, "%" PRId64, v);
}

/* digits: of the fraction, 0 for none, -1 for six with trailing zeros removed */
static void
time_usec(StrBuf *sb, int64_t unix_usec, int digits)
{
	int64_t		secs = unix_usec / 1000000;
	int64_t		usec = unix_usec % 1000000;
	time_t		t;
	struct tm	tm;

	if (usec < 0)
	{
		usec += 1000000;
		secs -= 1;
	}
	t = (time_t) secs;
	gmtime_r(&t, &tm);
	sb_printf(sb, "%04d-%02d-%02dT%02d:%02d:%02d",
			  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (digits != 0 && (digits > 0 || usec != 0))
	{
		char		frac[8];
		int			n = 6;

		snprintf(frac, sizeof(frac), "%06d", (int) usec);
		while (digits < 0 && n > 0 && frac[n - 1] == '0')
			n--;
		sb_putc(sb, '.');
		sb_append(sb, frac, (size_t) n);
	}
	sb_putc(sb, 'Z');
}

void
jw_time_usec(StrBuf *sb, int64_t unix_usec, bool with_fraction)
{
	time_usec(sb, unix_usec, with_fraction ? -1 : 0);
}

void
jw_time_usec6(StrBuf *sb, int64_t unix_usec)
{
	time_usec(sb, unix_usec, 6);
}
