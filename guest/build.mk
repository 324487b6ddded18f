# Linux guest artifacts, only from Debian packages (see guest/*.sh):
#   make guest        build/guest/{vmlinux,bzImage,initramfs.cpio.gz,rootfs.ext4}
#                     (cached under ~/.cache/vmm-reference/ by a hash of the
#                     inputs; unchanged inputs make this instant)
#   make guest-check  boot them under QEMU TCG (no KVM needed) and check the
#                     output: bzImage and ELF vmlinux (PVH), 1 and 2 vCPUs,
#                     the initramfs, and the rootfs on virtio-blk with fio/iperf3
# The scripts decide whether anything is stale, so both targets are phony.
GUEST_OUT := $(BUILD)/guest

.PHONY: guest guest-check
guest:
	$(Q)$(DEPS) build guest
	$(Q)guest/kernel.sh $(GUEST_OUT)
	$(Q)guest/userland.sh $(GUEST_OUT)

guest-check: guest
	$(Q)$(DEPS) bench
	$(Q)guest/check.sh $(GUEST_OUT)
