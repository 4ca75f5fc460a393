/*
 * Persistent subscriptions (docs/subscriptions.md): the server keeps, per
 * named subscription of a namespace, what it read from the source, what it
 * handed to which consumer under which lease, what was completed and what
 * was parked.
 *
 * State tables (sub_storage.c) live in the namespace's schema, or in
 * eventodb_default for the default namespace:
 *   subscriptions           one row per subscription: settings, read_pos
 *                           (the source is read up to it, exclusive), the
 *                           delivery counter and the pending/in-flight counts
 *   subscription_messages   the pending set: messages read but not completed,
 *                           with their attempts and, while in flight, the
 *                           delivery id, consumer and lease
 *   subscription_parked     parked messages
 *   subscription_consumers  consumers seen, with the time they stay active
 *
 * Every call that changes a subscription first locks its row (FOR UPDATE),
 * so concurrent calls on one subscription serialize and cannot deadlock;
 * counters in the row are kept by the holder of that lock.
 */
#ifndef EVENTODB_SUBSCRIPTION_H
#define EVENTODB_SUBSCRIPTION_H

#include "postgres.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "store.h"

#define ERRCODE_EV_SUB_NOT_FOUND	MAKE_SQLSTATE('E','V','0','1','0')
#define ERRCODE_EV_SUB_EXISTS		MAKE_SQLSTATE('E','V','0','1','1')
#define ERRCODE_EV_DELIVERY_EXPIRED	MAKE_SQLSTATE('E','V','0','1','2')

#define SUB_DEFAULT_SCHEMA "eventodb_default"

/* At least this many not-completed messages are considered for hand-out. */
#define SUB_WINDOW 1000
#define SUB_MAX_IDS 1000
#define SUB_MAX_TYPES 100
#define SUB_MAX_REASON 1000
/* Longest client string echoed in an error (a delivery id has at most 100 bytes). */
#define SUB_ECHO_MAX 100

/* One subscription as stored, and where its state and its source live. */
typedef struct Sub
{
	StoreRef	ref;			/* the namespace: its messages schema */
	const char *schema;			/* schema of the state tables */
	int64		id;
	char	   *name;
	char	   *category;		/* "" = every stream of the namespace */
	Datum		types;			/* text[], sorted and distinct; empty = all */
	int			ntypes;
	int32		max_in_flight;
	int32		ack_timeout_ms;
	int32		max_deliveries;
	bool		round_robin;
	Timestamp	created_at;
	int64		read_pos;
	int64		pending;		/* rows in subscription_messages */
	int64		in_flight;		/* of them, in flight */
} Sub;

/* Settings parsed from an options object; has_* says which keys were given. */
typedef struct SubSettings
{
	bool		has_types;
	Datum		types;
	int			ntypes;
	bool		has_start;
	int			start_kind;		/* SUB_START_* */
	int64		start;
	bool		has_max_in_flight;
	int32		max_in_flight;
	bool		has_ack_timeout;
	int32		ack_timeout_ms;
	bool		has_max_deliveries;
	int32		max_deliveries;
	bool		has_strategy;
	bool		round_robin;
} SubSettings;

enum
{
	SUB_START_BEGINNING, SUB_START_END, SUB_START_POSITION
};

/* ---- sub_rules.c: argument validation, SQLSTATE 22023 with the contract's texts ---- */
void		sub_check_name(FunctionCallInfo fcinfo, int argno);
void		sub_check_consumer(FunctionCallInfo fcinfo, int argno);
void		sub_check_category(FunctionCallInfo fcinfo, int argno);
/* Distinct delivery ids of a text[] argument, in first-seen order. */
char	  **sub_check_delivery_ids(FunctionCallInfo fcinfo, int argno, int *n);
/* Options of create (for_update false) or update, in the contract's order. */
void		sub_parse_options(FunctionCallInfo fcinfo, int argno, bool for_update,
							  SubSettings *out);
/* 'beginning', 'end' or digits. */
void		sub_parse_position(const char *s, int *kind, int64 *pos);

/* ---- sub_storage.c ---- */
/* Schema of the namespace's subscription state. */
const char *sub_schema_of(const StoreRef *ref);
/* Whether the state tables exist in schema. */
bool		sub_storage_exists(const char *schema);
/* Creates them when missing (first subscription of a namespace). */
void		sub_storage_ensure(const char *schema);
/* Drops them (default namespace deleted; other schemas go with the namespace). */
void		sub_storage_drop(const char *schema);
/* A plan over the state tables (@S) and the source messages (@M). */
SPIPlanPtr	sub_plan(const Sub *sub, const char *key, const char *tmpl, int nargs, Oid *argtypes);
/* The same for a namespace without a loaded subscription. */
SPIPlanPtr	sub_plan_ns(const StoreRef *ref, const char *key, const char *tmpl,
						int nargs, Oid *argtypes);

/* ---- sub_state.c: loading, locking and saving a subscription ---- */
/* The subscription, its row locked when for_update; EV010 when unknown. */
void		sub_load(const StoreRef *ref, const char *name, bool for_update, Sub *sub);
/*
 * A number from eventodb.subscription_id_seq: subscription ids, and the
 * batch number in delivery ids (<subscription>.<batch>.<n>). A sequence
 * never hands a number out twice, not even after a rollback, so delivery
 * ids are never reused; its gaps mean nothing.
 */
int64		sub_draw_number(void);

/* Writes read_pos and the counters back. */
void		sub_save_progress(const Sub *sub);
/* The lowest pending position, or read_pos. */
int64		sub_checkpoint(const Sub *sub);
/* The first position of the source not readable yet (the commit horizon). */
int64		sub_source_end(const StoreRef *ref, const char *category);
/* Appends the info object. */
void		sub_render_info(StringInfo buf, const Sub *sub);
Datum		sub_text_array(char **items, int n);
Datum		sub_int8_array(int64 *items, int n);

/* ---- sub_settle.c: ends of deliveries ---- */
/*
 * Failed attempts (lease expired, nack retry, release): each selected
 * delivery in flight is parked with reason "maxDeliveries" when its attempt
 * reached max_deliveries, else becomes deliverable again. Returns how many.
 */
int64		sub_fail_expired(Sub *sub, TimestampTz now);

/*
 * Expired leases are failed attempts from the moment they run out, but only
 * a call that looks at them makes them so: every call that shows or changes
 * a subscription's state settles them first, so that none sees such a
 * delivery in flight or un-parks one that reached max_deliveries
 * (docs/subscriptions.md). sub_settle_expired: sub loaded FOR UPDATE.
 * sub_load_settled: sub_load for calls that only read; locks and settles
 * only when a lease ran out.
 */
void		sub_settle_expired(Sub *sub);
void		sub_load_settled(const StoreRef *ref, const char *name, Sub *sub);

#endif
