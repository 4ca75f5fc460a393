/*
 * MD5 as specified by RFC 1321, written from the specification. Byte-order
 * independent: words are assembled from bytes, so the result is the same on
 * any host.
 */
#include "md5.h"

#include <stdint.h>
#include <string.h>

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 §3.4. */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Per-round rotation amounts, RFC 1321 §3.4. */
static const unsigned char md5_s[4][4] = {
	{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21},
};

static inline uint32_t
rotl32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void
md5_block(uint32_t h[4], const unsigned char *p)
{
	uint32_t	x[16];
	uint32_t	a = h[0],
				b = h[1],
				c = h[2],
				d = h[3];

	for (int i = 0; i < 16; i++)
		x[i] = (uint32_t) p[4 * i] | (uint32_t) p[4 * i + 1] << 8 |
			(uint32_t) p[4 * i + 2] << 16 | (uint32_t) p[4 * i + 3] << 24;

	for (int i = 0; i < 64; i++)
	{
		int			round = i >> 4;
		uint32_t	f;
		int			k;
		uint32_t	tmp;

		switch (round)
		{
			case 0:
				f = (b & c) | (~b & d);
				k = i;
				break;
			case 1:
				f = (b & d) | (c & ~d);
				k = (5 * i + 1) & 15;
				break;
			case 2:
				f = b ^ c ^ d;
				k = (3 * i + 5) & 15;
				break;
			default:
				f = c ^ (b | ~d);
				k = (7 * i) & 15;
				break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + rotl32(a + f + md5_t[i] + x[k], md5_s[round][i & 3]);
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

void
evo_md5(const void *data, size_t len, unsigned char digest[EVO_MD5_DIGEST_LEN])
{
	const unsigned char *p = data;
	uint32_t	h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	unsigned char tail[128];
	size_t		rest;
	size_t		tail_len;
	uint64_t	bits = (uint64_t) len << 3;

	for (rest = len; rest >= 64; rest -= 64, p += 64)
		md5_block(h, p);

	/* Padding: 0x80, zeros to 56 mod 64, then the bit length (mod 2^64)
	 * little-endian; at most two blocks. */
	memset(tail, 0, sizeof(tail));
	if (rest > 0)
		memcpy(tail, p, rest);
	tail[rest] = 0x80;
	tail_len = rest < 56 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tail_len - 8 + i] = (unsigned char) (bits >> (8 * i));
	md5_block(h, tail);
	if (tail_len == 128)
		md5_block(h, tail + 64);

	for (int i = 0; i < 4; i++)
	{
		digest[4 * i] = (unsigned char) h[i];
		digest[4 * i + 1] = (unsigned char) (h[i] >> 8);
		digest[4 * i + 2] = (unsigned char) (h[i] >> 16);
		digest[4 * i + 3] = (unsigned char) (h[i] >> 24);
	}
}
