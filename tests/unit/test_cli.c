/*
 * Unit tests for the command-line parser (vmm/cli.c): a table of argv
 * vectors with the expected config or the expected error, a check that the
 * usage text documents every option and key, and a fuzz loop over random
 * argv vectors built from the parser's own vocabulary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "cli.h"
#include "guest_layout_x86_64.h"

#define MAXARGS 20

struct cli_case {
	const char *name;
	const char *argv[MAXARGS];   /* without argv[0]; ends at NULL */
	unsigned max_vcpus;
	const char *err;             /* NULL: must parse; else a substring */
	/* expected on success; 0/NULL means "the default" */
	const char *kernel;
	const char *cmdline;
	uint64_t load_addr;
	uint64_t mib;
	unsigned vcpus;
	const char *initramfs;
	int help;
	unsigned jail_id;            /* 0: SANDBOX_DEFAULT_ID, not given */
	int seccomp_log;
	const char *forbidden;       /* block[0].test_forbidden */
};

/* 4096 'a's: one byte too many for cmdline= and path= */
static char long_cmdline[16 + 4096 + 8];
static char max_cmdline[16 + 4095 + 8];
static char long_path[8 + 4096 + 8];

static const struct cli_case cases[] = {
	/* --- good --- */
	{ .name = "minimal", .argv = { "--kernel", "path=vmlinux" },
	    .kernel = "vmlinux" },
	{ .name = "eq form", .argv = { "--kernel=path=vmlinux",
	    "--memory=size_mib=512", "--vcpu=num=2" },
	    .kernel = "vmlinux", .mib = 512, .vcpus = 2 },
	{ .name = "all options", .argv = { "--kernel",
	    "path=/k,cmdline=console=ttyS0,kernel_load_addr=0x200000",
	    "--memory", "size_mib=1024", "--vcpu", "num=2", "--initramfs",
	    "path=/i.cpio" },
	    .kernel = "/k", .cmdline = "console=ttyS0", .load_addr = 0x200000,
	    .mib = 1024, .vcpus = 2, .initramfs = "/i.cpio" },
	{ .name = "quoted cmdline with comma and space", .argv = { "--kernel",
	    "path=k,cmdline=\"console=ttyS0 a=b,c\"" },
	    .kernel = "k", .cmdline = "console=ttyS0 a=b,c" },
	{ .name = "escaped quotes in quoted cmdline", .argv = { "--kernel",
	    "path=k,cmdline=\"init=/x a.cmd=\\\"echo 1,2\\\" b=\\\\ c=\\n\"" },
	    .kernel = "k", .cmdline = "init=/x a.cmd=\"echo 1,2\" b=\\ c=\\n" },
	{ .name = "quoted cmdline first", .argv = { "--kernel",
	    "cmdline=\"x,y\",path=k" },
	    .kernel = "k", .cmdline = "x,y" },
	{ .name = "quoted path", .argv = { "--kernel", "path=\"/a dir/k,1\"" },
	    .kernel = "/a dir/k,1" },
	{ .name = "empty quoted cmdline", .argv = { "--kernel",
	    "path=k,cmdline=\"\"" },
	    .kernel = "k", .cmdline = "" },
	{ .name = "hex numbers", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=0x200", "--vcpu", "num=0X4" },
	    .kernel = "k", .mib = 512, .vcpus = 4 },
	{ .name = "leading zeros are decimal", .argv = { "--kernel", "path=k",
	    "--memory", "size_mib=010" },
	    .kernel = "k", .mib = 10 },
	{ .name = "order free", .argv = { "--vcpu", "num=3", "--kernel",
	    "path=k" },
	    .kernel = "k", .vcpus = 3 },
	{ .name = "max memory", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=1048576" },
	    .kernel = "k", .mib = 1048576 },
	{ .name = "vcpus equal to KVM max", .argv = { "--kernel", "path=k",
	    "--vcpu", "num=8" },
	    .max_vcpus = 8, .kernel = "k", .vcpus = 8 },
	{ .name = "highest load addr", .argv = { "--kernel",
	    "path=k,kernel_load_addr=0xfffff000" },
	    .kernel = "k", .load_addr = 0xfffff000 },
	{ .name = "longest cmdline", .argv = { "--kernel", max_cmdline },
	    .kernel = "k" },
	{ .name = "jail id", .argv = { "--kernel", "path=k", "--jail-id",
	    "500000" },
	    .kernel = "k", .jail_id = 500000 },
	{ .name = "jail id eq form hex", .argv = { "--jail-id=0x10",
	    "--kernel", "path=k" },
	    .kernel = "k", .jail_id = 16 },
	{ .name = "highest jail id", .argv = { "--kernel", "path=k",
	    "--jail-id", "3999999936" },
	    .kernel = "k", .jail_id = 3999999936u },
	{ .name = "seccomp log", .argv = { "--kernel", "path=k",
	    "--seccomp-log" },
	    .kernel = "k", .seccomp_log = 1 },
	{ .name = "block x-test-forbidden", .argv = { "--kernel", "path=k",
	    "--block", "path=a,x-test-forbidden=socket", "--seccomp-log",
	    "--jail-id", "1000" },
	    .kernel = "k", .seccomp_log = 1, .forbidden = "socket",
	    .jail_id = 1000 },
	{ .name = "net tap", .argv = { "--kernel", "path=k", "--net",
	    "tap=tap0,mac=52:54:00:00:00:01,id=lan", "--net=socket=/n.sock" },
	    .kernel = "k" },
	{ .name = "block x-test-forbidden quoted", .argv = { "--kernel",
	    "path=k", "--block", "x-test-forbidden=\"ptrace\",path=a" },
	    .kernel = "k", .forbidden = "ptrace" },
	{ .name = "help", .argv = { "--help" },
	    .help = 1 },
	{ .name = "-h", .argv = { "-h" },
	    .help = 1 },
	{ .name = "help wins over errors", .argv = { "--bogus", "--help" },
	    .help = 1 },
	{ .name = "help with kernel", .argv = { "--kernel", "path=k", "-h" },
	    .help = 1 },
	/* --- bad --- */
	{ .name = "no arguments", .argv = { NULL },
	    .err = "missing --kernel" },
	{ .name = "missing kernel", .argv = { "--memory", "size_mib=64" },
	    .err = "missing --kernel" },
	{ .name = "unknown option", .argv = { "--kernal", "path=k" },
	    .err = "--kernal: unknown option" },
	{ .name = "unknown option eq form", .argv = { "--foo=bar" },
	    .err = "--foo: unknown option" },
	{ .name = "single dash", .argv = { "-k", "path=k" },
	    .err = "'-k': unexpected argument" },
	{ .name = "stray positional", .argv = { "--kernel", "path=k",
	    "vmlinux" },
	    .err = "'vmlinux': unexpected argument" },
	{ .name = "bare --", .argv = { "--kernel", "path=k", "--" },
	    .err = "'--': unexpected argument" },
	{ .name = "empty argument", .argv = { "--kernel", "path=k", "" },
	    .err = "'': unexpected argument" },
	{ .name = "unknown key", .argv = { "--kernel", "path=k,initrd=x" },
	    .err = "--kernel: unknown key 'initrd'" },
	{ .name = "unknown key memory", .argv = { "--kernel", "path=k",
	    "--memory", "size=64" },
	    .err = "--memory: unknown key 'size'" },
	{ .name = "key without value", .argv = { "--kernel", "path" },
	    .err = "--kernel: key 'path' has no value" },
	{ .name = "missing argument at end", .argv = { "--kernel" },
	    .err = "--kernel: missing argument" },
	{ .name = "missing argument before option", .argv = { "--memory",
	    "--kernel", "path=k" },
	    .err = "--memory: missing argument" },
	{ .name = "empty argument", .argv = { "--kernel", "" },
	    .err = "--kernel: empty argument" },
	{ .name = "empty argument eq form", .argv = { "--kernel=" },
	    .err = "--kernel: empty argument" },
	{ .name = "empty value", .argv = { "--kernel", "path=" },
	    .err = "--kernel: path=: empty" },
	{ .name = "empty quoted path", .argv = { "--kernel", "path=\"\"" },
	    .err = "--kernel: path=: empty" },
	{ .name = "empty number", .argv = { "--kernel", "path=k", "--vcpu",
	    "num=" },
	    .err = "--vcpu: num=: empty" },
	{ .name = "empty cmdline unquoted", .argv = { "--kernel",
	    "path=k,cmdline=" },
	    .err = "--kernel: cmdline=: empty" },
	{ .name = "empty key", .argv = { "--kernel", "=k" },
	    .err = "--kernel: empty key" },
	{ .name = "double comma", .argv = { "--kernel", "path=k,,cmdline=x" },
	    .err = "--kernel: empty key" },
	{ .name = "trailing comma", .argv = { "--kernel", "path=k," },
	    .err = "--kernel: trailing ','" },
	{ .name = "duplicate option", .argv = { "--kernel", "path=k",
	    "--kernel", "path=j" },
	    .err = "--kernel: given more than once" },
	{ .name = "duplicate option mixed forms", .argv = { "--kernel",
	    "path=k", "--vcpu=num=1", "--vcpu", "num=2" },
	    .err = "--vcpu: given more than once" },
	{ .name = "duplicate key", .argv = { "--kernel", "path=k,path=j" },
	    .err = "--kernel: key 'path' given more than once" },
	{ .name = "unterminated quote", .argv = { "--kernel",
	    "path=k,cmdline=\"console=ttyS0" },
	    .err = "--kernel: cmdline=: unterminated quote" },
	{ .name = "escaped closing quote", .argv = { "--kernel",
	    "path=k,cmdline=\"abc\\\"" },
	    .err = "--kernel: cmdline=: unterminated quote" },
	{ .name = "text after quote", .argv = { "--kernel",
	    "path=k,cmdline=\"a\"b" },
	    .err = "--kernel: cmdline=: text after the closing quote" },
	{ .name = "quote inside value", .argv = { "--kernel",
	    "path=k,cmdline=a\"b\"" },
	    .err = "--kernel: cmdline=: unexpected '\"'" },
	{ .name = "quote in key", .argv = { "--kernel", "pa\"th\"=k" },
	    .err = "--kernel: unexpected '\"' in key" },
	{ .name = "missing path", .argv = { "--kernel", "cmdline=x" },
	    .err = "--kernel: missing path=" },
	{ .name = "initramfs missing path", .argv = { "--kernel", "path=k",
	    "--initramfs", "pth=i" },
	    .err = "--initramfs: unknown key 'pth'" },
	{ .name = "bad number", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=12abc" },
	    .err = "--memory: size_mib=12abc: not a number" },
	{ .name = "negative number", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=-1" },
	    .err = "--memory: size_mib=-1: not a number" },
	{ .name = "plus sign", .argv = { "--kernel", "path=k", "--vcpu",
	    "num=+2" },
	    .err = "--vcpu: num=+2: not a number" },
	{ .name = "leading space", .argv = { "--kernel", "path=k", "--vcpu",
	    "num= 2" },
	    .err = "--vcpu: num= 2: not a number" },
	{ .name = "bare 0x", .argv = { "--kernel", "path=k", "--vcpu",
	    "num=0x" },
	    .err = "--vcpu: num=0x: not a number" },
	{ .name = "bad hex", .argv = { "--kernel", "path=k", "--vcpu",
	    "num=0xg" },
	    .err = "--vcpu: num=0xg: not a number" },
	{ .name = "float", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=1.5" },
	    .err = "--memory: size_mib=1.5: not a number" },
	{ .name = "number overflow", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=18446744073709551616" },
	    .err = "--memory: size_mib=18446744073709551616: number out of "
	    "range" },
	{ .name = "hex overflow", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=0x10000000000000000" },
	    .err = "number out of range" },
	{ .name = "size 0", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=0" },
	    .err = "--memory: size_mib=0" },
	{ .name = "size above max", .argv = { "--kernel", "path=k", "--memory",
	    "size_mib=1048577" },
	    .err = "--memory: size_mib=1048577: above the limit" },
	{ .name = "size bytes overflow", .argv = { "--kernel", "path=k",
	    "--memory", "size_mib=18446744073709551615" },
	    .err = "--memory: size_mib=18446744073709551615: above the limit" },
	{ .name = "size_mib*1MiB wraps", .argv = { "--kernel", "path=k",
	    "--memory", "size_mib=0x100000000000" },
	    .err = "--memory: size_mib=17592186044416" },
	{ .name = "vcpu 0", .argv = { "--kernel", "path=k", "--vcpu", "num=0" },
	    .err = "--vcpu: num=0" },
	{ .name = "vcpu above 254", .argv = { "--kernel", "path=k", "--vcpu",
	    "num=255" },
	    .err = "--vcpu: num=255: above the limit of " },
	{ .name = "vcpu huge", .argv = { "--kernel", "path=k", "--vcpu",
	    "num=100000" },
	    .err = "--vcpu: num=100000: above the limit" },
	{ .name = "vcpu above KVM max", .argv = { "--kernel", "path=k",
	    "--vcpu", "num=9" },
	    .max_vcpus = 8, .err = "--vcpu: num=9: above KVM's limit of 8" },
	{ .name = "load addr low", .argv = { "--kernel",
	    "path=k,kernel_load_addr=0x1000" },
	    .err = "--kernel: kernel_load_addr=0x1000: below 0x100000" },
	{ .name = "load addr zero", .argv = { "--kernel",
	    "path=k,kernel_load_addr=0" },
	    .err = "--kernel: kernel_load_addr=0: below" },
	{ .name = "load addr unaligned", .argv = { "--kernel",
	    "path=k,kernel_load_addr=0x100800" },
	    .err = "--kernel: kernel_load_addr=0x100800: not 4 KiB aligned" },
	{ .name = "load addr 4 GiB", .argv = { "--kernel",
	    "path=k,kernel_load_addr=0x100000000" },
	    .err = "--kernel: kernel_load_addr=0x100000000: not below 4 GiB" },
	{ .name = "load addr bad", .argv = { "--kernel",
	    "path=k,kernel_load_addr=1M" },
	    .err = "--kernel: kernel_load_addr=1M: not a number" },
	{ .name = "cmdline too long", .argv = { "--kernel", long_cmdline },
	    .err = "--kernel: cmdline= is 4096 bytes, longer than the 4095-byte "
	    "limit" },
	{ .name = "path too long", .argv = { "--kernel", long_path },
	    .err = "--kernel: path= is 4096 bytes" },
	{ .name = "block needs path or socket", .argv = { "--kernel", "path=k",
	    "--block", "id=x" },
	    .err = "--block: missing path=FILE or socket=PATH" },
	{ .name = "block path and socket", .argv = { "--kernel", "path=k",
	    "--block", "path=a,socket=/s" },
	    .err = "--block: path= and socket= are mutually exclusive" },
	{ .name = "block read_only with socket", .argv = { "--kernel", "path=k",
	    "--block", "socket=/s,read_only=on" },
	    .err = "--block: read_only= needs path=" },
	{ .name = "block read_only value", .argv = { "--kernel", "path=k",
	    "--block", "path=a,read_only=yes" },
	    .err = "--block: read_only=yes: expected on or off" },
	{ .name = "block id too long", .argv = { "--kernel", "path=k",
	    "--block", "path=a,id=abcdefghijklmnopqrstu" },
	    .err = "--block: id= is 21 bytes, longer than the 20-byte limit" },
	{ .name = "block id charset", .argv = { "--kernel", "path=k",
	    "--block", "path=a,id=a/b" },
	    .err = "--block: id=a/b: only letters, digits" },
	{ .name = "block empty id", .argv = { "--kernel", "path=k",
	    "--block", "path=a,id=" },
	    .err = "--block: id=: empty value" },
	{ .name = "block duplicate id", .argv = { "--kernel", "path=k",
	    "--block", "path=a,id=vdb", "--block", "path=b" },
	    .err = "--block: id=vdb used by two devices" },
	{ .name = "block unknown key", .argv = { "--kernel", "path=k",
	    "--block", "path=a,cache=none" },
	    .err = "--block: unknown key 'cache'" },
	{ .name = "block no argument", .argv = { "--kernel", "path=k",
	    "--block" },
	    .err = "--block: missing argument" },
	{ .name = "block socket too long", .argv = { "--kernel", "path=k",
	    "--block", "socket=/0123456789012345678901234567890123456789"
	    "012345678901234567890123456789012345678901234567890123456789"
	    "0123456789" },
	    .err = "--block: socket= is 111 bytes, longer than the 107-byte" },
	{ .name = "eight virtio devices", .argv = { "--kernel", "path=k",
	    "--block", "path=a", "--block", "path=a", "--block", "path=a",
	    "--block", "path=a", "--block", "path=a", "--block", "path=a",
	    "--block", "path=a", "--block", "path=a" },
	    .err = "--block: at most 7 virtio devices (IRQs 5..11)" },
	{ .name = "stats takes no argument", .argv = { "--kernel", "path=k",
	    "--stats=1" },
	    .err = "--stats: takes no argument" },
	{ .name = "stats twice", .argv = { "--kernel", "path=k", "--stats",
	    "--stats" },
	    .err = "--stats: given more than once" },
	/* --net */
	{ .name = "net needs tap or socket", .argv = { "--kernel", "path=k",
	    "--net", "mac=52:54:00:12:34:56" },
	    .err = "--net: missing tap=NAME or socket=PATH" },
	{ .name = "net tap and socket", .argv = { "--kernel", "path=k",
	    "--net=tap=t0,socket=/s" },
	    .err = "--net: tap= and socket= are mutually exclusive" },
	{ .name = "net empty tap", .argv = { "--kernel", "path=k",
	    "--net", "tap=" },
	    .err = "--net: tap=: empty value" },
	{ .name = "net empty quoted tap", .argv = { "--kernel", "path=k",
	    "--net", "tap=\"\"" },
	    .err = "--net: tap=: empty value" },
	{ .name = "net tap too long", .argv = { "--kernel", "path=k",
	    "--net", "tap=0123456789abcdef" },
	    .err = "--net: tap= is 16 bytes, longer than the 15-byte limit" },
	{ .name = "net tap slash", .argv = { "--kernel", "path=k",
	    "--net", "tap=a/b" },
	    .err = "--net: tap=a/b: not an interface name" },
	{ .name = "net tap colon", .argv = { "--kernel", "path=k",
	    "--net", "tap=eth0:1" },
	    .err = "--net: tap=eth0:1: not an interface name" },
	{ .name = "net tap percent", .argv = { "--kernel", "path=k",
	    "--net", "tap=tap%d" },
	    .err = "--net: tap=tap%d: not an interface name" },
	{ .name = "net tap space", .argv = { "--kernel", "path=k",
	    "--net", "tap=\"a b\"" },
	    .err = "--net: tap=a b: not an interface name" },
	{ .name = "net tap dotdot", .argv = { "--kernel", "path=k",
	    "--net", "tap=.." },
	    .err = "--net: tap=..: not an interface name" },
	{ .name = "net mac short", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=52:54:00:12:34" },
	    .err = "--net: mac=52:54:00:12:34: expected 6 hex pairs "
	    "XX:XX:XX:XX:XX:XX" },
	{ .name = "net mac long", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=52:54:00:12:34:567" },
	    .err = "--net: mac=52:54:00:12:34:567: expected 6 hex pairs" },
	{ .name = "net mac not hex", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=52:54:00:12:34:5g" },
	    .err = "--net: mac=52:54:00:12:34:5g: expected 6 hex pairs" },
	{ .name = "net mac dashes", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=52-54-00-12-34-56" },
	    .err = "--net: mac=52-54-00-12-34-56: expected 6 hex pairs" },
	{ .name = "net mac single digits", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=2:54:00:12:34:56:" },
	    .err = "--net: mac=2:54:00:12:34:56:: expected 6 hex pairs" },
	{ .name = "net mac multicast", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=01:00:5e:00:00:01" },
	    .err = "--net: mac=01:00:5e:00:00:01: a multicast address" },
	{ .name = "net mac broadcast", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=ff:ff:ff:ff:ff:ff" },
	    .err = "--net: mac=ff:ff:ff:ff:ff:ff: a multicast address" },
	{ .name = "net mac zero", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=00:00:00:00:00:00" },
	    .err = "--net: mac=00:00:00:00:00:00: the all-zero address" },
	{ .name = "net mac twice", .argv = { "--kernel", "path=k",
	    "--net", "tap=t,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02" },
	    .err = "--net: key 'mac' given more than once" },
	{ .name = "net duplicate id", .argv = { "--kernel", "path=k",
	    "--net", "tap=a,id=eth1", "--net", "tap=b" },
	    .err = "--net: id=eth1 used by two interfaces" },
	{ .name = "net id charset", .argv = { "--kernel", "path=k",
	    "--net", "tap=a,id=e th" },
	    .err = "--net: id=e th: only letters, digits" },
	{ .name = "net read_only", .argv = { "--kernel", "path=k",
	    "--net", "tap=a,read_only=on" },
	    .err = "--net: unknown key 'read_only'" },
	{ .name = "net no argument", .argv = { "--kernel", "path=k",
	    "--net" },
	    .err = "--net: missing argument (expected tap=...)" },
	{ .name = "net socket too long", .argv = { "--kernel", "path=k",
	    "--net", "socket=/0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789012345678901234567890123456789" },
	    .err = "--net: socket= is 111 bytes, longer than the 107-byte" },
	{ .name = "net x-test-forbidden with socket", .argv = { "--kernel",
	    "path=k", "--net", "socket=/s,x-test-forbidden=ptrace" },
	    .err = "--net: x-test-forbidden= needs tap=" },
	{ .name = "net x-test-forbidden unknown", .argv = { "--kernel",
	    "path=k", "--net", "tap=t,x-test-forbidden=read" },
	    .err = "--net: x-test-forbidden=read: expected openat, execve, "
	    "socket or ptrace" },
	{ .name = "8 devices, nets last", .argv = { "--kernel", "path=k",
	    "--block", "path=a", "--block", "path=a", "--block", "path=a",
	    "--block", "path=a", "--net", "tap=a", "--net", "tap=b",
	    "--net", "tap=c", "--net", "tap=d" },
	    .err = "--net: at most 7 virtio devices (IRQs 5..11), --block and "
	    "--net together" },
	{ .name = "8 devices, block last", .argv = { "--kernel", "path=k",
	    "--net", "tap=a", "--net", "tap=b", "--net", "tap=c",
	    "--net", "tap=d", "--net", "tap=e", "--net", "tap=f",
	    "--net", "tap=g", "--block", "path=a" },
	    .err = "--block: at most 7 virtio devices (IRQs 5..11), --block and "
	    "--net together" },
	{ .name = "jail id 0", .argv = { "--kernel", "path=k", "--jail-id",
	    "0" },
	    .err = "--jail-id: 0: not in 1..3999999936" },
	{ .name = "jail id above max", .argv = { "--kernel", "path=k",
	    "--jail-id", "3999999937" },
	    .err = "--jail-id: 3999999937: not in 1..3999999936" },
	{ .name = "jail id overflow", .argv = { "--kernel", "path=k",
	    "--jail-id", "99999999999999999999" },
	    .err = "--jail-id: 99999999999999999999: not in 1.." },
	{ .name = "jail id not a number", .argv = { "--kernel", "path=k",
	    "--jail-id", "uid=5" },
	    .err = "--jail-id: uid=5: not a number in 1.." },
	{ .name = "jail id negative", .argv = { "--kernel", "path=k",
	    "--jail-id=-1" },
	    .err = "--jail-id: -1: not a number" },
	{ .name = "jail id empty", .argv = { "--kernel", "path=k",
	    "--jail-id=" },
	    .err = "--jail-id: : not a number" },
	{ .name = "jail id missing argument", .argv = { "--kernel", "path=k",
	    "--jail-id" },
	    .err = "--jail-id: missing argument (expected --jail-id N)" },
	{ .name = "jail id before option", .argv = { "--jail-id",
	    "--kernel", "path=k" },
	    .err = "--jail-id: missing argument" },
	{ .name = "jail id twice", .argv = { "--kernel", "path=k",
	    "--jail-id", "5", "--jail-id", "6" },
	    .err = "--jail-id: given more than once" },
	{ .name = "seccomp log takes no argument", .argv = { "--kernel",
	    "path=k", "--seccomp-log=1" },
	    .err = "--seccomp-log: takes no argument" },
	{ .name = "seccomp log twice", .argv = { "--kernel", "path=k",
	    "--seccomp-log", "--seccomp-log" },
	    .err = "--seccomp-log: given more than once" },
	{ .name = "x-test-forbidden unknown", .argv = { "--kernel", "path=k",
	    "--block", "path=a,x-test-forbidden=read" },
	    .err = "--block: x-test-forbidden=read: expected openat, execve, "
	    "socket or ptrace" },
	{ .name = "x-test-forbidden prefix", .argv = { "--kernel", "path=k",
	    "--block", "path=a,x-test-forbidden=open" },
	    .err = "--block: x-test-forbidden=open: expected" },
	{ .name = "x-test-forbidden with socket", .argv = { "--kernel",
	    "path=k", "--block", "socket=/s,x-test-forbidden=execve" },
	    .err = "--block: x-test-forbidden= needs path=" },
	{ .name = "x-test-forbidden empty", .argv = { "--kernel", "path=k",
	    "--block", "path=a,x-test-forbidden=" },
	    .err = "--block: x-test-forbidden=: empty value" },
	{ .name = "help takes no value", .argv = { "--help=1" },
	    .err = "--help: unknown option" },
	{ .name = "control chars not echoed", .argv = { "--kernel",
	    "path=k,a\nb=1" },
	    .err = "--kernel: unknown key 'a?b'" },
	{ .name = "long junk truncated", .argv = { "--kernel",
	    "path=k,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1"
	    },
	    .err = "aaaaaaaaaaaa...'" },
};

static void
setup_long_args(void)
{
	strcpy(long_cmdline, "path=k,cmdline=");
	memset(long_cmdline + strlen(long_cmdline), 'a', 4096);
	strcpy(max_cmdline, "path=k,cmdline=");
	memset(max_cmdline + strlen(max_cmdline), 'a', 4095);
	strcpy(long_path, "path=");
	memset(long_path + 5, 'p', 4096);
}

/* Build a writable argv for c; returns argc. */
static int
make_argv(const struct cli_case *c, char **argv, char copies[][8200])
{
	int n = 0;

	argv[n++] = "vmm-reference";
	while (n < MAXARGS && c->argv[n - 1] != NULL) {
		snprintf(copies[n], 8200, "%s", c->argv[n - 1]);
		argv[n] = copies[n];
		n++;
	}
	argv[n] = NULL;
	return n;
}

static void
check_ok(const struct cli_case *c, const struct vmm_config *cfg)
{
	if (c->help) {
		assert_true(cfg->help);
		return;
	}
	assert_false(cfg->help);
	assert_non_null(cfg->kernel_path);
	assert_string_equal(cfg->kernel_path, c->kernel);
	if (c->cmdline == NULL && c->argv[1] != max_cmdline)
		assert_string_equal(cfg->cmdline, BOOT_DEFAULT_CMDLINE);
	else if (c->cmdline != NULL)
		assert_string_equal(cfg->cmdline, c->cmdline);
	else
		assert_int_equal(strlen(cfg->cmdline), 4095);
	assert_int_equal(cfg->kernel_load_addr,
	    c->load_addr ? c->load_addr : HIMEM_START);
	assert_int_equal(cfg->memory_mib, c->mib ? c->mib : 256);
	assert_int_equal(cfg->vcpus, c->vcpus ? c->vcpus : 1);
	if (c->initramfs == NULL)
		assert_null(cfg->initramfs_path);
	else
		assert_string_equal(cfg->initramfs_path, c->initramfs);
	assert_int_equal(cfg->jail_id, c->jail_id ? c->jail_id : SANDBOX_DEFAULT_ID);
	assert_int_equal(cfg->jail_id_given, c->jail_id != 0);
	assert_int_equal(cfg->seccomp_log, c->seccomp_log);
	if (cfg->nblock > 0) {
		assert_int_equal(cfg->block[0].jail_id, cfg->jail_id + 1);
		assert_int_equal(cfg->block[0].seccomp_log, c->seccomp_log);
	}
	if (c->forbidden == NULL)
		assert_true(cfg->nblock == 0 || cfg->block[0].test_forbidden == NULL);
	else
		assert_string_equal(cfg->block[0].test_forbidden, c->forbidden);
}

static void
run_case(const struct cli_case *c)
{
	static char copies[MAXARGS + 1][8200];
	static struct vmm_config cfg;
	char *argv[MAXARGS + 2];
	struct err e = { "" };
	int argc = make_argv(c, argv, copies), i, r;

	r = cli_parse(argc, argv, c->max_vcpus, &cfg, &e);
	if (c->err == NULL) {
		if (r != 0)
			fail_msg("case '%s': expected success, got %d: %s",
			    c->name, r, e.msg);
		check_ok(c, &cfg);
	} else {
		if (r != -EINVAL)
			fail_msg("case '%s': expected -EINVAL, got %d", c->name,
	    r);
		if (strstr(e.msg, c->err) == NULL)
			fail_msg("case '%s': message \"%s\" lacks \"%s\"",
			    c->name, e.msg, c->err);
		assert_null(strchr(e.msg, '\n'));
	}
	for (i = 1; i < argc; i++)   /* argv is left untouched */
		assert_string_equal(argv[i], c->argv[i - 1]);
}

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	setup_long_args();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* Defaults are set even when the caller's cfg holds garbage. */
static void
test_defaults_overwrite_garbage(void **state)
{
	static struct vmm_config cfg;
	char *argv[] = { "vmm-reference", "--kernel", "path=k", NULL };
	struct err e;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(cli_parse(3, argv, 0, &cfg, &e), 0);
	assert_string_equal(cfg.cmdline, BOOT_DEFAULT_CMDLINE);
	assert_null(cfg.initramfs_path);
	assert_int_equal(cfg.memory_mib, 256);
	assert_int_equal(cfg.vcpus, 1);
	assert_int_equal(cfg.kernel_load_addr, HIMEM_START);
	assert_false(cfg.help);
	assert_int_equal(cfg.jail_id, SANDBOX_DEFAULT_ID);
	assert_false(cfg.jail_id_given);
	assert_false(cfg.seccomp_log);
}

/* --jail-id only as root; without it any uid is fine. */
static void
test_check_jail(void **state)
{
	static struct vmm_config cfg;
	char *argv[] = { "vmm-reference", "--kernel", "path=k", "--jail-id",
	    "7000", NULL };
	struct err e = { "" };

	(void)state;
	assert_int_equal(cli_parse(3, argv, 0, &cfg, &e), 0);
	assert_int_equal(cli_check_jail(&cfg, 1000, &e), 0);
	assert_int_equal(cli_check_jail(&cfg, 0, &e), 0);
	assert_int_equal(cli_parse(5, argv, 0, &cfg, &e), 0);
	assert_int_equal(cli_check_jail(&cfg, 0, &e), 0);
	assert_int_equal(cli_check_jail(&cfg, 1000, &e), -EINVAL);
	assert_string_equal(e.msg, "--jail-id: only as root; as uid 1000 the "
	    "jail keeps uid 1000 in a user namespace");
}

static void
test_usage_documents_everything(void **state)
{
	static const char *const words[] = {
		"--kernel", "path=", "cmdline=", "kernel_load_addr=",
	    "--memory",
		"size_mib=", "--vcpu", "num=", "--initramfs", "--block",
	    "--net", "socket=", "read_only=on|off", "id=", "--stats",
	    "virtio_mmio.device=4K@ADDR:IRQ", "VMM_BLK_BIN",
		"--help", "-h", "default 256", "default 1)", "0x100000",
		BOOT_DEFAULT_CMDLINE, "4095", "tap=NAME", "VMM_NET_BIN",
		"mac=XX:XX:XX:XX:XX:XX", "52:54:00:12:34:56 + n", "eth0, eth1",
		"--block and --net together", "at most 15 bytes",
		"Examples:", "--vcpu num=2", "--memory size_mib=1024",
		"--jail-id N", "1..3999999936 (default 400000)", "--seccomp-log",
		"blocked syscall NAME", "ENOSYS",
		"x-test-forbidden", /* never: a hidden key (tests only) */
		"cmdline=\\\"", /* never: usage has real quotes, not escapes */
	};
	const char *u = cli_usage();
	size_t i, n = sizeof(words) / sizeof(words[0]);

	(void)state;
	for (i = 0; i < n - 2; i++)
		if (strstr(u, words[i]) == NULL)
			fail_msg("usage lacks \"%s\"", words[i]);
	assert_null(strstr(u, words[n - 2]));
	assert_null(strstr(u, words[n - 1]));
	assert_non_null(strstr(u, "'path=build/guest/bzImage,cmdline=\""));
}

/* Every parsed --block has exactly one backend and a unique, short id. */
static void
check_blocks_sane(const struct vmm_config *cfg)
{
	unsigned i, j;

	assert_in_range(cfg->nblock, 0, CLI_MAX_VIRTIO);
	for (i = 0; i < cfg->nblock; i++) {
		const struct cli_block *b = &cfg->block[i];

		assert_true((b->path != NULL) != (b->socket != NULL));
		assert_false(b->socket != NULL && b->read_only);
		assert_in_range(strlen(b->id), 1, CLI_ID_MAX);
		assert_false(b->socket != NULL && b->test_forbidden != NULL);
		for (j = 0; j < i; j++)
			assert_string_not_equal(b->id, cfg->block[j].id);
	}
}

/* --block good cases: order, defaults, keys; --stats. */
static void
test_block_good(void **state)
{
	static struct vmm_config cfg;
	char *argv[] = { "vmm-reference", "--kernel", "path=k", "--block",
	    "path=/d0.img", "--block=socket=/run/vhost.sock,id=ext",
	    "--block", "read_only=on,path=\"/a b,c.img\",id=cd-0.x",
	    "--stats", "--block", "path=d3,read_only=off",
	    "--block", "path=d4", "--block", "path=d5", "--block", "path=d6",
	    NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	struct err e = { "" };

	(void)state;
	if (cli_parse(argc, argv, 0, &cfg, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cfg.nblock, 7);
	assert_true(cfg.stats);
	assert_string_equal(cfg.block[0].path, "/d0.img");
	assert_null(cfg.block[0].socket);
	assert_false(cfg.block[0].read_only);
	assert_string_equal(cfg.block[0].id, "vda");
	assert_null(cfg.block[1].path);
	assert_string_equal(cfg.block[1].socket, "/run/vhost.sock");
	assert_string_equal(cfg.block[1].id, "ext");
	assert_string_equal(cfg.block[2].path, "/a b,c.img");
	assert_true(cfg.block[2].read_only);
	assert_string_equal(cfg.block[2].id, "cd-0.x");
	assert_false(cfg.block[3].read_only);
	assert_string_equal(cfg.block[3].id, "vdd");
	assert_string_equal(cfg.block[6].id, "vdg");
	assert_int_equal(cfg.block[0].jail_id, SANDBOX_DEFAULT_ID + 1);
	assert_int_equal(cfg.block[6].jail_id, SANDBOX_DEFAULT_ID + 7);
	assert_false(cfg.block[0].seccomp_log);
	check_blocks_sane(&cfg);
	/* a plain command line has no devices and no stats */
	assert_int_equal(cli_parse(3, argv, 0, &cfg, &e), 0);
	assert_int_equal(cfg.nblock, 0);
	assert_false(cfg.stats);
}

/* Every parsed --net has exactly one backend, a unique short id, a
 * unicast non-zero MAC, and its window after the blocks. */
static void
check_nets_sane(const struct vmm_config *cfg)
{
	static const uint8_t zero[CLI_MAC_LEN];
	unsigned i, j;

	assert_in_range(cfg->nblock + cfg->nnet, 0, CLI_MAX_VIRTIO);
	for (i = 0; i < cfg->nnet; i++) {
		const struct cli_net *n = &cfg->net[i];

		assert_true((n->tap != NULL) != (n->socket != NULL));
		assert_true(n->tap == NULL || n->tap == n->tap_buf);
		assert_in_range(n->tap ? strlen(n->tap) : 1, 1, CLI_IFNAME_MAX);
		assert_in_range(strlen(n->id), 1, CLI_ID_MAX);
		assert_false(n->socket != NULL && n->test_forbidden != NULL);
		assert_false(n->mac[0] & 1);
		assert_memory_not_equal(n->mac, zero, CLI_MAC_LEN);
		assert_int_equal(n->jail_id, cfg->jail_id + 1 + cfg->nblock + i);
		assert_int_equal(n->seccomp_log, cfg->seccomp_log);
		for (j = 0; j < i; j++)
			assert_string_not_equal(n->id, cfg->net[j].id);
	}
}

static void
assert_mac(const struct cli_net *n, const char *want)
{
	char got[18];

	snprintf(got, sizeof(got), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
	    n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	assert_string_equal(got, want);
}

/* --net good cases: order among --block, defaults (ids, MACs by position
 * among --net), keys, jail ids by window, the hidden test key. */
static void
test_net_good(void **state)
{
	static struct vmm_config cfg;
	char *argv[] = { "vmm-reference", "--kernel", "path=k", "--net",
	    "tap=tap0", "--block", "path=d0", "--net",
	    "socket=/run/net.sock,id=ext,mac=02:00:00:00:00:01",
	    "--net=mac=\"AA:bb:cC:dd:ee:0F\",tap=\"t.2-x_y\"", "--jail-id", "1000",
	    "--seccomp-log", "--net", "tap=0123456789abcde,x-test-forbidden=socket",
	    "--block", "socket=/b.sock", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	struct err e = { "" };

	(void)state;
	if (cli_parse(argc, argv, 0, &cfg, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cfg.nblock, 2);
	assert_int_equal(cfg.nnet, 4);
	assert_int_equal(cfg.block[0].jail_id, 1001);
	assert_int_equal(cfg.block[1].jail_id, 1002);
	assert_string_equal(cfg.net[0].tap, "tap0");
	assert_null(cfg.net[0].socket);
	assert_string_equal(cfg.net[0].id, "eth0");
	assert_mac(&cfg.net[0], "52:54:00:12:34:56");
	assert_null(cfg.net[0].test_forbidden);
	assert_int_equal(cfg.net[0].jail_id, 1003);
	assert_true(cfg.net[0].seccomp_log);
	assert_null(cfg.net[1].tap);
	assert_string_equal(cfg.net[1].socket, "/run/net.sock");
	assert_string_equal(cfg.net[1].id, "ext");
	assert_mac(&cfg.net[1], "02:00:00:00:00:01");
	assert_string_equal(cfg.net[2].tap, "t.2-x_y");
	assert_string_equal(cfg.net[2].id, "eth2");
	assert_mac(&cfg.net[2], "aa:bb:cc:dd:ee:0f");
	assert_string_equal(cfg.net[3].tap, "0123456789abcde");
	assert_mac(&cfg.net[3], "52:54:00:12:34:59");
	assert_string_equal(cfg.net[3].test_forbidden, "socket");
	assert_int_equal(cfg.net[3].jail_id, 1006);
	check_blocks_sane(&cfg);
	check_nets_sane(&cfg);
	/* a plain command line has no interfaces */
	assert_int_equal(cli_parse(3, argv, 0, &cfg, &e), 0);
	assert_int_equal(cfg.nnet, 0);
}

/* Seven interfaces fill every window; their default MACs and ids count
 * up by position, and --block ids stay apart from --net ids. */
static void
test_net_seven(void **state)
{
	static struct vmm_config cfg;
	char *argv[] = { "vmm-reference", "--kernel", "path=k",
	    "--net", "tap=a", "--net", "tap=b", "--net", "tap=c,id=vda",
	    "--net", "tap=d", "--net", "tap=e", "--net", "tap=f",
	    "--net", "socket=/g", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	struct err e = { "" };

	(void)state;
	if (cli_parse(argc, argv, 0, &cfg, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cfg.nnet, 7);
	assert_string_equal(cfg.net[2].id, "vda");
	assert_string_equal(cfg.net[6].id, "eth6");
	assert_mac(&cfg.net[6], "52:54:00:12:34:5c");
	assert_int_equal(cfg.net[6].jail_id, SANDBOX_DEFAULT_ID + 7);
	check_nets_sane(&cfg);
}

/* The vCPU limit is the MP table's room, capped at CLI_MAX_VCPUS. */
static void
test_vcpu_limit(void **state)
{
	static struct vmm_config cfg;
	unsigned max = cli_max_vcpus();
	char num[32], want[96];
	char *argv[] = { "vmm-reference", "--kernel", "path=k", "--vcpu", num,
	    NULL };
	struct err e;

	(void)state;
	assert_int_equal(max, boot_mptable_max_cpus() < CLI_MAX_VCPUS ?
	    boot_mptable_max_cpus() : CLI_MAX_VCPUS);
	assert_in_range(max, 2, CLI_MAX_VCPUS);
	snprintf(num, sizeof(num), "num=%u", max);
	assert_int_equal(cli_parse(5, argv, 0, &cfg, &e), 0);
	assert_int_equal(cfg.vcpus, max);
	assert_int_equal(cli_parse(5, argv, max - 1, &cfg, &e), -EINVAL);
	snprintf(num, sizeof(num), "num=%u", max + 1);
	assert_int_equal(cli_parse(5, argv, 0, &cfg, &e), -EINVAL);
	snprintf(want, sizeof(want), "--vcpu: num=%u: above the limit of %u "
	    "vCPUs", max + 1, max);
	assert_non_null(strstr(e.msg, want));
	snprintf(want, sizeof(want), "1..%u", max);
	assert_non_null(strstr(cli_usage(), want));
}

static const char *const vocab[] = {
	"--kernel", "--memory", "--vcpu", "--initramfs", "--block", "--net",
	"--stats", "socket", "read_only", "id", "on", "off",
	"--", "-", "=", ",", "\"", "path", "cmdline", "kernel_load_addr",
	"size_mib", "num", "0x", "0", "1", "9", "4096", "0xfffff000",
	"18446744073709551616", " ", "a", "\n", "\xff", "x", "\\",
	"--jail-id", "--seccomp-log", "x-test-forbidden", "openat", "3999999937",
	"tap", "mac", "52:54:00:12:34:56", ":", "01:", "00:00:00:00:00:00",
	"0123456789abcdef",
};
#define NVOCAB (sizeof(vocab) / sizeof(vocab[0]))

static void
random_arg(char *buf, size_t size)
{
	size_t len = 0, n = (size_t)rand() % 12, i;
	const char *w;
	char raw[2];

	for (i = 0; i < n; i++) {
		if (rand() % 8 == 0) {
			raw[0] = (char)(1 + rand() % 255);
			raw[1] = '\0';
			w = raw;
		} else {
			w = vocab[(size_t)rand() % NVOCAB];
		}
		if (len + strlen(w) + 1 > size)
			break;
		memcpy(buf + len, w, strlen(w));
		len += strlen(w);
	}
	buf[len] = '\0';
}

/* Whatever the input: -EINVAL with a one-line message, or a sane config. */
static void
check_fuzz_result(int r, const struct vmm_config *cfg, const struct err *e)
{
	if (r != 0) {
		assert_int_equal(r, -EINVAL);
		assert_true(e->msg[0] != '\0');
		assert_null(strchr(e->msg, '\n'));
		return;
	}
	if (cfg->help)
		return;
	assert_non_null(cfg->kernel_path);
	assert_true(cfg->kernel_path[0] != '\0');
	assert_true(strlen(cfg->cmdline) < CLI_CMDLINE_MAX);
	assert_in_range(cfg->vcpus, 1, cli_max_vcpus());
	assert_in_range(cfg->memory_mib, 1, CLI_MAX_MEMORY_MIB);
	assert_in_range(cfg->kernel_load_addr, HIMEM_START, 0xfffff000);
	assert_int_equal(cfg->kernel_load_addr & 0xfff, 0);
	assert_in_range(cfg->jail_id, 1, CLI_JAIL_ID_MAX);
	check_blocks_sane(cfg);
	check_nets_sane(cfg);
}

/* Random argv from the vocabulary: mostly rejected early. */
static int
fuzz_random_argv(char bufs[][256], char **argv)
{
	int argc = 1 + rand() % 8, i;

	for (i = 1; i < argc; i++) {
		random_arg(bufs[i], sizeof(bufs[i]));
		/* half the time start with a real option, to go deeper */
		if (i % 2 == 1 && rand() % 2)
			snprintf(bufs[i], sizeof(bufs[i]), "%s",
			    vocab[(size_t)rand() % 7]);
		argv[i] = bufs[i];
	}
	return argc;
}

/* The good cases come first in the table. */
static size_t
count_good(void)
{
	size_t n = 0;

	while (cases[n].err == NULL)
		n++;
	return n;
}

/* A good table case with 1-3 bytes inserted, deleted or replaced. */
static int
fuzz_mutated_argv(char bufs[][256], char **argv)
{
	const struct cli_case *c = &cases[(size_t)rand() % count_good()];
	int argc = 1, i, m, op;
	size_t len, at;
	char ch;

	while (argc < MAXARGS && c->argv[argc - 1] != NULL) {
		snprintf(bufs[argc], 250, "%s", c->argv[argc - 1]);
		argv[argc] = bufs[argc];
		argc++;
	}
	for (m = 1 + rand() % 3; m > 0 && argc > 1; m--) {
		i = 1 + rand() % (argc - 1);
		len = strlen(bufs[i]);
		at = len ? (size_t)rand() % len : 0;
		ch = "=,\"0x9a\\-\n"[rand() % 10];
		op = rand() % 3;
		if (op == 0 && len > 0) {
			memmove(bufs[i] + at, bufs[i] + at + 1, len - at);
		} else if (op == 1 && len < 249) {
			memmove(bufs[i] + at + 1, bufs[i] + at, len - at + 1);
			bufs[i][at] = ch;
		} else if (len > 0) {
			bufs[i][at] = ch;
		}
	}
	return argc;
}

static void
test_fuzz(void **state)
{
	static char bufs[MAXARGS + 1][256];
	static struct vmm_config cfg;
	const char *seed_env = getenv("CLI_FUZZ_SEED");
	unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 0) : 12345;
	char *argv[MAXARGS + 1];
	struct err e;
	int iter, argc, r, ok = 0;

	(void)state;
	srand(seed);
	for (iter = 0; iter < 200000; iter++) {
		argv[0] = "vmm-reference";
		argc = iter % 2 ? fuzz_random_argv(bufs, argv)
		    : fuzz_mutated_argv(bufs, argv);
		argv[argc] = NULL;
		memset(&e, 0, sizeof(e));
		r = cli_parse(argc, argv, (unsigned)(rand() % 3) * 8, &cfg, &e);
		check_fuzz_result(r, &cfg, &e);
		ok += r == 0;
	}
	print_message("fuzz: seed %u, 200000 argv vectors, %d parsed\n", seed,
	    ok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_defaults_overwrite_garbage),
		cmocka_unit_test(test_check_jail),
		cmocka_unit_test(test_usage_documents_everything),
		cmocka_unit_test(test_vcpu_limit),
		cmocka_unit_test(test_block_good),
		cmocka_unit_test(test_net_good),
		cmocka_unit_test(test_net_seven),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
