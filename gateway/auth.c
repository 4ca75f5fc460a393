/* See auth.h. Precedence and texts are docs/http-api.md#authentication verbatim.
 * Verified tokens are cached by their SHA-256 so the steady state costs no
 * database round trip; entries expire after a minute and are dropped at
 * once when the namespace is deleted (docs/architecture.md#data-flow). */
#include "auth.h"

#include "config.h"
#include "deadline.h"
#include "echo.h"
#include "http.h"
#include "jsonw.h"
#include "log.h"
#include "pool.h"
#include "strbuf.h"
#include "token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 1024
#define CACHE_MAX_ENTRIES 10000
#define CACHE_TTL_MS 60000

typedef struct CacheEntry
{
	unsigned char digest[32];
	char	   *ns;
	size_t		ns_len;
	int64_t		expires;		/* monotonic_ms */
	struct CacheEntry *next;
} CacheEntry;

static CacheEntry *cache[CACHE_BUCKETS];
static size_t cache_count;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
/* Bumped whenever cached verdicts are dropped: token memos older than it
 * no longer stand. */
static atomic_uint cache_generation;

static void
entry_free(CacheEntry *e)
{
	free(e->ns);
	free(e);
}

/* A hit says until when the verdict stands (*expires). */
static bool
cache_lookup(const unsigned char digest[32], const char *ns, size_t ns_len, int64_t *expires)
{
	CacheEntry **pp = &cache[digest[0] | ((digest[1] & 3) << 8)];
	int64_t		now = monotonic_ms();
	bool		hit = false;

	pthread_mutex_lock(&cache_lock);
	while (*pp)
	{
		CacheEntry *e = *pp;

		if (e->expires <= now)
		{
			*pp = e->next;
			entry_free(e);
			cache_count--;
			continue;
		}
		if (memcmp(e->digest, digest, 32) == 0)
		{
			hit = (e->ns_len == ns_len && memcmp(e->ns, ns, ns_len) == 0);
			*expires = e->expires;
			break;
		}
		pp = &e->next;
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void
cache_clear_locked(void)
{
	atomic_fetch_add(&cache_generation, 1);
	for (size_t i = 0; i < CACHE_BUCKETS; i++)
	{
		while (cache[i])
		{
			CacheEntry *e = cache[i];

			cache[i] = e->next;
			entry_free(e);
		}
	}
	cache_count = 0;
}

static int64_t
cache_store(const unsigned char digest[32], const char *ns, size_t ns_len)
{
	CacheEntry *e = calloc(1, sizeof(CacheEntry));
	int64_t		expires = monotonic_ms() + CACHE_TTL_MS;
	size_t		b = digest[0] | ((digest[1] & 3) << 8);

	if (e == NULL || (e->ns = malloc(ns_len + 1)) == NULL)
	{
		free(e);
		return expires;			/* the cache is an optimisation only */
	}
	memcpy(e->digest, digest, 32);
	memcpy(e->ns, ns, ns_len);
	e->ns[ns_len] = '\0';
	e->ns_len = ns_len;
	e->expires = expires;
	pthread_mutex_lock(&cache_lock);
	if (cache_count >= CACHE_MAX_ENTRIES)
		cache_clear_locked();
	e->next = cache[b];
	cache[b] = e;
	cache_count++;
	pthread_mutex_unlock(&cache_lock);
	return expires;
}

void
auth_forget_namespace(const char *ns, size_t len)
{
	pthread_mutex_lock(&cache_lock);
	atomic_fetch_add(&cache_generation, 1);
	for (size_t i = 0; i < CACHE_BUCKETS; i++)
	{
		CacheEntry **pp = &cache[i];

		while (*pp)
		{
			CacheEntry *e = *pp;

			if (e->ns_len == len && memcmp(e->ns, ns, len) == 0)
			{
				*pp = e->next;
				entry_free(e);
				cache_count--;
			}
			else
				pp = &e->next;
		}
	}
	pthread_mutex_unlock(&cache_lock);
}

static bool
set_namespace(AuthResult *out, const char *ns, size_t len, bool admin, enum MHD_Result *ret)
{
	out->ns = malloc(len + 1);
	if (out->ns == NULL)
	{
		*ret = MHD_NO;			/* out of memory: drop the connection */
		return false;
	}
	memcpy(out->ns, ns, len);
	out->ns[len] = '\0';
	out->ns_len = len;
	out->is_admin = admin;
	return true;
}

static bool
fail(struct MHD_Connection *c, enum MHD_Result *ret, unsigned status,
	 const char *code, const char *message, const char *details)
{
	*ret = http_error(c, status, code, message, details);
	return false;
}

static bool
unauthorized(struct MHD_Connection *c, enum MHD_Result *ret, const char *ns, size_t len)
{
	StrBuf		id = STRBUF_INIT;
	StrBuf		d = STRBUF_INIT;
	bool		r;

	echo_append(&id, ns, len);
	sb_puts(&d, "{\"namespace\":");
	jw_string(&d, id.data ? id.data : "", id.len);
	sb_putc(&d, '}');
	sb_free(&id);
	r = fail(c, ret, 403, "AUTH_UNAUTHORIZED", "Token not authorized for namespace", d.data);
	sb_free(&d);
	return r;
}

/*
 * What each thread keeps for checking tokens, freed when it ends: a digest
 * context (EVP_Digest allocates, sets up and frees one per call, twice the
 * cost of hashing the token itself) and the token it verified last with
 * its verdict's lifetime - a client sends the same token request after
 * request, and its SHA-256 was most of the cost of checking it again. The
 * copy is compared in constant time and dropped with the cache's verdicts
 * (generation); memory holds the token in the request's buffers anyway.
 */
typedef struct AuthTls
{
	EVP_MD_CTX *ctx;
	char	   *token;			/* NULL: no memo */
	size_t		len;
	char	   *ns;
	size_t		ns_len;
	int64_t		expires;		/* monotonic_ms */
	unsigned	generation;
} AuthTls;

static EVP_MD *sha256;
static pthread_key_t tls_key;
static pthread_once_t auth_once = PTHREAD_ONCE_INIT;

static void
memo_clear(AuthTls *t)
{
	if (t->token != NULL)
		OPENSSL_cleanse(t->token, t->len);
	free(t->token);
	free(t->ns);
	t->token = t->ns = NULL;
	t->len = t->ns_len = 0;
}

static void
tls_free(void *p)
{
	AuthTls    *t = p;

	memo_clear(t);
	EVP_MD_CTX_free(t->ctx);
	free(t);
}

/* SHA-256 is fetched once: EVP_sha256() makes OpenSSL 3 look the
 * algorithm up again on every call, which cost more than hashing a token. */
static void
auth_init(void)
{
	if (pthread_key_create(&tls_key, tls_free) == 0)
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The calling thread's state; NULL when it cannot have one. */
static AuthTls *
tls_get(void)
{
	AuthTls    *t;

	pthread_once(&auth_once, auth_init);
	if (sha256 == NULL)
		return NULL;
	t = pthread_getspecific(tls_key);
	if (t == NULL)
	{
		t = calloc(1, sizeof(AuthTls));
		if (t == NULL || (t->ctx = EVP_MD_CTX_new()) == NULL ||
			pthread_setspecific(tls_key, t) != 0)
		{
			if (t != NULL)
				EVP_MD_CTX_free(t->ctx);
			free(t);
			return NULL;
		}
	}
	return t;
}

/* SHA-256 of a token into digest[32]; false when OpenSSL cannot. */
static bool
token_digest(AuthTls *t, const char *token, size_t len, unsigned char *digest)
{
	unsigned int dlen = 0;

	return EVP_DigestInit_ex2(t->ctx, sha256, NULL) == 1 &&
		EVP_DigestUpdate(t->ctx, token, len) == 1 &&
		EVP_DigestFinal_ex(t->ctx, digest, &dlen) == 1 && dlen == 32;
}

static bool
memo_hit(const AuthTls *t, const char *token, size_t len, const char *ns, size_t ns_len)
{
	return t->token != NULL && t->len == len && t->ns_len == ns_len &&
		t->generation == atomic_load(&cache_generation) && monotonic_ms() < t->expires &&
		memcmp(t->ns, ns, ns_len) == 0 && CRYPTO_memcmp(t->token, token, len) == 0;
}

static void
memo_store(AuthTls *t, const char *token, size_t len, const char *ns, size_t ns_len,
		   int64_t expires, unsigned generation)
{
	memo_clear(t);
	t->token = malloc(len + 1);
	t->ns = malloc(ns_len + 1);
	if (t->token == NULL || t->ns == NULL)
	{
		memo_clear(t);
		return;					/* an optimisation only */
	}
	memcpy(t->token, token, len);
	t->len = len;
	memcpy(t->ns, ns, ns_len);
	t->ns_len = ns_len;
	t->expires = expires;
	t->generation = generation;
}

/*
 * Production-mode check that the token's hash is the one registered for
 * its namespace. Returns 1 verified, 0 not, -1 lookup failed (*why set).
 */
static int
verify(const char *token, size_t len, const char *ns, size_t ns_len, char **why)
{
	unsigned char digest[32];
	const char *params[1] = {token};
	PGresult   *res;
	int			verdict;
	/* read first: a verdict dropped meanwhile leaves the memo already stale */
	unsigned	generation = atomic_load(&cache_generation);
	int64_t		expires;
	AuthTls    *t = tls_get();

	if (t != NULL && memo_hit(t, token, len, ns, ns_len))
		return 1;
	if (t == NULL || !token_digest(t, token, len, digest))
	{
		*why = strdup("SHA-256 unavailable");
		return -1;
	}
	if (cache_lookup(digest, ns, ns_len, &expires))
	{
		memo_store(t, token, len, ns, ns_len, expires, generation);
		return 1;
	}
	res = pool_exec("auth_namespace_of_token",
					"SELECT eventodb.namespace_of_token($1::text)", 1, params, why);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		*why = strdup(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
					  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQresStatus(PQresultStatus(res)));
		PQclear(res);
		return -1;
	}
	verdict = !PQgetisnull(res, 0, 0) &&
		(size_t) PQgetlength(res, 0, 0) == ns_len &&
		memcmp(PQgetvalue(res, 0, 0), ns, ns_len) == 0;
	PQclear(res);
	if (verdict)
		memo_store(t, token, len, ns, ns_len, cache_store(digest, ns, ns_len), generation);
	return verdict;
}

bool
auth_request(struct MHD_Connection *c, AuthResult *out, enum MHD_Result *ret)
{
	const char *token = NULL;
	size_t		len = 0;
	const char *hdr = NULL;
	size_t		hdr_len = 0;
	char	   *ns;
	size_t		ns_len = 0;
	char		err[TOKEN_ERROR_MAX];
	bool		test = g_config.test_mode;

	memset(out, 0, sizeof(*out));
	*ret = MHD_YES;
	if (!http_query_n(c, "token", &token, &len))
		len = 0;
	if (len == 0)
	{
		token = NULL;
		if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION,
										  strlen(MHD_HTTP_HEADER_AUTHORIZATION),
										  &hdr, &hdr_len) != MHD_YES || hdr == NULL)
			hdr_len = 0;
		/* header values arrive trimmed in the original (net/textproto) */
		while (hdr_len > 0 && (hdr[0] == ' ' || hdr[0] == '\t'))
			hdr++, hdr_len--;
		while (hdr_len > 0 && (hdr[hdr_len - 1] == ' ' || hdr[hdr_len - 1] == '\t'))
			hdr_len--;
		if (hdr_len == 0)
		{
			if (test)
				return set_namespace(out, "default", 7, true, ret);
			return fail(c, ret, 401, "AUTH_REQUIRED", "Authorization header required", NULL);
		}
		if (hdr_len < 7 || memcmp(hdr, "Bearer ", 7) != 0)
		{
			if (test)
				return set_namespace(out, "default", 7, true, ret);
			return fail(c, ret, 401, "AUTH_REQUIRED", "Authorization header must use Bearer scheme", NULL);
		}
		token = hdr + 7;
		len = hdr_len - 7;
		if (len == 0)
		{
			if (test)
				return set_namespace(out, "default", 7, true, ret);
			return fail(c, ret, 401, "AUTH_REQUIRED", "Token required", NULL);
		}
	}
	ns = malloc(len + 1);
	if (ns == NULL)
		return fail(c, ret, 500, "INTERNAL_ERROR", "out of memory", NULL);
	if (!token_parse(token, len, ns, &ns_len, err, sizeof(err)))
	{
		StrBuf		d = STRBUF_INIT;
		bool		r;

		free(ns);
		if (test)
			return set_namespace(out, "default", 7, true, ret);
		sb_puts(&d, "{\"error\":");
		jw_string(&d, err, strlen(err));
		sb_putc(&d, '}');
		r = fail(c, ret, 401, "AUTH_INVALID_TOKEN", "Invalid token format", d.data);
		sb_free(&d);
		return r;
	}
	if (!test)
	{
		char	   *why = NULL;
		int			v = verify(token, len, ns, ns_len, &why);

		if (v < 0)
		{
			StrBuf		m = STRBUF_INIT;
			bool		r;

			/* docs/http-api.md#outcomes allows 500 here: the truth is that we could not check */
			log_warn("token verification failed: %s", why ? why : "unknown error");
			sb_printf(&m, "Failed to verify token: %s", why ? why : "unknown error");
			r = fail(c, ret, 500, "BACKEND_ERROR", m.data, NULL);
			sb_free(&m);
			free(why);
			free(ns);
			return r;
		}
		if (v == 0)
		{
			bool		r = unauthorized(c, ret, ns, ns_len);

			free(ns);
			return r;
		}
	}
	out->ns = ns;
	out->ns_len = ns_len;
	out->is_admin = test || (ns_len == 7 && memcmp(ns, "default", 7) == 0);
	return true;
}

void
auth_result_free(AuthResult *a)
{
	free(a->ns);
	a->ns = NULL;
	a->ns_len = 0;
}
