/*
 * Open-fd count of the test process (from /proc/self/fd), for tests that
 * check no fd leaks on any path. Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_COUNT_FDS_H
#define TESTS_UNIT_COUNT_FDS_H

#include <dirent.h>

static inline int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;                /* the DIR's own fd */
}

#endif
