/*
 * The tap of a --net tap=NAME, opened by the vmm before its jail and handed
 * to the vmm-net it spawns (vmm-net opens nothing itself).
 */
#ifndef VMM_TAP_H
#define VMM_TAP_H

#include "err.h"

#define TAP_VNET_HDR_LEN 12   /* struct virtio_net_hdr_v1 */

/*
 * Open /dev/net/tun and attach to the tap `name` (created when missing,
 * which needs CAP_NET_ADMIN) with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (one
 * queue, so a tap another process holds gives EBUSY), check with
 * TUNGETIFF that it is that tap with those flags, and set
 * TUNSETVNETHDRSZ to TAP_VNET_HDR_LEN. The fd is O_CLOEXEC and
 * O_NONBLOCK. Returns the fd, or -errno with one line in e:
 * "--net tap=NAME: WHAT: why (hint)".
 */
int tap_open(const char *name, struct err *e);

#endif
