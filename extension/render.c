/*
 * See render.h. Rendering walks the stored jsonb directly (no text round
 * trip); only object members are buffered, because jsonb orders keys by
 * length first and the original (a Go map) orders them by bytes.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "render.h"

static const char hexdigits[] = "0123456789abcdef";

/*
 * Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune rules: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 if invalid.
 */
static int
utf8_valid_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80,
				hi = 0xbf;
	int			n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
	{
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	}
	else if (c >= 0xf0 && c <= 0xf4)
	{
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	else
		return 0;
	if (avail < (size_t) n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Go 1.22+ encoding/json with HTML escaping (json.Marshal's default). */
void
render_string(StringInfo buf, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		start = 0;
	size_t		i = 0;

	appendStringInfoChar(buf, '"');
	while (i < len)
	{
		unsigned char c = s[i];
		const char *esc = NULL;
		char		u[7];
		int			n;

		if (c >= 0x80)
		{
			n = utf8_valid_len(s + i, len - i);
			if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
				esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			else if (n == 0)
			{
				esc = "\\ufffd";
				n = 1;
			}
		}
		else
		{
			n = 1;
			switch (c)
			{
				case '"':
					esc = "\\\"";
					break;
				case '\\':
					esc = "\\\\";
					break;
				case '\b':
					esc = "\\b";
					break;
				case '\f':
					esc = "\\f";
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
				case '<':
				case '>':
				case '&':
					break;
				default:
					if (c >= 0x20)
					{
						i++;
						continue;
					}
			}
			if (esc == NULL)
			{
				u[0] = '\\';
				u[1] = 'u';
				u[2] = '0';
				u[3] = '0';
				u[4] = hexdigits[c >> 4];
				u[5] = hexdigits[c & 0xf];
				u[6] = '\0';
				esc = u;
			}
		}
		if (esc == NULL)
		{
			i += n;
			continue;
		}
		appendBinaryStringInfo(buf, str + start, i - start);
		appendStringInfoString(buf, esc);
		i += n;
		start = i;
	}
	appendBinaryStringInfo(buf, str + start, len - start);
	appendStringInfoChar(buf, '"');
}

void
render_cstring(StringInfo buf, const char *s)
{
	render_string(buf, s, strlen(s));
}

void
render_text(StringInfo buf, const text *t)
{
	render_string(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

void
render_int64(StringInfo buf, int64 v)
{
	char		tmp[MAXINT8LEN + 1];
	int			len = pg_lltoa(v, tmp);

	appendBinaryStringInfo(buf, tmp, len);
}

typedef struct Member
{
	JsonbValue	key;
	JsonbValue	value;
} Member;

static int
member_cmp(const void *a, const void *b)
{
	const JsonbValue *ka = &((const Member *) a)->key;
	const JsonbValue *kb = &((const Member *) b)->key;
	int			la = ka->val.string.len;
	int			lb = kb->val.string.len;
	int			r = memcmp(ka->val.string.val, kb->val.string.val, Min(la, lb));

	if (r != 0)
		return r;
	return (la > lb) - (la < lb);
}

static void render_container(StringInfo buf, JsonbContainer *c);

static void
render_value(StringInfo buf, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(buf, "null");
			break;
		case jbvBool:
			appendStringInfoString(buf, v->val.boolean ? "true" : "false");
			break;
		case jbvString:
			render_string(buf, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(buf,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
			break;
		case jbvBinary:
			render_container(buf, v->val.binary.data);
			break;
		default:
			elog(ERROR, "eventodb: unexpected jsonb value type %d", (int) v->type);
	}
}

static void
render_object(StringInfo buf, JsonbContainer *c)
{
	int			n = JsonContainerSize(c);
	Member	   *m = n > 0 ? palloc(sizeof(Member) * n) : NULL;
	int			i = 0;
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;

	/* skipNested: nested containers come back as jbvBinary, unvisited. */
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			m[i].key = v;
		else if (tok == WJB_VALUE)
			m[i++].value = v;
	}
	if (n > 1)
		qsort(m, n, sizeof(Member), member_cmp);
	appendStringInfoChar(buf, '{');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		render_string(buf, m[i].key.val.string.val, m[i].key.val.string.len);
		appendStringInfoChar(buf, ':');
		render_value(buf, &m[i].value);
	}
	appendStringInfoChar(buf, '}');
	if (m)
		pfree(m);
}

static void
render_array(StringInfo buf, JsonbContainer *c)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		first = true;

	appendStringInfoChar(buf, '[');
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (!first)
			appendStringInfoChar(buf, ',');
		first = false;
		render_value(buf, &v);
	}
	appendStringInfoChar(buf, ']');
}

static void
render_container(StringInfo buf, JsonbContainer *c)
{
	if (JsonContainerIsScalar(c))
	{
		JsonbValue	v;

		if (!JsonbExtractScalar(c, &v))
			elog(ERROR, "eventodb: malformed scalar jsonb");
		render_value(buf, &v);
	}
	else if (JsonContainerIsObject(c))
		render_object(buf, c);
	else
		render_array(buf, c);
}

void
render_jsonb(StringInfo buf, Jsonb *jb)
{
	render_container(buf, &jb->root);
}

void
render_jsonb_datum(StringInfo buf, Datum d, bool isnull)
{
	Jsonb	   *jb;

	if (isnull)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	jb = DatumGetJsonbP(d);
	render_jsonb(buf, jb);
	if ((Pointer) jb != DatumGetPointer(d))
		pfree(jb);
}

void
render_uuid(StringInfo buf, const pg_uuid_t *u)
{
	char		out[38];
	int			o = 0;

	out[o++] = '"';
	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hexdigits[u->data[i] >> 4];
		out[o++] = hexdigits[u->data[i] & 0xf];
	}
	out[o++] = '"';
	appendBinaryStringInfo(buf, out, o);
}

void
render_time(StringInfo buf, Timestamp ts, bool with_fraction)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts))
	{
		appendStringInfoString(buf, TIMESTAMP_IS_NOBEGIN(ts) ? "\"-infinity\"" : "\"infinity\"");
		return;
	}
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	appendStringInfo(buf, "\"%04d-%02d-%02dT%02d:%02d:%02d",
					 tm.tm_year, tm.tm_mon, tm.tm_mday,
					 tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (with_fraction && fsec != 0)
	{
		char		frac[8];
		int			len = 6;

		snprintf(frac, sizeof(frac), ".%06d", (int) fsec);
		while (frac[len] == '0')
			len--;
		appendBinaryStringInfo(buf, frac, len + 1);
	}
	appendStringInfoString(buf, "Z\"");
}

void
render_unix_seconds(StringInfo buf, int64 secs)
{
	int64		epoch_shift = (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;

	render_time(buf, (secs - epoch_shift) * USECS_PER_SEC, false);
}
