/*
 * Consumer-group membership, the one rule both binaries apply (the
 * extension's category reads, the gateway's live SSE filter): a stream
 * belongs to member abs(hash_64(cardinal_id)) mod size (docs/sql-api.md#hash_64,
 * docs/http-api.md#stream-names-categories-and-consumer-groups). hash_64 is the first 8 bytes of the MD5 digest read as a
 * big-endian int64 (common/md5.c, so both use the same MD5).
 */
#ifndef EVENTODB_CONSUMER_GROUP_H
#define EVENTODB_CONSUMER_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message DB's hash_64 of the given bytes. */
int64_t		group_hash64(const void *bytes, size_t len);

/*
 * hash_64 of the stream's cardinal id. false when the name has no '-':
 * no cardinal id, so the stream belongs to no member.
 */
bool		group_stream_hash(const char *stream, size_t len, int64_t *hash);

/*
 * The member |hash| mod size a hash belongs to. false when size <= 0 (no
 * member at all) and for hash = -2^63, whose absolute value is not a bigint: Message DB's @ (and
 * the original's abs()) raise "bigint out of range" there, so the
 * assignment is undefined; the caller raises that error or, where it
 * cannot, counts the stream in no member. Never wraps.
 */
bool		group_member_of(int64_t hash, int64_t size, int64_t *member);

#endif
