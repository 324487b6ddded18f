/*
 * Internals of the command-line parser shared by cli.c (the option table,
 * the key=value splitter, the plain options) and cli_virtio.c (the keys of
 * the virtio device options --block and --net). Not for other modules.
 */
#ifndef VMM_CLI_INTERNAL_H
#define VMM_CLI_INTERNAL_H

#include <stddef.h>

#include "cli.h"

#define CLI_SHOW_MAX 48   /* longest piece of user input echoed in a message */

/* One key=value item of an option's argument; val is not NUL-terminated. */
struct cli_kv {
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
	int has_val;   /* an '=' followed the key */
	int quoted;    /* the value was written "..." (may hold \" and \\) */
};

struct cli_state {
	struct vmm_config *cfg;
	unsigned max_vcpus;
	const char *opt;   /* the option being parsed ("--kernel"), for messages */
	struct err *e;
};

/* Copy at most CLI_SHOW_MAX bytes of s[0..len) into buf (CLI_SHOW_MAX + 4
 * bytes) for a message, non-printables as '?', "..." when cut; returns buf. */
const char *cli_show(char *buf, const char *s, size_t len);

/* Decode kv's value (quotes and escapes undone) into buf[size], or fail
 * naming `key` and the limit (size - 1 bytes). */
int cli_kv_string(struct cli_state *st, const struct cli_kv *kv, const char *key,
    char *buf, size_t size);

/* The keys of --block and --net (cli_virtio.c). begin: room for one more
 * virtio device (--block and --net share CLI_MAX_VIRTIO windows), then a
 * new entry; finish: the key combinations of that entry. */
int cli_block_begin(struct cli_state *st);
int cli_block_finish(struct cli_state *st);
int cli_set_block_path(struct cli_state *st, const struct cli_kv *kv);
int cli_set_block_socket(struct cli_state *st, const struct cli_kv *kv);
int cli_set_block_ro(struct cli_state *st, const struct cli_kv *kv);
int cli_set_block_id(struct cli_state *st, const struct cli_kv *kv);
int cli_set_block_forbidden(struct cli_state *st, const struct cli_kv *kv);
int cli_net_begin(struct cli_state *st);
int cli_net_finish(struct cli_state *st);
int cli_set_net_tap(struct cli_state *st, const struct cli_kv *kv);
int cli_set_net_socket(struct cli_state *st, const struct cli_kv *kv);
int cli_set_net_mac(struct cli_state *st, const struct cli_kv *kv);
int cli_set_net_id(struct cli_state *st, const struct cli_kv *kv);
int cli_set_net_forbidden(struct cli_state *st, const struct cli_kv *kv);

/* After the whole command line: default ids ("vda".., "eth0"..) and MACs
 * by position, no id twice within --block or within --net, and each
 * device's jail id (cfg->jail_id + 1 + its window: blocks first, then
 * nets) and --seccomp-log. Returns 0 or -EINVAL with e. */
int cli_virtio_finish(struct vmm_config *cfg, struct err *e);

#endif
