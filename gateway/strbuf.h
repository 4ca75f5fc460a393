/* A growable byte buffer: every response body and SQL parameter is built in
 * one of these, so no fixed-size buffer ever meets client input. */
#ifndef GW_STRBUF_H
#define GW_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct StrBuf
{
	char	   *data;			/* always NUL-terminated when non-NULL */
	size_t		len;
	size_t		cap;
} StrBuf;

#define STRBUF_INIT {NULL, 0, 0}

void		sb_append(StrBuf *sb, const char *s, size_t n);
void		sb_puts(StrBuf *sb, const char *s);
void		sb_putc(StrBuf *sb, char c);
void		sb_printf(StrBuf *sb, const char *fmt, ...)
			__attribute__((format(printf, 2, 3)));
void		sb_reset(StrBuf *sb);	/* len = 0, keeps memory */
void		sb_free(StrBuf *sb);
char	   *sb_steal(StrBuf *sb);	/* returns data (malloc'd), leaves sb empty */

/* A malloc'd copy of s[0..n) with a NUL after it (s may hold NULs). */
char	   *mem_dup0(const char *s, size_t n);

#endif
