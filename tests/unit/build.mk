# cmocka unit tests: every tests/unit/test_*.c becomes build/tests/unit/test_*
# linked against all vmm, ipc and device objects except each main.o (modules are pure enough to
# link together; KVM is never touched by the code under test).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
VMM_LIB_OBJS = $(filter-out $(BUILD)/vmm/main.o,$(VMM_OBJS))

unit-build: $(UNIT_BINS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(VMM_LIB_OBJS) $(IPC_OBJS) $(DEV_LIB_OBJS) | deps-test
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(CFLAGS) -Ivmm -Idevices/blk -o $@ $< $(VMM_LIB_OBJS) $(IPC_OBJS) $(DEV_LIB_OBJS) -lcmocka -lpthread

# Runs every unit test binary; fails if any fails.
unit: unit-build
	$(Q)[ -n "$(UNIT_BINS)" ] || { echo "unit tests: none found"; exit 1; }
	$(Q)fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; \
	  if [ $$fail -ne 0 ]; then echo "unit tests: FAILED"; exit 1; fi; echo "unit tests: all passed"
