/* Hexadecimal digits both ways, shared by every parser that reads them
 * (JSON \u escapes, UUIDs, %XX in URLs) and everything that writes them
 * (tokens, token hashes, UUIDs, JSON escapes), in both binaries. */
#ifndef EVENTODB_HEX_H
#define EVENTODB_HEX_H

#include <stddef.h>

/* 0..15, or -1 when c is not a hexadecimal digit (either case). */
static inline int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The lower-case digit of v's low four bits. */
static inline char
hex_char(unsigned int v)
{
	return "0123456789abcdef"[v & 15];
}

/* Writes the 2 * len lower-case digits of in to out (no terminator). */
static inline void
hex_lower(const unsigned char *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = hex_char(in[i] >> 4);
		out[2 * i + 1] = hex_char(in[i]);
	}
}

#endif
