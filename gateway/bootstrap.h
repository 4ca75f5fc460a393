/* Start-up against the database (docs/configuration.md#start-up steps 2-4), on a
 * connection of its own before the pool serves requests. */
#ifndef GW_BOOTSTRAP_H
#define GW_BOOTSTRAP_H

#include <stdbool.h>

/*
 * Connects, makes sure the eventodb extension is installed (creating it
 * when missing and permitted), drops every namespace when reset is set,
 * and ensures the default namespace (docs/http-api.md#the-default-namespace), logging its token once.
 * token may be NULL (one is generated). false + *err (malloc'd) on failure.
 */
bool		bootstrap_database(const char *db_url, const char *token, bool reset, char **err);

/* Checks a --token value before anything starts (docs/http-api.md#the-default-namespace). */
bool		bootstrap_check_token(const char *token, char **err);

#endif
