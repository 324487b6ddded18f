# cmocka unit tests: every tests/unit/test_*.c becomes build/tests/unit/test_*
# linked against all vmm, ipc, device and sandbox objects except each main.o
# (modules are pure enough to link together; KVM is never touched by the
# code under test).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
VMM_LIB_OBJS = $(filter-out $(BUILD)/vmm/main.o,$(VMM_OBJS))

unit-build: $(UNIT_BINS)

UNIT_LIB_OBJS = $(VMM_LIB_OBJS) $(IPC_OBJS) $(DEV_LIB_OBJS) $(SANDBOX_OBJS) $(POLICY_OBJS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(UNIT_LIB_OBJS) | deps-test deps-sandbox
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(CFLAGS) $(UNIT_CFLAGS) -Ivmm -Idevices/blk -Idevices/net -o $@ $< $(UNIT_LIB_OBJS) $(UNIT_EXTRA_OBJS) \
	  -lcmocka -lpthread $(SANDBOX_LIBS)

# test_policy parses every profile of the build; test_sandbox jails itself
# under a profile of its own (sandbox_prog_test).
$(BUILD)/tests/unit/test_policy: UNIT_CFLAGS = -DPROFILES_DIR='"$(PROFILES_DIR)"'
$(BUILD)/tests/unit/test_policy: $(GEN_DIR)/profiles-dir
$(BUILD)/tests/unit/test_sandbox: UNIT_EXTRA_OBJS = $(GEN_DIR)/seccomp_test.o
$(BUILD)/tests/unit/test_sandbox: $(GEN_DIR)/seccomp_test.o

$(GEN_DIR)/seccomp_test.c: tests/unit/sandbox_test.policy $(SECCOMP_COMPILE)
	@$(if $(Q),echo "  SECCOMP $@")
	$(Q)$(SECCOMP_COMPILE) --out $@ --role test $<

# Runs every unit test binary; fails if any fails.
unit: unit-build
	$(Q)[ -n "$(UNIT_BINS)" ] || { echo "unit tests: none found"; exit 1; }
	$(Q)fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; \
	  if [ $$fail -ne 0 ]; then echo "unit tests: FAILED"; exit 1; fi; echo "unit tests: all passed"
