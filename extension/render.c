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

#include "hex.h"
#include "json_escape.h"
#include "render.h"


static void
stringinfo_sink(void *ctx, const char *s, size_t n)
{
	appendBinaryStringInfo((StringInfo) ctx, s, (int) n);
}

/* Go 1.22+ encoding/json with HTML escaping (json.Marshal's default). */
void
render_string(StringInfo buf, const char *str, size_t len)
{
	appendStringInfoChar(buf, '"');
	json_escape(str, len, stringinfo_sink, buf);
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
		hex_lower(&u->data[i], 1, &out[o]);
		o += 2;
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
