/*
 * SQL entry points of the deferred pokes (poke_queue.h):
 *
 * poke_barrier(channel, payload): NOTIFY channel once every poke of writes
 * committed before the call has been sent. The gateway's all mode uses it
 * as its barrier: writes acknowledged before a subscription must not be
 * poked to it, and with pokes sent by the worker a plain NOTIFY could
 * overtake them.
 *
 * poke_barrier(channel, payload, ns): the same for one namespace's pokes.
 *
 * poke_sync(timeout_ms): waits until the pokes of writes committed before
 * the call are sent; false on timeout. For tests and tools.
 *
 * write_mode(): the write mode in effect ('horizon' or 'category_lock').
 *
 * poke_channel(): the private channel of every namespace's pokes but the
 * default one's (store.h); the gateway LISTENs to it.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "horizon.h"
#include "namespace.h"
#include "poke_queue.h"
#include "spi_pinned.h"
#include "store.h"

PG_FUNCTION_INFO_V1(ev_poke_barrier);
PG_FUNCTION_INFO_V1(ev_poke_barrier_ns);
PG_FUNCTION_INFO_V1(ev_poke_sync);
PG_FUNCTION_INFO_V1(ev_write_mode);
PG_FUNCTION_INFO_V1(ev_poke_channel);

Datum
ev_poke_channel(PG_FUNCTION_ARGS)
{
	/* any id but default's names the private channel */
	PG_RETURN_TEXT_P(cstring_to_text(store_poke_channel("")));
}

Datum
ev_poke_barrier(PG_FUNCTION_ARGS)
{
	pokeq_barrier(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)),
				  InvalidOid);
	PG_RETURN_VOID();
}

/*
 * poke_barrier(channel, payload, ns): the same for the pokes of one
 * namespace only (an all-mode subscription sees no other), so an open
 * transaction holding back one namespace's horizon delays no other
 * namespace's subscriptions. An unknown namespace waits for all.
 */
Datum
ev_poke_barrier_ns(PG_FUNCTION_ARGS)
{
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(2));
	Oid			nsp = InvalidOid;
	StoreRef	ref;

	spi_connect_pinned();
	if (ns_lookup(id, &ref, NULL))
		nsp = get_namespace_oid(ref.schema, true);
	spi_finish_pinned();
	pokeq_barrier(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)),
				  nsp);
	PG_RETURN_VOID();
}

Datum
ev_poke_sync(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(pokeq_sync(PG_GETARG_INT32(0)));
}

Datum
ev_write_mode(PG_FUNCTION_ARGS)
{
	/* The mode this database's writers really take: without a poke worker
	 * (no free background-worker slot) they fall back to the category lock. */
	bool		horizon = horizon_enabled() && eventodb_write_mode == WRITE_MODE_HORIZON &&
		pokeq_available();

	PG_RETURN_TEXT_P(cstring_to_text(horizon ? "horizon" : "category_lock"));
}
