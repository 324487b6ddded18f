# devices/: the device processes. devices/*.c is the code they share (the
# split virtqueue), devices/common/ what their main()s share; devices/blk/
# is build/vmm-blk, devices/net/ is build/vmm-net.
DEV_COMMON_SRCS := $(wildcard devices/*.c)
DEV_COMMON_OBJS := $(DEV_COMMON_SRCS:%.c=$(BUILD)/%.o)
BLK_SRCS := $(wildcard devices/blk/*.c)
BLK_OBJS := $(BLK_SRCS:%.c=$(BUILD)/%.o)
BLK_BIN  := $(BUILD)/vmm-blk
NET_SRCS := $(wildcard devices/net/*.c)
NET_OBJS := $(NET_SRCS:%.c=$(BUILD)/%.o)
NET_BIN  := $(BUILD)/vmm-net
# main() code both processes share (exits on error: not for unit tests)
DEV_MAIN_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard devices/common/*.c))

# What unit tests may link: everything but each process's main.o.
DEV_LIB_OBJS = $(DEV_COMMON_OBJS) $(filter-out %/main.o,$(BLK_OBJS)) \
	$(filter-out %/main.o,$(NET_OBJS))

ALL_TARGETS += $(BLK_BIN) $(NET_BIN)

$(BLK_BIN): $(BLK_OBJS) $(DEV_MAIN_OBJS) $(DEV_COMMON_OBJS) $(IPC_OBJS) $(SANDBOX_OBJS) | deps-build deps-sandbox
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SANDBOX_LIBS)

$(NET_BIN): $(NET_OBJS) $(DEV_MAIN_OBJS) $(DEV_COMMON_OBJS) $(IPC_OBJS) $(SANDBOX_OBJS) | deps-build deps-sandbox
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SANDBOX_LIBS)

# Each device's directory first, so its own headers are found by name.
$(BUILD)/devices/net/%.o: devices/net/%.c | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -Idevices/net -c -o $@ $<

$(BUILD)/devices/%.o: devices/%.c | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -Idevices/blk -c -o $@ $<
