/* JSON output in the original's style (docs/http-api.md#wire-conventions): compact; strings
 * escaped like Go's encoding/json (<, >, & as \u003c.., U+2028/2029 escaped,
 * invalid UTF-8 as U+FFFD, '/' not escaped). */
#ifndef GW_JSONW_H
#define GW_JSONW_H

#include "strbuf.h"

#include <stdint.h>

void		jw_string(StrBuf *sb, const char *s, size_t len);	/* with quotes */
void		jw_int(StrBuf *sb, int64_t v);

/* Length of the valid UTF-8 sequence at s[0..n) (Go's utf8.DecodeRune
 * acceptance), 0 when the first byte starts no valid sequence. */
size_t		jw_utf8_seq(const char *s, size_t n, uint32_t *cp);

/* RFC 3339 UTC time with trailing fractional zeros removed (docs/http-api.md#wire-conventions). */
void		jw_time_usec(StrBuf *sb, int64_t unix_usec, bool with_fraction);

/* The same with all six fractional digits: fixed width, as log lines have it
 * (docs/operations.md#logs). */
void		jw_time_usec6(StrBuf *sb, int64_t unix_usec);

#endif
