/*
 * Namespace tokens (docs/http-api.md#tokens): minting, the stored SHA-256, and
 * an SQL face of the shared parser (common/token.c) so the very code the
 * gateway runs can be tested with pg_regress.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "hex.h"
#include "namespace.h"
#include "token.h"

PG_FUNCTION_INFO_V1(ev_token_namespace);

/* NUL-terminated lower-case hex of in (out holds 2 * len + 1). */
static void
hex_encode_lower(const uint8 *in, size_t len, char *out)
{
	hex_lower(in, len, out);
	out[2 * len] = '\0';
}

char *
ns_token_generate(const char *id, size_t len)
{
	uint8		rnd[32];
	size_t		b64len = token_b64_len(len);
	char	   *tok = palloc(3 + b64len + 1 + 64 + 1);

	if (!pg_strong_random(rnd, sizeof(rnd)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random token")));
	memcpy(tok, "ns_", 3);
	token_b64_encode(id, len, tok + 3);
	tok[3 + b64len] = '_';
	hex_encode_lower(rnd, sizeof(rnd), tok + 3 + b64len + 1);
	return tok;
}

void
ns_token_hash(const char *token, size_t len, char *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) token, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		const char *err = pstrdup(pg_cryptohash_error(ctx));

		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256: %s", err)));
	}
	pg_cryptohash_free(ctx);
	hex_encode_lower(digest, sizeof(digest), out);
}

/*
 * eventodb.token_namespace(token text) RETURNS bytea: the decoded namespace
 * bytes (they need not be UTF-8), or 22023 with the exact docs/http-api.md#tokens text.
 */
Datum
ev_token_namespace(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	char	   *ns = palloc(len + 1);
	size_t		nslen;
	char		err[TOKEN_ERROR_MAX];
	bytea	   *out;

	if (!token_parse(VARDATA_ANY(t), len, ns, &nslen, err, sizeof(err)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err)));
	out = palloc(VARHDRSZ + nslen);
	SET_VARSIZE(out, VARHDRSZ + nslen);
	memcpy(VARDATA(out), ns, nslen);
	PG_RETURN_BYTEA_P(out);
}
