/*
 * SPI sections whose statements resolve operators and functions in
 * pg_catalog alone, whatever search_path the caller (or the database's
 * default, for the background workers) has (docs/security.md#the-search-path).
 *
 * The extension's statements name its own tables and functions with their
 * schema, but the operators and built-in functions they use are found
 * through the search path. Where pg_catalog has no exact match for the
 * argument types (varchar = text, jsonb ->> unknown), an exact match that
 * someone planted in a schema on the path would win and run with the
 * caller's rights - the gateway's are a superuser's.
 *
 * Pinned on every call, not only while planning: a saved plan is re-analysed
 * whenever the search path differs from the one it was planned under.
 */
#ifndef EVENTODB_SPI_PINNED_H
#define EVENTODB_SPI_PINNED_H

/* SPI_connect, with the search path pinned until the matching finish. */
void		spi_connect_pinned(void);

/* SPI_finish, and the caller's search path back. */
void		spi_finish_pinned(void);

/*
 * Inside a pinned section, the caller's own search path again, for the
 * statements that fire the triggers a user may have put on a messages
 * table (the inserts of the writes): Message DB's write_message runs them in
 * the caller's path, and a trigger that names its objects without a schema
 * must keep working. Such a statement must compare or convert nothing -
 * parameters of the columns' own types only - so that nothing planted on
 * that path is called by it. Returns whether a path was pushed, for the pop.
 */
bool		spi_caller_path_push(void);
void		spi_caller_path_pop(bool pushed);

#endif
