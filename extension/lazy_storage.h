/*
 * Per-namespace state tables made on a namespace's first use of a feature
 * (persistent subscriptions, the stream lifecycle), in the namespace's own
 * schema so that they go with it (docs/architecture.md#namespaces).
 */
#ifndef EVENTODB_LAZY_STORAGE_H
#define EVENTODB_LAZY_STORAGE_H

#include "postgres.h"

/* tmpl with every "@<marker>" replaced by the quoted schema name. */
char	   *lazy_with_marker(const char *tmpl, char marker, const char *schema);

/*
 * Runs ddl (with @S for schema) unless exists(schema) says the tables are
 * there. Two first calls in one namespace serialize on a private lock tag
 * (lock_field4, one per feature): the second then sees the tables. what
 * names the feature in errors.
 */
void		lazy_storage_ensure(const char *schema, const char *what, uint16 lock_field4,
								bool (*exists) (const char *schema), const char *ddl);

#endif
