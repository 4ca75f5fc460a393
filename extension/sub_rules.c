/*
 * Validation of the subscription functions' arguments: the same rules, order
 * and texts as the gateway's RPC methods (docs/subscriptions.md, "Errors"),
 * raised as SQLSTATE 22023 so psql users see what HTTP clients see. A
 * failed validation raises before anything is read or written.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "sub_names.h"
#include "subscription.h"

static void
invalid(const char *msg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg)));
}

void
sub_check_name(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		invalid("name must be 1-100 characters of [A-Za-z0-9._:-]");
	t = PG_GETARG_TEXT_PP(argno);
	if (!sub_name_valid(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
		invalid("name must be 1-100 characters of [A-Za-z0-9._:-]");
}

void
sub_check_consumer(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		invalid("consumerId must be 1-100 printable ASCII characters");
	t = PG_GETARG_TEXT_PP(argno);
	if (!sub_consumer_valid(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
		invalid("consumerId must be 1-100 printable ASCII characters");
}

void
sub_check_category(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		invalid("category must be a string");
	t = PG_GETARG_TEXT_PP(argno);
	if (memchr(VARDATA_ANY(t), '-', VARSIZE_ANY_EXHDR(t)) != NULL)
		invalid("category must not contain '-'");
}

char	  **
sub_check_delivery_ids(FunctionCallInfo fcinfo, int argno, int *n)
{
	const char *msg = "deliveryIds must be an array of 1-1000 non-empty strings";
	ArrayType  *a;
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	char	  **out;
	int			k = 0;

	if (PG_ARGISNULL(argno))
		invalid(msg);
	a = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(a) > 1)
		invalid(msg);
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
	if (count < 1 || count > SUB_MAX_IDS)
		invalid(msg);
	out = palloc(sizeof(char *) * count);
	for (int i = 0; i < count; i++)
	{
		char	   *s;
		bool		dup = false;

		if (nulls[i] || VARSIZE_ANY_EXHDR(DatumGetPointer(elems[i])) == 0)
			invalid(msg);
		s = TextDatumGetCString(elems[i]);
		/* Duplicates count once (at most 1000 ids: quadratic is fine). */
		for (int j = 0; j < k && !dup; j++)
			dup = strcmp(out[j], s) == 0;
		if (!dup)
			out[k++] = s;
	}
	*n = k;
	return out;
}

/* The value of key in an object, or NULL when absent. */
static JsonbValue *
option(Jsonb *jb, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &k);
}

/* A JSON number truncated toward zero, or false when it is not a number. */
static bool
truncated(JsonbValue *v, double *out)
{
	if (v->type != jbvNumeric)
		return false;
	*out = trunc(DatumGetFloat8(DirectFunctionCall1(numeric_float8,
													NumericGetDatum(v->val.numeric))));
	return true;
}

static int32
int_option(Jsonb *jb, const char *key, int32 lo, int32 hi, bool *present)
{
	JsonbValue *v = option(jb, key);
	double		d;

	*present = v != NULL;
	if (v == NULL)
		return 0;
	if (!truncated(v, &d))
		invalid(psprintf("options.%s must be a number", key));
	if (d < lo || d > hi)
		invalid(psprintf("options.%s must be between %d and %d", key, lo, hi));
	return (int32) d;
}

static int
cmp_cstring(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* options.types: at most 100 non-empty strings, kept sorted by byte and distinct. */
static void
parse_types(JsonbValue *v, SubSettings *out)
{
	const char *msg = "options.types must be an array of at most 100 non-empty strings";
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	char	  **items;
	int			n = 0,
				k = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerIsScalar(v->val.binary.data))
		invalid(msg);
	if (JsonContainerSize(v->val.binary.data) > SUB_MAX_TYPES)
		invalid(msg);
	items = palloc(sizeof(char *) * (JsonContainerSize(v->val.binary.data) + 1));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvString || e.val.string.len == 0)
			invalid(msg);
		items[n++] = pnstrdup(e.val.string.val, e.val.string.len);
	}
	qsort(items, n, sizeof(char *), cmp_cstring);
	for (int i = 0; i < n; i++)
		if (k == 0 || strcmp(items[k - 1], items[i]) != 0)
			items[k++] = items[i];
	out->has_types = true;
	out->ntypes = k;
	out->types = sub_text_array(items, k);
}

static void
parse_start(JsonbValue *v, SubSettings *out)
{
	const char *msg = "options.start must be \"beginning\", \"end\" or a global position >= 0";

	out->has_start = true;
	if (v->type == jbvString)
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);

		if (strcmp(s, "beginning") == 0)
			out->start_kind = SUB_START_BEGINNING;
		else if (strcmp(s, "end") == 0)
			out->start_kind = SUB_START_END;
		else
			invalid(msg);
	}
	else if (v->type == jbvNumeric)
	{
		Datum		n = DirectFunctionCall2(numeric_trunc, NumericGetDatum(v->val.numeric),
											Int32GetDatum(0));
		double		d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, n));
		int64		pos;

		/* 2^63 as a double: anything at or above it does not fit. */
		if (d < 0 || d >= 9223372036854775808.0)
			invalid(msg);
		pos = DatumGetInt64(DirectFunctionCall1(numeric_int8, n));
		out->start_kind = SUB_START_POSITION;
		out->start = pos;
	}
	else
		invalid(msg);
}

void
sub_parse_options(FunctionCallInfo fcinfo, int argno, bool for_update, SubSettings *out)
{
	Jsonb	   *jb;
	JsonbValue *v;
	bool		present;

	memset(out, 0, sizeof(*out));
	if (PG_ARGISNULL(argno))
		invalid("options must be an object");
	jb = PG_GETARG_JSONB_P(argno);
	if (!JB_ROOT_IS_OBJECT(jb))
		invalid("options must be an object");
	if (for_update)
	{
		if (option(jb, "category") != NULL)
			invalid("options.category cannot be changed");
		if (option(jb, "start") != NULL)
			invalid("options.start cannot be changed: use subscription.reset");
	}
	if ((v = option(jb, "types")) != NULL)
		parse_types(v, out);
	if (!for_update && (v = option(jb, "start")) != NULL)
		parse_start(v, out);
	out->max_in_flight = int_option(jb, "maxInFlight", 1, 1000, &present);
	out->has_max_in_flight = present;
	out->ack_timeout_ms = int_option(jb, "ackTimeoutMs", 100, 3600000, &present);
	out->has_ack_timeout = present;
	out->max_deliveries = int_option(jb, "maxDeliveries", 1, 1000, &present);
	out->has_max_deliveries = present;
	if ((v = option(jb, "strategy")) != NULL)
	{
		if (v->type == jbvString && v->val.string.len == 6 &&
			memcmp(v->val.string.val, "pinned", 6) == 0)
			out->round_robin = false;
		else if (v->type == jbvString && v->val.string.len == 10 &&
				 memcmp(v->val.string.val, "roundRobin", 10) == 0)
			out->round_robin = true;
		else
			invalid("options.strategy must be \"pinned\" or \"roundRobin\"");
		out->has_strategy = true;
	}
}

void
sub_parse_position(const char *s, int *kind, int64 *pos)
{
	const char *msg = "position must be \"beginning\", \"end\" or a global position >= 0";
	int64		v = 0;

	if (s == NULL)
		invalid(msg);
	if (strcmp(s, "beginning") == 0)
	{
		*kind = SUB_START_BEGINNING;
		return;
	}
	if (strcmp(s, "end") == 0)
	{
		*kind = SUB_START_END;
		return;
	}
	if (*s == '\0')
		invalid(msg);
	for (const char *p = s; *p; p++)
	{
		if (*p < '0' || *p > '9' || v > (PG_INT64_MAX - (*p - '0')) / 10)
			invalid(msg);
		v = v * 10 + (*p - '0');
	}
	*kind = SUB_START_POSITION;
	*pos = v;
}
