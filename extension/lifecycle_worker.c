/*
 * The retention worker (docs/lifecycle.md, "The retention worker"): one
 * background worker, started with the server when eventodb is preloaded and
 * eventodb.retention_database names a database, that runs a bounded
 * retention pass over every namespace of that database each
 * eventodb.retention_naptime seconds - sooner while a pass still finds a
 * full batch to remove.
 *
 * Its own worker rather than a step of the poke worker's loop: a pass takes
 * milliseconds to seconds, and pokes must not wait behind it. Each
 * namespace's pass is a transaction of its own, so a failing namespace
 * (dropped meanwhile, say) is logged and the others go on.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "lifecycle.h"
#include "namespace.h"
#include "spi_pinned.h"

PGDLLEXPORT void eventodb_retention_worker_main(Datum arg);

static char *retention_database = NULL;
static int	retention_naptime = 10;
static int	retention_batch = 1000;

/* Between two passes of a round that removed a full batch: writers and
 * readers get the table's I/O back in between. */
#define BUSY_NAP_MS 50

void
lifecycle_worker_register(void)
{
	BackgroundWorker w;

	DefineCustomStringVariable("eventodb.retention_database",
							   "Database whose namespaces the retention worker serves.",
							   "Empty: no retention worker; rules then take effect only through "
							   "eventodb.retention_run().",
							   &retention_database, "", PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("eventodb.retention_naptime",
							"Seconds between the retention worker's rounds.",
							NULL, &retention_naptime, 10, 1, 86400, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("eventodb.retention_batch",
							"Most messages one retention pass removes from one namespace.",
							NULL, &retention_batch, 1000, 1, 1000000, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	if (retention_database == NULL || retention_database[0] == '\0')
		return;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "eventodb");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "eventodb_retention_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "eventodb retention worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "eventodb retention worker");
	RegisterBackgroundWorker(&w);
}

/* The namespaces of the database with lifecycle state; none when the
 * extension is not installed there. Allocated in cxt. */
static StoreRef *
namespaces_with_state(MemoryContext cxt, int *n)
{
	StoreRef   *refs = NULL;

	*n = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	spi_connect_pinned();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'eventodb'",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1 &&
		SPI_execute("SELECT 'default', 'message_store' UNION ALL"
					" SELECT id, schema_name FROM eventodb.namespaces"
					" WHERE schema_name <> 'message_store'", true, 0) == SPI_OK_SELECT)
	{
		uint64		rows = SPI_processed;

		refs = MemoryContextAllocZero(cxt, sizeof(StoreRef) * (rows + 1));
		for (uint64 i = 0; i < rows; i++)
		{
			StoreRef	r;

			r.ns_id = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
			r.schema = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
			if (lifecycle_storage_exists(lifecycle_schema_of(&r)))
				refs[(*n)++] = r;
		}
	}
	spi_finish_pinned();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return refs;
}

/* One namespace's pass in its own transaction; -1 when it failed. */
static int64
guarded_pass(const StoreRef *ref)
{
	MemoryContext cxt = CurrentMemoryContext;
	int64		removed = -1;

	PG_TRY();
	{
		/* now() is the transaction's start, taken from the statement's:
		 * a worker must set it, or maxAge compares against the time the
		 * worker started. */
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		spi_connect_pinned();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "eventodb retention pass");
		removed = lifecycle_retention_pass(ref, retention_batch);
		spi_finish_pinned();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_END_TRY();
	return removed;
}

/* A round over every namespace; true when one still had a full batch. */
static bool
retention_round(MemoryContext round_cxt)
{
	int			n;
	StoreRef   *refs;
	bool		more = false;

	if (RecoveryInProgress())
		return false;
	MemoryContextReset(round_cxt);
	refs = namespaces_with_state(round_cxt, &n);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (guarded_pass(&refs[i]) >= retention_batch)
			more = true;
	}
	return more;
}

void
eventodb_retention_worker_main(Datum arg)
{
	MemoryContext round_cxt;
	bool		more = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(retention_database, NULL, 0);
	pgstat_report_appname("eventodb retention worker");
	round_cxt = AllocSetContextCreate(TopMemoryContext, "eventodb retention round",
									  ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 more ? BUSY_NAP_MS : retention_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		more = retention_round(round_cxt);
		/* A worker never goes idle the way a backend does: flush its
		 * statistics (the deletes in pg_stat_user_tables) itself. */
		pgstat_report_stat(false);
	}
}
