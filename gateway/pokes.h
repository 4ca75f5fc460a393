/* The single LISTEN connection on channel eventodb_poke and the fan-out of
 * notifications to subscriptions (docs/architecture.md#pokes). */
#ifndef GW_POKES_H
#define GW_POKES_H

#include <stdbool.h>

bool		pokes_start(const char *db_url);
void		pokes_stop(void);

#endif
