/*
 * Opening a tap for vmm-net (see tap.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"

#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

/* Why TUNSETIFF may have failed, in the user's terms. */
static const char *
tap_setiff_hint(int err)
{
	switch (err) {
	case EBUSY:
		return " (another process has the tap open)";
	case EINVAL:
		return " (an interface of that name exists but is not a "
		    "single-queue tap)";
	case EPERM:
		return " (creating a tap needs CAP_NET_ADMIN; an existing one "
		    "must belong to this user or group)";
	default:
		return "";
	}
}

static int
tap_fail(int fd, const char *name, const char *what, int err, const char *hint,
    struct err *e)
{
	if (fd >= 0)
		close(fd);
	return err_set(e, -err, "--net tap=%s: %s: %s%s", name, what, strerror(err),
	    hint);
}

/* TUNGETIFF: the kernel's view must be our tap with our flags. */
static int
tap_check(int fd, const char *name, struct err *e)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return tap_fail(fd, name, "TUNGETIFF", errno, "", e);
	if ((ifr.ifr_flags & TAP_FLAGS) != TAP_FLAGS ||
	    strncmp(ifr.ifr_name, name, IFNAMSIZ) != 0) {
		close(fd);
		return err_set(e, -EINVAL, "--net tap=%s: TUNGETIFF reports %.*s "
		    "with flags %#x, not a tap with IFF_NO_PI|IFF_VNET_HDR", name,
		    IFNAMSIZ, ifr.ifr_name, (unsigned)ifr.ifr_flags & 0xffff);
	}
	return 0;
}

int
tap_open(const char *name, struct err *e)
{
	int hdr = TAP_VNET_HDR_LEN, fd, rc;
	struct ifreq ifr;

	if (name[0] == '\0' || strlen(name) >= IFNAMSIZ)
		return err_set(e, -EINVAL, "--net tap=%s: not 1..%d bytes", name,
		    IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return tap_fail(-1, name, "/dev/net/tun", errno, errno == ENOENT ?
		    " (no tun/tap support: modprobe tun?)" : "", e);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = TAP_FLAGS;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return tap_fail(fd, name, "TUNSETIFF", errno, tap_setiff_hint(errno), e);
	if ((rc = tap_check(fd, name, e)) < 0)
		return rc;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return tap_fail(fd, name, "TUNSETVNETHDRSZ", errno, "", e);
	return fd;
}
