/*
 * A strict JSON scanner over raw text (RFC 8259 as Go's encoding/json reads
 * it). json-c accepts NaN, single quotes, raw control characters and
 * silently clamps huge integers, so the import's record-shape rules
 * (docs/http-api.md#bulk-import-import) need their own validator. Values are handled as spans
 * of the original text, so payloads pass through without re-formatting
 * their numbers (docs/http-api.md#wire-conventions).
 */
#ifndef GW_JSON_SCAN_H
#define GW_JSON_SCAN_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error text in Go's wording, e.g. "invalid character 'x' looking for
 * beginning of value"; bounded by construction (one quoted byte). */
#define JS_ERROR_MAX 96

typedef enum JsType
{
	JS_OBJECT, JS_ARRAY, JS_STRING, JS_NUMBER, JS_BOOL, JS_NULL
} JsType;

/* A value inside the scanned text: s[off .. off+len). */
typedef struct JsSpan
{
	size_t		off;
	size_t		len;
} JsSpan;

/*
 * Validates that s[0..n) is exactly one JSON value, optionally surrounded
 * by whitespace. On failure writes Go's message to err (>= JS_ERROR_MAX).
 */
bool		js_validate(const char *s, size_t n, char *err);

/* The following assume s[0..n) passed js_validate(). */

/* Offset of the first non-whitespace byte at or after pos. */
size_t		js_skip_ws(const char *s, size_t n, size_t pos);

/* The value starting at pos (no leading whitespace). */
JsSpan		js_value_at(const char *s, size_t n, size_t pos);

JsType		js_type(const char *s, JsSpan v);

/* Iteration over the members of an object or the elements of an array. */
typedef struct JsIter
{
	const char *s;
	size_t		n;
	size_t		pos;
	bool		first;
	bool		is_object;
} JsIter;

void		js_iter_begin(JsIter *it, const char *s, size_t n, JsSpan container);
/* Next member: *key is the raw key string (with quotes; objects only). */
bool		js_iter_next(JsIter *it, JsSpan *key, JsSpan *value);

/* Appends the decoded bytes of a string value (escapes resolved, lone
 * surrogates as U+FFFD; other bytes verbatim). */
void		js_string_decode(const char *s, JsSpan str, StrBuf *out);

/* Parses an integer literal (no fraction, no exponent) that fits int64. */
bool		js_int64(const char *s, JsSpan num, int64_t *out);

#endif
