/*
 * The virtio-net device of the vmm (--net): open the tap and spawn vmm-net
 * on it, or connect to an external vhost-user-net backend. The config
 * space (MAC, link status) is the vmm's own, as in QEMU: the backend is
 * never asked for it and never sent MAC or STATUS. The rest is
 * vhost_dev.c's.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vhost_dev_internal.h"

#define VHOST_NET_QUEUES 2        /* VIRTIO_NET_RXQ, VIRTIO_NET_TXQ */

_Static_assert(VIRTIO_NET_RXQ == 0 && VIRTIO_NET_TXQ == 1, "queue pair 0");

/* Handshake and queue count, then the register file with our config
 * space. Errors start with `input` ("--net socket=PATH"). */
static int
vhost_net_setup(struct vhost_dev *d, const struct cli_net *n, const char *input,
    struct err *e)
{
	struct virtio_net_config config = {
		.status = htole16(VIRTIO_NET_S_LINK_UP),
		.max_virtqueue_pairs = htole16(1),
	};
	uint64_t nq = VHOST_NET_QUEUES, features;
	int rc;

	if ((rc = vhost_dev_handshake(d, input, &nq, e)) < 0)
		return rc;
	if (nq < VHOST_NET_QUEUES)
		return err_set(e, -ENOTSUP, "%s: the backend serves %llu queue%s; "
		    "virtio-net needs %u (RX and TX)", input, (unsigned long long)nq,
		    nq == 1 ? "" : "s", VHOST_NET_QUEUES);
	d->nqueues = VHOST_NET_QUEUES;
	memcpy(config.mac, n->mac, sizeof(config.mac));
	features = (d->front.features & VHOST_DEV_NET_FEATURES) |
	    VHOST_DEV_NET_OWN_FEATURES;
	return vhost_dev_setup(d, input, VIRTIO_ID_NET, features, &config,
	    sizeof(config), e);
}

/* Open the tap and spawn `vmm-net --socket-fd 3 --tap-fd 4 --id ID` plus
 * the common tail; our copy of the tap is closed either way. input gets
 * "--net tap=NAME: vmm-net (pid N)" for the later errors. */
static int
vhost_net_spawn(struct vhost_dev *d, const struct cli_net *n, char *input,
    size_t size, struct err *e)
{
	char *argv[VHOST_DEV_ARGV_MAX], jail_id[16];
	unsigned i = 1;
	int rc, tap_fd = tap_open(n->tap, e);

	if (tap_fd < 0)
		return tap_fd;
	argv[i++] = "--socket-fd";
	argv[i++] = "3";
	argv[i++] = "--tap-fd";
	argv[i++] = "4";
	argv[i++] = "--id";
	argv[i++] = (char *)n->id;
	vhost_dev_argv_tail(argv, &i, n->jail_id, n->seccomp_log, n->test_forbidden,
	    jail_id);
	snprintf(input, size, "--net tap=%s", n->tap);
	rc = vhost_dev_spawn(d, "vmm-net", "VMM_NET_BIN", argv, tap_fd, input, e);
	close(tap_fd);
	snprintf(input, size, "--net tap=%s: %s", n->tap, d->backend);
	return rc;
}

int
vhost_dev_create_net(const struct cli_net *n, unsigned index,
    struct vhost_dev **out, struct err *e)
{
	struct vhost_dev *d = vhost_dev_new(index, "net", n->id);
	char input[ERR_MSG_MAX];
	int rc;

	if (d == NULL)
		return err_set(e, -ENOMEM, "net %s: out of memory", n->id);
	if (n->tap != NULL) {
		rc = vhost_net_spawn(d, n, input, sizeof(input), e);
	} else {
		rc = vhost_dev_connect(d, "--net", n->socket, e);
		snprintf(input, sizeof(input), "--net socket=%s", n->socket);
	}
	if (rc == 0)
		rc = vhost_net_setup(d, n, input, e);
	return vhost_dev_created(d, rc, out);
}
