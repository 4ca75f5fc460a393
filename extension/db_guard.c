/*
 * A poke worker is a session of its database, and some database DDL refuses
 * to run while other sessions are connected (DROP DATABASE, ALTER DATABASE
 * RENAME / SET TABLESPACE, CREATE DATABASE from it as a template). Before
 * such a statement runs, its database's worker is asked to leave; the next
 * write there starts a new one. Installed only when the library is
 * preloaded (there are no workers otherwise).
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "poke_queue.h"

static ProcessUtility_hook_type prev_hook = NULL;

static void
release_named(const char *dbname, bool forget)
{
	if (dbname != NULL)
		pokeq_release_database(get_database_oid(dbname, true), forget);
}

static const char *
template_of(CreatedbStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst(lc);

		if (strcmp(opt->defname, "template") == 0)
			return defGetString(opt);
	}
	return "template1";
}

static void
db_guard_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				 ProcessUtilityContext context, ParamListInfo params,
				 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			release_named(((DropdbStmt *) stmt)->dbname, true);
			break;
		case T_CreatedbStmt:
			release_named(template_of((CreatedbStmt *) stmt), false);
			break;
		case T_AlterDatabaseStmt:
			release_named(((AlterDatabaseStmt *) stmt)->dbname, false);
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				release_named(((RenameStmt *) stmt)->subname, false);
			break;
		default:
			break;
	}
	if (prev_hook)
		prev_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

void
db_guard_install(void)
{
	prev_hook = ProcessUtility_hook;
	ProcessUtility_hook = db_guard_utility;
}
