/*
 * The vhost-user protocol on the wire, as QEMU's docs/interop/vhost-user.rst
 * defines it: the subset virtio-blk and virtio-net need. Every message is a
 * 12-byte header (request, flags, size) followed by `size` bytes of payload;
 * file descriptors travel as SCM_RIGHTS ancillary data of the same
 * sendmsg(). Fixed-width, explicitly padded structs; request numbers are the
 * spec's. Used by the frontend and the backend library in ipc/ and by the
 * unit tests and fuzz targets; nothing else defines messages.
 */
#ifndef VHOST_USER_H
#define VHOST_USER_H

#include <stdint.h>

/* Front-end message types (the spec's "Front-end message types"). */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_MAX_REQUEST = 41,          /* first number past the spec's list */
};

/* Header flags */
#define VHOST_USER_VERSION       0x1u
#define VHOST_USER_VERSION_MASK  0x3u
#define VHOST_USER_REPLY_MASK    (1u << 2)
#define VHOST_USER_NEED_REPLY    (1u << 3)

/* Virtio feature bit that announces GET/SET_PROTOCOL_FEATURES. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* Protocol feature bits */
#define VHOST_USER_PROTOCOL_F_MQ                   0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD            1
#define VHOST_USER_PROTOCOL_F_RARP                 2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK            3
#define VHOST_USER_PROTOCOL_F_NET_MTU              4
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ          5
#define VHOST_USER_PROTOCOL_F_CROSS_ENDIAN         6
#define VHOST_USER_PROTOCOL_F_CRYPTO_SESSION       7
#define VHOST_USER_PROTOCOL_F_PAGEFAULT            8
#define VHOST_USER_PROTOCOL_F_CONFIG               9
#define VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD      10
#define VHOST_USER_PROTOCOL_F_HOST_NOTIFIER        11
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD       12
#define VHOST_USER_PROTOCOL_F_RESET_DEVICE         13
#define VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS 14
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS  15
#define VHOST_USER_PROTOCOL_F_STATUS               16

/* Limits */
#define VHOST_USER_MAX_REGIONS     8     /* VHOST_MEMORY_BASELINE_NREGIONS */
#define VHOST_USER_MAX_FDS         8     /* at most one fd per region */
#define VHOST_USER_MAX_CONFIG_SIZE 256
#define VHOST_USER_MAX_QUEUES      64    /* ours: vring index limit we accept */

/* u64 payload of SET_VRING_KICK/CALL/ERR: index in bits 0-7; bit 8 set
 * means no fd is attached (polling mode / no notification). */
#define VHOST_USER_VRING_IDX_MASK  0xffull
#define VHOST_USER_VRING_NOFD_MASK (1ull << 8)

/* SET_VRING_ADDR flags */
#define VHOST_VRING_F_LOG 0

struct vhost_user_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;                  /* payload bytes following the header */
};
_Static_assert(sizeof(struct vhost_user_header) == 12, "vhost_user_header");

/* SET_VRING_NUM / SET_VRING_BASE / GET_VRING_BASE / SET_VRING_ENABLE */
struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};
_Static_assert(sizeof(struct vhost_user_vring_state) == 8, "vring_state");

/* SET_VRING_ADDR: ring addresses are the frontend's user (virtual)
 * addresses, translated by the backend through the memory table's
 * userspace_addr; log_guest_addr is guest-physical. */
struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};
_Static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring_addr");

struct vhost_user_memory_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};
_Static_assert(sizeof(struct vhost_user_memory_region) == 32, "memory_region");

/* SET_MEM_TABLE: size is exactly 8 + 32 * nregions, one fd per region. */
struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_memory_region regions[VHOST_USER_MAX_REGIONS];
};
_Static_assert(sizeof(struct vhost_user_memory) == 8 + 32 * 8, "memory");
#define VHOST_USER_MEMORY_SIZE(n) (8u + 32u * (uint32_t)(n))

/* GET_CONFIG / SET_CONFIG: size is exactly 12 + config.size. */
struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
};
_Static_assert(sizeof(struct vhost_user_config) == 12 + 256, "config");
#define VHOST_USER_CONFIG_HDR_SIZE 12u

union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_config config;
};

/* The largest payload any message we accept may carry. */
#define VHOST_USER_MAX_PAYLOAD ((uint32_t)sizeof(union vhost_user_payload))

/* One message as held in memory: header, payload and received fds. */
struct vhost_user_msg {
	struct vhost_user_header hdr;
	union vhost_user_payload payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
};

#endif
