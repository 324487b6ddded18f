/*
 * The seccomp profile language (seccomp-profiles/ROLE.policy): a pure
 * parser, no libseccomp, shared by the build-time compiler
 * (sandbox/seccomp_compile.c) and the unit tests. One rule per line:
 *
 *   # a comment line; blank lines are fine
 *   SYSCALL                                 # why (the comment is required)
 *   SYSCALL COND [&& COND]...               # why
 *   COND  := argN OP VALUE | argN & VALUE == VALUE        (N in 0..5)
 *   OP    := == | != | < | <= | > | >=
 *   VALUE := TERM [| TERM]...  (bitwise OR)
 *   TERM  := decimal | 0xHEX | SYMBOL (policy_symbol())
 *
 * Several rules for one syscall are alternatives (ORed); the conditions of
 * one rule must all hold. Rejected, with "FILE:LINE: message": an unknown
 * syscall or symbol, argN outside arg0..arg5, a bad operator or value, the
 * same argument twice in one rule, a duplicate rule ("duplicate of line
 * N"), an unconditional rule beside another rule for the same syscall
 * ("conflicts with line N"), a rule without its comment, and an ioctl rule
 * that does not pin arg1 (the request number) with == or a mask ==.
 */
#ifndef SANDBOX_POLICY_H
#define SANDBOX_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_ARGS   6
#define POLICY_NAME_MAX   64        /* syscall and symbol names, with NUL */
#define POLICY_LINE_MAX   1024      /* bytes per line, without the newline */
#define POLICY_MAX_RULES  1024
#define POLICY_MSG_MAX    512

enum policy_op {
	POLICY_EQ,              /* argN == V */
	POLICY_NE,              /* argN != V */
	POLICY_LT,              /* argN < V */
	POLICY_LE,              /* argN <= V */
	POLICY_GT,              /* argN > V */
	POLICY_GE,              /* argN >= V */
	POLICY_MASKED_EQ,       /* (argN & mask) == V */
};

struct policy_cond {
	unsigned arg;           /* 0..5 */
	enum policy_op op;
	uint64_t mask;          /* POLICY_MASKED_EQ only */
	uint64_t value;
};

struct policy_rule {
	char name[POLICY_NAME_MAX];     /* "ioctl" */
	long nr;                        /* from the resolver */
	unsigned line;                  /* 1-based */
	unsigned ncond;                 /* 0: unconditional */
	struct policy_cond cond[POLICY_MAX_ARGS];   /* sorted by arg */
};

struct policy {
	struct policy_rule *rules;      /* in file order */
	unsigned nrules;
	unsigned cap;
};

/* Maps a syscall name to its number on the target architecture, or a
 * negative value when there is no such syscall. */
typedef long (*policy_resolve_fn)(const char *name);

/* Parse text[0..len) (need not be NUL-terminated) as the profile `file`
 * (used in messages only) into p, which must be zeroed or freed before.
 * Returns 0; -EINVAL with msg "FILE:LINE: message" (one line) on the first
 * error; -ENOMEM. p holds what was parsed so far either way: policy_free()
 * it. */
int policy_parse(struct policy *p, const char *file, const char *text,
    size_t len, policy_resolve_fn resolve, char *msg, size_t msg_size);

/* policy_parse() on the contents of the file at path (at most 1 MiB).
 * Errors as policy_parse(), plus "FILE: why" for I/O (-errno). */
int policy_parse_file(struct policy *p, const char *path,
    policy_resolve_fn resolve, char *msg, size_t msg_size);

void policy_free(struct policy *p);

/* Number of distinct syscalls p allows. */
unsigned policy_nsyscalls(const struct policy *p);

/* Number of rules for the syscall `name`. */
unsigned policy_count(const struct policy *p, const char *name);

/* The value of a SYMBOL (KVM_RUN, PROT_EXEC, ...): 0 and *value, or -1
 * when unknown. The table comes from the real headers (policy_syms.c). */
int policy_symbol(const char *name, uint64_t *value);

/* "==", "!=", ... ("&" for POLICY_MASKED_EQ). */
const char *policy_op_name(enum policy_op op);

#endif
