/*
 * What every harness shares: CHECK, which aborts with the harness's name
 * and a message when an oracle's condition fails (libFuzzer then keeps
 * the input as a crash), and the initialiser of the harnesses whose code
 * under test logs - only errors, so that a run's output is its findings.
 * A harness defines FUZZ_NAME before including this.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...) \
	do { if (!(cond)) { fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

#define FUZZ_QUIET_LOGS_INITIALIZER \
	int LLVMFuzzerInitialize(int *argc, char ***argv); \
	int \
	LLVMFuzzerInitialize(int *argc, char ***argv) \
	{ \
		(void) argc; \
		(void) argv; \
		log_configure(LOG_ERROR, 0); \
		return 0; \
	}

#endif
