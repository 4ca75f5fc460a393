/*
 * See msgdb_settings.h. GetConfigOptionByName() is what current_setting()
 * itself calls; GetConfigOption() would not do: after SET and RESET of a
 * placeholder it yields a NULL pointer where current_setting() yields '' - a
 * value that activates sql_condition (docs/sql-api.md#settings-and-debug-notices pitfall).
 */
#include "postgres.h"

#include "utils/guc.h"

#include "msgdb_settings.h"

static bool
setting_is(const char *name, const char *value)
{
	char	   *v = GetConfigOptionByName(name, NULL, true);

	return v != NULL && strcmp(v, value) == 0;
}

bool
msgdb_debug_enabled(const char *specific)
{
	return setting_is(specific, "on") || setting_is("message_store.debug", "on");
}

bool
msgdb_sql_condition_activated(void)
{
	char	   *v = GetConfigOptionByName("message_store.sql_condition", NULL, true);

	return v != NULL && strcmp(v, "off") != 0;
}
