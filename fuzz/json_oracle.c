/* See json_oracle.h. Recursive descent; the depth cap keeps the stack small. */
#include "json_oracle.h"

typedef struct P
{
	const unsigned char *s;
	size_t		n;
	size_t		i;
	int			depth;
	bool		too_deep;
} P;

static void
ws(P *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
						   p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static bool
lit(P *p, const char *w)
{
	for (; *w; w++, p->i++)
		if (p->i >= p->n || p->s[p->i] != (unsigned char) *w)
			return false;
	return true;
}

static bool
digit(P *p)
{
	return p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

static bool
number(P *p)
{
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (!digit(p))
		return false;
	if (p->s[p->i] == '0')
		p->i++;
	else
		while (digit(p))
			p->i++;
	if (p->i < p->n && p->s[p->i] == '.')
	{
		p->i++;
		if (!digit(p))
			return false;
		while (digit(p))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E'))
	{
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!digit(p))
			return false;
		while (digit(p))
			p->i++;
	}
	return true;
}

static bool
hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
string(P *p)
{
	p->i++;						/* opening quote */
	while (p->i < p->n)
	{
		unsigned char c = p->s[p->i++];

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c == '\\')
		{
			if (p->i >= p->n)
				return false;
			c = p->s[p->i++];
			if (c == 'u')
			{
				for (int k = 0; k < 4; k++)
					if (p->i >= p->n || !hex(p->s[p->i++]))
						return false;
			}
			else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' &&
					 c != 'n' && c != 'r' && c != 't')
				return false;
		}
	}
	return false;
}

static bool value(P *p);

static bool
container(P *p, unsigned char close, bool object)
{
	if (++p->depth > ORACLE_MAX_DEPTH)
	{
		p->too_deep = true;
		return false;
	}
	p->i++;
	ws(p);
	if (p->i < p->n && p->s[p->i] == close)
	{
		p->i++;
		p->depth--;
		return true;
	}
	for (;;)
	{
		if (object)
		{
			if (p->i >= p->n || p->s[p->i] != '"' || !string(p))
				return false;
			ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return false;
			p->i++;
			ws(p);
		}
		if (!value(p))
			return false;
		ws(p);
		if (p->i >= p->n)
			return false;
		if (p->s[p->i] == ',')
		{
			p->i++;
			ws(p);
			continue;
		}
		if (p->s[p->i] == close)
		{
			p->i++;
			p->depth--;
			return true;
		}
		return false;
	}
}

static bool
value(P *p)
{
	if (p->i >= p->n)
		return false;
	switch (p->s[p->i])
	{
		case '{':
			return container(p, '}', true);
		case '[':
			return container(p, ']', false);
		case '"':
			return string(p);
		case 't':
			return lit(p, "true");
		case 'f':
			return lit(p, "false");
		case 'n':
			return lit(p, "null");
		default:
			return number(p);
	}
}

OracleVerdict
oracle_json(const char *s, size_t n)
{
	P			p = {(const unsigned char *) s, n, 0, 0, false};
	bool		ok;

	ws(&p);
	ok = value(&p);
	if (p.too_deep)
		return ORACLE_TOO_DEEP;
	if (!ok)
		return ORACLE_INVALID;
	ws(&p);
	return p.i == n ? ORACLE_VALID : ORACLE_INVALID;
}

char
oracle_top_kind(const char *s, size_t n)
{
	size_t		i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	if (i >= n)
		return 0;
	switch (s[i])
	{
		case '{':
		case '[':
		case '"':
		case 'n':
		case 't':
		case 'f':
			return s[i];
		default:
			return '0';
	}
}

bool
oracle_utf8(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = s[i];
		unsigned	need;
		unsigned long cp;
		unsigned long min;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1, cp = c & 0x1F, min = 0x80;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2, cp = c & 0x0F, min = 0x800;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		for (unsigned k = 1; k <= need; k++)
		{
			if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}
