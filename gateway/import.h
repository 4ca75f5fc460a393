/* /import: NDJSON bulk import with preserved positions (docs/http-api.md#bulk-import-import). */
#ifndef GW_IMPORT_H
#define GW_IMPORT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include "auth.h"

/* body is the whole request body (<= 100 MiB); ownership passes to import. */
enum MHD_Result import_handle(struct MHD_Connection *c, const AuthResult *auth,
							  char *body, size_t len, bool force);

#endif
