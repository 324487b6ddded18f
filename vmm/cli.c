/*
 * The command-line parser: argv -> struct vmm_config. Each option's
 * argument is a comma-separated list of key=value items; the option table
 * below says which keys each option takes and which are required, and one
 * setter per key checks and stores the value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "cli_internal.h"
#include "sandbox.h"
#include "guest_layout_x86_64.h"

#define CLI_NUM_MAX 64    /* longest number accepted, in characters */

typedef int (*cli_setter)(struct cli_state *st, const struct cli_kv *kv);

struct cli_key {
	const char *name;
	cli_setter set;
	int required;
};

#define CLI_KEYS_MAX 5

struct cli_opt {
	const char *name;                 /* with the leading "--" */
	int supported;                    /* 0: refused in this build */
	struct cli_key keys[CLI_KEYS_MAX]; /* ends at name == NULL */
	int repeatable;                   /* may be given more than once */
	int noarg;                        /* a flag: takes no argument */
	/* instead of keys: one bare value (`--jail-id N`), stored by this */
	int (*value)(struct cli_state *st, const char *arg);
	/* called before the argument is parsed (noarg: instead of it) */
	int (*begin)(struct cli_state *st);
	/* called after the argument was parsed, to check key combinations */
	int (*finish)(struct cli_state *st);
};

const char *
cli_show(char *buf, const char *s, size_t len)
{
	size_t i, n = len > CLI_SHOW_MAX ? CLI_SHOW_MAX : len;

	for (i = 0; i < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	strcpy(buf + n, len > n ? "..." : "");
	return buf;
}

/*
 * Parse a decimal or 0x-hex unsigned number occupying all of [s, s+len).
 * Returns 0, or -EINVAL (bad syntax) / -ERANGE (does not fit in 64 bits).
 */
static int
cli_number(const char *s, size_t len, uint64_t *out)
{
	char buf[CLI_NUM_MAX + 1], *end;
	int base = 10, skip = 0;
	unsigned long long v;

	if (len == 0 || len > CLI_NUM_MAX)
		return len ? -ERANGE : -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
		base = 16;
		skip = 2;
	}
	if (!(base == 16 ? strchr("0123456789abcdefABCDEF", buf[skip])
	    : strchr("0123456789", buf[skip])) || buf[skip] == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoull(buf + skip, &end, base);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

/* cli_number() for key kv, with the error message on failure. */
static int
cli_kv_number(struct cli_state *st, const struct cli_kv *kv, uint64_t *out)
{
	char k[CLI_SHOW_MAX + 4], v[CLI_SHOW_MAX + 4];
	int r = cli_number(kv->val, kv->vlen, out);

	if (r == 0)
		return 0;
	return err_set(st->e, -EINVAL, "%s: %s=%s: %s", st->opt,
	    cli_show(k, kv->key, kv->klen), cli_show(v, kv->val, kv->vlen),
	    r == -ERANGE ? "number out of range"
	    : "not a number (decimal or 0x-hex, no sign)");
}

/* Is s[i] a backslash escaping the next byte of a quoted value? */
static int
cli_is_escape(const char *s, size_t i)
{
	return s[i] == '\\' && (s[i + 1] == '"' || s[i + 1] == '\\');
}

/*
 * Decode kv's value (quoted values: \" -> ", \\ -> \) into dst (when not
 * NULL, NUL-terminated; the caller checked the size); returns its length.
 */
static size_t
cli_value(const struct cli_kv *kv, char *dst)
{
	size_t i, n = 0;

	for (i = 0; i < kv->vlen; i++, n++) {
		if (kv->quoted && cli_is_escape(kv->val, i))
			i++;
		if (dst != NULL)
			dst[n] = kv->val[i];
	}
	if (dst != NULL)
		dst[n] = '\0';
	return n;
}

int
cli_kv_string(struct cli_state *st, const struct cli_kv *kv, const char *key,
    char *buf, size_t size)
{
	size_t n = cli_value(kv, NULL);

	if (n >= size)
		return err_set(st->e, -EINVAL,
		    "%s: %s= is %zu bytes, longer than the %zu-byte limit",
		    st->opt, key, n, size - 1);
	cli_value(kv, buf);
	return 0;
}

/* Copy a path value into buf (CLI_PATH_MAX bytes). */
static int
cli_kv_path(struct cli_state *st, const struct cli_kv *kv, char *buf,
    const char **out)
{
	int r = cli_kv_string(st, kv, "path", buf, CLI_PATH_MAX);

	if (r == 0)
		*out = buf;
	return r;
}

static int
cli_set_kernel_path(struct cli_state *st, const struct cli_kv *kv)
{
	return cli_kv_path(st, kv, st->cfg->kernel_path_buf,
	    &st->cfg->kernel_path);
}

static int
cli_set_initramfs_path(struct cli_state *st, const struct cli_kv *kv)
{
	return cli_kv_path(st, kv, st->cfg->initramfs_path_buf,
	    &st->cfg->initramfs_path);
}

static int
cli_set_cmdline(struct cli_state *st, const struct cli_kv *kv)
{
	return cli_kv_string(st, kv, "cmdline", st->cfg->cmdline,
	    sizeof(st->cfg->cmdline));
}

static int
cli_set_load_addr(struct cli_state *st, const struct cli_kv *kv)
{
	uint64_t a;
	int r = cli_kv_number(st, kv, &a);

	if (r < 0)
		return r;
	if (a < HIMEM_START)
		return err_set(st->e, -EINVAL, "%s: kernel_load_addr=%#llx: "
		    "below %#llx (the first MiB holds boot structures)",
		    st->opt, (unsigned long long)a, HIMEM_START);
	if (a >= MMIO_HOLE_END)
		return err_set(st->e, -EINVAL, "%s: kernel_load_addr=%#llx: "
		    "not below 4 GiB", st->opt, (unsigned long long)a);
	if (a & 0xfff)
		return err_set(st->e, -EINVAL, "%s: kernel_load_addr=%#llx: "
		    "not 4 KiB aligned", st->opt, (unsigned long long)a);
	st->cfg->kernel_load_addr = a;
	return 0;
}

static int
cli_set_size_mib(struct cli_state *st, const struct cli_kv *kv)
{
	uint64_t n, bytes;
	int r = cli_kv_number(st, kv, &n);

	if (r < 0)
		return r;
	if (n == 0)
		return err_set(st->e, -EINVAL, "%s: size_mib=0: guest memory "
		    "must be at least 1 MiB", st->opt);
	if (n > CLI_MAX_MEMORY_MIB ||
	    __builtin_mul_overflow(n, 1ull << 20, &bytes))
		return err_set(st->e, -EINVAL, "%s: size_mib=%llu: above the "
		    "limit of %llu MiB", st->opt, (unsigned long long)n,
		    CLI_MAX_MEMORY_MIB);
	st->cfg->memory_mib = n;
	return 0;
}

unsigned
cli_max_vcpus(void)
{
	unsigned n = boot_mptable_max_cpus();

	return n < CLI_MAX_VCPUS ? n : CLI_MAX_VCPUS;
}

static int
cli_set_num(struct cli_state *st, const struct cli_kv *kv)
{
	uint64_t n;
	int r = cli_kv_number(st, kv, &n);

	if (r < 0)
		return r;
	if (n == 0)
		return err_set(st->e, -EINVAL,
		    "%s: num=0: need at least 1 vCPU", st->opt);
	if (n > cli_max_vcpus())
		return err_set(st->e, -EINVAL, "%s: num=%llu: above the limit "
		    "of %u vCPUs (MP table below 0xa0000, xAPIC ids)", st->opt,
		    (unsigned long long)n, cli_max_vcpus());
	if (st->max_vcpus != 0 && n > st->max_vcpus)
		return err_set(st->e, -EINVAL, "%s: num=%llu: above KVM's "
		    "limit of %u vCPUs (KVM_CAP_MAX_VCPUS)", st->opt,
		    (unsigned long long)n, st->max_vcpus);
	st->cfg->vcpus = (unsigned)n;
	return 0;
}

static int
cli_set_stats(struct cli_state *st)
{
	st->cfg->stats = 1;
	return 0;
}

static int
cli_set_seccomp_log(struct cli_state *st)
{
	st->cfg->seccomp_log = 1;
	return 0;
}

static int
cli_set_jail_id(struct cli_state *st, const char *arg)
{
	char v[CLI_SHOW_MAX + 4];
	uint64_t n;
	int r = cli_number(arg, strlen(arg), &n);

	if (r < 0 || n == 0 || n > CLI_JAIL_ID_MAX)
		return err_set(st->e, -EINVAL, "%s: %s: %s 1..%u (the vmm's uid and "
		    "gid; its devices take the next ones)", st->opt,
		    cli_show(v, arg, strlen(arg)), r == -EINVAL ? "not a number in"
		    : "not in", CLI_JAIL_ID_MAX);
	st->cfg->jail_id = (unsigned)n;
	st->cfg->jail_id_given = 1;
	return 0;
}

int
cli_check_jail(const struct vmm_config *cfg, uid_t euid, struct err *e)
{
	if (cfg->jail_id_given && euid != 0)
		return err_set(e, -EINVAL, "--jail-id: only as root; as uid %u the jail "
		    "keeps uid %u in a user namespace", (unsigned)euid, (unsigned)euid);
	return 0;
}

static const struct cli_opt cli_opts[] = {
	{ .name = "--kernel", .supported = 1, .keys = {
		{ "path", cli_set_kernel_path, 1 },
		{ "cmdline", cli_set_cmdline, 0 },
		{ "kernel_load_addr", cli_set_load_addr, 0 },
	} },
	{ .name = "--memory", .supported = 1,
	  .keys = { { "size_mib", cli_set_size_mib, 1 } } },
	{ .name = "--vcpu", .supported = 1, .keys = { { "num", cli_set_num, 1 } } },
	{ .name = "--initramfs", .supported = 1,
	  .keys = { { "path", cli_set_initramfs_path, 1 } } },
	{ .name = "--block", .supported = 1, .keys = {
		{ "path", cli_set_block_path, 0 },
		{ "socket", cli_set_block_socket, 0 },
		{ "read_only", cli_set_block_ro, 0 },
		{ "id", cli_set_block_id, 0 },
		{ "x-test-forbidden", cli_set_block_forbidden, 0 },  /* hidden */
	  }, .repeatable = 1, .begin = cli_block_begin,
	  .finish = cli_block_finish },
	{ .name = "--stats", .supported = 1, .noarg = 1, .begin = cli_set_stats },
	{ .name = "--jail-id", .supported = 1, .value = cli_set_jail_id },
	{ .name = "--seccomp-log", .supported = 1, .noarg = 1,
	  .begin = cli_set_seccomp_log },
	{ .name = "--net", .supported = 1, .keys = {
		{ "tap", cli_set_net_tap, 0 },
		{ "socket", cli_set_net_socket, 0 },
		{ "mac", cli_set_net_mac, 0 },
		{ "id", cli_set_net_id, 0 },
		{ "x-test-forbidden", cli_set_net_forbidden, 0 },  /* hidden */
	  }, .repeatable = 1, .begin = cli_net_begin,
	  .finish = cli_net_finish },
};
#define CLI_NOPTS (sizeof(cli_opts) / sizeof(cli_opts[0]))

/*
 * Split the item at *sp into kv and advance *sp past it (to the ',' or the
 * end). Quotes: a value that starts with '"' runs to the next '"', which
 * must end the item; any other '"' is an error.
 */
static int
cli_next_item(struct cli_state *st, const char **sp, struct cli_kv *kv)
{
	const char *s = *sp, *v, *close;
	char k[CLI_SHOW_MAX + 4];

	memset(kv, 0, sizeof(*kv));
	kv->key = s;
	kv->klen = strcspn(s, "=,\"");
	if (s[kv->klen] == '"')
		return err_set(st->e, -EINVAL, "%s: unexpected '\"' in key "
		    "'%s' (only a whole value may be quoted)", st->opt,
		    cli_show(k, s, kv->klen + 1));
	if (kv->klen == 0)
		return err_set(st->e, -EINVAL, "%s: empty key in item %s "
		    "(expected key=value[,key=value...])", st->opt,
		    s[0] == '=' ? "'=...'" : "(stray ',')");
	if (s[kv->klen] != '=') {
		*sp = s + kv->klen;
		return 0;
	}
	kv->has_val = 1;
	v = s + kv->klen + 1;
	if (*v == '"') {
		for (close = v + 1; *close != '\0' && *close != '"'; close++)
			if (cli_is_escape(close, 0))
				close++;
		if (*close == '\0')
			return err_set(st->e, -EINVAL, "%s: %s=: unterminated "
			    "quote", st->opt, cli_show(k, kv->key, kv->klen));
		if (close[1] != ',' && close[1] != '\0')
			return err_set(st->e, -EINVAL,
			    "%s: %s=: text after the closing quote", st->opt,
			    cli_show(k, kv->key, kv->klen));
		kv->val = v + 1;
		kv->vlen = (size_t)(close - v - 1);
		kv->quoted = 1;
		*sp = close + 1;
		return 0;
	}
	kv->val = v;
	kv->vlen = strcspn(v, ",\"");
	if (v[kv->vlen] == '"')
		return err_set(st->e, -EINVAL,
		    "%s: %s=: unexpected '\"' inside the value"
		    " (quote the whole value: key=\"...\")", st->opt,
		    cli_show(k, kv->key, kv->klen));
	*sp = v + kv->vlen;
	return 0;
}

static int
cli_find_key(const struct cli_opt *o, const struct cli_kv *kv)
{
	int i;

	for (i = 0; i < CLI_KEYS_MAX && o->keys[i].name != NULL; i++)
		if (strlen(o->keys[i].name) == kv->klen &&
		    memcmp(o->keys[i].name, kv->key, kv->klen) == 0)
			return i;
	return -1;
}

/* Check one item against the option's keys, then store it. */
static int
cli_apply_item(struct cli_state *st, const struct cli_opt *o,
    const struct cli_kv *kv, unsigned *seen)
{
	char k[CLI_SHOW_MAX + 4];
	int i = cli_find_key(o, kv);

	if (i < 0)
		return err_set(st->e, -EINVAL, "%s: unknown key '%s'",
		    st->opt, cli_show(k, kv->key, kv->klen));
	if (*seen & (1u << i))
		return err_set(st->e, -EINVAL, "%s: key '%s' given more than "
		    "once", st->opt, o->keys[i].name);
	*seen |= 1u << i;
	if (!kv->has_val)
		return err_set(st->e, -EINVAL, "%s: key '%s' has no value "
		    "(expected %s=VALUE)", st->opt, o->keys[i].name,
		    o->keys[i].name);
	/* cmdline="" is an explicitly empty command line; else empty is bad */
	if (kv->vlen == 0 && !(kv->quoted && o->keys[i].set == cli_set_cmdline))
		return err_set(st->e, -EINVAL, "%s: %s=: empty value",
		    st->opt, o->keys[i].name);
	return o->keys[i].set(st, kv);
}

/* Parse one option's key=value list and check its required keys. */
static int
cli_parse_arg(struct cli_state *st, const struct cli_opt *o, const char *arg)
{
	struct cli_kv kv;
	unsigned seen = 0;
	const char *s = arg;
	int i, r;

	if (*arg == '\0')
		return err_set(st->e, -EINVAL, "%s: empty argument", st->opt);
	for (;;) {
		r = cli_next_item(st, &s, &kv);
		if (r == 0)
			r = cli_apply_item(st, o, &kv, &seen);
		if (r < 0)
			return r;
		if (*s == '\0')
			break;
		s++;   /* the ',' */
		if (*s == '\0')
			return err_set(st->e, -EINVAL, "%s: trailing ',' "
			    "(empty key=value item)", st->opt);
	}
	for (i = 0; i < CLI_KEYS_MAX && o->keys[i].name != NULL; i++)
		if (o->keys[i].required && !(seen & (1u << i)))
			return err_set(st->e, -EINVAL, "%s: missing %s=",
			    st->opt, o->keys[i].name);
	return 0;
}

static const struct cli_opt *
cli_find_opt(const char *a, size_t len)
{
	size_t i;

	for (i = 0; i < CLI_NOPTS; i++)
		if (strlen(cli_opts[i].name) == len &&
		    memcmp(cli_opts[i].name, a, len) == 0)
			return &cli_opts[i];
	return NULL;
}

/* An option without argument (--stats): `--stats=x` is an error. */
static int
cli_parse_flag(struct cli_state *st, const struct cli_opt *o, const char *eq,
    int *i)
{
	if (eq != NULL)
		return err_set(st->e, -EINVAL, "%s: takes no argument", o->name);
	(*i)++;
	return o->begin(st);
}

/*
 * Handle argv[*i] (an option) and its argument; advances *i past what it
 * used. `seen` has one bit per entry of cli_opts.
 */
static int
cli_parse_opt(struct cli_state *st, int argc, char **argv, int *i,
    unsigned *seen)
{
	const char *a = argv[*i], *arg, *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	const struct cli_opt *o = cli_find_opt(a, len);
	char buf[CLI_SHOW_MAX + 4];
	unsigned bit;
	int r;

	if (o == NULL)
		return err_set(st->e, -EINVAL,
		    "%s: unknown option (see --help)",
		    cli_show(buf, a, len));
	st->opt = o->name;
	bit = 1u << (o - cli_opts);
	if (!o->supported)
		return err_set(st->e, -EINVAL, "%s: not supported yet in this "
		    "build", o->name);
	if ((*seen & bit) && !o->repeatable)
		return err_set(st->e, -EINVAL, "%s: given more than once",
		    o->name);
	*seen |= bit;
	if (o->noarg)
		return cli_parse_flag(st, o, eq, i);
	if (eq != NULL) {
		arg = eq + 1;
	} else if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
		if (o->value != NULL)
			return err_set(st->e, -EINVAL, "%s: missing argument "
			    "(expected %s N)", o->name, o->name);
		return err_set(st->e, -EINVAL, "%s: missing argument "
		    "(expected %s=...)", o->name, o->keys[0].name);
	} else {
		arg = argv[++*i];
	}
	(*i)++;
	if (o->value != NULL)
		return o->value(st, arg);
	if (o->begin != NULL && (r = o->begin(st)) < 0)
		return r;
	if ((r = cli_parse_arg(st, o, arg)) < 0)
		return r;
	return o->finish != NULL ? o->finish(st) : 0;
}

static void
cli_defaults(struct vmm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->cmdline, BOOT_DEFAULT_CMDLINE);
	cfg->kernel_load_addr = HIMEM_START;
	cfg->memory_mib = 256;
	cfg->vcpus = 1;
	cfg->jail_id = SANDBOX_DEFAULT_ID;
}

static int
cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (argv[i] != NULL && (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0))
			return 1;
	return 0;
}

int
cli_parse(int argc, char **argv, unsigned max_vcpus,
    struct vmm_config *cfg, struct err *e)
{
	struct cli_state st = { cfg, max_vcpus, "", e };
	char buf[CLI_SHOW_MAX + 4];
	unsigned seen = 0;
	int i = 1, r;

	cli_defaults(cfg);
	if (cli_wants_help(argc, argv)) {
		cfg->help = 1;
		return 0;
	}
	while (i < argc && argv[i] != NULL) {
		if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0')
			return err_set(e, -EINVAL, "'%s': unexpected argument "
			    "(options are --name key=value,...; see --help)",
			    cli_show(buf, argv[i], strlen(argv[i])));
		r = cli_parse_opt(&st, argc, argv, &i, &seen);
		if (r < 0)
			return r;
	}
	if (cfg->kernel_path == NULL)
		return err_set(e, -EINVAL, "missing --kernel path=PATH "
		    "(see --help)");
	return cli_virtio_finish(cfg, e);
}

static const char cli_usage_fmt[] =
"usage: vmm-reference --kernel path=PATH[,cmdline=\"...\"][,kernel_load_addr=N]\n"
"                     [--memory size_mib=N] [--vcpu num=N]\n"
"                     [--initramfs path=PATH] [--block ...]... [--net ...]...\n"
"                     [--stats] [--jail-id N] [--seccomp-log] [--help]\n"
"\n"
"Boots a Linux kernel (ELF vmlinux, PVH or not, or bzImage) in a KVM\n"
"virtual machine with a 16550 serial console on stdin/stdout.\n"
"\n"
"Each option takes one argument, a comma-separated key=value list\n"
"(--opt ARG or --opt=ARG). A value may be double-quoted to hold commas and\n"
"spaces, with \\\" for a quote and \\\\ for a backslash inside; quote the\n"
"whole argument for the shell, e.g. 'cmdline=\"console=ttyS0 a=b,c\"'.\n"
"Numbers are decimal or 0x-hex.\n"
"\n"
"  --kernel          the guest kernel (required)\n"
"      path=PATH             kernel image file (required)\n"
"      cmdline=\"...\"         kernel command line, at most 4095 bytes\n"
"                            (default \"" BOOT_DEFAULT_CMDLINE "\")\n"
"      kernel_load_addr=N    lowest guest-physical address of the kernel;\n"
"                            4 KiB aligned, 0x100000..4 GiB\n"
"                            (default 0x100000)\n"
"  --memory\n"
"      size_mib=N            guest RAM in MiB, 1..1048576 (default 256)\n"
"  --vcpu\n"
"      num=N                 number of vCPUs, 1..%u (the MP table's room)\n"
"                            and at most KVM_CAP_MAX_VCPUS (default 1)\n"
"  --initramfs\n"
"      path=PATH             initramfs (cpio) loaded at the top of low RAM\n"
"                            (default: none)\n"
"  --block                   a virtio-blk disk (virtio-mmio, served by a\n"
"                            vhost-user backend); repeatable. At most 7\n"
"                            virtio devices (--block and --net together;\n"
"                            the disks first, in CLI order, then the\n"
"                            interfaces): device i at 0xd0000000 +\n"
"                            i * 0x1000, IRQ 5 + i, added to the cmdline\n"
"                            as virtio_mmio.device=4K@ADDR:IRQ\n"
"      path=FILE             disk image (regular file or block device, a\n"
"                            multiple of 512 bytes) served by a vmm-blk\n"
"                            process the vmm starts (next to its binary,\n"
"                            or $VMM_BLK_BIN)\n"
"      socket=PATH           or: an external vhost-user-blk backend\n"
"                            listening on the unix socket PATH\n"
"      read_only=on|off      with path=: refuse guest writes (default off)\n"
"      id=NAME               serial the guest reads (GET_ID), at most 20\n"
"                            bytes of [A-Za-z0-9._-] (default vda, vdb, ...)\n"
"  --net                     a virtio-net interface (virtio-mmio, served by\n"
"                            a vhost-user backend); repeatable\n"
"      tap=NAME              the tap NAME (at most 15 bytes), opened by the\n"
"                            vmm (created if missing, which needs\n"
"                            CAP_NET_ADMIN) and served by a vmm-net process\n"
"                            the vmm starts (next to its binary, or\n"
"                            $VMM_NET_BIN); nothing else may hold it open\n"
"      socket=PATH           or: an external vhost-user-net backend\n"
"                            listening on the unix socket PATH\n"
"      mac=XX:XX:XX:XX:XX:XX the guest's MAC address, unicast and non-zero\n"
"                            (default 52:54:00:12:34:56 + n for the n-th\n"
"                            --net, counting from 0)\n"
"      id=NAME               name in messages, at most 20 bytes of\n"
"                            [A-Za-z0-9._-] (default eth0, eth1, ...)\n"
"  --stats                   print each device's MMIO exit count at exit\n"
"  --jail-id N               as root: the uid and gid the vmm drops to in\n"
"                            its jail; the vmm-blk or vmm-net of device i\n"
"                            (window i) takes N + 1 + i.\n"
"                            1..%u (default %u).\n"
"                            Not root: an error (the jail keeps the\n"
"                            caller's uid, in a user namespace)\n"
"  --seccomp-log             a syscall outside a process's seccomp profile\n"
"                            prints \"ROLE: seccomp: blocked syscall NAME\"\n"
"                            and fails with ENOSYS instead of killing the\n"
"                            process (for writing profiles; vmm-blk and\n"
"                            vmm-net too)\n"
"  --help, -h                print this text and exit\n"
"\n"
"Examples:\n"
"  vmm-reference --kernel path=build/guest/vmlinux\n"
"  # override the kernel command line:\n"
"  vmm-reference --kernel 'path=build/guest/bzImage,cmdline=\"console=ttyS0 "
"reboot=t panic=1 pci=off init=/bin/sh\"'\n"
"  # 2 vCPUs and 1 GiB of RAM, with an initramfs:\n"
"  vmm-reference --kernel path=build/guest/bzImage --vcpu num=2 "
"--memory size_mib=1024 \\\n"
"                --initramfs path=build/guest/initramfs.cpio.gz\n"
"  # two disks, the second read-only:\n"
"  vmm-reference --kernel path=build/guest/bzImage --block path=disk.img \\\n"
"                --block path=iso.img,read_only=on,id=cdrom --stats\n"
"  # two network interfaces on taps, the second with its own MAC:\n"
"  vmm-reference --kernel path=build/guest/bzImage --net tap=tap0 \\\n"
"                --net tap=tap1,mac=52:54:00:00:00:02\n";

const char *
cli_usage(void)
{
	static char buf[sizeof(cli_usage_fmt) + 48];

	if (buf[0] == '\0')
		snprintf(buf, sizeof(buf), cli_usage_fmt, cli_max_vcpus(),
		    CLI_JAIL_ID_MAX, SANDBOX_DEFAULT_ID);
	return buf;
}
