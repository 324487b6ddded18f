/*
 * Private to ipc/vu_backend.c (messages and vring state) and
 * ipc/vu_backend_loop.c (set-up and the poll loop): the backend's state.
 */
#ifndef IPC_VU_BACKEND_PRIV_H
#define IPC_VU_BACKEND_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "vu.h"

struct vu_vring {
	uint16_t num;                /* 0: SET_VRING_NUM not received */
	uint16_t base;
	bool addr_set;
	uint64_t desc_qva, avail_qva, used_qva;
	int kick_fd, call_fd, err_fd;
	bool started;
	bool enabled;                /* SET_VRING_ENABLE's last value */
	bool broken;                 /* vu_backend_ring_error or bad kick fd */
	bool rekick;                 /* vu_backend_rekick: call queue_kick again */
	bool call_missed;            /* a notification found no call fd */
	bool err_missed;             /* a ring error found no err fd */
};

struct vu_backend {
	int sock;
	const struct vu_backend_config *cfg;
	uint64_t features;           /* acked by SET_FEATURES */
	uint64_t protocol_features;  /* acked by SET_PROTOCOL_FEATURES */
	struct vu_mem mem;
	const char *why;             /* reason of the last refusal */
	struct vu_vring vq[VHOST_USER_MAX_QUEUES];
	int dev_fd;                  /* vu_backend_watch_fd: -1 none */
	short dev_events;            /* 0: not polled */
};

/* One line "NAME: vhost-user: WHAT: why" on stderr. */
void vu_be_log(const struct vu_backend *b, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether vring i is started, enabled, unbroken and has a kick fd. */
bool vu_be_vring_ready(const struct vu_backend *b, const struct vu_vring *vq);

/* Let the device process vring i, if it is ready. */
void vu_be_vring_kick(struct vu_backend *b, unsigned i);

/* Stop vring i and close its fds. */
void vu_be_vring_reset(struct vu_backend *b, unsigned i);

#endif
