/*
 * The test-only forbidden syscalls (sandbox.h): one list for the vmm's CLI,
 * vmm-blk's options and the sandbox's hook. Its own file: the CLI fuzz
 * target links it without the rest of the sandbox.
 */
#include <string.h>

#include "sandbox.h"

static const char *const forbidden[] = { "openat", "execve", "socket", "ptrace" };

int
sandbox_test_forbidden_index(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; name != NULL && i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		if (strlen(forbidden[i]) == len && memcmp(forbidden[i], name, len) == 0)
			return (int)i;
	return -1;
}

const char *
sandbox_test_forbidden_name(int index)
{
	return index >= 0 && (size_t)index < sizeof(forbidden) / sizeof(forbidden[0]) ?
	    forbidden[index] : NULL;
}
