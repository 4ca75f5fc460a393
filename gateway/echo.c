/* See echo.h. */
#include "echo.h"

#include <stdbool.h>

/* Longest prefix of s[0..len) of at most max bytes that does not end
 * inside a UTF-8 sequence (client strings are valid UTF-8 once decoded;
 * a stray continuation byte is simply cut before). */
static size_t
cut_point(const char *s, size_t len, size_t max)
{
	size_t		n = max < len ? max : len;

	if (n == len)
		return n;
	/* s[n] starts the cut-off part: step back while it continues a char */
	while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static void
marker(StrBuf *sb, size_t full)
{
	sb_printf(sb, "...(truncated, %zu bytes)", full);
}

void
echo_append_max(StrBuf *sb, const char *s, size_t len, size_t max)
{
	size_t		keep;

	if (len <= max)
	{
		sb_append(sb, s, len);
		return;
	}
	keep = cut_point(s, len, max);
	sb_append(sb, s, keep);
	marker(sb, len);
}

void
echo_append(StrBuf *sb, const char *s, size_t len)
{
	echo_append_max(sb, s, len, ECHO_VALUE_MAX);
}

void
echo_cap_tail(StrBuf *sb, size_t from, size_t max)
{
	size_t		len;
	size_t		keep;

	if (sb->data == NULL || from >= sb->len || sb->len - from <= max)
		return;
	len = sb->len - from;
	keep = cut_point(sb->data + from, len, max);
	sb->len = from + keep;
	sb->data[sb->len] = '\0';
	marker(sb, len);
}
