/*
 * stream.get and category.get answers larger than one page (batchSize -1,
 * or above PAGER_ROWS), read from the database a page at a time and sent
 * as they come (chunked), so the memory one read holds is one page, not the
 * whole answer: 16 unlimited reads of a 600k-message namespace used to
 * hold 3 copies of 58.6 MB each, and every worker thread and database
 * connection for as long as they took.
 *
 * The bytes of the body are exactly those of the single call: each page is
 * rendered by the same database function, and its messages are joined into
 * one JSON array. Pages continue from the last message read (position + 1
 * in a stream, global position + 1 in a category), which the commit horizon
 * makes gap-free (docs/architecture.md#invariants invariant 1): a read that runs while others
 * write may end later than a single snapshot would, never with a hole or a
 * duplicate. An answer that fits in its first page is sent as before, with
 * a Content-Length.
 *
 * The first page is read by the request's own thread (its errors are the
 * answer); later pages by PAGER_WORKERS page workers, one page ahead of
 * what is being sent, while the connection is suspended - so unlimited
 * reads use at most that many database connections and no HTTP thread,
 * however many there are.
 */
#ifndef GW_READ_PAGER_H
#define GW_READ_PAGER_H

#include "errors.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages per page at most; fewer when messages are large. */
#define PAGER_ROWS 1000

typedef enum PagedKind
{
	PAGED_STREAM,				/* stream.get by position (docs/http-api.md#streamget) */
	PAGED_STREAM_GLOBAL,		/* stream.get with globalPosition */
	PAGED_CATEGORY,				/* category.get (docs/http-api.md#categoryget) */
} PagedKind;

typedef struct PagedRead
{
	PagedKind	kind;
	const char *ns;
	const char *name;			/* stream or category */
	size_t		name_len;
	int64_t		position;		/* stream position / category global position */
	int64_t		global_position;	/* PAGED_STREAM_GLOBAL */
	int64_t		limit;			/* messages at most; -1 = no limit */
	const char *correlation;	/* category: NULL = none */
	size_t		correlation_len;
	bool		grouped;		/* category: consumer group member/size */
	int64_t		member;
	int64_t		size;
	const char *types;			/* category: text[] literal of types, NULL = all */
} PagedRead;

/* Whether a read with this limit (-1 = none) may take more than one page. */
bool		pager_needed(int64_t limit);

/* Answers the read (strings are copied); errors of its first page as the
 * single call's would be answered. */
enum MHD_Result pager_reply(struct MHD_Connection *c, const SqlContext *ctx,
							const PagedRead *q);

/*
 * Stops the page workers before the HTTP server stops: reads still waiting
 * for a page end (their connections are resumed and closed), so none is
 * left suspended.
 */
void		pager_shutdown(void);

#endif
