/* See json_scan.h. The validator is iterative with a heap stack (Go's depth
 * limit of 10000), so hostile nesting can exhaust neither the C stack nor
 * memory. */
#include "json_scan.h"

#include "json_lex.h"

#include <stdio.h>
#include <stdlib.h>

#define JS_MAX_DEPTH 10000

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Writes Go's message for a context from json_lex.h; always false. */
static bool
fail_char(char *err, const char *s, size_t n, size_t pos, const char *context)
{
	char		q[JL_QUOTE_MAX];

	if (pos >= n)
	{
		snprintf(err, JS_ERROR_MAX, "unexpected end of JSON input");
		return false;
	}
	jl_quote_char((unsigned char) s[pos], q);
	snprintf(err, JS_ERROR_MAX, "invalid character %s %s", q, context);
	return false;
}

/* Runs one json_lex.h scanner result through fail_char; pos is read only
 * after the scanner (an argument) has moved it. */
static bool
lexed(const char *context, char *err, const char *s, size_t n, const size_t *pos)
{
	return context == NULL || fail_char(err, s, n, *pos, context);
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
					if (!lexed(jl_scan_string(s, n, &pos, NULL), err, s, n, &pos))
						goto out;
					break;
				case 't':
				case 'f':
				case 'n':
					{
						const char *word = s[pos] == 't' ? "true" : s[pos] == 'f' ? "false" : "null";
						char		ctx[JL_CONTEXT_MAX];

						if (!lexed(jl_scan_literal(s, n, &pos, word, ctx), err, s, n, &pos))
							goto out;
						break;
					}
				default:
					if (s[pos] == '-' || is_digit(s[pos]))
					{
						bool		integral;

						if (!lexed(jl_scan_number(s, n, &pos, &integral), err, s, n, &pos))
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
			if (!lexed(jl_scan_string(s, n, &pos, NULL), err, s, n, &pos))
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
	while (pos < n && jl_is_ws(s[pos]))
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
		while (i < n && !jl_is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
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

/* The validated string ends at its closing quote, so the shared scanner
 * decodes it exactly as reqjson.c decodes /rpc strings. */
void
js_string_decode(const char *s, JsSpan str, StrBuf *out)
{
	size_t		pos = str.off;

	(void) jl_scan_string(s, str.off + str.len, &pos, out);
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
