/*
 * Bulk import with preserved positions (docs/http-api.md#bulk-import-import): import_batch and
 * import_clear. Rows go straight into the table - no write path, so no lock
 * and no poke (the original never poked for imports). An import still
 * publishes a horizon bound for its whole namespace (horizon.h), so category
 * readers do not page past its rows while it is in flight - except rows
 * below the namespace's current position, which it inserts into the past.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"

#include "horizon.h"
#include "lifecycle.h"
#include "namespace.h"
#include "spi_pinned.h"
#include "stats.h"

/*
 * The highest global position an import may store (2^62). Imports move the
 * namespace's sequence up to their highest gpos; one near the bigint
 * maximum would leave the namespace no position for its next write. This
 * keeps more than 4.6 * 10^18 positions for writes after any import.
 */
#define IMPORT_MAX_GPOS INT64CONST(4611686018427387904)

PG_FUNCTION_INFO_V1(ev_import_batch);
PG_FUNCTION_INFO_V1(ev_import_clear);

/*
 * One record (jsonb object r) as column values. Missing keys take the
 * original's zero values ("", 0, null); a JSON null payload is stored as
 * SQL NULL like an absent one.
 */
#define RECORD_COLUMNS \
	"COALESCE(r->>'id', '')::uuid," \
	" COALESCE(r->>'stream', '')," \
	" COALESCE(r->>'type', '')," \
	" COALESCE((r->'pos')::bigint, 0)," \
	" COALESCE((r->'gpos')::bigint, 0)," \
	" NULLIF(r->'data', 'null'::jsonb)," \
	" NULLIF(r->'meta', 'null'::jsonb)," \
	" COALESCE((r->>'time')::timestamptz AT TIME ZONE 'UTC', '0001-01-01 00:00:00'::timestamp)"

#define INSERT_COLUMNS \
	"INSERT INTO @S.messages" \
	" (id, stream_name, type, position, global_position, data, metadata, time)"

static SPIPlanPtr
batch_insert_plan(const char *schema)
{
	static Oid	argtypes[1] = {JSONBOID};

	return plan_for(schema, "gw_import_batch",
					"WITH ins AS (" INSERT_COLUMNS
					" SELECT " RECORD_COLUMNS
					" FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY AS t(r, n)"
					" ORDER BY n RETURNING global_position)"
					" SELECT pg_catalog.max(global_position) FROM ins",
					1, argtypes);
}

static SPIPlanPtr
record_insert_plan(const char *schema)
{
	static Oid	argtypes[2] = {JSONBOID, INT4OID};

	return plan_for(schema, "gw_import_record",
					INSERT_COLUMNS " SELECT " RECORD_COLUMNS
					" FROM (SELECT $1 -> $2 AS r) AS t",
					2, argtypes);
}

/* The gpos of record i as the client wrote it ("0" when absent). */
static char *
record_gpos_text(Jsonb *records, int i)
{
	JsonbValue *rec = getIthJsonbValueFromContainer(&records->root, i);
	JsonbValue *gpos;

	if (rec == NULL || rec->type != jbvBinary || !JsonContainerIsObject(rec->val.binary.data))
		return "0";
	gpos = getKeyJsonValueFromContainer(rec->val.binary.data, "gpos", 4, NULL);
	if (gpos == NULL || gpos->type != jbvNumeric)
		return "0";
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(gpos->val.numeric)));
}

/*
 * Runs fn in a subtransaction. Returns NULL on success, or the caught error
 * (state already cleaned up) so the caller can translate it.
 */
typedef void (*SubxactFn) (void *arg);

static ErrorData *
in_subxact(SubxactFn fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *err = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return err;
}

typedef struct ImportRun
{
	const char *schema;
	Jsonb	   *records;
	int			count;
	int			failed_at;		/* record whose insert failed, or -1 */
	int64		max_gpos;
	bool		max_null;
} ImportRun;

static void
insert_batch(void *arg)
{
	ImportRun  *run = arg;
	Datum		values[1] = {JsonbPGetDatum(run->records)};

	if (SPI_execute_plan(batch_insert_plan(run->schema), values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: import insert failed");
	run->max_gpos = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &run->max_null));
}

/* Record by record, remembering which one fails. */
static void
insert_one_by_one(void *arg)
{
	ImportRun  *run = arg;
	SPIPlanPtr	plan = record_insert_plan(run->schema);

	for (int i = 0; i < run->count; i++)
	{
		Datum		values[2] = {JsonbPGetDatum(run->records), Int32GetDatum(i)};

		run->failed_at = i;
		if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "eventodb: import insert failed");
	}
	run->failed_at = -1;
}

/*
 * The original inserted record by record and reported the gpos of the
 * record whose insert hit any unique violation (docs/http-api.md#bulk-import-import). The batch goes in
 * as one statement; only when it hits a unique violation is it replayed
 * record by record to find that record.
 */
static void
raise_position_exists(ImportRun *run, ErrorData *batch_err)
{
	ErrorData  *err = in_subxact(insert_one_by_one, run);

	if (err == NULL || err->sqlerrcode != ERRCODE_UNIQUE_VIOLATION || run->failed_at < 0)
		ReThrowError(err != NULL ? err : batch_err);
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("global position already exists: %s",
					record_gpos_text(run->records, run->failed_at)),
			 errdetail_internal("%s", err->detail ? err->detail : err->message)));
}

/*
 * The next ordinary write must get a larger global position than anything
 * stored: max of the table (which now includes the batch) and the sequence
 * itself, which never moves backwards (deviation 8 of docs/http-api.md#deviations-from-the-original).
 */
static void
advance_sequence(const char *schema)
{
	SPIPlanPtr	plan = plan_for(schema, "gw_import_setval",
								"SELECT pg_catalog.setval(s.seq, GREATEST("
								"(SELECT pg_catalog.max(global_position) FROM @S.messages),"
								" pg_catalog.pg_sequence_last_value(s.seq), 1))"
								" FROM (SELECT pg_catalog.pg_get_serial_sequence('@S.messages',"
								" 'global_position')::regclass AS seq) AS s",
								0, NULL);

	if (SPI_execute_plan(plan, NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "eventodb: could not advance the global position sequence");
}

/* import_batch(ns, records) -> highest gpos of the batch (NULL when empty). */
Datum
ev_import_batch(PG_FUNCTION_ARGS)
{
	ImportRun	run;
	StoreRef	ref;
	ErrorData  *err;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	run.records = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													 CStringGetDatum(text_to_cstring(PG_GETARG_TEXT_PP(1)))));
	if (!JB_ROOT_IS_ARRAY(run.records) || JB_ROOT_IS_SCALAR(run.records))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("import records must be a JSON array")));
	run.count = JB_ROOT_COUNT(run.records);
	run.failed_at = -1;
	run.max_null = true;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, RowExclusiveLock);
	run.schema = ref.schema;
	if (run.count > 0)
	{
		HorizonNs	hns = horizon_ns(ref.schema);

		horizon_publish(&hns, true, 0);
		err = in_subxact(insert_batch, &run);
		if (err != NULL)
		{
			if (err->sqlerrcode == ERRCODE_UNIQUE_VIOLATION)
				raise_position_exists(&run, err);
			ReThrowError(err);
		}
		if (!run.max_null && run.max_gpos > IMPORT_MAX_GPOS)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("global position " INT64_FORMAT " is above the import limit " INT64_FORMAT,
							run.max_gpos, IMPORT_MAX_GPOS),
					 errdetail("Imported global positions must leave the namespace room for its writes."),
					 errhint("Import the records with global positions of at most " INT64_FORMAT ".",
							 IMPORT_MAX_GPOS)));
		advance_sequence(ref.schema);
		stats_import(ref.schema, (uint64) run.count, run.max_null ? 0 : run.max_gpos);
	}
	spi_finish_pinned();
	if (run.max_null)
		PG_RETURN_NULL();
	PG_RETURN_INT64(run.max_gpos);
}

/* import_clear(ns): all messages gone, positions restart at 1 (docs/http-api.md#bulk-import-import). */
Datum
ev_import_clear(PG_FUNCTION_ARGS)
{
	StoreRef	ref;

	spi_connect_pinned();
	ref = ns_resolve_arg(fcinfo, 0, RowExclusiveLock);
	ns_storage_clear(ref.schema);
	lifecycle_forget_messages(&ref);
	spi_finish_pinned();
	PG_RETURN_VOID();
}
