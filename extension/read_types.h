/*
 * The opt-in type index of a namespace (read_category_types.c): what
 * type-filtered readers - category_get_types, persistent subscriptions with
 * types - use when it exists.
 */
#ifndef EVENTODB_READ_TYPES_H
#define EVENTODB_READ_TYPES_H

#include "postgres.h"

/* (category(stream_name), type, global_position) on <schema>.messages */
#define TYPE_INDEX_NAME "messages_category_type"

/* Whether the namespace stored in schema has the type index. */
bool		type_index_exists(const char *schema);

#endif
