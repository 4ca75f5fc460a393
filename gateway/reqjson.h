/* Decoding of /rpc request bodies with the semantics of Go's encoding/json
 * (docs/http-api.md#wire-conventions): strict syntax, nothing but whitespace after the value,
 * invalid UTF-8 and lone surrogates become U+FFFD, numbers outside the double
 * range are errors, last duplicate key wins.
 *
 * Memory stays proportional to the body, never to its element count: only
 * the first REQ_MAX_ELEMENTS array elements, the first REQ_MAX_LIST elements
 * of nested arrays and, inside argument objects, only the keys some method
 * reads are materialised as json-c objects.
 * Objects nested below an argument (message data/metadata, consumerGroup)
 * are kept as their normalised JSON text, ready to be sent to PostgreSQL. */
#ifndef GW_REQJSON_H
#define GW_REQJSON_H

#include "strbuf.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define REQ_MAX_ELEMENTS 4		/* method + the most arguments a method reads */
/*
 * Arrays inside the request (an argument, or a member of an argument
 * object) keep at most this many elements - one more than the longest list
 * a method accepts, so "more than 1000" stays visible.
 */
#define REQ_MAX_LIST 1001

typedef enum ReqKind
{
	REQ_NULL, REQ_BOOL, REQ_NUMBER, REQ_STRING, REQ_OBJECT, REQ_ARRAY
} ReqKind;

/*
 * Parses body[0..len). On success returns true and stores the top-level
 * value in *out (NULL for JSON null; caller json_object_put()s it). On a
 * syntax or range error returns false with a Go-style reason in *err.
 */
bool		req_parse(const char *body, size_t len, struct json_object **out, StrBuf *err);

/* Kind of a value as the original's type switch sees it (NULL = JSON null). */
ReqKind		req_kind(struct json_object *v);

/* The number truncated toward zero as int64 (docs/http-api.md#wire-conventions); false when out of range. */
bool		req_int64(struct json_object *v, int64_t *out);

/* Normalised JSON text of an object value (kept or materialised). */
const char *req_object_text(struct json_object *v, size_t *len);

/*
 * Materialises an object kept as text (consumerGroup), with only the
 * listed keys (NULL-terminated). Returns a new reference, or NULL.
 */
struct json_object *req_object_open(struct json_object *v, const char *const *keys);

#endif
