/* See echo.h. */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "echo.h"

char *
echo_value(const char *s, size_t len)
{
	StringInfoData buf;
	size_t		keep = ECHO_VALUE_MAX;

	if (len <= ECHO_VALUE_MAX)
		return pnstrdup(s, len);
	/* s[keep] starts the cut-off part: step back while it continues a character */
	while (keep > 0 && ((unsigned char) s[keep] & 0xC0) == 0x80)
		keep--;
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, s, (int) keep);
	appendStringInfo(&buf, "...(truncated, %zu bytes)", len);
	return buf.data;
}
