# ipc/: the vhost-user protocol (frontend and backend library), linked into
# the vmm, every device process, the host test driver and the unit tests.
IPC_SRCS := $(wildcard ipc/*.c)
IPC_OBJS := $(IPC_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/ipc/%.o: ipc/%.c | deps-build
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
