/*
 * Module entry point: settings, and - when preloaded - the shared memory of
 * the commit horizon and the deferred pokes, their transaction callbacks
 * and the database-DDL guard.
 *
 * The Message DB settings (message_store.debug, message_store.sql_condition,
 * ...) are deliberately NOT registered as GUCs: Message DB reads them as
 * placeholders with current_setting(name, true), and "never set" (NULL) must
 * stay distinguishable from "set to ''" (docs/sql-api.md#settings-and-debug-notices). Registering them
 * would change that.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"

#include "horizon.h"
#include "lifecycle.h"
#include "poke_queue.h"
#include "stats.h"
#include "store.h"

PG_MODULE_MAGIC;

const StoreRef store_message_store = {"default", "message_store"};

void		_PG_init(void);

static const struct config_enum_entry write_modes[] = {
	{"horizon", WRITE_MODE_HORIZON, false},
	{"category_lock", WRITE_MODE_CATEGORY_LOCK, false},
	{NULL, 0, false}
};

static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;

static void
eventodb_shmem_request(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	horizon_shmem_request();
	pokeq_shmem_request();
	stats_shmem_request();
}

static void
eventodb_shmem_startup(void)
{
	if (prev_shmem_startup)
		prev_shmem_startup();
	horizon_shmem_startup();
	pokeq_shmem_startup();
	stats_shmem_startup();
}

/*
 * The order at commit matters: runs are queued (pokeq_commit) before the
 * horizon bound is withdrawn, both after the commit is visible (COMMIT is
 * called after ProcArrayEndTransaction); see poke_worker.c.
 */
static void
eventodb_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			pokeq_pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (horizon_held())
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("eventodb: cannot PREPARE a transaction that wrote messages"),
						 errdetail("Its commit would have to move category readers' horizon from another session.")));
			break;
		case XACT_EVENT_COMMIT:
			pokeq_commit();
			if (horizon_clear())
				pokeq_wake();
			break;
		case XACT_EVENT_ABORT:
			pokeq_abort();
			if (horizon_clear())
				pokeq_wake();
			break;
		default:
			break;
	}
}

void
_PG_init(void)
{
	/*
	 * Loaded on first use instead: no shared memory, Message DB's locking.
	 * (A postmaster-only setting cannot even be defined after start-up.)
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomEnumVariable("eventodb.write_mode",
							 "How writers keep category readers gap-free.",
							 "horizon: writers lock only their stream, readers stop at the commit "
							 "horizon, a background worker sends the pokes. category_lock: Message "
							 "DB's category lock held to commit, pokes sent by the writers. Without "
							 "eventodb in shared_preload_libraries, writes always take the category "
							 "lock.",
							 &eventodb_write_mode, WRITE_MODE_HORIZON, write_modes,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);

	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = eventodb_shmem_request;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = eventodb_shmem_startup;
	RegisterXactCallback(eventodb_xact_callback, NULL);
	db_guard_install();
	lifecycle_worker_register();
}
