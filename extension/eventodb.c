/*
 * Module entry point. The Message DB settings (message_store.debug,
 * message_store.sql_condition, ...) are deliberately NOT registered as GUCs:
 * Message DB reads them as placeholders with current_setting(name, true), and
 * "never set" (NULL) must stay distinguishable from "set to ''" (SQL-API.md
 * §6). Registering them would change that.
 */
#include "postgres.h"

#include "fmgr.h"

#include "store.h"

PG_MODULE_MAGIC;

const StoreRef store_message_store = {"default", "message_store"};

void		_PG_init(void);

/* Nothing to set up: all state (saved plans) is created lazily per backend,
 * so loading through shared_preload_libraries or on first call is the same. */
void
_PG_init(void)
{
}
