/* See consumer_group.h. */
#include "consumer_group.h"

#include "md5.h"
#include "names.h"

int64_t
group_hash64(const void *bytes, size_t len)
{
	unsigned char digest[EVO_MD5_DIGEST_LEN];

	evo_md5(bytes, len, digest);
	return names_hash64_from_md5(digest);
}

bool
group_stream_hash(const char *stream, size_t len, int64_t *hash)
{
	size_t		off,
				cidlen;

	if (!names_cardinal_id(stream, len, &off, &cidlen))
		return false;
	*hash = group_hash64(stream + off, cidlen);
	return true;
}

bool
group_member_of(int64_t hash, int64_t size, int64_t *member)
{
	if (hash == INT64_MIN || size <= 0)
		return false;
	*member = (hash < 0 ? -hash : hash) % size;
	return true;
}
