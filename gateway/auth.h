/* Authentication of /rpc, /subscribe and /import (docs/http-api.md#authentication). */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct AuthResult
{
	char	   *ns;				/* malloc'd namespace id (may contain NUL bytes) */
	size_t		ns_len;
	bool		is_admin;		/* token of "default" verified (or test mode) */
} AuthResult;

/*
 * Authenticates the request. On success fills *out and returns true. On
 * failure queues the exact error response of docs/http-api.md#outcomes on c, stores the MHD
 * result in *ret and returns false.
 */
bool		auth_request(struct MHD_Connection *c, AuthResult *out, enum MHD_Result *ret);
void		auth_result_free(AuthResult *a);

/* Drops cached verifications of a namespace (called on its deletion). */
void		auth_forget_namespace(const char *ns, size_t len);

#endif
