/*
 * Saved SPI plans per (schema, statement key). One backend-local hash table
 * in TopMemoryContext: the hot path is a hash lookup, never a parse.
 *
 * Plans are forced generic: every statement of the store is an index lookup
 * whose best plan does not depend on the parameter values, and a generic plan
 * spares the custom-plan phase (five full plannings per backend and key) and
 * any later drift back into re-planning on each call.
 */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "store.h"

#define PLAN_KEY_MAX NAMEDATALEN

typedef struct PlanKey
{
	char		schema[NAMEDATALEN];
	char		key[PLAN_KEY_MAX];
} PlanKey;

typedef struct PlanEntry
{
	PlanKey		k;				/* hash key: must be first */
	SPIPlanPtr	plan;
} PlanEntry;

static HTAB *plans = NULL;

static void
plans_init(void)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(PlanKey);
	ctl.entrysize = sizeof(PlanEntry);
	ctl.hcxt = TopMemoryContext;
	plans = hash_create("eventodb saved plans", 64, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
plan_key_fill(PlanKey *k, const char *schema, const char *key)
{
	memset(k, 0, sizeof(*k));
	if (strlen(schema) >= NAMEDATALEN || strlen(key) >= PLAN_KEY_MAX)
		elog(ERROR, "eventodb: plan key too long: %s / %s", schema, key);
	strcpy(k->schema, schema);
	strcpy(k->key, key);
}

char *
plan_sql(const char *schema, const char *tmpl)
{
	const char *qs = quote_identifier(schema);
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = tmpl; *p; p++)
	{
		if (p[0] == '@' && p[1] == 'S')
		{
			appendStringInfoString(&buf, qs);
			p++;
		}
		else
			appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

SPIPlanPtr
plan_for(const char *schema, const char *key, const char *sql_template,
		 int nargs, Oid *argtypes)
{
	PlanKey		k;
	PlanEntry  *e;
	SPIPlanPtr	plan;
	bool		found;

	if (plans == NULL)
		plans_init();
	plan_key_fill(&k, schema, key);
	e = hash_search(plans, &k, HASH_FIND, NULL);
	if (e != NULL)
		return e->plan;

	/* Prepare before entering, so a failed prepare leaves no empty entry. */
	plan = SPI_prepare_cursor(plan_sql(schema, sql_template), nargs, argtypes,
							  CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "eventodb: SPI_prepare failed for %s/%s: %s",
			 schema, key, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "eventodb: SPI_keepplan failed for %s/%s", schema, key);

	e = hash_search(plans, &k, HASH_ENTER, &found);
	e->plan = plan;
	return plan;
}

void
plans_forget_schema(const char *schema)
{
	HASH_SEQ_STATUS seq;
	PlanEntry  *e;

	if (plans == NULL)
		return;
	/* Deleting the entry just returned by hash_seq_search is allowed. */
	hash_seq_init(&seq, plans);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (strncmp(e->k.schema, schema, NAMEDATALEN) != 0)
			continue;
		SPI_freeplan(e->plan);
		hash_search(plans, &e->k, HASH_REMOVE, NULL);
	}
}
