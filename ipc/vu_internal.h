/*
 * ipc/ internals shared by vu_msg.c and vu_backend.c, and the entry points
 * the unit tests and the fuzz target use to drive the backend one message
 * at a time. Not for device code: devices use ipc/vu.h only.
 */
#ifndef IPC_VU_INTERNAL_H
#define IPC_VU_INTERNAL_H

#include "vu.h"

/* True for the requests the backend library implements (the ones
 * vu_msg_check_request checks exactly); the other requests the spec
 * defines pass the check with any size and fd count and are refused. */
bool vu_msg_request_implemented(uint32_t request);

/*
 * A backend for `cfg` on the connected socket `sock` (replies are sent
 * there); sock -1 drops replies (fuzzing without a peer). Returns NULL
 * when cfg is unusable (no ops, num_queues 0 or > VHOST_USER_MAX_QUEUES,
 * max_queue_size 0) or on ENOMEM.
 */
struct vu_backend *vu_backend_new(int sock, const struct vu_backend_config *cfg);

/*
 * Check and handle one received message, as vu_backend_run does: returns
 * 0 (handled, or refused with a REPLY_ACK failure) or -EPROTO (the peer
 * broke the protocol; one line logged) or another -errno (a reply could
 * not be sent). Every fd in msg is consumed (kept or closed); msg->nfds is
 * 0 on return.
 */
int vu_backend_dispatch(struct vu_backend *b, struct vhost_user_msg *msg);

/* Serve the kick fds and the device fd (vu_backend_watch_fd) that are
 * readable now (poll timeout 0), then the rings that asked for
 * vu_backend_rekick before the call. */
void vu_backend_poll_kicks(struct vu_backend *b);

/* Whether vu_backend_rekick was asked for vring `index` and not yet
 * served (tests and fuzz targets driving a device's queue_kick). */
bool vu_backend_rekick_pending(const struct vu_backend *b, unsigned index);

/* Stop every started vring, close every fd, unmap memory, free b. */
void vu_backend_free(struct vu_backend *b);

#endif
