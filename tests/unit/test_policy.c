/*
 * Unit tests for the seccomp profile parser (sandbox/policy.c): a table of
 * profiles that must be rejected, each with its exact "FILE:LINE: message";
 * a table of profiles that must parse, with the rules expected; the symbol
 * table against the headers; and every profile of the build (the
 * PROFILES_DIR ones and those under tests/unit/) parsed as the compiler
 * parses it. Syscall names
 * resolve through the generated table (sandbox_syscall_nr()).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "policy.h"
#include "sandbox.h"

#ifndef PROFILES_DIR
#define PROFILES_DIR "seccomp-profiles"
#endif

#define F "t.policy"

struct bad_case {
	const char *text;
	const char *msg;        /* the whole message */
};

static const struct bad_case bad[] = {
	/* the grammar's error list */
	{ "foo # x", F ":1: unknown syscall 'foo'" },
	{ "Read # x", F ":1: unknown syscall 'Read'" },
	{ "ioctl arg1 == KVM_NOPE # x", F ":1: unknown symbol 'KVM_NOPE'" },
	{ "ioctl arg1 == KVM_RUN | kvm_run # x",
	    F ":1: unknown symbol 'kvm_run'" },
	{ "read arg6 == 1 # x", F ":1: arg6: no such argument (arg0 to arg5)" },
	{ "read arg10 == 1 # x",
	    F ":1: arg10: no such argument (arg0 to arg5)" },
	{ "read arg0 = 1 # x", F ":1: bad operator '=' after arg0 (want == != "
	    "< <= > >= or &)" },
	{ "read arg0 => 1 # x", F ":1: bad operator '=>' after arg0 (want == "
	    "!= < <= > >= or &)" },
	{ "read arg0 && 1 # x", F ":1: bad operator '&&' after arg0 (want == "
	    "!= < <= > >= or &)" },
	{ "read arg0 == 1x # x", F ":1: bad value '1x'" },
	{ "read arg0 == 0x # x", F ":1: bad value '0x'" },
	{ "read arg0 == 0xfg # x", F ":1: bad value '0xfg'" },
	{ "read arg0 == -1 # x", F ":1: unexpected character '-'" },
	{ "read arg0 == (1) # x", F ":1: unexpected character '('" },
	{ "read arg0 == \xc3\xa9 # x", F ":1: unexpected byte 0xc3" },
	{ "read arg0 == 0x10000000000000000 # x",
	    F ":1: value '0x10000000000000000' does not fit in 64 bits" },
	{ "read arg0 == 18446744073709551616 # x",
	    F ":1: value '18446744073709551616' does not fit in 64 bits" },
	{ "read arg0 == # x", F ":1: expected a value after '=='" },
	{ "read arg0 == 1 | # x", F ":1: expected a value after '|'" },
	{ "read arg0 == | 1 # x", F ":1: expected a value after '=='" },
	{ "read arg0 # x", F ":1: expected an operator after arg0" },
	{ "read foo == 1 # x", F ":1: expected argN, got 'foo'" },
	{ "read arg == 1 # x", F ":1: expected argN, got 'arg'" },
	{ "read arg0 == 1 && # x", F ":1: expected argN after '&&'" },
	{ "read arg0 == 1 arg1 == 2 # x",
	    F ":1: expected '&&' or '#' after a condition, got 'arg1'" },
	{ "== # x", F ":1: expected a syscall name, got '=='" },
	{ "read arg0 == 1 && arg0 == 2 # x", F ":1: arg0 twice in one rule" },
	{ "read arg2 & 1 == 1 && arg2 > 0 # x", F ":1: arg2 twice in one rule" },
	{ "read arg0 == 0 && arg1 == 0 && arg2 == 0 && arg3 == 0 && arg4 == 0 "
	    "&& arg5 == 0 && arg0 == 1 # x", F ":1: more than 6 conditions" },
	{ "read arg0 & 0 == 0 # x", F ":1: arg0 & 0 tests nothing" },
	{ "read arg0 & 4 == 5 # x", F ":1: arg0 & 0x4 can never be 0x5" },
	{ "read arg0 & 4 != 0 # x",
	    F ":1: expected '==' after 'arg0 & MASK'" },
	/* duplicates and conflicts */
	{ "read # a\nread # b", F ":2: duplicate of line 1" },
	{ "write arg0 == 1 # a\nwrite arg0 == 0x1 # b",
	    F ":2: duplicate of line 1" },
	{ "mmap arg2 == 1 && arg3 == 2 # a\nmmap arg3 == 2 && arg2 == 1 # b",
	    F ":2: duplicate of line 1" },
	{ "mmap arg2 & PROT_EXEC == 0 # a\n\n# c\nmmap arg2 & 4 == 0 # b",
	    F ":4: duplicate of line 1" },
	{ "write # a\nwrite arg0 == 1 # b", F ":2: conflicts with line 1 (an "
	    "unconditional rule allows every call)" },
	{ "write arg0 == 1 # a\nread # r\nwrite # b", F ":3: conflicts with "
	    "line 1 (an unconditional rule allows every call)" },
	/* comments */
	{ "read", F ":1: rule without a comment (say why after '#')" },
	{ "# fine\nread arg0 == 1", F ":2: rule without a comment (say why "
	    "after '#')" },
	{ "read #   \t", F ":1: empty comment (say why after '#')" },
	{ "read #", F ":1: empty comment (say why after '#')" },
	/* ioctl */
	{ "ioctl # x", F ":1: ioctl must be filtered by arg1" },
	{ "ioctl arg0 == 3 # x", F ":1: ioctl must be filtered by arg1" },
	{ "ioctl arg1 != 3 # x", F ":1: ioctl must be filtered by arg1" },
	{ "ioctl arg1 >= 0 # x", F ":1: ioctl must be filtered by arg1" },
	/* lines */
	{ "read # ok\r\nfoo # x\r\n", F ":2: unknown syscall 'foo'" },
	{ "\n\n  \t\n# c\n\tread # ok\nnope # x", F ":6: unknown syscall 'nope'" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " # x", F ":1: unknown syscall 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa'" },
};

static long
resolve(const char *name)
{
	return sandbox_syscall_nr(name);
}

static int
parse(struct policy *p, const char *text, size_t len, char *msg)
{
	memset(p, 0, sizeof(*p));
	return policy_parse(p, F, text, len, resolve, msg, POLICY_MSG_MAX);
}

static void
test_bad(void **state)
{
	char msg[POLICY_MSG_MAX];
	struct policy p;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(msg, 'X', sizeof(msg));
		rc = parse(&p, bad[i].text, strlen(bad[i].text), msg);
		if (rc != -EINVAL || strcmp(msg, bad[i].msg) != 0)
			fail_msg("case %zu (%s): rc %d, msg \"%.200s\", want "
			    "\"%s\"", i, bad[i].text, rc, rc ? msg : "",
			    bad[i].msg);
		policy_free(&p);
	}
}

static void
test_long_line(void **state)
{
	char text[POLICY_LINE_MAX + 64], msg[POLICY_MSG_MAX];
	struct policy p;

	(void)state;
	/* exactly POLICY_LINE_MAX bytes: fine */
	memset(text, ' ', sizeof(text));
	memcpy(text, "read # ", 7);
	memset(text + 7, 'c', POLICY_LINE_MAX - 7);
	assert_int_equal(parse(&p, text, POLICY_LINE_MAX, msg), 0);
	assert_int_equal(p.nrules, 1);
	policy_free(&p);
	/* one more: rejected, on its line */
	text[POLICY_LINE_MAX] = 'c';
	memmove(text + 5, text, POLICY_LINE_MAX + 1);
	memcpy(text, "# x\n\n", 5);
	assert_int_equal(parse(&p, text, POLICY_LINE_MAX + 6, msg), -EINVAL);
	assert_string_equal(msg, F ":3: line longer than 1024 bytes");
	policy_free(&p);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "read # r\nwrite # a\0b\n";
	char msg[POLICY_MSG_MAX];
	struct policy p;

	(void)state;
	assert_int_equal(parse(&p, text, sizeof(text) - 1, msg), -EINVAL);
	assert_string_equal(msg, F ":2: NUL byte");
	policy_free(&p);
}

static void
test_too_many_rules(void **state)
{
	char *text, msg[POLICY_MSG_MAX];
	struct policy p;
	size_t n = 0, i;

	(void)state;
	text = malloc((POLICY_MAX_RULES + 1) * 64);
	assert_non_null(text);
	for (i = 0; i <= POLICY_MAX_RULES; i++)
		n += (size_t)sprintf(text + n, "write arg0 == %zu # fd\n", i);
	assert_int_equal(parse(&p, text, n, msg), -EINVAL);
	assert_string_equal(msg, F ":1025: more than 1024 rules");
	assert_int_equal(p.nrules, POLICY_MAX_RULES);
	assert_int_equal(policy_nsyscalls(&p), 1);
	policy_free(&p);
	free(text);
}

struct cond_want {
	unsigned arg;
	enum policy_op op;
	uint64_t mask, value;
};

struct good_case {
	const char *text;
	unsigned nrules, nsyscalls;
	const char *name;               /* of the last rule */
	unsigned line;                  /* of the last rule */
	unsigned ncond;                 /* of the last rule */
	struct cond_want cond[POLICY_MAX_ARGS];
};

static const struct good_case good[] = {
	{ "", 0, 0, NULL, 0, 0, { { 0 } } },
	{ "\n# only comments\n   # indented\n\t\n", 0, 0, NULL, 0, 0, { { 0 } } },
	{ "futex   # pthread mutexes", 1, 1, "futex", 1, 0, { { 0 } } },
	{ "futex#no blank before the comment", 1, 1, "futex", 1, 0, { { 0 } } },
	{ "# c\n\nread # r\nexit_group # bye", 2, 2, "exit_group", 4, 0,
	    { { 0 } } },
	/* ORed rules: one syscall, several argument sets */
	{ "ioctl arg1 == KVM_RUN # run\nioctl arg1 == KVM_GET_REGS # regs\n",
	    2, 1, "ioctl", 2, 1, { { 1, POLICY_EQ, 0, KVM_GET_REGS } } },
	{ "write arg0 == 1 # out\nwrite arg0 == 2 # err\nread # in", 3, 2,
	    "read", 3, 0, { { 0 } } },
	/* symbols and ORed values */
	{ "mmap arg2 == PROT_READ | PROT_WRITE # rw", 1, 1, "mmap", 1, 1,
	    { { 2, POLICY_EQ, 0, PROT_READ | PROT_WRITE } } },
	{ "openat arg2 == O_RDWR|O_CLOEXEC|0x10 # x", 1, 1, "openat", 1, 1,
	    { { 2, POLICY_EQ, 0, O_RDWR | O_CLOEXEC | 0x10 } } },
	{ "futex arg1 == FUTEX_WAIT_PRIVATE # x", 1, 1, "futex", 1, 1,
	    { { 1, POLICY_EQ, 0, 128 } } },
	{ "kill arg1 == SIGKILL # x", 1, 1, "kill", 1, 1,
	    { { 1, POLICY_EQ, 0, 9 } } },
	/* numbers */
	{ "write arg0==0x2#x", 1, 1, "write", 1, 1, { { 0, POLICY_EQ, 0, 2 } } },
	{ "write arg0 == 0XfF # x", 1, 1, "write", 1, 1,
	    { { 0, POLICY_EQ, 0, 255 } } },
	{ "write arg0 == 010 # decimal", 1, 1, "write", 1, 1,
	    { { 0, POLICY_EQ, 0, 10 } } },
	{ "write arg0 == 0xffffffffffffffff # x", 1, 1, "write", 1, 1,
	    { { 0, POLICY_EQ, 0, UINT64_MAX } } },
	{ "write arg0 == 18446744073709551615 # x", 1, 1, "write", 1, 1,
	    { { 0, POLICY_EQ, 0, UINT64_MAX } } },
	/* every operator; conditions come back sorted by argument */
	{ "mmap arg3 != 1 && arg2 < 7 && arg5 >= 0x1000 && arg1 <= 4096 && "
	    "arg0 > 0 && arg4 & 0xff00 == 0x0100 # x", 1, 1, "mmap", 1, 6,
	    { { 0, POLICY_GT, 0, 0 }, { 1, POLICY_LE, 0, 4096 },
	    { 2, POLICY_LT, 0, 7 }, { 3, POLICY_NE, 0, 1 },
	    { 4, POLICY_MASKED_EQ, 0xff00, 0x100 },
	    { 5, POLICY_GE, 0, 0x1000 } } },
	{ "mmap arg2 & PROT_EXEC == 0 # never executable", 1, 1, "mmap", 1, 1,
	    { { 2, POLICY_MASKED_EQ, PROT_EXEC, 0 } } },
	{ "ioctl arg1 & 0xff00 == 0xae00 # every KVM ioctl", 1, 1, "ioctl", 1, 1,
	    { { 1, POLICY_MASKED_EQ, 0xff00, 0xae00 } } },
	/* different conditions on one syscall are not duplicates */
	{ "write arg0 == 1 # a\nwrite arg0 == 1 && arg2 < 9 # b", 2, 1,
	    "write", 2, 2, { { 0, POLICY_EQ, 0, 1 }, { 2, POLICY_LT, 0, 9 } } },
	{ "write arg0 == 1 # a\nwrite arg0 != 1 # b", 2, 1, "write", 2, 1,
	    { { 0, POLICY_NE, 0, 1 } } },
	/* CRLF and a missing final newline */
	{ "read # r\r\nwrite arg0 == 2 # e\r\n", 2, 2, "write", 2, 1,
	    { { 0, POLICY_EQ, 0, 2 } } },
};

static void
check_good(size_t i, const struct good_case *c, const struct policy *p)
{
	const struct policy_rule *r;
	unsigned j;

	assert_int_equal(p->nrules, c->nrules);
	assert_int_equal(policy_nsyscalls(p), c->nsyscalls);
	if (c->nrules == 0)
		return;
	r = &p->rules[p->nrules - 1];
	assert_string_equal(r->name, c->name);
	assert_int_equal(r->nr, sandbox_syscall_nr(c->name));
	assert_int_equal(r->line, c->line);
	if (r->ncond != c->ncond)
		fail_msg("case %zu: %u conditions, want %u", i, r->ncond,
		    c->ncond);
	for (j = 0; j < r->ncond; j++) {
		assert_int_equal(r->cond[j].arg, c->cond[j].arg);
		assert_int_equal(r->cond[j].op, c->cond[j].op);
		assert_int_equal(r->cond[j].mask, c->cond[j].mask);
		assert_int_equal(r->cond[j].value, c->cond[j].value);
	}
}

static void
test_good(void **state)
{
	char msg[POLICY_MSG_MAX];
	struct policy p;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = parse(&p, good[i].text, strlen(good[i].text), msg);
		if (rc != 0)
			fail_msg("case %zu (%s): %s", i, good[i].text, msg);
		check_good(i, &good[i], &p);
		policy_free(&p);
	}
}

/* The text need not be NUL-terminated: only len bytes are read. */
static void
test_len_bounds(void **state)
{
	static const char text[] = "read # r\nfoo # x";
	char msg[POLICY_MSG_MAX];
	struct policy p;

	(void)state;
	assert_int_equal(parse(&p, text, 9, msg), 0);
	assert_int_equal(p.nrules, 1);
	policy_free(&p);
	assert_int_equal(parse(&p, text, sizeof(text) - 1, msg), -EINVAL);
	assert_int_equal(p.nrules, 1);  /* what parsed before the error */
	policy_free(&p);
}

static void
test_symbols(void **state)
{
	static const struct {
		const char *name;
		uint64_t value;
	} want[] = {
		{ "KVM_RUN", KVM_RUN }, { "KVM_CREATE_VM", KVM_CREATE_VM },
		{ "KVM_IRQFD", KVM_IRQFD }, { "KVM_SET_CPUID2", KVM_SET_CPUID2 },
		{ "PROT_EXEC", PROT_EXEC }, { "MAP_SHARED", MAP_SHARED },
		{ "O_CLOEXEC", O_CLOEXEC }, { "F_SETFL", F_SETFL },
		{ "FD_CLOEXEC", FD_CLOEXEC }, { "SIGSYS", SIGSYS },
		{ "FUTEX_PRIVATE_FLAG", 128 }, { "AF_UNIX", 1 },
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(policy_symbol(want[i].name, &v), 0);
		assert_int_equal(v, want[i].value);
	}
	assert_int_equal(policy_symbol("KVM_NOPE", &v), -1);
	assert_int_equal(policy_symbol("", &v), -1);
	assert_int_equal(policy_symbol("kvm_run", &v), -1);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(sandbox_syscall_nr("read"), SYS_read);
	assert_int_equal(sandbox_syscall_nr("ioctl"), SYS_ioctl);
	assert_int_equal(sandbox_syscall_nr("socketcall"), -1);
	assert_int_equal(sandbox_syscall_nr("nope"), -1);
	assert_string_equal(sandbox_syscall_name(SYS_openat), "openat");
	assert_string_equal(sandbox_syscall_name(-1), "?");
	assert_string_equal(sandbox_syscall_name(100000), "?");
}

static void
test_op_names(void **state)
{
	(void)state;
	assert_string_equal(policy_op_name(POLICY_EQ), "==");
	assert_string_equal(policy_op_name(POLICY_GE), ">=");
	assert_string_equal(policy_op_name(POLICY_MASKED_EQ), "&");
}

static void
test_file_errors(void **state)
{
	char msg[POLICY_MSG_MAX];
	struct policy p = { 0 };

	(void)state;
	assert_int_equal(policy_parse_file(&p, "/nonexistent/x.policy",
	    resolve, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "/nonexistent/x.policy: No such file or "
	    "directory");
	policy_free(&p);
}

/* Each profile of the build, and each role the binaries link, parses. */
static void
test_real_profiles(void **state)
{
	static const char *const roles[] = { "vmm", "vcpu", "blk", "net", "supervisor" };
	char msg[POLICY_MSG_MAX], path[512];
	struct policy p = { 0 };
	glob_t g;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.policy", PROFILES_DIR,
		    roles[i]);
		if (policy_parse_file(&p, path, resolve, msg, sizeof(msg)) < 0)
			fail_msg("%s", msg);
		assert_true(p.nrules > 0);
		policy_free(&p);
	}
	assert_int_equal(glob(PROFILES_DIR "/*.policy", 0, NULL, &g), 0);
	assert_int_equal(glob("tests/unit/*.policy", GLOB_APPEND, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		if (policy_parse_file(&p, g.gl_pathv[i], resolve, msg,
		    sizeof(msg)) < 0)
			fail_msg("%s", msg);
		policy_free(&p);
	}
	globfree(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_too_many_rules),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_len_bounds),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_op_names),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_real_profiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
