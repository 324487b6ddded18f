# build/vmm-reference
VMM_SRCS := $(wildcard vmm/*.c)
VMM_OBJS := $(VMM_SRCS:%.c=$(BUILD)/%.o)
VMM_BIN  := $(BUILD)/vmm-reference

ALL_TARGETS += $(VMM_BIN)

$(VMM_BIN): $(VMM_OBJS) $(IPC_OBJS) $(SANDBOX_OBJS) | deps-build deps-sandbox
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lpthread $(SANDBOX_LIBS)

$(BUILD)/vmm/%.o: vmm/%.c | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
