/* See read.h. */
#include "postgres.h"

#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "nodes/params.h"

#include "read.h"
#include "stats.h"
#include "store.h"

static void
read_into(FunctionCallInfo fcinfo, SPIPlanPtr plan,
		  const ReadParam *params, int nparams, bool read_only)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ParamListInfo plist = makeParamList(nparams);
	SPIExecuteOptions opts;
	DestReceiver *dest;
	int			rc;

	InitMaterializedSRF(fcinfo, 0);

	for (int i = 0; i < nparams; i++)
	{
		plist->params[i].value = params[i].value;
		plist->params[i].isnull = params[i].isnull;
		plist->params[i].pflags = PARAM_FLAG_CONST;
		plist->params[i].ptype = params[i].type;
	}

	dest = CreateTuplestoreDestReceiver();
	/* Detoast: the tuplestore outlives the snapshot the rows were read with. */
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory,
									true, rsinfo->setDesc,
									"read query does not match the function's row type");

	memset(&opts, 0, sizeof(opts));
	opts.params = plist;
	opts.read_only = read_only;
	opts.dest = dest;
	rc = SPI_execute_plan_extended(plan, &opts);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "eventodb: read query failed: %s", SPI_result_code_string(rc));
	/* only the Message DB face reads this way */
	stats_read(store_message_store.schema, SPI_processed);
	dest->rDestroy(dest);
}

SPIPlanPtr
read_prepare_dynamic(const char *sql, const ReadParam *params, int nparams)
{
	Oid		   *types = palloc(sizeof(Oid) * nparams);
	SPIPlanPtr	plan;

	for (int i = 0; i < nparams; i++)
		types[i] = params[i].type;
	plan = SPI_prepare(sql, nparams, types);
	if (plan == NULL)
		elog(ERROR, "eventodb: SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	return plan;
}

void
read_into_result(FunctionCallInfo fcinfo, SPIPlanPtr plan,
				 const ReadParam *params, int nparams)
{
	read_into(fcinfo, plan, params, nparams, false);
}

void
read_into_result_active(FunctionCallInfo fcinfo, SPIPlanPtr plan,
						const ReadParam *params, int nparams)
{
	read_into(fcinfo, plan, params, nparams, true);
}
