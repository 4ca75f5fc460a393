/*
 * Token parsing (common/token.c, docs/http-api.md#tokens), shared by the
 * gateway and the extension.
 *
 * Input: the token bytes. Checked beyond memory safety: a failure always
 * carries one of the six docs/http-api.md#tokens texts; a success decodes to a non-empty id no
 * longer than the token; and (round trip) any id whose base64url form has
 * no '_' makes a token that parses back to exactly that id.
 */
#include "token.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_token"
#include "fuzz_check.h"

static const char *const texts[] = {
	"invalid token format: missing 'ns_' prefix",
	"invalid token format: expected 2 parts after prefix, got ",
	"invalid token format: random part must be 64 hex characters, got ",
	"invalid token format: random part is not valid hexadecimal: ",
	"invalid token format: namespace part is not valid base64url: ",
	"invalid token format: namespace is empty",
};

static void
parse_one(const char *tok, size_t len)
{
	char	   *ns = malloc(len + 1);
	char		err[TOKEN_ERROR_MAX];
	size_t		ns_len = 0;
	bool		known = false;

	memset(err, 0, sizeof(err));
	if (token_parse(tok, len, ns, &ns_len, err, sizeof(err)))
	{
		CHECK(ns_len > 0 && ns_len <= len, "decoded length %zu of %zu", ns_len, len);
		CHECK(len >= 3 + 1 + 1 + 64 && memcmp(tok, "ns_", 3) == 0, "accepted a short token");
	}
	else
	{
		CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error text not terminated");
		for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
			known |= strncmp(err, texts[i], strlen(texts[i])) == 0;
		CHECK(known, "unknown error text: %s", err);
	}
	free(ns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *tok = malloc(size ? size : 1);

	memcpy(tok, data, size);
	parse_one(tok, size);		/* exact-size buffer: over-reads are reported */
	free(tok);

	/* round trip: the input as a namespace id */
	if (size > 0 && size < 1024)
	{
		size_t		b64 = token_b64_len(size);
		char	   *t = malloc(3 + b64 + 1 + 64 + 1);
		char	   *ns = malloc(3 + b64 + 1 + 64 + 1);
		char		err[TOKEN_ERROR_MAX];
		size_t		ns_len = 0;

		memcpy(t, "ns_", 3);
		token_b64_encode((const char *) data, size, t + 3);
		CHECK(strlen(t + 3) == b64, "token_b64_len %zu but encoded %zu", b64, strlen(t + 3));
		if (memchr(t + 3, '_', b64) == NULL)
		{
			t[3 + b64] = '_';
			memset(t + 4 + b64, 'a', 64);
			t[4 + b64 + 64] = '\0';
			CHECK(token_parse(t, strlen(t), ns, &ns_len, err, sizeof(err)),
				  "minted token does not parse: %s", err);
			CHECK(ns_len == size && memcmp(ns, data, size) == 0, "round trip changed the id");
		}
		free(t);
		free(ns);
	}
	return 0;
}
