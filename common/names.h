/*
 * Stream-name anatomy shared by the extension and the gateway (docs/sql-api.md#id-cardinal_id-category-is_category, #hash_64): byte searches for '-' and '+', and the hash_64 value
 * derived from an MD5 digest. Pure functions, no allocation, no dependencies,
 * so both binaries use the very same code.
 */
#ifndef EVENTODB_NAMES_H
#define EVENTODB_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the category prefix: bytes before the first '-' (all when none). */
size_t names_category_len(const char *name, size_t len);

/* True when the name contains no '-' (so it names a category). */
bool names_is_category(const char *name, size_t len);

/*
 * The id: bytes after the first '-'. Returns false when there is no '-'
 * (SQL NULL); otherwise off and idlen describe the id inside name.
 */
bool names_id(const char *name, size_t len, size_t *off, size_t *idlen);

/* The cardinal id: the id up to its first '+'. false when there is no id. */
bool names_cardinal_id(const char *name, size_t len, size_t *off, size_t *cidlen);

/* Byte order of two names (memcmp, then the shorter first), as PostgreSQL's
 * "C" collation orders text; either may be NULL when its length is 0. The
 * writers' lock order and the poke batcher's sort use it. */
int names_compare(const char *a, size_t alen, const char *b, size_t blen);

/* First 8 bytes of an MD5 digest read as a big-endian two's-complement int64. */
int64_t names_hash64_from_md5(const unsigned char digest[16]);

#endif
