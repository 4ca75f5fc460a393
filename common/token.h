/*
 * Token parsing (docs/http-api.md#tokens), shared by the extension and the
 * gateway so that both accept and reject exactly the same strings with the
 * same texts. Allocation-free: the caller supplies the output buffers.
 *
 *   ns_<base64url-without-padding(namespace id)>_<64 hex>
 */
#ifndef EVENTODB_TOKEN_H
#define EVENTODB_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* Buffer size that always holds a token_parse() error text. */
#define TOKEN_ERROR_MAX 192

/*
 * Parses token[0..len). On success returns true and writes the decoded
 * namespace id bytes to ns_buf (must hold at least len bytes; the result is
 * NUL-terminated there, but may itself contain NUL bytes) and its length to
 * *ns_len. On failure returns false and writes the exact docs/http-api.md#tokens text, e.g.
 * "invalid token format: missing 'ns_' prefix", NUL-terminated, to err
 * (errsz >= TOKEN_ERROR_MAX).
 */
bool token_parse(const char *token, size_t len, char *ns_buf, size_t *ns_len,
				 char *err, size_t errsz);

/*
 * Writes the unpadded base64url encoding of ns[0..len) followed by NUL to out
 * (which must hold token_b64_len(len) + 1 bytes).
 */
size_t token_b64_len(size_t len);
void token_b64_encode(const char *ns, size_t len, char *out);

#endif
