/* See json_lex.h. */
#include "json_lex.h"

#include "hex.h"
#include "json_escape.h"

#include <stdio.h>
#include <string.h>

void
jl_quote_char(unsigned char c, char out[JL_QUOTE_MAX])
{
	static const char ctl[] = "\a\b\f\n\r\t\v";
	static const char ctlname[] = "abfnrtv";

	if (c == '\'')
		snprintf(out, JL_QUOTE_MAX, "'\\''");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(out, JL_QUOTE_MAX, "'%c'", c);
	else if (c != 0 && strchr(ctl, c) != NULL)
		snprintf(out, JL_QUOTE_MAX, "'\\%c'", ctlname[strchr(ctl, c) - ctl]);
	else if (c < 0x80)
		snprintf(out, JL_QUOTE_MAX, "'\\x%02x'", c);
	else if (c < 0xA1 || c == 0xAD)
		/* not printable for strconv.Quote */
		snprintf(out, JL_QUOTE_MAX, "'\\u%04x'", c);
	else
		/* the byte shown as the rune of the same value (Go's string(byte)) */
		snprintf(out, JL_QUOTE_MAX, "'%c%c'", 0xC0 | (c >> 6), 0x80 | (c & 0x3F));
}

void
jl_put_utf8(StrBuf *out, uint32_t cp)
{
	char		b[4];

	if (cp < 0x80)
		sb_putc(out, (char) cp);
	else if (cp < 0x800)
	{
		b[0] = (char) (0xC0 | (cp >> 6));
		b[1] = (char) (0x80 | (cp & 0x3F));
		sb_append(out, b, 2);
	}
	else if (cp < 0x10000)
	{
		b[0] = (char) (0xE0 | (cp >> 12));
		b[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char) (0x80 | (cp & 0x3F));
		sb_append(out, b, 3);
	}
	else
	{
		b[0] = (char) (0xF0 | (cp >> 18));
		b[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char) (0x80 | (cp & 0x3F));
		sb_append(out, b, 4);
	}
}

int32_t
jl_u4(const char *s, size_t n, size_t pos)
{
	int32_t		v = 0;

	if (pos + 4 > n)
		return -1;
	for (int i = 0; i < 4; i++)
	{
		int			h = hex_digit(s[pos + i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static const char *
eof(size_t n, size_t *pos)
{
	*pos = n;
	return "";
}

const char *
jl_scan_string(const char *s, size_t n, size_t *pos, StrBuf *out)
{
	size_t		i = *pos + 1;

	for (;;)
	{
		unsigned char c;

		if (i >= n)
			return eof(n, pos);
		c = (unsigned char) s[i];
		if (c == '"')
		{
			*pos = i + 1;
			return NULL;
		}
		if (c < 0x20)
		{
			*pos = i;
			return "in string literal";
		}
		if (c == '\\')
		{
			char		e;

			if (i + 1 >= n)
				return eof(n, pos);
			e = s[i + 1];
			if (e == 'u')
			{
				int32_t		r = jl_u4(s, n, i + 2);
				uint32_t	cp;

				if (r < 0)
				{
					/* point at the offending character for the message */
					size_t		k = i + 2;

					while (k < n && k < i + 6 && hex_digit(s[k]) >= 0)
						k++;
					*pos = k;
					return "in \\u hexadecimal character escape";
				}
				i += 6;
				cp = (uint32_t) r;
				if (cp >= 0xD800 && cp < 0xE000)
				{
					/* a high surrogate pairs only with a following low one */
					int32_t		r2 = -1;

					if (cp < 0xDC00 && i + 1 < n && s[i] == '\\' && s[i + 1] == 'u')
						r2 = jl_u4(s, n, i + 2);
					if (r2 >= 0xDC00 && r2 < 0xE000)
					{
						cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t) r2 - 0xDC00);
						i += 6;
					}
					else
						cp = 0xFFFD;
				}
				if (out)
					jl_put_utf8(out, cp);
				continue;
			}
			switch (e)
			{
				case '"':
				case '\\':
				case '/':
					c = (unsigned char) e;
					break;
				case 'b':
					c = '\b';
					break;
				case 'f':
					c = '\f';
					break;
				case 'n':
					c = '\n';
					break;
				case 'r':
					c = '\r';
					break;
				case 't':
					c = '\t';
					break;
				default:
					*pos = i + 1;
					return "in string escape code";
			}
			if (out)
				sb_putc(out, (char) c);
			i += 2;
			continue;
		}
		if (c < 0x80)
		{
			size_t		start = i;

			while (i < n)
			{
				c = (unsigned char) s[i];
				if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
					break;
				i++;
			}
			if (out)
				sb_append(out, s + start, i - start);
			continue;
		}
		{
			uint32_t	cp;
			size_t		len = json_utf8_seq(s + i, n - i, &cp);

			if (len == 0)
			{
				if (out)
					sb_puts(out, "\xEF\xBF\xBD");
				i++;
			}
			else
			{
				if (out)
					sb_append(out, s + i, len);
				i += len;
			}
		}
	}
}

static bool
digit_at(const char *s, size_t n, size_t i)
{
	return i < n && s[i] >= '0' && s[i] <= '9';
}

const char *
jl_scan_number(const char *s, size_t n, size_t *pos, bool *integral)
{
	size_t		i = *pos;

	*integral = true;
	if (s[i] == '-')
	{
		i++;
		if (!digit_at(s, n, i))
		{
			*pos = i;
			return "in numeric literal";
		}
	}
	if (s[i] == '0')
		i++;
	else
		while (digit_at(s, n, i))
			i++;
	if (i < n && s[i] == '.')
	{
		*integral = false;
		i++;
		if (!digit_at(s, n, i))
		{
			*pos = i;
			return "after decimal point in numeric literal";
		}
		while (digit_at(s, n, i))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		*integral = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!digit_at(s, n, i))
		{
			*pos = i;
			return "in exponent of numeric literal";
		}
		while (digit_at(s, n, i))
			i++;
	}
	*pos = i;
	return NULL;
}

const char *
jl_scan_literal(const char *s, size_t n, size_t *pos, const char *word,
				char ctx[JL_CONTEXT_MAX])
{
	size_t		wl = strlen(word);

	for (size_t k = 0; k < wl; k++)
	{
		if (*pos + k >= n)
			return eof(n, pos);
		if (s[*pos + k] != word[k])
		{
			char		q[JL_QUOTE_MAX];

			jl_quote_char((unsigned char) word[k], q);
			snprintf(ctx, JL_CONTEXT_MAX, "in literal %s (expecting %s)", word, q);
			*pos += k;
			return ctx;
		}
	}
	*pos += wl;
	return NULL;
}
