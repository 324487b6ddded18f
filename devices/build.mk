# devices/: the device processes. devices/*.c is the code they share (the
# split virtqueue); devices/blk/ is build/vmm-blk.
DEV_COMMON_SRCS := $(wildcard devices/*.c)
DEV_COMMON_OBJS := $(DEV_COMMON_SRCS:%.c=$(BUILD)/%.o)
BLK_SRCS := $(wildcard devices/blk/*.c)
BLK_OBJS := $(BLK_SRCS:%.c=$(BUILD)/%.o)
BLK_BIN  := $(BUILD)/vmm-blk

# What unit tests may link: everything but each process's main.o.
DEV_LIB_OBJS = $(DEV_COMMON_OBJS) $(filter-out %/main.o,$(BLK_OBJS))

ALL_TARGETS += $(BLK_BIN)

$(BLK_BIN): $(BLK_OBJS) $(DEV_COMMON_OBJS) $(IPC_OBJS) $(SANDBOX_OBJS) | deps-build deps-sandbox
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SANDBOX_LIBS)

$(BUILD)/devices/%.o: devices/%.c | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -Idevices/blk -c -o $@ $<
