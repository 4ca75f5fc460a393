/*
 * A first-in first-out queue of jobs for a few worker threads. Items are
 * linked through a next pointer of their own (its offset is given at
 * initialisation), so queueing never allocates and cannot fail for want of
 * memory; an item is in at most one queue at a time.
 */
#ifndef GW_JOB_QUEUE_H
#define GW_JOB_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct JobQueue
{
	pthread_mutex_t mu;			/* guards everything below */
	pthread_cond_t cond;		/* an item was queued, or the queue stops */
	size_t		next_off;		/* where an item keeps its next pointer */
	void	   *head;
	void	   *tail;
	bool		stopping;
} JobQueue;

/* A static initialiser: items are of type `type`, linked through its
 * pointer member `member`. */
#define JOBQ_INIT(type, member) \
	{ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, offsetof(type, member), NULL, NULL, false }

/* Links item at the tail and wakes one waiting worker. False, and item
 * untouched, once the queue stops: nobody would run it. */
bool		jobq_push(JobQueue *q, void *item);

/* Waits for an item and unlinks the head; NULL once the queue stops and
 * nothing is left (workers drain what was queued before the stop). */
void	   *jobq_pop(JobQueue *q);

/* As jobq_pop, and in the same step unlinks every later item for which
 * same(head, item) holds. take(item, arg) receives the head, then each of
 * those in queue order. Both run under the queue's lock: once it is
 * released another thread may queue a taken item again, so nothing is
 * handed back through the items' next pointers. Returns how many were
 * taken, 0 once the queue stops and nothing is left; *stopping says
 * whether the queue was stopping when they were taken. */
size_t		jobq_pop_alike(JobQueue *q, bool (*same) (const void *head, const void *item),
						   void (*take) (void *item, void *arg), void *arg, bool *stopping);

/* The queue stops: jobq_push refuses, waiting workers wake. */
void		jobq_stop(JobQueue *q);

/* As jobq_stop, and in the same step unlinks everything still queued and
 * returns it chained through the items' next pointers (NULL when empty),
 * for the caller to end: no worker runs them, and no jobq_push touches
 * them any more. */
void	   *jobq_stop_take(JobQueue *q);

/* Whether the queue stops (it may stop right after the answer). */
bool		jobq_stopping(JobQueue *q);

/* Accepts items again after a stop (for a start after a stop). */
void		jobq_reopen(JobQueue *q);

#endif
