/*
 * build/seccomp-compile: the build-time seccomp profile compiler (a host
 * tool; the runtime binaries never link libseccomp).
 *
 *   seccomp-compile --out FILE.c [--role NAME] PROFILE
 *       parse PROFILE (policy.h) and emit C defining
 *       `const struct sandbox_prog sandbox_prog_NAME` (sandbox.h): the kill
 *       and the trap BPF programs, exported by libseccomp. NAME defaults to
 *       PROFILE's basename without ".policy".
 *   seccomp-compile --names FILE.c
 *       emit sandbox_syscall_name() and sandbox_syscall_nr() for this
 *       architecture, from libseccomp's syscall table.
 *   seccomp-compile --report PROFILE...
 *       per profile: the distinct syscalls allowed (count and sorted list),
 *       the ioctl rules and the size of both programs.
 *
 * Errors ("FILE:LINE: message" for the profile) go to stderr, exit 1.
 */
#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

#define PROG "seccomp-compile"
#define MAX_SYSCALL_NR 1024     /* the name table covers 0..MAX-1 */

/* Compiled programs of one profile. */
struct compiled {
	struct sock_filter *kill, *trap;
	size_t kill_len, trap_len;
};

static long
resolve(const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);

	return nr < 0 ? -1 : nr;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
load(struct policy *p, const char *path)
{
	char msg[POLICY_MSG_MAX];

	if (policy_parse_file(p, path, resolve, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "%s\n", msg);
		exit(1);
	}
}

static void
to_cmp(const struct policy_cond *c, struct scmp_arg_cmp *cmp)
{
	static const enum scmp_compare ops[] = {
		[POLICY_EQ] = SCMP_CMP_EQ, [POLICY_NE] = SCMP_CMP_NE,
		[POLICY_LT] = SCMP_CMP_LT, [POLICY_LE] = SCMP_CMP_LE,
		[POLICY_GT] = SCMP_CMP_GT, [POLICY_GE] = SCMP_CMP_GE,
		[POLICY_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
	};

	cmp->arg = c->arg;
	cmp->op = ops[c->op];
	if (c->op == POLICY_MASKED_EQ) {
		cmp->datum_a = c->mask;
		cmp->datum_b = c->value;
	} else {
		cmp->datum_a = c->value;
		cmp->datum_b = 0;
	}
}

static void
add_rule(scmp_filter_ctx ctx, const char *file, const struct policy_rule *r)
{
	struct scmp_arg_cmp cmp[POLICY_MAX_ARGS];
	unsigned i;
	int rc;

	for (i = 0; i < r->ncond; i++)
		to_cmp(&r->cond[i], &cmp[i]);
	rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, (int)r->nr,
	    r->ncond, cmp);
	if (rc < 0)
		die("%s:%u: libseccomp rejects the rule: %s", file, r->line,
		    strerror(-rc));
}

/* Does p already allow write(2, ...) on its own? */
static bool
allows_stderr(const struct policy *p)
{
	const struct policy_rule *r;
	unsigned i;

	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		if (strcmp(r->name, "write") != 0)
			continue;
		if (r->ncond == 0 || (r->ncond == 1 && r->cond[0].arg == 0 &&
		    r->cond[0].op == POLICY_EQ && r->cond[0].value == 2))
			return true;
	}
	return false;
}

/* The trap variant also lets the SIGSYS handler write its line to fd 2
 * and return. */
static void
add_trap_extras(scmp_filter_ctx ctx, const struct policy *p)
{
	int rc = 0;

	if (policy_count(p, "rt_sigreturn") == 0)
		rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(rt_sigreturn), 0);
	if (rc == 0 && !allows_stderr(p))
		rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write),
		    1, SCMP_A0(SCMP_CMP_EQ, 2));
	if (rc < 0)
		die("trap variant: %s", strerror(-rc));
}

static struct sock_filter *
export(scmp_filter_ctx ctx, size_t *len)
{
	struct sock_filter *prog;
	FILE *f = tmpfile();
	long size;
	int rc;

	if (f == NULL)
		die("tmpfile: %s", strerror(errno));
	if ((rc = seccomp_export_bpf(ctx, fileno(f))) < 0)
		die("seccomp_export_bpf: %s", strerror(-rc));
	size = lseek(fileno(f), 0, SEEK_END);
	if (size <= 0 || size % sizeof(*prog) != 0 ||
	    size / sizeof(*prog) > BPF_MAXINSNS)
		die("seccomp_export_bpf: a program of %ld bytes", size);
	prog = malloc((size_t)size);
	if (prog == NULL ||
	    pread(fileno(f), prog, (size_t)size, 0) != size)
		die("reading the exported program: %s", strerror(errno));
	fclose(f);
	*len = (size_t)size / sizeof(*prog);
	return prog;
}

static struct sock_filter *
compile(const struct policy *p, const char *file, bool trap, size_t *len)
{
	struct sock_filter *prog;
	scmp_filter_ctx ctx;
	unsigned i;
	int rc;

	ctx = seccomp_init(trap ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		die("seccomp_init failed");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		die("SCMP_FLTATR_ACT_BADARCH: %s", strerror(-rc));
	for (i = 0; i < p->nrules; i++)
		add_rule(ctx, file, &p->rules[i]);
	if (trap)
		add_trap_extras(ctx, p);
	prog = export(ctx, len);
	seccomp_release(ctx);
	return prog;
}

static void
compile_both(const struct policy *p, const char *file, struct compiled *c)
{
	c->kill = compile(p, file, false, &c->kill_len);
	c->trap = compile(p, file, true, &c->trap_len);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct syscall names of p, sorted; returns how many. */
static unsigned
sorted_names(const struct policy *p, const char **names)
{
	unsigned i, j, n = 0;

	for (i = 0; i < p->nrules; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(names[j], p->rules[i].name) == 0)
				break;
		if (j == n)
			names[n++] = p->rules[i].name;
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	return n;
}

static void
emit_prog(FILE *f, const char *var, const struct sock_filter *prog,
    size_t len)
{
	size_t i;

	fprintf(f, "static const struct sock_filter %s[%zu] = {\n", var, len);
	for (i = 0; i < len; i++)
		fprintf(f, "\t{ 0x%04x, %u, %u, 0x%08x },\n", prog[i].code,
		    prog[i].jt, prog[i].jf, prog[i].k);
	fprintf(f, "};\n\n");
}

static void
emit_rule(FILE *f, const struct policy_rule *r)
{
	const struct policy_cond *c;
	unsigned i;

	fprintf(f, " *   %s", r->name);
	for (i = 0; i < r->ncond; i++) {
		c = &r->cond[i];
		fprintf(f, "%s arg%u", i ? " &&" : "", c->arg);
		if (c->op == POLICY_MASKED_EQ)
			fprintf(f, " & 0x%llx ==", (unsigned long long)c->mask);
		else
			fprintf(f, " %s", policy_op_name(c->op));
		fprintf(f, " 0x%llx", (unsigned long long)c->value);
	}
	fprintf(f, "\n");
}

static void
emit_profile(FILE *f, const char *src, const char *role,
    const struct policy *p, const struct compiled *c)
{
	char var[128];
	unsigned i;

	fprintf(f, "/*\n * Generated by " PROG " from %s: do not edit.\n"
	    " * The seccomp profile `%s`: %u syscalls in %u rules\n"
	    " * (libseccomp %u.%u.%u; symbols resolved):\n", src, role,
	    policy_nsyscalls(p), p->nrules, SCMP_VER_MAJOR, SCMP_VER_MINOR,
	    SCMP_VER_MICRO);
	for (i = 0; i < p->nrules; i++)
		emit_rule(f, &p->rules[i]);
	fprintf(f, " */\n#include \"sandbox.h\"\n\n");
	snprintf(var, sizeof(var), "sandbox_%s_kill", role);
	emit_prog(f, var, c->kill, c->kill_len);
	snprintf(var, sizeof(var), "sandbox_%s_trap", role);
	emit_prog(f, var, c->trap, c->trap_len);
	fprintf(f, "const struct sandbox_prog sandbox_prog_%s = {\n"
	    "\t.name = \"%s\",\n"
	    "\t.kill = sandbox_%s_kill,\n\t.kill_len = %zu,\n"
	    "\t.trap = sandbox_%s_trap,\n\t.trap_len = %zu,\n"
	    "\t.nsyscalls = %u,\n};\n", role, role, role, c->kill_len, role,
	    c->trap_len, policy_nsyscalls(p));
}

/* Write through out.tmp and rename, so a failed run leaves no half file
 * for make to trust. */
static FILE *
out_open(const char *out, char *tmp, size_t tmp_size)
{
	FILE *f;

	snprintf(tmp, tmp_size, "%s.tmp", out);
	if ((f = fopen(tmp, "w")) == NULL)
		die("%s: %s", tmp, strerror(errno));
	return f;
}

static void
out_close(FILE *f, const char *tmp, const char *out)
{
	if (ferror(f) || fclose(f) != 0)
		die("%s: write error", tmp);
	if (rename(tmp, out) < 0)
		die("%s: %s", out, strerror(errno));
}

/* "seccomp-profiles/blk.policy" -> "blk" */
static void
role_of(const char *path, char *role, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strcspn(base, ".");
	snprintf(role, size, "%.*s", (int)n, base);
}

static void
check_role(const char *role)
{
	const char *s;

	if (*role == '\0' || strlen(role) > 32)
		die("role '%s': 1 to 32 characters", role);
	for (s = role; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			die("role '%s': only a-z, 0-9 and _", role);
}

static void
cmd_out(const char *out, const char *role_opt, const char *src)
{
	struct policy p = { 0 };
	struct compiled c;
	char role[64], tmp[4096];
	FILE *f;

	if (role_opt)
		snprintf(role, sizeof(role), "%s", role_opt);
	else
		role_of(src, role, sizeof(role));
	check_role(role);
	load(&p, src);
	compile_both(&p, src, &c);
	f = out_open(out, tmp, sizeof(tmp));
	emit_profile(f, src, role, &p, &c);
	out_close(f, tmp, out);
	free(c.kill);
	free(c.trap);
	policy_free(&p);
}

static void
cmd_names(const char *out)
{
	char tmp[4096], *name;
	FILE *f;
	int nr;

	f = out_open(out, tmp, sizeof(tmp));
	fprintf(f, "/* Generated by " PROG " from libseccomp %u.%u.%u's "
	    "syscall table: do not edit. */\n#include <string.h>\n\n"
	    "#include \"sandbox.h\"\n\n"
	    "static const char *const sandbox_syscall_names[%d] = {\n",
	    SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO, MAX_SYSCALL_NR);
	for (nr = 0; nr < MAX_SYSCALL_NR; nr++) {
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name != NULL)
			fprintf(f, "\t[%d] = \"%s\",\n", nr, name);
		free(name);
	}
	fprintf(f, "};\n\n"
	    "const char *\nsandbox_syscall_name(long nr)\n{\n"
	    "\tif (nr < 0 || nr >= %d || sandbox_syscall_names[nr] == NULL)\n"
	    "\t\treturn \"?\";\n\treturn sandbox_syscall_names[nr];\n}\n\n"
	    "long\nsandbox_syscall_nr(const char *name)\n{\n\tlong nr;\n\n"
	    "\tfor (nr = 0; nr < %d; nr++)\n"
	    "\t\tif (sandbox_syscall_names[nr] != NULL &&\n"
	    "\t\t    strcmp(sandbox_syscall_names[nr], name) == 0)\n"
	    "\t\t\treturn nr;\n\treturn -1;\n}\n",
	    MAX_SYSCALL_NR, MAX_SYSCALL_NR);
	out_close(f, tmp, out);
}

/* The size targets of the design, shown in the report (not enforced). */
static unsigned
target_of(const char *role)
{
	if (strcmp(role, "blk") == 0)
		return 30;
	if (strcmp(role, "vmm") == 0 || strcmp(role, "vcpu") == 0)
		return 45;
	return 0;
}

static void
report_one(const char *src)
{
	const char *names[POLICY_MAX_RULES];
	struct policy p = { 0 };
	struct compiled c;
	unsigned i, n, target;
	char role[64];

	role_of(src, role, sizeof(role));
	load(&p, src);
	compile_both(&p, src, &c);
	n = sorted_names(&p, names);
	target = target_of(role);
	printf("%s (%s): %u syscalls allowed", role, src, n);
	if (target)
		printf(" (target < %u%s)", target, n < target ? "" :
		    ": OVER");
	printf("\n ");
	for (i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n  ioctl rules: %u\n", policy_count(&p, "ioctl"));
	printf("  ioctl: every rule argument-filtered\n");
	printf("  BPF: %zu instructions (kill), %zu (trap, --seccomp-log)\n",
	    c.kill_len, c.trap_len);
	free(c.kill);
	free(c.trap);
	policy_free(&p);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: " PROG " --out FILE.c [--role NAME] PROFILE\n"
	    "       " PROG " --names FILE.c\n"
	    "       " PROG " --report PROFILE...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int i;

	if (argc >= 3 && strcmp(argv[1], "--names") == 0 && argc == 3) {
		cmd_names(argv[2]);
	} else if (argc >= 3 && strcmp(argv[1], "--report") == 0) {
		for (i = 2; i < argc; i++)
			report_one(argv[i]);
	} else if (argc == 4 && strcmp(argv[1], "--out") == 0) {
		cmd_out(argv[2], NULL, argv[3]);
	} else if (argc == 6 && strcmp(argv[1], "--out") == 0 &&
	    strcmp(argv[3], "--role") == 0) {
		cmd_out(argv[2], argv[4], argv[5]);
	} else {
		usage();
	}
	return 0;
}
