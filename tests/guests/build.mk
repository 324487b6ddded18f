# Selftest guests (tests/guests/*.c): small freestanding programs, each
# packaged three ways from the same objects:
#   build/guests/NAME-pvh.elf   ELF with the PVH note (32-bit PVH entry)
#   build/guests/NAME-elf.elf   ELF without it (64-bit Linux boot protocol)
#   build/guests/NAME.bzImage   bzImage (setup header + flat payload)
# A guest is NAME.c plus any NAME_*.c / NAME_*.S beside it (except another
# guest's NAME.c: virtio_blk_hostile.c is not part of virtio_blk), linked
# with tests/guests/lib.

GUEST_NAMES := boot_state smp serial_echo hello triple_fault emulation_fail irq_selftest \
	virtio_blk virtio_blk_hostile virtio_net
GUEST_SRC   := tests/guests
GUEST_OUT   := $(BUILD)/guests
GUEST_OBJ   := $(GUEST_OUT)/obj
GUEST_LDS   := $(GUEST_SRC)/lib/guest.ld
GUEST_CC    ?= $(CC)

GUEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -MD -MP -Iinclude -I$(GUEST_SRC)/lib \
	-ffreestanding -fno-pic -fno-pie -mno-red-zone -mcmodel=small \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fcf-protection=none
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(GUEST_LDS) \
	-Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 \
	-Wl,--no-warn-rwx-segments

GUEST_LIB_OBJS := $(patsubst $(GUEST_SRC)/%.c,$(GUEST_OBJ)/%.o,$(wildcard $(GUEST_SRC)/lib/*.c)) \
	$(GUEST_OBJ)/lib/entry_x86_64.o $(GUEST_OBJ)/lib/idt_x86_64.o
guest_objs = $(GUEST_OBJ)/$(1).o \
	$(patsubst $(GUEST_SRC)/%.c,$(GUEST_OBJ)/%.o,$(filter-out \
		$(GUEST_NAMES:%=$(GUEST_SRC)/%.c),$(wildcard $(GUEST_SRC)/$(1)_*.c))) \
	$(patsubst $(GUEST_SRC)/%.S,$(GUEST_OBJ)/%.o,$(wildcard $(GUEST_SRC)/$(1)_*.S))

GUEST_TARGETS := $(foreach g,$(GUEST_NAMES),$(GUEST_OUT)/$(g)-pvh.elf \
	$(GUEST_OUT)/$(g)-elf.elf $(GUEST_OUT)/$(g).bzImage)
ALL_TARGETS += $(GUEST_TARGETS)

.PHONY: guests
guests: $(GUEST_TARGETS)

$(GUEST_OBJ)/%.o: $(GUEST_SRC)/%.c | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_OBJ)/%.o: $(GUEST_SRC)/%.S | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS      $@")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_OBJ)/lib/packaging_elf.o: $(GUEST_SRC)/lib/packaging.S
	@mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -DPACKAGING=GUEST_KIND_ELF64 -c -o $@ $<

$(GUEST_OBJ)/lib/packaging_bz.o: $(GUEST_SRC)/lib/packaging.S
	@mkdir -p $(@D)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -DPACKAGING=GUEST_KIND_BZIMAGE -c -o $@ $<

# $(1) = guest name, $(2) = output, $(3) = packaging object
define GUEST_LINK
$(2): $(call guest_objs,$(1)) $(GUEST_LIB_OBJS) $(3) $(GUEST_LDS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $(call guest_objs,$(1)) $$(GUEST_LIB_OBJS) $(3)
endef
$(foreach g,$(GUEST_NAMES),\
	$(eval $(call GUEST_LINK,$(g),$(GUEST_OUT)/$(g)-pvh.elf,$(GUEST_OBJ)/lib/pvh_note.o))\
	$(eval $(call GUEST_LINK,$(g),$(GUEST_OUT)/$(g)-elf.elf,$(GUEST_OBJ)/lib/packaging_elf.o))\
	$(eval $(call GUEST_LINK,$(g),$(GUEST_OBJ)/$(g)-bz.elf,$(GUEST_OBJ)/lib/packaging_bz.o)))

# bzImage: flat payload (objcopy), then the setup header around it.
$(GUEST_OUT)/%.bzImage: $(GUEST_OBJ)/%-bz.elf $(GUEST_SRC)/lib/bzimage.S $(GUEST_SRC)/lib/bzimage.h
	@$(if $(Q),echo "  BZIMAGE $@")
	$(Q)objcopy -O binary $< $(GUEST_OBJ)/$*.payload
	$(Q)sym() { nm $< | awk -v s=$$1 '$$3 == s { print "0x" $$1 }'; }; \
	size=$$(stat -c %s $(GUEST_OBJ)/$*.payload); \
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $(GUEST_OBJ)/$*.bzimage.o \
		-DPAYLOAD='"$(GUEST_OBJ)/$*.payload"' \
		-DSYSSIZE=$$(( (size + 15) / 16 )) \
		-DINIT_SIZE=$$(( $$(sym __image_end) - 0x100000 )) \
		-DKERNEL_INFO_OFFSET=$$(( $$(sym kernel_info) - 0x100000 )) \
		$(GUEST_SRC)/lib/bzimage.S
	$(Q)objcopy -O binary -j .text $(GUEST_OBJ)/$*.bzimage.o $@
