# build/vu-driver: the host-side test driver. It plays guest and vhost-user
# frontend at once (memfd "guest RAM", rings laid out by itself, the ipc/
# frontend code) against any vhost-user-blk backend: functional checks,
# hostile descriptor tables, and the backend benchmark.
DRIVER_SRCS := $(wildcard tests/driver/*.c)
DRIVER_OBJS := $(DRIVER_SRCS:%.c=$(BUILD)/%.o)
DRIVER_BIN  := $(BUILD)/vu-driver

ALL_TARGETS += $(DRIVER_BIN)

$(DRIVER_BIN): $(DRIVER_OBJS) $(IPC_OBJS) | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm -lpthread

$(BUILD)/tests/driver/%.o: tests/driver/%.c | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
