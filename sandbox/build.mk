# sandbox/: the jail every process role links (sandbox.c, supervisor.c),
# the seccomp profile parser (policy.c, policy_syms.c) and the build-time
# profile compiler build/seccomp-compile (seccomp_compile.c: the only
# program that links libseccomp; it runs on the build host).
#
#   $(PROFILES_DIR)/ROLE.policy -> build/gen/seccomp_ROLE.c  (sandbox_prog_ROLE)
#   libseccomp's syscall table  -> build/gen/syscall_names.c (sandbox_syscall_name)
#
#   make PROFILES_DIR=DIR      compile the profiles in DIR (default
#                              seccomp-profiles; changing it regenerates)
#   make seccomp-report        per profile: syscalls allowed, ioctl rules

PROFILES_DIR    ?= seccomp-profiles
SECCOMP_ROLES   := vmm vcpu blk net supervisor
GEN_DIR         := $(BUILD)/gen
SECCOMP_COMPILE := $(BUILD)/seccomp-compile

POLICY_OBJS  := $(BUILD)/sandbox/policy.o $(BUILD)/sandbox/policy_syms.o
SECCOMP_GEN  := $(SECCOMP_ROLES:%=$(GEN_DIR)/seccomp_%.c) $(GEN_DIR)/syscall_names.c
# What a process role links to jail itself (no libseccomp at run time).
SANDBOX_OBJS := $(BUILD)/sandbox/sandbox.o $(BUILD)/sandbox/supervisor.o \
	$(BUILD)/sandbox/forbidden.o $(SECCOMP_GEN:%.c=%.o)
SANDBOX_LIBS := -lcap-ng

$(BUILD)/sandbox/%.o: sandbox/%.c | deps-build deps-sandbox
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(SECCOMP_COMPILE): $(BUILD)/sandbox/seccomp_compile.o $(POLICY_OBJS) | deps-sandbox
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lseccomp

# Rewritten only when PROFILES_DIR changes, so that a change regenerates.
$(GEN_DIR)/profiles-dir: seccomp-force
	@mkdir -p $(@D)
	$(Q)echo '$(PROFILES_DIR)' | cmp -s - $@ || echo '$(PROFILES_DIR)' > $@

# A static pattern rule: the generated C is a target of its own, not an
# intermediate file make would delete.
$(SECCOMP_ROLES:%=$(GEN_DIR)/seccomp_%.c): $(GEN_DIR)/seccomp_%.c: $(PROFILES_DIR)/%.policy \
    $(SECCOMP_COMPILE) $(GEN_DIR)/profiles-dir
	@$(if $(Q),echo "  SECCOMP $@")
	$(Q)$(SECCOMP_COMPILE) --out $@ $<

$(GEN_DIR)/syscall_names.c: $(SECCOMP_COMPILE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(SECCOMP_COMPILE) --names $@

$(GEN_DIR)/%.o: $(GEN_DIR)/%.c | deps-build
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

seccomp-report: $(SECCOMP_COMPILE)
	$(Q)$(SECCOMP_COMPILE) --report $(SECCOMP_ROLES:%=$(PROFILES_DIR)/%.policy)

.PHONY: seccomp-force
seccomp-force:
