/*
 * SQL faces of the stream-name anatomy (docs/sql-api.md#id-cardinal_id-category-is_category, #hash_64): thin
 * wrappers over common/names.c so the extension and the gateway share one
 * implementation. None is STRICT because NULL handling is part of the
 * contract (is_category(NULL) is TRUE).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "consumer_group.h"
#include "names.h"
#include "store.h"

PG_FUNCTION_INFO_V1(msgdb_category);
PG_FUNCTION_INFO_V1(msgdb_id);
PG_FUNCTION_INFO_V1(msgdb_cardinal_id);
PG_FUNCTION_INFO_V1(msgdb_is_category);
PG_FUNCTION_INFO_V1(msgdb_hash_64);

/*
 * The shared MD5 (common/md5.c) rather than pg_md5_binary: with OpenSSL the
 * latter sets up a digest context (provider fetch included) per call, which
 * dominated consumer-group reads that hash every row's stream (about 0.5 us
 * of backend CPU per call against 0.1 us here).
 */
int64
store_hash64(const char *bytes, size_t len)
{
	return (int64) group_hash64(bytes, len);
}

Datum
msgdb_category(PG_FUNCTION_ARGS)
{
	text	   *name;
	size_t		len,
				clen;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	name = PG_GETARG_TEXT_PP(0);
	len = VARSIZE_ANY_EXHDR(name);
	clen = names_category_len(VARDATA_ANY(name), len);
	/* A name without '-' is its own category: no copy needed. */
	if (clen == len)
		PG_RETURN_TEXT_P(name);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(VARDATA_ANY(name), clen));
}

Datum
msgdb_id(PG_FUNCTION_ARGS)
{
	text	   *name;
	size_t		off,
				idlen;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	name = PG_GETARG_TEXT_PP(0);
	if (!names_id(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), &off, &idlen))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(VARDATA_ANY(name) + off, idlen));
}

Datum
msgdb_cardinal_id(PG_FUNCTION_ARGS)
{
	text	   *name;
	size_t		off,
				cidlen;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	name = PG_GETARG_TEXT_PP(0);
	if (!names_cardinal_id(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name),
						   &off, &cidlen))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(VARDATA_ANY(name) + off, cidlen));
}

Datum
msgdb_is_category(PG_FUNCTION_ARGS)
{
	text	   *name;

	/* Message DB: STRPOS(NULL, '-') = 0 is NULL, NOT NULL is NULL, so the
	 * IF falls through to RETURN TRUE. */
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(true);
	name = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(names_is_category(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)));
}

Datum
msgdb_hash_64(PG_FUNCTION_ARGS)
{
	text	   *value;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	value = PG_GETARG_TEXT_PP(0);
	PG_RETURN_INT64(store_hash64(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value)));
}
