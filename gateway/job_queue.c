/* See job_queue.h. */
#include "job_queue.h"

static void **
next_of(const JobQueue *q, const void *item)
{
	return (void **) ((char *) item + q->next_off);
}

bool
jobq_push(JobQueue *q, void *item)
{
	bool		ok;

	pthread_mutex_lock(&q->mu);
	ok = !q->stopping;
	if (ok)
	{
		*next_of(q, item) = NULL;
		if (q->tail != NULL)
			*next_of(q, q->tail) = item;
		else
			q->head = item;
		q->tail = item;
		/* one item, one worker: the others stay asleep */
		pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

size_t
jobq_pop_alike(JobQueue *q, bool (*same) (const void *head, const void *item),
			   void (*take) (void *item, void *arg), void *arg, bool *stopping)
{
	void	   *head;
	size_t		n = 1;

	pthread_mutex_lock(&q->mu);
	while (q->head == NULL && !q->stopping)
		pthread_cond_wait(&q->cond, &q->mu);
	head = q->head;
	if (stopping != NULL)
		*stopping = q->stopping;
	if (head == NULL)
	{
		pthread_mutex_unlock(&q->mu);
		return 0;
	}
	q->head = *next_of(q, head);
	take(head, arg);
	if (same != NULL)
	{
		void	  **pp = &q->head;
		void	   *item;

		while ((item = *pp) != NULL)
		{
			if (same(head, item))
			{
				*pp = *next_of(q, item);
				take(item, arg);
				n++;
			}
			else
				pp = next_of(q, item);
		}
	}
	if (n > 1)
	{
		/* the tail itself may have been taken */
		q->tail = NULL;
		for (void *t = q->head; t != NULL; t = *next_of(q, t))
			q->tail = t;
	}
	else if (q->head == NULL)
		q->tail = NULL;
	pthread_mutex_unlock(&q->mu);
	return n;
}

static void
take_one(void *item, void *arg)
{
	*(void **) arg = item;
}

void *
jobq_pop(JobQueue *q)
{
	void	   *item = NULL;

	jobq_pop_alike(q, NULL, take_one, &item, NULL);
	return item;
}

/* Stops the queue; with take, also unlinks and returns what is queued. */
static void *
stop(JobQueue *q, bool take)
{
	void	   *queued = NULL;

	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	if (take)
	{
		queued = q->head;
		q->head = q->tail = NULL;
	}
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mu);
	return queued;
}

void *
jobq_stop_take(JobQueue *q)
{
	return stop(q, true);
}

void
jobq_stop(JobQueue *q)
{
	(void) stop(q, false);
}

bool
jobq_stopping(JobQueue *q)
{
	bool		stopping;

	pthread_mutex_lock(&q->mu);
	stopping = q->stopping;
	pthread_mutex_unlock(&q->mu);
	return stopping;
}

void
jobq_reopen(JobQueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = false;
	pthread_mutex_unlock(&q->mu);
}
