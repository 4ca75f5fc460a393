/* See import_record.h. Go matches JSON keys to struct fields exactly or,
 * failing that, case-insensitively; JSON null leaves a field at its zero
 * value; any other type mismatch is an error even though the rest of the
 * record is still decoded. The first error wins. */
#include "import_record.h"

#include "echo.h"
#include "json_lex.h"
#include "json_scan.h"
#include "jsonw.h"
#include "rfc3339.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

enum
{
	F_ID, F_STREAM, F_TYPE, F_POS, F_GPOS, F_DATA, F_META, F_TIME, F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"id", "stream", "type", "pos", "gpos", "data", "meta", "time"
};

typedef struct Record
{
	StrBuf		str[F_COUNT];	/* decoded strings: id, stream, type, time */
	int64_t		num[F_COUNT];	/* pos, gpos */
	JsSpan		raw[F_COUNT];	/* data, meta: raw object text, len 0 = null */
} Record;

static int
find_field(const char *key, size_t len)
{
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == len && memcmp(field_names[f], key, len) == 0)
			return f;
	for (int f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == len && strncasecmp(field_names[f], key, len) == 0)
			return f;
	return -1;
}

static const char *
kind_name(JsType t)
{
	switch (t)
	{
		case JS_OBJECT:
			return "object";
		case JS_ARRAY:
			return "array";
		case JS_STRING:
			return "string";
		case JS_NUMBER:
			return "number";
		case JS_BOOL:
			return "bool";
		default:
			return "null";
	}
}

static void
type_error(StrBuf *why, const char *line, JsSpan v, int field, const char *go_type)
{
	JsType		t = js_type(line, v);

	if (why == NULL)
		return;
	sb_printf(why, "json: cannot unmarshal %s", kind_name(t));
	if (t == JS_NUMBER)
	{
		sb_putc(why, ' ');
		echo_append(why, line + v.off, v.len);
	}
	sb_printf(why, " into Go struct field record.%s of type %s", field_names[field], go_type);
}

/* Stores one member; false (with why set) on a type mismatch. */
static bool
set_field(Record *r, int f, const char *line, JsSpan v, StrBuf *why)
{
	JsType		t = js_type(line, v);

	if (t == JS_NULL)
	{
		/* Go resets maps to nil on null; scalars keep their value. */
		if (f == F_DATA || f == F_META)
			r->raw[f].len = 0;
		return true;
	}
	switch (f)
	{
		case F_POS:
		case F_GPOS:
			if (t == JS_NUMBER && js_int64(line, v, &r->num[f]))
				return true;
			type_error(why, line, v, f, "int64");
			return false;
		case F_DATA:
		case F_META:
			if (t == JS_OBJECT)
			{
				r->raw[f] = v;
				return true;
			}
			type_error(why, line, v, f, "map[string]interface {}");
			return false;
		default:
			if (t == JS_STRING)
			{
				sb_reset(&r->str[f]);
				js_string_decode(line, v, &r->str[f]);
				return true;
			}
			type_error(why, line, v, f, "string");
			return false;
	}
}

/* The code unit a \u escape at s[0..n) spells in four hex digits, or -1. */
static int32_t
u_escape(const char *s, size_t n)
{
	return n >= 6 && s[0] == '\\' && s[1] == 'u' ? jl_u4(s, n, 2) : -1;
}

/*
 * Raw payload text with what Go's decoder turns into U+FFFD replaced by it:
 * invalid UTF-8, and a \u escape of a surrogate that is not half of a pair
 * (PostgreSQL's json input refuses those, so one would fail its whole
 * batch). Everything else (numbers included) passes through unchanged. The
 * text was scanned as JSON, so a backslash is always an escape in a string.
 */
static void
put_raw(StrBuf *out, const char *s, JsSpan v)
{
	size_t		i = v.off,
				end = v.off + v.len,
				run = i;

	if (v.len == 0)
	{
		sb_puts(out, "null");
		return;
	}
	while (i < end)
	{
		uint32_t	cp;
		size_t		n;
		int32_t		u;

		if (s[i] == '\\')
		{
			u = u_escape(s + i, end - i);
			if (u >= 0xD800 && u <= 0xDBFF)
			{
				int32_t		lo = u_escape(s + i + 6, end - i - 6);

				if (lo >= 0xDC00 && lo <= 0xDFFF)
				{
					i += 12;	/* a pair */
					continue;
				}
			}
			if (u >= 0xD800 && u <= 0xDFFF)
			{
				sb_append(out, s + run, i - run);
				sb_puts(out, "\\ufffd");
				i += 6;
				run = i;
				continue;
			}
			i += 2;				/* any other escape, \\ included */
			continue;
		}
		if ((unsigned char) s[i] < 0x80)
		{
			i++;
			continue;
		}
		n = jw_utf8_seq(s + i, end - i, &cp);
		if (n > 0)
		{
			i += n;
			continue;
		}
		sb_append(out, s + run, i - run);
		sb_puts(out, "\xEF\xBF\xBD");
		i++;
		run = i;
	}
	sb_append(out, s + run, end - run);
}

static const char *
str_or_empty(const StrBuf *sb)
{
	return sb->data ? sb->data : "";
}

ImportRecordResult
import_record(const char *line, size_t len, StrBuf *out, int64_t *gpos, StrBuf *why)
{
	Record		r;
	char		err[JS_ERROR_MAX];
	ImportRecordResult result = RECORD_OK;
	size_t		start;
	JsSpan		top;
	Rfc3339		t;

	memset(&r, 0, sizeof(r));
	if (!js_validate(line, len, err))
	{
		sb_puts(why, err);
		return RECORD_INVALID_JSON;
	}
	start = js_skip_ws(line, len, 0);
	top = js_value_at(line, len, start);
	if (js_type(line, top) == JS_OBJECT)
	{
		JsIter		it;
		JsSpan		key,
					val;
		StrBuf		k = STRBUF_INIT;

		js_iter_begin(&it, line, len, top);
		while (js_iter_next(&it, &key, &val))
		{
			int			f;

			sb_reset(&k);
			js_string_decode(line, key, &k);
			f = find_field(k.data ? k.data : "", k.len);
			if (f >= 0 && !set_field(&r, f, line, val, result == RECORD_OK ? why : NULL))
				result = RECORD_INVALID_JSON;
		}
		sb_free(&k);
	}
	else if (js_type(line, top) != JS_NULL)
	{
		sb_printf(why, "json: cannot unmarshal %s into Go value of type record",
				  kind_name(js_type(line, top)));
		result = RECORD_INVALID_JSON;
	}

	if (result == RECORD_OK &&
		!rfc3339_parse(str_or_empty(&r.str[F_TIME]), r.str[F_TIME].len, &t, why))
		result = RECORD_INVALID_RECORD;

	if (result == RECORD_OK)
	{
		sb_puts(out, "{\"id\":");
		jw_string(out, str_or_empty(&r.str[F_ID]), r.str[F_ID].len);
		sb_puts(out, ",\"stream\":");
		jw_string(out, str_or_empty(&r.str[F_STREAM]), r.str[F_STREAM].len);
		sb_puts(out, ",\"type\":");
		jw_string(out, str_or_empty(&r.str[F_TYPE]), r.str[F_TYPE].len);
		sb_puts(out, ",\"pos\":");
		jw_int(out, r.num[F_POS]);
		sb_puts(out, ",\"gpos\":");
		jw_int(out, r.num[F_GPOS]);
		sb_puts(out, ",\"data\":");
		put_raw(out, line, r.raw[F_DATA]);
		sb_puts(out, ",\"meta\":");
		put_raw(out, line, r.raw[F_META]);
		sb_puts(out, ",\"time\":\"");
		rfc3339_format_sql(out, t);	/* eventodb.import_batch casts it to timestamptz */
		sb_puts(out, "\"}");
		*gpos = r.num[F_GPOS];
	}
	for (int f = 0; f < F_COUNT; f++)
		sb_free(&r.str[f]);
	return result;
}
