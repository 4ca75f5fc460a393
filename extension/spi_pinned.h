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

#endif
