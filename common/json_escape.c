/* See json_escape.h. Unescaped runs go to the sink in one call, so a sink
 * that copies costs about what an inline loop would. */
#include "json_escape.h"

#include "hex.h"

/* json_plain_ascii's rule, spelled out for every byte value. */
#define JSON_PLAIN(c) ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\' && \
					   (c) != '<' && (c) != '>' && (c) != '&')
#define JSON_PLAIN4(c) JSON_PLAIN(c), JSON_PLAIN((c) + 1), JSON_PLAIN((c) + 2), JSON_PLAIN((c) + 3)
#define JSON_PLAIN16(c) JSON_PLAIN4(c), JSON_PLAIN4((c) + 4), JSON_PLAIN4((c) + 8), JSON_PLAIN4((c) + 12)
#define JSON_PLAIN64(c) JSON_PLAIN16(c), JSON_PLAIN16((c) + 16), JSON_PLAIN16((c) + 32), JSON_PLAIN16((c) + 48)

const bool	json_plain_tab[256] = {
	JSON_PLAIN64(0), JSON_PLAIN64(64), JSON_PLAIN64(128), JSON_PLAIN64(192)
};

size_t
json_utf8_seq(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *) str;
	unsigned char c = s[0];
	unsigned char lo = 0x80,
				hi = 0xBF;

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

void
json_escape(const char *s, size_t len, JsonSink sink, void *ctx)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0,
				start = 0;

	while (i < len)
	{
		unsigned char c = p[i];
		const char *esc = NULL;
		char		ubuf[7];
		size_t		n = 1;

		if (json_plain_ascii(c))
		{
			i++;
			continue;
		}
		if (c >= 0x80)
		{
			uint32_t	cp;

			n = json_utf8_seq(s + i, len - i, &cp);
			if (n == 0)
			{
				esc = "\\ufffd";
				n = 1;
			}
			else if (cp == 0x2028 || cp == 0x2029)
				esc = cp == 0x2028 ? "\\u2028" : "\\u2029";
		}
		else
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
						ubuf[4] = hex_char(c >> 4);
						ubuf[5] = hex_char(c);
						ubuf[6] = '\0';
						esc = ubuf;
					}
					break;
			}
		if (esc != NULL)
		{
			size_t		el = 0;

			while (esc[el] != '\0')
				el++;
			if (i > start)
				sink(ctx, s + start, i - start);
			sink(ctx, esc, el);
			start = i + n;
		}
		i += n;
	}
	if (len > start)
		sink(ctx, s + start, len - start);
}
