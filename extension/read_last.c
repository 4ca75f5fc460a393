/*
 * get_last_stream_message without the executor (docs/sql-api.md#get_last_stream_message): one
 * backward scan of the messages_stream index (stream_name, position) to the
 * first row of the stream - of the given type, when one is given - turned
 * into a message_store.message row.
 *
 * It is the query the saved plan would run (WHERE stream_name = $1 [AND
 * type = $2] ORDER BY position DESC LIMIT 1) minus the plan's start-up,
 * which at this size was most of the call. It reads under a fresh snapshot,
 * as SPI's non-read-only mode and Message DB's VOLATILE readers do. It
 * serves only a caller that may read the whole table: without SELECT on
 * it, or with row-level security on, read_last_direct() declines and the
 * caller runs the SQL, which applies (and reports) both.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "read.h"

/* Columns of message_store.messages (extension/schema/1.0/10_message_store.sql). */
enum
{
	COL_GLOBAL_POSITION = 1, COL_POSITION, COL_TIME, COL_STREAM_NAME, COL_TYPE,
	COL_DATA, COL_METADATA, COL_ID, NUM_COLS = COL_ID
};

static Datum
text_of(Datum v, bool isnull, Oid outfunc_oid)
{
	if (isnull)
		return (Datum) 0;
	return CStringGetTextDatum(OidOutputFunctionCall(outfunc_oid, v));
}

/* Toasted values point into the table: the result must not. */
static Datum
detoasted(Datum v, bool isnull)
{
	return isnull ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_PACKED(v));
}

/* The message_store.message row of a messages row. */
static void
put_message(ReturnSetInfo *rsinfo, TupleTableSlot *slot)
{
	Datum		values[8];
	bool		nulls[8];
	bool	   *n = slot->tts_isnull;
	Datum	   *v = slot->tts_values;

	slot_getallattrs(slot);
	nulls[0] = n[COL_ID - 1];
	values[0] = text_of(v[COL_ID - 1], n[COL_ID - 1], F_UUID_OUT);
	nulls[1] = n[COL_STREAM_NAME - 1];
	values[1] = detoasted(v[COL_STREAM_NAME - 1], n[COL_STREAM_NAME - 1]);
	nulls[2] = n[COL_TYPE - 1];
	values[2] = detoasted(v[COL_TYPE - 1], n[COL_TYPE - 1]);
	nulls[3] = n[COL_POSITION - 1];
	values[3] = v[COL_POSITION - 1];
	nulls[4] = n[COL_GLOBAL_POSITION - 1];
	values[4] = v[COL_GLOBAL_POSITION - 1];
	nulls[5] = n[COL_DATA - 1];
	values[5] = text_of(v[COL_DATA - 1], n[COL_DATA - 1], F_JSONB_OUT);
	nulls[6] = n[COL_METADATA - 1];
	values[6] = text_of(v[COL_METADATA - 1], n[COL_METADATA - 1], F_JSONB_OUT);
	nulls[7] = n[COL_TIME - 1];
	values[7] = v[COL_TIME - 1];
	/* the tuplestore copies (and detoasts) the values */
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* The table, if this caller may read all of it, and its stream index. */
static bool
relations(Oid *table, Oid *index)
{
	Oid			nsp = get_namespace_oid("message_store", true);

	if (!OidIsValid(nsp))
		return false;
	*table = get_relname_relid("messages", nsp);
	*index = get_relname_relid("messages_stream", nsp);
	if (!OidIsValid(*table) || !OidIsValid(*index))
		return false;
	return pg_class_aclcheck(*table, GetUserId(), ACL_SELECT) == ACLCHECK_OK &&
		check_enable_rls(*table, InvalidOid, true) == RLS_NONE;
}

bool
read_last_direct(FunctionCallInfo fcinfo, Datum stream, bool has_type, Datum type)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			table_oid,
				index_oid;
	Relation	table,
				index;
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData key;

	if (!relations(&table_oid, &index_oid))
		return false;
	table = table_open(table_oid, AccessShareLock);
	index = index_open(index_oid, AccessShareLock);
	if (RelationGetDescr(table)->natts != NUM_COLS || index->rd_index->indnatts != 2 ||
		index->rd_index->indkey.values[0] != COL_STREAM_NAME)
	{
		/* not the table this code knows: let the SQL read it */
		index_close(index, NoLock);
		table_close(table, NoLock);
		return false;
	}

	InitMaterializedSRF(fcinfo, 0);
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, stream);
	key.sk_collation = index->rd_indcollation[0];
	slot = table_slot_create(table, NULL);
	scan = index_beginscan(table, index, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;
		Datum		t;

		if (has_type)
		{
			t = slot_getattr(slot, COL_TYPE, &isnull);
			if (isnull ||
				!DatumGetBool(DirectFunctionCall2Coll(texteq,
													  TupleDescAttr(RelationGetDescr(table), COL_TYPE - 1)->attcollation,
													  t, type)))
				continue;
		}
		put_message(rsinfo, slot);
		break;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	/* locks are kept to transaction end, as the executor keeps them */
	index_close(index, NoLock);
	table_close(table, NoLock);
	return true;
}
