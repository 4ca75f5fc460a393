/* The write guarantees beyond stream.write (docs/writes-and-reads.md):
 * idempotent writes and stream.writeMany. */
#ifndef GW_RPC_WRITES_H
#define GW_RPC_WRITES_H

#include "group_commit.h"
#include "rpc.h"

/* stream.write with {"idempotent":true}, its arguments validated: one call
 * of its own (never grouped), since a replay answers what it finds. */
enum MHD_Result rpc_stream_write_idempotent(RpcCall *call, const GcWrite *w);

/* ["stream.writeMany", messages, options?] */
enum MHD_Result rpc_stream_write_many(RpcCall *call);

#endif
