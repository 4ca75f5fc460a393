/*
 * JSON string escaping as Go's encoding/json does it with HTML escaping on
 * (docs/http-api.md#wire-conventions): <, > and & as \u003c.., U+2028/2029 escaped, each
 * byte of invalid UTF-8 as \ufffd, '/' left alone. The extension's
 * rendering and the gateway's writer both emit it, so it lives here once.
 * Pure C: the caller supplies where the bytes go.
 */
#ifndef EVENTODB_JSON_ESCAPE_H
#define EVENTODB_JSON_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appends s[0..n) to the caller's buffer. */
typedef void (*JsonSink) (void *ctx, const char *s, size_t n);

/*
 * Length of the valid UTF-8 sequence at s[0..n) (n >= 1), or 0 when the
 * first byte starts none: Go's utf8.DecodeRune acceptance (no overlongs,
 * no surrogates, nothing above U+10FFFF). *cp receives the code point.
 */
size_t		json_utf8_seq(const char *s, size_t n, uint32_t *cp);

/* Whether json_escape writes the byte c as it stands: printable ASCII other
 * than the quote, the backslash and the three HTML characters. A table, as
 * the request parser asks it of every byte of every string. */
extern const bool json_plain_tab[256];

static inline bool
json_plain_ascii(unsigned char c)
{
	return json_plain_tab[c];
}

/* Emits s[0..len) escaped, without the surrounding quotes. */
void		json_escape(const char *s, size_t len, JsonSink sink, void *ctx);

#endif
