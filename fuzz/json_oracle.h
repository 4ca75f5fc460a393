/*
 * An independent, deliberately plain JSON validator (RFC 8259, the grammar
 * Go's encoding/json accepts) used as a test oracle: it checks the JSON the
 * gateway emits, and the gateway's own validators are compared against it.
 * Written separately from gateway/json_scan.c and gateway/reqjson.c so that
 * a shared misunderstanding cannot hide in both.
 */
#ifndef FUZZ_JSON_ORACLE_H
#define FUZZ_JSON_ORACLE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum OracleVerdict
{
	ORACLE_VALID,
	ORACLE_INVALID,
	ORACLE_TOO_DEEP				/* nesting beyond ORACLE_MAX_DEPTH: no verdict */
} OracleVerdict;

#define ORACLE_MAX_DEPTH 10000

/* s[0..n) is one JSON value surrounded by optional whitespace. */
OracleVerdict oracle_json(const char *s, size_t n);

/* Kind of the top-level value ('{', '[', '"', 'n', 't', 'f', '0'), or 0. */
char		oracle_top_kind(const char *s, size_t n);

/* s[0..n) is well-formed UTF-8 (no surrogates, no overlongs, <= U+10FFFF). */
bool		oracle_utf8(const char *s, size_t n);

#endif
