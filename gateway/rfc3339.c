/* See rfc3339.h. Civil-date arithmetic after Howard Hinnant's
 * days_from_civil, so any year 0000-9999 and any offset work without
 * relying on the C library's time zone state. */
#include "rfc3339.h"

#include "echo.h"

#include <inttypes.h>
#include <stdio.h>

#define LAYOUT "2006-01-02T15:04:05Z07:00"

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in(int month, int64_t year)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap(year) ? 29 : d[month - 1];
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Fixed-width decimal field s[0..w) within [lo, hi]; -1 = not digits, -2 = range. */
static int
field(const char *s, size_t len, size_t off, size_t w, int lo, int hi)
{
	int			v = 0;

	if (off + w > len)
		return -1;
	for (size_t i = 0; i < w; i++)
	{
		if (s[off + i] < '0' || s[off + i] > '9')
			return -1;
		v = v * 10 + (s[off + i] - '0');
	}
	if (v < lo || v > hi)
		return -2;
	return v;
}

static bool
fail(StrBuf *why, const char *s, size_t len, const char *detail)
{
	if (why)
	{
		sb_puts(why, "parsing time \"");
		echo_append(why, s, len);
		sb_puts(why, "\" as \"" LAYOUT "\": ");
		sb_puts(why, detail);
	}
	return false;
}

static bool
fail_at(StrBuf *why, const char *s, size_t len, size_t off, const char *elem)
{
	if (why)
	{
		sb_puts(why, "parsing time \"");
		echo_append(why, s, len);
		sb_puts(why, "\" as \"" LAYOUT "\": cannot parse \"");
		echo_append(why, s + off, len - off);
		sb_puts(why, "\" as \"");
		sb_puts(why, elem);
		sb_putc(why, '"');
	}
	return false;
}

static bool
lit(const char *s, size_t len, size_t off, char c)
{
	return off < len && s[off] == c;
}

bool
rfc3339_parse(const char *s, size_t len, Rfc3339 *out, StrBuf *why)
{
	int			year,
				month,
				day,
				hour,
				min,
				sec;
	int32_t		nsec = 0;
	int64_t		offset = 0;
	size_t		p;

	if ((year = field(s, len, 0, 4, 0, 9999)) < 0)
		return fail_at(why, s, len, 0, "2006");
	if (!lit(s, len, 4, '-'))
		return fail_at(why, s, len, 4, "-");
	if ((month = field(s, len, 5, 2, 1, 12)) == -1)
		return fail_at(why, s, len, 5, "01");
	if (month < 0)
		return fail(why, s, len, "month out of range");
	if (!lit(s, len, 7, '-'))
		return fail_at(why, s, len, 7, "-");
	if ((day = field(s, len, 8, 2, 1, 31)) == -1)
		return fail_at(why, s, len, 8, "02");
	if (!lit(s, len, 10, 'T'))
		return fail_at(why, s, len, 10, "T");
	if ((hour = field(s, len, 11, 2, 0, 23)) == -1)
		return fail_at(why, s, len, 11, "15");
	if (hour < 0)
		return fail(why, s, len, "hour out of range");
	if (!lit(s, len, 13, ':'))
		return fail_at(why, s, len, 13, ":");
	if ((min = field(s, len, 14, 2, 0, 59)) == -1)
		return fail_at(why, s, len, 14, "04");
	if (min < 0)
		return fail(why, s, len, "minute out of range");
	if (!lit(s, len, 16, ':'))
		return fail_at(why, s, len, 16, ":");
	if ((sec = field(s, len, 17, 2, 0, 59)) == -1)
		return fail_at(why, s, len, 17, "05");
	if (sec < 0)
		return fail(why, s, len, "second out of range");
	p = 19;
	/* Go accepts a fraction after the seconds although the layout has none;
	 * digits beyond the ninth are dropped. */
	if (p + 1 < len && (s[p] == '.' || s[p] == ',') && s[p + 1] >= '0' && s[p + 1] <= '9')
	{
		int			digits = 0;

		p++;
		while (p < len && s[p] >= '0' && s[p] <= '9')
		{
			if (digits < 9)
			{
				nsec = nsec * 10 + (s[p] - '0');
				digits++;
			}
			p++;
		}
		while (digits++ < 9)
			nsec *= 10;
	}
	if (lit(s, len, p, 'Z'))
		p++;
	else
	{
		int			oh,
					om;

		if (p >= len || (s[p] != '+' && s[p] != '-'))
			return fail_at(why, s, len, p, "Z07:00");
		if ((oh = field(s, len, p + 1, 2, 0, 24)) < 0 || !lit(s, len, p + 3, ':') ||
			(om = field(s, len, p + 4, 2, 0, 59)) < 0)
			return fail_at(why, s, len, p, "Z07:00");
		offset = (int64_t) (oh * 60 + om) * 60;
		if (s[p] == '-')
			offset = -offset;
		p += 6;
	}
	if (p != len)
	{
		if (why)
		{
			sb_puts(why, "parsing time \"");
			echo_append(why, s, len);
			sb_puts(why, "\": extra text: \"");
			echo_append(why, s + p, len - p);
			sb_putc(why, '"');
		}
		return false;
	}
	if (day < 0 || day > days_in(month, year))
		return fail(why, s, len, "day out of range");
	out->unix_sec = days_from_civil(year, month, day) * 86400 +
		hour * 3600 + min * 60 + sec - offset;
	out->nsec = nsec;
	return true;
}

bool
rfc3339_parse_date(const char *s, size_t len, Rfc3339 *out)
{
	int			year,
				month,
				day;

	if (len != 10 || (year = field(s, len, 0, 4, 0, 9999)) < 0 || s[4] != '-' ||
		(month = field(s, len, 5, 2, 1, 12)) < 0 || s[7] != '-' ||
		(day = field(s, len, 8, 2, 1, 31)) < 0 || day > days_in(month, year))
		return false;
	out->unix_sec = days_from_civil(year, month, day) * 86400;
	out->nsec = 0;
	return true;
}

static void
format(StrBuf *sb, Rfc3339 t, bool with_fraction, bool sql)
{
	int64_t		days = t.unix_sec / 86400;
	int64_t		rem = t.unix_sec % 86400;
	int64_t		y;
	int			m,
				d;
	bool		bc;

	if (rem < 0)
	{
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* ISO year 0 is 1 BC, -1 is 2 BC: PostgreSQL reads years below 1 only so */
	bc = sql && y < 1;
	sb_printf(sb, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d", bc ? 1 - y : y, m, d,
			  (int) (rem / 3600), (int) (rem / 60 % 60), (int) (rem % 60));
	if (with_fraction && t.nsec != 0)
	{
		char		frac[16];
		int			n = 9;

		snprintf(frac, sizeof(frac), "%09d", (int) t.nsec);
		while (n > 0 && frac[n - 1] == '0')
			n--;
		sb_putc(sb, '.');
		sb_append(sb, frac, (size_t) n);
	}
	sb_putc(sb, 'Z');
	if (bc)
		sb_puts(sb, " BC");
}

void
rfc3339_format(StrBuf *sb, Rfc3339 t, bool with_fraction)
{
	format(sb, t, with_fraction, false);
}

void
rfc3339_format_sql(StrBuf *sb, Rfc3339 t)
{
	format(sb, t, true, true);
}

int
rfc3339_cmp(Rfc3339 a, Rfc3339 b)
{
	if (a.unix_sec != b.unix_sec)
		return a.unix_sec < b.unix_sec ? -1 : 1;
	if (a.nsec != b.nsec)
		return a.nsec < b.nsec ? -1 : 1;
	return 0;
}
