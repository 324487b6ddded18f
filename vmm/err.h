/*
 * A one-line error message carried out of a module to the code that prints
 * it. Functions that can fail on user input take a `struct err *` and return
 * a negative errno-style value after filling it with err_set(); the caller
 * prints "vmm-reference: <msg>" and exits non-zero. The message names the
 * input (option, file) and the reason, in that order.
 */
#ifndef VMM_ERR_H
#define VMM_ERR_H

#include <stdarg.h>

#define ERR_MSG_MAX 512

struct err {
	char msg[ERR_MSG_MAX];
};

/* Fill e (may be NULL) with a printf-style message; returns `code`
 * (conventionally -EINVAL, -ENOMEM, ...) so callers can `return err_set()`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
