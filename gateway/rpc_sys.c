/* sys.version and sys.health (docs/http-api.md#system-methods): answered without
 * touching the database, like the original. */
#include "rpc.h"

#include "config.h"
#include "pool.h"
#include "strbuf.h"

enum MHD_Result
rpc_sys_version(RpcCall *call)
{
	return rpc_reply_json(call, "\"" EVENTODB_VERSION "\"", sizeof(EVENTODB_VERSION) + 1);
}

enum MHD_Result
rpc_sys_health(RpcCall *call)
{
	StrBuf		b = STRBUF_INIT;
	enum MHD_Result r;

	sb_printf(&b, "{\"backend\":\"postgres\",\"connections\":%d,\"status\":\"ok\"}",
			  pool_open_count());
	r = rpc_reply_buf(call, &b);
	return r;
}
