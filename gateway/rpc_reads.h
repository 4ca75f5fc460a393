/* The reads beyond the original's (docs/writes-and-reads.md): stream.get
 * backwards and category.positionAt. */
#ifndef GW_RPC_READS_H
#define GW_RPC_READS_H

#include "rpc.h"
#include "strbuf.h"

/* The "direction" option of stream.get: NULL when valid (*backward set),
 * else the 400 message. */
const char *rpc_read_direction(struct json_object *opts, bool *backward);

/*
 * The "types" option of category.get: NULL when valid, else the 400
 * message. A non-empty list becomes a text[] literal in *literal (left
 * empty, data NULL, for no filter).
 */
const char *rpc_read_types(struct json_object *opts, StrBuf *literal);

/* stream.get with {"direction":"backward"}, its other options validated. */
enum MHD_Result rpc_stream_get_backward(RpcCall *call, const char *stream, size_t stream_len,
										struct json_object *opts, const ReadOptions *ro);

/* ["category.positionAt", categoryName, time] */
enum MHD_Result rpc_category_position_at(RpcCall *call);

#endif
