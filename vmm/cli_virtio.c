/*
 * The keys of the virtio device options: --block (a disk) and --net (a
 * network interface). Both share the CLI_MAX_VIRTIO virtio-mmio windows:
 * blocks take windows 0.. in CLI order, then the nets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "guest_layout_x86_64.h"
#include "sandbox.h"

/* 52:54:00:12:34:56 (QEMU's first MAC) + position among --net */
static const uint8_t cli_mac_base[CLI_MAC_LEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* Room for one more virtio device, --block and --net together. */
static int
cli_virtio_room(struct cli_state *st)
{
	if (st->cfg->nblock + st->cfg->nnet < CLI_MAX_VIRTIO)
		return 0;
	return err_set(st->e, -EINVAL, "%s: at most %u virtio devices (IRQs %u..%u), "
	    "--block and --net together", st->opt, CLI_MAX_VIRTIO,
	    VIRTIO_MMIO_FIRST_IRQ, VIRTIO_MMIO_FIRST_IRQ + CLI_MAX_VIRTIO - 1);
}

/* An id= value: at most CLI_ID_MAX bytes of [A-Za-z0-9._-]. */
static int
cli_kv_id(struct cli_state *st, const struct cli_kv *kv, char *id, size_t size)
{
	char v[CLI_SHOW_MAX + 4];
	size_t i;
	int r = cli_kv_string(st, kv, "id", id, size);

	if (r < 0)
		return r;
	for (i = 0; id[i] != '\0'; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", id[i]))
			return err_set(st->e, -EINVAL, "%s: id=%s: only letters, "
			    "digits, '.', '_' and '-'", st->opt,
			    cli_show(v, kv->val, kv->vlen));
	return 0;
}

/* The syscalls a test may make a jailed device process attempt
 * (x-test-forbidden=, passed on as --x-test-forbidden;
 * sandbox_test_forbidden_arm()): the sandbox's one list. */
static int
cli_kv_forbidden(struct cli_state *st, const struct cli_kv *kv, const char **out)
{
	char v[CLI_SHOW_MAX + 4];
	const char *name;

	name = sandbox_test_forbidden_name(sandbox_test_forbidden_index(kv->val, kv->vlen));
	if (name != NULL) {
		*out = name;
		return 0;
	}
	return err_set(st->e, -EINVAL, "%s: x-test-forbidden=%s: expected openat, "
	    "execve, socket or ptrace", st->opt, cli_show(v, kv->val, kv->vlen));
}

/* ---- --block ---- */

static struct cli_block *
cli_cur_block(struct cli_state *st)
{
	return &st->cfg->block[st->cfg->nblock - 1];
}

int
cli_block_begin(struct cli_state *st)
{
	int r = cli_virtio_room(st);

	if (r == 0)
		st->cfg->nblock++;
	return r;
}

int
cli_block_finish(struct cli_state *st)
{
	struct cli_block *b = cli_cur_block(st);

	if (b->path == NULL && b->socket == NULL)
		return err_set(st->e, -EINVAL, "%s: missing path=FILE or "
		    "socket=PATH", st->opt);
	if (b->path != NULL && b->socket != NULL)
		return err_set(st->e, -EINVAL, "%s: path= and socket= are "
		    "mutually exclusive", st->opt);
	if (b->socket != NULL && b->read_only)
		return err_set(st->e, -EINVAL, "%s: read_only= needs path= "
		    "(an external backend decides itself)", st->opt);
	if (b->socket != NULL && b->test_forbidden != NULL)
		return err_set(st->e, -EINVAL, "%s: x-test-forbidden= needs path= "
		    "(it is passed to the vmm-blk the vmm starts)", st->opt);
	return 0;
}

int
cli_set_block_path(struct cli_state *st, const struct cli_kv *kv)
{
	struct cli_block *b = cli_cur_block(st);
	int r = cli_kv_string(st, kv, "path", b->path_buf, sizeof(b->path_buf));

	if (r == 0)
		b->path = b->path_buf;
	return r;
}

int
cli_set_block_socket(struct cli_state *st, const struct cli_kv *kv)
{
	struct cli_block *b = cli_cur_block(st);
	int r = cli_kv_string(st, kv, "socket", b->socket_buf,
	    sizeof(b->socket_buf));

	if (r == 0)
		b->socket = b->socket_buf;
	return r;
}

int
cli_set_block_ro(struct cli_state *st, const struct cli_kv *kv)
{
	char v[CLI_SHOW_MAX + 4];

	if (kv->vlen == 2 && memcmp(kv->val, "on", 2) == 0)
		cli_cur_block(st)->read_only = 1;
	else if (kv->vlen == 3 && memcmp(kv->val, "off", 3) == 0)
		cli_cur_block(st)->read_only = 0;
	else
		return err_set(st->e, -EINVAL, "%s: read_only=%s: expected on "
		    "or off", st->opt, cli_show(v, kv->val, kv->vlen));
	return 0;
}

int
cli_set_block_id(struct cli_state *st, const struct cli_kv *kv)
{
	struct cli_block *b = cli_cur_block(st);

	return cli_kv_id(st, kv, b->id, sizeof(b->id));
}

int
cli_set_block_forbidden(struct cli_state *st, const struct cli_kv *kv)
{
	return cli_kv_forbidden(st, kv, &cli_cur_block(st)->test_forbidden);
}

/* ---- --net ---- */

static struct cli_net *
cli_cur_net(struct cli_state *st)
{
	return &st->cfg->net[st->cfg->nnet - 1];
}

int
cli_net_begin(struct cli_state *st)
{
	int r = cli_virtio_room(st);

	if (r == 0)
		st->cfg->nnet++;
	return r;
}

int
cli_net_finish(struct cli_state *st)
{
	struct cli_net *n = cli_cur_net(st);

	if (n->tap == NULL && n->socket == NULL)
		return err_set(st->e, -EINVAL, "%s: missing tap=NAME or "
		    "socket=PATH", st->opt);
	if (n->tap != NULL && n->socket != NULL)
		return err_set(st->e, -EINVAL, "%s: tap= and socket= are "
		    "mutually exclusive", st->opt);
	if (n->socket != NULL && n->test_forbidden != NULL)
		return err_set(st->e, -EINVAL, "%s: x-test-forbidden= needs tap= "
		    "(it is passed to the vmm-net the vmm starts)", st->opt);
	return 0;
}

/* A Linux interface name (dev_valid_name): 1..15 bytes, not "." or "..",
 * no '/', ':' or white space; and no '%' (TUNSETIFF would pick a number). */
int
cli_set_net_tap(struct cli_state *st, const struct cli_kv *kv)
{
	struct cli_net *n = cli_cur_net(st);
	char v[CLI_SHOW_MAX + 4];
	size_t i;
	int r = cli_kv_string(st, kv, "tap", n->tap_buf, sizeof(n->tap_buf));

	if (r < 0)
		return r;
	for (i = 0; n->tap_buf[i] != '\0'; i++)
		if (n->tap_buf[i] <= ' ' || n->tap_buf[i] >= 0x7f ||
		    n->tap_buf[i] == '/' || n->tap_buf[i] == ':' ||
		    n->tap_buf[i] == '%')
			break;
	if (n->tap_buf[i] != '\0' || strcmp(n->tap_buf, ".") == 0 ||
	    strcmp(n->tap_buf, "..") == 0)
		return err_set(st->e, -EINVAL, "%s: tap=%s: not an interface name "
		    "(no '/', ':', '%%', white space; not . or ..)", st->opt,
		    cli_show(v, kv->val, kv->vlen));
	n->tap = n->tap_buf;
	return 0;
}

int
cli_set_net_socket(struct cli_state *st, const struct cli_kv *kv)
{
	struct cli_net *n = cli_cur_net(st);
	int r = cli_kv_string(st, kv, "socket", n->socket_buf,
	    sizeof(n->socket_buf));

	if (r == 0)
		n->socket = n->socket_buf;
	return r;
}

static int
cli_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "XX:XX:XX:XX:XX:XX" into mac; -EINVAL when not exactly that. */
static int
cli_parse_mac(const char *s, size_t len, uint8_t mac[CLI_MAC_LEN])
{
	unsigned i;
	int hi, lo;

	if (len != 3 * CLI_MAC_LEN - 1)
		return -EINVAL;
	for (i = 0; i < CLI_MAC_LEN; i++) {
		hi = cli_hex_digit(s[3 * i]);
		lo = cli_hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i + 1 < CLI_MAC_LEN && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A unicast, non-zero MAC address in the usual notation. */
int
cli_set_net_mac(struct cli_state *st, const struct cli_kv *kv)
{
	static const uint8_t zero[CLI_MAC_LEN];
	struct cli_net *n = cli_cur_net(st);
	char v[CLI_SHOW_MAX + 4];

	cli_show(v, kv->val, kv->vlen);
	if (cli_parse_mac(kv->val, kv->vlen, n->mac) < 0)
		return err_set(st->e, -EINVAL, "%s: mac=%s: expected 6 hex pairs "
		    "XX:XX:XX:XX:XX:XX", st->opt, v);
	if (n->mac[0] & 1)
		return err_set(st->e, -EINVAL, "%s: mac=%s: a multicast address "
		    "(the first byte is odd); a NIC needs a unicast one", st->opt, v);
	if (memcmp(n->mac, zero, CLI_MAC_LEN) == 0)
		return err_set(st->e, -EINVAL, "%s: mac=%s: the all-zero address",
		    st->opt, v);
	n->mac_given = 1;
	return 0;
}

int
cli_set_net_id(struct cli_state *st, const struct cli_kv *kv)
{
	struct cli_net *n = cli_cur_net(st);

	return cli_kv_id(st, kv, n->id, sizeof(n->id));
}

int
cli_set_net_forbidden(struct cli_state *st, const struct cli_kv *kv)
{
	return cli_kv_forbidden(st, kv, &cli_cur_net(st)->test_forbidden);
}

/* ---- after the whole command line ---- */

/* mac = base + n, as one 48-bit number */
static void
cli_default_mac(uint8_t mac[CLI_MAC_LEN], unsigned n)
{
	unsigned carry = n, i;

	memcpy(mac, cli_mac_base, CLI_MAC_LEN);
	for (i = CLI_MAC_LEN; i-- > 0 && carry != 0; carry >>= 8) {
		carry += mac[i];
		mac[i] = (uint8_t)carry;
	}
}

/* The first id used twice among n ids of stride `stride` bytes, or NULL. */
static const char *
cli_dup_id(const char *ids, unsigned n, size_t stride)
{
	unsigned i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(ids + i * stride, ids + j * stride) == 0)
				return ids + i * stride;
	return NULL;
}

static int
cli_block_ids(struct vmm_config *cfg, struct err *e)
{
	const char *dup;
	unsigned i;

	for (i = 0; i < cfg->nblock; i++) {
		if (cfg->block[i].id[0] == '\0')
			snprintf(cfg->block[i].id, sizeof(cfg->block[i].id),
			    "vd%c", 'a' + i);
		cfg->block[i].jail_id = cfg->jail_id + 1 + i;
		cfg->block[i].seccomp_log = cfg->seccomp_log;
	}
	dup = cli_dup_id(cfg->block[0].id, cfg->nblock, sizeof(cfg->block[0]));
	if (dup != NULL)
		return err_set(e, -EINVAL, "--block: id=%s used by two devices "
		    "(defaults are vda, vdb, ... by position)", dup);
	return 0;
}

static int
cli_net_ids(struct vmm_config *cfg, struct err *e)
{
	struct cli_net *n;
	const char *dup;
	unsigned i;

	for (i = 0; i < cfg->nnet; i++) {
		n = &cfg->net[i];
		if (n->id[0] == '\0')
			snprintf(n->id, sizeof(n->id), "eth%u", i);
		if (!n->mac_given)
			cli_default_mac(n->mac, i);
		n->jail_id = cfg->jail_id + 1 + cfg->nblock + i;
		n->seccomp_log = cfg->seccomp_log;
	}
	dup = cli_dup_id(cfg->net[0].id, cfg->nnet, sizeof(cfg->net[0]));
	if (dup != NULL)
		return err_set(e, -EINVAL, "--net: id=%s used by two interfaces "
		    "(defaults are eth0, eth1, ... by position)", dup);
	return 0;
}

int
cli_virtio_finish(struct vmm_config *cfg, struct err *e)
{
	int r = cli_block_ids(cfg, e);

	return r < 0 ? r : cli_net_ids(cfg, e);
}
