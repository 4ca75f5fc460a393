/*
 * A poke worker is a session of its database, and some database DDL refuses
 * to run while other sessions are connected (DROP DATABASE, ALTER DATABASE
 * RENAME / SET TABLESPACE, CREATE DATABASE from it as a template). Before
 * such a statement runs, its database's worker is asked to leave; the next
 * write there starts a new one. Installed only when the library is
 * preloaded (there are no workers otherwise).
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/syscache.h"

#include "poke_queue.h"

static ProcessUtility_hook_type prev_hook = NULL;

/*
 * Whether the current user may run the statement on the database at all:
 * its worker is asked to leave before PostgreSQL checks that, so a login
 * without the right must not get that far (it would cost the database its
 * poke worker for nothing). Owners and superusers (ownership) for DROP,
 * RENAME and ALTER; for a copy, the CREATEDB right and a template or one's
 * own database.
 */
static bool
may_alter(Oid dboid)
{
	return pg_database_ownercheck(dboid, GetUserId());
}

static bool
may_copy(Oid dboid)
{
	HeapTuple	tup;
	bool		createdb = false;
	bool		istemplate = false;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	if (HeapTupleIsValid(tup))
	{
		createdb = ((Form_pg_authid) GETSTRUCT(tup))->rolcreatedb;
		ReleaseSysCache(tup);
	}
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	if (HeapTupleIsValid(tup))
	{
		istemplate = ((Form_pg_database) GETSTRUCT(tup))->datistemplate;
		ReleaseSysCache(tup);
	}
	return (superuser() || createdb) && (istemplate || may_alter(dboid));
}

/* The database the statement needs to itself, InvalidOid when none. */
static Oid
database_named(const char *dbname)
{
	return dbname != NULL ? get_database_oid(dbname, true) : InvalidOid;
}

static const char *
template_of(CreatedbStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst(lc);

		/* TEMPLATE = DEFAULT has no argument: template1, as createdb reads it */
		if (strcmp(opt->defname, "template") == 0)
			return opt->arg != NULL ? defGetString(opt) : "template1";
	}
	return "template1";
}

/* ALTER DATABASE ... WITH options: only a new tablespace needs the database
 * to itself (CONNECTION LIMIT and the like do not). */
static bool
moves_tablespace(AlterDatabaseStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
			return true;
	return false;
}

static void
db_guard_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				 ProcessUtilityContext context, ParamListInfo params,
				 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	Oid			released = InvalidOid;
	bool		dropping = false;
	Oid			db;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			db = database_named(((DropdbStmt *) stmt)->dbname);
			if (OidIsValid(db) && may_alter(db))
				released = db;
			dropping = true;
			break;
		case T_CreatedbStmt:
			db = database_named(template_of((CreatedbStmt *) stmt));
			if (OidIsValid(db) && may_copy(db))
				released = db;
			break;
		case T_AlterDatabaseStmt:
			db = database_named(((AlterDatabaseStmt *) stmt)->dbname);
			if (OidIsValid(db) && moves_tablespace((AlterDatabaseStmt *) stmt) && may_alter(db))
				released = db;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
			{
				db = database_named(((RenameStmt *) stmt)->subname);
				if (OidIsValid(db) && may_alter(db))
					released = db;
			}
			break;
		default:
			break;
	}
	/* The worker leaves (its unsent pokes stay queued for the next one)... */
	if (OidIsValid(released))
		pokeq_release_database(released, false);
	if (prev_hook)
		prev_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
	/* ...and the slot is freed only once the database is gone: a DROP that
	 * failed leaves the queue and the sessions' reservations intact. */
	if (dropping && OidIsValid(released))
		pokeq_release_database(released, true);
}

void
db_guard_install(void)
{
	prev_hook = ProcessUtility_hook;
	ProcessUtility_hook = db_guard_utility;
}
