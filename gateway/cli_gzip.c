/* See cli_gzip.h. */
#include "cli_gzip.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

struct CliGz
{
	gzFile		f;
};

static struct
{
	bool		loaded;
	gzFile		(*dopen) (int, const char *);
	int			(*read) (gzFile, voidp, unsigned);
	int			(*write) (gzFile, voidpc, unsigned);
	int			(*close) (gzFile);
}			z;

static bool
load(void)
{
	void	   *h;

	if (z.loaded)
		return true;
	h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
	{
		fprintf(stderr, "gzip support needs zlib (libz.so.1): %s\n", dlerror());
		return false;
	}
	*(void **) &z.dopen = dlsym(h, "gzdopen");
	*(void **) &z.read = dlsym(h, "gzread");
	*(void **) &z.write = dlsym(h, "gzwrite");
	*(void **) &z.close = dlsym(h, "gzclose");
	if (!z.dopen || !z.read || !z.write || !z.close)
	{
		fprintf(stderr, "gzip support: libz.so.1 lacks the gz* functions\n");
		return false;
	}
	z.loaded = true;
	return true;
}

CliGz *
cli_gz_open(int fd, const char *mode)
{
	CliGz	   *g;

	if (!load())
	{
		close(fd);
		return NULL;
	}
	g = malloc(sizeof(CliGz));
	if (g == NULL)
		abort();
	g->f = z.dopen(fd, mode);
	if (g->f == NULL)
	{
		fprintf(stderr, "cannot set up gzip stream\n");
		close(fd);
		free(g);
		return NULL;
	}
	return g;
}

long
cli_gz_read(CliGz *g, void *buf, unsigned len)
{
	int			n = z.read(g->f, buf, len);

	return n < 0 ? -1 : n;
}

bool
cli_gz_write(CliGz *g, const void *buf, unsigned len)
{
	return len == 0 || z.write(g->f, buf, len) == (int) len;
}

bool
cli_gz_close(CliGz *g)
{
	bool		ok = z.close(g->f) == Z_OK;

	free(g);
	return ok;
}
