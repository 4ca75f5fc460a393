/*
 * See token.h. The checks and their texts follow the original's Go code
 * (docs/http-api.md#tokens): strings.Split on '_', encoding/hex for the random part
 * and base64.RawURLEncoding for the namespace part, including their decoder
 * messages and their leniency, so that every string is accepted or rejected
 * exactly as the original does.
 */
#include "token.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "invalid token format: "

static const char b64url[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Go's strconv.IsPrint for a code point below U+0100 (InvalidByteError
 * formats a single byte as a rune with %#U).
 */
static bool
latin1_printable(unsigned char c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad)
		return false;
	return true;
}

/* Go's fmt "%#U" of a byte value: U+0067 'g', or U+0000 when not printable. */
static void
format_invalid_byte(char *err, size_t errsz, unsigned char c)
{
	if (!latin1_printable(c))
		snprintf(err, errsz, PREFIX "random part is not valid hexadecimal: "
				 "encoding/hex: invalid byte: U+%04X", c);
	else if (c < 0x80)
		snprintf(err, errsz, PREFIX "random part is not valid hexadecimal: "
				 "encoding/hex: invalid byte: U+%04X '%c'", c, c);
	else
		snprintf(err, errsz, PREFIX "random part is not valid hexadecimal: "
				 "encoding/hex: invalid byte: U+%04X '%c%c'", c,
				 (char) (0xc0 | (c >> 6)), (char) (0x80 | (c & 0x3f)));
}

/*
 * base64.RawURLEncoding.Decode: quantum by quantum, skipping CR and LF,
 * ignoring the unused low bits of a final partial quantum (not strict), and
 * reporting errors at the offsets Go reports. Returns the failing offset, or
 * -1 on success.
 */
static long
b64url_decode(const char *src, size_t len, char *dst, size_t *dlen)
{
	size_t		si = 0;
	size_t		n = 0;

	while (si < len)
	{
		unsigned	dbuf[4] = {0, 0, 0, 0};
		int			qlen = 4;

		for (int j = 0; j < 4; j++)
		{
			unsigned char in;
			int			v;

			if (si == len)
			{
				if (j == 0)
				{
					*dlen = n;
					return -1;
				}
				if (j == 1)
					return (long) (si - 1);
				qlen = j;
				break;
			}
			in = (unsigned char) src[si++];
			v = b64_value(in);
			if (v >= 0)
			{
				dbuf[j] = (unsigned) v;
				continue;
			}
			if (in == '\n' || in == '\r')
			{
				j--;
				continue;
			}
			return (long) (si - 1);
		}

		{
			uint32_t	val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3];

			dst[n++] = (char) (val >> 16);
			if (qlen >= 3)
				dst[n++] = (char) (val >> 8);
			if (qlen == 4)
				dst[n++] = (char) val;
		}
	}
	*dlen = n;
	return -1;
}

bool
token_parse(const char *token, size_t len, char *ns_buf, size_t *ns_len,
			char *err, size_t errsz)
{
	const char *rest;
	size_t		rlen;
	const char *sep;
	size_t		parts = 1;
	size_t		nslen,
				rndlen;
	const char *rnd;
	long		bad;

	if (len < 3 || memcmp(token, "ns_", 3) != 0)
	{
		snprintf(err, errsz, PREFIX "missing 'ns_' prefix");
		return false;
	}
	rest = token + 3;
	rlen = len - 3;
	for (size_t i = 0; i < rlen; i++)
		if (rest[i] == '_')
			parts++;
	if (parts != 2)
	{
		snprintf(err, errsz, PREFIX "expected 2 parts after prefix, got %zu", parts);
		return false;
	}
	sep = memchr(rest, '_', rlen);
	nslen = (size_t) (sep - rest);
	rnd = sep + 1;
	rndlen = rlen - nslen - 1;
	if (rndlen != 64)
	{
		snprintf(err, errsz, PREFIX "random part must be 64 hex characters, got %zu", rndlen);
		return false;
	}
	for (size_t i = 0; i < rndlen; i++)
	{
		if (!is_hex((unsigned char) rnd[i]))
		{
			format_invalid_byte(err, errsz, (unsigned char) rnd[i]);
			return false;
		}
	}
	bad = b64url_decode(rest, nslen, ns_buf, ns_len);
	if (bad >= 0)
	{
		snprintf(err, errsz, PREFIX "namespace part is not valid base64url: "
				 "illegal base64 data at input byte %ld", bad);
		return false;
	}
	ns_buf[*ns_len] = '\0';
	if (*ns_len == 0)
	{
		snprintf(err, errsz, PREFIX "namespace is empty");
		return false;
	}
	return true;
}

size_t
token_b64_len(size_t len)
{
	return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

void
token_b64_encode(const char *ns, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *) ns;
	size_t		o = 0;
	size_t		i = 0;

	for (; i + 3 <= len; i += 3)
	{
		uint32_t	v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8 | s[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) s[i] << 16;

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	}
	else if (len - i == 2)
	{
		uint32_t	v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8;

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
}
