/* See strbuf.h. Allocation failure aborts: a gateway that cannot allocate a
 * few bytes cannot answer anything truthfully either. */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
sb_reserve(StrBuf *sb, size_t extra)
{
	size_t		need;
	size_t		cap;
	char	   *p;

	if (extra > (size_t) -1 - sb->len - 1)
	{
		fprintf(stderr, "eventodb: buffer size overflow\n");
		abort();
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > ((size_t) -1) / 2 ? need : cap * 2;
	p = realloc(sb->data, cap);
	if (p == NULL)
	{
		fprintf(stderr, "eventodb: out of memory (%zu bytes)\n", cap);
		abort();
	}
	sb->data = p;
	sb->cap = cap;
}

void
sb_append(StrBuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	if (n > 0)
		memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
sb_puts(StrBuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void
sb_putc(StrBuf *sb, char c)
{
	sb_reserve(sb, 1);
	sb->data[sb->len++] = c;
	sb->data[sb->len] = '\0';
}

void
sb_printf(StrBuf *sb, const char *fmt, ...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
	{
		fprintf(stderr, "eventodb: bad format string\n");
		abort();
	}
	sb_reserve(sb, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t) n;
}

void
sb_reset(StrBuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void
sb_free(StrBuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

char *
sb_steal(StrBuf *sb)
{
	char	   *p;

	if (sb->data == NULL)
		sb_reserve(sb, 0);
	p = sb->data;
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return p;
}

char *
mem_dup0(const char *s, size_t n)
{
	char	   *p = malloc(n + 1);

	if (p == NULL)
		abort();
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
