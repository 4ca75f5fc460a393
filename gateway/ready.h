/* GET /ready: whether the gateway can reach a writable database right now
 * (docs/high-availability.md). /health stays docs/http-api.md#health-readiness-version-metrics-console's liveness
 * answer, which never looks at the database; this is the separate path docs/http-api.md#health-readiness-version-metrics-console
 * leaves for a readiness check. Unauthenticated, any method. */
#ifndef GW_READY_H
#define GW_READY_H

#include <microhttpd.h>

enum MHD_Result ready_handle(struct MHD_Connection *c);

#endif
