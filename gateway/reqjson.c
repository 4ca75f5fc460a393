/* See reqjson.h. A small recursive-descent parser rather than json-c's own
 * tokener: json-c accepts NaN, clamps integers beyond 64 bits, limits depth
 * to 32 and keeps invalid UTF-8, all of which Go's decoder treats otherwise.
 * The result is still a json-c tree, so handlers use json-c's accessors. */
#include "reqjson.h"

#include "echo.h"
#include "json_escape.h"
#include "json_lex.h"
#include "jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 10000			/* Go's scanner limit */

/* userdata tags of values kept as placeholders (json-c string objects) */
static char tag_object;
static char tag_array;

/* Keys some RPC method reads from an argument object; the rest is ignored
 * by every method, so it is validated but never stored. */
static const char *const arg_keys[] = {
	"type", "data", "metadata", "id", "expectedVersion", "position",
	"globalPosition", "batchSize", "correlation", "consumerGroup",
	"description", "token", "prefix", "limit", "cursor",
	/* persistent subscriptions (docs/subscriptions.md#settings, #over-http) */
	"types", "start", "maxInFlight", "ackTimeoutMs", "maxDeliveries", "strategy",
	"category", "max", "waitMs", "action", "reason", "globalPositions",
	/* writes and reads (docs/writes-and-reads.md) */
	"idempotent", "direction",
	/* stream lifecycle (docs/lifecycle.md) */
	"hard", "maxAge", "maxCount", "truncateBefore", NULL
};

/* Keys among those whose array value is materialised (its first
 * REQ_MAX_LIST elements); other arrays below an argument are skipped. */
static const char *const list_keys[] = {"types", "globalPositions", NULL};

typedef enum Mode { MODE_BUILD, MODE_TEXT, MODE_SKIP } Mode;

typedef struct Parser
{
	const char *s;
	size_t		len;
	size_t		pos;
	int			depth;
	StrBuf	   *err;
	bool		failed;
	char	   *range_error;	/* first number a float64 cannot hold */
	const char *const *keys;	/* key filter for level-1 objects */
	bool		list_value;		/* the level-2 value parsed next is a list_keys member */
	bool		verbatim;		/* no byte read since object_text began needs rewriting */
} Parser;

static bool parse_value(Parser *p, int level, Mode mode, struct json_object **out, StrBuf *text);

static bool
fail_eof(Parser *p)
{
	if (!p->failed)
	{
		sb_reset(p->err);
		sb_puts(p->err, "unexpected end of JSON input");
		p->failed = true;
	}
	return false;
}

static bool
fail_char(Parser *p, const char *context)
{
	if (p->pos >= p->len)
		return fail_eof(p);
	if (!p->failed)
	{
		char		q[JL_QUOTE_MAX];

		jl_quote_char((unsigned char) p->s[p->pos], q);
		sb_reset(p->err);
		sb_printf(p->err, "invalid character %s %s", q, context);
		p->failed = true;
	}
	return false;
}

/* A json_lex.h scanner's result: context NULL or the syntax error. */
static bool
lexed(Parser *p, const char *context)
{
	return context == NULL || fail_char(p, context);
}

static void
skip_ws(Parser *p)
{
	size_t		start = p->pos;

	while (p->pos < p->len && jl_is_ws(p->s[p->pos]))
		p->pos++;
	if (p->pos != start)
		p->verbatim = false;	/* normalised text has none */
}

static struct json_object *
placeholder(char *tag, const char *text, size_t len)
{
	struct json_object *o = json_object_new_string_len(text ? text : "", (int) len);

	if (o != NULL)
		json_object_set_userdata(o, tag, NULL);
	return o;
}

/* String at p->pos; decoded bytes go to out unless it is NULL. */
static bool
parse_string(Parser *p, StrBuf *out)
{
	return lexed(p, jl_scan_string(p->s, p->len, &p->pos, out));
}

/*
 * Where the string at p->pos ends (past its closing quote) when its raw
 * form is already what jw_string writes - printable ASCII with no escape
 * and none of the characters it escapes, as most keys and values of an
 * event are; 0 for any other string.
 */
static size_t
plain_string_end(const Parser *p)
{
	for (size_t i = p->pos + 1; i < p->len; i++)
	{
		unsigned char c = (unsigned char) p->s[i];

		if (c == '"')
			return i + 1;
		if (!json_plain_ascii(c))
			return 0;
	}
	return 0;
}

/*
 * A plain string (above) is copied to text as it stands: the decoding and
 * re-escaping were a third of a write's parse. False, having consumed
 * nothing, for any other string.
 */
static bool
copy_plain_string(Parser *p, StrBuf *text)
{
	size_t		end = plain_string_end(p);

	if (end == 0)
		return false;
	sb_append(text, p->s + p->pos, end - p->pos);
	p->pos = end;
	return true;
}

/* A string skipped: a plain one is only scanned, and keeps p->verbatim. */
static bool
skip_string(Parser *p)
{
	size_t		end = plain_string_end(p);

	if (end != 0)
	{
		p->pos = end;
		return true;
	}
	p->verbatim = false;
	return parse_string(p, NULL);
}

/* A string in text mode: copied when plain, else decoded and re-escaped. */
static bool
text_string(Parser *p, StrBuf *text)
{
	StrBuf		s = STRBUF_INIT;
	bool		ok;

	if (copy_plain_string(p, text))
		return true;
	ok = parse_string(p, &s);
	if (ok)
		jw_string(text, s.data ? s.data : "", s.len);
	sb_free(&s);
	return ok;
}

static bool
parse_number(Parser *p, Mode mode, struct json_object **out, StrBuf *text)
{
	size_t		start = p->pos;
	bool		integral;
	char	   *copy;
	size_t		n;

	if (!lexed(p, jl_scan_number(p->s, p->len, &p->pos, &integral)))
		return false;
	n = p->pos - start;
	/*
	 * Not built, and too short to overflow a double without an exponent:
	 * nothing to convert (the range check below needs strtod).
	 */
	if (mode != MODE_BUILD && n <= 300 && memchr(p->s + start, 'e', n) == NULL &&
		memchr(p->s + start, 'E', n) == NULL)
	{
		if (mode == MODE_TEXT)
			sb_append(text, p->s + start, n);
		return true;
	}
	copy = strndup(p->s + start, n);
	if (copy == NULL)
		abort();
	errno = 0;
	{
		double		d = strtod(copy, NULL);
		long long	iv = 0;
		bool		fits = false;

		if (isinf(d) && p->range_error == NULL)
			p->range_error = strdup(copy);
		if (integral)
		{
			errno = 0;
			iv = strtoll(copy, NULL, 10);
			fits = (errno == 0);
		}
		if (mode == MODE_TEXT)
			sb_append(text, copy, n);
		else if (mode == MODE_BUILD)
			*out = fits ? json_object_new_int64(iv) : json_object_new_double_s(d, copy);
	}
	free(copy);
	return true;
}

static bool
parse_literal(Parser *p, const char *word, Mode mode, struct json_object **out, StrBuf *text)
{
	char		ctx[JL_CONTEXT_MAX];

	if (!lexed(p, jl_scan_literal(p->s, p->len, &p->pos, word, ctx)))
		return false;
	if (mode == MODE_TEXT)
		sb_puts(text, word);
	else if (mode == MODE_BUILD)
	{
		if (word[0] == 't')
			*out = json_object_new_boolean(1);
		else if (word[0] == 'f')
			*out = json_object_new_boolean(0);
		else
			*out = NULL;
	}
	return true;
}

static bool
key_wanted(const char *const *keys, const char *k, size_t len)
{
	for (; *keys; keys++)
		if (strlen(*keys) == len && memcmp(*keys, k, len) == 0)
			return true;
	return false;
}

/*
 * Opens the object or array at p->pos (text mode writes its opening byte):
 * 1 when a member follows, 0 when it is empty (the closing byte consumed
 * too), -1 past Go's depth limit - after_value's answers, so one loop
 * reads a container. The depth counts up either way; the caller counts it
 * down.
 */
static int
enter(Parser *p, Mode self, StrBuf *text, char open, char close)
{
	if (++p->depth > MAX_DEPTH)
	{
		sb_reset(p->err);
		sb_puts(p->err, "exceeded max depth");
		p->failed = true;
		return -1;
	}
	p->pos++;
	if (self == MODE_TEXT)
		sb_putc(text, open);
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close)
	{
		p->pos++;
		return 0;
	}
	return 1;
}

/* After a member or element: 1 on ',', 0 on the closing byte (consumed
 * either way), -1 on a syntax error. */
static int
after_value(Parser *p, char close, const char *context)
{
	skip_ws(p);
	if (p->pos >= p->len)
	{
		fail_eof(p);
		return -1;
	}
	if (p->s[p->pos] == ',' || p->s[p->pos] == close)
		return p->s[p->pos++] == ',';
	fail_char(p, context);
	return -1;
}

static bool parse_object(Parser *p, int level, Mode mode, struct json_object **out, StrBuf *text);

/*
 * A level-2 object (an event's data or metadata) kept as normalised text.
 * Most arrive normalised already - no whitespace, every string plain - so
 * a first pass only checks the object and its bytes are kept as they
 * stand; any other is read again and rewritten. Both passes fail alike.
 */
static bool
object_text(Parser *p, struct json_object **out)
{
	size_t		start = p->pos;
	StrBuf		sub = STRBUF_INIT;
	bool		ok;

	p->verbatim = true;
	if (!parse_object(p, 3, MODE_SKIP, NULL, NULL))
		return false;
	if (p->verbatim)
	{
		*out = placeholder(&tag_object, p->s + start, p->pos - start);
		return true;
	}
	p->pos = start;
	ok = parse_object(p, 3, MODE_TEXT, NULL, &sub);
	if (ok)
		*out = placeholder(&tag_object, sub.data, sub.len);
	sb_free(&sub);
	return ok;
}

/*
 * Object at p->pos. Level 1 (an argument) is materialised with the wanted
 * keys only; level 2 becomes normalised text (object_text); anything else
 * is skipped.
 */
static bool
parse_object(Parser *p, int level, Mode mode, struct json_object **out, StrBuf *text)
{
	StrBuf		key = STRBUF_INIT;
	Mode		self = mode;
	struct json_object *obj = NULL;
	bool		first = true;
	bool		ok = false;
	int			more;

	if (mode == MODE_BUILD)
	{
		if (level == 2)
			return object_text(p, out);
		if (level == 1)
			obj = json_object_new_object();
		else
			self = MODE_SKIP;
	}
	for (more = enter(p, self, text, '{', '}'); more > 0;
		 more = after_value(p, '}', "after object key:value pair"))
	{
		struct json_object *val = NULL;
		bool		wanted;
		Mode		vmode;

		skip_ws(p);
		if (p->pos >= p->len)
		{
			fail_eof(p);
			goto done;
		}
		if (p->s[p->pos] != '"')
		{
			fail_char(p, "looking for beginning of object key string");
			goto done;
		}
		sb_reset(&key);
		if (self == MODE_TEXT)
		{
			/* the key's text goes out as it is read */
			if (!first)
				sb_putc(text, ',');
			if (!text_string(p, text))
				goto done;
		}
		else if (self == MODE_SKIP ? !skip_string(p) : !parse_string(p, &key))
			goto done;
		skip_ws(p);
		if (p->pos >= p->len)
		{
			fail_eof(p);
			goto done;
		}
		if (p->s[p->pos] != ':')
		{
			fail_char(p, "after object key");
			goto done;
		}
		p->pos++;
		skip_ws(p);
		if (self == MODE_TEXT)
			sb_putc(text, ':');
		first = false;
		wanted = (self == MODE_BUILD) &&
			memchr(key.data ? key.data : "", '\0', key.len) == NULL &&
			key_wanted(p->keys, key.data ? key.data : "", key.len);
		vmode = self == MODE_BUILD ? (wanted ? MODE_BUILD : MODE_SKIP) : self;
		p->list_value = wanted && level == 1 && key_wanted(list_keys, key.data, key.len);
		if (!parse_value(p, level + 1, vmode, &val, text))
			goto done;
		if (wanted)
			json_object_object_add(obj, key.data, val);
	}
	if (more < 0)
		goto done;
	ok = true;
	if (self == MODE_TEXT)
		sb_putc(text, '}');
	if (mode == MODE_BUILD)
	{
		if (level == 1)
		{
			*out = obj;
			obj = NULL;
		}
		else
			*out = placeholder(&tag_object, NULL, 0);
	}
done:
	p->depth--;
	json_object_put(obj);
	sb_free(&key);
	return ok;
}

static bool
parse_array(Parser *p, int level, Mode mode, struct json_object **out, StrBuf *text)
{
	struct json_object *arr = NULL;
	Mode		self = mode;
	size_t		idx = 0;
	bool		ok = false;
	int			more;

	bool		keep = level <= 1 || (level == 2 && p->list_value);

	/* the request (level 0), an argument (deliveryIds) or a list member of
	 * an argument (types, globalPositions) keep their first elements */
	p->list_value = false;
	if (mode == MODE_BUILD)
	{
		if (keep)
			arr = json_object_new_array();
		else
			self = MODE_SKIP;
	}
	for (more = enter(p, self, text, '[', ']'); more > 0;
		 more = after_value(p, ']', "after array element"))
	{
		struct json_object *val = NULL;
		Mode		vmode = self;

		if (self == MODE_BUILD && idx >= (level == 0 ? REQ_MAX_ELEMENTS : REQ_MAX_LIST))
			vmode = MODE_SKIP;
		if (self == MODE_TEXT && idx > 0)
			sb_putc(text, ',');
		skip_ws(p);
		if (!parse_value(p, level + 1, vmode, &val, text))
			goto done;
		if (vmode == MODE_BUILD)
			json_object_array_add(arr, val);
		idx++;
	}
	if (more < 0)
		goto done;
	ok = true;
	if (self == MODE_TEXT)
		sb_putc(text, ']');
	if (mode == MODE_BUILD)
	{
		if (keep)
		{
			*out = arr;
			arr = NULL;
		}
		else
			*out = placeholder(&tag_array, NULL, 0);
	}
done:
	p->depth--;
	json_object_put(arr);
	return ok;
}

static bool
parse_value(Parser *p, int level, Mode mode, struct json_object **out, StrBuf *text)
{
	char		c;

	if (out)
		*out = NULL;
	skip_ws(p);
	if (p->pos >= p->len)
		return fail_eof(p);
	c = p->s[p->pos];
	switch (c)
	{
		case '{':
			return parse_object(p, level, mode, out, text);
		case '[':
			return parse_array(p, level, mode, out, text);
		case '"':
			if (mode == MODE_SKIP)
				return skip_string(p);
			else if (mode == MODE_TEXT)
				return text_string(p, text);
			else
			{
				StrBuf		s = STRBUF_INIT;
				bool		ok = parse_string(p, &s);

				if (ok)
					*out = json_object_new_string_len(s.data ? s.data : "", (int) s.len);
				sb_free(&s);
				return ok;
			}
		case 't':
			return parse_literal(p, "true", mode, out, text);
		case 'f':
			return parse_literal(p, "false", mode, out, text);
		case 'n':
			return parse_literal(p, "null", mode, out, text);
		default:
			if (c == '-' || (c >= '0' && c <= '9'))
				return parse_number(p, mode, out, text);
			return fail_char(p, "looking for beginning of value");
	}
}

bool
req_parse(const char *body, size_t len, struct json_object **out, StrBuf *err)
{
	Parser		p = {.s = body, .len = len, .err = err, .keys = arg_keys};
	struct json_object *v = NULL;
	ReqKind		k;

	*out = NULL;
	if (len > (size_t) INT32_MAX)
	{
		sb_puts(err, "request body too large");
		return false;
	}
	if (!parse_value(&p, 0, MODE_BUILD, &v, NULL))
		goto fail;
	skip_ws(&p);
	if (p.pos < p.len)
	{
		fail_char(&p, "after top-level value");
		goto fail;
	}
	k = req_kind(v);
	if (k != REQ_ARRAY && k != REQ_NULL)
	{
		static const char *const names[] = {"null", "bool", "number", "string", "object", "array"};

		sb_reset(err);
		sb_printf(err, "json: cannot unmarshal %s into Go value of type []interface {}", names[k]);
		goto fail;
	}
	if (p.range_error != NULL)
	{
		sb_reset(err);
		sb_puts(err, "json: cannot unmarshal number ");
		echo_append(err, p.range_error, strlen(p.range_error));
		sb_puts(err, " into Go value of type float64");
		goto fail;
	}
	*out = v;
	return true;
fail:
	free(p.range_error);
	json_object_put(v);
	return false;
}

ReqKind
req_kind(struct json_object *v)
{
	void	   *tag;

	if (v == NULL)
		return REQ_NULL;
	switch (json_object_get_type(v))
	{
		case json_type_null:
			return REQ_NULL;
		case json_type_boolean:
			return REQ_BOOL;
		case json_type_double:
		case json_type_int:
			return REQ_NUMBER;
		case json_type_object:
			return REQ_OBJECT;
		case json_type_array:
			return REQ_ARRAY;
		case json_type_string:
			tag = json_object_get_userdata(v);
			if (tag == &tag_object)
				return REQ_OBJECT;
			if (tag == &tag_array)
				return REQ_ARRAY;
			return REQ_STRING;
	}
	return REQ_NULL;
}

bool
req_int64(struct json_object *v, int64_t *out)
{
	double		d;

	if (json_object_get_type(v) == json_type_int)
		d = (double) json_object_get_int64(v);
	else
		d = json_object_get_double(v);
	/* Go's int64(float64) after decoding as a double (docs/http-api.md#wire-conventions) */
	d = trunc(d);
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	*out = (int64_t) d;
	return true;
}

const char *
req_object_text(struct json_object *v, size_t *len)
{
	if (json_object_get_type(v) == json_type_string)
	{
		*len = (size_t) json_object_get_string_len(v);
		return json_object_get_string(v);
	}
	/* a materialised (level-1) object: only reachable for small objects */
	{
		const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		*len = strlen(s);
		return s;
	}
}

struct json_object *
req_object_open(struct json_object *v, const char *const *keys)
{
	StrBuf		err = STRBUF_INIT;
	size_t		len;
	const char *text = req_object_text(v, &len);
	Parser		p = {.s = text, .len = len, .err = &err, .keys = keys};
	struct json_object *o = NULL;

	/* parsed as an argument (level 1) so the wanted keys materialise */
	if (!parse_value(&p, 1, MODE_BUILD, &o, NULL))
	{
		json_object_put(o);
		o = NULL;
	}
	free(p.range_error);
	sb_free(&err);
	return o;
}
