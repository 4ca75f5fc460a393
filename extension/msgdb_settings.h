/*
 * Message DB's placeholder settings (docs/sql-api.md#settings-and-debug-notices), read exactly as its
 * PL/pgSQL does with current_setting(name, true).
 */
#ifndef EVENTODB_MSGDB_SETTINGS_H
#define EVENTODB_MSGDB_SETTINGS_H

#include "postgres.h"

/* "message_store.debug_write" or "message_store.debug_get", or-ed with
 * "message_store.debug"; each counts only when exactly 'on'. */
bool		msgdb_debug_enabled(const char *specific);

/* message_store.sql_condition: off only when never set or exactly 'off'. */
bool		msgdb_sql_condition_activated(void);

/* "<NULL>" for a NULL pointer, as RAISE renders NULL arguments. */
static inline const char *
msgdb_or_null(const char *s)
{
	return s ? s : "<NULL>";
}

#endif
