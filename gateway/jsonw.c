/* See jsonw.h. The escaping is Go's encoding/json with HTML escaping on
 * (PROTOCOL.md §2.2), including its byte-at-a-time U+FFFD replacement of
 * invalid UTF-8, so our error texts hash like the original's. */
#include "jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

static const char hexdigits[] = "0123456789abcdef";

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid: the
 * same acceptance as Go's utf8.DecodeRune (no overlongs, no surrogates,
 * nothing above U+10FFFF). *cp receives the code point.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];

	if (c < 0x80)
	{
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t) (c & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if (c >= 0xE0 && c <= 0xEF)
	{
		unsigned char lo = 0x80,
					hi = 0xBF;

		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
		if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t) (c & 0x0F) << 12) | ((uint32_t) (s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4)
	{
		unsigned char lo = 0x80,
					hi = 0xBF;

		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
		if (n < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t) (c & 0x07) << 18) | ((uint32_t) (s[1] & 0x3F) << 12) |
			((uint32_t) (s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		return 4;
	}
	return 0;
}

size_t
jw_utf8_seq(const char *s, size_t n, uint32_t *cp)
{
	return utf8_seq((const unsigned char *) s, n, cp);
}

void
jw_string(StrBuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0,
				start = 0;

	sb_putc(sb, '"');
	while (i < len)
	{
		unsigned char c = p[i];
		const char *esc = NULL;
		char		ubuf[7];
		uint32_t	cp;
		size_t		n;

		if (c >= 0x80)
		{
			n = utf8_seq(p + i, len - i, &cp);
			if (n != 0 && cp != 0x2028 && cp != 0x2029)
			{
				i += n;
				continue;
			}
			sb_append(sb, s + start, i - start);
			if (n == 0)
			{
				sb_puts(sb, "\\ufffd");
				i += 1;
			}
			else
			{
				sb_puts(sb, cp == 0x2028 ? "\\u2028" : "\\u2029");
				i += n;
			}
			start = i;
			continue;
		}
		switch (c)
		{
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			default:
				if (c < 0x20 || c == '<' || c == '>' || c == '&')
				{
					ubuf[0] = '\\';
					ubuf[1] = 'u';
					ubuf[2] = '0';
					ubuf[3] = '0';
					ubuf[4] = hexdigits[c >> 4];
					ubuf[5] = hexdigits[c & 0xF];
					ubuf[6] = '\0';
					esc = ubuf;
				}
				break;
		}
		if (esc != NULL)
		{
			sb_append(sb, s + start, i - start);
			sb_puts(sb, esc);
			start = i + 1;
		}
		i++;
	}
	sb_append(sb, s + start, len - start);
	sb_putc(sb, '"');
}

void
jw_int(StrBuf *sb, int64_t v)
{
	sb_printf(sb, "%" PRId64, v);
}

void
jw_time_usec(StrBuf *sb, int64_t unix_usec, bool with_fraction)
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
	if (with_fraction && usec != 0)
	{
		char		frac[8];
		int			n = 6;

		snprintf(frac, sizeof(frac), "%06d", (int) usec);
		while (n > 0 && frac[n - 1] == '0')
			n--;
		sb_putc(sb, '.');
		sb_append(sb, frac, (size_t) n);
	}
	sb_putc(sb, 'Z');
}
