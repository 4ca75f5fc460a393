/*
 * The argument of eventodb.stream_write_batch: the gateway's group commit
 * (several concurrent stream.write requests in one transaction) encodes its
 * items in one binary bytea parameter, so no client string is escaped into
 * an array literal or pasted into SQL, and the extension decodes it without
 * a parser. Shared so both ends read the same layout.
 *
 * All integers are big-endian.
 *   u32 count                            1 .. WRITE_BATCH_MAX
 *   count times:
 *     WRITE_BATCH_FIELDS times: i32 len (-1 = NULL), then len bytes
 *         (ns, stream name, type, data JSON, metadata JSON, id)
 *     u8 has_expected, i64 expected_version
 */
#ifndef EVENTODB_WRITE_BATCH_H
#define EVENTODB_WRITE_BATCH_H

#define WRITE_BATCH_MAX 64
#define WRITE_BATCH_FIELDS 6

enum WriteBatchField
{
	WB_NS, WB_STREAM, WB_TYPE, WB_DATA, WB_METADATA, WB_ID
};

#endif
