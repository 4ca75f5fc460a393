/* See json_scan.h. The validator is iterative with a heap stack (Go's depth
 * limit of 10000), so hostile nesting can exhaust neither the C stack nor
 * memory. */
#include "json_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JS_MAX_DEPTH 10000

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Go's quoteChar(): how encoding/json names an offending byte. The byte is
 * shown as the rune of the same value, as Go's string(byte) conversion does. */
static void
quote_char(unsigned char c, char *out, size_t outsz)
{
	if (c == '\'')
		snprintf(out, outsz, "'\\''");
	else if (c == '"')
		snprintf(out, outsz, "'\"'");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(out, outsz, "'%c'", c);
	else if (c == '\a' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
			 c == '\t' || c == '\v')
	{
		static const char names[] = "abtnvfr";

		snprintf(out, outsz, "'\\%c'", names[c - '\a']);
	}
	else if (c < 0x20 || c == 0x7f)
		snprintf(out, outsz, "'\\x%02x'", c);
	else if (c < 0xa0 || c == 0xad)
		snprintf(out, outsz, "'\\u%04x'", c);
	else
		snprintf(out, outsz, "'%c%c'", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
}

static bool
fail_char(char *err, const char *s, size_t n, size_t pos, const char *context)
{
	char		q[16];

	if (pos >= n)
	{
		snprintf(err, JS_ERROR_MAX, "unexpected end of JSON input");
		return false;
	}
	quote_char((unsigned char) s[pos], q, sizeof(q));
	snprintf(err, JS_ERROR_MAX, "invalid character %s %s", q, context);
	return false;
}

/* Scans a string starting at its opening quote; *pos ends after the close. */
static bool
scan_string(const char *s, size_t n, size_t *pos, char *err)
{
	size_t		i = *pos + 1;

	while (i < n)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"')
		{
			*pos = i + 1;
			return true;
		}
		if (c < 0x20)
			return fail_char(err, s, n, i, "in string literal");
		if (c == '\\')
		{
			i++;
			if (i >= n)
				break;
			if (s[i] == 'u')
			{
				for (int k = 1; k <= 4; k++)
				{
					if (i + k >= n)
						return fail_char(err, s, n, n, "");
					if (!is_hex(s[i + k]))
						return fail_char(err, s, n, i + k,
										 "in \\u hexadecimal character escape");
				}
				i += 5;
				continue;
			}
			if (strchr("\"\\/bfnrt", s[i]) == NULL || s[i] == '\0')
				return fail_char(err, s, n, i, "in string escape code");
		}
		i++;
	}
	return fail_char(err, s, n, n, "");
}

static bool
scan_number(const char *s, size_t n, size_t *pos, char *err)
{
	size_t		i = *pos;

	if (s[i] == '-')
	{
		i++;
		if (i >= n || !is_digit(s[i]))
			return fail_char(err, s, n, i, "in numeric literal");
	}
	if (s[i] == '0')
		i++;
	else
		while (i < n && is_digit(s[i]))
			i++;
	if (i < n && s[i] == '.')
	{
		i++;
		if (i >= n || !is_digit(s[i]))
			return fail_char(err, s, n, i, "after decimal point in numeric literal");
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return fail_char(err, s, n, i, "in exponent of numeric literal");
		while (i < n && is_digit(s[i]))
			i++;
	}
	*pos = i;
	return true;
}

static bool
scan_literal(const char *s, size_t n, size_t *pos, char *err)
{
	const char *word = s[*pos] == 't' ? "true" : s[*pos] == 'f' ? "false" : "null";
	size_t		wl = strlen(word);

	for (size_t k = 1; k < wl; k++)
	{
		if (*pos + k >= n || s[*pos + k] != word[k])
		{
			char		ctx[48];

			snprintf(ctx, sizeof(ctx), "in literal %s (expecting '%c')", word, word[k]);
			return fail_char(err, s, n, *pos + k, ctx);
		}
	}
	*pos += wl;
	return true;
}

bool
js_validate(const char *s, size_t n, char *err)
{
	char	   *stack = NULL;
	size_t		depth = 0;
	size_t		pos = js_skip_ws(s, n, 0);
	bool		ok = false;
	enum
	{
		ST_VALUE, ST_KEY, ST_AFTER
	}			st = ST_VALUE;

	for (;;)
	{
		if (st == ST_VALUE)
		{
			if (pos >= n)
			{
				fail_char(err, s, n, n, "");
				goto out;
			}
			switch (s[pos])
			{
				case '{':
				case '[':
					if (depth >= JS_MAX_DEPTH)
					{
						snprintf(err, JS_ERROR_MAX, "exceeded max depth");
						goto out;
					}
					if (stack == NULL)
					{
						stack = malloc(JS_MAX_DEPTH);
						if (stack == NULL)
						{
							snprintf(err, JS_ERROR_MAX, "out of memory");
							goto out;
						}
					}
					stack[depth++] = s[pos];
					pos = js_skip_ws(s, n, pos + 1);
					if (pos < n && s[pos] == (stack[depth - 1] == '{' ? '}' : ']'))
					{
						depth--;
						pos++;
						st = ST_AFTER;
					}
					else
						st = stack[depth - 1] == '{' ? ST_KEY : ST_VALUE;
					continue;
				case '"':
					if (!scan_string(s, n, &pos, err))
						goto out;
					break;
				case 't':
				case 'f':
				case 'n':
					if (!scan_literal(s, n, &pos, err))
						goto out;
					break;
				default:
					if (s[pos] == '-' || is_digit(s[pos]))
					{
						if (!scan_number(s, n, &pos, err))
							goto out;
						break;
					}
					fail_char(err, s, n, pos, "looking for beginning of value");
					goto out;
			}
			st = ST_AFTER;
		}
		else if (st == ST_KEY)
		{
			if (pos >= n || s[pos] != '"')
			{
				fail_char(err, s, n, pos, "looking for beginning of object key string");
				goto out;
			}
			if (!scan_string(s, n, &pos, err))
				goto out;
			pos = js_skip_ws(s, n, pos);
			if (pos >= n || s[pos] != ':')
			{
				fail_char(err, s, n, pos, "after object key");
				goto out;
			}
			pos = js_skip_ws(s, n, pos + 1);
			st = ST_VALUE;
		}
		else
		{
			pos = js_skip_ws(s, n, pos);
			if (depth == 0)
			{
				if (pos < n)
				{
					fail_char(err, s, n, pos, "after top-level value");
					goto out;
				}
				ok = true;
				goto out;
			}
			if (pos >= n)
			{
				fail_char(err, s, n, n, "");
				goto out;
			}
			if (s[pos] == ',')
			{
				pos = js_skip_ws(s, n, pos + 1);
				st = stack[depth - 1] == '{' ? ST_KEY : ST_VALUE;
			}
			else if (s[pos] == (stack[depth - 1] == '{' ? '}' : ']'))
			{
				depth--;
				pos++;
			}
			else
			{
				fail_char(err, s, n, pos, stack[depth - 1] == '{'
						  ? "after object key:value pair" : "after array element");
				goto out;
			}
		}
	}
out:
	free(stack);
	return ok;
}

size_t
js_skip_ws(const char *s, size_t n, size_t pos)
{
	while (pos < n && is_ws(s[pos]))
		pos++;
	return pos;
}

/* End of the string whose opening quote is at pos (valid input). */
static size_t
string_end(const char *s, size_t n, size_t pos)
{
	size_t		i = pos + 1;

	while (i < n && s[i] != '"')
		i += s[i] == '\\' ? 2 : 1;
	return i + 1;
}

JsSpan
js_value_at(const char *s, size_t n, size_t pos)
{
	JsSpan		v = {pos, 0};
	size_t		i = pos;

	if (pos >= n)
		return v;
	if (s[i] == '"')
		i = string_end(s, n, i);
	else if (s[i] == '{' || s[i] == '[')
	{
		size_t		depth = 0;

		while (i < n)
		{
			char		c = s[i];

			if (c == '"')
			{
				i = string_end(s, n, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if (c == '}' || c == ']')
			{
				if (--depth == 0)
				{
					i++;
					break;
				}
			}
			i++;
		}
	}
	else
		while (i < n && !is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
			i++;
	v.len = i - pos;
	return v;
}

JsType
js_type(const char *s, JsSpan v)
{
	switch (s[v.off])
	{
		case '{':
			return JS_OBJECT;
		case '[':
			return JS_ARRAY;
		case '"':
			return JS_STRING;
		case 't':
		case 'f':
			return JS_BOOL;
		case 'n':
			return JS_NULL;
		default:
			return JS_NUMBER;
	}
}

void
js_iter_begin(JsIter *it, const char *s, size_t n, JsSpan container)
{
	it->s = s;
	it->n = container.off + container.len <= n ? container.off + container.len : n;
	it->pos = container.off + 1;
	it->first = true;
	it->is_object = s[container.off] == '{';
}

bool
js_iter_next(JsIter *it, JsSpan *key, JsSpan *value)
{
	const char *s = it->s;
	size_t		pos = js_skip_ws(s, it->n, it->pos);

	if (pos >= it->n || s[pos] == '}' || s[pos] == ']')
		return false;
	if (!it->first)
	{
		if (s[pos] != ',')
			return false;
		pos = js_skip_ws(s, it->n, pos + 1);
	}
	it->first = false;
	if (it->is_object)
	{
		key->off = pos;
		key->len = string_end(s, it->n, pos) - pos;
		pos = js_skip_ws(s, it->n, pos + key->len);
		pos = js_skip_ws(s, it->n, pos + 1);	/* the ':' */
	}
	else if (key)
		key->off = key->len = 0;
	*value = js_value_at(s, it->n, pos);
	it->pos = pos + value->len;
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static uint32_t
hex4(const char *p)
{
	return (uint32_t) (hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

static void
put_utf8(StrBuf *out, uint32_t cp)
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

void
js_string_decode(const char *s, JsSpan str, StrBuf *out)
{
	size_t		i = str.off + 1;
	size_t		end = str.off + str.len - 1;	/* the closing quote */

	while (i < end)
	{
		size_t		run = i;

		while (run < end && s[run] != '\\')
			run++;
		sb_append(out, s + i, run - i);
		i = run;
		if (i >= end)
			break;
		i++;
		switch (s[i])
		{
			case 'b':
				sb_putc(out, '\b');
				break;
			case 'f':
				sb_putc(out, '\f');
				break;
			case 'n':
				sb_putc(out, '\n');
				break;
			case 'r':
				sb_putc(out, '\r');
				break;
			case 't':
				sb_putc(out, '\t');
				break;
			case 'u':
				{
					uint32_t	cp = hex4(s + i + 1);

					i += 4;
					if (cp >= 0xD800 && cp < 0xDC00)
					{
						/* A high surrogate pairs only with a following low one. */
						if (i + 6 < end && s[i + 1] == '\\' && s[i + 2] == 'u')
						{
							uint32_t	lo = hex4(s + i + 3);

							if (lo >= 0xDC00 && lo < 0xE000)
							{
								cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
								i += 6;
							}
							else
								cp = 0xFFFD;
						}
						else
							cp = 0xFFFD;
					}
					else if (cp >= 0xDC00 && cp < 0xE000)
						cp = 0xFFFD;
					put_utf8(out, cp);
					break;
				}
			default:			/* '"', '\\', '/' */
				sb_putc(out, s[i]);
				break;
		}
		i++;
	}
}

bool
js_int64(const char *s, JsSpan num, int64_t *out)
{
	size_t		i = num.off;
	size_t		end = num.off + num.len;
	bool		neg = false;
	uint64_t	v = 0;
	uint64_t	limit;

	if (i < end && s[i] == '-')
	{
		neg = true;
		i++;
	}
	if (i >= end)
		return false;
	limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	for (; i < end; i++)
	{
		if (!is_digit(s[i]))
			return false;
		if (v > (limit - (uint64_t) (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	*out = neg ? (int64_t) (0 - v) : (int64_t) v;
	return true;
}
