/*
 * Client values quoted back in error messages and log lines are capped, so
 * one request cannot write megabytes into the log or an error body (a 2 MB
 * invalid message id used to be echoed whole, twice per write). Values up
 * to ECHO_VALUE_MAX bytes are quoted unchanged - docs/http-api.md's messages stay
 * exact for every value of a normal size; longer ones are cut at a
 * character boundary and followed by a marker naming their full length:
 *
 *     <first 256 bytes>...(truncated, 2097152 bytes)
 *
 * docs/security.md documents the rule.
 */
#ifndef GW_ECHO_H
#define GW_ECHO_H

#include "strbuf.h"

#include <stddef.h>

/* One quoted client value (an id, a method name, a time string). */
#define ECHO_VALUE_MAX 256
/* A free-form database message, which may quote client values itself. */
#define ECHO_MESSAGE_MAX 1024

/* Appends s[0..len), cut after ECHO_VALUE_MAX bytes with the marker. */
void		echo_append(StrBuf *sb, const char *s, size_t len);

/* The same with another limit. */
void		echo_append_max(StrBuf *sb, const char *s, size_t len, size_t max);

/* Cuts sb after max bytes from offset `from` on, with the marker. */
void		echo_cap_tail(StrBuf *sb, size_t from, size_t max);

#endif
