/*
 * The tokens of JSON as Go's encoding/json scanner reads them, shared by the
 * gateway's two readers: json_scan.c (spans over raw text: /import records,
 * replies from PostgreSQL) and reqjson.c (json-c trees for /rpc bodies).
 * Keeping strings, numbers, literals and Go's error wording in one place
 * keeps the two from drifting apart.
 *
 * The scanners take s[0..n) and *pos on the token's first byte. On success
 * they return NULL with *pos after the token; on a syntax error they return
 * Go's context text ("in string literal", ...) with *pos on the offending
 * byte, where *pos >= n means "unexpected end of JSON input".
 */
#ifndef GW_JSON_LEX_H
#define GW_JSON_LEX_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JL_QUOTE_MAX 16			/* one quoted byte, e.g. '\u00ad' */
#define JL_CONTEXT_MAX 48		/* "in literal false (expecting 'x')" */

static inline bool
jl_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Go's quoteChar(): how encoding/json names an offending byte in errors. */
void		jl_quote_char(unsigned char c, char out[JL_QUOTE_MAX]);

void		jl_put_utf8(StrBuf *out, uint32_t cp);

/*
 * A string, *pos on its opening quote. Decoded bytes go to out unless it is
 * NULL (validation only): escapes resolved, lone surrogates and invalid
 * UTF-8 as U+FFFD, as Go's decoder does.
 */
const char *jl_scan_string(const char *s, size_t n, size_t *pos, StrBuf *out);

/* The four hexadecimal digits at s[pos..n) as a number, or -1 when they are
 * not there (a \u escape's code unit). */
int32_t		jl_u4(const char *s, size_t n, size_t pos);

/* A number, *pos on '-' or a digit; *integral: no fraction, no exponent. */
const char *jl_scan_number(const char *s, size_t n, size_t *pos, bool *integral);

/* The literal word ("true", "false", "null"); the context goes in ctx. */
const char *jl_scan_literal(const char *s, size_t n, size_t *pos, const char *word,
							char ctx[JL_CONTEXT_MAX]);

#endif
