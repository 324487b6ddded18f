/*
 * What the device types of vhost_dev (vhost_blk.c, vhost_net.c) share with
 * its generic part (vhost_dev.c): creating the struct, reaching the
 * backend (spawned device process or external socket), the handshake, and
 * the register file. Not for other modules.
 */
#ifndef VMM_VHOST_DEV_INTERNAL_H
#define VMM_VHOST_DEV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vhost_dev.h"

#define VHOST_DEV_ARGV_MAX 16      /* a device process's argv, NULL included */

/* A new device for window `index`, named "KIND ID" in messages, with no
 * fd yet; NULL when out of memory. */
struct vhost_dev *vhost_dev_new(unsigned index, const char *kind, const char *id);

/* The options every spawned device process takes after its own:
 * `--jail-id J` (when root and jail_id != 0; J is written into
 * jail_buf[16]), `--seccomp-log`, `--x-test-forbidden NAME`. Appends to
 * argv at *n (the caller leaves room: VHOST_DEV_ARGV_MAX) and NULL-ends it. */
void vhost_dev_argv_tail(char **argv, unsigned *n, unsigned jail_id,
    int seccomp_log, const char *forbidden, char jail_buf[16]);

/* Find device binary `bin_name` (next to ours, or $env), put its path in
 * argv[0] and fork+exec it with fd 3 our socketpair's other end and fd 4
 * dev_fd; d->pid, d->backend ("vmm-blk (pid N)", the host pid) and
 * d->front are set. The caller still closes dev_fd. input names the
 * option in errors ("--block path=X"). Returns 0 or -errno with e. */
int vhost_dev_spawn(struct vhost_dev *d, const char *bin_name, const char *env,
    char **argv, int dev_fd, const char *input, struct err *e);

/* socket=: connect to `path` within VHOST_DEV_CONNECT_MS; errors start
 * with "OPT socket=PATH: connect:" (opt: "--block", "--net"). */
int vhost_dev_connect(struct vhost_dev *d, const char *opt, const char *path,
    struct err *e);

/* SET_OWNER, GET_FEATURES (VIRTIO_F_VERSION_1 required), the protocol
 * features, and GET_QUEUE_NUM when MQ was negotiated (*nq untouched
 * otherwise). Errors start with input. */
int vhost_dev_handshake(struct vhost_dev *d, const char *input, uint64_t *nq,
    struct err *e);

/* The reason of a failed vhost-user call: the frontend's, else errno's. */
const char *vhost_dev_why(const struct vhost_dev *d, int rc);

/* d->nqueues set: the eventfds, then the register file with the features
 * offered to the guest and the config space it reads. */
int vhost_dev_setup(struct vhost_dev *d, const char *input, uint32_t device_id,
    uint64_t features, const void *config, uint32_t config_len, struct err *e);

/* The end of a create: on rc == 0 *out = d; else d is destroyed (its
 * process ended) silently. Returns rc. */
int vhost_dev_created(struct vhost_dev *d, int rc, struct vhost_dev **out);

#endif
