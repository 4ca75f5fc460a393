/* A database-free gateway/pool.c for the harnesses (see fake_pool.c). */
#ifndef FUZZ_FAKE_POOL_H
#define FUZZ_FAKE_POOL_H

#include "pool.h"

typedef enum FakePoolMode
{
	FAKE_DB_OK,					/* canned success values */
	FAKE_DB_ERROR,				/* a failed statement without SQLSTATE */
	FAKE_DB_DOWN				/* no connection */
} FakePoolMode;

extern FakePoolMode fake_pool_mode;
extern unsigned fake_pool_calls;

#endif
