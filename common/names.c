/* See names.h. '-' and '+' never occur inside UTF-8 multibyte sequences,
 * so byte-wise searching is exact for any UTF-8 input. */
#include "names.h"

#include <string.h>

size_t
names_category_len(const char *name, size_t len)
{
	const char *dash = memchr(name, '-', len);

	return dash ? (size_t) (dash - name) : len;
}

bool
names_is_category(const char *name, size_t len)
{
	return memchr(name, '-', len) == NULL;
}

bool
names_id(const char *name, size_t len, size_t *off, size_t *idlen)
{
	const char *dash = memchr(name, '-', len);

	if (dash == NULL)
		return false;
	*off = (size_t) (dash - name) + 1;
	*idlen = len - *off;
	return true;
}

bool
names_cardinal_id(const char *name, size_t len, size_t *off, size_t *cidlen)
{
	size_t		idoff,
				idlen;
	const char *plus;

	if (!names_id(name, len, &idoff, &idlen))
		return false;
	plus = memchr(name + idoff, '+', idlen);
	*off = idoff;
	*cidlen = plus ? (size_t) (plus - (name + idoff)) : idlen;
	return true;
}

int64_t
names_hash64_from_md5(const unsigned char digest[16])
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | digest[i];
	/* Two's-complement reinterpretation, as bit(64)::bigint does. */
	return (int64_t) v;
}

int
names_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		n = alen < blen ? alen : blen;
	int			c = n == 0 ? 0 : memcmp(a, b, n);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}
