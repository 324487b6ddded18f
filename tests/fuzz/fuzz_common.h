/*
 * Helpers shared by the libFuzzer targets: a contract check that aborts
 * (so libFuzzer records the input as a crash), and the check every
 * `struct err` message must pass after a failed call.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: contract violated: %s\n", \
		    __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* FUZZ_VERBOSE=1 in the environment: print each call's result (to replay
 * a corpus by hand: build/fuzz/fuzz_cli FILE...). */
static inline int
fuzz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("FUZZ_VERBOSE") != NULL;
	return v;
}

/* Fill e with non-NUL bytes, so a message that is never written or never
 * terminated is caught by fuzz_check_err(). */
static inline void
fuzz_poison_err(struct err *e)
{
	memset(e->msg, 'X', sizeof(e->msg));
}

/* A failed call left one non-empty line, NUL-terminated inside msg. */
static inline void
fuzz_check_err(const struct err *e)
{
	const char *nul = memchr(e->msg, '\0', sizeof(e->msg));

	FUZZ_CHECK(nul != NULL);
	FUZZ_CHECK(nul != e->msg);
	FUZZ_CHECK(memchr(e->msg, '\n', (size_t)(nul - e->msg)) == NULL);
}

#endif
