/*
 * Message DB's plain readers, and its category read by correlation, without
 * the executor (docs/sql-api.md#get_stream_messages, #get_category_messages,
 * #get_last_stream_message): one scan of an index of
 * message_store.messages, each row turned into a message_store.message row.
 * The gateway's stream_get and stream_last of the default namespace (whose
 * table this is) take the same scans and render each row themselves.
 *
 * Each is the query its saved plan would run - an index scan under a LIMIT -
 * minus what the plan costs per call besides the rows: SPI, the plan cache
 * check, executor start-up and shut-down, a second tuplestore. With few rows
 * (a rare category, the last message) that fixed cost was most of the call.
 *
 * They serve only a caller that may read the whole table: without SELECT on
 * it, or with row-level security on, or when the table or index is not the
 * one this code knows, they decline (return false having done nothing) and
 * the caller runs the SQL, which applies (and reports) all of that.
 *
 * The relations' OIDs and the check of each index's shape are kept per
 * backend and forgotten on any invalidation of those relations or of a
 * schema, so the hot path does no catalog lookup; the permission checks run
 * on every call.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "read.h"

/* Columns of message_store.messages (extension/schema/1.0/10_message_store.sql). */
enum
{
	COL_GLOBAL_POSITION = 1, COL_POSITION, COL_TIME, COL_STREAM_NAME, COL_TYPE,
	COL_DATA, COL_METADATA, COL_ID, NUM_COLS = COL_ID
};

/* The indexes read here. */
typedef enum DirectIndex
{
	INDEX_STREAM,				/* messages_stream (stream_name, position) */
	INDEX_CATEGORY,				/* messages_category (category(stream_name),
								 * global_position, ...) */
	INDEX_CORRELATION,			/* the same index, whose third column must be
								 * category(metadata->>'correlationStreamName') */
	NUM_INDEXES
} DirectIndex;

static const char *const index_names[NUM_INDEXES] = {
	"messages_stream", "messages_category", "messages_category"
};

#define MAX_KEYS 4

/* One condition of the scan, on an index column. */
typedef struct DirectKey
{
	AttrNumber	attno;
	StrategyNumber strategy;
	RegProcedure proc;
	Datum		value;
} DirectKey;

typedef struct DirectRead
{
	DirectIndex index;
	DirectKey	keys[MAX_KEYS];	/* in index column order */
	int			nkeys;
	ScanDirection dir;
	int64		limit;			/* rows at most; -1: all */
	bool		has_type;		/* only rows of this type */
	Datum		type;
	Snapshot	snapshot;		/* NULL: a fresh one */
	int64	   *position;		/* set: no result set; the first row's
								 * position goes here (untouched if none) */
	DirectRowFn visit;			/* set: no result set; each row goes here */
	void	   *visit_arg;
} DirectRead;

/* Per-backend lookups; valid until an invalidation resets them. */
static struct
{
	bool		valid;
	bool		callbacks;
	Oid			table;
	Oid			index[NUM_INDEXES];
	int			shape[NUM_INDEXES];	/* 0: not checked, 1: as expected, -1: not */
} cache;

static void
forget_relations(Datum arg, Oid relid)
{
	if (!cache.valid)
		return;
	if (relid == InvalidOid || relid == cache.table)
		cache.valid = false;
	for (int i = 0; i < NUM_INDEXES; i++)
		if (relid == cache.index[i])
			cache.valid = false;
}

static void
forget_schemas(Datum arg, int cacheid, uint32 hashvalue)
{
	cache.valid = false;
}

static bool
lookup_relations(void)
{
	Oid			nsp;

	if (!cache.callbacks)
	{
		CacheRegisterRelcacheCallback(forget_relations, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, forget_schemas, (Datum) 0);
		cache.callbacks = true;
	}
	if (cache.valid)
		return OidIsValid(cache.table);
	memset(cache.shape, 0, sizeof(cache.shape));
	cache.table = InvalidOid;
	nsp = get_namespace_oid("message_store", true);
	if (OidIsValid(nsp))
	{
		cache.table = get_relname_relid("messages", nsp);
		for (int i = 0; i < NUM_INDEXES; i++)
			cache.index[i] = get_relname_relid(index_names[i], nsp);
	}
	/* Set last: an invalidation during the lookups leaves it unset. */
	cache.valid = true;
	return OidIsValid(cache.table);
}

/* The argument of a call of message_store.category(), or NULL when expr is none. */
static Node *
category_argument(Node *expr)
{
	FuncExpr   *f;
	Node	   *arg;
	char	   *name;

	if (!IsA(expr, FuncExpr))
		return NULL;
	f = (FuncExpr *) expr;
	if (list_length(f->args) != 1)
		return NULL;
	name = get_func_name(f->funcid);
	if (name == NULL || strcmp(name, "category") != 0 ||
		get_func_namespace(f->funcid) != get_namespace_oid("message_store", true))
		return NULL;
	arg = linitial(f->args);
	if (IsA(arg, RelabelType))
		arg = (Node *) ((RelabelType *) arg)->arg;
	return arg;
}

/* Whether an index expression is message_store.category(stream_name). */
static bool
is_category_of_stream_name(Node *expr)
{
	Node	   *arg = category_argument(expr);

	return arg != NULL && IsA(arg, Var) && ((Var *) arg)->varattno == COL_STREAM_NAME;
}

/* Whether an index expression is
 * message_store.category(metadata->>'correlationStreamName'). */
static bool
is_category_of_correlation(Node *expr)
{
	Node	   *arg = category_argument(expr);
	OpExpr	   *op;
	Node	   *field;
	Const	   *key;

	if (arg == NULL || !IsA(arg, OpExpr))
		return false;
	op = (OpExpr *) arg;
	if (op->opfuncid != F_JSONB_OBJECT_FIELD_TEXT || list_length(op->args) != 2)
		return false;
	field = linitial(op->args);
	key = (Const *) lsecond(op->args);
	return IsA(field, Var) && ((Var *) field)->varattno == COL_METADATA &&
		IsA(key, Const) && key->consttype == TEXTOID && !key->constisnull &&
		strcmp(TextDatumGetCString(key->constvalue), "correlationStreamName") == 0;
}

/* Whether table and index are the ones the scans below are written for. */
static bool
shape_as_expected(DirectIndex which, Relation table, Relation index)
{
	Form_pg_index ix = index->rd_index;

	if (RelationGetDescr(table)->natts != NUM_COLS || ix->indrelid != RelationGetRelid(table) ||
		!ix->indisvalid || !heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL))
		return false;
	if (which == INDEX_STREAM)
		return ix->indnatts == 2 && ix->indkey.values[0] == COL_STREAM_NAME &&
			ix->indkey.values[1] == COL_POSITION;
	if (ix->indnatts < 2 || ix->indkey.values[0] != 0 ||
		ix->indkey.values[1] != COL_GLOBAL_POSITION ||
		!is_category_of_stream_name(linitial(RelationGetIndexExpressions(index))))
		return false;
	if (which == INDEX_CATEGORY)
		return true;
	return ix->indnatts >= 3 && ix->indkey.values[2] == 0 &&
		list_length(RelationGetIndexExpressions(index)) >= 2 &&
		is_category_of_correlation(lsecond(RelationGetIndexExpressions(index)));
}

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

/*
 * The message_store.message row of a messages row: the casts of Message
 * DB's select list (id::varchar, data::varchar, ... are output functions).
 */
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
	/* the tuplestore copies the values */
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* A row in the gateway's column order (read.h's MessageCol), to r->visit. */
static void
visit_message(const DirectRead *r, TupleTableSlot *slot)
{
	static const AttrNumber attno[MSG_NCOLS] = {
		COL_ID, COL_STREAM_NAME, COL_TYPE, COL_POSITION, COL_GLOBAL_POSITION,
		COL_DATA, COL_METADATA, COL_TIME,
	};
	Datum		values[MSG_NCOLS];
	bool		nulls[MSG_NCOLS];

	slot_getallattrs(slot);
	for (int c = 0; c < MSG_NCOLS; c++)
	{
		values[c] = slot->tts_values[attno[c] - 1];
		nulls[c] = slot->tts_isnull[attno[c] - 1];
	}
	r->visit(r->visit_arg, values, nulls);
}

static bool
type_matches(TupleTableSlot *slot, Relation table, Datum type)
{
	bool		isnull;
	Datum		t = slot_getattr(slot, COL_TYPE, &isnull);

	return !isnull &&
		DatumGetBool(DirectFunctionCall2Coll(texteq,
											 TupleDescAttr(RelationGetDescr(table), COL_TYPE - 1)->attcollation,
											 t, type));
}

/*
 * Runs r into the calling SRF's result (materialize mode), or into
 * r->position; false, having done nothing, when it cannot serve this
 * caller. *rows: rows read.
 */
static bool
read_direct(FunctionCallInfo fcinfo, const DirectRead *r, uint64 *rows)
{
	ReturnSetInfo *rsinfo = fcinfo ? (ReturnSetInfo *) fcinfo->resultinfo : NULL;
	Relation	table,
				index;
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData keys[MAX_KEYS];
	uint64		n = 0;
	MemoryContext rowcxt = NULL;

	if (!lookup_relations() || !OidIsValid(cache.index[r->index]) || cache.shape[r->index] < 0)
		return false;
	if (pg_class_aclcheck(cache.table, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(cache.table, InvalidOid, true) != RLS_NONE)
		return false;
	table = table_open(cache.table, AccessShareLock);
	index = index_open(cache.index[r->index], AccessShareLock);
	if (cache.shape[r->index] == 0)
		cache.shape[r->index] = shape_as_expected(r->index, table, index) ? 1 : -1;
	if (cache.shape[r->index] < 0)
	{
		/* not the table this code knows: let the SQL read it */
		index_close(index, NoLock);
		table_close(table, NoLock);
		return false;
	}

	if (r->position == NULL)
	{
		if (r->visit == NULL)
			InitMaterializedSRF(fcinfo, 0);

		/*
		 * A row's own memory (text forms, detoasted values) dies once it is
		 * handed on, as the executor's per-tuple memory does: a whole batch
		 * of it would grow the call's memory to fresh pages every call.
		 */
		rowcxt = AllocSetContextCreate(CurrentMemoryContext, "eventodb direct read row",
									   ALLOCSET_DEFAULT_SIZES);
	}
	if (r->snapshot != NULL)
		snapshot = r->snapshot;
	else
	{
		/* as SPI's non-read-only mode: see this transaction's own writes */
		CommandCounterIncrement();
		snapshot = RegisterSnapshot(GetTransactionSnapshot());
	}
	for (int i = 0; i < r->nkeys; i++)
	{
		ScanKeyInit(&keys[i], r->keys[i].attno, r->keys[i].strategy, r->keys[i].proc,
					r->keys[i].value);
		keys[i].sk_collation = index->rd_indcollation[r->keys[i].attno - 1];
	}
	slot = table_slot_create(table, NULL);
	scan = index_beginscan(table, index, snapshot, r->nkeys, 0);
	index_rescan(scan, keys, r->nkeys, NULL, 0);
	while ((r->limit < 0 || n < (uint64) r->limit) && index_getnext_slot(scan, r->dir, slot))
	{
		if (r->has_type && !type_matches(slot, table, r->type))
			continue;
		if (r->position != NULL)
		{
			bool		isnull;
			Datum		v = slot_getattr(slot, COL_POSITION, &isnull);

			if (!isnull)
				*r->position = DatumGetInt64(v);
		}
		else
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			if (r->visit != NULL)
				visit_message(r, slot);
			else
				put_message(rsinfo, slot);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
		n++;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	if (rowcxt != NULL)
		MemoryContextDelete(rowcxt);
	if (r->snapshot == NULL)
		UnregisterSnapshot(snapshot);
	/* locks are kept to transaction end, as the executor keeps them */
	index_close(index, NoLock);
	table_close(table, NoLock);
	*rows = n;
	return true;
}

/* The last row of a stream (of the type, when has_type): by its index, backwards. */
static DirectRead
last_of_stream(Datum stream, bool has_type, Datum type)
{
	DirectRead	r = {
		.index = INDEX_STREAM,
		.keys = {{1, BTEqualStrategyNumber, F_TEXTEQ, stream}},
		.nkeys = 1,
		.dir = BackwardScanDirection,
		.limit = 1,
		.has_type = has_type,
		.type = type,
	};

	return r;
}

/* A stream's rows from position on, at most limit (-1: all). */
static DirectRead
stream_from(Datum stream, int64 position, int64 limit)
{
	DirectRead	r = {
		.index = INDEX_STREAM,
		.keys = {
			{1, BTEqualStrategyNumber, F_TEXTEQ, stream},
			{2, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(position)},
		},
		.nkeys = 2,
		.dir = ForwardScanDirection,
		.limit = limit,
	};

	return r;
}

/* Runs r under the active snapshot, each row to visit(arg, ...). */
static bool
visit_rows(DirectRead *r, DirectRowFn visit, void *arg, uint64 *rows)
{
	r->snapshot = GetActiveSnapshot();
	r->visit = visit;
	r->visit_arg = arg;
	return read_direct(NULL, r, rows);
}

bool
read_last_direct(FunctionCallInfo fcinfo, Datum stream, bool has_type, Datum type, uint64 *rows)
{
	DirectRead	r = last_of_stream(stream, has_type, type);

	return read_direct(fcinfo, &r, rows);
}

bool
read_stream_direct(FunctionCallInfo fcinfo, Datum stream, int64 position, int64 limit,
				   uint64 *rows)
{
	DirectRead	r = stream_from(stream, position, limit);

	return read_direct(fcinfo, &r, rows);
}

bool
read_category_direct(FunctionCallInfo fcinfo, Datum category, int64 position, int64 horizon,
					 bool has_correlation, Datum correlation, int64 limit, uint64 *rows)
{
	DirectRead	r = {
		.index = has_correlation ? INDEX_CORRELATION : INDEX_CATEGORY,
		.keys = {
			{1, BTEqualStrategyNumber, F_TEXTEQ, category},
			{2, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(position)},
			{2, BTLessStrategyNumber, F_INT8LT, Int64GetDatum(horizon)},
			/* checked on each index entry, as the saved plan's index condition */
			{3, BTEqualStrategyNumber, F_TEXTEQ, correlation},
		},
		.nkeys = has_correlation ? 4 : 3,
		.dir = ForwardScanDirection,
		.limit = limit,
		.snapshot = GetActiveSnapshot(),
	};

	return read_direct(fcinfo, &r, rows);
}

bool
read_last_each(Datum stream, bool has_type, Datum type, DirectRowFn visit, void *arg,
			   uint64 *rows)
{
	DirectRead	r = last_of_stream(stream, has_type, type);

	return visit_rows(&r, visit, arg, rows);
}

bool
read_stream_each(Datum stream, int64 position, int64 limit, DirectRowFn visit, void *arg,
				 uint64 *rows)
{
	DirectRead	r = stream_from(stream, position, limit);

	return visit_rows(&r, visit, arg, rows);
}

bool
read_version_direct(Datum stream, int64 *version, bool *found)
{
	DirectRead	r = last_of_stream(stream, false, (Datum) 0);
	uint64		rows = 0;

	r.position = version;
	*version = -1;
	if (!read_direct(NULL, &r, &rows))
		return false;
	*found = rows > 0;
	return true;
}
