/* See ready.h. One query on a pooled connection, so the answer is about the
 * connections requests use: the same URL, target_session_attrs included,
 * and the pool's reconnect backoff. */
#include "ready.h"

#include "http.h"
#include "jsonw.h"
#include "pool.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

static const char ready_body[] = "{\"status\":\"ok\",\"database\":\"reachable\"}";

static enum MHD_Result
unavailable(struct MHD_Connection *c, const char *why)
{
	StrBuf		sb = STRBUF_INIT;
	enum MHD_Result ret;

	sb_puts(&sb, "{\"status\":\"unavailable\",\"database\":\"unreachable\",\"error\":");
	jw_string(&sb, why, strlen(why));
	sb_puts(&sb, "}");
	ret = http_reply(c, 503, "application/json", sb.data, sb.len);
	sb_free(&sb);
	return ret;
}

enum MHD_Result
ready_handle(struct MHD_Connection *c)
{
	char	   *err = NULL;
	PGresult   *res = pool_exec("ready_check", "SELECT pg_is_in_recovery()", 0, NULL, &err);
	enum MHD_Result ret;

	if (res == NULL)
		ret = unavailable(c, err ? err : "no database connection");
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = unavailable(c, PQresultErrorMessage(res));
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		ret = unavailable(c, "the database is a read-only standby");
	else
		ret = http_reply(c, 200, "application/json", ready_body, sizeof(ready_body) - 1);
	PQclear(res);
	free(err);
	return ret;
}
