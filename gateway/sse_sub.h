/*
 * One /subscribe connection (docs/http-api.md#modes): its filter, tracker,
 * outgoing SSE bytes and the catch-up state machine
 *
 *   CATCHUP --rows applied, no re-run wanted--> LIVE --LISTEN reconnect--> CATCHUP
 *
 * A subscription is registered in the fan-out *before* its catch-up query
 * runs; live pokes arriving meanwhile wait in `pending` and are filtered by
 * the tracker once the catch-up rows have been sent, so no message is
 * poked twice and none written between query and registration is missed.
 */
#ifndef GW_SSE_SUB_H
#define GW_SSE_SUB_H

#include "fanout.h"
#include "strbuf.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Live pokes beyond this many unsent frames are dropped (pokes are hints);
 * catch-up may fill up to twice as many. The byte cap bounds frames with
 * very long stream names. */
#define SSE_QUEUE_FRAMES 1000
#define SSE_QUEUE_BYTES (4 * 1024 * 1024)
/* Live pokes held while a catch-up query runs; beyond this the held
 * pokes are discarded and the catch-up is run again afterwards (its query
 * then covers them). */
#define SSE_PENDING_MAX 1000
/* docs/http-api.md#modes: at most this many catch-up pokes per run. */
#define SSE_CATCHUP_BATCH 1000

typedef enum SubPhase
{
	SUB_CATCHUP, SUB_LIVE
} SubPhase;

typedef struct PendingPoke
{
	struct PendingPoke *next;
	int64_t		position;
	int64_t		gpos;
	size_t		stream_len;
	char		stream[];
} PendingPoke;

typedef struct Sub
{
	FanEntry	fe;				/* first: a FanEntry * is a Sub * */
	pthread_mutex_t mu;			/* guards everything below */
	int			refs;			/* the MHD response + queued catch-up jobs */
	struct MHD_Connection *conn;
	char	   *ns;				/* NUL-terminated copies */
	char	   *name;
	int64_t		start;			/* the position parameter */

	/*
	 * Stream mode: next stream position; category mode: next global
	 * position; all mode: the point a catch-up after a LISTEN reconnect
	 * starts from (known only once something was seen).
	 */
	int64_t		tracker;
	bool		tracker_known;

	SubPhase	phase;
	bool		rerun;			/* another catch-up wanted after this one */

	/*
	 * The catch-up reads page after page up to the end of the store, not
	 * only the first page: set once pokes may have been missed (the LISTEN
	 * connection dropped, held pokes were discarded, the database was out
	 * of reach), when "miss nothing" needs every message since the tracker.
	 * A new subscription's first catch-up stops after one page, as the
	 * original's does (docs/http-api.md#modes).
	 */
	bool		to_end;

	/*
	 * All mode has no catch-up, so a write acknowledged before the request
	 * must not be poked even if its notification is still in flight: the
	 * subscription goes live (and says ": ready") only once a NOTIFY sent
	 * after its registration comes back on the LISTEN connection, which
	 * delivers in commit order. Pokes seen before that are dropped.
	 */
	bool		awaiting_barrier;
	bool		barrier_sent;
	uint64_t	barrier;
	bool		suspended;		/* we suspended conn and owe it a resume */
	bool		wake_queued;	/* in the poking thread's batch (sse.c) */
	bool		ending;			/* send what is queued, then end the stream */
	bool		closed;			/* the response is gone: never touch conn */

	StrBuf		out;			/* SSE bytes not yet handed to MHD */
	size_t		out_off;
	unsigned	frames;			/* complete frames in out[out_off..] */
	char		last_sent;

	PendingPoke *pend_head,
			   *pend_tail;
	unsigned	npend;

	/* Queued catch-up job: where it starts (the tracker when queued; it
	 * does not move during CATCHUP) and whether it is an all-mode barrier.
	 * Read by the workers under the job-queue lock, so jobs of the same
	 * query can be coalesced without taking every Sub's lock. */
	struct Sub *job_next;
	int64_t		job_from;
	bool		job_barrier;
} Sub;

/* Caller holds s->mu. */
void		sub_frame(Sub *s, const char *bytes, size_t len, unsigned max_frames);
void		sub_poke(Sub *s, const char *stream, size_t stream_len,
					 int64_t position, int64_t gpos, unsigned max_frames);
void		sub_live(Sub *s, const char *stream, size_t stream_len,
					 int64_t position, int64_t gpos);
void		sub_wake(Sub *s);
void		sub_clear_pending(Sub *s);

/*
 * Ends a catch-up: s goes live, and the pokes held meanwhile go out through
 * the live filter, except those whose global position sent(arg, gpos) says
 * the catch-up already delivered (sent NULL: none).
 */
void		sub_go_live(Sub *s, bool (*sent) (const void *arg, int64_t gpos), const void *arg);
/* All mode: the barrier passed (or cannot come): go live. */
void		sub_release_barrier(Sub *s);

void		sub_ref(Sub *s);	/* caller holds s->mu */
void		sub_unref(Sub *s);	/* caller does not hold s->mu */

/* Catch-up workers and heartbeats (sse_catchup.c). */
bool		catchup_start(void);
void		catchup_stop(void);
/* Queues a catch-up run; caller holds s->mu and has set phase CATCHUP. */
void		catchup_enqueue(Sub *s);

#endif
