/* See read.h. */
#include "postgres.h"

#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "nodes/params.h"
#include "parser/parse_param.h"

#include "read.h"
#include "stats.h"
#include "store.h"

/* Parameter types of a dynamic statement, for its parse analysis. */
typedef struct FixedParams
{
	Oid		   *types;
	int			n;
} FixedParams;

static void
fixed_params_setup(ParseState *pstate, void *arg)
{
	FixedParams *f = arg;

	setup_parse_fixed_parameters(pstate, f->types, f->n);
}

/* Runs plan, or the statement sql when plan is NULL (a one-shot plan,
 * planned for these parameter values). */
static void
read_into(FunctionCallInfo fcinfo, SPIPlanPtr plan, const char *sql,
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

	if (plan == NULL)
	{
		FixedParams *f = palloc(sizeof(FixedParams));

		f->n = nparams;
		f->types = palloc(sizeof(Oid) * (nparams > 0 ? nparams : 1));
		for (int i = 0; i < nparams; i++)
			f->types[i] = params[i].type;
		plist->parserSetup = fixed_params_setup;
		plist->parserSetupArg = f;
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
	/* A condition may end the statement and start others: as in Message
	 * DB's RETURN QUERY EXECUTE, each of them must return rows. */
	opts.must_return_tuples = plan == NULL;
	opts.dest = dest;
	rc = plan != NULL ? SPI_execute_plan_extended(plan, &opts) : SPI_execute_extended(sql, &opts);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "eventodb: read query failed: %s", SPI_result_code_string(rc));
	/* only the Message DB face reads this way */
	stats_read(store_message_store.schema, SPI_processed);
	dest->rDestroy(dest);
}

void
read_into_result(FunctionCallInfo fcinfo, SPIPlanPtr plan,
				 const ReadParam *params, int nparams)
{
	read_into(fcinfo, plan, NULL, params, nparams, false);
}

void
read_into_result_active(FunctionCallInfo fcinfo, SPIPlanPtr plan,
						const ReadParam *params, int nparams)
{
	read_into(fcinfo, plan, NULL, params, nparams, true);
}

void
read_dynamic_into_result(FunctionCallInfo fcinfo, const char *sql,
						 const ReadParam *params, int nparams, bool active_snapshot)
{
	read_into(fcinfo, NULL, sql, params, nparams, active_snapshot);
}
