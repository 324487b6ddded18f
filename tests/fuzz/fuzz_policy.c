/*
 * libFuzzer target for the seccomp profile parser (sandbox/policy.c): the
 * input is a profile's text, given with its exact length in an exact-size
 * heap buffer (so ASan catches a read past it; it is not NUL-terminated).
 * Syscall names resolve through a small table of their own (the parser
 * does not care which names exist, only whether the resolver knows them).
 *
 * Checks policy_parse()'s contract: returns 0 or -EINVAL; on error one
 * non-empty line "fuzz.policy:LINE: message" with LINE inside the input;
 * on success every rule obeys the grammar's guarantees (arguments 0..5,
 * each once and sorted, masks that can match, ioctl pinned by arg1, no
 * duplicate, no unconditional rule beside another for its syscall), and
 * printing the rules back and parsing that gives the same rules.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "policy.h"

#define FUZZ_FILE "fuzz.policy"

static const char *const fuzz_names[] = {
	"read", "write", "ioctl", "mmap", "munmap", "futex", "close",
	"openat", "exit_group", "rt_sigreturn", "ppoll", "epoll_wait",
	"recvmsg", "sendmsg", "fcntl", "pread64", "pwrite64", "fallocate",
	"kill", "wait4", "madvise", "mprotect",
};

static long
fuzz_resolve(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(fuzz_names) / sizeof(fuzz_names[0]); i++)
		if (strcmp(fuzz_names[i], name) == 0)
			return (long)i;
	return -1;
}

static unsigned
fuzz_lines(const uint8_t *data, size_t size)
{
	unsigned n = 1;
	size_t i;

	for (i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

static void
fuzz_check_msg(const char *msg, unsigned lines)
{
	const char *nul = memchr(msg, '\0', POLICY_MSG_MAX);
	size_t pre = strlen(FUZZ_FILE ":");
	char *end;
	unsigned long line;

	FUZZ_CHECK(nul != NULL);
	FUZZ_CHECK(memchr(msg, '\n', (size_t)(nul - msg)) == NULL);
	FUZZ_CHECK(strncmp(msg, FUZZ_FILE ":", pre) == 0);
	line = strtoul(msg + pre, &end, 10);
	FUZZ_CHECK(line >= 1 && line <= lines);
	FUZZ_CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
}

static void
fuzz_check_rule(const struct policy *p, unsigned i)
{
	const struct policy_rule *r = &p->rules[i], *o;
	const struct policy_cond *c;
	bool pinned = false;
	unsigned j;

	FUZZ_CHECK(r->nr == fuzz_resolve(r->name) && r->nr >= 0);
	FUZZ_CHECK(r->ncond <= POLICY_MAX_ARGS);
	FUZZ_CHECK(i == 0 || r->line > p->rules[i - 1].line);
	for (j = 0; j < r->ncond; j++) {
		c = &r->cond[j];
		FUZZ_CHECK(c->arg < POLICY_MAX_ARGS);
		FUZZ_CHECK(j == 0 || c->arg > r->cond[j - 1].arg);
		FUZZ_CHECK(c->op >= POLICY_EQ && c->op <= POLICY_MASKED_EQ);
		if (c->op == POLICY_MASKED_EQ)
			FUZZ_CHECK(c->mask != 0 && (c->value & ~c->mask) == 0);
		pinned |= c->arg == 1 && (c->op == POLICY_EQ ||
		    c->op == POLICY_MASKED_EQ);
	}
	FUZZ_CHECK(strcmp(r->name, "ioctl") != 0 || pinned);
	for (j = 0; j < i; j++) {
		o = &p->rules[j];
		if (o->nr != r->nr)
			continue;
		FUZZ_CHECK(o->ncond > 0 && r->ncond > 0);
		FUZZ_CHECK(o->ncond != r->ncond || memcmp(o->cond, r->cond,
		    r->ncond * sizeof(r->cond[0])) != 0);
	}
}

/* The rules of p as profile text, one per line, values in hex. */
static size_t
fuzz_print(const struct policy *p, char *buf, size_t size)
{
	const struct policy_rule *r;
	const struct policy_cond *c;
	size_t n = 0;
	unsigned i, j;

	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		n += (size_t)snprintf(buf + n, size - n, "%s", r->name);
		for (j = 0; j < r->ncond; j++) {
			c = &r->cond[j];
			n += (size_t)snprintf(buf + n, size - n, "%s arg%u",
			    j ? " &&" : "", c->arg);
			if (c->op == POLICY_MASKED_EQ)
				n += (size_t)snprintf(buf + n, size - n,
				    " & 0x%llx ==", (unsigned long long)c->mask);
			else
				n += (size_t)snprintf(buf + n, size - n, " %s",
				    policy_op_name(c->op));
			n += (size_t)snprintf(buf + n, size - n, " 0x%llx",
			    (unsigned long long)c->value);
		}
		n += (size_t)snprintf(buf + n, size - n, " # r\n");
		FUZZ_CHECK(n < size);
	}
	return n;
}

static void
fuzz_round_trip(const struct policy *p)
{
	static char text[POLICY_MAX_RULES * 256];
	char msg[POLICY_MSG_MAX];
	struct policy q = { 0 };
	unsigned i;
	size_t n;

	n = fuzz_print(p, text, sizeof(text));
	FUZZ_CHECK(policy_parse(&q, "again", text, n, fuzz_resolve, msg,
	    sizeof(msg)) == 0);
	FUZZ_CHECK(q.nrules == p->nrules);
	for (i = 0; i < q.nrules; i++) {
		FUZZ_CHECK(q.rules[i].nr == p->rules[i].nr);
		FUZZ_CHECK(q.rules[i].ncond == p->rules[i].ncond);
		FUZZ_CHECK(memcmp(q.rules[i].cond, p->rules[i].cond,
		    q.rules[i].ncond * sizeof(q.rules[i].cond[0])) == 0);
	}
	policy_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[POLICY_MSG_MAX], *text;
	struct policy p = { 0 };
	unsigned i;
	int rc;

	text = malloc(size ? size : 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	memset(msg, 'X', sizeof(msg));
	rc = policy_parse(&p, FUZZ_FILE, text, size, fuzz_resolve, msg,
	    sizeof(msg));
	if (fuzz_verbose())
		fprintf(stderr, "policy_parse: %d: %s\n", rc, rc ? msg : "ok");
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK(p.nrules <= POLICY_MAX_RULES);
	for (i = 0; i < p.nrules; i++)
		fuzz_check_rule(&p, i);
	FUZZ_CHECK(policy_nsyscalls(&p) <= p.nrules);
	if (rc < 0)
		fuzz_check_msg(msg, fuzz_lines(data, size));
	else
		fuzz_round_trip(&p);
	policy_free(&p);
	free(text);
	return 0;
}
