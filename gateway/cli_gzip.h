/*
 * gzip for the export/import subcommands through zlib's gz* stream API.
 * zlib is opened at run time (libz.so.1 is part of every Debian system):
 * only these two subcommands need it, so the server binary carries no
 * link-time dependency for it.
 */
#ifndef GW_CLI_GZIP_H
#define GW_CLI_GZIP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct CliGz CliGz;

/* Takes ownership of fd. mode: "rb" or "wb". NULL on failure (message on
 * stderr). Reading accepts plain (uncompressed) input too, as gzread does. */
CliGz	   *cli_gz_open(int fd, const char *mode);
/* Bytes read, 0 at end, -1 on error. */
long		cli_gz_read(CliGz *g, void *buf, unsigned len);
bool		cli_gz_write(CliGz *g, const void *buf, unsigned len);
/* Flushes and closes; false when the stream could not be completed. */
bool		cli_gz_close(CliGz *g);

#endif
