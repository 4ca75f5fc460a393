/*
 * Group commit of stream.write: at most a few writes run in the database at
 * once; writes that arrive while all of them are busy wait and then go
 * together, in one eventodb.stream_write_batch call - one round trip, one
 * transaction, one commit for all of them. A write that arrives when a slot
 * is free runs alone at once, so an idle gateway adds no latency.
 *
 * Every write gets the answer its own eventodb.stream_write would have
 * given: the batch answers conflicts and bad ids per item, and a batch that
 * fails as a whole (rolled back, so nothing of it was written) is replayed
 * write by write.
 */
#ifndef GW_GROUP_COMMIT_H
#define GW_GROUP_COMMIT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One stream.write, validated (no NUL bytes; metadata and id optional). */
typedef struct GcWrite
{
	const char *ns;
	const char *stream;
	size_t		stream_len;
	const char *type;
	size_t		type_len;
	const char *data;
	size_t		data_len;
	const char *meta;			/* NULL: none */
	size_t		meta_len;
	const char *id;				/* NULL or "": generated */
	size_t		id_len;
	bool		has_expected;
	int64_t		expected;
} GcWrite;

/*
 * The outcome of one write, however it ran (alone or in a group): result
 * (the response JSON) on success; otherwise message, with the sqlstate and
 * detail the database gave, if any - what errors_reply_fields() takes. All
 * malloc'd; group_commit_result_free() frees them.
 */
typedef struct GcResult
{
	char	   *result;
	char	   *sqlstate;
	char	   *message;
	char	   *detail;
} GcResult;

/* Reads EVENTODB_WRITE_LEADERS (writes in flight; 0 = no grouping). */
void		group_commit_init(void);

void		group_commit_write(const GcWrite *w, GcResult *out);

void		group_commit_result_free(GcResult *r);

/* Groups run, writes in them and groups replayed so far (logged at shutdown). */
void		group_commit_stats(unsigned long *groups, unsigned long *writes,
							   unsigned long *replayed);

#endif
