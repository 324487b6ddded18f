/*
 * libFuzzer target for cli_parse(): the input is split into argv words on
 * '\n' and '\0' (so seeds are readable text, one word per line); each word
 * is its own exact-size heap string, so ASan catches a read past one.
 * argv[0] is the program name and argv[argc] is NULL, as from execve.
 * max_vcpus is 0 (no KVM limit) for even-sized inputs, 16 for odd ones.
 *
 * Checks cli_parse()'s contract: returns 0 or -EINVAL; on error a
 * non-empty one-line message NUL-terminated inside ERR_MSG_MAX; argv is not
 * modified; on success every field is inside its documented range.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "fuzz_common.h"
#include "guest_layout_x86_64.h"

#define FUZZ_MAX_WORDS 64

static struct vmm_config fuzz_cfg;   /* ~12 KiB: keep it off the stack */

static int
fuzz_is_sep(uint8_t c)
{
	return c == '\n' || c == '\0';
}

/* Split data into argv[1..]; returns argc. A separator ends a word, so a
 * trailing one adds no empty word; words past FUZZ_MAX_WORDS are dropped. */
static int
fuzz_split(const uint8_t *data, size_t size, char **argv)
{
	size_t i = 0, start;
	int argc = 1;

	FUZZ_CHECK((argv[0] = strdup("vmm-reference")) != NULL);
	while (i < size && argc < FUZZ_MAX_WORDS) {
		start = i;
		while (i < size && !fuzz_is_sep(data[i]))
			i++;
		argv[argc] = strndup((const char *)data + start, i - start);
		FUZZ_CHECK(argv[argc] != NULL);
		argc++;
		i++;   /* skip the separator */
	}
	argv[argc] = NULL;
	return argc;
}

static void
fuzz_check_str(const char *buf, size_t max)
{
	FUZZ_CHECK(memchr(buf, '\0', max) != NULL);
}

static void
fuzz_check_cfg(const struct vmm_config *c, unsigned max_vcpus)
{
	fuzz_check_str(c->cmdline, sizeof(c->cmdline));
	if (c->help)
		return;
	FUZZ_CHECK(c->kernel_path == c->kernel_path_buf);
	fuzz_check_str(c->kernel_path_buf, sizeof(c->kernel_path_buf));
	FUZZ_CHECK(c->kernel_path_buf[0] != '\0');
	FUZZ_CHECK(c->initramfs_path == NULL ||
	    c->initramfs_path == c->initramfs_path_buf);
	if (c->initramfs_path != NULL) {
		fuzz_check_str(c->initramfs_path_buf, sizeof(c->initramfs_path_buf));
		FUZZ_CHECK(c->initramfs_path_buf[0] != '\0');
	}
	FUZZ_CHECK(c->memory_mib >= 1 && c->memory_mib <= CLI_MAX_MEMORY_MIB);
	FUZZ_CHECK(c->vcpus >= 1 && c->vcpus <= cli_max_vcpus());
	FUZZ_CHECK(max_vcpus == 0 || c->vcpus <= max_vcpus);
	FUZZ_CHECK(c->kernel_load_addr >= HIMEM_START);
	FUZZ_CHECK(c->kernel_load_addr <= 0x100000000ull);
	FUZZ_CHECK((c->kernel_load_addr & 0xfff) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_MAX_WORDS + 1], *ptrs[FUZZ_MAX_WORDS + 1];
	char *orig[FUZZ_MAX_WORDS + 1];
	unsigned max_vcpus = (size & 1) ? 16 : 0;
	struct err e;
	int argc, i, rc;

	argc = fuzz_split(data, size, argv);
	/* keep the pointers and copies of the words: argv must be left alone */
	memcpy(ptrs, argv, sizeof(argv));
	for (i = 0; i < argc; i++)
		FUZZ_CHECK((orig[i] = strdup(argv[i])) != NULL);
	fuzz_poison_err(&e);
	rc = cli_parse(argc, argv, max_vcpus, &fuzz_cfg, &e);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (fuzz_verbose())
		fprintf(stderr, "cli_parse: %d: %s\n", rc, rc < 0 ? e.msg : "ok");
	if (rc < 0)
		fuzz_check_err(&e);
	else
		fuzz_check_cfg(&fuzz_cfg, max_vcpus);
	FUZZ_CHECK(argv[argc] == NULL);
	for (i = 0; i < argc; i++) {
		FUZZ_CHECK(argv[i] == ptrs[i] && strcmp(argv[i], orig[i]) == 0);
		free(argv[i]);
		free(orig[i]);
	}
	return 0;
}
