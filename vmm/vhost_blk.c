/*
 * The virtio-blk device of the vmm (--block): open the image and spawn
 * vmm-blk on it, or connect to an external vhost-user-blk backend; the
 * config space comes from the backend (GET_CONFIG). The rest is
 * vhost_dev.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_dev_internal.h"

/* The guest's queue count must agree with the config it reads: num_queues
 * is what we expose, and VIRTIO_BLK_F_MQ only with more than one queue
 * (which needs the MQ protocol feature). */
static uint64_t
vhost_blk_fix_config(struct vhost_dev *d, uint8_t *config)
{
	uint16_t nq = (uint16_t)d->nqueues;
	uint64_t features = d->front.features & VHOST_DEV_BLK_FEATURES;

	memcpy(config + offsetof(struct virtio_blk_config, num_queues), &nq, sizeof(nq));
	if (d->nqueues <= 1 ||
	    !(d->front.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_MQ)))
		features &= ~(1ull << VIRTIO_BLK_F_MQ);
	return features;
}

/* Handshake, queue count, config space; then the register file. Errors
 * start with `input` ("--block socket=PATH"). */
static int
vhost_blk_setup(struct vhost_dev *d, const char *input, struct err *e)
{
	uint8_t config[sizeof(struct virtio_blk_config)];
	uint64_t nq = 1, features;
	int rc;

	if ((rc = vhost_dev_handshake(d, input, &nq, e)) < 0)
		return rc;
	if (!(d->front.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_CONFIG)))
		return err_set(e, -ENOTSUP, "%s: the backend lacks the CONFIG protocol "
		    "feature (GET_CONFIG)", input);
	d->nqueues = nq == 0 ? 1 : nq > VIRTIO_MMIO_MAX_QUEUES ? VIRTIO_MMIO_MAX_QUEUES
	    : (unsigned)nq;
	if ((rc = vu_front_get_config(&d->front, 0, config, sizeof(config))) < 0)
		return err_set(e, rc, "%s: %s", input, vhost_dev_why(d, rc));
	features = vhost_blk_fix_config(d, config);
	return vhost_dev_setup(d, input, VIRTIO_ID_BLOCK, features, config,
	    sizeof(config), e);
}

/* Size of an open image: a regular file or a block device. */
static int
vhost_blk_image_size(const struct cli_block *b, int fd, uint64_t *size,
    struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(e, -errno, "--block path=%s: %s", b->path, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return err_set(e, -EINVAL, "--block path=%s: not a regular file or block "
		    "device", b->path);
	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		return err_set(e, -errno, "--block path=%s: BLKGETSIZE64: %s", b->path,
		    strerror(errno));
	return 0;
}

/* Open a --block path= image as vmm-blk will use it; returns the fd. The
 * open never blocks (a FIFO is refused, not waited on). */
static int
vhost_blk_open_image(const struct cli_block *b, struct err *e)
{
	uint64_t size = 0;
	int rc, fd = open(b->path, (b->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return err_set(e, -errno, "--block path=%s: %s%s", b->path, strerror(errno),
		    errno == EACCES || errno == EROFS ? " (read_only=on?)" : "");
	rc = vhost_blk_image_size(b, fd, &size, e);
	if (rc == 0 && (size == 0 || size % VIRTIO_BLK_SECTOR_SIZE != 0))
		rc = err_set(e, -EINVAL, "--block path=%s: %llu bytes, not a non-zero "
		    "multiple of 512", b->path, (unsigned long long)size);
	if (rc == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		rc = err_set(e, -errno, "--block path=%s: fcntl: %s", b->path,
		    strerror(errno));
	if (rc == 0)
		return fd;
	close(fd);
	return rc;
}

/* Open the image and spawn `vmm-blk --socket-fd 3 --disk-fd 4 --id ID
 * [--read-only]` plus the common tail; input gets "--block path=X: vmm-blk
 * (pid N)" for the later errors. */
static int
vhost_blk_spawn(struct vhost_dev *d, const struct cli_block *b, char *input,
    size_t size, struct err *e)
{
	char *argv[VHOST_DEV_ARGV_MAX], jail_id[16];
	unsigned n = 1;
	int rc, disk_fd = vhost_blk_open_image(b, e);

	if (disk_fd < 0)
		return disk_fd;
	argv[n++] = "--socket-fd";
	argv[n++] = "3";
	argv[n++] = "--disk-fd";
	argv[n++] = "4";
	argv[n++] = "--id";
	argv[n++] = (char *)b->id;
	if (b->read_only)
		argv[n++] = "--read-only";
	vhost_dev_argv_tail(argv, &n, b->jail_id, b->seccomp_log, b->test_forbidden,
	    jail_id);
	snprintf(input, size, "--block path=%s", b->path);
	rc = vhost_dev_spawn(d, "vmm-blk", "VMM_BLK_BIN", argv, disk_fd, input, e);
	close(disk_fd);
	snprintf(input, size, "--block path=%s: %s", b->path, d->backend);
	return rc;
}

int
vhost_dev_create_block(const struct cli_block *b, unsigned index,
    struct vhost_dev **out, struct err *e)
{
	struct vhost_dev *d = vhost_dev_new(index, "block", b->id);
	char input[ERR_MSG_MAX];
	int rc;

	if (d == NULL)
		return err_set(e, -ENOMEM, "block %s: out of memory", b->id);
	if (b->path != NULL) {
		rc = vhost_blk_spawn(d, b, input, sizeof(input), e);
	} else {
		rc = vhost_dev_connect(d, "--block", b->socket, e);
		snprintf(input, sizeof(input), "--block socket=%s", b->socket);
	}
	if (rc == 0)
		rc = vhost_blk_setup(d, input, e);
	return vhost_dev_created(d, rc, out);
}
